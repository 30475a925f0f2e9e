import RealModule

/// Importers of tree-ensemble model files, as the libraries save them, into `TreeEnsembleModel`.
///
/// Each importer normalises the library's split rule, missing-value rule and base score once, at import, into
/// `TreeEnsemble`'s single form, and refuses anything it cannot score exactly (multiclass, ranking, categorical
/// splits, malformed or hostile files) with a `ModelError.invalid` naming what and where.
public enum TreeEnsembleImport {
    /// Imports an XGBoost model saved with `Booster.save_model("model.json")` (JSON, not UBJSON), xgboost 1.x–3.x.
    ///
    /// Objectives `binary:logistic`, `reg:logistic` and `binary:logitraw`; booster `gbtree`; numerical splits.
    /// Feature names come from `learner.feature_names`; a file without them is refused.
    public static func xgboost(json: UnsafeRawBufferPointer, name: String, version: String) throws(ModelError)
        -> TreeEnsembleModel
    {
        var reader = XGBoostJSONReader(bytes: json)
        let document = try reader.read()
        return try document.model(name: name, version: version)
    }

    /// Imports an XGBoost JSON model from bytes; see `xgboost(json:name:version:)`.
    public static func xgboost(json: [UInt8], name: String, version: String) throws(ModelError) -> TreeEnsembleModel {
        try withBytes(json) { bytes throws(ModelError) in try xgboost(json: bytes, name: name, version: version) }
    }

    /// Imports a LightGBM model saved with `Booster.save_model("model.txt")` (the text format, version v2–v4).
    ///
    /// Objective `binary` (with its `sigmoid:` scale), one tree per iteration, numerical splits, no linear trees.
    /// Feature names come from `feature_names=`; LightGBM's generated `Column_N` names are refused.
    public static func lightgbm(text: UnsafeRawBufferPointer, name: String, version: String) throws(ModelError)
        -> TreeEnsembleModel
    {
        var reader = LightGBMTextReader(bytes: text)
        return try reader.read(name: name, version: version)
    }

    /// Imports a LightGBM text model from bytes; see `lightgbm(text:name:version:)`.
    public static func lightgbm(text: [UInt8], name: String, version: String) throws(ModelError) -> TreeEnsembleModel {
        try withBytes(text) { bytes throws(ModelError) in try lightgbm(text: bytes, name: name, version: version) }
    }

    private static func withBytes(
        _ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(ModelError) -> TreeEnsembleModel
    ) throws(ModelError) -> TreeEnsembleModel {
        do {
            return try bytes.withUnsafeBytes { try body($0) }
        } catch let error as ModelError {
            throw error
        } catch {
            throw .invalid("\(error)")
        }
    }

    /// The message that asks for named features, shared by both importers.
    static func unnamedFeatures(_ detail: String, howToName: String) -> ModelError {
        .invalid(
            "the model file has no feature names (\(detail)); Vigil matches model inputs to its features by name, so "
                + "train with named features (\(howToName)) and save the model again")
    }
}

// MARK: - Threshold normalisation

extension TreeEnsembleImport {
    /// The Double `t` with `Float(x) < threshold ⟺ x < t` for every non-NaN Double `x`.
    ///
    /// XGBoost rounds each input to Float (nearest, ties to even) and compares it with its Float threshold. The
    /// inputs that round below the threshold are exactly those below the midpoint between the threshold and the
    /// Float just under it, plus the midpoint itself when it rounds down (ties to even). So comparing the unrounded
    /// input against that midpoint (or the next Double up) is the same test, with no rounding per call.
    static func xgboostThreshold(_ threshold: Float) -> Double {
        if threshold == -.infinity { return -.infinity }
        let below = threshold.nextDown
        let midpoint: Double
        if threshold == .infinity {
            midpoint = Double(Float.greatestFiniteMagnitude) + Double(Float.greatestFiniteMagnitude.ulp) / 2
        } else if below == -.infinity {
            midpoint = -(Double(Float.greatestFiniteMagnitude) + Double(Float.greatestFiniteMagnitude.ulp) / 2)
        } else {
            midpoint = (Double(below) + Double(threshold)) / 2  // exact: two adjacent Floats
        }
        return Float(midpoint) < threshold ? midpoint.nextUp : midpoint
    }

    /// The Double `t` with LightGBM's decision `x' <= threshold` equal to `x < t` for every non-NaN Double `x`, where
    /// `x'` is `x` as LightGBM's predictor reads it: values with |x| ≤ kZeroThreshold become 0.
    static func lightgbmThreshold(_ threshold: Double) -> Double {
        let zero = TreeEnsemble.zeroThreshold
        if threshold >= zero || threshold < -zero { return threshold.nextUp }
        // -kZero ≤ threshold < kZero: the near-zero inputs read as 0 all go the way 0 goes.
        return threshold >= 0 ? zero.nextUp : -zero
    }
}

// MARK: - XGBoost JSON

