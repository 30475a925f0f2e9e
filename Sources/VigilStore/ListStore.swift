import GRDB
import VigilCore

/// What a named list holds; values are normalised by kind when added.
public enum ListKind: String, Sendable, CaseIterable {
    case cardID = "card_id"
    case customerID = "customer_id"
    case merchantID = "merchant_id"
    case deviceID = "device_id"
    case email
    case ipAddress = "ip_address"
    case country
    case string

    /// The stored form of a value, or nil when it is not a valid value of this kind: e-mails lower-cased (one
    /// `@`), countries upper-cased (two ASCII letters), IP addresses as dotted quads or with `:` (IPv6); every
    /// value 1 to 256 bytes without control characters.
    public func normalize(_ value: String) -> String? {
        guard (1...256).contains(value.utf8.count),
            !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else { return nil }
        switch self {
        case .email:
            let lower = value.lowercased()
            let parts = lower.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !lower.contains(" ") else { return nil }
            return lower
        case .country:
            let upper = value.uppercased()
            guard upper.utf8.count == 2, upper.utf8.allSatisfy({ (65...90).contains($0) }) else { return nil }
            return upper
        case .ipAddress:
            if value.contains(":") {
                guard
                    value.utf8.allSatisfy({
                        $0 == 58 || $0 == 46 || (48...57).contains($0) || (65...70).contains($0)
                            || (97...102).contains($0)
                    })
                else { return nil }
                return value.lowercased()
            }
            let octets = value.split(separator: ".", omittingEmptySubsequences: false)
            guard octets.count == 4,
                octets.allSatisfy({ $0.count <= 3 && !$0.isEmpty && (Int($0).map { (0...255).contains($0) } ?? false) })
            else { return nil }
            return value
        case .cardID, .customerID, .merchantID, .deviceID, .string:
            return value
        }
    }
}

public struct StoredList: Sendable, Equatable {
    public var name: String
    public var kind: ListKind
    public var description: String?
    public var createdBy: String
    public var createdAtMicros: Int64
    public var updatedAtMicros: Int64
    public var itemCount: Int
}

public struct ListItem: Sendable, Equatable {
    public var value: String
    public var addedBy: String
    public var addedAtMicros: Int64
}

public enum ListStoreError: Error, Sendable, Equatable {
    case exists
    case notFound
    case invalidName(String)
    case invalidValue(String, ListKind)
}

/// Named value lists for rules, every change audited.
public final class ListStore: Sendable {
    public let database: VigilDatabase

    public init(database: VigilDatabase) {
        self.database = database
    }

