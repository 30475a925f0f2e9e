import Testing

@testable import VigilCore

@Suite("Rule book: combining rules with the model, and backtest tallies")
struct RuleBookTests {
    static let extractor = try! FeatureExtractor(names: ["amount", "log_amount", "is_night"])
    static let policy = try! DecisionPolicy(reviewAt: 40, declineAt: 80)

    static func scorer() throws -> Scorer {
        let model = try LogisticModel(
            name: "m", version: "1", intercept: -2,
            features: [(name: "log_amount", weight: 0.5, mean: 0, scale: 1)])
        return try Scorer(extractor: extractor, model: model, policy: policy, reasonWriter: ReasonWriter(count: 2))
    }

    static func rule(
        _ id: String, _ source: String, _ action: RuleAction, mode: RuleMode = .active, expires: Int64? = nil
    ) throws -> BookRule {
        let schema = RuleSchema(featureNames: extractor.names, listNames: ["vip"])
        return BookRule(
            id: id, name: id, version: 1, action: action, mode: mode, expiresAtMicros: expires,
            expression: try RuleExpression.compile(source, schema: schema))
    }

    static func payment(_ amount: Double, card: String = "c1", country: String = "DE") -> Transaction {
        Transaction(
            transactionID: "t", occurredAt: "2026-11-22T10:00:00Z", occurredAtMicros: 1_795_341_600_000_000,
            amount: amount, currency: "EUR", cardID: card, merchantCountry: country)
    }

    @Test("allow beats block beats review; review never lowers a decline; shadow rules never act")
    func precedence() throws {
        let scorer = try Self.scorer()
        let lists = RuleLists(["vip": ["c-vip"]])
        let book = RuleBook(
            rules: [
                try Self.rule("block-ng", "merchant_country = 'NG'", .block),
                try Self.rule("review-big", "amount > 100", .review),
                try Self.rule("allow-vip", "card_id in list('vip')", .allow),
                try Self.rule("shadow-all", "amount >= 0", .block, mode: .shadow),
            ], lists: lists)
        let plain = scorer.score(Self.payment(5), rules: book)
        #expect(plain.decision == .approve)
        #expect(plain.ruleMatches.map(\.id) == ["shadow-all"])
        #expect(plain.forcingRule == nil)
        #expect(plain.activeMatches.isEmpty)

        let blocked = scorer.score(Self.payment(500, country: "NG"), rules: book)
        #expect(blocked.decision == .decline)
        #expect(blocked.forcingRule?.id == "block-ng")

        let reviewed = scorer.score(Self.payment(500), rules: book)
        #expect(reviewed.decision == .review)
        #expect(reviewed.forcingRule?.id == "review-big")

        let allowed = scorer.score(Self.payment(500, card: "c-vip", country: "NG"), rules: book)
        #expect(allowed.decision == .approve)
        #expect(allowed.forcingRule?.id == "allow-vip")
        #expect(Set(allowed.activeMatches.map(\.id)) == ["block-ng", "review-big", "allow-vip"])

        // The model alone would decline a huge amount; a review rule keeps the decline.
        #expect(RuleVerdict.decide(thresholds: .decline, forcing: reviewed.forcingRule) == .decline)
        #expect(RuleVerdict.decide(thresholds: .decline, forcing: allowed.forcingRule) == .approve)
    }

    @Test("score rules add strength × points to the margin; the explanation still adds up to the model's margin")
    func scorePoints() throws {
        let scorer = try Self.scorer()
        let book = RuleBook(
            rules: [
                try Self.rule("plus", "amount > 10", .score(1.5)),
                try Self.rule("minus", "amount > 20", .score(-0.5)),
                try Self.rule("shadow", "amount > 10", .score(9), mode: .shadow),
            ], lists: .empty)
        for strength in [0, 0.25, 0.5, 1.0] {
            let outcome = scorer.score(Self.payment(50), explain: .always, rules: book, strength: strength)
            #expect(abs(outcome.margin - outcome.modelMargin - strength * 1.0) < 1e-12)
            #expect(abs(outcome.probability - Explanation.logistic(outcome.margin)) < 1e-15)
            let explanation = try #require(outcome.explanation)
            #expect(abs(explanation.contributions.reduce(explanation.bias, +) - outcome.modelMargin) < 1e-12)
            let sum = outcome.ruleMatches.map(\.contribution).reduce(0, +)
            #expect(abs(outcome.modelMargin + sum - outcome.margin) < 1e-12)
            #expect(outcome.ruleMatches.first { $0.id == "shadow" }?.contribution == 0)
        }
    }

