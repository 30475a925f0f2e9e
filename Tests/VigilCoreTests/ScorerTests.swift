import Testing

@testable import VigilCore

@Suite("Logistic model, features, policy and reasons")
struct ScorerTests {
    static func transaction(
        amount: Double = 40, at micros: Int64 = 1_763_800_000_000_000, card: String? = "DE", merchant: String? = "DE",
        ip: String? = "DE", channel: Channel? = .pos, mcc: String? = "5411", attributes: [Attribute] = []
    ) -> Transaction {
        Transaction(
            transactionID: "t1", occurredAt: "2025-11-22T08:26:40Z", occurredAtMicros: micros, amount: amount,
            currency: "EUR", merchantCategory: mcc, merchantCountry: merchant, cardCountry: card, ipCountry: ip,
            channel: channel, attributes: attributes)
    }

    static func defaultScorer(reviewAt: Int = 40, declineAt: Int = 80) throws -> Scorer {
        let model = try LogisticModel(
            name: "m", version: "1", intercept: -4.6,
            features: [
                ("log_amount", 0.85, 3.6, 1.3), ("card_merchant_country_mismatch", 0.9, 0.1, 0.3),
                ("ip_card_country_mismatch", 0.75, 0.08, 0.27), ("is_night", 0.35, 0.2, 0.4),
                ("channel_ecommerce", 0.4, 0.4, 0.49), ("attributes.account_age_days", -0.2, 300, 200),
            ])
        let extractor = try FeatureExtractor(
            names: FeatureKind.builtInNames + ["attributes.account_age_days"], highRiskMerchantCategories: ["7995"])
        return try Scorer(
            extractor: extractor, model: model, policy: DecisionPolicy(reviewAt: reviewAt, declineAt: declineAt),
            reasonWriter: ReasonWriter(count: 3))
    }

    @Test("contributions plus the intercept add up to the margin, with and without missing values")
    func additivity() throws {
        // Given a model and transactions with present and missing features
        let scorer = try Self.defaultScorer()
        let cases = [
            Self.transaction(), Self.transaction(amount: 2450, card: "US", ip: "NG", channel: .ecommerce),
            Self.transaction(
                card: nil, ip: nil, channel: nil, attributes: [.init(name: "account_age_days", value: .number(3))]),
        ]
        for tx in cases {
            // When it is scored
            let outcome = scorer.score(tx, explain: .always)
            // Then bias + Σ contributions equals the margin and the probability is its logistic
            let explanation = try #require(outcome.explanation)
            #expect(explanation.additivityError < 1e-12)
            #expect(abs(explanation.margin - outcome.margin) < 1e-12)
            #expect(outcome.probability == Explanation.logistic(outcome.margin))
            #expect(outcome.probability > 0 && outcome.probability < 1)
        }
    }

    @Test("approvals carry no explanation unless asked; review and decline always do")
    func explanationOnlyWhenRead() throws {
        let scorer = try Self.defaultScorer()
        let approved = scorer.score(Self.transaction())
        #expect(approved.decision == .approve)
        #expect(approved.explanation == nil)
        #expect(approved.reasons.isEmpty)
        let asked = scorer.score(Self.transaction(), explain: .always)
        #expect(asked.decision == .approve)
        #expect(asked.explanation != nil)
        #expect(!asked.reasons.isEmpty)
        #expect(asked.probability == approved.probability)
        let flagged = scorer.score(
            Self.transaction(amount: 2450, card: "US", merchant: "DE", ip: "NG", channel: .ecommerce))
        #expect(flagged.decision != .approve)
        #expect(flagged.explanation != nil)
        #expect(flagged.reasons.count == 3)
    }

    @Test("a missing value contributes exactly zero (imputed with the mean)")
    func missingIsZero() throws {
        let model = try LogisticModel(
            name: "m", version: "1", intercept: 0.5, features: [("a", 2, 1, 1), ("b", 3, 0, 2)])
        let explanation = model.explain([.nan, 4])
        #expect(explanation.contributions == [0, 6])
        #expect(explanation.margin == 6.5)
    }

