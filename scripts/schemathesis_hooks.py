"""Schemathesis hooks for scripts/contract-test: send each operation the API key of a role it accepts.

The roles an operation accepts are listed in openapi.yaml as `x-vigil-roles`; the keys come from
VIGIL_SCORING_KEY, VIGIL_REVIEW_KEY and VIGIL_ADMIN_KEY. The first listed role with a key is used.
Operations without `x-vigil-roles` (healthz, readyz, metrics, openapi.yaml) get no key.
Schemathesis still drops the header on its own when it tests what happens without credentials.
"""

import itertools
import json
import os

import schemathesis

KEY_VARIABLES = {
    "scoring": "VIGIL_SCORING_KEY",
    "review": "VIGIL_REVIEW_KEY",
    "admin": "VIGIL_ADMIN_KEY",
}


def key_for(operation):
    roles = operation.definition.raw.get("x-vigil-roles") or []
    for role in roles:
        key = os.environ.get(KEY_VARIABLES.get(role, ""), "")
        if key:
            return key
    return None


@schemathesis.auth(refresh_interval=None, retry_on=[])
class RoleKeyAuth:
    """Bearer key chosen per operation from its `x-vigil-roles`."""

    def get(self, case, context):
        return key_for(case.operation) or ""

    def set(self, case, data, context):
        if data:
            case.headers = case.headers or {}
            case.headers["Authorization"] = f"Bearer {data}"


# Schemathesis draws the same few transaction ids ("0", the examples' ids) again and again with
# different bodies, so almost every POST /v1/score would be answered 409 and the 200 answer would
# hardly be checked. A valid id is made unique per request instead (an invalid one is left alone, so
# negative tests stay negative). Conflicts and idempotent replays are checked by contract-test itself.
_RUN = f"{os.getpid():x}{int.from_bytes(os.urandom(3), 'big'):06x}"
_SUFFIX_MARK = f"~{_RUN}-"
_counter = itertools.count()


def _is_valid_transaction_id(value):
    return (
        isinstance(value, str)
        and 1 <= len(value) <= 128
        and not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in value)
    )


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.operation.path != "/v1/score" or not isinstance(case.body, dict):
        return
    transaction_id = case.body.get("transaction_id")
    if _is_valid_transaction_id(transaction_id):
        # The same case can be sent more than once; replace an earlier suffix rather than growing it.
        base = transaction_id.split(_SUFFIX_MARK, 1)[0][:96]
        case.body["transaction_id"] = f"{base}{_SUFFIX_MARK}{next(_counter)}"


@schemathesis.serializer("application/x-ndjson")
def ndjson_serializer(ctx, value):
    """POST /v1/labels/batch: a string body is sent as its UTF-8 bytes, anything else as one JSON line."""
    if isinstance(value, bytes):
        return {"data": value}
    if isinstance(value, str):
        return {"data": value.encode("utf-8")}
    return {"data": (json.dumps(value) + "\n").encode("utf-8")}
