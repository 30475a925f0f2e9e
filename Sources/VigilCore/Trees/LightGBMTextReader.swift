/// Reads LightGBM's text model format (`Booster.save_model("model.txt")`) into a `TreeEnsembleModel`.
///
/// The file is `key=value` lines: a header, then one block per tree starting `Tree=N`, then `end of trees` and
/// sections scoring does not need (feature importances, parameters). Every refusal names the line or tree.
struct LightGBMTextReader {
    let bytes: UnsafeRawBufferPointer

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Most leaves a tree may declare.
    static let maximumLeaves = 1 << 21

    mutating func read(name: String, version: String) throws(ModelError) -> TreeEnsembleModel {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).makeIterator()
        var lineNumber = 0
        func nextLine() -> Substring? {
            guard let line = lines.next() else { return nil }
            lineNumber += 1
            return line.last == "\r" ? line.dropLast() : line
        }

        guard let first = nextLine(), !(first.isEmpty && text.isEmpty) else {
            throw .invalid("the model file is empty")
        }
        guard first.trimmingSpaces == "tree" else {
            let shown = first.prefix(40)
            throw .invalid(
                "not a LightGBM text model: line 1 is \"\(shown)\", expected \"tree\" (save the model with "
                    + "save_model(\"model.txt\"))")
        }

        // Header, up to the first tree.
        var header: [Substring: Substring] = [:]
        var pending: Substring?
        while let line = nextLine() {
            if line.hasPrefix("Tree=") {
                pending = line
                break
            }
            if line.hasPrefix("end of trees") {
                pending = line
                break
            }
            let trimmed = line.trimmingSpaces
            if trimmed.isEmpty { continue }
            if trimmed == "average_output" {
                throw .invalid(
                    "line \(lineNumber): average_output (a random forest, boosting=rf) is not supported: only "
                        + "boosted trees (gbdt) are")
            }
            guard let equals = trimmed.firstIndex(of: "=") else { continue }
            header[trimmed[..<equals]] = trimmed[trimmed.index(after: equals)...]
        }

        // Objective: "binary sigmoid:1".
        guard let objectiveLine = header["objective"] else { throw .invalid("the header has no objective= line") }
        let objectiveParts = objectiveLine.split(separator: " ")
        guard objectiveParts.first == "binary" else {
            throw .invalid(
                "objective=\(objectiveLine): only binary classifiers (objective binary) are supported, not "
                    + "\(objectiveParts.first.map { "\($0)" } ?? "an empty objective")")
        }
        var sigmoid = 1.0
        for part in objectiveParts.dropFirst() where part.hasPrefix("sigmoid:") {
            guard let value = Double(part.dropFirst("sigmoid:".count)), value.isFinite, value > 0 else {
                throw .invalid("objective=\(objectiveLine): the sigmoid scale is not a positive number")
            }
            sigmoid = value
        }
        if let numClass = header["num_class"], numClass != "1" {
            throw .invalid("num_class=\(numClass): multiclass models are not supported")
        }
        if let perIteration = header["num_tree_per_iteration"], perIteration != "1" {
            throw .invalid("num_tree_per_iteration=\(perIteration): only one tree per iteration is supported")
        }
        guard let maxFeatureText = header["max_feature_idx"] else {
            throw .invalid("the header has no max_feature_idx= line")
        }
        guard let maxFeature = Int(maxFeatureText), maxFeature >= 0,
            maxFeature < TreeEnsemble.maximumFeatureCount
        else {
            throw .invalid(
                "max_feature_idx=\(maxFeatureText): a whole number from 0 to \(TreeEnsemble.maximumFeatureCount - 1) "
                    + "expected")
        }
        let featureCount = maxFeature + 1
        guard let namesLine = header["feature_names"], !namesLine.isEmpty else {
            throw TreeEnsembleImport.unnamedFeatures(
                "no feature_names= line", howToName: "a pandas DataFrame, or lightgbm.Dataset(X, feature_name=[...])")
        }
        let featureNames = namesLine.split(separator: " ").map(String.init)
        guard featureNames.count == featureCount else {
            throw .invalid(
                "feature_names= lists \(featureNames.count) names, max_feature_idx=\(maxFeature) says \(featureCount)")
        }
        if featureNames.enumerated().allSatisfy({ $0.element == "Column_\($0.offset)" }) {
            throw TreeEnsembleImport.unnamedFeatures(
                "feature_names= holds LightGBM's generated Column_0, Column_1, …",
                howToName: "a pandas DataFrame, or lightgbm.Dataset(X, feature_name=[...])")
        }

