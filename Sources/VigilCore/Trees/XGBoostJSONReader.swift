/// Reads the parts of an XGBoost JSON model that scoring needs, with `JSONScanner`, skipping the rest.
///
/// Never recurses beyond the fixed shape of the document; skipped values go through the scanner's bounded
/// `skipValue()`. Collects raw values only; `XGBoostDocument.model(name:version:)` validates them.
struct XGBoostJSONReader {
    private var scanner: JSONScanner
    private var document = XGBoostDocument()

    init(bytes: UnsafeRawBufferPointer) {
        scanner = JSONScanner(bytes)
    }

    mutating func read() throws(ModelError) -> XGBoostDocument {
        do {
            guard let first = scanner.peek() else { throw ModelError.invalid("the model file is empty") }
            guard first == UInt8(ascii: "{") else {
                throw ModelError.invalid(
                    "not an XGBoost JSON model: it does not start with '{' (save the model with "
                        + "save_model(\"model.json\"))")
            }
            var probe = scanner
            _ = probe.consume(UInt8(ascii: "{"))
            if let next = probe.peek(), next != UInt8(ascii: "\""), next != UInt8(ascii: "}") {
                throw ModelError.invalid(
                    "this looks like UBJSON (xgboost's binary JSON, .ubj), not JSON: save the model with a .json "
                        + "file name, save_model(\"model.json\")")
            }
            try readRoot()
            try scanner.expectEnd()
        } catch let failure as JSONScanner.Failure {
            throw Self.describe(failure)
        } catch let error as ModelError {
            throw error
        } catch {
            throw .invalid("\(error)")
        }
        return document
    }

    static func describe(_ failure: JSONScanner.Failure) -> ModelError {
        switch failure.kind {
        case .unexpectedEnd:
            return .invalid(
                "the JSON ends early at byte offset \(failure.offset) (is the file truncated?): \(failure.reason)")
        default:
            return .invalid("not valid JSON at byte offset \(failure.offset): \(failure.reason)")
        }
    }

    // MARK: - Document shape

    private mutating func readRoot() throws {
        try scanner.beginObject()
        var first = true
        while let key = try scanner.nextObjectKey(isFirst: &first) {
            if scanner.rawBytes(of: key, equal: "learner") {
                document.hasLearner = true
                try readLearner()
            } else if scanner.rawBytes(of: key, equal: "version") {
                document.version = try readIntArray("version")
            } else {
                try scanner.skipValue()
            }
        }
    }

    private mutating func readLearner() throws {
        try expectObject("learner")
        var first = true
        while let key = try scanner.nextObjectKey(isFirst: &first) {
            if scanner.rawBytes(of: key, equal: "feature_names") {
                document.featureNames = try readStringArray("learner.feature_names")
            } else if scanner.rawBytes(of: key, equal: "feature_types") {
                document.featureTypes = try readStringArray("learner.feature_types")
            } else if scanner.rawBytes(of: key, equal: "learner_model_param") {
                try readModelParam()
            } else if scanner.rawBytes(of: key, equal: "objective") {
                try readObjective()
            } else if scanner.rawBytes(of: key, equal: "gradient_booster") {
                try readBooster(path: "learner.gradient_booster")
            } else {
                try scanner.skipValue()
            }
        }
    }

    private mutating func readModelParam() throws {
        let path = "learner.learner_model_param"
        try expectObject(path)
        var first = true
        while let key = try scanner.nextObjectKey(isFirst: &first) {
            if scanner.rawBytes(of: key, equal: "base_score") {
                switch try scanner.readValue() {
                case .string(let span): document.baseScore = scanner.string(span)
                case .number(let number): document.baseScore = String(number)
                default: throw ModelError.invalid("\(path).base_score is not a number or a string")
                }
            } else if scanner.rawBytes(of: key, equal: "num_class") {
                document.numClass = try readNumberLike("\(path).num_class")
            } else if scanner.rawBytes(of: key, equal: "num_feature") {
                document.numFeature = try readNumberLike("\(path).num_feature")
            } else if scanner.rawBytes(of: key, equal: "num_target") {
                document.numTarget = try readNumberLike("\(path).num_target")
            } else {
                try scanner.skipValue()
            }
        }
    }

