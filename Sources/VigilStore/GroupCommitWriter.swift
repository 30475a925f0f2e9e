import Foundation
import GRDB
import Synchronization

/// Writes scored payments in shared transactions: every request waits for the one commit that holds it.
///
/// While a commit runs, new records queue; when it ends, the next commit takes all of them. A short
/// window (`minimumInterval` between commit starts, 250 µs by default in the service) lets batches grow
/// under load; an idle writer commits a lone record at once. A caller resumes only after its record's
/// transaction has committed, so a 2xx answer means the decision is on disk.
public final class GroupCommitWriter: Sendable {
    private struct Pending {
        let record: ScoreRecord
        let continuation: UnsafeContinuation<RecordOutcome, any Error>
    }

    private struct State {
        var pending: [Pending] = []
        var flushScheduled = false
        var closed = false
        var lastCommitFailed = false
    }

    /// Observes each commit: how many records it held and how long it took, in seconds.
    public typealias CommitObserver = @Sendable (_ batchSize: Int, _ seconds: Double, _ succeeded: Bool) -> Void

    private let database: VigilDatabase
    private let state = Mutex(State())
    private let observer: CommitObserver?
    /// Upper bound of records in one transaction, so one commit never holds the writer for long.
    private let maxBatch: Int

    /// Shortest time between the starts of two commits while fewer than `maxBatch` records wait.
    private let minimumInterval: Duration

    public init(
        database: VigilDatabase, maxBatch: Int = 512, minimumInterval: Duration = .zero,
        observer: CommitObserver? = nil
    ) {
        self.database = database
        self.observer = observer
        self.maxBatch = maxBatch
        self.minimumInterval = minimumInterval
    }

    /// Commits the record (or finds the one already stored under its transaction id).
    public func submit(_ record: ScoreRecord) async throws -> RecordOutcome {
        // Unsafe (unchecked) continuations: each pending record is resumed exactly once, by the commit
        // that holds it or by the refusal below, which saves the checked wrapper's allocation per request.
        try await withUnsafeThrowingContinuation { continuation in
            let schedule = state.withLock { state -> Bool? in
                guard !state.closed else { return nil }
                state.pending.append(Pending(record: record, continuation: continuation))
                guard !state.flushScheduled else { return false }
                state.flushScheduled = true
                return true
            }
            switch schedule {
            case nil: continuation.resume(throwing: StoreError.closed)
            case true?: scheduleFlush()
            case false?: break
            }
        }
    }

    /// False after a failed commit until one succeeds again; `/readyz` reports it.
    public var isHealthy: Bool { state.withLock { !$0.lastCommitFailed } }

