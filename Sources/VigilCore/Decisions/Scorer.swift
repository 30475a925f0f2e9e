/// A model bound to a feature extractor: which position of the feature vector feeds each model input.
public struct ModelRunner: Sendable {
    public let model: any ScoringModel
    /// For each model input, its position in the extractor's vector.
    private let inputPositions: [Int]

    /// Refuses a model that reads a feature the extractor does not produce, naming every one.
    public init(model: any ScoringModel, extractor: FeatureExtractor) throws(ModelError) {
        var positions: [Int] = []
        var missing: [String] = []
        for name in model.featureNames {
            if let position = extractor.index(of: name) { positions.append(position) } else { missing.append(name) }
        }
        guard missing.isEmpty else { throw .missingFeatures(model: model.name, names: missing) }
        self.model = model
        self.inputPositions = positions
    }

    /// The model's inputs, in its order, picked out of a full feature vector.
    public func inputs(from features: [Double]) -> [Double] {
        inputPositions.map { features[$0] }
    }
}

/// When a score answer carries an exact explanation and its reasons.
public enum ExplainMode: Sendable, Equatable {
    /// Only for `review` and `decline`: approvals are the bulk of traffic and nobody reads their reasons.
    case whenFlagged
    /// Always, because the caller asked (`explain=true`).
    case always
}

/// Scores a transaction: features, model, decision and, when someone will read them, explanation and reasons.
///
/// Built once per active model; `score` is the hot path of `POST /v1/score`.
public struct Scorer: Sendable {
    public let extractor: FeatureExtractor
    public let champion: ModelRunner
    public let policy: DecisionPolicy
    public let reasonWriter: ReasonWriter

    public var model: any ScoringModel { champion.model }

    /// Refuses a model that reads a feature the extractor does not produce, naming every one.
    public init(
        extractor: FeatureExtractor, model: any ScoringModel, policy: DecisionPolicy, reasonWriter: ReasonWriter
    ) throws(ModelError) {
        self.extractor = extractor
        self.champion = try ModelRunner(model: model, extractor: extractor)
        self.policy = policy
        self.reasonWriter = reasonWriter
    }

    /// The same features, policy and reasons with another model (a hot swap builds its scorer this way).
    public func replacingModel(_ model: any ScoringModel) throws(ModelError) -> Scorer {
        try Scorer(extractor: extractor, model: model, policy: policy, reasonWriter: reasonWriter)
    }

    public func score(_ transaction: Transaction, explain mode: ExplainMode = .whenFlagged) -> ScoreOutcome {
        let features = extractor.extract(transaction)
        let inputs = champion.inputs(from: features)
        let margin = model.margin(inputs)
        let probability = Explanation.logistic(margin)
        let riskScore = DecisionPolicy.riskScore(probability: probability)
        let decision = policy.decide(riskScore: riskScore)
        var explanation: Explanation?
        var reasons: [Reason] = []
        if mode == .always || decision != .approve {
            let exact = model.explain(inputs)
            explanation = exact
            reasons = reasonWriter.reasons(
                for: exact, featureNames: model.featureNames, inputs: inputs, transaction: transaction)
        }
        return ScoreOutcome(
            transaction: transaction, featureNames: extractor.names, features: features, margin: margin,
            explanation: explanation, probability: probability, riskScore: riskScore, decision: decision,
            reasons: reasons, modelName: model.name, modelVersion: model.version)
    }

    /// A shadow score of the same features by another model (the challenger), decided by the same policy.
    public func shadow(_ runner: ModelRunner, features: [Double]) -> ShadowScore {
        let probability = Explanation.logistic(runner.model.margin(runner.inputs(from: features)))
        let riskScore = DecisionPolicy.riskScore(probability: probability)
        return ShadowScore(
            modelName: runner.model.name, modelVersion: runner.model.version, probability: probability,
            riskScore: riskScore, decision: policy.decide(riskScore: riskScore))
    }
}

/// Everything a scoring produced, before it is stored.
public struct ScoreOutcome: Sendable {
    public var transaction: Transaction
    public var featureNames: [String]
    /// Values in the order of `featureNames`; `Double.nan` is missing.
    public var features: [Double]
    /// The champion's margin (log-odds): the score is its logistic.
    public var margin: Double
    /// The exact explanation, when the decision or the caller asked for one (see `ExplainMode`).
    public var explanation: Explanation?
    public var probability: Double
    public var riskScore: Int
    public var decision: Decision
    public var reasons: [Reason]
    public var modelName: String
    public var modelVersion: String
}

/// A model's score that is recorded but decides nothing.
public struct ShadowScore: Sendable, Equatable {
    public var modelName: String
    public var modelVersion: String
    public var probability: Double
    public var riskScore: Int
    public var decision: Decision
}
