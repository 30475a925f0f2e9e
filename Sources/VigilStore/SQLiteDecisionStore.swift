import GRDB

/// The SQLite implementation of `DecisionStore`: group-committed writes, pooled reads.
public final class SQLiteDecisionStore: DecisionStore {
    public let database: VigilDatabase
    public let writer: GroupCommitWriter

    public init(database: VigilDatabase, writer: GroupCommitWriter) {
        self.database = database
        self.writer = writer
    }

    public func record(_ record: ScoreRecord) async throws -> RecordOutcome {
        try await writer.submit(record)
    }

    public var isWritable: Bool { writer.isHealthy }

    public func canBeginWrite() async -> Bool { await database.canBeginWrite() }

    public func probeWrite() async -> Bool { await writer.probe() }

    public func isReadable() async -> Bool { await database.isReadable() }

    public func transaction(id: String) async throws -> StoredTransaction? {
        try await database.pool.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT transaction_id, body, features, answer, case_id, model_name, model_version, model_sha256,
                        decision, rules
                    FROM transactions WHERE transaction_id = ?
                    """,
                arguments: [id]
            ).map {
                StoredTransaction(
                    transactionID: $0["transaction_id"], body: $0["body"], features: $0["features"],
                    answer: $0["answer"], caseID: $0["case_id"], modelName: $0["model_name"],
                    modelVersion: $0["model_version"], modelSHA256: $0["model_sha256"], decision: $0["decision"],
                    rules: $0["rules"])
            }
        }
    }

    public func caseByID(_ caseID: String) async throws -> StoredCase? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM cases WHERE case_id = ?", arguments: [caseID]).map(Self.storedCase)
        }
    }

    public func cases(_ query: CaseQuery) async throws -> CasePage {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if query.status != .all {
            conditions.append("status = ?")
            _ = arguments.append(contentsOf: [query.status.rawValue])
        }
        if let assignee = query.assignee {
            if assignee.isEmpty {
                conditions.append("(assignee IS NULL OR lease_expires_at <= ?)")
                _ = arguments.append(contentsOf: [query.nowMicros])
            } else {
                conditions.append("assignee = ? AND lease_expires_at > ?")
                _ = arguments.append(contentsOf: [assignee, query.nowMicros])
            }
        }
        if let source = query.source {
            conditions.append("source = ?")
            _ = arguments.append(contentsOf: [source.rawValue])
        }
        if let ruleID = query.ruleID {
            conditions.append("rule_id = ?")
            _ = arguments.append(contentsOf: [ruleID])
        }
        if let minimum = query.minimumAmount {
            conditions.append("amount >= ?")
            _ = arguments.append(contentsOf: [minimum])
        }
        if let from = query.createdFromMicros {
            conditions.append("created_at >= ?")
            _ = arguments.append(contentsOf: [from])
        }
        if let before = query.createdBeforeMicros {
            conditions.append("created_at < ?")
            _ = arguments.append(contentsOf: [before])
        }
        let orderBy: String
        switch query.order {
        case .priority: orderBy = "priority DESC, created_at, case_id"
        case .newest: orderBy = "created_at DESC, case_id DESC"
        case .risk: orderBy = "score DESC, created_at DESC, case_id DESC"
        }
        switch query.after {
        case nil: break
        case .newest(let created, let caseID)?:
            conditions.append("(created_at < ? OR (created_at = ? AND case_id < ?))")
            _ = arguments.append(contentsOf: [created, created, caseID])
        case .risk(let score, let created, let caseID)?:
            conditions.append(
                "(score < ? OR (score = ? AND (created_at < ? OR (created_at = ? AND case_id < ?))))")
            _ = arguments.append(contentsOf: [score, score, created, created, caseID])
        case .priority(let priority, let created, let caseID)?:
            conditions.append(
                "(priority < ? OR (priority = ? AND (created_at > ? OR (created_at = ? AND case_id > ?))))")
            _ = arguments.append(contentsOf: [priority, priority, created, created, caseID])
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let limit = max(1, query.limit)
        _ = arguments.append(contentsOf: [limit + 1])
        let sql = "SELECT * FROM cases \(whereClause) ORDER BY \(orderBy) LIMIT ?"
        let rows = try await database.pool.read { [arguments] db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.storedCase)
        }
        let items = Array(rows.prefix(limit))
        let next = rows.count > limit ? items.last.map { CaseCursor(after: $0, order: query.order) } : nil
        return CasePage(items: items, next: next)
    }

    static func storedCase(_ row: Row) -> StoredCase {
        StoredCase(
            caseID: row["case_id"], transactionID: row["transaction_id"],
            status: CaseStatus(rawValue: row["status"]) ?? .open, reason: row["reason"], score: row["score"],
            riskScore: row["risk_score"], amount: row["amount"], currency: row["currency"],
            createdAtMicros: row["created_at"], closedAtMicros: row["closed_at"], priority: row["priority"],
            source: CaseSource(rawValue: row["source"]) ?? .model, ruleID: row["rule_id"], assignee: row["assignee"],
            leaseExpiresAtMicros: row["lease_expires_at"], verdict: row["verdict"])
    }
}
