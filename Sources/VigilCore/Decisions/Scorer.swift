/// Scores a transaction: features, model, explanation, decision and reasons, as one pure function.
///
/// Built once per active model; `score` is the hot path of `POST /v1/score`.
public struct Scorer: Sendable {
    public let extractor: FeatureExtractor
    public let model: any ScoringModel
    public let policy: DecisionPolicy
    public let reasonWriter: ReasonWriter
    /// For each model input, its position in the extractor's vector.
    private let inputPositions: [Int]

    /// Refuses a model that reads a feature the extractor does not produce, naming every one.
    public init(
        extractor: FeatureExtractor, model: any ScoringModel, policy: DecisionPolicy, reasonWriter: ReasonWriter
    ) throws(ModelError) {
        var positions: [Int] = []
        var missing: [String] = []
        for name in model.featureNames {
            if let position = extractor.index(of: name) { positions.append(position) } else { missing.append(name) }
        }
        guard missing.isEmpty else { throw .missingFeatures(model: model.name, names: missing) }
        self.extractor = extractor
        self.model = model
        self.policy = policy
        self.reasonWriter = reasonWriter
        self.inputPositions = positions
    }

    public func score(_ transaction: Transaction) -> ScoreOutcome {
        let features = extractor.extract(transaction)
        let inputs = inputPositions.map { features[$0] }
        let explanation = model.explain(inputs)
        let probability = explanation.probability
        let riskScore = DecisionPolicy.riskScore(probability: probability)
        let reasons = reasonWriter.reasons(
            for: explanation, featureNames: model.featureNames, inputs: inputs, transaction: transaction)
        return ScoreOutcome(
            transaction: transaction, featureNames: extractor.names, features: features, explanation: explanation,
            probability: probability, riskScore: riskScore, decision: policy.decide(riskScore: riskScore),
            reasons: reasons, modelName: model.name, modelVersion: model.version)
    }
}

/// Everything a scoring produced, before it is stored.
public struct ScoreOutcome: Sendable {
    public var transaction: Transaction
    public var featureNames: [String]
    /// Values in the order of `featureNames`; `Double.nan` is missing.
    public var features: [Double]
    public var explanation: Explanation
    public var probability: Double
    public var riskScore: Int
    public var decision: Decision
    public var reasons: [Reason]
    public var modelName: String
    public var modelVersion: String
}
