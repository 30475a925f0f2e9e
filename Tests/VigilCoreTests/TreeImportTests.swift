import Testing

@testable import VigilCore

/// Small hand-written model files, valid and broken.
enum TreeFiles {
    /// An XGBoost JSON model: one tree, x0 < 0.5 → [x1 < 2 → leaf | leaf] | leaf, in xgboost 3's layout.
    static func xgboost(
        baseScore: String = #""[5E-1]""#, objective: String = "binary:logistic", featureNames: String = #"["a","b"]"#,
        featureTypes: String = "[]", numFeature: String = "2", booster: String = "gbtree", numNodes: String = "5",
        left: String = "[1,3,-1,-1,-1]", right: String = "[2,4,-1,-1,-1]", indices: String = "[0,1,0,0,0]",
        conditions: String = "[5E-1,2E0,3E-1,-2E-1,1E-1]", defaultLeft: String = "[0,1,0,0,0]",
        splitType: String = "[0,0,0,0,0]", hessian: String = "[1E1,6E0,4E0,3E0,3E0]", trees: Int = 1,
        numTrees: String? = nil
    ) -> String {
        let tree = """
            {"base_weights":[0,0,0,0,0],"categories":[],"categories_nodes":[],"categories_segments":[],\
            "categories_sizes":[],"default_left":\(defaultLeft),"id":0,"left_children":\(left),\
            "loss_changes":[0,0,0,0,0],"parents":[2147483647,0,0,1,1],"right_children":\(right),\
            "split_conditions":\(conditions),"split_indices":\(indices),"split_type":\(splitType),\
            "sum_hessian":\(hessian),\
            "tree_param":{"num_deleted":"0","num_feature":"\(numFeature)","num_nodes":"\(numNodes)",\
            "size_leaf_vector":"1"}}
            """
        let text = """
            {"learner":{"attributes":{},"feature_names":\(featureNames),"feature_types":\(featureTypes),\
            "gradient_booster":{"model":{"gbtree_model_param":{"num_parallel_tree":"1",\
            "num_trees":"\(numTrees ?? String(trees))"},"iteration_indptr":[0,1],"tree_info":[\
            \(Array(repeating: "0", count: trees).joined(separator: ","))],\
            "trees":[\(Array(repeating: tree, count: trees).joined(separator: ","))]},"name":"\(booster)"},\
            "learner_model_param":{"base_score":\(baseScore),"boost_from_average":"1","num_class":"0",\
            "num_feature":"\(numFeature)","num_target":"1"},\
            "objective":{"name":"\(objective)","reg_loss_param":{"scale_pos_weight":"1"}}},"version":[3,2,0]}
            """
        return text
    }

    /// A LightGBM text model: one tree, x0 ≤ 0.5 → [x1 ≤ 2 → leaf 0 | leaf 2] | leaf 1.
    static func lightgbm(
        objective: String = "binary sigmoid:1", names: String = "a b", maxFeature: String = "1",
        numLeaves: String = "3", splitFeature: String = "0 1", threshold: String = "0.5 2",
        decisionType: String = "2 8", left: String = "1 -1", right: String = "-2 -3",
        leafValue: String = "0.25 -0.5 0.75", leafCount: String = "30 40 30", internalCount: String = "100 60",
        numCat: String = "0", end: Bool = true
    ) -> String {
        var text = """
            tree
            version=v4
            num_class=1
            num_tree_per_iteration=1
            label_index=0
            max_feature_idx=\(maxFeature)
            objective=\(objective)
            feature_names=\(names)
            feature_infos=[0:1] [0:4]
            tree_sizes=300

            Tree=0
            num_leaves=\(numLeaves)
            num_cat=\(numCat)
            split_feature=\(splitFeature)
            split_gain=10 5
            threshold=\(threshold)
            decision_type=\(decisionType)
            left_child=\(left)
            right_child=\(right)
            leaf_value=\(leafValue)
            leaf_weight=1 1 1
            leaf_count=\(leafCount)
            internal_value=0 0
            internal_weight=1 1
            internal_count=\(internalCount)
            is_linear=0
            shrinkage=1


            """
        if end { text += trailer }
        return text
    }