    @Test("exact linear contributions: weight × standardised value")
    func exactContributions() throws {
        let model = try LogisticModel(name: "m", version: "1", intercept: -1, features: [("a", 0.5, 10, 4)])
        let explanation = model.explain([18])
        #expect(explanation.contributions == [1.0])
        #expect(explanation.margin == 0)
        #expect(explanation.probability == 0.5)
    }

    @Test("invalid model documents are refused with the place named")
    func invalidModels() {
        #expect(throws: ModelError.invalid("features[1] (b): scale must be a finite number above 0")) {
            try LogisticModel(name: "m", version: "1", intercept: 0, features: [("a", 1, 0, 1), ("b", 1, 0, 0)])
        }
        #expect(throws: ModelError.invalid("features[1] (a): listed twice")) {
            try LogisticModel(name: "m", version: "1", intercept: 0, features: [("a", 1, 0, 1), ("a", 1, 0, 1)])
        }
        #expect(throws: ModelError.invalid("intercept must be a finite number")) {
            try LogisticModel(name: "m", version: "1", intercept: .nan, features: [("a", 1, 0, 1)])
        }
    }

    @Test("a model needing features the config does not produce is refused, listing them")
    func missingFeatures() throws {
        let model = try LogisticModel(
            name: "m", version: "1", intercept: 0,
            features: [("amount", 1, 0, 1), ("velocity_1h", 1, 0, 1), ("attributes.x", 1, 0, 1)])
        let extractor = try FeatureExtractor(names: ["amount"])
        #expect(throws: ModelError.missingFeatures(model: "m", names: ["velocity_1h", "attributes.x"])) {
            try Scorer(
                extractor: extractor, model: model, policy: DecisionPolicy(reviewAt: 40, declineAt: 80),
                reasonWriter: .init())
        }
    }

    @Test("unknown and duplicate feature names are refused")
    func unknownFeatureNames() {
        #expect(throws: FeatureError.unknown(["amont", "attributes.bad-name"])) {
            try FeatureExtractor(names: ["amount", "amont", "attributes.bad-name"])
        }
        #expect(throws: FeatureError.duplicate("amount")) { try FeatureExtractor(names: ["amount", "amount"]) }
    }

    @Test("derived features: hour, weekday, weekend, night, mismatches, channel, MCC, attributes")
    func derivedFeatures() throws {
        // Given Saturday 2025-11-22 03:30:00 UTC
        let micros: Int64 = 1_763_782_200_000_000
        let extractor = try FeatureExtractor(
            names: FeatureKind.builtInNames + ["attributes.n", "attributes.flag", "attributes.s"],
            highRiskMerchantCategories: ["7995"])
        let tx = Self.transaction(
            amount: 99, at: micros, card: "DE", merchant: "FR", ip: nil, channel: .ecommerce, mcc: "7995",
            attributes: [
                .init(name: "n", value: .number(7)), .init(name: "flag", value: .bool(true)),
                .init(name: "s", value: .string("x")),
            ])
        // When features are extracted
        let values = extractor.extract(tx)
        func value(_ name: String) -> Double { values[extractor.index(of: name)!] }
        // Then each has the expected value
        #expect(value("amount") == 99)
        #expect(abs(value("log_amount") - 4.605170185988092) < 1e-12)
        #expect(value("hour_of_day") == 3)
        #expect(value("day_of_week") == 5)
        #expect(value("is_weekend") == 1)
        #expect(value("is_night") == 1)
        #expect(value("card_merchant_country_mismatch") == 1)
        #expect(value("ip_card_country_mismatch").isNaN)
        #expect(value("channel_ecommerce") == 1)
        #expect(value("channel_pos") == 0)
        #expect(value("mcc_high_risk") == 1)
        #expect(value("has_email") == 0)
        #expect(value("attributes.n") == 7)
        #expect(value("attributes.flag") == 1)
        #expect(value("attributes.s").isNaN)
    }

    @Test("weekday is right before the epoch too")
    func weekdayBeforeEpoch() {
        // 1969-12-31 23:00 UTC was a Wednesday (2)
        let fields = UTCClockFields(micros: -3_600_000_000)
        #expect(fields.weekday == 2)
        #expect(fields.hour == 23)
    }

    @Test(
        "risk score thresholds map to decisions at their exact edges",
        arguments: [
            (39, Decision.approve), (40, .review), (79, .review), (80, .decline), (100, .decline), (0, .approve),
        ])
    func thresholds(risk: Int, expected: Decision) throws {
        let policy = try DecisionPolicy(reviewAt: 40, declineAt: 80)
        #expect(policy.decide(riskScore: risk) == expected)
    }

    @Test("risk score is the probability in percent, rounded")
    func riskScore() {
        #expect(DecisionPolicy.riskScore(probability: 0.394) == 39)
        #expect(DecisionPolicy.riskScore(probability: 0.395) == 40)
        #expect(DecisionPolicy.riskScore(probability: 1) == 100)
        #expect(DecisionPolicy.riskScore(probability: 0) == 0)
    }

    @Test("bad policies are refused")
    func badPolicies() {
        #expect(throws: PolicyError.self) { try DecisionPolicy(reviewAt: 81, declineAt: 80) }
        #expect(throws: PolicyError.self) { try DecisionPolicy(reviewAt: -1, declineAt: 80) }
        #expect(throws: PolicyError.self) { try DecisionPolicy(reviewAt: 10, declineAt: 102) }
    }

    @Test("reasons are the largest contributions, each with a sentence naming value and direction")
    func reasons() throws {
        let scorer = try Self.defaultScorer()
        let outcome = scorer.score(
            Self.transaction(amount: 2450, card: "US", merchant: "DE", ip: "US", channel: .ecommerce))
        #expect(outcome.reasons.count == 3)
        let sizes = outcome.reasons.map { abs($0.contribution) }
        #expect(sizes == sizes.sorted(by: >))
        let amount = try #require(outcome.reasons.first { $0.feature == "log_amount" })
        #expect(amount.sentence.hasPrefix("amount 2,450.00 EUR raises the risk (+"))
        let mismatch = try #require(outcome.reasons.first { $0.feature == "card_merchant_country_mismatch" })
        #expect(mismatch.sentence.hasPrefix("card country US differs from merchant country DE; raises the risk"))
        #expect(outcome.decision == .review)
    }

    @Test("money and signed numbers are formatted independently of locale")
    func formatting() {
        #expect(ReasonWriter.money(2450) == "2,450.00")
        #expect(ReasonWriter.money(1_234_567.891) == "1,234,567.89")
        #expect(ReasonWriter.money(0.5) == "0.50")
        #expect(ReasonWriter.signed(1.234) == "+1.23")
        #expect(ReasonWriter.signed(-0.4) == "-0.40")
    }

    @Test("score answer JSON carries every contract field")
    func answerJSON() throws {
        let scorer = try Self.defaultScorer()
        let outcome = scorer.score(Self.transaction())
        let json = String(decoding: outcome.answerJSON(caseID: nil, scoredAtMicros: 0), as: UTF8.self)
        for field in [
            "\"transaction_id\":\"t1\"", "\"score\":", "\"risk_score\":", "\"decision\":\"approve\"", "\"reasons\":[",
            "\"rules\":[]", "\"model\":{\"name\":\"m\",\"version\":\"1\"}", "\"case_id\":null",
            "\"scored_at\":\"1970-01-01T00:00:00",
        ] {
            #expect(json.contains(field), "\(field) missing in \(json)")
        }
    }
}
