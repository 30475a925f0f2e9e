import GRDB
import VigilCore

/// How a background job's run ended.
public enum WorkerRunStatus: String, Sendable, CaseIterable {
    case running, succeeded, failed, skipped
}

/// One run of a background job, as stored.
public struct WorkerRun: Sendable, Equatable {
    public var runID: String
    public var job: String
    /// `schedule`, `manual` or `alert`.
    public var trigger: String
    public var status: WorkerRunStatus
    public var startedAtMicros: Int64
    public var finishedAtMicros: Int64?
    /// JSON object: what the run found and did.
    public var result: String?
    public var error: String?

    public init(
        runID: String, job: String, trigger: String, status: WorkerRunStatus, startedAtMicros: Int64,
        finishedAtMicros: Int64?, result: String?, error: String?
    ) {
        self.runID = runID
        self.job = job
        self.trigger = trigger
        self.status = status
        self.startedAtMicros = startedAtMicros
        self.finishedAtMicros = finishedAtMicros
        self.result = result
        self.error = error
    }
}

/// A mined pattern a person rejected, and the evidence it was rejected on.
public struct RejectedPattern: Sendable, Equatable {
    public var signature: String
    public var ruleID: String
    public var precisionLowerBound: Double
    public var fraud: Int
    public var support: Int

    public init(signature: String, ruleID: String, precisionLowerBound: Double, fraud: Int, support: Int) {
        self.signature = signature
        self.ruleID = ruleID
        self.precisionLowerBound = precisionLowerBound
        self.fraud = fraud
        self.support = support
    }
}

/// A rule the worker proposed, as the miner needs it: to skip what is already proposed or live.
public struct MinedRuleRef: Sendable, Equatable {
    public var ruleID: String
    public var status: RuleStatus
    public var signature: String?
}

/// A labelled payment as training reads it.
public struct LabelledRow: Sendable, Equatable {
    public var occurredAtMicros: Int64
    /// The stored feature JSON.
    public var features: String
    public var isFraud: Bool
}

/// The segments onset detection watches; the raw values are the stored columns they read.
public enum SegmentKind: String, Sendable, CaseIterable {
    case merchantCountry = "merchant_country"
    case channel = "channel"
    case merchantCategory = "merchant_category"
    case merchantID = "merchant_id"
}

/// One segment value's payments in one bucket of event time.
public struct SegmentBucketCounts: Sendable, Equatable {
    public var payments = 0
    public var declines = 0
    public var reviews = 0
    public var scoreSum = 0.0
    public var fraud = 0

    public init() {}
}

/// The worker's reads and writes: job runs, event time, label counts, segment buckets, rejected patterns.
///
/// The reads the heavy jobs make are synchronous, so that they run on the worker's own low-priority thread rather
/// than on a thread that scoring shares.
public final class WorkerStore: Sendable {
    public let database: VigilDatabase

    public init(database: VigilDatabase) {
        self.database = database
    }

    // MARK: - Runs