    static let trailer =
        "end of trees\n\nfeature_importances:\na=1\n\nparameters:\n[boosting: gbdt]\nend of parameters\n"

    static func message(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as ModelError {
            return error.description
        } catch {
            return "\(error)"
        }
    }

    static func xgboostError(_ file: String) -> String? {
        xgboostError(Array(file.utf8))
    }

    static func xgboostError(_ bytes: [UInt8]) -> String? {
        message { _ = try TreeEnsembleImport.xgboost(json: bytes, name: "m", version: "1") }
    }

    static func lightgbmError(_ file: String) -> String? {
        lightgbmError(Array(file.utf8))
    }

    static func lightgbmError(_ bytes: [UInt8]) -> String? {
        message { _ = try TreeEnsembleImport.lightgbm(text: bytes, name: "m", version: "1") }
    }

    static func xgboostModel(_ file: String) throws -> TreeEnsembleModel {
        try TreeEnsembleImport.xgboost(json: Array(file.utf8), name: "m", version: "1")
    }

    static func lightgbmModel(_ file: String) throws -> TreeEnsembleModel {
        try TreeEnsembleImport.lightgbm(text: Array(file.utf8), name: "m", version: "1")
    }
}

@Suite("Tree importers: normalisation and refusals")
struct TreeImportTests {
    // MARK: - Comparison rules