    private mutating func readObjective() throws {
        try expectObject("learner.objective")
        var first = true
        while let key = try scanner.nextObjectKey(isFirst: &first) {
            if scanner.rawBytes(of: key, equal: "name") {
                document.objective = try readString("learner.objective.name")
            } else {
                try scanner.skipValue()
            }
        }
    }

    /// `gradient_booster`: `{"name": "gbtree", "model": {...}}`, or dart's `{"name": "dart", "gbtree": {...}}`.
    private mutating func readBooster(path: String) throws {
        try expectObject(path)
        var first = true
        while let key = try scanner.nextObjectKey(isFirst: &first) {
            if scanner.rawBytes(of: key, equal: "name") {
                let name = try readString("\(path).name")
                if document.boosterName == nil { document.boosterName = name }
            } else if scanner.rawBytes(of: key, equal: "model") {
                try readGBTreeModel(path: "\(path).model")
            } else if scanner.rawBytes(of: key, equal: "gbtree") {
                try readBooster(path: "\(path).gbtree")
            } else {
                try scanner.skipValue()
            }
        }
    }

    private mutating func readGBTreeModel(path: String) throws {
        try expectObject(path)
        var first = true
        while let key = try scanner.nextObjectKey(isFirst: &first) {
            if scanner.rawBytes(of: key, equal: "gbtree_model_param") {
                try expectObject("\(path).gbtree_model_param")
                var firstParam = true
                while let param = try scanner.nextObjectKey(isFirst: &firstParam) {
                    if scanner.rawBytes(of: param, equal: "num_trees") {
                        document.numTrees = try readNumberLike("\(path).gbtree_model_param.num_trees")
                    } else if scanner.rawBytes(of: param, equal: "num_parallel_tree") {
                        document.numParallelTree = try readNumberLike("\(path).gbtree_model_param.num_parallel_tree")
                    } else {
                        try scanner.skipValue()
                    }
                }
            } else if scanner.rawBytes(of: key, equal: "trees") {
                document.sawTrees = true
                try expectArray("\(path).trees")
                var firstTree = true
                while try scanner.nextArrayElement(isFirst: &firstTree) {
                    guard document.trees.count < TreeEnsemble.maximumTreeCount else {
                        throw ModelError.invalid(
                            "\(path).trees has more than \(TreeEnsemble.maximumTreeCount) trees, more than is supported"
                        )
                    }
                    document.trees.append(try readTree(index: document.trees.count))
                }
            } else if scanner.rawBytes(of: key, equal: "tree_info") {
                document.treeInfo = try readIntArray("\(path).tree_info")
            } else {
                try scanner.skipValue()
            }
        }
    }

    private mutating func readTree(index: Int) throws -> XGBoostDocument.Tree {
        let place = "tree \(index)"
        try expectObject(place)
        var tree = XGBoostDocument.Tree()
        var first = true
        while let key = try scanner.nextObjectKey(isFirst: &first) {
            let name = scanner.string(key)
            tree.seen.insert(name)
            switch name {
            case "tree_param":
                try expectObject("\(place): tree_param")
                var firstParam = true
                while let param = try scanner.nextObjectKey(isFirst: &firstParam) {
                    if scanner.rawBytes(of: param, equal: "num_nodes") {
                        tree.numNodes = try readNumberLike("\(place): tree_param.num_nodes")
                    } else if scanner.rawBytes(of: param, equal: "size_leaf_vector") {
                        tree.sizeLeafVector = try readNumberLike("\(place): tree_param.size_leaf_vector")
                    } else {
                        try scanner.skipValue()
                    }
                }
            case "left_children": tree.leftChildren = try readIntArray("\(place): left_children")
            case "right_children": tree.rightChildren = try readIntArray("\(place): right_children")
            case "split_indices": tree.splitIndices = try readIntArray("\(place): split_indices")
            case "split_conditions": tree.splitConditions = try readDoubleArray("\(place): split_conditions")
            case "default_left": tree.defaultLeft = try readBoolArray("\(place): default_left")
            case "split_type": tree.splitType = try readIntArray("\(place): split_type")
            case "sum_hessian": tree.sumHessian = try readDoubleArray("\(place): sum_hessian")
            case "categories_nodes": tree.categoriesNodes = try readIntArray("\(place): categories_nodes").count
            default: try scanner.skipValue()
            }
        }
        return tree
    }

