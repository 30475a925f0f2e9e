import GRDB
import GRDBSQLite
import VigilCore

/// One stored payment as a backtest reads it. `body` and `features` point into SQLite's row buffer and are
/// valid only during the callback that receives the row.
public struct BacktestRow {
    public var rowID: Int64
    public var occurredAtMicros: Int64
    public var scoredAtMicros: Int64
    public var amount: Double
    public var decision: Decision
    public var score: Double
    /// The model's margin before rules (nil for decisions stored before rules existed).
    public var margin: Double?
    public var label: BacktestLabel
    /// The effective label's source (`chargeback`, `review`, …).
    public var labelSource: String?
    /// The canonical transaction JSON.
    public var body: UnsafeRawBufferPointer
    /// The feature JSON, name → number or null.
    public var features: UnsafeRawBufferPointer
}

/// Streams stored payments with their effective labels, in row order, for rule backtests.
///
/// Reads go through the raw statement (no `Row` or `String` per column) in chunks of 50,000 rows, one read
/// transaction each, so a long backtest never holds a snapshot that keeps the WAL from being checkpointed.
public final class BacktestScan: Sendable {
    public let database: VigilDatabase
    public static let chunk = 50_000

    public init(database: VigilDatabase) {
        self.database = database
    }

    /// A closure handed to the reader for the duration of one `scan` call only.
    ///
    /// `@unchecked Sendable` is safe here: `scan` awaits every read that uses it before it returns, the reads run
    /// one after another (never concurrently), and the closure does not outlive `scan` (`withoutActuallyEscaping`
    /// enforces it).
    private struct Callback: @unchecked Sendable {
        let body: (borrowing BacktestRow) throws -> Bool
    }

    private struct LabelInfo {
        var fraud: Bool
        var source: String
    }

    /// Where a chunked scan continues: after this `(occurred_at, id)` when the scan reads a range of event time
    /// through the `occurred_at` index, after this id when it reads the whole table in row order.
    struct Cursor: Sendable {
        var occurred = Int64.min
        var id: Int64 = 0
    }

    /// Calls `body` for every stored payment with `occurred_at` in `[from, to)`, at most `maxRows`; `body`
    /// returns false to stop. Returns the rows visited. With `from` or `to` the rows are read through the
    /// `occurred_at` index, oldest first, so only the range is read; with neither, the whole table in row order.
    public func scan(
        fromMicros: Int64?, toMicros: Int64?, maxRows: Int, _ body: (borrowing BacktestRow) throws -> Bool
    ) async throws -> Int {
        let labels = try await database.pool.read { db in
            try Self.effectiveLabels(db, from: fromMicros, to: toMicros)
        }
        return try await withoutActuallyEscaping(body) { escapable in
            let callback = Callback(body: escapable)
            var visited = 0
            var cursor = Cursor()
            var stopped = false
            while !stopped && visited < maxRows {
                let remaining = maxRows - visited
                let after = cursor
                let (count, last, stop) = try await database.pool.read { db in
                    try Self.readChunk(
                        db, after: after, from: fromMicros, to: toMicros, limit: min(Self.chunk, remaining),
                        labels: labels, callback: callback)
                }
                visited += count.visited
                stopped = stop || count.scanned < min(Self.chunk, remaining)
                cursor = last
                if count.scanned == 0 { break }
            }
            return visited
        }
    }

    /// As `scan`, synchronously on the calling thread (the worker's low-priority thread): the reads and `body` run
    /// there too, so a long scan takes its CPU time at that thread's priority. Reads go in chunks of `chunk` rows,
    /// one short read transaction each, and `betweenChunks` runs outside any transaction (where a caller may sleep):
    /// a read transaction held open keeps SQLite from checkpointing past it, and the first commit after it would
    /// then copy and sync everything written meanwhile.
    public func scanBlocking(
        fromMicros: Int64?, toMicros: Int64?, maxRows: Int, chunk: Int = 5_000, betweenChunks: () -> Void = {},
        _ body: (borrowing BacktestRow) throws -> Bool
    ) throws -> Int {
        let labels = try database.pool.read { db in try Self.effectiveLabels(db, from: fromMicros, to: toMicros) }
        return try withoutActuallyEscaping(body) { escapable in
            let callback = Callback(body: escapable)
            var visited = 0
            var cursor = Cursor()
            while visited < maxRows {
                let remaining = maxRows - visited
                let (count, last, stop) = try database.pool.read { db in
                    try Self.readChunk(
                        db, after: cursor, from: fromMicros, to: toMicros, limit: min(chunk, remaining),
                        labels: labels, callback: callback)
                }
                visited += count.visited
                cursor = last
                if stop || count.scanned < min(chunk, remaining) { break }
                betweenChunks()
            }
            return visited
        }
    }

