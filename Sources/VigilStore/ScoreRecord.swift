/// One scored payment as it is written: the transaction, its features, the decision and its answer.
public struct ScoreRecord: Sendable, Equatable {
    public var transactionID: String
    public var occurredAtMicros: Int64
    public var amount: Double
    public var currency: String
    /// The transaction as canonical JSON; a replay with a different body is a conflict.
    public var body: String
    /// Feature name → value (null when missing), JSON.
    public var features: String
    public var score: Double
    public var riskScore: Int
    public var decision: String
    public var modelName: String
    public var modelVersion: String
    /// SHA-256 of the model file that decided (hex).
    public var modelSHA256: String
    /// The challenger's shadow score, when a challenger is set.
    public var challenger: ShadowRecord?
    /// The score answer exactly as served, JSON.
    public var answer: String
    public var scoredAtMicros: Int64
    /// The case to open with this decision, if any.
    public var openedCase: NewCase?
    /// Every rule version that matched, active and shadow.
    public var ruleHits: [RuleHit]
    /// The matched rules with their contributions, JSON (nil when none matched).
    public var rulesJSON: String?
    /// The model's margin before rules (backtests of `score` rules replay from it).
    public var margin: Double?

    public init(
        transactionID: String, occurredAtMicros: Int64, amount: Double, currency: String, body: String,
        features: String, score: Double, riskScore: Int, decision: String, modelName: String,
        modelVersion: String, modelSHA256: String, challenger: ShadowRecord? = nil, answer: String,
        scoredAtMicros: Int64, openedCase: NewCase? = nil, ruleHits: [RuleHit] = [], rulesJSON: String? = nil,
        margin: Double? = nil
    ) {
        self.ruleHits = ruleHits
        self.rulesJSON = rulesJSON
        self.margin = margin
        self.transactionID = transactionID
        self.occurredAtMicros = occurredAtMicros
        self.amount = amount
        self.currency = currency
        self.body = body
        self.features = features
        self.score = score
        self.riskScore = riskScore
        self.decision = decision
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.modelSHA256 = modelSHA256
        self.challenger = challenger
        self.answer = answer
        self.scoredAtMicros = scoredAtMicros
        self.openedCase = openedCase
    }
}

/// A rule version that matched a decision.
public struct RuleHit: Sendable, Equatable {
    public var ruleID: String
    public var version: Int
    /// `active` or `shadow`.
    public var mode: String
    public var action: String

    public init(ruleID: String, version: Int, mode: String, action: String) {
        self.ruleID = ruleID
        self.version = version
        self.mode = mode
        self.action = action
    }
}

/// What the challenger model said about a payment, stored beside the decision and never returned as it.
public struct ShadowRecord: Sendable, Equatable {
    public var name: String
    public var version: String
    public var score: Double
    public var decision: String

    public init(name: String, version: String, score: Double, decision: String) {
        self.name = name
        self.version = version
        self.score = score
        self.decision = decision
    }
}

/// Where a review case came from.
public enum CaseSource: String, Sendable, CaseIterable {
    /// The model's score reached the review threshold.
    case model
    /// An approved payment drawn into the exploration sample, to measure what approvals miss.
    case sample
    /// A rule with action `review` matched.
    case rule
}

/// A review case opened together with a decision.
public struct NewCase: Sendable, Equatable {
    public var caseID: String
    public var reason: String
    /// Queue order: higher first (expected loss = probability × amount by default).
    public var priority: Double
    public var source: CaseSource
    /// The `review` rule that opened it, for source `rule`.
    public var ruleID: String?

    public init(
        caseID: String, reason: String, priority: Double = 0, source: CaseSource = .model, ruleID: String? = nil
    ) {
        self.ruleID = ruleID
        self.caseID = caseID
        self.reason = reason
        self.priority = priority
        self.source = source
    }
}

/// What became of a submitted record.
public enum RecordOutcome: Sendable, Equatable {
    /// It was new and is now committed.
    case inserted
    /// A record with the same transaction id was already committed; here are its body and answer.
    case existing(body: String, answer: String)
}
