/// Exact sliding-window history per entity (card, customer, merchant, device, e-mail, IP address).
///
/// Each entity keeps its payments sorted by `occurred_at` (time, amount, a hash of the transaction id and a hash
/// of each field counted by a `distinct` feature) and its confirmed-fraud labels sorted by `labeled_at`. A
/// feature is computed at the payment's own `occurred_at` over `[t − window, t]` by binary search for the window's
/// start, then a pass over the events inside it, so windows are true sliding windows, not hopping buckets.
/// Payments that arrive out of order are inserted at their place; ones older than `lateness` behind the
/// entity's newest payment are refused (`.tooLate`). A transaction id is counted once per entity.
///
/// Memory is bounded: events older than the entity's longest window plus the lateness are dropped, and at most
/// `maxEventsPerEntity` payments (and as many labels) are kept per entity, the oldest dropped first; beyond that
/// cap a window's figures are a lower bound (documented in docs/velocity.md). An entity that goes quiet (a card
/// used once, then replaced) is let go as a whole: `record` looks for quiet entities after as many payments as
/// there are entities (at least 4,096) and lets go of two of them with each payment after that, so memory
/// follows the entities active within the retention, not every entity ever seen.
///
/// Not thread-safe: the service shards entities over several ledgers, each behind its own lock.
public struct VelocityLedger: Sendable {
    public enum RecordResult: Sendable, Equatable {
        case added, duplicate, tooLate
    }

    /// One counted payment (24 bytes).
    struct Event: Sendable {
        var time: Int64
        var amount: Double
        var id: UInt64
    }

    /// One confirmed-fraud label (16 bytes).
    struct Label: Sendable {
        var time: Int64
        var id: UInt64
    }

    struct History: Sendable {
        /// Sorted by time; among equal times, in the order they were counted.
        var events: [Event] = []
        /// Hashes of the entity's distinct-counted fields, `stride` per event, parallel to `events`.
        var keys: [UInt64] = []
        /// Sorted by `labeled_at`.
        var labels: [Label] = []
    }

    public let specs: [VelocitySpec]
    public let latenessMicros: Int64
    public let maxEventsPerEntity: Int
    /// For each entity kind, the fields its `distinct` features count, in slot order.
    let distinctFields: [VelocitySpec.Entity: [VelocitySpec.KeyField]]
    /// For each entity kind, the longest window any spec reads (retention).
    let retention: [VelocitySpec.Entity: Int64]
    var histories: [VelocitySpec.Entity: [String: History]] = [:]
    /// The `occurred_at` of the last payments counted, oldest overwritten first: their median is "now" for
    /// `findQuiet()`, so one payment dated far in the future cannot make every entity look quiet.
    var recentTimes: [Int64] = []
    var recentCursor = 0
    var recordsSinceSweep = 0
    /// Payments between searches: the entities held after the last one (at least 4,096), so a search costs O(1) a
    /// payment.
    var sweepInterval = VelocityLedger.minimumSweepInterval
    /// Entities found quiet, to be let go (`letGoQuiet`), and the horizon each kind was judged against.
    var quiet: [(entity: VelocitySpec.Entity, key: String)] = []
    var quietHorizons: [VelocitySpec.Entity: Int64] = [:]

    public init(specs: [VelocitySpec], latenessMicros: Int64, maxEventsPerEntity: Int = 4096) {
        self.specs = specs
        self.latenessMicros = latenessMicros
        self.maxEventsPerEntity = maxEventsPerEntity
        var fields: [VelocitySpec.Entity: [VelocitySpec.KeyField]] = [:]
        var retention: [VelocitySpec.Entity: Int64] = [:]
        for spec in specs {
            if case .distinct(let field) = spec.aggregate, !(fields[spec.entity] ?? []).contains(field) {
                fields[spec.entity, default: []].append(field)
            }
            retention[spec.entity] = max(retention[spec.entity] ?? 0, spec.windowMicros)
        }
        distinctFields = fields
        self.retention = retention
    }

    /// The entities this ledger keeps history for.
    public var entities: [VelocitySpec.Entity] { Array(retention.keys).sorted { $0.rawValue < $1.rawValue } }

    /// How many entities of each kind have history.
    public var entityCounts: [VelocitySpec.Entity: Int] { histories.mapValues(\.count) }

    /// Every spec's value for this payment, in `specs` order, excluding the payment itself; NaN when the payment
    /// has no key for the entity or the value is undefined (an average of nothing).
    public func features(for transaction: Transaction) -> [Double] {
        specs.map { value(of: $0, for: transaction) }
    }