    /// Effective labels by transaction row id: the most authoritative source, the latest among equals. With a range,
    /// only the labels of payments that occurred in it, found through the `occurred_at` and label indexes: a
    /// backtest over a day must not read every label ever given (scripts/soak: with 400,000 labels stored, each
    /// one-day backtest spent most of a second ranking them all, and scoring's p99 rose with them).
    private static func effectiveLabels(_ db: Database, from: Int64?, to: Int64?) throws -> [Int64: LabelInfo] {
        guard from != nil || to != nil else { return try effectiveLabels(db) }
        let inRange = """
            transaction_id IN (SELECT transaction_id FROM transactions WHERE occurred_at >= ? AND occurred_at < ?)
            """
        return try effectiveLabels(
            db, sql: LabelStore.effectiveLabelsSQL(where: inRange), arguments: [from ?? Int64.min, to ?? Int64.max])
    }

    /// Every effective label, by transaction row id (a scan without a range reads the whole table).
    private static func effectiveLabels(
        _ db: Database, sql: String = LabelStore.effectiveLabelsSQL, arguments: StatementArguments = []
    ) throws -> [Int64: LabelInfo] {
        var labels: [Int64: LabelInfo] = [:]
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT t.id, e.label, e.source FROM (\(sql)) e
                JOIN transactions t ON t.transaction_id = e.transaction_id
                """, arguments: arguments)
        while let row = try rows.next() {
            labels[row[0]] = LabelInfo(fraud: (row[1] as String) == "fraud", source: row[2])
        }
        return labels
    }

    private static func readChunk(
        _ db: Database, after cursor: Cursor, from: Int64?, to: Int64?, limit: Int, labels: [Int64: LabelInfo],
        callback: Callback
    ) throws -> (count: (scanned: Int, visited: Int), last: Cursor, stop: Bool) {
        let columns = "id, occurred_at, scored_at, amount, decision, score, margin, body, features"
        let statement: Statement
        if from != nil || to != nil {
            // The first condition lets SQLite seek the index; the second continues after the cursor's row.
            statement = try db.cachedStatement(
                sql: """
                    SELECT \(columns) FROM transactions
                    WHERE occurred_at >= ? AND occurred_at < ? AND (occurred_at > ? OR (occurred_at = ? AND id > ?))
                    ORDER BY occurred_at, id LIMIT ?
                    """)
            try statement.setArguments([
                max(from ?? .min, cursor.occurred), to ?? .max, cursor.occurred, cursor.occurred, cursor.id, limit,
            ])
        } else {
            statement = try db.cachedStatement(
                sql: "SELECT \(columns) FROM transactions WHERE id > ? ORDER BY id LIMIT ?")
            try statement.setArguments([cursor.id, limit])
        }
        let handle = statement.sqliteStatement
        var scanned = 0
        var visited = 0
        var last = cursor
        defer { sqlite3_reset(handle) }
        while true {
            let step = sqlite3_step(handle)
            if step == SQLITE_DONE { break }
            guard step == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: step), message: "backtest scan failed")
            }
            scanned += 1
            let id = sqlite3_column_int64(handle, 0)
            let occurred = sqlite3_column_int64(handle, 1)
            last = Cursor(occurred: occurred, id: id)
            if let from, occurred < from { continue }
            if let to, occurred >= to { continue }
            let label = labels[id]
            let first = sqlite3_column_text(handle, 4)?.pointee ?? 0
            let decision: Decision =
                switch first {
                case UInt8(ascii: "a"): .approve
                case UInt8(ascii: "r"): .review
                default: .decline
                }
            let row = BacktestRow(
                rowID: id, occurredAtMicros: occurred, scoredAtMicros: sqlite3_column_int64(handle, 2),
                amount: sqlite3_column_double(handle, 3), decision: decision,
                score: sqlite3_column_double(handle, 5),
                margin: sqlite3_column_type(handle, 6) == SQLITE_NULL ? nil : sqlite3_column_double(handle, 6),
                label: label.map { $0.fraud ? .fraud : .legit } ?? BacktestLabel.none, labelSource: label?.source,
                body: Self.bytes(handle, 7), features: Self.bytes(handle, 8))
            visited += 1
            if try !callback.body(row) { return ((scanned, visited), last, true) }
        }
        return ((scanned, visited), last, false)
    }

    private static func bytes(_ handle: OpaquePointer, _ column: Int32) -> UnsafeRawBufferPointer {
        guard let text = sqlite3_column_text(handle, column) else {
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }
        return UnsafeRawBufferPointer(start: UnsafeRawPointer(text), count: Int(sqlite3_column_bytes(handle, column)))
    }
}
