import Testing

@testable import VigilCore

/// Straightforward reference computations over the public flat arrays of a `TreeEnsemble`.
enum TreeReference {
    static func goesLeft(_ ensemble: TreeEnsemble, _ node: Int, _ x: [Double]) -> Bool {
        let value = x[Int(ensemble.features[node])]
        let missing =
            value.isNaN || (ensemble.zeroIsMissing[node] && value.magnitude <= TreeEnsemble.zeroThreshold)
        return missing ? ensemble.defaultLeft[node] : value < ensemble.thresholds[node]
    }

    static func leaf(_ ensemble: TreeEnsemble, tree: Int, _ x: [Double]) -> Int {
        var node = ensemble.treeRoots[tree]
        while ensemble.leftChildren[node] >= 0 {
            node = Int(goesLeft(ensemble, node, x) ? ensemble.leftChildren[node] : ensemble.rightChildren[node])
        }
        return node
    }

    /// The path-dependent conditional expectation: features in `known` follow x, the others split the background
    /// by cover.
    static func expectation(_ ensemble: TreeEnsemble, _ node: Int, _ x: [Double], known: UInt32) -> Double {
        let left = Int(ensemble.leftChildren[node])
        guard left >= 0 else { return ensemble.values[node] }
        let right = Int(ensemble.rightChildren[node])
        if known & (1 << UInt32(ensemble.features[node])) != 0 {
            return expectation(ensemble, goesLeft(ensemble, node, x) ? left : right, x, known: known)
        }
        let cover = ensemble.covers[node]
        guard cover > 0 else { return 0 }
        return ensemble.covers[left] / cover * expectation(ensemble, left, x, known: known)
            + ensemble.covers[right] / cover * expectation(ensemble, right, x, known: known)
    }

    /// Exact Shapley values of the path-dependent game, by enumerating every subset of features.
    static func shapley(_ ensemble: TreeEnsemble, _ x: [Double]) -> [Double] {
        let count = ensemble.featureCount
        precondition(count <= 12)
        var factorial = [1.0]
        for k in 1...count { factorial.append(factorial[k - 1] * Double(k)) }
        var phi = [Double](repeating: 0, count: count)
        for tree in 0..<ensemble.treeCount {
            let root = ensemble.treeRoots[tree]
            var value = [Double](repeating: 0, count: 1 << count)
            for subset in 0..<(1 << count) { value[subset] = expectation(ensemble, root, x, known: UInt32(subset)) }
            for feature in 0..<count {
                let bit = 1 << feature
                for subset in 0..<(1 << count) where subset & bit == 0 {
                    let size = subset.nonzeroBitCount
                    let weight = factorial[size] * factorial[count - size - 1] / factorial[count]
                    phi[feature] += weight * (value[subset | bit] - value[subset])
                }
            }
        }
        return phi
    }

    /// A random tree in file order (node 0 the root), with repeated features, default directions, optional
    /// zero-is-missing splits and covers that add up (or, with `consistentCovers` false, do not).
    static func randomTree(
        _ rng: inout SplitMix64, features: Int, maxDepth: Int, zeroMissing: Bool, consistentCovers: Bool,
        thresholds: [Double]
    ) -> TreeEnsemble.Tree {
        var tree = TreeEnsemble.Tree(
            leftChildren: [], rightChildren: [], features: [], thresholds: [], defaultLeft: [], values: [], covers: [])
        func add(depth: Int) -> (index: Int, cover: Double) {
            let index = tree.leftChildren.count
            tree.leftChildren.append(-1)
            tree.rightChildren.append(-1)
            tree.features.append(0)
            tree.thresholds.append(0)
            tree.defaultLeft.append(false)
            tree.zeroIsMissing.append(false)
            tree.values.append(0)
            tree.covers.append(0)
            let split = depth < maxDepth && (depth < 2 || Double.random(in: 0..<1, using: &rng) < 0.75)
            if !split {
                tree.values[index] = Double.random(in: -2...2, using: &rng)
                // Some leaves no training row reached: their branch has zero cover.
                let cover = Int.random(in: 0..<8, using: &rng) == 0 ? 0 : Double(Int.random(in: 1...50, using: &rng))
                tree.covers[index] = cover
                return (index, cover)
            }
            tree.features[index] = Int.random(in: 0..<features, using: &rng)
            tree.thresholds[index] = thresholds.randomElement(using: &rng)!
            tree.defaultLeft[index] = Bool.random(using: &rng)
            tree.zeroIsMissing[index] = zeroMissing && Bool.random(using: &rng)
            let left = add(depth: depth + 1)
            let right = add(depth: depth + 1)
            tree.leftChildren[index] = left.index
            tree.rightChildren[index] = right.index
            // Inconsistent covers (as float rounding makes them) are off by up to ±30 %.
            let sum = left.cover + right.cover
            let cover = consistentCovers ? sum : sum * Double.random(in: 0.7...1.3, using: &rng)
            tree.covers[index] = cover
            return (index, cover)
        }
        _ = add(depth: 0)
        if tree.covers[0] == 0 { tree.covers[0] = 1 }  // the root's cover must be positive
        return tree
    }

