import GRDB

/// One state change: who, when, what, before and after (JSON documents or nil).
public struct AuditEntry: Sendable, Equatable {
    public var id: Int64
    public var atMicros: Int64
    public var actor: String
    public var action: String
    public var entityType: String
    public var entityID: String
    public var before: String?
    public var after: String?

    public init(
        id: Int64 = 0, atMicros: Int64, actor: String, action: String, entityType: String, entityID: String,
        before: String?, after: String?
    ) {
        self.id = id
        self.atMicros = atMicros
        self.actor = actor
        self.action = action
        self.entityType = entityType
        self.entityID = entityID
        self.before = before
        self.after = after
    }
}

/// The append-only audit log. Entries are written inside the transaction that makes the change they
/// describe, so a change and its entry commit together or not at all; triggers refuse UPDATE and DELETE.
public enum AuditLog {
    static func append(_ entry: AuditEntry, in db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO audit_log (at, actor, action, entity_type, entity_id, before, after)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                entry.atMicros, entry.actor, entry.action, entry.entityType, entry.entityID, entry.before, entry.after,
            ])
    }

    /// Entries about one entity, oldest first.
    public static func entries(
        entityType: String, entityID: String, in database: VigilDatabase
    ) async throws -> [AuditEntry] {
        try await database.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM audit_log WHERE entity_type = ? AND entity_id = ? ORDER BY id",
                arguments: [entityType, entityID]
            ).map {
                AuditEntry(
                    id: $0["id"], atMicros: $0["at"], actor: $0["actor"], action: $0["action"],
                    entityType: $0["entity_type"], entityID: $0["entity_id"], before: $0["before"], after: $0["after"])
            }
        }
    }
}

/// Which audit entries to list: newest first, filtered, keyset-paginated by id.
public struct AuditQuery: Sendable, Equatable {
    public var entityType: String?
    public var entityID: String?
    public var actor: String?
    public var action: String?
    public var fromMicros: Int64?
    public var beforeMicros: Int64?
    public var limit: Int
    /// Entries with an id below this one (the cursor).
    public var beforeID: Int64?

    public init(limit: Int = 50) {
        self.limit = limit
    }
}

extension AuditLog {
    /// A page of entries, newest first, and the id to continue below (nil at the end).
    public static func entries(_ query: AuditQuery, in database: VigilDatabase) async throws -> (
        [AuditEntry], next: Int64?
    ) {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        let filters: [(String, (any DatabaseValueConvertible)?)] = [
            ("entity_type = ?", query.entityType), ("entity_id = ?", query.entityID), ("actor = ?", query.actor),
            ("action = ?", query.action), ("at >= ?", query.fromMicros), ("at < ?", query.beforeMicros),
            ("id < ?", query.beforeID),
        ]
        for (condition, value) in filters {
            guard let value else { continue }
            conditions.append(condition)
            _ = arguments.append(contentsOf: [value])
        }
        let limit = max(1, query.limit)
        _ = arguments.append(contentsOf: [limit + 1])
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT * FROM audit_log \(whereClause) ORDER BY id DESC LIMIT ?"
        let rows = try await database.pool.read { [arguments] db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map {
                AuditEntry(
                    id: $0["id"], atMicros: $0["at"], actor: $0["actor"], action: $0["action"],
                    entityType: $0["entity_type"], entityID: $0["entity_id"], before: $0["before"], after: $0["after"])
            }
        }
        let items = Array(rows.prefix(limit))
        return (items, rows.count > limit ? items.last?.id : nil)
    }
}