    @Test("expired rules stop matching at their expiry instant")
    func expiry() throws {
        let book = RuleBook(rules: [try Self.rule("temp", "amount > 0", .block, expires: 1_000)], lists: .empty)
        let scorer = try Self.scorer()
        #expect(scorer.score(Self.payment(5), rules: book, nowMicros: 999).decision == .decline)
        #expect(scorer.score(Self.payment(5), rules: book, nowMicros: 1_000).decision == .approve)
    }

    @Test("the answer lists active matches with contribution and sentence; stored JSON keeps shadow ones")
    func answerJSON() throws {
        let scorer = try Self.scorer()
        let book = RuleBook(
            rules: [
                try Self.rule("s", "amount > 10", .score(2)),
                try Self.rule("sh", "amount > 10", .review, mode: .shadow),
            ], lists: .empty)
        let outcome = scorer.score(Self.payment(50), rules: book, strength: 0.5)
        let answer = String(decoding: outcome.answerJSON(caseID: nil, scoredAtMicros: 0), as: UTF8.self)
        #expect(
            answer.contains(
                #""rules":[{"id":"s","name":"s","version":1,"action":"score","points":2.0,"contribution":1.0,"#))
        #expect(!answer.contains(#""id":"sh""#))
        #expect(answer.contains("adds +2.0 points at rule strength 0.5: +1.0 to the log-odds."))
        let stored = try #require(outcome.rulesJSON())
        #expect(stored.contains(#""mode":"shadow""#))
        #expect(scorer.score(Self.payment(5), rules: book).rulesJSON() == nil)
    }

    @Test("a backtest tally counts hits into buckets, precision and recall, and replays score rules at each α")
    func tally() throws {
        var tally = BacktestTally(points: 3, policy: Self.policy)
        // margin -1 → p 0.27 approve; +3 at α=1 → p 0.88 decline; at α=0.5 → 0.5 margin → p 0.62 review.
        tally.add(hit: true, amount: 10, label: .fraud, chargeback: true, decision: .approve, modelMargin: -1)
        tally.add(hit: true, amount: 20, label: .legit, chargeback: false, decision: .review, modelMargin: -1)
        tally.add(hit: true, amount: 30, label: .none, chargeback: false, decision: .approve, modelMargin: -1)
        tally.add(hit: false, amount: 40, label: .fraud, chargeback: false, decision: .approve, modelMargin: -1)
        tally.add(hit: false, amount: 50, label: .legit, chargeback: false, decision: .approve, modelMargin: -1)
        #expect(tally.rows == 5)
        #expect(tally.hits == 3)
        #expect(tally.amountHit == 60)
        #expect(tally.precision == 0.5)
        #expect(tally.recall == 0.5)
        #expect(tally.buckets.fraud == CountAndAmount(count: 1, amount: 10))
        #expect(tally.buckets.chargeback == CountAndAmount(count: 1, amount: 10))
        #expect(tally.buckets.legit == CountAndAmount(count: 1, amount: 20))
        #expect(tally.buckets.unlabelled == CountAndAmount(count: 1, amount: 30))
        #expect(tally.buckets.alreadyFlagged == CountAndAmount(count: 1, amount: 20))
        let byStrength = Dictionary(uniqueKeysWithValues: tally.strengths.map { ($0.strength, $0) })
        #expect(byStrength[0]?.changed == 0)
        #expect(byStrength[0]?.approve == 5)
        #expect(byStrength[0.5]?.review == 3)
        #expect(byStrength[1]?.decline == 3)
        #expect(byStrength[1]?.precision == 0.5)
        #expect(tally.recall(of: byStrength[1]!) == 0.5)

        var left = BacktestTally(points: 3, policy: Self.policy)
        var right = BacktestTally(points: 3, policy: Self.policy)
        left.add(hit: true, amount: 10, label: .fraud, chargeback: true, decision: .approve, modelMargin: -1)
        left.add(hit: true, amount: 20, label: .legit, chargeback: false, decision: .review, modelMargin: -1)
        right.add(hit: true, amount: 30, label: .none, chargeback: false, decision: .approve, modelMargin: -1)
        right.add(hit: false, amount: 40, label: .fraud, chargeback: false, decision: .approve, modelMargin: -1)
        right.add(hit: false, amount: 50, label: .legit, chargeback: false, decision: .approve, modelMargin: -1)
        left.merge(right)
        #expect(left == tally)
        #expect(BacktestTally(points: nil, policy: Self.policy).strengths.isEmpty)
    }
}
