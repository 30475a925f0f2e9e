"""The service most teams would write instead of Vigil, for scripts/compare.

FastAPI + pydantic, one XGBoost booster (the same model.json Vigil serves), shap's TreeExplainer for
explanations, SQLite (WAL, synchronous=NORMAL, one commit per request, so an acknowledged decision is
durable as Vigil's is) for storage. Run it with uvicorn workers, e.g.

    COMPARE_MODEL=model.json COMPARE_DB=compare.sqlite COMPARE_KEY=secret \
        uvicorn compare_app:app --app-dir scripts --workers 2 --log-level warning --no-access-log

Environment: COMPARE_MODEL (XGBoost JSON, binary:logistic), COMPARE_DB (SQLite file, created if needed),
COMPARE_KEY (the bearer key accepted; empty: no authentication), COMPARE_HIGH_RISK_MCC (default Vigil's
4829,5967,6051,6211,7995), COMPARE_REVIEW_AT (40) and COMPARE_DECLINE_AT (80) as Vigil's risk score
thresholds, COMPARE_REASONS (1: review and decline answers carry the top 3 shap contributions, as Vigil's
do; 0: never).

The features are the subset of Vigil's built-in ones that the model names (README "Features"), computed
as Vigil computes them; NaN marks a missing value.
"""

from __future__ import annotations

import hmac
import json
import math
import os
import sqlite3
from datetime import datetime, timezone
from typing import Annotated, Literal, Optional, Union

import numpy as np
import shap
import xgboost as xgb
from fastapi import Depends, FastAPI, Header, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool

MODEL_PATH = os.environ["COMPARE_MODEL"]
DB_PATH = os.environ["COMPARE_DB"]
API_KEY = os.environ.get("COMPARE_KEY", "")
HIGH_RISK_MCC = set(os.environ.get("COMPARE_HIGH_RISK_MCC", "4829,5967,6051,6211,7995").split(","))
REVIEW_AT = int(os.environ.get("COMPARE_REVIEW_AT", "40"))
DECLINE_AT = int(os.environ.get("COMPARE_DECLINE_AT", "80"))
REASONS = os.environ.get("COMPARE_REASONS", "1") == "1"
MODEL_NAME = os.environ.get("COMPARE_MODEL_NAME", "compare-xgb")

# --- the model, loaded once per worker --------------------------------------------------------------

booster = xgb.Booster()
booster.load_model(MODEL_PATH)
booster.set_param({"nthread": 1})  # one row per call; two workers on two cores
FEATURES: list[str] = list(booster.feature_names or [])
explainer = shap.TreeExplainer(booster)  # exact, path-dependent TreeSHAP

# --- storage: one connection per worker process ------------------------------------------------------

db = sqlite3.connect(DB_PATH, timeout=10.0, isolation_level=None, check_same_thread=False)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=NORMAL")
db.execute("PRAGMA busy_timeout=10000")
db.execute(
    """CREATE TABLE IF NOT EXISTS transactions (
        id INTEGER PRIMARY KEY,
        transaction_id TEXT NOT NULL UNIQUE,
        body TEXT NOT NULL,
        features TEXT NOT NULL,
        score REAL NOT NULL,
        risk_score INTEGER NOT NULL,
        decision TEXT NOT NULL,
        answer TEXT NOT NULL,
        scored_at TEXT NOT NULL)"""
)

# --- the request ---------------------------------------------------------------------------------------

NoControl = r"^[^\x00-\x1f\x7f-\x9f]+$"
EntityKey = Annotated[str, Field(min_length=1, max_length=256, pattern=NoControl)]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
AttributeValue = Union[StrictBool, float, Annotated[str, Field(max_length=256)], None]


class Transaction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transaction_id: Annotated[str, Field(min_length=1, max_length=128, pattern=NoControl)]
    occurred_at: datetime
    amount: Annotated[float, Field(ge=0, le=1e12)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    card_id: Optional[EntityKey] = None
    customer_id: Optional[EntityKey] = None
    merchant_id: Optional[EntityKey] = None
    device_id: Optional[EntityKey] = None
    email: Optional[Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]] = None
    ip_address: Optional[Annotated[str, Field(max_length=45)]] = None
    merchant_category: Optional[Annotated[str, Field(pattern=r"^[0-9]{4}$")]] = None
    merchant_country: Optional[Country] = None
    card_country: Optional[Country] = None
    ip_country: Optional[Country] = None
    channel: Optional[Literal["pos", "ecommerce", "contactless", "atm", "other"]] = None
    attributes: Optional[Annotated[dict[str, AttributeValue], Field(max_length=64)]] = None


def _mismatch(a: Optional[str], b: Optional[str]) -> float:
    if a is None or b is None:
        return math.nan
    return 0.0 if a == b else 1.0