    /// Commits a write of one row, in turn with the batches; success makes the writer healthy again, so a
    /// service whose disk filled up turns ready by itself once space returns, even with no traffic.
    public func probe() async -> Bool {
        do {
            try await database.pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO write_probe (id, probed_at) VALUES (1, ?)
                        ON CONFLICT(id) DO UPDATE SET probed_at = excluded.probed_at
                        """, arguments: [Int64(Date().timeIntervalSince1970 * 1_000_000)])
            }
        } catch {
            return false
        }
        state.withLock { $0.lastCommitFailed = false }
        return true
    }

    /// Takes no more records and returns once every accepted one is committed or failed.
    public func close() async {
        state.withLock { $0.closed = true }
        // The writer queue is serial: this runs after every scheduled flush.
        _ = try? await database.pool.writeWithoutTransaction { _ in }
    }

    private func scheduleFlush() {
        database.pool.asyncWriteWithoutTransaction { [self] db in
            var lastStart: ContinuousClock.Instant?
            while true {
                if let lastStart { waitForBatch(since: lastStart) }
                guard let batch = takeBatch() else { return }
                lastStart = .now
                commit(batch, in: db)
            }
        }
    }

    /// Lets a batch grow until `minimumInterval` has passed since the last commit began, unless it is full.
    private func waitForBatch(since start: ContinuousClock.Instant) {
        let remaining = minimumInterval - (ContinuousClock.now - start)
        guard remaining > .zero, state.withLock({ $0.pending.count < maxBatch }) else { return }
        let (seconds, attoseconds) = remaining.components
        Thread.sleep(forTimeInterval: Double(seconds) + Double(attoseconds) / 1e18)
    }

    private func takeBatch() -> [Pending]? {
        state.withLock { state in
            guard !state.pending.isEmpty else {
                state.flushScheduled = false
                return nil
            }
            let count = min(state.pending.count, maxBatch)
            let batch = Array(state.pending.prefix(count))
            state.pending.removeFirst(count)
            return batch
        }
    }

    private func commit(_ batch: [Pending], in db: Database) {
        let started = ContinuousClock.now
        var outcomes: [RecordOutcome] = []
        outcomes.reserveCapacity(batch.count)
        do {
            try db.inTransaction {
                outcomes.removeAll(keepingCapacity: true)
                let statements = try Statements(db)
                for pending in batch {
                    outcomes.append(try Self.insert(pending.record, statements, db: db))
                }
                return .commit
            }
        } catch {
            let failure = StoreError.writeFailed(Self.describe(error))
            state.withLock { $0.lastCommitFailed = true }
            observer?(batch.count, Self.seconds(since: started), false)
            for pending in batch { pending.continuation.resume(throwing: failure) }
            return
        }
        state.withLock { $0.lastCommitFailed = false }
        observer?(batch.count, Self.seconds(since: started), true)
        for (pending, outcome) in zip(batch, outcomes) { pending.continuation.resume(returning: outcome) }
    }

    /// The writer's prepared statements, looked up once per commit rather than once per record.
    private struct Statements {
        let insertTransaction: Statement
        let insertCase: Statement
        let selectExisting: Statement
        let insertHit: Statement

        init(_ db: Database) throws {
            insertTransaction = try db.cachedStatement(
                sql: """
                    INSERT INTO transactions (
                        transaction_id, occurred_at, amount, currency, body, features, score, risk_score, decision,
                        model_name, model_version, answer, case_id, scored_at, model_sha256,
                        challenger_name, challenger_version, challenger_score, challenger_decision, rules, margin)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(transaction_id) DO NOTHING
                    """)
            insertCase = try db.cachedStatement(
                sql: """
                    INSERT INTO cases (
                        case_id, transaction_id, status, reason, score, risk_score, amount, currency, created_at,
                        priority, source, rule_id)
                    VALUES (?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            insertHit = try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO rule_hits (transaction_id, rule_id, rule_version, mode, action, scored_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """)
            selectExisting = try db.cachedStatement(
                sql: "SELECT body, answer FROM transactions WHERE transaction_id = ?")
        }
    }

    private static func insert(_ record: ScoreRecord, _ statements: Statements, db: Database) throws -> RecordOutcome {
        try statements.insertTransaction.execute(arguments: [
            record.transactionID, record.occurredAtMicros, record.amount, record.currency, record.body,
            record.features, record.score, record.riskScore, record.decision, record.modelName,
            record.modelVersion, record.answer, record.openedCase?.caseID, record.scoredAtMicros, record.modelSHA256,
            record.challenger?.name, record.challenger?.version, record.challenger?.score,
            record.challenger?.decision, record.rulesJSON, record.margin,
        ])
        guard db.changesCount == 1 else {
            let existing = try Row.fetchOne(statements.selectExisting, arguments: [record.transactionID])
            guard let existing else { throw StoreError.writeFailed("conflicting row vanished") }
            return .existing(body: existing["body"], answer: existing["answer"])
        }
        if let openedCase = record.openedCase {
            try statements.insertCase.execute(arguments: [
                openedCase.caseID, record.transactionID, openedCase.reason, record.score, record.riskScore,
                record.amount, record.currency, record.scoredAtMicros, openedCase.priority, openedCase.source.rawValue,
                openedCase.ruleID,
            ])
        }
        for hit in record.ruleHits {
            try statements.insertHit.execute(arguments: [
                record.transactionID, hit.ruleID, hit.version, hit.mode, hit.action, record.scoredAtMicros,
            ])
        }
        return .inserted
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return "\(error.resultCode): \(error.message ?? "")" }
        return "\(error)"
    }
}
