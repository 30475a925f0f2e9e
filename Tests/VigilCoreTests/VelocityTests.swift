import Testing

@testable import VigilCore

@Suite("Velocity: exact sliding windows per entity against brute force")
struct VelocityTests {
    @Test("names parse into entity, aggregate and window; others are refused")
    func names() throws {
        let count = try #require(VelocitySpec(name: "card_id_count_1h"))
        #expect(count.entity == .cardID)
        #expect(count.aggregate == .count)
        #expect(count.windowMicros == 3_600_000_000)
        #expect(VelocitySpec(name: "merchant_id_fraud_rate_7d")?.aggregate == .fraudRate)
        #expect(VelocitySpec(name: "email_distinct_device_id_24h")?.aggregate == .distinct(.deviceID))
        #expect(VelocitySpec(name: "amount_to_card_id_avg_amount_30d")?.aggregate == .amountToAverage)
        #expect(VelocitySpec(name: "device_id_first_seen_seconds")?.windowMicros == 0)
        #expect(VelocitySpec(name: "ip_address_sum_amount_10m")?.windowMicros == 600_000_000)
        let terminal = try #require(VelocitySpec(name: "attributes.terminal_id.count_1h"))
        #expect(terminal.entity == .attribute("terminal_id"))
        #expect(terminal.entity.rawValue == "attributes.terminal_id")
        #expect(VelocitySpec(name: "amount_to_attributes.shop.avg_amount_7d")?.aggregate == .amountToAverage)
        #expect(FeatureKind(name: "attributes.terminal_id.count_1h") == .velocity(terminal))
        #expect(FeatureKind(name: "attributes.terminal_id") == .attribute("terminal_id"))
        for bad in [
            "attributes.count_1h", "attributes..count_1h", "attributes.a-b.count_1h", "attributes.x.median_1h",
            "card_id_count", "card_id_count_0h", "card_id_count_1y", "card_count_1h", "card_id_median_amount_1h",
            "amount_to_card_id_count_1h", "card_id_distinct_colour_1h", "card_id_count_500d", "amount",
        ] {
            #expect(VelocitySpec(name: bad) == nil, "\(bad)")
        }
    }

    struct Event {
        var id: String
        var time: Int64
        var amount: Double
        var merchant: String?
        var device: String?
        var card: String?
    }

    /// Every feature recomputed from the accepted events of each entity, in the ledger's order.
    static func bruteForce(
        _ spec: VelocitySpec, _ transaction: Transaction, events: [String: [Event]], frauds: [String: [(String, Int64)]]
    ) -> Double {
        guard let key = spec.entity.key(of: transaction) else { return .nan }
        let now = transaction.occurredAtMicros
        let all = (events["\(spec.entity.rawValue):\(key)"] ?? []).enumerated()
            .sorted { $0.element.time != $1.element.time ? $0.element.time < $1.element.time : $0.offset < $1.offset }
            .map(\.element).filter { $0.id != transaction.transactionID && $0.time <= now }
        let inWindow = all.filter { $0.time >= now - spec.windowMicros }
        switch spec.aggregate {
        case .count: return Double(inWindow.count)
        case .sumAmount: return inWindow.reduce(0) { $0 + $1.amount }
        case .avgAmount: return inWindow.isEmpty ? .nan : inWindow.reduce(0) { $0 + $1.amount } / Double(inWindow.count)
        case .maxAmount: return inWindow.map(\.amount).max() ?? .nan
        case .distinct(let field):
            return Double(
                Set(
                    inWindow.compactMap {
                        switch field {
                        case .merchantID: $0.merchant
                        case .cardID: $0.card
                        default: $0.device
                        }
                    }
                ).count)
        case .amountToAverage:
            let sum = inWindow.reduce(0) { $0 + $1.amount }
            return inWindow.isEmpty || sum <= 0 ? .nan : transaction.amount / (sum / Double(inWindow.count))
        case .firstSeenSeconds: return all.first.map { Double(now - $0.time) / 1e6 } ?? .nan
        case .lastSeenSeconds: return all.last.map { Double(now - $0.time) / 1e6 } ?? .nan
        case .fraudCount, .fraudRate:
            let labelled = (frauds["\(spec.entity.rawValue):\(key)"] ?? []).filter {
                $0.0 != transaction.transactionID && $0.1 >= now - spec.windowMicros && $0.1 <= now
            }
            if spec.aggregate == .fraudCount { return Double(labelled.count) }
            return inWindow.isEmpty ? .nan : Double(labelled.count) / Double(inWindow.count)
        }
    }

