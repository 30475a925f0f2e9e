import RealModule

/// A model that turns a feature vector into a fraud probability and explains it exactly.
///
/// Every implementation must satisfy `bias + Σ contributions == margin` for every explanation.
public protocol ScoringModel: Sendable {
    var name: String { get }
    var version: String { get }
    /// The Vigil feature names this model reads, in the order of its inputs.
    var featureNames: [String] { get }
    /// The margin (log-odds) alone, for inputs ordered as `featureNames`; `Double.nan` is a missing input.
    ///
    /// The fast path: equal to `explain(inputs).margin` up to rounding, without computing contributions.
    func margin(_ inputs: [Double]) -> Double
    /// Margin (log-odds) and per-feature contributions for inputs ordered as `featureNames`.
    func explain(_ inputs: [Double]) -> Explanation
}

/// An exact additive explanation of one score, in margin (log-odds) units.
public struct Explanation: Sendable, Equatable {
    /// The model's output before any feature is known (the intercept for a linear model).
    public var bias: Double
    /// One contribution per model input, in the order of the model's `featureNames`.
    public var contributions: [Double]
    public var margin: Double

    public init(bias: Double, contributions: [Double], margin: Double) {
        self.bias = bias
        self.contributions = contributions
        self.margin = margin
    }

    /// The probability of fraud: the logistic function of the margin.
    public var probability: Double { Self.logistic(margin) }

    /// How far `bias + Σ contributions` is from the margin; zero up to rounding for a correct model.
    public var additivityError: Double {
        abs(contributions.reduce(bias, +) - margin)
    }

    public static func logistic(_ margin: Double) -> Double {
        margin >= 0 ? 1 / (1 + .exp(-margin)) : .exp(margin) / (1 + .exp(margin))
    }
}
