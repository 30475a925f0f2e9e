/// Logistic regression over standardised features: the built-in model, exactly explainable.
///
/// margin = intercept + Σ weightᵢ · (xᵢ − meanᵢ) / scaleᵢ; a missing input is imputed with its mean,
/// so it contributes exactly zero.
public struct LogisticModel: ScoringModel, Equatable {
    public let name: String
    public let version: String
    public let description: String
    public let featureNames: [String]
    public let weights: [Double]
    public let means: [Double]
    public let scales: [Double]
    public let intercept: Double

    public init(
        name: String, version: String, description: String = "", intercept: Double,
        features: [(name: String, weight: Double, mean: Double, scale: Double)]
    ) throws(ModelError) {
        guard !name.isEmpty else { throw .invalid("name must not be empty") }
        guard !version.isEmpty else { throw .invalid("version must not be empty") }
        guard intercept.isFinite else { throw .invalid("intercept must be a finite number") }
        guard !features.isEmpty else { throw .invalid("features must list at least one feature") }
        var seen: Set<String> = []
        for (position, feature) in features.enumerated() {
            let place = "features[\(position)] (\(feature.name))"
            guard seen.insert(feature.name).inserted else { throw .invalid("\(place): listed twice") }
            guard feature.weight.isFinite else { throw .invalid("\(place): weight must be finite") }
            guard feature.mean.isFinite else { throw .invalid("\(place): mean must be finite") }
            guard feature.scale.isFinite, feature.scale > 0 else {
                throw .invalid("\(place): scale must be a finite number above 0")
            }
        }
        self.name = name
        self.version = version
        self.description = description
        self.intercept = intercept
        self.featureNames = features.map(\.name)
        self.weights = features.map(\.weight)
        self.means = features.map(\.mean)
        self.scales = features.map(\.scale)
    }

    public func margin(_ inputs: [Double]) -> Double {
        explain(inputs).margin
    }

    public func explain(_ inputs: [Double]) -> Explanation {
        precondition(inputs.count == weights.count, "inputs must match the model's features")
        var contributions = [Double](repeating: 0, count: weights.count)
        var margin = intercept
        for index in weights.indices {
            let value = inputs[index]
            let contribution = value.isNaN ? 0 : weights[index] * (value - means[index]) / scales[index]
            contributions[index] = contribution
            margin += contribution
        }
        return Explanation(bias: intercept, contributions: contributions, margin: margin)
    }
}

/// Why a model file was refused, in words a user can act on.
public enum ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(String)
    case missingFeatures(model: String, names: [String])

    public var description: String {
        switch self {
        case .invalid(let message): message
        case .missingFeatures(let model, let names):
            "model \(model) needs features the config does not produce: \(names.joined(separator: ", "))"
        }
    }
}
