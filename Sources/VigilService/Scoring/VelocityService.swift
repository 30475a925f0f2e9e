import GRDB
import Synchronization
import VigilCore
import VigilStore

/// The history features of the running service: one `VelocityLedger` per entity kind (card, merchant, …), each
/// behind its own lock, rebuilt from the store at start and kept current by every scored payment and fraud label.
///
/// For each entity, a payment's features are computed and the payment counted in one locked step (`reserve`), so
/// two concurrent payments on the same card see each other in the order they took the lock; if the decision
/// cannot be stored the payment is taken out again (`release`). A retried `transaction_id` is counted once.
public final class VelocityService: Sendable {
    public let specs: [VelocitySpec]
    public let latenessMicros: Int64
    public let maxEventsPerEntity: Int
    private let shards: [Shard]
    private let database: VigilDatabase
    /// Whether any declared feature counts fraud labels (only then do labels need the payment's entities).
    public let readsLabels: Bool

    public init(specs: [VelocitySpec], latenessMicros: Int64, maxEventsPerEntity: Int, database: VigilDatabase) {
        self.specs = specs
        self.latenessMicros = latenessMicros
        self.maxEventsPerEntity = maxEventsPerEntity
        self.database = database
        var shards: [Shard] = []
        var entities: [VelocitySpec.Entity] = []
        for spec in specs where !entities.contains(spec.entity) { entities.append(spec.entity) }
        for entity in entities {
            let indices = specs.indices.filter { specs[$0].entity == entity }
            shards.append(
                Shard(
                    indices: indices,
                    ledger: VelocityLedger(
                        specs: indices.map { specs[$0] }, latenessMicros: latenessMicros,
                        maxEventsPerEntity: maxEventsPerEntity)))
        }
        self.shards = shards
        readsLabels = specs.contains { $0.aggregate == .fraudCount || $0.aggregate == .fraudRate }
    }

    /// The ledger of one entity kind and where its features go in `specs`.
    private final class Shard: Sendable {
        let indices: [Int]
        let ledger: Mutex<VelocityLedger>

        init(indices: [Int], ledger: VelocityLedger) {
            self.indices = indices
            self.ledger = Mutex(ledger)
        }
    }

    public var isEnabled: Bool { !specs.isEmpty }

    /// The history values of this payment (in `specs` order) and whether it was newly counted.
    public func reserve(_ transaction: Transaction) -> (history: [Double], counted: Bool) {
        var history = [Double](repeating: .nan, count: specs.count)
        var counted = false
        for shard in shards {
            let values = shard.ledger.withLock { ledger in
                let values = ledger.features(for: transaction)
                if ledger.record(transaction) == .added { counted = true }
                return values
            }
            for (index, value) in zip(shard.indices, values) { history[index] = value }
        }
        return (history, counted)
    }

    /// Takes back a payment whose decision was not stored.
    public func release(_ transaction: Transaction) {
        for shard in shards { shard.ledger.withLock { $0.remove(transaction) } }
    }

    /// The history values without counting anything (what-if explanations).
    public func peek(_ transaction: Transaction) -> [Double] {
        var history = [Double](repeating: .nan, count: specs.count)
        for shard in shards {
            let values = shard.ledger.withLock { $0.features(for: transaction) }
            for (index, value) in zip(shard.indices, values) { history[index] = value }
        }
        return history
    }

    /// Entities with history, by kind.
    public var entityCounts: [VelocitySpec.Entity: Int] {
        var counts: [VelocitySpec.Entity: Int] = [:]
        for shard in shards {
            for (entity, count) in shard.ledger.withLock({ $0.entityCounts }) { counts[entity] = count }
        }
        return counts
    }

    private func each(_ body: (inout VelocityLedger) -> Void) {
        for shard in shards { shard.ledger.withLock { body(&$0) } }
    }

    /// Counts fraud labels (transaction id, `labeled_at`) in the entities of their payments.
    public func recordFraud(_ labels: [(transactionID: String, labeledAtMicros: Int64)]) async throws {
        guard readsLabels, !labels.isEmpty else { return }
        let bodies = try await database.pool.read { db -> [String: String] in
            var bodies: [String: String] = [:]
            for chunk in stride(from: 0, to: labels.count, by: 500) {
                let ids = labels[chunk..<min(labels.count, chunk + 500)].map(\.transactionID)
                let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
                for row in try Row.fetchAll(
                    db, sql: "SELECT transaction_id, body FROM transactions WHERE transaction_id IN (\(marks))",
                    arguments: StatementArguments(ids))
                {
                    bodies[row[0]] = row[1]
                }
            }
            return bodies
        }
        let decoded = labels.compactMap { label -> (Transaction, Int64)? in
            guard let body = bodies[label.transactionID],
                case .success(let transaction) = TransactionDecoder.decode(Array(body.utf8))
            else { return nil }
            return (transaction, label.labeledAtMicros)
        }
        each { ledger in
            for (transaction, labeledAt) in decoded { ledger.recordFraud(transaction, labeledAtMicros: labeledAt) }
        }
    }

    /// Replays the stored payments (in the order they were stored, as live traffic counted them) and the fraud
    /// labels, so features after a restart equal those before it. Returns the payments replayed.
    @discardableResult
    public func rebuild() async throws -> Int {
        guard isEnabled else { return 0 }
        var replayed: [Transaction] = []
        var counted = 0
        let scan = BacktestScan(database: database)
        _ = try await scan.scan(fromMicros: nil, toMicros: nil, maxRows: .max) { row in
            if case .success(let transaction) = TransactionDecoder.decode(row.body) {
                replayed.append(transaction)
                if replayed.count >= 10_000 {
                    let batch = replayed
                    replayed.removeAll(keepingCapacity: true)
                    each { ledger in for payment in batch { ledger.record(payment) } }
                }
                counted += 1
            }
            return true
        }
        let rest = replayed
        each { ledger in for payment in rest { ledger.record(payment) } }
        if readsLabels {
            let labels = try await database.pool.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT transaction_id, labeled_at FROM labels WHERE label = 'fraud' ORDER BY id"
                ).map { (transactionID: $0[0] as String, labeledAtMicros: $0[1] as Int64) }
            }
            try await recordFraud(labels)
        }
        return counted
    }
}
