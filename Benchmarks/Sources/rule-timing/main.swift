// Per-payment cost of evaluating 200 active rules inside Vigil's scorer, against the same scorer with no rules, on
// the same 10,000 payments in the same process, alternating passes (so machine noise hits both alike).
//
//   swift build -c release --package-path Benchmarks --product rule-timing && Benchmarks/.build/release/rule-timing
//
// The rules mix what fraud teams write: thresholds on amounts and features, in-lists of countries and merchant
// categories, list membership against a list of 100,000 card ids, string functions over e-mails, attributes, and
// and/or combinations. Each payment is scored exactly as `POST /v1/score` scores it (features, model, rules,
// thresholds, forcing actions); the answer JSON and storage are not part of this figure.
import Foundation
import VigilCore

let featureNames = [
    "amount", "log_amount", "hour_of_day", "day_of_week", "is_weekend", "is_night", "card_merchant_country_mismatch",
    "ip_card_country_mismatch", "channel_pos", "channel_ecommerce", "channel_contactless", "channel_atm",
    "mcc_high_risk", "has_email", "has_device_id",
]
let extractor = try FeatureExtractor(
    names: featureNames, highRiskMerchantCategories: ["4829", "5967", "6051", "6211", "7995"])
let model = try LogisticModel(
    name: "default-logistic", version: "1", intercept: -4.6,
    features: [
        (name: "log_amount", weight: 0.85, mean: 3.6, scale: 1.3),
        (name: "card_merchant_country_mismatch", weight: 0.9, mean: 0.1, scale: 0.3),
        (name: "ip_card_country_mismatch", weight: 0.75, mean: 0.08, scale: 0.27),
        (name: "is_night", weight: 0.35, mean: 0.2, scale: 0.4),
        (name: "channel_ecommerce", weight: 0.4, mean: 0.4, scale: 0.49),
        (name: "channel_contactless", weight: -0.25, mean: 0.3, scale: 0.46),
        (name: "mcc_high_risk", weight: 0.5, mean: 0.05, scale: 0.22),
    ])
let scorer = try Scorer(
    extractor: extractor, model: model, policy: try DecisionPolicy(reviewAt: 40, declineAt: 80),
    reasonWriter: ReasonWriter(count: 3))

struct Seeded: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
var seeded = Seeded(state: 42)
let countries = ["DE", "FR", "US", "GB", "NL", "ES", "IT", "PL", "BR", "JP", "SE", "CH", "NG", "GH", "RU", "CN"]
let categories = ["5411", "5812", "5999", "4111", "5732", "5462", "7995", "4829", "5311", "6011", "6051", "5967"]
let channels: [Channel] = [.pos, .ecommerce, .contactless, .atm, .other]

let stolen = Set((0..<100_000).map { "card_\($0 * 7)" })
let lists = RuleLists(["stolen_cards": stolen, "bad_emails": Set((0..<5_000).map { "fraudster\($0)@mail.test" })])
let schema = RuleSchema(featureNames: featureNames, listNames: ["stolen_cards", "bad_emails"])

var sources: [String] = []
for index in 0..<200 {
    let country = countries[index % countries.count]
    let category = categories[index % categories.count]
    let amount = 500 + (index * 37) % 4_000
    switch index % 10 {
    case 0: sources.append("amount > \(amount) and merchant_country in ('\(country)', 'NG', 'GH')")
    case 1: sources.append("card_id in list(\"stolen_cards\")")
    case 2: sources.append("starts_with(lower(email), 'fraudster\(index)') or lower(email) in list('bad_emails')")
    case 3:
        sources.append(
            "merchant_category in ('\(category)', '7995', '4829') and channel = 'ecommerce' and is_night = 1")
    case 4: sources.append("attributes.account_age_days < 2 and amount > \(amount / 2)")
    case 5:
        sources.append(
            "card_merchant_country_mismatch = 1 and ip_card_country_mismatch = 1 and log_amount > \(6 + index % 3)")
    case 6: sources.append("ip_country is not null and ip_country != card_country and amount >= \(amount)")
    case 7: sources.append("ends_with(email, '.test\(index)') and not (channel = 'pos')")
    case 8:
        sources.append(
            "merchant_country = '\(country)' and card_country = '\(countries[(index + 3) % countries.count])' and amount > \(amount)"
        )
    default: sources.append("hour_of_day in (2, 3, 4) and amount * 2 > \(amount * 3) and mcc_high_risk = 1")
    }
}
let actions: [RuleAction] = [.review, .block, .score(0.8), .score(-0.3), .review]
var rules: [BookRule] = []
for (index, source) in sources.enumerated() {
    rules.append(
        BookRule(
            id: "rl_\(index)", name: "rule \(index)", version: 1, action: actions[index % actions.count],
            mode: index % 4 == 0 ? .shadow : .active, expiresAtMicros: nil,
            expression: try RuleExpression.compile(source, schema: schema)))
}
let book = RuleBook(rules: rules, lists: lists)