    public func value(of spec: VelocitySpec, for transaction: Transaction) -> Double {
        guard let key = spec.entity.key(of: transaction) else { return .nan }
        guard let history = histories[spec.entity]?[key] else { return Self.empty(spec) }
        let now = transaction.occurredAtMicros
        let selfID = Self.hash(transaction.transactionID)
        let end = Self.upperBound(history.events, now)
        // The payment itself can only be among the events at its own time (a retry of a counted payment).
        var selfIndex: Int?
        var probe = end - 1
        while probe >= 0, history.events[probe].time == now {
            if history.events[probe].id == selfID {
                selfIndex = probe
                break
            }
            probe -= 1
        }
        switch spec.aggregate {
        case .firstSeenSeconds, .lastSeenSeconds:
            var first = 0
            var last = end - 1
            if first == selfIndex { first += 1 }
            if last == selfIndex { last -= 1 }
            guard first < end, last >= 0 else { return .nan }
            let seen = spec.aggregate == .firstSeenSeconds ? history.events[first].time : history.events[last].time
            return Double(now - seen) / 1e6
        case .fraudCount, .fraudRate:
            let fraudStart = Self.lowerBound(history.labels, now - spec.windowMicros)
            let fraudEnd = Self.upperBound(history.labels, now)
            var frauds = 0
            for index in fraudStart..<max(fraudStart, fraudEnd) where history.labels[index].id != selfID { frauds += 1 }
            if spec.aggregate == .fraudCount { return Double(frauds) }
            let start = Self.lowerBound(history.events, now - spec.windowMicros)
            let payments = max(0, end - start) - (selfIndex.map { $0 >= start ? 1 : 0 } ?? 0)
            return payments == 0 ? .nan : Double(frauds) / Double(payments)
        default:
            break
        }
        let start = Self.lowerBound(history.events, now - spec.windowMicros)
        if spec.aggregate == .count {
            return Double(max(0, end - start) - (selfIndex.map { $0 >= start ? 1 : 0 } ?? 0))
        }
        var count = 0
        var sum = 0.0
        var maximum = -Double.infinity
        var distinct: Set<UInt64> = []
        let fields = distinctFields[spec.entity] ?? []
        let stride = fields.count
        let slot: Int? = if case .distinct(let field) = spec.aggregate { fields.firstIndex(of: field) } else { nil }
        for index in start..<max(start, end) where index != selfIndex {
            count += 1
            let amount = history.events[index].amount
            sum += amount
            maximum = max(maximum, amount)
            if let slot {
                let key = history.keys[index * stride + slot]
                if key != 0 { distinct.insert(key) }
            }
        }
        switch spec.aggregate {
        case .count: return Double(count)
        case .sumAmount: return sum
        case .avgAmount: return count == 0 ? .nan : sum / Double(count)
        case .maxAmount: return count == 0 ? .nan : maximum
        case .distinct: return Double(distinct.count)
        case .amountToAverage:
            guard count > 0, sum > 0 else { return .nan }
            return transaction.amount / (sum / Double(count))
        default: return .nan
        }
    }

    static func empty(_ spec: VelocitySpec) -> Double {
        switch spec.aggregate {
        case .count, .sumAmount, .distinct, .fraudCount: 0
        default: .nan
        }
    }

    /// Counts the payment in every entity it names.
    @discardableResult
    public mutating func record(_ transaction: Transaction) -> RecordResult {
        let id = Self.hash(transaction.transactionID)
        let time = transaction.occurredAtMicros
        var result = RecordResult.tooLate
        var sawAny = false
        for (entity, keep) in retention {
            guard let key = entity.key(of: transaction) else { continue }
            sawAny = true
            var history = histories[entity]?[key] ?? History()
            if let newest = history.events.last?.time, time < newest - latenessMicros { continue }
            // A retry carries the same occurred_at: only events at that time can be the same payment.
            let position = Self.upperBound(history.events, time)
            var probe = position - 1
            var seen = false
            while probe >= 0, history.events[probe].time == time {
                if history.events[probe].id == id {
                    seen = true
                    break
                }
                probe -= 1
            }
            if seen {
                if result == .tooLate { result = .duplicate }
                continue
            }
            let fields = distinctFields[entity] ?? []
            history.events.insert(Event(time: time, amount: transaction.amount, id: id), at: position)
            if !fields.isEmpty {
                history.keys.insert(
                    contentsOf: fields.map { $0.value(of: transaction).map(Self.hash) ?? 0 },
                    at: position * fields.count)
            }
            prune(&history, keep: keep, stride: fields.count)
            histories[entity, default: [:]][key] = history
            result = .added
        }
        if result == .added {
            if recentTimes.count < Self.recentTimesKept {
                recentTimes.append(time)
            } else {
                recentTimes[recentCursor] = time
            }
            recentCursor = (recentCursor + 1) % Self.recentTimesKept
        }
        recordsSinceSweep += 1
        if recordsSinceSweep >= sweepInterval { findQuiet() }
        if !quiet.isEmpty { letGoQuiet(limit: Self.lettingGoPerPayment) }
        return sawAny ? result : .added
    }

    static let recentTimesKept = 15
    static let minimumSweepInterval = 4096

    /// How many entities of all kinds have history.
    public var entityCount: Int { histories.values.reduce(0) { $0 + $1.count } }

    /// Entities a payment lets go of while some found quiet are waiting: with at most as many found as there
    /// are entities, and a search once per that many payments, two a payment empty the list before the next.
    static let lettingGoPerPayment = 2

