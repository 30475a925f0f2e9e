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

    /// Scores a payment: the model's margin, plus `strength × points` of every active `score` rule that matches,
    /// through the thresholds, then the forcing rules (`allow` over `block` over `review`).
    public func score(
        _ transaction: Transaction, explain mode: ExplainMode = .whenFlagged, rules: RuleBook = .empty,
        strength: Double = 1, nowMicros: Int64 = 0, history: [Double] = []
    ) -> ScoreOutcome {
        let features = extractor.extract(transaction, history: history)
        let inputs = champion.inputs(from: features)
        let modelMargin = model.margin(inputs)
        let matches =
            rules.rules.isEmpty
            ? [] : rules.matches(transaction, features: features, strength: strength, nowMicros: nowMicros)
        var margin = modelMargin
        for match in matches { margin += match.contribution }
        let probability = Explanation.logistic(margin)
        let riskScore = DecisionPolicy.riskScore(probability: probability)
        let forcing = RuleVerdict.forcing(matches)
        let decision = RuleVerdict.decide(thresholds: policy.decide(riskScore: riskScore), forcing: forcing)
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
            modelMargin: modelMargin, explanation: explanation, probability: probability, riskScore: riskScore,
            decision: decision, reasons: reasons, modelName: model.name, modelVersion: model.version,
            ruleMatches: matches, forcingRule: forcing, ruleStrength: strength)
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
    /// The margin (log-odds) the score is the logistic of: the model's plus the active `score` rules' contributions.
    public var margin: Double
    /// The champion's own margin, before any rule.
    public var modelMargin: Double
    /// The exact explanation, when the decision or the caller asked for one (see `ExplainMode`).
    public var explanation: Explanation?
    public var probability: Double
    public var riskScore: Int
    public var decision: Decision
    public var reasons: [Reason]
    public var modelName: String
    public var modelVersion: String
    /// Every live rule that matched, active and shadow.
    public var ruleMatches: [RuleMatch] = []
    /// The `allow`, `block` or `review` rule that forced the decision, if any.
    public var forcingRule: RuleMatch? = nil
    /// The rule strength α this payment was scored with.
    public var ruleStrength: Double = 1

    /// The active matches: what the caller sees and what acted.
    public var activeMatches: [RuleMatch] { ruleMatches.filter { $0.mode == .active } }
}

/// A model's score that is recorded but decides nothing.
public struct ShadowScore: Sendable, Equatable {
    public var modelName: String
    public var modelVersion: String
    public var probability: Double
    public var riskScore: Int
    public var decision: Decision
}