    static let gridThresholds: [Double] = [-1, -0.5, 0, 0.25, 0.5, 1]

    /// The most distinct features on one root-to-leaf path of any tree.
    static func longestDistinctPath(_ ensemble: TreeEnsemble) -> Int {
        var longest = 0
        for root in ensemble.treeRoots {
            var stack: [(node: Int, seen: Set<Int32>)] = [(root, [])]
            while let (node, seen) = stack.popLast() {
                let left = Int(ensemble.leftChildren[node])
                guard left >= 0 else {
                    longest = max(longest, seen.count)
                    continue
                }
                let next = seen.union([ensemble.features[node]])
                stack.append((left, next))
                stack.append((Int(ensemble.rightChildren[node]), next))
            }
        }
        return longest
    }

    static func randomRow(_ rng: inout SplitMix64, features: Int) -> [Double] {
        (0..<features).map { _ in
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: .nan
            case 1: gridThresholds.randomElement(using: &rng)!  // exactly on a threshold
            case 2: 0
            default: Double.random(in: -1.5...1.5, using: &rng)
            }
        }
    }
}

@Suite("TreeSHAP: exact Shapley values of the path-dependent game")
struct TreeSHAPTests {
    @Test("a stump: the split feature takes the leaf value minus the expected value")
    func stump() throws {
        // Given one split on feature 0 at 0.5: left −1 over 30 rows, right 2 over 10 rows (expected value −0.25)
        let tree = TreeEnsemble.Tree(
            leftChildren: [1, -1, -1], rightChildren: [2, -1, -1], features: [0, 0, 0], thresholds: [0.5, 0, 0],
            defaultLeft: [true, false, false], values: [0, -1, 2], covers: [40, 30, 10])
        let ensemble = try TreeEnsemble(featureCount: 3, baseMargin: 0.1, leafSum: .double, trees: [tree])
        let model = try TreeEnsembleModel(
            name: "stump", version: "1", featureNames: ["a", "b", "c"], ensemble: ensemble, library: "test",
            libraryVersion: "1", objective: "binary")
        #expect(ensemble.expectedMargin == 0.1 - 0.25)
        for (x, leaf) in [(0.0, -1.0), (0.5, 2.0), (1.0, 2.0), (Double.nan, -1.0)] {
            // When a row goes left, right, right (on the threshold) or to the default (missing)
            let explanation = model.explain([x, 7, .nan])
            // Then feature 0 takes it all and the bias is the expected margin
            #expect(explanation.margin == 0.1 + leaf)
            #expect(abs(explanation.contributions[0] - (leaf + 0.25)) < 1e-15)
            #expect(explanation.contributions[1] == 0 && explanation.contributions[2] == 0)
            #expect(abs(explanation.bias - (0.1 - 0.25)) < 1e-15)
        }
    }