        // Trees.
        var trees: [TreeEnsemble.Tree] = []
        var sawEnd = false
        while let line = pending {
            pending = nil
            if line.hasPrefix("end of trees") {
                sawEnd = true
                break
            }
            let label = line.dropFirst("Tree=".count)
            guard Int(label) == trees.count else {
                throw .invalid("line \(lineNumber): \"\(line)\", expected Tree=\(trees.count)")
            }
            guard trees.count < TreeEnsemble.maximumTreeCount else {
                throw .invalid("more than \(TreeEnsemble.maximumTreeCount) trees, more than is supported")
            }
            var fields: [Substring: Substring] = [:]
            while let next = nextLine() {
                if next.hasPrefix("Tree=") || next.hasPrefix("end of trees") {
                    pending = next
                    break
                }
                let trimmed = next.trimmingSpaces
                guard let equals = trimmed.firstIndex(of: "=") else { continue }
                fields[trimmed[..<equals]] = trimmed[trimmed.index(after: equals)...]
            }
            trees.append(try Self.tree(fields, index: trees.count, featureCount: featureCount, scale: sigmoid))
        }
        guard sawEnd else {
            throw .invalid(
                trees.isEmpty
                    ? "the file has no trees (no Tree=0 line)"
                    : "the file ends after tree \(trees.count - 1) without \"end of trees\" (is it truncated?)")
        }
        if let sizes = header["tree_sizes"] {
            let declared = sizes.split(separator: " ").count
            guard declared == trees.count else {
                throw .invalid("tree_sizes= lists \(declared) trees, the file has \(trees.count)")
            }
        }
        let ensemble = try TreeEnsemble(featureCount: featureCount, baseMargin: 0, leafSum: .double, trees: trees)
        return try TreeEnsembleModel(
            name: name, version: version, featureNames: featureNames, ensemble: ensemble, library: "lightgbm",
            libraryVersion: header["version"].map(String.init) ?? "unknown", objective: String(objectiveLine))
    }

    /// One `Tree=N` block, normalised: leaves renumbered after the split nodes, thresholds made strict, missing
    /// types turned into default directions, leaf values scaled by the sigmoid.
    static func tree(_ fields: [Substring: Substring], index: Int, featureCount: Int, scale: Double)
        throws(ModelError) -> TreeEnsemble.Tree
    {
        let place = "tree \(index)"
        guard let leavesText = fields["num_leaves"] else { throw .invalid("\(place): num_leaves is missing") }
        guard let leafCount = Int(leavesText), leafCount >= 1, leafCount <= maximumLeaves else {
            throw .invalid("\(place): num_leaves=\(leavesText), expected a whole number from 1 to \(maximumLeaves)")
        }
        if let categories = fields["num_cat"], categories != "0" {
            throw .invalid(
                "\(place): num_cat=\(categories): categorical splits are not supported; encode the feature as numbers "
                    + "before training")
        }
        if let linear = fields["is_linear"], linear != "0" {
            throw .invalid("\(place): is_linear=\(linear): linear trees are not supported")
        }
        let splits = leafCount - 1
        func numbers(_ key: Substring, count: Int) throws(ModelError) -> [Double] {
            guard let text = fields[key] else {
                if count == 0 { return [] }
                throw .invalid("\(place): \(key) is missing")
            }
            var result: [Double] = []
            result.reserveCapacity(min(count, text.utf8.count / 2 + 1))  // never more than the line can hold
            for token in text.split(separator: " ") {
                guard result.count <= count else { break }
                guard let value = Double(token) else {
                    throw .invalid("\(place): \(key) entry \(result.count) is \"\(token.prefix(40))\", not a number")
                }
                result.append(value)
            }
            guard result.count == count else {
                let entries = text.split(separator: " ").count
                throw .invalid(
                    "\(place): \(key) has \(entries) entries, num_leaves=\(leafCount) needs \(count)")
            }
            return result
        }
        func integers(_ key: Substring, count: Int) throws(ModelError) -> [Int] {
            let values = try numbers(key, count: count)
            var result: [Int] = []
            result.reserveCapacity(values.count)
            for (position, value) in values.enumerated() {
                guard value.rounded() == value, value.magnitude <= 2_147_483_647 else {
                    throw .invalid("\(place): \(key) entry \(position) is \(value), not an integer")
                }
                result.append(Int(value))
            }
            return result
        }

        let leafValues = try numbers("leaf_value", count: leafCount)
        if splits == 0 {
            let value = leafValues[0] * scale
            guard value.isFinite else {
                throw .invalid("\(place) leaf 0: the leaf value \(leafValues[0]) is not finite")
            }
            return .leaf(value)
        }
        let leafCounts = try numbers("leaf_count", count: leafCount)
        let splitFeatures = try integers("split_feature", count: splits)
        let thresholds = try numbers("threshold", count: splits)
        let decisionTypes = try integers("decision_type", count: splits)
        let leftChildren = try integers("left_child", count: splits)
        let rightChildren = try integers("right_child", count: splits)
        let internalCounts = try numbers("internal_count", count: splits)

        // Unified numbering: split node i stays i, leaf k becomes splits + k.
        let nodeCount = splits + leafCount
        var left = [Int](repeating: -1, count: nodeCount)
        var right = [Int](repeating: -1, count: nodeCount)
        var features = [Int](repeating: 0, count: nodeCount)
        var normalised = [Double](repeating: 0, count: nodeCount)
        var defaultLeft = [Bool](repeating: false, count: nodeCount)
        var zeroIsMissing = [Bool](repeating: false, count: nodeCount)
        var values = [Double](repeating: 0, count: nodeCount)
        var covers = [Double](repeating: 0, count: nodeCount)
        func child(_ raw: Int, _ side: String, of node: Int) throws(ModelError) -> Int {
            if raw >= 0 {
                guard raw < splits else {
                    throw .invalid(
                        "\(place) split node \(node): \(side)_child \(raw) is out of range (num_leaves=\(leafCount) "
                            + "has \(splits) split nodes)")
                }
                return raw
            }
            let leaf = ~raw
            guard leaf < leafCount else {
                throw .invalid(
                    "\(place) split node \(node): \(side)_child \(raw) names leaf \(leaf), out of range "
                        + "(num_leaves=\(leafCount))")
            }
            return splits + leaf
        }
        for node in 0..<splits {
            let here = "\(place) split node \(node)"
            let type = decisionTypes[node]
            guard type >= 0 && type < 16 else { throw .invalid("\(here): decision_type \(type) is not valid") }
            if type & 1 != 0 {
                throw .invalid(
                    "\(here): categorical split (decision_type \(type)): categorical splits are not supported")
            }
            let missingType = (type >> 2) & 3
            guard missingType != 3 else { throw .invalid("\(here): decision_type \(type) has no valid missing type") }
            let threshold = thresholds[node]
            guard !threshold.isNaN else { throw .invalid("\(here): the threshold is NaN") }
            let strict = TreeEnsembleImport.lightgbmThreshold(threshold)
            left[node] = try child(leftChildren[node], "left", of: node)
            right[node] = try child(rightChildren[node], "right", of: node)
            features[node] = splitFeatures[node]
            normalised[node] = strict
            switch missingType {
            case 0:  // None: a missing input is read as 0.
                defaultLeft[node] = 0 < strict
            case 1:  // Zero: NaN and |x| ≤ kZeroThreshold go the default way.
                defaultLeft[node] = type & 2 != 0
                zeroIsMissing[node] = true
            default:  // NaN
                defaultLeft[node] = type & 2 != 0
            }
            covers[node] = internalCounts[node]
        }
        for leaf in 0..<leafCount {
            let value = leafValues[leaf] * scale
            guard value.isFinite else {
                throw .invalid("\(place) leaf \(leaf): the leaf value \(leafValues[leaf]) is not finite")
            }
            values[splits + leaf] = value
            covers[splits + leaf] = leafCounts[leaf]
        }
        // The importer's numbering puts leaves after splits; the root is split node 0.
        return TreeEnsemble.Tree(
            leftChildren: left, rightChildren: right, features: features, thresholds: normalised,
            defaultLeft: defaultLeft, zeroIsMissing: zeroIsMissing, values: values, covers: covers,
            firstLeafNumber: splits)
    }
}