    @Test("XGBoost thresholds: Float(x) < t exactly when x < the normalised Double threshold")
    func xgboostThresholdEquivalence() {
        var rng = SplitMix64(seed: 5)
        var thresholds: [Float] = [
            0, -0, 1, -1, 0.5, 1.5, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude,
            -.leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .infinity, -.infinity,
            16_777_216, 3.7125e-1, 0.1, -0.1, 2, 4, 8,
        ]
        for _ in 0..<2000 { thresholds.append(Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng))) }
        for threshold in thresholds where !threshold.isNaN {
            let normalised = TreeEnsembleImport.xgboostThreshold(threshold)
            var probes: [Double] = [
                Double(threshold), Double(threshold.nextDown), Double(threshold.nextUp), normalised,
                normalised.nextUp, normalised.nextDown, 0, -0.0, .infinity, -.infinity,
                Double(Float.greatestFiniteMagnitude) * 2, -Double(Float.greatestFiniteMagnitude) * 2,
            ]
            let low = Double(threshold.nextDown)
            let high = Double(threshold)
            if low.isFinite && high.isFinite {
                let middle = (low + high) / 2
                probes += [middle, middle.nextUp, middle.nextDown, low + (high - low) / 4, high - (high - low) / 4]
            }
            for x in probes where !x.isNaN {
                #expect((Float(x) < threshold) == (x < normalised), "x \(x) threshold \(threshold)")
            }
        }
    }

    @Test("LightGBM thresholds: its decision on x (near-zero read as 0) is x < the normalised threshold")
    func lightgbmThresholdEquivalence() {
        let zero = TreeEnsemble.zeroThreshold
        var rng = SplitMix64(seed: 6)
        var thresholds: [Double] = [
            zero, -zero, zero.nextUp, zero.nextDown, -zero.nextUp, -zero.nextDown, 0, -0.0, 1e-36, -1e-36, 5e-36,
            -5e-36, 1, -1, 0.5, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
        ]
        for _ in 0..<500 { thresholds.append(Double.random(in: -10...10, using: &rng)) }
        for threshold in thresholds {
            let normalised = TreeEnsembleImport.lightgbmThreshold(threshold)
            let probes: [Double] = [
                0, -0.0, 1e-36, -1e-36, zero, -zero, zero.nextUp, -zero.nextUp, zero.nextDown, -zero.nextDown,
                threshold, threshold.nextUp, threshold.nextDown, 1, -1, .infinity, -.infinity,
            ]
            for x in probes where !x.isNaN {
                let read = x.magnitude <= zero ? 0 : x
                let lightgbm = read <= threshold
                if threshold == .infinity && x == .infinity { continue }  // documented: +inf input vs +inf threshold
                #expect(lightgbm == (x < normalised), "x \(x) threshold \(threshold)")
            }
        }
    }

    @Test("LightGBM missing types: None, Zero and NaN, default left or right, as NumericalDecision decides")
    func lightgbmMissingTypes() throws {
        let zero = TreeEnsemble.zeroThreshold
        for decisionType in [0, 2, 4, 6, 8, 10] {
            for threshold in [0.5, -0.5, zero, 0.0, -zero] {
                // Given a stump on feature 0 with this decision type and threshold: left leaf −1, right leaf +1
                let file = TreeFiles.lightgbm(
                    numLeaves: "2", splitFeature: "0", threshold: String(threshold), decisionType: "\(decisionType)",
                    left: "-1", right: "-2", leafValue: "-1 1", leafCount: "50 50", internalCount: "100")
                let model = try TreeFiles.lightgbmModel(file)
                for x in [Double.nan, 0, -0.0, 1e-36, -1e-36, 0.5, -0.5, 1, -1, zero, -zero] {
                    // Then Vigil goes where LightGBM's predictor goes
                    let missingType = (decisionType >> 2) & 3
                    var value = x.magnitude <= zero ? 0 : x  // LightGBM's predictor drops near-zero cells
                    if value.isNaN && missingType != 2 { value = 0 }
                    let goesLeft: Bool
                    if (missingType == 1 && value.magnitude <= zero) || (missingType == 2 && value.isNaN) {
                        goesLeft = decisionType & 2 != 0
                    } else {
                        goesLeft = value <= threshold
                    }
                    #expect(
                        model.margin([x, 0]) == (goesLeft ? -1 : 1),
                        "decision_type \(decisionType) threshold \(threshold) x \(x)")
                }
            }
        }
    }

    // MARK: - XGBoost JSON

    @Test("a hand-written XGBoost file imports and scores as xgboost would")
    func xgboostSmall() throws {
        let model = try TreeFiles.xgboostModel(TreeFiles.xgboost())
        #expect(model.featureNames == ["a", "b"])
        #expect(model.metadata.libraryVersion == "3.2.0")
        #expect(model.metadata.maxDepth == 2)
        #expect(model.metadata.baseMargin == 0)
        #expect(model.margin([0.2, 1]) == Double(Float(-0.2)))
        #expect(model.margin([0.2, 2]) == Double(Float(0.1)))  // on the threshold: right
        #expect(model.margin([0.2, .nan]) == Double(Float(-0.2)))  // default left
        #expect(model.margin([0.5, 1]) == Double(Float(0.3)))
        #expect(model.margin([.nan, 1]) == Double(Float(0.3)))  // default right
        #expect(model.margin([0.5 - 0x1p-27, 1]) == Double(Float(0.3)))  // rounds to the float 0.5: not below it
        #expect(model.margin([0.5 - 0x1p-25, 1]) == Double(Float(-0.2)))  // the float just below 0.5
    }

    @Test(
        "base_score in every form xgboost writes",
        arguments: [
            (#""[5E-1]""#, 0.0), (#""5E-1""#, 0.0), ("0.5", 0.0), (#""[2E-1]""#, Double(-Float(1.3862943611198906))),
            (#""[ 5E-1 ]""#, 0.0),
        ])
    func baseScores(text: String, margin: Double) throws {
        let model = try TreeFiles.xgboostModel(TreeFiles.xgboost(baseScore: text))
        #expect(model.metadata.baseMargin == margin)
        let raw = try TreeFiles.xgboostModel(TreeFiles.xgboost(baseScore: text, objective: "binary:logitraw"))
        #expect(raw.metadata.baseMargin == Double(Float(raw.metadata.baseMargin)))
    }

    @Test(
        "broken or unsupported XGBoost files are refused, saying what and where",
        arguments: [
            (TreeFiles.xgboost(left: "[1,3,-1,-1]"), "tree 0: left_children has 4 entries, num_nodes says 5"),
            (TreeFiles.xgboost(numNodes: "33"), "tree 0: left_children has 5 entries, num_nodes says 33"),
            (TreeFiles.xgboost(hessian: "[1,2]"), "tree 0: sum_hessian has 2 entries, num_nodes says 5"),
            (
                TreeFiles.xgboost(left: "[1,7,-1,-1,-1]"),
                "tree 0 node 1: left child 7 is out of range (the tree has 5 nodes)"
            ),
            (TreeFiles.xgboost(left: "[1,-5,-1,-1,-1]"), "tree 0 node 1: left child -5 is out of range"),
            (TreeFiles.xgboost(left: "[1,0,-1,-1,-1]"), "tree 0 node 1: left child node 0 is reached twice"),
            (
                TreeFiles.xgboost(left: "[1,3,-1,-1,-1]", right: "[2,3,-1,-1,-1]"),
                "tree 0 node 1: right child node 3 is reached twice"
            ),
            (TreeFiles.xgboost(right: "[2,-1,-1,-1,-1]"), "tree 0 node 1: has a left child but no right child"),
            (
                TreeFiles.xgboost(indices: "[0,2,0,0,0]"),
                "tree 0 node 1: feature index 2 is out of range (the model has 2 features)"
            ),
            (TreeFiles.xgboost(indices: "[0,1.5,0,0,0]"), "tree 0: split_indices[1] is 1.5, expected a 32-bit integer"),
            (
                TreeFiles.xgboost(conditions: "[5E-1,NaN,3E-1,-2E-1,1E-1]"),
                "tree 0: split_conditions[1] is NaN or Infinity"
            ),
            (
                TreeFiles.xgboost(conditions: "[5E-1,2E0,1E39,-2E-1,1E-1]"),
                "tree 0 node 2: the leaf value 1e+39 is not a finite 32-bit float"
            ),
            (
                TreeFiles.xgboost(hessian: "[1E1,-6E0,4E0,3E0,3E0]"),
                "tree 0 node 1: sum_hessian -6.0 is not a finite number ≥ 0"
            ),
            (TreeFiles.xgboost(splitType: "[0,1,0,0,0]"), "tree 0 node 1: categorical split (split_type 1)"),
            (TreeFiles.xgboost(defaultLeft: "[0,2,0,0,0]"), "tree 0: default_left[1] at byte offset"),
            (TreeFiles.xgboost(featureNames: "[]"), "no feature names (learner.feature_names is empty)"),
            (
                TreeFiles.xgboost(featureNames: #"["a"]"#),
                "learner.feature_names has 1 names, learner_model_param.num_feature says 2"
            ),
            (TreeFiles.xgboost(featureNames: #"["a","a"]"#), "feature 1: the name \"a\" is listed twice"),
            (TreeFiles.xgboost(featureTypes: #"["float","c"]"#), "feature \"b\" is categorical (feature_types \"c\")"),
            (TreeFiles.xgboost(objective: "multi:softprob"), "learner.objective.name is \"multi:softprob\""),
            (TreeFiles.xgboost(objective: "rank:ndcg"), "learner.objective.name is \"rank:ndcg\""),
            (TreeFiles.xgboost(objective: "reg:squarederror"), "learner.objective.name is \"reg:squarederror\""),
            (TreeFiles.xgboost(booster: "dart"), "learner.gradient_booster.name is \"dart\""),
            (TreeFiles.xgboost(baseScore: #""[5E-1,5E-1]""#), "base_score \"[5E-1,5E-1]\" has 2 values"),
            (TreeFiles.xgboost(baseScore: #""1.5""#), "base_score is 1.5: binary:logistic needs a probability"),
            (TreeFiles.xgboost(baseScore: #""abc""#), "base_score \"abc\" is not a finite number"),
            (TreeFiles.xgboost(numTrees: "3"), "trees has 1 entries, gbtree_model_param.num_trees says 3"),
            (TreeFiles.xgboost(numFeature: "0"), "num_feature is 0; a whole number from 1"),
            (#"{"version":[3,2,0]}"#, "no \"learner\" object"),
            ("[1,2]", "not an XGBoost JSON model"),
            ("", "the model file is empty"),
            ("{L\u{0}\u{7}learner{", "looks like UBJSON"),
            (
                #"{"learner":{"feature_names":["a"}}"#,
                "not valid JSON at byte offset 32: unexpected '}', expected ',' or ']'"
            ),
        ])
    func xgboostRefusals(file: String, message: String) {
        let error = TreeFiles.xgboostError(file)
        #expect(error?.contains(message) == true, "\(error ?? "imported")")
    }

    @Test("truncated XGBoost JSON is refused at every cut, never crashing")
    func xgboostTruncated() {
        let file = Array(TreeFiles.xgboost().utf8)
        for cut in stride(from: 1, to: file.count - 1, by: 7) {
            let error = TreeFiles.xgboostError(Array(file[..<cut]))
            #expect(error != nil, "cut at \(cut)")
        }
        let error = TreeFiles.xgboostError(Array(file[..<(file.count / 2)]))
        #expect(error?.contains("is the file truncated?") == true, "\(error ?? "")")
    }

    @Test("a tree deeper than the supported depth is refused before anything walks it")
    func tooDeep() {
        // A chain 300 levels deep: each node's left child is a leaf, its right child the next level.
        let depth = 300
        var left: [String] = []
        var right: [String] = []
        for level in 0..<depth {
            left += ["\(2 * level + 1)", "-1"]
            right += ["\(2 * level + 2)", "-1"]
        }
        left.append("-1")
        right.append("-1")
        let count = left.count
        let zeros = Array(repeating: "0", count: count).joined(separator: ",")
        let ones = Array(repeating: "1", count: count).joined(separator: ",")
        let file = TreeFiles.xgboost(
            numNodes: "\(count)", left: "[\(left.joined(separator: ","))]", right: "[\(right.joined(separator: ","))]",
            indices: "[\(zeros)]", conditions: "[\(zeros)]", defaultLeft: "[\(zeros)]", splitType: "[\(zeros)]",
            hessian: "[\(ones)]")
        let error = TreeFiles.xgboostError(file)
        #expect(error?.contains("tree 0: deeper than 128 levels") == true, "\(error ?? "imported")")
    }

    @Test("a zero cover on a branch the background never reaches explains without NaN")
    func zeroCover() throws {
        let model = try TreeFiles.xgboostModel(TreeFiles.xgboost(hessian: "[1E1,1E1,0E0,5E0,5E0]"))
        for x in [[0.2, 1], [0.7, 1], [Double.nan, .nan]] {
            let explanation = model.explain(x)
            #expect(explanation.contributions.allSatisfy { $0.isFinite })
            #expect(explanation.additivityError < 1e-12)
        }
    }

    // MARK: - LightGBM text

    @Test("a hand-written LightGBM file imports; the sigmoid scale turns raw scores into log-odds")
    func lightgbmSmall() throws {
        let model = try TreeFiles.lightgbmModel(TreeFiles.lightgbm())
        #expect(model.featureNames == ["a", "b"])
        #expect(model.margin([0.5, 2]) == 0.25)  // on both thresholds: left, left
        #expect(model.margin([0.5, 2.5]) == 0.75)
        #expect(model.margin([0.6, 0]) == -0.5)
        #expect(model.margin([0.2, .nan]) == 0.75)  // decision_type 8: NaN missing type, default right
        let scaled = try TreeFiles.lightgbmModel(TreeFiles.lightgbm(objective: "binary sigmoid:2"))
        #expect(scaled.margin([0.6, 0]) == -1.0)
        #expect(abs(scaled.explain([0.6, 0]).contributions[0] - 2 * model.explain([0.6, 0]).contributions[0]) < 1e-15)
    }

    @Test(
        "broken or unsupported LightGBM files are refused, saying what and where",
        arguments: [
            (TreeFiles.lightgbm(left: "1"), "tree 0: left_child has 1 entries, num_leaves=3 needs 2"),
            (TreeFiles.lightgbm(leafValue: "1 2"), "tree 0: leaf_value has 2 entries, num_leaves=3 needs 3"),
            (TreeFiles.lightgbm(internalCount: "100"), "tree 0: internal_count has 1 entries, num_leaves=3 needs 2"),
            (TreeFiles.lightgbm(left: "5 -1"), "tree 0 split node 0: left_child 5 is out of range"),
            (TreeFiles.lightgbm(right: "-2 -9"), "tree 0 split node 1: right_child -9 names leaf 8, out of range"),
            (TreeFiles.lightgbm(left: "1 0"), "tree 0 split node 1: left child split node 0 is reached twice"),
            (
                TreeFiles.lightgbm(left: "1 -1", right: "-1 -3"),
                "tree 0 split node 1: left child leaf 0 is reached twice"
            ),
            (TreeFiles.lightgbm(splitFeature: "0 4"), "tree 0 split node 1: feature index 4 is out of range"),
            (TreeFiles.lightgbm(threshold: "0.5 nan"), "tree 0 split node 1: the threshold is NaN"),
            (TreeFiles.lightgbm(threshold: "0.5 x"), "tree 0: threshold entry 1 is \"x\", not a number"),
            (TreeFiles.lightgbm(leafValue: "1 inf 2"), "tree 0 leaf 1: the leaf value inf is not finite"),
            (TreeFiles.lightgbm(decisionType: "2 9"), "tree 0 split node 1: categorical split (decision_type 9)"),
            (
                TreeFiles.lightgbm(decisionType: "2 12"),
                "tree 0 split node 1: decision_type 12 has no valid missing type"
            ),
            (TreeFiles.lightgbm(leafCount: "30 -40 30"), "tree 0 leaf 1: the cover -40.0 is not a finite number ≥ 0"),
            (TreeFiles.lightgbm(numCat: "1"), "tree 0: num_cat=1: categorical splits are not supported"),
            (TreeFiles.lightgbm(numLeaves: "0"), "tree 0: num_leaves=0, expected a whole number"),
            (TreeFiles.lightgbm(numLeaves: "99999999999"), "tree 0: num_leaves=99999999999"),
            (TreeFiles.lightgbm(objective: "multiclass num_class:3"), "objective=multiclass num_class:3: only binary"),
            (TreeFiles.lightgbm(objective: "lambdarank"), "objective=lambdarank: only binary classifiers"),
            (TreeFiles.lightgbm(objective: "binary sigmoid:-1"), "the sigmoid scale is not a positive number"),
            (TreeFiles.lightgbm(names: "Column_0 Column_1"), "train with named features"),
            (TreeFiles.lightgbm(names: "a"), "feature_names= lists 1 names, max_feature_idx=1 says 2"),
            (TreeFiles.lightgbm(end: false), "the file ends after tree 0 without \"end of trees\" (is it truncated?)"),
            ("{\"learner\":{}}", "not a LightGBM text model: line 1 is"),
            ("", "the model file is empty"),
        ])
    func lightgbmRefusals(file: String, message: String) {
        let error = TreeFiles.lightgbmError(file)
        #expect(error?.contains(message) == true, "\(error ?? "imported")")
    }

    @Test("truncated LightGBM text is refused at every cut, never crashing")
    func lightgbmTruncated() {
        let file = Array(TreeFiles.lightgbm().utf8)
        let end = file.count - TreeFiles.trailer.utf8.count
        for cut in 0..<end {
            #expect(TreeFiles.lightgbmError(Array(file[..<cut])) != nil, "cut at \(cut)")
        }
    }

    @Test("random byte damage never crashes or hangs either importer")
    func fuzz() {
        var rng = SplitMix64(seed: 77)
        let files = [Array(TreeFiles.xgboost().utf8), Array(TreeFiles.lightgbm().utf8)]
        for round in 0..<2000 {
            var file = files[round % 2]
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let position = Int.random(in: 0..<file.count, using: &rng)
                file[position] = Array("0123456789-[]{},\":= \nabc".utf8).randomElement(using: &rng)!
            }
            for x in [[0.2, 1.0], [Double.nan, 3]] {
                if let model = try? TreeEnsembleImport.xgboost(json: file, name: "m", version: "1") {
                    #expect(model.explain(x).additivityError < 1e-9)
                }
                if let model = try? TreeEnsembleImport.lightgbm(text: file, name: "m", version: "1") {
                    #expect(model.explain(x).additivityError < 1e-9)
                }
            }
        }
    }
}