    @Test("a two-feature tree computed by hand")
    func byHand() throws {
        // x0 < 0.5 (100 rows) → [x1 < 0.5 (60) → 1 (30) | 3 (30)] | 5 (40)
        let tree = TreeEnsemble.Tree(
            leftChildren: [1, 3, -1, -1, -1], rightChildren: [2, 4, -1, -1, -1], features: [0, 1, 0, 0, 0],
            thresholds: [0.5, 0.5, 0, 0, 0], defaultLeft: [false, false, false, false, false],
            values: [0, 0, 5, 1, 3], covers: [100, 60, 40, 30, 30])
        let ensemble = try TreeEnsemble(featureCount: 2, baseMargin: 0, leafSum: .double, trees: [tree])
        // E = 0.6·2 + 0.4·5 = 3.2; for x = (0, 1): v({0}) = 2, v({1}) = 3.8, v({0,1}) = 3
        let phi = ensemble.contributions([0, 1])
        #expect(abs(ensemble.expectedMargin - 3.2) < 1e-15)
        #expect(abs(phi[0] - -1.0) < 1e-14)
        #expect(abs(phi[1] - 0.8) < 1e-14)
    }

    @Test(
        "random trees: TreeSHAP equals brute-force Shapley values and the margin is the leaf sum",
        arguments: [(false, true), (true, true), (false, false), (true, false)])
    func bruteForce(zeroMissing: Bool, consistentCovers: Bool) throws {
        var rng = SplitMix64(seed: zeroMissing ? 7 : 11)
        let features = 6
        for round in 0..<40 {
            // Given a few random trees (depth up to 6, repeated features, missing values, ties on thresholds)
            let trees = (0..<Int.random(in: 1...4, using: &rng)).map { _ in
                TreeReference.randomTree(
                    &rng, features: features, maxDepth: Int.random(in: 1...6, using: &rng), zeroMissing: zeroMissing,
                    consistentCovers: consistentCovers, thresholds: TreeReference.gridThresholds)
            }
            let ensemble = try TreeEnsemble(featureCount: features, baseMargin: -0.5, leafSum: .double, trees: trees)
            for _ in 0..<5 {
                var x = TreeReference.randomRow(&rng, features: features)
                if zeroMissing, Bool.random(using: &rng) { x[0] = 1e-36 }
                // When it is explained (from the tables, and by walking the trees)
                let phi = ensemble.contributions(x)
                let walked = ensemble.pathWalkContributions(x)
                let exact = TreeReference.shapley(ensemble, x)
                // Then every contribution is the exact Shapley value
                for feature in 0..<features {
                    #expect(abs(phi[feature] - exact[feature]) < 1e-9, "round \(round) feature \(feature)")
                    #expect(abs(walked[feature] - exact[feature]) < 1e-9, "round \(round) feature \(feature)")
                }
                // And the margin is the sum of the reached leaves, which the contributions add up to
                var leafSum = -0.5
                for tree in 0..<ensemble.treeCount {
                    leafSum += ensemble.values[TreeReference.leaf(ensemble, tree: tree, x)]
                }
                #expect(abs(ensemble.margin(x) - leafSum) < 1e-12)
                #expect(
                    ensemble.leaves(x) == (0..<ensemble.treeCount).map { TreeReference.leaf(ensemble, tree: $0, x) })
                #expect(abs(phi.reduce(ensemble.expectedMargin, +) - leafSum) < 1e-10)
            }
        }
    }

    @Test(
        "paths of 8 or more distinct features (the walk's scalar leaf, and the tables) give brute-force Shapley values")
    func longPaths() throws {
        var rng = SplitMix64(seed: 31)
        let features = 10
        for round in 0..<6 {
            let trees = (0..<2).map { _ in
                TreeReference.randomTree(
                    &rng, features: features, maxDepth: 10, zeroMissing: round % 2 == 1, consistentCovers: true,
                    thresholds: TreeReference.gridThresholds)
            }
            let ensemble = try TreeEnsemble(featureCount: features, baseMargin: 0, leafSum: .double, trees: trees)
            #expect(TreeReference.longestDistinctPath(ensemble) >= 8)
            for _ in 0..<3 {
                let x = TreeReference.randomRow(&rng, features: features)
                let phi = ensemble.contributions(x)
                let walked = ensemble.pathWalkContributions(x)
                let exact = TreeReference.shapley(ensemble, x)
                for feature in 0..<features {
                    #expect(abs(phi[feature] - exact[feature]) < 1e-9, "round \(round) feature \(feature)")
                    #expect(abs(walked[feature] - exact[feature]) < 1e-9, "round \(round) feature \(feature)")
                }
            }
        }
    }

    @Test("deep uneven trees (walked one by one) and balanced ones (in lockstep) give the same leaves")
    func walkingOrders() throws {
        var rng = SplitMix64(seed: 99)
        // A chain 60 deep beside shallow trees: not worth walking in lockstep
        let depth = 60
        var chain = TreeEnsemble.Tree(
            leftChildren: [], rightChildren: [], features: [], thresholds: [], defaultLeft: [], values: [], covers: [])
        for level in 0..<depth {
            chain.leftChildren.append(2 * level + 1)
            chain.rightChildren.append(2 * level + 2)
            chain.features.append(level % 3)
            chain.thresholds.append(Double(level % 7) / 7 - 0.5)
            chain.defaultLeft.append(level % 2 == 0)
            chain.zeroIsMissing.append(false)
            chain.values.append(0)
            chain.covers.append(Double(depth - level + 1))
            // left: a leaf; right: the next level (the last right is a leaf too)
            chain.leftChildren.append(-1)
            chain.rightChildren.append(-1)
            chain.features.append(0)
            chain.thresholds.append(0)
            chain.defaultLeft.append(false)
            chain.zeroIsMissing.append(false)
            chain.values.append(Double(level) / 10)
            chain.covers.append(1)
        }
        // The last "next level" node is a leaf.
        chain.leftChildren.append(-1)
        chain.rightChildren.append(-1)
        chain.features.append(0)
        chain.thresholds.append(0)
        chain.defaultLeft.append(false)
        chain.zeroIsMissing.append(false)
        chain.values.append(9)
        chain.covers.append(1)
        // Wire the right children: level k's right child is level k+1's node.
        for level in 0..<depth { chain.rightChildren[2 * level] = 2 * level + 2 }
        var trees = [chain]
        for _ in 0..<9 {
            trees.append(
                TreeReference.randomTree(
                    &rng, features: 3, maxDepth: 2, zeroMissing: false, consistentCovers: true,
                    thresholds: TreeReference.gridThresholds))
        }
        let uneven = try TreeEnsemble(featureCount: 3, baseMargin: 0, leafSum: .double, trees: trees)
        #expect(!uneven.usesLockstep)
        #expect(uneven.maxDepth == depth)
        let balanced = try TreeEnsemble(
            featureCount: 3, baseMargin: 0, leafSum: .double, trees: Array(trees.dropFirst()))
        #expect(balanced.usesLockstep)
        for _ in 0..<200 {
            let x = TreeReference.randomRow(&rng, features: 3)
            for ensemble in [uneven, balanced] {
                var sum = 0.0
                for tree in 0..<ensemble.treeCount {
                    sum += ensemble.values[TreeReference.leaf(ensemble, tree: tree, x)]
                }
                #expect(ensemble.margin(x) == sum)
                #expect(abs(ensemble.contributions(x).reduce(ensemble.expectedMargin, +) - sum) < 1e-9)
            }
        }
    }

    @Test("the fixture models add up on random rows, with missing values and zeros")
    func fixtureAdditivity() throws {
        var rng = SplitMix64(seed: 2024)
        for file in [
            "xgb_binary_logistic.model.json", "xgb_logitraw.model.json", "lgb_binary.model.txt",
            "lgb_binary_zero_missing.model.txt", "lgb_binary_no_missing.model.txt",
        ] {
            let model = try TreeFixtures.model(file)
            for _ in 0..<300 {
                let x = (0..<model.featureNames.count).map { _ -> Double in
                    switch Int.random(in: 0..<5, using: &rng) {
                    case 0: .nan
                    case 1: 0
                    default: Double.random(in: -3...200, using: &rng)
                    }
                }
                let explanation = model.explain(x)
                #expect(explanation.additivityError < 1e-12, "\(file)")
                #expect(explanation.margin == model.margin(x))
                // The bias only absorbs the float32 rounding of xgboost's margin
                #expect(abs(explanation.bias - model.ensemble.expectedMargin) < 2e-6, "\(file)")
            }
        }
    }
}
