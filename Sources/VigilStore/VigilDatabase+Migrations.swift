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
                        card_id TEXT,
                        customer_id TEXT,
                        merchant_id TEXT,
                        device_id TEXT,
                        email TEXT,
                        ip_address TEXT,
                        merchant_country TEXT,
                        card_country TEXT,
                        ip_country TEXT,
                        channel TEXT,
                        merchant_category TEXT,
                        body TEXT NOT NULL,
                        features TEXT NOT NULL,
                        score REAL NOT NULL,
                        risk_score INTEGER NOT NULL,
                        decision TEXT NOT NULL CHECK (decision IN ('approve', 'review', 'decline')),
                        model_name TEXT NOT NULL,
                        model_version TEXT NOT NULL,
                        answer TEXT NOT NULL,
                        case_id TEXT,
                        scored_at INTEGER NOT NULL
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
