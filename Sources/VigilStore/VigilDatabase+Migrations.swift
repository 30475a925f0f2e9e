import GRDB

extension VigilDatabase {
    /// Numbered migrations; never edit one that has shipped, add the next number instead.
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("0001-transactions-cases-keys") { db in
            try db.execute(
                sql: """
                    CREATE TABLE transactions (
                        id INTEGER PRIMARY KEY,
                        transaction_id TEXT NOT NULL UNIQUE,
                        occurred_at INTEGER NOT NULL,
                        amount REAL NOT NULL,
                        currency TEXT NOT NULL,
                        body TEXT NOT NULL,
                        features TEXT NOT NULL,
                        score REAL NOT NULL,
                        risk_score INTEGER NOT NULL,
                        decision TEXT NOT NULL CHECK (decision IN ('approve', 'review', 'decline')),
                        model_name TEXT NOT NULL,
                        model_version TEXT NOT NULL,
                        answer TEXT NOT NULL,
                        case_id TEXT,
                        scored_at INTEGER NOT NULL,
                        -- Entity keys, read from the body when queried: no cost when a decision is written.
                        card_id TEXT GENERATED ALWAYS AS (json_extract(body, '$.card_id')) VIRTUAL,
                        customer_id TEXT GENERATED ALWAYS AS (json_extract(body, '$.customer_id')) VIRTUAL,
                        merchant_id TEXT GENERATED ALWAYS AS (json_extract(body, '$.merchant_id')) VIRTUAL,
                        device_id TEXT GENERATED ALWAYS AS (json_extract(body, '$.device_id')) VIRTUAL,
                        email TEXT GENERATED ALWAYS AS (json_extract(body, '$.email')) VIRTUAL,
                        ip_address TEXT GENERATED ALWAYS AS (json_extract(body, '$.ip_address')) VIRTUAL,
                        merchant_country TEXT GENERATED ALWAYS AS (json_extract(body, '$.merchant_country')) VIRTUAL,
                        card_country TEXT GENERATED ALWAYS AS (json_extract(body, '$.card_country')) VIRTUAL,
                        ip_country TEXT GENERATED ALWAYS AS (json_extract(body, '$.ip_country')) VIRTUAL,
                        channel TEXT GENERATED ALWAYS AS (json_extract(body, '$.channel')) VIRTUAL,
                        merchant_category TEXT GENERATED ALWAYS AS (json_extract(body, '$.merchant_category')) VIRTUAL
                    );
                    CREATE TABLE cases (
                        case_id TEXT PRIMARY KEY,
                        transaction_id TEXT NOT NULL UNIQUE REFERENCES transactions(transaction_id),
                        status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
                        reason TEXT NOT NULL,
                        score REAL NOT NULL,
                        risk_score INTEGER NOT NULL,
                        amount REAL NOT NULL,
                        currency TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        closed_at INTEGER
                    );
                    CREATE INDEX cases_by_status_newest ON cases(status, created_at DESC, case_id DESC);
                    CREATE INDEX cases_by_status_risk ON cases(status, score DESC, created_at DESC, case_id DESC);
                    CREATE TABLE api_keys (
                        key_id TEXT PRIMARY KEY,
                        name TEXT NOT NULL,
                        role TEXT NOT NULL CHECK (role IN ('scoring', 'review', 'admin')),
                        key_hash TEXT NOT NULL UNIQUE,
                        prefix TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    );
                    """)
        }
        migrator.registerMigration("0002-model-registry-audit-labels") { db in
            try db.execute(
                sql: """
                    -- Every uploaded model file, immutable once written.
                    CREATE TABLE models (
                        name TEXT NOT NULL,
                        version INTEGER NOT NULL CHECK (version >= 1),
                        format TEXT NOT NULL CHECK (format IN ('vigil-logistic', 'xgboost-json', 'lightgbm-text')),
                        sha256 TEXT NOT NULL,
                        size_bytes INTEGER NOT NULL,
                        file BLOB NOT NULL,
                        feature_names TEXT NOT NULL,
                        details TEXT NOT NULL,
                        uploaded_by TEXT NOT NULL,
                        uploaded_at INTEGER NOT NULL,
                        PRIMARY KEY (name, version)
                    );
                    CREATE TRIGGER models_are_immutable BEFORE UPDATE ON models
                    BEGIN SELECT RAISE(ABORT, 'model versions are immutable'); END;
                    CREATE TRIGGER models_are_kept BEFORE DELETE ON models
                    BEGIN SELECT RAISE(ABORT, 'model versions are kept'); END;
                    -- What `champion` and `challenger` point at now; every change appended to the history.
                    CREATE TABLE model_aliases (
                        alias TEXT PRIMARY KEY CHECK (alias IN ('champion', 'challenger')),
                        name TEXT NOT NULL,
                        version INTEGER NOT NULL,
                        set_by TEXT NOT NULL,
                        set_at INTEGER NOT NULL,
                        FOREIGN KEY (name, version) REFERENCES models(name, version)
                    );
                    CREATE TABLE model_alias_history (
                        id INTEGER PRIMARY KEY,
                        alias TEXT NOT NULL,
                        name TEXT,
                        version INTEGER,
                        set_by TEXT NOT NULL,
                        set_at INTEGER NOT NULL
                    );
                    -- Append-only: who changed what, when, before and after.
                    CREATE TABLE audit_log (
                        id INTEGER PRIMARY KEY,
                        at INTEGER NOT NULL,
                        actor TEXT NOT NULL,
                        action TEXT NOT NULL,
                        entity_type TEXT NOT NULL,
                        entity_id TEXT NOT NULL,
                        before TEXT,
                        after TEXT
                    );
                    CREATE INDEX audit_log_by_entity ON audit_log(entity_type, entity_id, id);
                    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    -- Verdicts and chargebacks; a later label never replaces an earlier one.
                    CREATE TABLE labels (
                        id INTEGER PRIMARY KEY,
                        transaction_id TEXT NOT NULL REFERENCES transactions(transaction_id),
                        label TEXT NOT NULL CHECK (label IN ('fraud', 'legit')),
                        source TEXT NOT NULL
                            CHECK (source IN ('review', 'chargeback', 'customer_report', 'issuer_alert', 'other')),
                        reason_code TEXT,
                        note TEXT,
                        labeled_at INTEGER NOT NULL,
                        recorded_at INTEGER NOT NULL,
                        recorded_by TEXT NOT NULL
                    );
                    CREATE INDEX labels_by_transaction ON labels(transaction_id, labeled_at);
                    -- Which model file made each decision, and what the challenger said in shadow.
                    ALTER TABLE transactions ADD COLUMN model_sha256 TEXT;
                    ALTER TABLE transactions ADD COLUMN challenger_name TEXT;
                    ALTER TABLE transactions ADD COLUMN challenger_version TEXT;
                    ALTER TABLE transactions ADD COLUMN challenger_score REAL;
                    ALTER TABLE transactions ADD COLUMN challenger_decision TEXT;
                    CREATE INDEX transactions_by_challenger ON transactions(challenger_name, challenger_version)
                        WHERE challenger_name IS NOT NULL;
                    """)
        }
        migrator.registerMigration("0003-review-queue") { db in
            try db.execute(
                sql: """
                    -- The queue: priority (expected loss by default), where the case came from, who holds it.
                    ALTER TABLE cases ADD COLUMN priority REAL NOT NULL DEFAULT 0;
                    UPDATE cases SET priority = score * amount;
                    ALTER TABLE cases ADD COLUMN source TEXT NOT NULL DEFAULT 'model'
                        CHECK (source IN ('model', 'sample', 'rule'));
                    ALTER TABLE cases ADD COLUMN rule_id TEXT;
                    ALTER TABLE cases ADD COLUMN assignee TEXT;
                    ALTER TABLE cases ADD COLUMN lease_expires_at INTEGER;
                    ALTER TABLE cases ADD COLUMN verdict TEXT;
                    CREATE INDEX cases_queue ON cases(status, priority DESC, created_at, case_id);
                    -- What GET /v1/cases/next reads: claimable cases only, so held ones are never scanned past.
                    CREATE INDEX cases_claimable ON cases(priority DESC, created_at, case_id)
                        WHERE status = 'open' AND assignee IS NULL;
                    CREATE INDEX cases_leased ON cases(lease_expires_at) WHERE status = 'open' AND assignee IS NOT NULL;
                    -- Idempotency-Key of POST /v1/transactions/{id}/labels, per caller.
                    ALTER TABLE labels ADD COLUMN idempotency_key TEXT;
                    ALTER TABLE labels ADD COLUMN request_sha256 TEXT;
                    CREATE UNIQUE INDEX labels_by_idempotency_key ON labels(recorded_by, idempotency_key)
                        WHERE idempotency_key IS NOT NULL;
                    CREATE INDEX audit_log_by_time ON audit_log(at, id);
                    """)
        }
        migrator.registerMigration("0004-rules-lists-alerts") { db in
            try db.execute(
                sql: """
                    -- Rules: the current version of each, and every version ever (immutable).
                    CREATE TABLE rules (
                        rule_id TEXT PRIMARY KEY,
                        name TEXT NOT NULL,
                        expression TEXT NOT NULL,
                        action TEXT NOT NULL CHECK (action IN ('block', 'review', 'allow', 'score')),
                        points REAL,
                        status TEXT NOT NULL CHECK (status IN ('proposed', 'shadow', 'active', 'disabled')),
                        expires_at INTEGER,
                        owner TEXT NOT NULL,
                        provenance TEXT NOT NULL,
                        description TEXT,
                        version INTEGER NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        status_since INTEGER NOT NULL
                    );
                    CREATE INDEX rules_by_status ON rules(status);
                    CREATE INDEX rules_by_update ON rules(updated_at DESC, rule_id DESC);
                    CREATE TABLE rule_versions (
                        rule_id TEXT NOT NULL,
                        version INTEGER NOT NULL,
                        name TEXT NOT NULL,
                        expression TEXT NOT NULL,
                        action TEXT NOT NULL,
                        points REAL,
                        status TEXT NOT NULL,
                        expires_at INTEGER,
                        owner TEXT NOT NULL,
                        provenance TEXT NOT NULL,
                        description TEXT,
                        changed_by TEXT NOT NULL,
                        changed_at INTEGER NOT NULL,
                        change TEXT NOT NULL,
                        PRIMARY KEY (rule_id, version)
                    );
                    CREATE TRIGGER rule_versions_immutable_update BEFORE UPDATE ON rule_versions
                    BEGIN SELECT RAISE(ABORT, 'rule versions are immutable'); END;
                    CREATE TRIGGER rule_versions_immutable_delete BEFORE DELETE ON rule_versions
                    BEGIN SELECT RAISE(ABORT, 'rule versions are immutable'); END;
                    -- One row per decision and matched rule version (active or shadow).
                    CREATE TABLE rule_hits (
                        transaction_id TEXT NOT NULL,
                        rule_id TEXT NOT NULL,
                        rule_version INTEGER NOT NULL,
                        mode TEXT NOT NULL CHECK (mode IN ('active', 'shadow')),
                        action TEXT NOT NULL,
                        scored_at INTEGER NOT NULL,
                        PRIMARY KEY (rule_id, scored_at, transaction_id)
                    ) WITHOUT ROWID;
                    CREATE INDEX rule_hits_by_transaction ON rule_hits(transaction_id);
                    ALTER TABLE transactions ADD COLUMN rules TEXT;
                    ALTER TABLE transactions ADD COLUMN margin REAL;
                    -- Named lists for rules.
                    CREATE TABLE lists (
                        name TEXT PRIMARY KEY,
                        kind TEXT NOT NULL CHECK (kind IN ('card_id', 'customer_id', 'merchant_id', 'device_id',
                            'email', 'ip_address', 'country', 'string')),
                        description TEXT,
                        created_by TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE TABLE list_items (
                        list_name TEXT NOT NULL REFERENCES lists(name) ON DELETE CASCADE,
                        value TEXT NOT NULL,
                        added_by TEXT NOT NULL,
                        added_at INTEGER NOT NULL,
                        PRIMARY KEY (list_name, value)
                    ) WITHOUT ROWID;
                    CREATE TABLE alerts (
                        alert_id TEXT PRIMARY KEY,
                        kind TEXT NOT NULL,
                        subject_type TEXT NOT NULL,
                        subject_id TEXT NOT NULL,
                        message TEXT NOT NULL,
                        details TEXT NOT NULL,
                        dedupe_key TEXT UNIQUE,
                        created_at INTEGER NOT NULL,
                        resolved_at INTEGER
                    );
                    CREATE INDEX alerts_by_time ON alerts(created_at DESC, alert_id DESC);
                    """)
        }
        migrator.registerMigration("0005-worker") { db in
            try db.execute(
                sql: """
                    -- Event-time windows (the worker's mining, training and onset buckets) read by occurred_at.
                    CREATE INDEX transactions_by_occurred ON transactions(occurred_at);
                    -- Every run of a background job, with its result.
                    CREATE TABLE worker_runs (
                        run_id TEXT PRIMARY KEY,
                        job TEXT NOT NULL,
                        trigger TEXT NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
                        started_at INTEGER NOT NULL,
                        finished_at INTEGER,
                        result TEXT,
                        error TEXT
                    );
                    CREATE INDEX worker_runs_by_job ON worker_runs(job, started_at DESC);
                    -- Mined patterns a person rejected, with the evidence they were rejected on.
                    CREATE TABLE rejected_patterns (
                        signature TEXT PRIMARY KEY,
                        rule_id TEXT NOT NULL,
                        precision_lower_bound REAL NOT NULL,
                        fraud INTEGER NOT NULL,
                        support INTEGER NOT NULL,
                        rejected_by TEXT NOT NULL,
                        rejected_at INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("0006-write-probe") { db in
            // One row `/readyz` rewrites after a failed commit, to learn whether the disk takes writes again.
            try db.execute(
                sql: "CREATE TABLE write_probe (id INTEGER PRIMARY KEY CHECK (id = 1), probed_at INTEGER NOT NULL)")
        }
        return migrator
    }()
}