def feature(name: str, tx: Transaction, hour: int, weekday: int) -> float:
    if name == "amount":
        return tx.amount
    if name == "log_amount":
        return math.log1p(tx.amount)
    if name == "hour_of_day":
        return float(hour)
    if name == "day_of_week":
        return float(weekday)
    if name == "is_weekend":
        return 1.0 if weekday >= 5 else 0.0
    if name == "is_night":
        return 1.0 if hour < 6 else 0.0
    if name == "card_merchant_country_mismatch":
        return _mismatch(tx.card_country, tx.merchant_country)
    if name == "ip_card_country_mismatch":
        return _mismatch(tx.ip_country, tx.card_country)
    if name.startswith("channel_"):
        return math.nan if tx.channel is None else (1.0 if tx.channel == name[8:] else 0.0)
    if name == "mcc_high_risk":
        if tx.merchant_category is None:
            return math.nan
        return 1.0 if tx.merchant_category in HIGH_RISK_MCC else 0.0
    if name.startswith("has_"):
        return 0.0 if getattr(tx, name[4:]) is None else 1.0
    if name.startswith("attributes."):
        value = (tx.attributes or {}).get(name[11:])
        if isinstance(value, bool):
            return 1.0 if value else 0.0
        if isinstance(value, float):
            return value
        return math.nan
    raise ValueError(f"feature {name} is not implemented")


def features_of(tx: Transaction) -> list[float]:
    when = tx.occurred_at.astimezone(timezone.utc)
    return [feature(name, tx, when.hour, when.weekday()) for name in FEATURES]


def contributions(row: list[float]) -> np.ndarray:
    return np.asarray(explainer.shap_values(np.array([row], dtype=np.float32)))[0]


def decide(probability: float) -> tuple[int, str]:
    risk = min(100, max(0, math.floor(probability * 100 + 0.5)))
    return risk, ("decline" if risk >= DECLINE_AT else "review" if risk >= REVIEW_AT else "approve")


def stored_features(row: list[float]) -> str:
    return json.dumps({n: (None if math.isnan(v) else v) for n, v in zip(FEATURES, row)})


def json_response(text: str, status: int = 200) -> Response:
    return Response(content=text, status_code=status, media_type="application/json")


# --- the API -------------------------------------------------------------------------------------------

app = FastAPI(title="compare-app")


def require_key(authorization: Annotated[Optional[str], Header()] = None) -> None:
    if not API_KEY:
        return
    if authorization is None or not hmac.compare_digest(authorization, "Bearer " + API_KEY):
        raise HTTPException(status_code=401, detail="missing or unknown API key")


@app.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}


@app.post("/v1/score", dependencies=[Depends(require_key)])
async def score(tx: Transaction) -> Response:
    row = features_of(tx)
    probability = float(booster.inplace_predict(np.array([row], dtype=np.float32))[0])
    risk, decision = decide(probability)
    reasons = []
    if REASONS and decision != "approve":
        phi = contributions(row)
        for i in np.argsort(-phi)[:3]:
            if phi[i] > 0:
                reasons.append({"feature": FEATURES[i], "value": None if math.isnan(row[i]) else row[i],
                                "contribution": float(phi[i])})
    scored_at = datetime.now(timezone.utc).isoformat()
    answer = json.dumps({"transaction_id": tx.transaction_id, "score": probability, "risk_score": risk,
                         "decision": decision, "reasons": reasons,
                         "model": {"name": MODEL_NAME, "version": "1"}, "scored_at": scored_at})
    try:  # autocommit: the INSERT is its own transaction, committed (WAL) before the answer leaves
        db.execute(
            "INSERT INTO transactions (transaction_id, body, features, score, risk_score, decision, answer,"
            " scored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (tx.transaction_id, tx.model_dump_json(exclude_none=True), stored_features(row), probability,
             risk, decision, answer, scored_at))
    except sqlite3.IntegrityError:  # a replay: the stored answer, as Vigil does
        stored = db.execute("SELECT answer FROM transactions WHERE transaction_id = ?",
                            (tx.transaction_id,)).fetchone()
        return json_response(stored[0])
    return json_response(answer)


@app.get("/v1/transactions/{transaction_id}/explanation", dependencies=[Depends(require_key)])
async def explanation(transaction_id: str) -> Response:
    stored = db.execute("SELECT features, score, risk_score, decision FROM transactions WHERE transaction_id = ?",
                        (transaction_id,)).fetchone()
    if stored is None:
        raise HTTPException(status_code=404, detail="no such transaction")
    values = json.loads(stored[0])
    row = [math.nan if values.get(n) is None else float(values[n]) for n in FEATURES]
    phi = contributions(row)
    # Read after shap_values: shap 0.51 replaces its initial (cover-weighted) expected_value with xgboost's bias on
    # the first call; read before it, bias + Σ contributions misses the margin by about 0.08 on this model.
    bias = float(np.asarray(explainer.expected_value).reshape(-1)[0])
    margin = bias + float(phi.sum())
    items = [{"feature": n, "value": None if math.isnan(v) else v, "contribution": float(c)}
             for n, v, c in zip(FEATURES, row, phi)]
    return json_response(json.dumps({
        "transaction_id": transaction_id, "model": {"name": MODEL_NAME, "version": "1"}, "bias": bias,
        "margin": margin, "probability": 1 / (1 + math.exp(-margin)), "risk_score": stored[2],
        "decision": stored[3], "contributions": items,
        "reasons": sorted((i for i in items if i["contribution"] > 0), key=lambda i: -i["contribution"])[:3]}))
