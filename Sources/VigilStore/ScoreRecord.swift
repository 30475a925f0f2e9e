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
    /// The score answer exactly as served, JSON.
    public var answer: String
    public var scoredAtMicros: Int64
    /// The case to open with this decision, if any.
    public var openedCase: NewCase?

    public init(
        transactionID: String, occurredAtMicros: Int64, amount: Double, currency: String, body: String,
        features: String, score: Double, riskScore: Int, decision: String, modelName: String,
        modelVersion: String, answer: String, scoredAtMicros: Int64, openedCase: NewCase? = nil
    ) {
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
        self.answer = answer
        self.scoredAtMicros = scoredAtMicros
        self.openedCase = openedCase
    }
}

/// A review case opened together with a decision.
public struct NewCase: Sendable, Equatable {
    public var caseID: String
    public var reason: String

    public init(caseID: String, reason: String) {
        self.caseID = caseID
        self.reason = reason
    }
}

/// What became of a submitted record.
public enum RecordOutcome: Sendable, Equatable {
    /// It was new and is now committed.
    case inserted
    /// A record with the same transaction id was already committed; here are its body and answer.
    case existing(body: String, answer: String)
}