    /// 1 to 64 characters of a-z, 0-9, `_` and `-`.
    public static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 95 || $0 == 45 }
    }

    public func create(
        name: String, kind: ListKind, description: String?, actor: String, nowMicros: Int64
    ) async throws -> StoredList {
        guard Self.isValidName(name) else { throw ListStoreError.invalidName(name) }
        return try await database.pool.write { db in
            guard try Self.fetch(name, db: db) == nil else { throw ListStoreError.exists }
            try db.execute(
                sql: """
                    INSERT INTO lists (name, kind, description, created_by, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [name, kind.rawValue, description, actor, nowMicros, nowMicros])
            try AuditLog.append(
                AuditEntry(
                    atMicros: nowMicros, actor: actor, action: "list.create", entityType: "list", entityID: name,
                    before: nil, after: "{\"kind\":\(jsonString(kind.rawValue))}"),
                in: db)
            return StoredList(
                name: name, kind: kind, description: description, createdBy: actor, createdAtMicros: nowMicros,
                updatedAtMicros: nowMicros, itemCount: 0)
        }
    }

    public func lists() async throws -> [StoredList] {
        try await database.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT l.*, (SELECT COUNT(*) FROM list_items i WHERE i.list_name = l.name) AS item_count
                    FROM lists l ORDER BY name
                    """
            ).map(Self.storedList)
        }
    }

    public func list(name: String) async throws -> StoredList? {
        try await database.pool.read { db in try Self.fetch(name, db: db) }
    }

    /// Values in order after `after`, at most `limit`.
    public func items(name: String, after: String?, limit: Int) async throws -> [ListItem] {
        try await database.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT value, added_by, added_at FROM list_items WHERE list_name = ? AND value > ?
                    ORDER BY value LIMIT ?
                    """, arguments: [name, after ?? "", limit]
            ).map { ListItem(value: $0["value"], addedBy: $0["added_by"], addedAtMicros: $0["added_at"]) }
        }
    }

    /// Adds values (normalised; duplicates ignored) in one transaction; returns how many were new.
    public func add(name: String, values: [String], actor: String, nowMicros: Int64) async throws -> Int {
        try await change(name: name, values: values, actor: actor, nowMicros: nowMicros, remove: false)
    }

    public func remove(name: String, values: [String], actor: String, nowMicros: Int64) async throws -> Int {
        try await change(name: name, values: values, actor: actor, nowMicros: nowMicros, remove: true)
    }

    private func change(
        name: String, values: [String], actor: String, nowMicros: Int64, remove: Bool
    ) async throws -> Int {
        try await database.pool.write { db in
            guard let list = try Self.fetch(name, db: db) else { throw ListStoreError.notFound }
            var normalized: [String] = []
            normalized.reserveCapacity(values.count)
            for value in values {
                guard let clean = list.kind.normalize(value) else {
                    if remove { continue }
                    throw ListStoreError.invalidValue(value, list.kind)
                }
                normalized.append(clean)
            }
            let statement = try db.makeStatement(
                sql: remove
                    ? "DELETE FROM list_items WHERE list_name = ? AND value = ?"
                    : "INSERT OR IGNORE INTO list_items (list_name, value, added_by, added_at) VALUES (?, ?, ?, ?)")
            var changed = 0
            for value in normalized {
                if remove {
                    try statement.execute(arguments: [name, value])
                } else {
                    try statement.execute(arguments: [name, value, actor, nowMicros])
                }
                changed += db.changesCount
            }
            try db.execute(sql: "UPDATE lists SET updated_at = ? WHERE name = ?", arguments: [nowMicros, name])
            let sample = normalized.prefix(5).map(jsonString).joined(separator: ",")
            try AuditLog.append(
                AuditEntry(
                    atMicros: nowMicros, actor: actor, action: remove ? "list.remove" : "list.add", entityType: "list",
                    entityID: name, before: nil,
                    after: "{\"requested\":\(values.count),\"changed\":\(changed),\"first_values\":[\(sample)]}"),
                in: db)
            return changed
        }
    }

    /// Deletes a list and its values; false when there was none.
    public func delete(name: String, actor: String, nowMicros: Int64) async throws -> Bool {
        try await database.pool.write { db in
            guard let list = try Self.fetch(name, db: db) else { return false }
            try db.execute(sql: "DELETE FROM list_items WHERE list_name = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM lists WHERE name = ?", arguments: [name])
            try AuditLog.append(
                AuditEntry(
                    atMicros: nowMicros, actor: actor, action: "list.delete", entityType: "list", entityID: name,
                    before: "{\"kind\":\(jsonString(list.kind.rawValue)),\"item_count\":\(list.itemCount)}",
                    after: nil),
                in: db)
            return true
        }
    }

    /// Every list's values, for the in-memory snapshot scoring reads.
    public func snapshot() async throws -> [String: Set<String>] {
        try await database.pool.read { db in
            var lists: [String: Set<String>] = [:]
            for name in try String.fetchAll(db, sql: "SELECT name FROM lists") { lists[name] = [] }
            let rows = try Row.fetchCursor(db, sql: "SELECT list_name, value FROM list_items")
            while let row = try rows.next() {
                lists[row["list_name"], default: []].insert(row["value"])
            }
            return lists
        }
    }

    static func fetch(_ name: String, db: Database) throws -> StoredList? {
        try Row.fetchOne(
            db,
            sql: """
                SELECT l.*, (SELECT COUNT(*) FROM list_items i WHERE i.list_name = l.name) AS item_count
                FROM lists l WHERE name = ?
                """, arguments: [name]
        ).map(storedList)
    }

    static func storedList(_ row: Row) -> StoredList {
        StoredList(
            name: row["name"], kind: ListKind(rawValue: row["kind"]) ?? .string, description: row["description"],
            createdBy: row["created_by"], createdAtMicros: row["created_at"], updatedAtMicros: row["updated_at"],
            itemCount: row["item_count"])
    }
}

public struct NewAlert: Sendable, Equatable {
    public var alertID: String
    public var kind: String
    public var subjectType: String
    public var subjectID: String
    public var message: String
    /// JSON object.
    public var details: String
    /// An alert with a key already raised is not raised again.
    public var dedupeKey: String?

    public init(
        alertID: String, kind: String, subjectType: String, subjectID: String, message: String, details: String,
        dedupeKey: String?
    ) {
        self.alertID = alertID
        self.kind = kind
        self.subjectType = subjectType
        self.subjectID = subjectID
        self.message = message
        self.details = details
        self.dedupeKey = dedupeKey
    }
}

public struct StoredAlert: Sendable, Equatable {
    public var alertID: String
    public var kind: String
    public var subjectType: String
    public var subjectID: String
    public var message: String
    public var details: String
    public var createdAtMicros: Int64
    public var resolvedAtMicros: Int64?
}

/// Alerts for people: rules below their precision floor, changes the guard reverted, onsets of attacks.
public final class AlertStore: Sendable {
    public let database: VigilDatabase

    public init(database: VigilDatabase) {
        self.database = database
    }

    /// Nil when an alert with the same dedupe key was raised before.
    public func raise(_ alert: NewAlert, nowMicros: Int64) async throws -> StoredAlert? {
        try await database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO alerts (alert_id, kind, subject_type, subject_id, message, details,
                        dedupe_key, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    alert.alertID, alert.kind, alert.subjectType, alert.subjectID, alert.message, alert.details,
                    alert.dedupeKey, nowMicros,
                ])
            guard db.changesCount == 1 else { return nil }
            try AuditLog.append(
                AuditEntry(
                    atMicros: nowMicros, actor: "vigil", action: "alert.raise", entityType: "alert",
                    entityID: alert.alertID, before: nil,
                    after: "{\"kind\":\(jsonString(alert.kind)),\"subject_id\":\(jsonString(alert.subjectID))}"),
                in: db)
            return StoredAlert(
                alertID: alert.alertID, kind: alert.kind, subjectType: alert.subjectType, subjectID: alert.subjectID,
                message: alert.message, details: alert.details, createdAtMicros: nowMicros, resolvedAtMicros: nil)
        }
    }

    public func alerts(kind: String?, subjectID: String?, limit: Int, beforeMicros: Int64?) async throws
        -> [StoredAlert]
    {
        try await database.pool.read { db in
            var conditions: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            if let kind {
                conditions.append("kind = ?")
                arguments.append(kind)
            }
            if let subjectID {
                conditions.append("subject_id = ?")
                arguments.append(subjectID)
            }
            if let beforeMicros {
                conditions.append("created_at < ?")
                arguments.append(beforeMicros)
            }
            arguments.append(min(max(limit, 1), 500))
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try Row.fetchAll(
                db, sql: "SELECT * FROM alerts \(filter) ORDER BY created_at DESC, alert_id DESC LIMIT ?",
                arguments: StatementArguments(arguments)
            ).map(Self.storedAlert)
        }
    }

    public func alert(id: String) async throws -> StoredAlert? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM alerts WHERE alert_id = ?", arguments: [id]).map(Self.storedAlert)
        }
    }

    public func resolve(id: String, actor: String, nowMicros: Int64) async throws -> StoredAlert? {
        try await database.pool.write { db in
            try db.execute(
                sql: "UPDATE alerts SET resolved_at = ? WHERE alert_id = ? AND resolved_at IS NULL",
                arguments: [nowMicros, id])
            if db.changesCount == 1 {
                try AuditLog.append(
                    AuditEntry(
                        atMicros: nowMicros, actor: actor, action: "alert.resolve", entityType: "alert", entityID: id,
                        before: nil, after: nil),
                    in: db)
            }
            return try Row.fetchOne(db, sql: "SELECT * FROM alerts WHERE alert_id = ?", arguments: [id])
                .map(Self.storedAlert)
        }
    }

    static func storedAlert(_ row: Row) -> StoredAlert {
        StoredAlert(
            alertID: row["alert_id"], kind: row["kind"], subjectType: row["subject_type"], subjectID: row["subject_id"],
            message: row["message"], details: row["details"], createdAtMicros: row["created_at"],
            resolvedAtMicros: row["resolved_at"])
    }
}
