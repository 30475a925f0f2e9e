/// A tree ensemble (XGBoost or LightGBM) as a Vigil scoring model, with exact TreeSHAP explanations.
///
/// Inputs are ordered as `featureNames` (taken from the model file); `Double.nan` is a missing input.
public struct TreeEnsembleModel: ScoringModel {
    /// What the importer found in the file, for display.
    public struct Metadata: Sendable, Equatable {
        /// `xgboost` or `lightgbm`.
        public var library: String
        /// XGBoost's version that wrote the file (`3.2.0`), or LightGBM's model format version (`v4`).
        public var libraryVersion: String
        /// The training objective as the file states it, e.g. `binary:logistic` or `binary sigmoid:1`.
        public var objective: String
        /// Number of trees.
        public var treeCount: Int
        /// Number of inputs.
        public var featureCount: Int
        /// The deepest tree's depth (a lone leaf has depth 0).
        public var maxDepth: Int
        /// Number of nodes in all trees.
        public var nodeCount: Int
        /// The margin every row starts from before the trees add their leaves.
        public var baseMargin: Double

        /// Metadata from its parts.
        public init(
            library: String, libraryVersion: String, objective: String, treeCount: Int, featureCount: Int,
            maxDepth: Int, nodeCount: Int, baseMargin: Double
        ) {
            self.library = library
            self.libraryVersion = libraryVersion
            self.objective = objective
            self.treeCount = treeCount
            self.featureCount = featureCount
            self.maxDepth = maxDepth
            self.nodeCount = nodeCount
            self.baseMargin = baseMargin
        }
    }

    /// The name the registry gave the model.
    public let name: String
    /// The version the registry gave the model.
    public let version: String
    /// The model's inputs, in order, as named in the file.
    public let featureNames: [String]
    /// The trees, normalised.
    public let ensemble: TreeEnsemble
    /// What the file is, for display.
    public let metadata: Metadata

    /// A model over an ensemble; refuses empty or repeated feature names and a name list that does not match the
    /// ensemble's feature count.
    public init(
        name: String, version: String, featureNames: [String], ensemble: TreeEnsemble, library: String,
        libraryVersion: String, objective: String
    ) throws(ModelError) {
        guard !name.isEmpty else { throw .invalid("name must not be empty") }
        guard !version.isEmpty else { throw .invalid("version must not be empty") }
        guard featureNames.count == ensemble.featureCount else {
            throw .invalid(
                "the model has \(featureNames.count) feature names for \(ensemble.featureCount) features")
        }
        var seen: Set<String> = []
        for (position, feature) in featureNames.enumerated() {
            guard !feature.isEmpty else { throw .invalid("feature \(position): the name is empty") }
            guard seen.insert(feature).inserted else {
                throw .invalid("feature \(position): the name \"\(feature)\" is listed twice")
            }
        }
        self.name = name
        self.version = version
        self.featureNames = featureNames
        self.ensemble = ensemble
        self.metadata = Metadata(
            library: library, libraryVersion: libraryVersion, objective: objective, treeCount: ensemble.treeCount,
            featureCount: ensemble.featureCount, maxDepth: ensemble.maxDepth, nodeCount: ensemble.nodeCount,
            baseMargin: ensemble.baseMargin)
    }

    /// The margin (log-odds), summed as the library sums it; no allocation.
    public func margin(_ inputs: [Double]) -> Double {
        ensemble.margin(inputs)
    }

    /// TreeSHAP contributions; the margin is `margin(_:)`'s (the library's own summation), and the bias is the
    /// expected margin, absorbing that summation's rounding (below 1e-6 for XGBoost's float32 sum, ~1e-15 for
    /// LightGBM) so that `bias + Σ contributions == margin` holds exactly up to Double rounding.
    public func explain(_ inputs: [Double]) -> Explanation {
        let contributions = ensemble.contributions(inputs)
        let margin = ensemble.margin(inputs)
        var total = 0.0
        for contribution in contributions { total += contribution }
        return Explanation(bias: margin - total, contributions: contributions, margin: margin)
    }
}
