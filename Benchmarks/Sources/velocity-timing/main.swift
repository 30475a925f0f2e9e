// History features at scale: 20 declared aggregates over 1,000,000 active cards (and their merchants, devices,
// e-mails and IP addresses), then the per-payment cost of computing a payment's 20 values and counting it, and the
// memory the history takes.
//
//   swift build -c release --package-path Benchmarks --product velocity-timing && Benchmarks/.build/release/velocity-timing
//
// CARDS (default 1,000,000) and EVENTS (payments per card, default 5) set the size.
import Foundation
import VigilCore

func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
        let pages = Int(text.split(separator: " ")[1])
    else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

let cards = Int(ProcessInfo.processInfo.environment["CARDS"] ?? "") ?? 1_000_000
let perCard = Int(ProcessInfo.processInfo.environment["EVENTS"] ?? "") ?? 5
let names = [
    "card_id_count_10m", "card_id_count_1h", "card_id_count_24h", "card_id_count_7d", "card_id_sum_amount_1h",
    "card_id_sum_amount_24h", "card_id_avg_amount_30d", "card_id_max_amount_24h", "amount_to_card_id_avg_amount_30d",
    "card_id_distinct_merchant_id_24h", "card_id_distinct_ip_country_7d", "card_id_first_seen_seconds",
    "card_id_last_seen_seconds", "merchant_id_count_1h", "merchant_id_fraud_rate_7d", "device_id_count_1h",
    "device_id_distinct_card_id_24h", "email_count_24h", "email_distinct_card_id_7d", "ip_address_count_1h",
]
let specs = names.map { VelocitySpec(name: $0)! }
var ledger = VelocityLedger(specs: specs, latenessMicros: 3_600_000_000, maxEventsPerEntity: 4096)
let countries = ["DE", "FR", "US", "GB", "NL", "ES", "IT", "PL", "BR", "JP"]
let start: Int64 = 1_795_000_000_000_000
let span: Int64 = 30 * 86_400_000_000

func payment(_ id: Int, card: Int, at time: Int64) -> Transaction {
    Transaction(
        transactionID: "tx_\(id)", occurredAt: "", occurredAtMicros: time, amount: Double(id % 50_000) / 100,
        currency: "EUR", cardID: "card_\(card)", merchantID: "m_\(id % 20_000)", deviceID: "d_\(card % 700_000)",
        email: "u\(card % 800_000)@example.com", ipAddress: "10.\(card % 250).\(id % 250).\(card % 200)",
        ipCountry: countries[id % countries.count])
}

let baseline = residentBytes()
let fillStart = ContinuousClock.now
var id = 0
for round in 0..<perCard {
    for card in 0..<cards {
        // Spread each card's payments over the 30 days, in time order per card.
        let time = start + span * Int64(round) / Int64(perCard) + Int64((card * 7919) % 3_600) * 1_000_000
        ledger.record(payment(id, card: card, at: time))
        id += 1
    }
}
let fillSeconds = ContinuousClock.now - fillStart
let used = residentBytes() - baseline
let counts = ledger.entityCounts

// Passes of 10,000 new payments on existing cards, after the 30 days, each pass a little later.
@MainActor func pass(_ number: Int) -> Double {
    let probes = (0..<10_000).map { index in
        payment(
            id + number * 10_000 + index, card: (index * 104_729 + number) % cards,
            at: start + span + Int64(number * 10_000 + index) * 1_000_000)
    }
    var checksum = 0.0
    let begin = ContinuousClock.now
    for probe in probes {
        let values = ledger.features(for: probe)
        checksum += values[1].isNaN ? 0 : values[1]
        ledger.record(probe)
    }
    let elapsed = ContinuousClock.now - begin
    precondition(checksum >= 0)
    return (Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9)
        / 10_000
}
let times = (0..<7).map { pass($0) }.sorted()
let events = cards * perCard
print("\(names.count) aggregates; \(cards) cards × \(perCard) payments = \(events) payments over 30 days")
print("entities: " + counts.map { "\($0.key.rawValue) \($0.value)" }.sorted().joined(separator: ", "))
print(
    String(
        format: "filled in %.1f s",
        Double(fillSeconds.components.seconds) + Double(fillSeconds.components.attoseconds) / 1e18))
print(
    String(
        format:
            "resident memory for the history: %.0f MiB (%.0f bytes per payment counted, %.0f bytes per card incl. its share of the other entities)",
        Double(used) / 1_048_576, Double(used) / Double(events), Double(used) / Double(cards)))
print(
    String(
        format:
            "20 features + counting the payment: %.2f µs per payment (median of 7 passes over 10,000; target ≤ 20 µs)",
        times[times.count / 2] / 1000))

// Letting quiet entities go: the search over every entity (the one pause, once per as many payments as there are
// entities, under the lock of the entity kind) and the cost of letting one go (two with each payment after it).
func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e3 + Double(duration.components.attoseconds) / 1e15
}
let entitiesBefore = ledger.entityCount
let findStart = ContinuousClock.now
let found = ledger.findQuiet()
let findTime = ContinuousClock.now - findStart
let letGoStart = ContinuousClock.now
let letGo = ledger.letGoQuiet()
let letGoTime = ContinuousClock.now - letGoStart
print(
    String(
        format: "quiet entities: the search over %d entities took %.1f ms; letting go of %d took %.2f µs each",
        entitiesBefore, milliseconds(findTime), letGo, letGo == 0 ? 0 : milliseconds(letGoTime) * 1e3 / Double(letGo)))
precondition(found >= letGo)