    // MARK: - Values

    private mutating func expectObject(_ path: String) throws {
        guard scanner.peek() == UInt8(ascii: "{") else { throw try typeError(path, expected: "an object") }
        try scanner.beginObject()
    }

    private mutating func expectArray(_ path: String) throws {
        guard scanner.peek() == UInt8(ascii: "[") else { throw try typeError(path, expected: "an array") }
        try scanner.beginArray()
    }

    /// The error for a value of the wrong kind, named from its first byte (nothing is consumed).
    private mutating func typeError(_ path: String, expected: String) throws -> ModelError {
        guard let byte = scanner.peek() else {
            throw JSONScanner.Failure(.unexpectedEnd, offset: scanner.offset, reason: "unexpected end of input")
        }
        let found: String
        switch byte {
        case UInt8(ascii: "\""): found = "a string"
        case UInt8(ascii: "{"): found = "an object"
        case UInt8(ascii: "["): found = "an array"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): found = "a boolean"
        case UInt8(ascii: "n"): found = "null"
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): found = "a number"
        default: found = "not a JSON value"
        }
        return .invalid("\(path) is \(found) at byte offset \(scanner.offset), expected \(expected)")
    }

    private mutating func readString(_ path: String) throws -> String {
        guard scanner.peek() == UInt8(ascii: "\"") else { throw try typeError(path, expected: "a string") }
        return try scanner.readString()
    }

    /// A number, or a string holding one (dmlc parameters are written as strings: `"num_feature": "13"`).
    private mutating func readNumberLike(_ path: String) throws -> Double {
        let offset = scanner.offset
        switch try scanner.readValue() {
        case .number(let number): return number
        case .string(let span):
            let text = scanner.string(span)
            guard let number = Double(Substring(text).trimmingSpaces) else {
                throw ModelError.invalid("\(path) is \"\(text)\" at byte offset \(offset), expected a number")
            }
            return number
        default:
            throw ModelError.invalid("\(path) at byte offset \(offset) is not a number or a string holding one")
        }
    }

    private mutating func readStringArray(_ path: String) throws -> [String] {
        try expectArray(path)
        var result: [String] = []
        var first = true
        while try scanner.nextArrayElement(isFirst: &first) {
            result.append(try readString("\(path)[\(result.count)]"))
        }
        return result
    }

    private mutating func readIntArray(_ path: String) throws -> [Int] {
        try expectArray(path)
        var result: [Int] = []
        var first = true
        while try scanner.nextArrayElement(isFirst: &first) {
            let number = try readElementNumber(path, index: result.count)
            guard number.rounded() == number, number.magnitude <= 2_147_483_647 else {
                throw ModelError.invalid("\(path)[\(result.count)] is \(number), expected a 32-bit integer")
            }
            result.append(Int(number))
        }
        return result
    }

    private mutating func readDoubleArray(_ path: String) throws -> [Double] {
        try expectArray(path)
        var result: [Double] = []
        var first = true
        while try scanner.nextArrayElement(isFirst: &first) {
            result.append(try readElementNumber(path, index: result.count))
        }
        return result
    }

    /// `default_left` is 0/1 integers since xgboost 1.6 and booleans before.
    private mutating func readBoolArray(_ path: String) throws -> [Bool] {
        try expectArray(path)
        var result: [Bool] = []
        var first = true
        while try scanner.nextArrayElement(isFirst: &first) {
            let offset = scanner.offset
            switch try scanner.readValue() {
            case .bool(let flag): result.append(flag)
            case .number(let number) where number == 0 || number == 1: result.append(number == 1)
            default:
                throw ModelError.invalid(
                    "\(path)[\(result.count)] at byte offset \(offset) is not 0, 1, true or false")
            }
        }
        return result
    }

    private mutating func readElementNumber(_ path: String, index: Int) throws -> Double {
        let offset = scanner.offset
        switch try scanner.readValue() {
        case .number(let number): return number
        case .nonFiniteLiteral: throw ModelError.invalid("\(path)[\(index)] is NaN or Infinity (byte offset \(offset))")
        default: throw ModelError.invalid("\(path)[\(index)] at byte offset \(offset) is not a number")
        }
    }
}
