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
    /// `@` with text on both sides, no spaces), countries upper-cased (two ASCII letters), IP addresses as IPv4
    /// dotted quads (no leading zeros) or IPv6 (hex digits and `:`, lower-cased); every value 1 to 256 bytes
    /// without control characters.
    public func normalize(_ value: String) -> String? {
        guard (1...256).contains(value.utf8.count),
            !value.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
        else { return nil }
        switch self {
        case .email:
            let parts = value.utf8.split(separator: UInt8(ascii: "@"), omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
                !value.unicodeScalars.contains(where: \.properties.isWhitespace)
            else { return nil }
            return value.lowercased()
        case .country:
            guard value.utf8.count == 2, value.utf8.allSatisfy(Self.isASCIILetter) else { return nil }
            return value.uppercased()
        case .ipAddress:
            return value.utf8.contains(UInt8(ascii: ":")) ? Self.ipv6(value) : Self.ipv4(value)
        case .cardID, .customerID, .merchantID, .deviceID, .string:
            return value
        }
    }

    private static func isASCIILetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
    }

    /// Four decimal octets 0–255 without leading zeros (which some parsers read as octal).
    private static func ipv4(_ value: String) -> String? {
        let octets = value.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        for octet in octets {
            guard (1...3).contains(octet.count), octet.allSatisfy({ (48...57).contains($0) }),
                octet.count == 1 || octet.first != UInt8(ascii: "0"),
                octet.reduce(0, { $0 * 10 + Int($1 - 48) }) <= 255
            else { return nil }
        }
        return value
    }

    /// Hex digits and `:` (at least two), with an embedded IPv4 tail allowed (`::ffff:10.0.0.1`), lower-cased.
    private static func ipv6(_ value: String) -> String? {
        let bytes = value.utf8
        guard bytes.count <= 45, bytes.count { $0 == UInt8(ascii: ":") } >= 2,
            bytes.allSatisfy({
                $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") || (48...57).contains($0)
                    || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0 | 0x20)
            })
        else { return nil }
        return value.lowercased()
    }
}

/// A named list as listed: its kind and how many values it holds.
public struct StoredList: Sendable, Equatable {
    public var name: String
    public var kind: ListKind
    public var description: String?
    public var createdBy: String
    public var createdAtMicros: Int64
    /// The last change to the list or its values.
    public var updatedAtMicros: Int64
    public var itemCount: Int
}

/// One value of a list, normalised, with who added it and when.
public struct ListItem: Sendable, Equatable {
    public var value: String
    public var addedBy: String
    public var addedAtMicros: Int64
}

public enum ListStoreError: Error, Sendable, Equatable {
    case exists
    case notFound
    case invalidName(String)
    /// The first value that is not a valid value of the list's kind; nothing was written.
    case invalidValue(String, ListKind)
    /// More than `ListStore.maxValuesPerChange` values in one call.
    case tooManyValues(Int)
}

/// Named value lists for rules, every change audited in the transaction that makes it.
public final class ListStore: Sendable {
    public let database: VigilDatabase
    /// Values one `add` or `remove` takes (one transaction).
    public static let maxValuesPerChange = 100_000
    /// Values an audit entry quotes from a change (the count is always there).
    static let auditedValues = 5

    public init(database: VigilDatabase) {
        self.database = database
    }