    /// Finds every entity whose newest payment and newest fraud label are older than its retention (its longest
    /// window plus the lateness) before "now", the median `occurred_at` of the last payments counted, and queues
    /// it to be let go, a few per payment (`letGoQuiet`), so no payment waits for thousands of deallocations. A
    /// payment up to the lateness behind now reads windows that start after that point, so no figure it gets
    /// changes; only a payment later than that (which would be refused for a busy entity anyway) may find no
    /// history. Entity kinds whose only features are first/last seen keep everything (their retention has no
    /// bound). Returns how many entities were found.
    @discardableResult
    public mutating func findQuiet() -> Int {
        recordsSinceSweep = 0
        sweepInterval = max(Self.minimumSweepInterval, entityCount)
        quiet = []
        guard !recentTimes.isEmpty else { return 0 }
        let now = recentTimes.sorted()[recentTimes.count / 2]
        for (entity, keep) in retention where keep > 0 {
            let horizon = now - keep - latenessMicros
            quietHorizons[entity] = horizon
            let found =
                histories[entity]?.compactMap { key, history in Self.newest(history) < horizon ? key : nil } ?? []
            quiet += found.lazy.map { (entity, $0) }
        }
        return quiet.count
    }

    /// Lets go of up to `limit` of the entities `findQuiet` found, each still quiet (a payment since may have
    /// woken it). Returns how many were let go.
    @discardableResult
    public mutating func letGoQuiet(limit: Int = .max) -> Int {
        var removed = 0
        var looked = 0
        while looked < limit, let (entity, key) = quiet.popLast() {
            looked += 1
            guard let history = histories[entity]?[key], let horizon = quietHorizons[entity],
                Self.newest(history) < horizon
            else { continue }
            histories[entity]?.removeValue(forKey: key)
            removed += 1
        }
        return removed
    }

    /// Finds the quiet entities and lets go of all of them at once.
    @discardableResult
    public mutating func sweepQuiet() -> Int {
        findQuiet()
        return letGoQuiet()
    }

    static func newest(_ history: History) -> Int64 {
        max(history.events.last?.time ?? .min, history.labels.last?.time ?? .min)
    }

    /// Takes a payment back out (its decision was not stored after all).
    public mutating func remove(_ transaction: Transaction) {
        let id = Self.hash(transaction.transactionID)
        for entity in retention.keys {
            guard let key = entity.key(of: transaction), var history = histories[entity]?[key],
                let position = history.events.firstIndex(where: { $0.id == id })
            else { continue }
            let stride = (distinctFields[entity] ?? []).count
            history.events.remove(at: position)
            history.keys.removeSubrange(position * stride..<(position + 1) * stride)
            if history.events.isEmpty && history.labels.isEmpty {
                histories[entity]?[key] = nil
            } else {
                histories[entity]?[key] = history
            }
        }
    }

    /// Counts a confirmed-fraud label of `transaction`, at `labeledAtMicros`, in every entity the payment names
    /// (once per transaction and entity).
    public mutating func recordFraud(_ transaction: Transaction, labeledAtMicros: Int64) {
        let id = Self.hash(transaction.transactionID)
        for (entity, keep) in retention {
            guard let key = entity.key(of: transaction) else { continue }
            var history = histories[entity]?[key] ?? History()
            guard !history.labels.contains(where: { $0.id == id }) else { continue }
            let position = Self.upperBound(history.labels, labeledAtMicros)
            history.labels.insert(Label(time: labeledAtMicros, id: id), at: position)
            prune(&history, keep: keep, stride: (distinctFields[entity] ?? []).count)
            histories[entity, default: [:]][key] = history
        }
    }

    private func prune(_ history: inout History, keep: Int64, stride: Int) {
        let newest = max(history.events.last?.time ?? .min, history.labels.last?.time ?? .min)
        let horizon = keep == 0 ? Int64.min : newest - keep - latenessMicros
        var drop = keep == 0 ? 0 : Self.lowerBound(history.events, horizon)
        drop = max(drop, history.events.count - maxEventsPerEntity)
        if drop > 0 {
            history.events.removeFirst(drop)
            history.keys.removeFirst(drop * stride)
        }
        var dropLabels = keep == 0 ? 0 : Self.lowerBound(history.labels, horizon)
        dropLabels = max(dropLabels, history.labels.count - maxEventsPerEntity)
        if dropLabels > 0 { history.labels.removeFirst(dropLabels) }
    }

    /// FNV-1a, 64 bits; 0 is reserved for "no value".
    static func hash(_ text: String) -> UInt64 {
        var value: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01B3
        }
        return value == 0 ? 1 : value
    }

    /// First index whose time is ≥ `time`.
    static func lowerBound<T: Timed>(_ items: [T], _ time: Int64) -> Int {
        var low = 0
        var high = items.count
        while low < high {
            let middle = (low + high) / 2
            if items[middle].time < time { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// First index whose time is > `time`.
    static func upperBound<T: Timed>(_ items: [T], _ time: Int64) -> Int {
        var low = 0
        var high = items.count
        while low < high {
            let middle = (low + high) / 2
            if items[middle].time <= time { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

protocol Timed {
    var time: Int64 { get }
}

extension VelocityLedger.Event: Timed {}
extension VelocityLedger.Label: Timed {}