    static let names = [
        "card_id_count_1h", "card_id_count_24h", "card_id_sum_amount_24h", "card_id_avg_amount_30d",
        "card_id_max_amount_24h", "card_id_distinct_merchant_id_24h", "amount_to_card_id_avg_amount_30d",
        "card_id_first_seen_seconds", "card_id_last_seen_seconds", "merchant_id_count_10m",
        "merchant_id_fraud_count_7d", "merchant_id_fraud_rate_7d", "device_id_distinct_card_id_24h",
        "device_id_count_1h",
    ]

    @Test(
        "random streams with late, out-of-order and retried payments and fraud labels match brute force",
        arguments: [1, 2, 3, 4, 5] as [UInt64])
    func randomStreams(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let specs = Self.names.map { VelocitySpec(name: $0)! }
        let lateness: Int64 = 2 * 3_600_000_000
        var ledger = VelocityLedger(specs: specs, latenessMicros: lateness, maxEventsPerEntity: 100_000)
        var events: [String: [Event]] = [:]
        var newest: [String: Int64] = [:]
        var frauds: [String: [(String, Int64)]] = [:]
        var clock: Int64 = 1_700_000_000_000_000
        var sent: [Transaction] = []
        var checked = 0
        for index in 0..<1_500 {
            clock += Int64(random.next() % 600_000_000)  // up to 10 minutes apart
            // Some payments arrive late (up to 3 hours: some within the lateness, some beyond it).
            let late = random.next() % 5 == 0 ? Int64(random.next() % (3 * 3_600_000_000)) : 0
            var transaction: Transaction
            if !sent.isEmpty, random.next() % 20 == 0 {
                transaction = sent[Int(random.next() % UInt64(sent.count))]  // a retry of the same payment
            } else {
                transaction = Transaction(
                    transactionID: "t\(index)", occurredAt: "", occurredAtMicros: clock - late,
                    amount: Double(random.next() % 50_000) / 100, currency: "EUR",
                    cardID: random.next() % 10 == 0 ? nil : "c\(random.next() % 8)",
                    merchantID: "m\(random.next() % 4)", deviceID: "d\(random.next() % 6)")
                sent.append(transaction)
            }
            // Features of a payment later than the lateness may miss pruned events: only on-time ones are compared.
            var onTime: [VelocitySpec.Entity: Bool] = [:]
            for entity in [VelocitySpec.Entity.cardID, .merchantID, .deviceID] {
                guard let key = entity.key(of: transaction) else { continue }
                let last = newest["\(entity.rawValue):\(key)"] ?? .min
                onTime[entity] = last == .min || transaction.occurredAtMicros >= last - lateness
            }
            let got = ledger.features(for: transaction)
            for (spec, value) in zip(specs, got) where onTime[spec.entity] != false {
                let expected = Self.bruteForce(spec, transaction, events: events, frauds: frauds)
                #expect(
                    value == expected || (value.isNaN && expected.isNaN),
                    "seed \(seed) payment \(index) \(spec.name): \(value) != \(expected)")
                checked += 1
            }
            let result = ledger.record(transaction)
            var added = false
            var duplicate = false
            for entity in [VelocitySpec.Entity.cardID, .merchantID, .deviceID] {
                guard let key = entity.key(of: transaction) else { continue }
                let slot = "\(entity.rawValue):\(key)"
                if let last = newest[slot], transaction.occurredAtMicros < last - lateness { continue }
                if events[slot, default: []].contains(where: { $0.id == transaction.transactionID }) {
                    duplicate = true
                    continue
                }
                events[slot, default: []].append(
                    Event(
                        id: transaction.transactionID, time: transaction.occurredAtMicros, amount: transaction.amount,
                        merchant: transaction.merchantID, device: transaction.deviceID, card: transaction.cardID))
                newest[slot] = max(newest[slot] ?? .min, transaction.occurredAtMicros)
                added = true
            }
            #expect(result == (added ? .added : duplicate ? .duplicate : .tooLate), "seed \(seed) payment \(index)")
            if random.next() % 10 == 0, let target = sent.randomElement(using: &random) {
                let labeledAt = clock - Int64(random.next() % 3_600_000_000)
                ledger.recordFraud(target, labeledAtMicros: labeledAt)
                for entity in [VelocitySpec.Entity.cardID, .merchantID, .deviceID] {
                    guard let key = entity.key(of: target) else { continue }
                    let slot = "\(entity.rawValue):\(key)"
                    if !(frauds[slot] ?? []).contains(where: { $0.0 == target.transactionID }) {
                        frauds[slot, default: []].append((target.transactionID, labeledAt))
                    }
                }
            }
        }
        #expect(checked > 1_000 * specs.count)
    }

    @Test("an attribute can be the entity: string values and numbers are keys, others are not")
    func attributeEntity() throws {
        let spec = try #require(VelocitySpec(name: "attributes.terminal_id.count_1h"))
        var ledger = VelocityLedger(specs: [spec], latenessMicros: 0)
        func payment(_ id: String, _ value: AttributeValue?) -> Transaction {
            Transaction(
                transactionID: id, occurredAt: "", occurredAtMicros: 1_000, amount: 1, currency: "EUR",
                attributes: value.map { [Attribute(name: "terminal_id", value: $0)] } ?? [])
        }
        ledger.record(payment("a", .string("T1")))
        ledger.record(payment("b", .string("T1")))
        ledger.record(payment("c", .number(7)))
        #expect(ledger.features(for: payment("x", .string("T1"))) == [2])
        #expect(ledger.features(for: payment("y", .number(7))) == [1])
        #expect(ledger.features(for: payment("z", .bool(true)))[0].isNaN)
        #expect(ledger.features(for: payment("w", nil))[0].isNaN)
    }

    @Test("a payment taken back out leaves the history as it was; old events are pruned and capped")
    func removeAndBounds() throws {
        let specs = [VelocitySpec(name: "card_id_count_1h")!, VelocitySpec(name: "card_id_sum_amount_1h")!]
        var ledger = VelocityLedger(specs: specs, latenessMicros: 0, maxEventsPerEntity: 3)
        func payment(_ id: String, minute: Int64, amount: Double = 10) -> Transaction {
            Transaction(
                transactionID: id, occurredAt: "", occurredAtMicros: minute * 60_000_000, amount: amount,
                currency: "EUR", cardID: "c")
        }
        #expect(ledger.record(payment("a", minute: 0)) == .added)
        #expect(ledger.record(payment("a", minute: 0)) == .duplicate)
        #expect(ledger.record(payment("b", minute: 10)) == .added)
        #expect(ledger.features(for: payment("x", minute: 20)) == [2, 20])
        ledger.remove(payment("b", minute: 10))
        #expect(ledger.features(for: payment("x", minute: 20)) == [1, 10])
        #expect(ledger.record(payment("late", minute: -5)) == .tooLate)
        for minute in 30..<40 { ledger.record(payment("p\(minute)", minute: Int64(minute))) }
        #expect(ledger.histories[.cardID]?["c"]?.events.count == 3)
        #expect(ledger.features(for: payment("y", minute: 40)) == [3, 30])
        // After an hour and a bit with no payments, the window is empty and the old events are gone on the next one.
        #expect(ledger.record(payment("z", minute: 200)) == .added)
        #expect(ledger.histories[.cardID]?["c"]?.events.map(\.time) == [200 * 60_000_000])
        #expect(ledger.features(for: payment("none", minute: 1, amount: 1)).map { $0 } == [0, 0])
        let keyless = ledger.features(
            for: Transaction(transactionID: "n", occurredAt: "", occurredAtMicros: 0, amount: 1, currency: "EUR"))
        #expect(keyless.count == 2 && keyless.allSatisfy { $0.isNaN })
    }

    @Test("cards that go quiet are let go; payments on time get the same figures; a far-future payment cannot empty it")
    func quietEntitiesAreLetGo() throws {
        let specs = ["card_id_count_24h", "card_id_sum_amount_24h", "card_id_first_seen_seconds"].map {
            VelocitySpec(name: $0)!
        }
        let hour: Int64 = 3_600_000_000
        var ledger = VelocityLedger(specs: specs, latenessMicros: hour, maxEventsPerEntity: 100_000)
        var random = SplitMix64(seed: 42)
        var events: [String: [Event]] = [:]
        var newest: [String: Int64] = [:]
        var clock: Int64 = 1_700_000_000_000_000
        var largest = 0
        var compared = 0
        var times: [Int64] = []
        // The ledger's "now" is the median time of the last 15 payments it counted; a card is kept while its
        // newest payment is within the retention (24 h) and the lateness of it.
        func expectedKept() -> Set<String> {
            let now = times.suffix(15).sorted()[7]
            return Set(newest.filter { $0.value >= now - 25 * hour }.keys)
        }
        for index in 0..<30_000 {
            clock += Int64(random.next() % 60_000_000)  // up to a minute apart: about 12 days in all
            // 100 card slots, each taking a new card every two days (staggered): about 600 cards in all.
            let slot = Int64(random.next() % 100)
            let card = "c\(slot)-\((clock + slot * 48 * hour / 100) / (48 * hour))"
            let transaction = Transaction(
                transactionID: "t\(index)", occurredAt: "", occurredAtMicros: clock,
                amount: Double(random.next() % 10_000) / 100, currency: "EUR", cardID: card)
            if index % 7 == 0 {
                let got = ledger.features(for: transaction)
                for (spec, value) in zip(specs, got) {
                    let expected = Self.bruteForce(spec, transaction, events: events, frauds: [:])
                    // First seen reads the retention (24 h + the lateness), as pruning already made it.
                    guard spec.aggregate != .firstSeenSeconds else {
                        #expect(value.isNaN == expected.isNaN, "payment \(index)")
                        continue
                    }
                    #expect(value == expected, "payment \(index) \(spec.name): \(value) != \(expected)")
                    compared += 1
                }
            }
            #expect(ledger.record(transaction) == .added)
            events["card_id:\(card)", default: []].append(
                Event(id: transaction.transactionID, time: clock, amount: transaction.amount, card: card))
            newest[card] = clock
            times.append(clock)
            largest = max(largest, ledger.entityCount)
        }
        #expect(compared > 8_000)
        #expect(newest.count > 550)
        // Active within a day and an hour: about 100 cards, and up to 4,096 payments' worth between sweeps.
        #expect(largest < 300, "at most \(largest) cards held")
        ledger.sweepQuiet()
        let kept = Set(ledger.histories[.cardID]?.keys.map { $0 } ?? [])
        #expect(kept == expectedKept())
        // One payment dated ten years ahead does not move "now": the next sweep keeps the active cards.
        let future = Transaction(
            transactionID: "future", occurredAt: "", occurredAtMicros: clock + 87_600 * hour, amount: 1,
            currency: "EUR", cardID: "time-traveller")
        ledger.record(future)
        times.append(future.occurredAtMicros)
        newest["time-traveller"] = future.occurredAtMicros
        ledger.sweepQuiet()
        let after = Set(ledger.histories[.cardID]?.keys.map { $0 } ?? [])
        #expect(after == expectedKept())
        #expect(after.count > 90 && after.contains("time-traveller"))
    }
}