    /// 1 to 64 characters of a-z, 0-9, `_` and `-`.
    public static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 95 || $0 == 45 }
    }

    /// A new empty list; `ListStoreError.exists` when the name is taken. Audited as `list.create`.
    public func create(
        name: String, kind: ListKind, description: String?, actor: String, nowMicros: Int64
    ) async throws -> StoredList {
        guard Self.isValidName(name) else { throw ListStoreError.invalidName(name) }
        return try await database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO lists (name, kind, description, created_by, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING
                    """, arguments: [name, kind.rawValue, description, actor, nowMicros, nowMicros])
            guard db.changesCount == 1 else { throw ListStoreError.exists }
            var after = JSONWriter()
            after.objectStart()
            after.key("kind")
            after.string(kind.rawValue)
            after.key("description")
            after.optionalString(description)
            after.objectEnd()
            try AuditLog.append(
                AuditEntry(
                    atMicros: nowMicros, actor: actor, action: "list.create", entityType: "list", entityID: name,
                    before: nil, after: String(decoding: after.bytes, as: UTF8.self)),
                in: db)
            return StoredList(
                name: name, kind: kind, description: description, createdBy: actor, createdAtMicros: nowMicros,
                updatedAtMicros: nowMicros, itemCount: 0)
        }
    }

    /// Every list by name, with its value count.
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

    /// Values in order after `after` (the last value of the previous page), at most `limit`.
    public func items(name: String, after: String?, limit: Int) async throws -> [ListItem] {
        try await database.pool.read { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT value, added_by, added_at FROM list_items WHERE list_name = ? AND value > ?
                        ORDER BY value LIMIT ?
                        """), arguments: [name, after ?? "", max(0, limit)]
            ).map { ListItem(value: $0[0], addedBy: $0[1], addedAtMicros: $0[2]) }
        }
    }

    /// Adds values, normalised by the list's kind (duplicates ignored), in one transaction; returns how many were
    /// new. Every value is checked before anything is written: `ListStoreError.invalidValue` names the first bad
    /// one. One audit entry, `list.add`, with the counts and the first few values.
    public func add(name: String, values: [String], actor: String, nowMicros: Int64) async throws -> Int {
        try await change(name: name, values: values, actor: actor, nowMicros: nowMicros, remove: false)
    }

    /// Removes values (normalised the same way; values that cannot be in the list are skipped); returns how many
    /// were there. Audited as `list.remove`.
    public func remove(name: String, values: [String], actor: String, nowMicros: Int64) async throws -> Int {
        try await change(name: name, values: values, actor: actor, nowMicros: nowMicros, remove: true)
    }

    private func change(
        name: String, values: [String], actor: String, nowMicros: Int64, remove: Bool
    ) async throws -> Int {
        guard values.count <= Self.maxValuesPerChange else {
            throw ListStoreError.tooManyValues(Self.maxValuesPerChange)
        }
        return try await database.pool.write { db in
            guard let kindName = try String.fetchOne(db, sql: "SELECT kind FROM lists WHERE name = ?", arguments: [name])
            else { throw ListStoreError.notFound }
            let kind = ListKind(rawValue: kindName) ?? .string
            var normalized: [String] = []
            normalized.reserveCapacity(values.count)
            for value in values {
                if let clean = kind.normalize(value) {
                    normalized.append(clean)
                } else if !remove {
                    throw ListStoreError.invalidValue(value, kind)
                }
            }
            let changed =
                remove
                ? try Self.delete(normalized, from: name, db: db)
                : try Self.insert(normalized, into: name, actor: actor, nowMicros: nowMicros, db: db)
            if changed > 0 {
                try db.execute(sql: "UPDATE lists SET updated_at = ? WHERE name = ?", arguments: [nowMicros, name])
            }
            var after = JSONWriter()
            after.objectStart()
            after.key("requested")
            after.int(values.count)
            after.key(remove ? "removed" : "added")
            after.int(changed)
            after.key("first_values")
            after.arrayStart()
            for value in normalized.prefix(Self.auditedValues) { after.string(value) }
            after.arrayEnd()
            after.objectEnd()
            try AuditLog.append(
                AuditEntry(
                    atMicros: nowMicros, actor: actor, action: remove ? "list.remove" : "list.add", entityType: "list",
                    entityID: name, before: nil, after: String(decoding: after.bytes, as: UTF8.self)),
                in: db)
            return changed
        }
    }

    /// One prepared statement for every value, bound in place (no argument arrays per value).
    private static func insert(
        _ values: [String], into name: String, actor: String, nowMicros: Int64, db: Database
    ) throws -> Int {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO list_items (list_name, value, added_by, added_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (list_name, value) DO NOTHING
                """)
        try statement.setArguments([name, "", actor, nowMicros])
        var added = 0
        for value in values {
            try execute(statement, binding: value, db: db)
            added += db.changesCount
        }
        return added
    }

    private static func delete(_ values: [String], from name: String, db: Database) throws -> Int {
        let statement = try db.cachedStatement(sql: "DELETE FROM list_items WHERE list_name = ? AND value = ?")
        try statement.setArguments([name, ""])
        var removed = 0
        for value in values {
            try execute(statement, binding: value, db: db)
            removed += db.changesCount
        }
        return removed
    }

    /// Binds `value` to the second parameter (the others stay bound) and runs the statement once.
    private static func execute(_ statement: Statement, binding value: String, db: Database) throws {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        let code = value.utf8CString.withUnsafeBufferPointer { buffer in
            sqlite3_bind_text(handle, 2, buffer.baseAddress, Int32(buffer.count - 1), SQLITE_TRANSIENT)
        }
        guard code == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: code)) }
        let step = sqlite3_step(handle)
        guard step == SQLITE_DONE else {
            let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
            sqlite3_reset(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: step), message: message)
        }
    }

    /// Deletes a list and (by the foreign key's cascade) its values; false when there was none. Audited as
    /// `list.delete`.
    public func delete(name: String, actor: String, nowMicros: Int64) async throws -> Bool {
        try await database.pool.write { db in
            guard let list = try Self.fetch(name, db: db) else { return false }
            try db.execute(sql: "DELETE FROM lists WHERE name = ?", arguments: [name])
            var before = JSONWriter()
            before.objectStart()
            before.key("kind")
            before.string(list.kind.rawValue)
            before.key("item_count")
            before.int(list.itemCount)
            before.objectEnd()
            try AuditLog.append(
                AuditEntry(
                    atMicros: nowMicros, actor: actor, action: "list.delete", entityType: "list", entityID: name,
                    before: String(decoding: before.bytes, as: UTF8.self), after: nil),
                in: db)
            return true
        }
    }

    /// Every list's values (empty lists too), for the in-memory snapshot scoring reads.
    public func snapshot() async throws -> [String: Set<String>] {
        try await database.pool.read { db in
            var lists: [String: Set<String>] = [:]
            let values = try db.cachedStatement(sql: "SELECT value FROM list_items WHERE list_name = ?")
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT name, (SELECT COUNT(*) FROM list_items i WHERE i.list_name = l.name) FROM lists l
                    """)
            {
                let name: String = row[0]
                var set = Set<String>(minimumCapacity: row[1])
                let cursor = try String.fetchCursor(values, arguments: [name])
                while let value = try cursor.next() { set.insert(value) }
                lists[name] = set
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