/// What the XGBoost reader collects from the file before it validates anything.
struct XGBoostDocument {
    struct Tree {
        var numNodes: Double?
        var sizeLeafVector: Double?
        var leftChildren: [Int] = []
        var rightChildren: [Int] = []
        var splitIndices: [Int] = []
        var splitConditions: [Double] = []
        var defaultLeft: [Bool] = []
        var splitType: [Int]?
        var sumHessian: [Double] = []
        var categoriesNodes = 0
        var seen: Set<String> = []
    }

    var version: [Int] = []
    var featureNames: [String]?
    var featureTypes: [String] = []
    var baseScore: String?
    var numClass: Double?
    var numFeature: Double?
    var numTarget: Double?
    var objective: String?
    var boosterName: String?
    var numTrees: Double?
    var numParallelTree: Double?
    var trees: [Tree] = []
    var treeInfo: [Int]?
    var sawTrees = false
    var hasLearner = false

    static let objectives = ["binary:logistic", "reg:logistic", "binary:logitraw"]

    func model(name: String, version: String) throws(ModelError) -> TreeEnsembleModel {
        guard hasLearner else {
            throw .invalid("no \"learner\" object: not an XGBoost model saved with save_model(\"model.json\")")
        }
        guard let objective else { throw .invalid("learner.objective.name is missing") }
        guard Self.objectives.contains(objective) else {
            throw .invalid(
                "learner.objective.name is \"\(objective)\": only binary classifiers trained with "
                    + "binary:logistic, reg:logistic or binary:logitraw are supported")
        }
        if let numClass, numClass > 1 {
            throw .invalid(
                "learner.learner_model_param.num_class is \(Self.show(numClass)): multiclass models are not supported")
        }
        if let numTarget, numTarget != 1 {
            throw .invalid(
                "learner.learner_model_param.num_target is \(Self.show(numTarget)): only single-target models are "
                    + "supported")
        }
        let booster = boosterName ?? "gbtree"
        guard booster == "gbtree" else {
            throw .invalid(
                "learner.gradient_booster.name is \"\(booster)\": only the gbtree booster is supported"
                    + (booster == "dart" ? " (dart weights its trees at prediction time)" : ""))
        }
        guard let numFeature else { throw .invalid("learner.learner_model_param.num_feature is missing") }
        guard numFeature >= 1, numFeature <= Double(TreeEnsemble.maximumFeatureCount),
            numFeature.rounded() == numFeature
        else {
            throw .invalid(
                "learner.learner_model_param.num_feature is \(Self.show(numFeature)); a whole number from 1 to "
                    + "\(TreeEnsemble.maximumFeatureCount) expected")
        }
        let featureCount = Int(numFeature)
        guard let featureNames, !featureNames.isEmpty else {
            throw TreeEnsembleImport.unnamedFeatures(
                "learner.feature_names is empty",
                howToName: "a pandas DataFrame, or xgboost.DMatrix(X, feature_names=[...])")
        }
        guard featureNames.count == featureCount else {
            throw .invalid(
                "learner.feature_names has \(featureNames.count) names, learner_model_param.num_feature says "
                    + "\(featureCount)")
        }
        if !featureTypes.isEmpty {
            guard featureTypes.count == featureCount else {
                throw .invalid(
                    "learner.feature_types has \(featureTypes.count) entries, learner_model_param.num_feature says "
                        + "\(featureCount)")
            }
            for (index, type) in featureTypes.enumerated() where type == "c" {
                throw .invalid(
                    "feature \"\(featureNames[index])\" is categorical (feature_types \"c\"): categorical features are "
                        + "not supported; encode it as numbers before training")
            }
        }
        guard sawTrees else { throw .invalid("learner.gradient_booster.model.trees is missing") }
        if let numTrees, numTrees != Double(trees.count) {
            throw .invalid(
                "learner.gradient_booster.model.trees has \(trees.count) entries, gbtree_model_param.num_trees says "
                    + "\(Self.show(numTrees))")
        }
        if let treeInfo {
            guard treeInfo.count == trees.count else {
                throw .invalid(
                    "learner.gradient_booster.model.tree_info has \(treeInfo.count) entries for \(trees.count) trees")
            }
            if let (tree, group) = treeInfo.enumerated().first(where: { $0.element != 0 }).map({
                ($0.offset, $0.element)
            }) {
                throw .invalid(
                    "tree \(tree): belongs to output group \(group) (tree_info): multi-output models are not supported")
            }
        }

        // base_score: a probability for the logistic objectives, already a margin for logitraw.
        let baseText = baseScore ?? "0.5"
        let base = try Self.parseBaseScore(baseText)
        let baseMargin: Double
        if objective == "binary:logitraw" {
            baseMargin = Double(base)
        } else {
            guard base > 0 && base < 1 else {
                throw .invalid(
                    "learner.learner_model_param.base_score is \(base): \(objective) needs a probability strictly "
                        + "between 0 and 1")
            }
            // XGBoost's ProbToMargin, in Float as xgboost computes it: -logf(1/p - 1).
            baseMargin = Double(-Float.log(1 / base - 1))
        }

        var converted: [TreeEnsemble.Tree] = []
        converted.reserveCapacity(trees.count)
        for (index, tree) in trees.enumerated() {
            converted.append(try Self.convert(tree, index: index))
        }
        let ensemble = try TreeEnsemble(
            featureCount: featureCount, baseMargin: baseMargin, leafSum: .float32, trees: converted)
        let libraryVersion = self.version.isEmpty ? "unknown" : self.version.map(String.init).joined(separator: ".")
        return try TreeEnsembleModel(
            name: name, version: version, featureNames: featureNames, ensemble: ensemble, library: "xgboost",
            libraryVersion: libraryVersion, objective: objective)
    }

