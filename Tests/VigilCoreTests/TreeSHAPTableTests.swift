import Testing

@testable import VigilCore

/// TreeSHAP from the precomputed tables (`SHAPTables`) against the walk over every tree (`pathWalkContributions`,
/// Algorithm 2 of Lundberg et al. 2018), which stays the algorithm for trees the tables do not cover.
@Suite("TreeSHAP tables: the same values as walking the trees")
struct TreeSHAPTableTests {
    static let tolerance = 1e-9

    /// The most distinct features on one root-to-leaf path of tree `tree`.
    static func distinctPathLength(_ ensemble: TreeEnsemble, tree: Int) -> Int {
        var longest = 0
        var stack: [(node: Int, seen: Set<Int32>)] = [(ensemble.treeRoots[tree], [])]
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
        return longest
    }

    /// Checks `contributions` against the walk on `rows`; returns the largest difference.
    @discardableResult
    static func expectSameAsWalk(
        _ ensemble: TreeEnsemble, _ rows: [[Double]], _ comment: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> Double {
        var worst = 0.0
        for (index, x) in rows.enumerated() {
            let tabled = ensemble.contributions(x)
            let walked = ensemble.pathWalkContributions(x)
            for feature in 0..<ensemble.featureCount {
                let difference = abs(tabled[feature] - walked[feature])
                worst = max(worst, difference)
                #expect(
                    difference < tolerance,
                    "\(comment) row \(index) feature \(feature): \(tabled[feature]) vs \(walked[feature])",
                    sourceLocation: sourceLocation)
            }
        }
        return worst
    }

    @Test("every fixture row: tables equal the walk within 1e-9, and every fixture tree is tabled")
    func fixtures() throws {
        for base in TreeFixtureTests.scoring {
            // Given a library model and its fixture rows
            let expected = try TreeFixtures.rows(base)
            let model = try TreeFixtures.model(expected.modelFile)
            let ensemble = model.ensemble
            let lone = ensemble.treeRoots.filter { ensemble.leftChildren[$0] < 0 }.count
            // Then every tree (short paths, small model) has tables
            #expect(ensemble.shapTabledTreeCount == ensemble.treeCount - lone, "\(base)")
            #expect(ensemble.shapTables.walkedRoots.isEmpty, "\(base)")
            #expect(ensemble.shapTableBytes > 0 && ensemble.shapTableBytes <= SHAPTableLimits.standard.maxBytes)
            // And the tables give the walk's values on every row
            let rows = (expected.rows + (expected.float64Rows ?? [])).map(\.inputs)
            let worst = Self.expectSameAsWalk(ensemble, rows, base)
            // And the explanation still adds up to margin(_:)'s margin
            for x in rows {
                let explanation = model.explain(x)
                #expect(explanation.margin == model.margin(x))
                #expect(explanation.additivityError < 1e-12)
            }
            print(
                "\(base): \(rows.count) rows, \(ensemble.shapTabledTreeCount) tabled trees, "
                    + "\(ensemble.shapTableBytes) bytes, max |tables − walk| \(worst)")
        }
    }

    @Test(
        "random forests: tables equal the walk and brute force (repeated features, zero and inconsistent covers)",
        arguments: [(false, true), (true, true), (false, false), (true, false)])
    func randomForests(zeroMissing: Bool, consistentCovers: Bool) throws {
        var rng = SplitMix64(seed: zeroMissing ? 1234 : 4321)
        let features = 6
        for round in 0..<40 {
            // Given a few random trees (repeated features, zero covers, missing values, ties on thresholds)
            let trees = (0..<Int.random(in: 1...4, using: &rng)).map { _ in
                TreeReference.randomTree(
                    &rng, features: features, maxDepth: Int.random(in: 1...7, using: &rng), zeroMissing: zeroMissing,
                    consistentCovers: consistentCovers, thresholds: TreeReference.gridThresholds)
            }
            let ensemble = try TreeEnsemble(featureCount: features, baseMargin: 0.25, leafSum: .double, trees: trees)
            #expect(ensemble.shapTables.walkedRoots.isEmpty)
            var rows: [[Double]] = []
            for _ in 0..<5 {
                var x = TreeReference.randomRow(&rng, features: features)
                if zeroMissing, Bool.random(using: &rng) { x[1] = -1e-36 }
                rows.append(x)
                // When it is explained from the tables, then it gets the exact Shapley values
                let phi = ensemble.contributions(x)
                let exact = TreeReference.shapley(ensemble, x)
                for feature in 0..<features {
                    #expect(abs(phi[feature] - exact[feature]) < Self.tolerance, "round \(round) feature \(feature)")
                }
            }
            // And the walk's
            Self.expectSameAsWalk(ensemble, rows, "round \(round)")
        }
    }

    @Test("paths up to 10 distinct features are tabled, longer ones walked, and both agree in one forest")
    func boundAndFallback() throws {
        var rng = SplitMix64(seed: 77)
        let features = 13
        var tabledTrees = 0
        var walkedTrees = 0
        for round in 0..<4 {
            // Given trees deep enough that some paths have more than 10 distinct features and some do not
            let trees = (0..<4).map { tree in
                TreeReference.randomTree(
                    &rng, features: features, maxDepth: tree % 2 == 0 ? 12 : 9, zeroMissing: round % 2 == 1,
                    consistentCovers: true, thresholds: TreeReference.gridThresholds)
            }
            let ensemble = try TreeEnsemble(featureCount: features, baseMargin: 0, leafSum: .double, trees: trees)
            // Then exactly the trees within the bound have tables
            var walked: [Int] = []
            for tree in 0..<ensemble.treeCount
            where Self.distinctPathLength(ensemble, tree: tree) > SHAPTableLimits.standard.maxPathFeatures {
                walked.append(ensemble.treeRoots[tree])
            }
            #expect(ensemble.shapTables.walkedRoots == walked)
            #expect(ensemble.shapTabledTreeCount + walked.count == ensemble.treeCount)
            tabledTrees += ensemble.shapTabledTreeCount
            walkedTrees += walked.count
            // And the forest's contributions are the walk's
            let rows = (0..<20).map { _ in TreeReference.randomRow(&rng, features: features) }
            Self.expectSameAsWalk(ensemble, rows, "round \(round)")
        }
        #expect(tabledTrees > 0 && walkedTrees > 0)
    }