var payments: [Transaction] = []
for index in 0..<10_000 {
    let r = Int(seeded.next() % 1_000_000)
    let cardCountry = countries[r % countries.count]
    payments.append(
        Transaction(
            transactionID: "tx_\(index)", occurredAt: "2026-11-22T03:00:00Z",
            occurredAtMicros: 1_795_300_000_000_000 + Int64(r) * 1_000_000, amount: Double(r % 500_000) / 100,
            currency: "EUR", cardID: r % 100 == 0 ? "card_\(r % 700_000)" : "card_\(1_000_000 + r)",
            customerID: "c\(r % 3000)",
            merchantID: "m\(r % 500)", deviceID: "d\(r)",
            email: r % 200 == 0 ? "fraudster\(r % 6000)@mail.test" : "user\(r % 2000)@example.com",
            ipAddress: "10.0.\(r % 255).\(r % 199)", merchantCategory: categories[r % categories.count],
            merchantCountry: r % 5 == 0 ? countries[(r / 7) % countries.count] : cardCountry, cardCountry: cardCountry,
            ipCountry: r % 9 == 0 ? countries[(r / 11) % countries.count] : cardCountry,
            channel: channels[r % channels.count],
            attributes: [Attribute(name: "account_age_days", value: .number(Double(r % 400)))]))
}

@MainActor func pass(_ book: RuleBook) -> (nanosPerPayment: Double, matches: Int, decisions: [Decision: Int]) {
    var matches = 0
    var decisions: [Decision: Int] = [:]
    let start = ContinuousClock.now
    for payment in payments {
        let outcome = scorer.score(payment, rules: book, strength: 1, nowMicros: 0)
        matches += outcome.ruleMatches.count
        decisions[outcome.decision, default: 0] += 1
    }
    let elapsed = ContinuousClock.now - start
    let nanos = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
    return (nanos / Double(payments.count), matches, decisions)
}

/// The rules alone on precomputed features: what `RuleBook.matches` costs.
@MainActor func rulesOnly() -> Double {
    let features = payments.map { extractor.extract($0) }
    var matched = 0
    let start = ContinuousClock.now
    for (payment, vector) in zip(payments, features) {
        matched += book.matches(payment, features: vector, strength: 1, nowMicros: 0).count
    }
    let elapsed = ContinuousClock.now - start
    precondition(matched >= 0)
    return (Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9)
        / Double(payments.count)
}

var without: [Double] = []
var with: [Double] = []
var last = pass(book)
_ = pass(.empty)
for _ in 0..<15 {
    without.append(pass(.empty).nanosPerPayment)
    last = pass(book)
    with.append(last.nanosPerPayment)
}
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
let alone = median((0..<15).map { _ in rulesOnly() })
let plain = median(without)
let ruled = median(with)
print(
    "payments: \(payments.count), rules: \(rules.count) (\(rules.filter { $0.mode == .active }.count) active, \(rules.filter { $0.mode == .shadow }.count) shadow), list of \(stolen.count) card ids"
)
print(
    "matches per payment: \(Double(last.matches) / Double(payments.count)); decisions with rules: \(last.decisions.map { "\($0.key.rawValue) \($0.value)" }.sorted().joined(separator: ", "))"
)
print(String(format: "scorer without rules: %.0f ns per payment (median of 15 passes)", plain))
print(String(format: "scorer with 200 rules: %.0f ns per payment (median of 15 passes)", ruled))
print(String(format: "the 200 rules alone (RuleBook.matches on precomputed features): %.0f ns per payment", alone))
let plainDecisions = pass(.empty).decisions
print(
    "decisions without rules: \(plainDecisions.map { "\($0.key.rawValue) \($0.value)" }.sorted().joined(separator: ", "))"
)
print(String(format: "added by 200 rules: %.2f µs per payment (target ≤ 20 µs)", (ruled - plain) / 1000))