    /// `"5E-1"`, `"[5E-1]"` or a bare number, as a Float.
    static func parseBaseScore(_ text: String) throws(ModelError) -> Float {
        var body = Substring(text).drop { $0 == " " }
        if body.first == "[" {
            guard body.last == "]" else {
                throw .invalid("learner.learner_model_param.base_score \"\(text)\" is not a number or a list of one")
            }
            body = body.dropFirst().dropLast()
            let parts = body.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count == 1 else {
                throw .invalid(
                    "learner.learner_model_param.base_score \"\(text)\" has \(parts.count) values: only "
                        + "single-output models are supported")
            }
        }
        let trimmed = body.trimmingSpaces
        guard let value = Double(trimmed), value.isFinite, Float(value).isFinite else {
            throw .invalid("learner.learner_model_param.base_score \"\(text)\" is not a finite number")
        }
        return Float(value)
    }

    static func convert(_ tree: Tree, index: Int) throws(ModelError) -> TreeEnsemble.Tree {
        let place = "tree \(index)"
        if let size = tree.sizeLeafVector, size > 1 {
            throw .invalid(
                "\(place): leaves hold vectors (size_leaf_vector \(show(size))): multi-target models are not supported")
        }
        guard let declared = tree.numNodes else { throw .invalid("\(place): tree_param.num_nodes is missing") }
        let columns: [(String, Int)] = [
            ("left_children", tree.leftChildren.count), ("right_children", tree.rightChildren.count),
            ("split_indices", tree.splitIndices.count), ("split_conditions", tree.splitConditions.count),
            ("default_left", tree.defaultLeft.count), ("sum_hessian", tree.sumHessian.count),
        ]
        for (name, count) in columns where Double(count) != declared {
            if !tree.seen.contains(name) { throw .invalid("\(place): \(name) is missing") }
            throw .invalid("\(place): \(name) has \(count) entries, num_nodes says \(show(declared))")
        }
        let count = tree.leftChildren.count
        guard count >= 1 else { throw .invalid("\(place): num_nodes is 0") }
        if let splitType = tree.splitType {
            guard splitType.count == count else {
                throw .invalid("\(place): split_type has \(splitType.count) entries, num_nodes says \(count)")
            }
            for (node, type) in splitType.enumerated() where type != 0 && tree.leftChildren[node] != -1 {
                throw .invalid(
                    "\(place) node \(node): categorical split (split_type \(type)): categorical splits are not "
                        + "supported")
            }
        }
        if tree.categoriesNodes > 0 {
            throw .invalid("\(place): has categorical splits (categories_nodes): categorical splits are not supported")
        }
        var thresholds = [Double](repeating: 0, count: count)
        var values = [Double](repeating: 0, count: count)
        var covers = [Double](repeating: 0, count: count)
        for node in 0..<count {
            let condition = tree.splitConditions[node]
            let float = Float(condition)
            if tree.leftChildren[node] == -1 {
                guard float.isFinite else {
                    throw .invalid("\(place) node \(node): the leaf value \(condition) is not a finite 32-bit float")
                }
                values[node] = Double(float)
            } else {
                guard !float.isNaN else { throw .invalid("\(place) node \(node): the split condition is NaN") }
                thresholds[node] = TreeEnsembleImport.xgboostThreshold(float)
            }
            let hessian = Float(tree.sumHessian[node])
            guard hessian.isFinite && hessian >= 0 else {
                throw .invalid("\(place) node \(node): sum_hessian \(tree.sumHessian[node]) is not a finite number ≥ 0")
            }
            covers[node] = Double(hessian)
        }
        return TreeEnsemble.Tree(
            leftChildren: tree.leftChildren, rightChildren: tree.rightChildren, features: tree.splitIndices,
            thresholds: thresholds, defaultLeft: tree.defaultLeft, values: values, covers: covers)
    }

    static func show(_ number: Double) -> String {
        number.rounded() == number && number.magnitude < 1e15 ? String(Int(number)) : String(number)
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" || first == "\r" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" || last == "\r" { result = result.dropLast() }
        return result
    }
}