    @Test("random trees of every path length up to the bound: tables equal the walk")
    func everyPathLength() throws {
        var rng = SplitMix64(seed: 5150)
        let features = 11
        var longest = Set<Int>()
        for round in 0..<12 {
            let trees = (0..<3).map { _ in
                TreeReference.randomTree(
                    &rng, features: features, maxDepth: 1 + round % 11, zeroMissing: round % 3 == 0,
                    consistentCovers: round % 2 == 0, thresholds: TreeReference.gridThresholds)
            }
            let ensemble = try TreeEnsemble(featureCount: features, baseMargin: 0, leafSum: .double, trees: trees)
            for tree in 0..<ensemble.treeCount { longest.insert(Self.distinctPathLength(ensemble, tree: tree)) }
            #expect(ensemble.shapTables.walkedRoots.isEmpty)
            let rows = (0..<10).map { _ in TreeReference.randomRow(&rng, features: features) }
            Self.expectSameAsWalk(ensemble, rows, "round \(round)")
        }
        #expect(longest.contains(10) && longest.contains(1))
    }

    @Test("the byte cap: trees past it are walked, the others keep their tables, and the values do not change")
    func byteCap() throws {
        var rng = SplitMix64(seed: 64)
        let features = 9
        let trees = (0..<12).map { _ in
            TreeReference.randomTree(
                &rng, features: features, maxDepth: 8, zeroMissing: false, consistentCovers: true,
                thresholds: TreeReference.gridThresholds)
        }
        let full = try TreeEnsemble(featureCount: features, baseMargin: 0, leafSum: .double, trees: trees)
        #expect(full.shapTabledTreeCount == 12)
        // Given half the bytes the tables need
        let cap = full.shapTableBytes / 2
        let capped = try TreeEnsemble(
            featureCount: features, baseMargin: 0, leafSum: .double, trees: trees,
            shapTableLimits: SHAPTableLimits(maxPathFeatures: 10, maxBytes: cap))
        // Then the tables stay under it, some trees are walked, and the values are the same
        #expect(capped.shapTableBytes <= cap)
        #expect(capped.shapTabledTreeCount > 0 && capped.shapTabledTreeCount < 12)
        #expect(capped.shapTabledTreeCount + capped.shapTables.walkedRoots.count == 12)
        // And without tables at all, everything is walked
        let none = try TreeEnsemble(
            featureCount: features, baseMargin: 0, leafSum: .double, trees: trees,
            shapTableLimits: SHAPTableLimits(maxPathFeatures: 0, maxBytes: 0))
        #expect(none.shapTabledTreeCount == 0 && none.shapTableBytes == 0)
        for _ in 0..<30 {
            let x = TreeReference.randomRow(&rng, features: features)
            let reference = full.pathWalkContributions(x)
            for ensemble in [full, capped, none] {
                let phi = ensemble.contributions(x)
                for feature in 0..<features { #expect(abs(phi[feature] - reference[feature]) < Self.tolerance) }
            }
        }
    }

    @Test("many trees (several chunks), stumps and lone leaves: tables equal the walk")
    func chunks() throws {
        var rng = SplitMix64(seed: 2718)
        let features = 8
        // Hundreds of trees fill several chunks of masks; stumps and small trees are blocks at the root.
        var trees = (0..<300).map { index in
            TreeReference.randomTree(
                &rng, features: features, maxDepth: index % 5 == 0 ? 1 : 2 + index % 7, zeroMissing: index % 4 == 0,
                consistentCovers: true, thresholds: TreeReference.gridThresholds)
        }
        trees.insert(.leaf(0.5), at: 7)
        let ensemble = try TreeEnsemble(featureCount: features, baseMargin: 0, leafSum: .double, trees: trees)
        #expect(ensemble.shapTables.chunks.count > 1)
        #expect(ensemble.shapTabledTreeCount == 300)
        let rows = (0..<20).map { _ in TreeReference.randomRow(&rng, features: features) }
        Self.expectSameAsWalk(ensemble, rows, "300 trees")
        for x in rows {
            #expect(abs(ensemble.contributions(x).reduce(ensemble.expectedMargin, +) - ensemble.margin(x)) < 1e-9)
        }

        // Only stumps (every tree one block, no splits above blocks), and a forest with a single lone leaf
        let stumps = (0..<40).map { _ in
            TreeReference.randomTree(
                &rng, features: features, maxDepth: 1, zeroMissing: false, consistentCovers: true,
                thresholds: TreeReference.gridThresholds)
        }
        let stumpForest = try TreeEnsemble(featureCount: features, baseMargin: 0, leafSum: .double, trees: stumps)
        #expect(stumpForest.shapTabledTreeCount == 40 && stumpForest.shapTables.splits.isEmpty)
        Self.expectSameAsWalk(stumpForest, rows, "stumps")
        let leaf = try TreeEnsemble(featureCount: features, baseMargin: 0.5, leafSum: .double, trees: [.leaf(1)])
        #expect(leaf.shapTabledTreeCount == 0 && leaf.shapTables.walkedRoots.isEmpty)
        #expect(leaf.contributions(rows[0]) == [Double](repeating: 0, count: features))
    }
}
