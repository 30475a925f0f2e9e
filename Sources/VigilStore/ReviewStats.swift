import GRDB

/// The review loop in numbers, as `GET /v1/stats` and `/metrics` show them.
public struct ReviewStats: Sendable, Equatable {
    public var openCases = 0
    public var openUnassigned = 0
    public var oldestOpenAgeSeconds: Double?
    public var openBySource: [String: Int] = [:]
    public var reviewVerdictsLast24h = 0
    /// Reviewer → review verdicts in the last 24 hours.
    public var verdictsByReviewer: [String: Int] = [:]
    /// Seconds from a case opening to its verdict, over the most recent 10,000 closed cases.
    public var medianTimeToVerdictSeconds: Double?
    public var p90TimeToVerdictSeconds: Double?
    /// Closed model and rule cases and how many the reviewer confirmed as fraud.
    public var reviewedCases = 0
    public var confirmedFraud = 0
    /// Exploration-sample cases whose payment has a label, and how many of those are fraud.
    public var sampleLabelled = 0
    public var sampleFraud = 0
    public var maturityDays = 30
    /// Payments older than `maturityDays` (by `occurred_at`), and how many of them have a label.
    public var matureTransactions = 0
    public var matureLabelled = 0

    /// Wilson score interval for a binomial proportion at 95 % (z = 1.96); nil without trials.
    public static func wilson(successes: Int, trials: Int, z: Double = 1.959964) -> (low: Double, high: Double)? {
        guard trials > 0 else { return nil }
        let n = Double(trials)
        let p = Double(successes) / n
        let denominator = 1 + z * z / n
        let centre = (p + z * z / (2 * n)) / denominator
        let margin = z * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot() / denominator
        return (max(0, centre - margin), min(1, centre + margin))
    }
}

extension ReviewStore {
    /// The numbers; label maturity (a scan of every payment) only when `maturityDays` is given.
    public func stats(nowMicros: Int64, maturityDays: Int?) async throws -> ReviewStats {
        try await database.pool.read { db in
            var stats = ReviewStats()
            for row in try Row.fetchAll(
                db,
                sql:
                    "SELECT source, COUNT(*) AS n, MIN(created_at) AS oldest FROM cases WHERE status = 'open' GROUP BY source"
            ) {
                let count: Int = row["n"]
                stats.openCases += count
                stats.openBySource[row["source"]] = count
                if let oldest: Int64 = row["oldest"] {
                    let age = Double(nowMicros - oldest) / 1e6
                    stats.oldestOpenAgeSeconds = max(stats.oldestOpenAgeSeconds ?? age, age)
                }
            }
            stats.openUnassigned =
                try Int.fetchOne(
                    db,
                    sql:
                        "SELECT COUNT(*) FROM cases WHERE status = 'open' AND (assignee IS NULL OR lease_expires_at <= ?)",
                    arguments: [nowMicros]) ?? 0
            let dayAgo = nowMicros - 86_400_000_000
            for row in try Row.fetchAll(
                db,
                sql:
                    "SELECT recorded_by, COUNT(*) AS n FROM labels WHERE source = 'review' AND recorded_at >= ? GROUP BY recorded_by",
                arguments: [dayAgo])
            {
                let count: Int = row["n"]
                stats.verdictsByReviewer[row["recorded_by"]] = count
                stats.reviewVerdictsLast24h += count
            }
            let durations = try Double.fetchAll(
                db,
                sql: """
                    SELECT (closed_at - created_at) / 1e6 FROM cases WHERE status = 'closed' AND closed_at IS NOT NULL
                    ORDER BY closed_at DESC LIMIT 10000
                    """
            ).sorted()
            if !durations.isEmpty {
                stats.medianTimeToVerdictSeconds = durations[durations.count / 2]
                stats.p90TimeToVerdictSeconds = durations[min(durations.count - 1, durations.count * 9 / 10)]
            }
            if let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) AS n, SUM(verdict = 'fraud') AS fraud FROM cases
                    WHERE status = 'closed' AND source IN ('model', 'rule') AND verdict IS NOT NULL
                    """)
            {
                stats.reviewedCases = row["n"]
                stats.confirmedFraud = row["fraud"] ?? 0
            }
            if let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) AS n, SUM(e.label = 'fraud') AS fraud
                    FROM cases c JOIN (\(LabelStore.effectiveLabelsSQL)) e USING (transaction_id)
                    WHERE c.source = 'sample'
                    """)
            {
                stats.sampleLabelled = row["n"]
                stats.sampleFraud = row["fraud"] ?? 0
            }
            guard let maturityDays else { return stats }
            stats.maturityDays = maturityDays
            let cutoff = nowMicros - Int64(maturityDays) * 86_400_000_000
            if let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) AS n,
                        SUM(EXISTS (SELECT 1 FROM labels l WHERE l.transaction_id = t.transaction_id)) AS labelled
                    FROM transactions t WHERE t.occurred_at < ?
                    """,
                arguments: [cutoff])
            {
                stats.matureTransactions = row["n"]
                stats.matureLabelled = row["labelled"] ?? 0
            }
            return stats
        }
    }
}
