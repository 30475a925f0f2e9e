extension TreeEnsemble {
    /// The ensemble in LightGBM's text model format (`Booster.save_model("model.txt")`), for the trees Vigil's own
    /// trainer grows: strict `x < t` splits with NaN as the only missing value, summed in Double.
    ///
    /// LightGBM sends `x <= threshold` left, so each split is written with `t.nextDown`: for every double x,
    /// `x <= t.nextDown` exactly when `x < t`, and the importer's `lightgbmThreshold(t.nextDown)` gives `t` back
    /// (outside LightGBM's band of ±1e-35 around zero, which it reads as zero). LightGBM files have no base margin,
    /// so `baseMargin` is added to the first tree's leaves: the importer then sums `0 + (base + leaf₀) + leaf₁ …`,
    /// the same additions in the same order as `base + leaf₀ + leaf₁ …`, so margins are bit for bit the same.
    /// Numbers are written with Swift's shortest round-tripping form; counts are the trainer's hessian covers, not
    /// whole numbers (TreeSHAP reads them), so the file is for Vigil's importer rather than LightGBM itself.
    public func lightGBMText(featureNames: [String]) -> String {
        precondition(featureNames.count == featureCount, "one name per feature")
        precondition(leafSum == .double && !hasZeroMissing, "only Vigil-trained ensembles (Double sums, NaN missing)")
        var blocks: [String] = []
        for (tree, root) in treeRoots.enumerated() {
            blocks.append(treeBlock(tree: tree, root: root, addToLeaves: tree == 0 ? baseMargin : 0))
        }
        var header = [
            "tree", "version=v4", "num_class=1", "num_tree_per_iteration=1", "label_index=0",
            "max_feature_idx=\(featureCount - 1)", "objective=binary sigmoid:1",
            "feature_names=" + featureNames.joined(separator: " "),
            "feature_infos=" + Array(repeating: "none", count: featureCount).joined(separator: " "),
            "tree_sizes=" + blocks.map { String($0.utf8.count) }.joined(separator: " "),
        ]
        header.append("")
        return header.joined(separator: "\n") + "\n" + blocks.joined() + "end of trees\n\n"
            + "parameters:\n[boosting: gbdt]\n[objective: binary]\nend of parameters\n"
    }

    /// One `Tree=N` block: split nodes numbered in depth-first order from 0, leaves from 0 (children `~leaf`).
    private func treeBlock(tree: Int, root: Int, addToLeaves: Double) -> String {
        var splits: [Int] = []
        var leaves: [Int] = []
        var splitNumber: [Int: Int] = [:]
        var leafNumber: [Int: Int] = [:]
        var stack = [root]
        while let node = stack.popLast() {
            if leftChildren[node] < 0 {
                leafNumber[node] = leaves.count
                leaves.append(node)
            } else {
                splitNumber[node] = splits.count
                splits.append(node)
                stack.append(Int(rightChildren[node]))
                stack.append(Int(leftChildren[node]))
            }
        }
        func child(_ node: Int) -> String {
            if let split = splitNumber[node] { return String(split) }
            return String(-(leafNumber[node]! + 1))
        }
        func line(_ key: String, _ values: [String]) -> String { key + "=" + values.joined(separator: " ") + "\n" }
        var text = "Tree=\(tree)\n"
        text += "num_leaves=\(leaves.count)\n"
        text += "num_cat=0\n"
        if !splits.isEmpty {
            text += line("split_feature", splits.map { String(features[$0]) })
            text += line("split_gain", splits.map { _ in "0" })
            text += line("threshold", splits.map { thresholds[$0].nextDown.description })
            text += line("decision_type", splits.map { defaultLeft[$0] ? "10" : "8" })
            text += line("left_child", splits.map { child(Int(leftChildren[$0])) })
            text += line("right_child", splits.map { child(Int(rightChildren[$0])) })
        }
        text += line("leaf_value", leaves.map { (addToLeaves + values[$0]).description })
        text += line("leaf_weight", leaves.map { covers[$0].description })
        text += line("leaf_count", leaves.map { covers[$0].description })
        if !splits.isEmpty {
            text += line("internal_value", splits.map { values[$0].description })
            text += line("internal_weight", splits.map { covers[$0].description })
            text += line("internal_count", splits.map { covers[$0].description })
        }
        text += "is_linear=0\nshrinkage=1\n\n\n"
        return text
    }
}
