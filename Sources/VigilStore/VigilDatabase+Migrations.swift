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
        return migrator
    }()
}
