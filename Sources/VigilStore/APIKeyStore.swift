import Crypto
import Foundation
import GRDB

/// API keys: only their SHA-256 is stored; the key itself is shown once, when it is created.
public struct APIKeyStore: Sendable {
    public let database: VigilDatabase

    public init(database: VigilDatabase) {
        self.database = database
    }

    /// A key as listed: never the key itself.
    public struct Record: Sendable, Equatable {
        public var keyID: String
        public var name: String
        public var role: String
        public var keyHash: String
        /// The first characters of the key, so people can tell their keys apart.
        public var prefix: String
        public var createdAtMicros: Int64
        public var revokedAtMicros: Int64?
    }

    /// Hex SHA-256 of a key. Keys carry 256 random bits, so a fast hash is enough (no stretching).
    public static func hash(_ key: String) -> String {
        sha256Hex(Array(key.utf8))
    }

    /// A new random key: `vgl_` and 43 base64url characters (256 bits).
    public static func generateKey() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let base64 = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return "vgl_" + base64
    }

    /// Creates a key and returns it with its record; the caller shows the key once.
    public func create(name: String, role: String, nowMicros: Int64) throws -> (key: String, record: Record) {
        try database.pool.write { db in try Self.insertNewKey(name: name, role: role, nowMicros: nowMicros, db: db) }
    }

    /// Creates one key per role when there is no key at all; returns what it created (empty otherwise).
    public func bootstrap(roles: [String], nowMicros: Int64) throws -> [(key: String, record: Record)] {
        try database.pool.write { db in
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM api_keys") == 0 else { return [] }
            return try roles.map { role in
                try Self.insertNewKey(name: "initial-\(role)", role: role, nowMicros: nowMicros, db: db)
            }
        }
    }

    private static func insertNewKey(
        name: String, role: String, nowMicros: Int64, db: Database
    ) throws -> (key: String, record: Record) {
        let key = generateKey()
        var generator = SystemRandomNumberGenerator()
        let record = Record(
            keyID: "key_" + String(UInt64.random(in: .min ... .max, using: &generator), radix: 36), name: name,
            role: role, keyHash: hash(key), prefix: String(key.prefix(12)), createdAtMicros: nowMicros,
            revokedAtMicros: nil)
        try db.execute(
            sql: "INSERT INTO api_keys (key_id, name, role, key_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [record.keyID, record.name, record.role, record.keyHash, record.prefix, nowMicros])
        return (key, record)
    }

    public func list() throws -> [Record] {
        try database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_keys ORDER BY created_at, key_id").map(Self.record)
        }
    }

    /// Keys that authenticate now.
    public func active() async throws -> [Record] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_keys WHERE revoked_at IS NULL").map(Self.record)
        }
    }

    /// Revokes by key id; false when there is no such active key.
    public func revoke(keyID: String, nowMicros: Int64) throws -> Bool {
        try database.pool.write { db in
            try db.execute(
                sql: "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                arguments: [nowMicros, keyID])
            return db.changesCount == 1
        }
    }

    static func record(_ row: Row) -> Record {
        Record(
            keyID: row["key_id"], name: row["name"], role: row["role"], keyHash: row["key_hash"],
            prefix: row["prefix"], createdAtMicros: row["created_at"], revokedAtMicros: row["revoked_at"])
    }
}
