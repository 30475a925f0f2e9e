import CVigilSQLite
import Foundation
import GRDB

/// Owns the SQLite database: opens it in WAL mode, applies the numbered migrations, sets pragmas.
///
/// Writes of scored payments go through `GroupCommitWriter`; everything else reads or writes here.
public final class VigilDatabase: Sendable {
    public let path: String
    public let pool: DatabasePool
    public let synchronous: SynchronousMode

    /// How hard SQLite flushes: `normal` survives a killed process (WAL), `full` also a power cut.
    public enum SynchronousMode: String, Sendable, CaseIterable {
        case normal = "NORMAL"
        case full = "FULL"
    }

    /// SQLite's process-wide settings, applied once before the first connection opens: 0 when they took.
    public static let sqliteConfiguration: Int32 = vigil_sqlite_configure()

    /// Opens (creating if needed) and migrates the database at `path`.
    public init(path: String, synchronous: SynchronousMode = .normal, busyTimeout: TimeInterval = 5) throws {
        _ = Self.sqliteConfiguration
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.maximumReaderCount = 4
        configuration.label = "vigil"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            // Reads through a memory map instead of a read() per page. The writer keeps a 32 MiB page cache (the
            // index pages every insert walks); the four readers, which read through the map, 8 MiB each. With 32
            // MiB each the readers' caches kept filling for many minutes of scripts/soak (resident memory +27 MiB
            // a minute, up to 160 MiB more), which looked like a leak; at 8 MiB they are full within the warm-up.
            try db.execute(sql: "PRAGMA mmap_size = 1073741824")
            try db.execute(sql: db.configuration.readonly ? "PRAGMA cache_size = -8192" : "PRAGMA cache_size = -32768")
        }
        self.path = path
        self.synchronous = synchronous
        do {
            self.pool = try DatabasePool(path: path, configuration: configuration)
        } catch let error as DatabaseError {
            throw StoreError.cannotOpen(
                path: path, reason: Self.lockedReason(error, busyTimeout) ?? error.message ?? "\(error.resultCode)")
        }
        do {
            try pool.writeWithoutTransaction { db in
                // GRDB sets up WAL when the pool opens; pragmas set before that would be reset.
                try db.execute(sql: "PRAGMA synchronous = \(synchronous.rawValue)")
                // Only the writer checkpoints (SQLite's automatic checkpoint, right after a commit): it is what lets
                // the log start over under a steady stream of commits. No other connection may checkpoint: SQLite
                // before 3.51.3 (this machine has 3.40.1) has the "WAL-reset bug", a race that corrupts the file
                // when one connection checkpoints while another commits and restarts the log. A background
                // checkpointer on its own connection (here until 2026-11-22) hit it in scripts/soak: "database
                // disk image is malformed" within ten minutes. https://www.sqlite.org/wal.html#walresetbug
                let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? ""
                guard mode.lowercased() == "wal" else {
                    throw StoreError.cannotOpen(path: path, reason: "journal_mode is \(mode), expected wal")
                }
                let level = try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
                let expected = synchronous == .normal ? 1 : 2
                guard level == expected else {
                    throw StoreError.cannotOpen(path: path, reason: "synchronous is \(level), expected \(expected)")
                }
            }
            try Self.migrator.migrate(pool)
        } catch let error as DatabaseError {
            guard let reason = Self.lockedReason(error, busyTimeout) else { throw error }
            throw StoreError.cannotOpen(path: path, reason: reason)
        }
    }

    /// For a database another process holds locked: says so instead of SQLite's bare "database is locked".
    static func lockedReason(_ error: DatabaseError, _ busyTimeout: TimeInterval) -> String? {
        guard error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED else { return nil }
        return
            "the file is locked by another process (waited \(Int(busyTimeout)) s for it); is another vigil or a tool "
            + "holding a transaction on it? (\(error.message ?? "database is locked"))"
    }

    /// The migrations already applied, in order.
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try Self.migrator.appliedMigrations(db) }
    }

    /// Whether a write transaction can start (the file is writable and the write lock obtainable).
    public func canBeginWrite() async -> Bool {
        do {
            try await pool.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                try db.execute(sql: "ROLLBACK")
            }
            return true
        } catch {
            return false
        }
    }

    /// Whether the database answers a read; used by `/readyz`.
    public func isReadable() async -> Bool {
        do {
            return try await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") == 1 }
        } catch {
            return false
        }
    }
}
