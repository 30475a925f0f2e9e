import VigilCore
import VigilStore

/// The score use case: validate, score, decide, store durably (group commit), answer.
public struct ScoringService: Sendable {
    public let registry: ModelRegistry
    public let store: any DecisionStore
    public let clock: any WallClock
    public let limits: TransactionLimits
    public let review: ReviewPolicy
    /// The rules evaluated with every payment; nil scores with the model alone.
    public let rules: RuleEngine?
    /// Counts decisions for the blast-radius guard.
    public let rates: DecisionRates?
    /// The rule strength α when the request does not set one (`rules.strength`).
    public let defaultStrength: Double
    /// History features (nil or disabled: none declared).
    public let velocity: VelocityService?
    private let identifiers = IdentifierGenerator()

    public init(
        registry: ModelRegistry, store: any DecisionStore, clock: any WallClock, limits: TransactionLimits = .init(),
        review: ReviewPolicy = .init(), rules: RuleEngine? = nil, rates: DecisionRates? = nil,
        defaultStrength: Double = 1, velocity: VelocityService? = nil
    ) {
        self.velocity = velocity
        self.registry = registry
        self.review = review
        self.store = store
        self.clock = clock
        self.limits = limits
        self.rules = rules
        self.rates = rates
        self.defaultStrength = defaultStrength
    }

    /// The answer to `POST /v1/score`: its JSON and, when this call made the decision, what it decided.
    public struct Answer: Sendable {
        public var json: [UInt8]
        /// Nil on a replay: the stored answer was returned and nothing was decided now.
        public var decision: Decision?
        public var openedCase: Bool
        /// Whether the challenger's shadow decision agreed with the champion's; nil without a challenger or on a replay.
        public var shadowAgreed: Bool? = nil

        public var isReplay: Bool { decision == nil }
    }

    /// Decodes and validates a JSON transaction body, listing every bad field.
    public func decode(body: UnsafeRawBufferPointer) throws(ServiceError) -> Transaction {
        switch TransactionDecoder.decode(body, limits: limits) {
        case .success(let transaction): return transaction
        case .failure(let failure):
            if failure.errors.count == 1, failure.errors[0].path == "$" { throw .malformed(failure.errors[0]) }
            throw .validation(failure.errors)
        }
    }

    /// Scores a transaction; a known `transaction_id` with the same body returns the stored answer.
    ///
    /// The champion decides; the challenger, if one is set, scores the same features in shadow.
    /// `strength` is the rule strength α for this request (nil: `rules.strength`).
    public func score(
        _ transaction: Transaction, explain: ExplainMode = .whenFlagged, strength: Double? = nil
    ) async throws(ServiceError) -> Answer {
        let active = registry.active
        let now = clock.nowMicros()
        var reserved: (history: [Double], counted: Bool) = ([], false)
        if let velocity, velocity.isEnabled { reserved = velocity.reserve(transaction) }
        let outcome = active.scorer.score(
            transaction, explain: explain, rules: rules?.book ?? .empty, strength: strength ?? defaultStrength,
            nowMicros: now, history: reserved.history)
        let shadow = active.challenger.map { active.scorer.shadow($0, features: outcome.features) }
        let openedCase: NewCase?
        switch outcome.decision {
        case .review:
            let rule = outcome.forcingRule.flatMap { $0.action == .review ? $0 : nil }
            openedCase = NewCase(
                caseID: identifiers.make(prefix: "cs_", nowMicros: now), reason: rule == nil ? "review" : "rule",
                priority: review.priority(probability: outcome.probability, amount: transaction.amount),
                source: rule == nil ? .model : .rule, ruleID: rule?.id)
        case .approve where review.isSampled(transactionID: transaction.transactionID):
            openedCase = NewCase(
                caseID: identifiers.make(prefix: "cs_", nowMicros: now), reason: "sample",
                priority: review.priority(probability: outcome.probability, amount: transaction.amount), source: .sample
            )
        default:
            openedCase = nil
        }
        // A sample case is not announced to the caller: the payment was approved, and the sample must not change
        // what the payment service does.
        let answer = outcome.answerJSON(
            caseID: openedCase?.source != .sample ? openedCase?.caseID : nil, scoredAtMicros: now)
        let body = String(decoding: transaction.canonicalJSON(), as: UTF8.self)
        let record = ScoreRecord(
            transactionID: transaction.transactionID, occurredAtMicros: transaction.occurredAtMicros,
            amount: transaction.amount, currency: transaction.currency, body: body,
            features: String(decoding: outcome.featuresJSON(), as: UTF8.self), score: outcome.probability,
            riskScore: outcome.riskScore, decision: outcome.decision.rawValue, modelName: outcome.modelName,
            modelVersion: outcome.modelVersion, modelSHA256: active.championSHA256,
            challenger: shadow.map {
                ShadowRecord(
                    name: $0.modelName, version: $0.modelVersion, score: $0.probability, decision: $0.decision.rawValue)
            }, answer: String(decoding: answer, as: UTF8.self),
            scoredAtMicros: now, openedCase: openedCase,
            ruleHits: outcome.ruleMatches.map {
                RuleHit(ruleID: $0.id, version: $0.version, mode: $0.mode.rawValue, action: $0.action.name)
            },
            rulesJSON: outcome.rulesJSON(), margin: outcome.modelMargin)
        let stored: RecordOutcome
        do {
            stored = try await store.record(record)
        } catch {
            if reserved.counted { velocity?.release(transaction) }
            throw .unavailable("the decision could not be stored: \(error)")
        }
        switch stored {
        case .inserted:
            rates?.record(outcome.decision, atMicros: now)
            return Answer(
                json: answer, decision: outcome.decision, openedCase: openedCase != nil,
                shadowAgreed: shadow.map { $0.decision == outcome.decision })
        case .existing(let storedBody, let storedAnswer):
            guard storedBody == body else {
                throw .conflict(
                    "transaction \(transaction.transactionID) was already scored with a different body; "
                        + "use a new transaction_id for a different payment")
            }
            return Answer(json: Array(storedAnswer.utf8), decision: nil, openedCase: false)
        }
    }
}