    public func start(runID: String, job: String, trigger: String, nowMicros: Int64) async throws {
        try await database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO worker_runs (run_id, job, trigger, status, started_at) VALUES (?, ?, ?, 'running', ?)
                    """,
                arguments: [runID, job, trigger, nowMicros])
        }
    }

    public func finish(
        runID: String, status: WorkerRunStatus, result: String?, error: String?, nowMicros: Int64
    ) async throws {
        try await database.pool.write { db in
            try db.execute(
                sql: "UPDATE worker_runs SET status = ?, finished_at = ?, result = ?, error = ? WHERE run_id = ?",
                arguments: [status.rawValue, nowMicros, result, error, runID])
        }
    }

    /// Runs a killed process left `running` are marked failed; returns how many.
    public func failInterrupted(nowMicros: Int64) async throws -> Int {
        try await database.pool.write { db in
            try db.execute(
                sql: """
                    UPDATE worker_runs SET status = 'failed', finished_at = ?,
                        error = 'interrupted: the process stopped during the run'
                    WHERE status = 'running'
                    """,
                arguments: [nowMicros])
            return db.changesCount
        }
    }

    public func run(id: String) async throws -> WorkerRun? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM worker_runs WHERE run_id = ?", arguments: [id]).map(Self.run)
        }
    }

    /// The newest runs, optionally of one job, newest first.
    public func runs(job: String?, limit: Int) async throws -> [WorkerRun] {
        try await database.pool.read { db in
            if let job {
                return try Row.fetchAll(
                    db, sql: "SELECT * FROM worker_runs WHERE job = ? ORDER BY started_at DESC, run_id DESC LIMIT ?",
                    arguments: [job, limit]
                ).map(Self.run)
            }
            return try Row.fetchAll(
                db, sql: "SELECT * FROM worker_runs ORDER BY started_at DESC, run_id DESC LIMIT ?", arguments: [limit]
            ).map(Self.run)
        }
    }

    /// The newest succeeded run of `job`.
    public func lastSucceeded(job: String) async throws -> WorkerRun? {
        try await database.pool.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT * FROM worker_runs WHERE job = ? AND status = 'succeeded'
                    ORDER BY started_at DESC, run_id DESC LIMIT 1
                    """,
                arguments: [job]
            ).map(Self.run)
        }
    }

    static func run(_ row: Row) -> WorkerRun {
        let status: String = row["status"]
        return WorkerRun(
            runID: row["run_id"], job: row["job"], trigger: row["trigger"],
            status: WorkerRunStatus(rawValue: status) ?? .failed, startedAtMicros: row["started_at"],
            finishedAtMicros: row["finished_at"], result: row["result"], error: row["error"])
    }

    // MARK: - Event time and labels

    /// The stream's clock: the newest `occurred_at` stored (nil before the first payment).
    public func eventNow() throws -> Int64? {
        try database.pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT MAX(occurred_at) FROM transactions")
        }
    }

    /// The newest label's row id (0 with none): labels after it are "new" to the next training.
    public func labelCursor() throws -> Int64 {
        try database.pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM labels") ?? 0
        }
    }

    /// Labels stored after `cursor`.
    public func labelsSince(_ cursor: Int64) throws -> Int {
        try database.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM labels WHERE id > ?", arguments: [cursor]) ?? 0
        }
    }

    /// The `limit` most recent payments (by `occurred_at`) to train on, oldest first: their stored features and
    /// whether their effective label is fraud. With `unlabelledAsLegit` every payment counts (no label: legit),
    /// otherwise only labelled ones.
    public func trainingRows(limit: Int, unlabelledAsLegit: Bool) throws -> [LabelledRow] {
        if !unlabelledAsLegit {
            return try database.pool.read { db in
                return try Row.fetchAll(
                    db,
                    sql: """
                        SELECT t.occurred_at, t.features, e.label
                        FROM (\(LabelStore.effectiveLabelsSQL)) e JOIN transactions t USING (transaction_id)
                        ORDER BY t.occurred_at DESC, t.id DESC LIMIT ?
                        """,
                    arguments: [limit]
                ).reversed().map {
                    LabelledRow(
                        occurredAtMicros: $0["occurred_at"], features: $0["features"], isFraud: $0["label"] == "fraud")
                }
            }
        }
        let fraud: Set<String> = try database.pool.read { db in
            var fraud: Set<String> = []
            let labels = try Row.fetchCursor(
                db, sql: "SELECT transaction_id, label FROM (\(LabelStore.effectiveLabelsSQL))")
            while let row = try labels.next() {
                if (row["label"] as String) == "fraud" { fraud.insert(row["transaction_id"]) }
            }
            return fraud
        }
        // Newest first, in short read transactions (a long one would hold SQLite's checkpoints back).
        var rows: [LabelledRow] = []
        var cursor: (occurred: Int64, id: Int64) = (.max, .max)
        while rows.count < limit {
            let want = min(5_000, limit - rows.count)
            let after = cursor
            let chunk = try database.pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT id, occurred_at, features, transaction_id FROM transactions
                        WHERE occurred_at <= ? AND (occurred_at < ? OR id < ?)
                        ORDER BY occurred_at DESC, id DESC LIMIT ?
                        """,
                    arguments: [after.occurred, after.occurred, after.id, want])
            }
            for row in chunk {
                rows.append(
                    LabelledRow(
                        occurredAtMicros: row["occurred_at"], features: row["features"],
                        isFraud: fraud.contains(row["transaction_id"])))
            }
            guard let last = chunk.last, chunk.count == want else { break }
            cursor = (last["occurred_at"], last["id"])
        }
        return rows.reversed()
    }

    // MARK: - Segments

    /// The `limit` merchants with the most payments in `[from, to)`.
    public func busiestMerchants(fromMicros: Int64, toMicros: Int64, limit: Int) throws -> [String] {
        try database.pool.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT merchant_id FROM transactions
                    WHERE occurred_at >= ? AND occurred_at < ? AND merchant_id IS NOT NULL
                    GROUP BY merchant_id ORDER BY COUNT(*) DESC, merchant_id LIMIT ?
                    """,
                arguments: [fromMicros, toMicros, limit])
        }
    }

    /// Per value of `kind` (only `values` when given), the payments of each bucket of `widthMicros` starting at
    /// `fromMicros` up to `toMicros`: counts, decisions, score sum and payments whose effective label is fraud.
    public func segmentBuckets(
        _ kind: SegmentKind, values: [String]?, fromMicros: Int64, toMicros: Int64, widthMicros: Int64
    ) throws -> [String: [Int: SegmentBucketCounts]] {
        var arguments: [any DatabaseValueConvertible] = [fromMicros, widthMicros, fromMicros, toMicros]
        var restriction = ""
        if let values {
            guard !values.isEmpty else { return [:] }
            restriction = " AND t.\(kind.rawValue) IN (" + values.map { _ in "?" }.joined(separator: ",") + ")"
            arguments += values
        }
        // kind.rawValue is one of four fixed column names, never caller text; values are bound.
        let sql = """
            SELECT t.\(kind.rawValue) AS value, (t.occurred_at - ?) / ? AS bucket, COUNT(*) AS n,
                SUM(t.decision = 'decline') AS declines, SUM(t.decision = 'review') AS reviews,
                SUM(t.score) AS scores,
                SUM((SELECT l.label FROM labels l WHERE l.transaction_id = t.transaction_id
                     ORDER BY \(LabelStore.precedenceOrder("l.")) LIMIT 1) = 'fraud')
                    AS fraud
            FROM transactions t
            WHERE t.occurred_at >= ? AND t.occurred_at < ? AND t.\(kind.rawValue) IS NOT NULL\(restriction)
            GROUP BY value, bucket
            """
        return try database.pool.read { db in
            var result: [String: [Int: SegmentBucketCounts]] = [:]
            let rows = try Row.fetchCursor(db, sql: sql, arguments: StatementArguments(arguments))
            while let row = try rows.next() {
                var counts = SegmentBucketCounts()
                counts.payments = row["n"]
                counts.declines = row["declines"] ?? 0
                counts.reviews = row["reviews"] ?? 0
                counts.scoreSum = row["scores"] ?? 0
                counts.fraud = row["fraud"] ?? 0
                let value: String = row["value"]
                let bucket: Int = row["bucket"]
                result[value, default: [:]][bucket] = counts
            }
            return result
        }
    }

    // MARK: - Mined rules and rejections

    /// Every rule the worker proposed, with its pattern signature.
    public func minedRules() throws -> [MinedRuleRef] {
        try database.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT rule_id, status, json_extract(provenance, '$.signature') AS signature FROM rules
                    WHERE json_extract(provenance, '$.kind') = 'mined'
                    """
            ).map { row in
                let status: String = row["status"]
                return MinedRuleRef(
                    ruleID: row["rule_id"], status: RuleStatus(rawValue: status) ?? .disabled,
                    signature: row["signature"])
            }
        }
    }

    public func rejectedPatterns() throws -> [String: RejectedPattern] {
        try database.pool.read { db in
            var result: [String: RejectedPattern] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM rejected_patterns") {
                let pattern = RejectedPattern(
                    signature: row["signature"], ruleID: row["rule_id"],
                    precisionLowerBound: row["precision_lower_bound"], fraud: row["fraud"], support: row["support"])
                result[pattern.signature] = pattern
            }
            return result
        }
    }

    /// Remembers a rejection (the newest rejection of a signature replaces an older one).
    public func recordRejection(_ pattern: RejectedPattern, by actor: String, nowMicros: Int64) async throws {
        try await database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO rejected_patterns
                        (signature, rule_id, precision_lower_bound, fraud, support, rejected_by, rejected_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    pattern.signature, pattern.ruleID, pattern.precisionLowerBound, pattern.fraud, pattern.support,
                    actor, nowMicros,
                ])
        }
    }
}
