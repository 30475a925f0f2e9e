/// A forest of binary decision trees in one flat, normalised form, whatever library trained it.
///
/// Every tree's nodes sit in parallel arrays shared by all trees, numbered breadth-first from each tree's root, so a
/// node's two children are adjacent (the one missing inputs go to first) and always come after it. One
/// comparison rule serves every format: a present input `x` goes to the left child when `x < threshold` and to the
/// right child otherwise. A missing input (`Double.nan`) goes to the default child; where `zeroIsMissing` is set, an
/// input with `|x| ≤ TreeEnsemble.zeroThreshold` counts as missing too (LightGBM's `zero_as_missing`). The importers
/// rewrite each library's own rule into this one exactly (see `docs/trees.md`).
///
/// The margin (log-odds) of an input row is `baseMargin` plus the value of the leaf it reaches in every tree, summed
/// in tree order in `leafSum` precision. Explanations are path-dependent TreeSHAP over the node covers.
public struct TreeEnsemble: Sendable {
    /// Deepest tree accepted (root at depth 0); deeper trees are refused rather than walked.
    public static let maximumDepth = 128
    /// Most features a model may read.
    public static let maximumFeatureCount = 100_000
    /// Most trees a model may have.
    public static let maximumTreeCount = 100_000
    /// Most nodes in all trees together.
    public static let maximumNodeCount = 10_000_000
    /// LightGBM's `kZeroThreshold` (`1e-35f` widened to Double): inputs no larger in magnitude count as zero.
    public static let zeroThreshold: Double = 1.0000000180025095e-35

    /// How leaf values are added up into the margin.
    public enum LeafSum: Sendable, Equatable {
        /// In Double, as LightGBM does.
        case double
        /// In Float, starting from `Float(baseMargin)`, as XGBoost does; leaf values must be Float values.
        case float32
    }

    /// One tree as an importer reads it: parallel arrays indexed by the file's own node numbers, node 0 the root.
    ///
    /// A leaf has `-1` as both children; its `values` entry is its output. An internal node's `values` entry is
    /// ignored. Unreachable nodes (XGBoost's deleted nodes) are dropped.
    public struct Tree: Sendable, Equatable {
        /// Per node: the left child's number, or -1 at a leaf.
        public var leftChildren: [Int]
        /// Per node: the right child's number, or -1 at a leaf.
        public var rightChildren: [Int]
        /// Per node: the input the split reads (ignored at leaves).
        public var features: [Int]
        /// A present input goes left when `x < threshold`; must not be NaN (±infinity is allowed).
        public var thresholds: [Double]
        /// Per node: whether a missing input goes left.
        public var defaultLeft: [Bool]
        /// Per node: whether `|x| ≤ TreeEnsemble.zeroThreshold` also counts as missing.
        public var zeroIsMissing: [Bool]
        /// Per node: a leaf's output in margin units (ignored for internal nodes).
        public var values: [Double]
        /// How much training data reached each node (XGBoost `sum_hessian`, LightGBM `*_count`); finite, ≥ 0.
        public var covers: [Double]
        /// For error messages: nodes numbered at or above this are called `leaf k` (k = number − this), the others
        /// `split node n`, as in LightGBM's text format; nil calls every node `node n`, as in XGBoost's JSON.
        public var firstLeafNumber: Int?

        /// A tree from parallel per-node arrays; `init(featureCount:baseMargin:leafSum:trees:)` validates it.
        public init(
            leftChildren: [Int], rightChildren: [Int], features: [Int], thresholds: [Double], defaultLeft: [Bool],
            zeroIsMissing: [Bool]? = nil, values: [Double], covers: [Double], firstLeafNumber: Int? = nil
        ) {
            self.leftChildren = leftChildren
            self.rightChildren = rightChildren
            self.features = features
            self.thresholds = thresholds
            self.defaultLeft = defaultLeft
            self.zeroIsMissing = zeroIsMissing ?? [Bool](repeating: false, count: leftChildren.count)
            self.values = values
            self.covers = covers
            self.firstLeafNumber = firstLeafNumber
        }

        /// A single leaf.
        public static func leaf(_ value: Double, cover: Double = 1) -> Tree {
            Tree(
                leftChildren: [-1], rightChildren: [-1], features: [0], thresholds: [0], defaultLeft: [false],
                values: [value], covers: [cover])
        }
    }

    /// Number of inputs a row has.
    public let featureCount: Int
    /// The margin every row starts from (XGBoost's base score in margin space; 0 for LightGBM).
    public let baseMargin: Double
    /// The precision leaf values are added up in.
    public let leafSum: LeafSum
    /// Index of each tree's root; tree `t` owns nodes `treeRoots[t] ..< treeRoots[t + 1]` (or to the end).
    public let treeRoots: [Int]
    /// Depth of each tree's deepest leaf (a lone leaf has depth 0).
    public let treeDepths: [Int]
    /// Per node: the left child, or -1 at a leaf.
    public let leftChildren: [Int32]
    /// Per node: the right child (`leftChildren ± 1`), or -1 at a leaf.
    public let rightChildren: [Int32]
    /// Per node: the input read by the split (0 at leaves).
    public let features: [Int32]
    /// Per node: present inputs below this go left (NaN at leaves).
    public let thresholds: [Double]
    /// Per node: where a missing input goes.
    public let defaultLeft: [Bool]
    /// Per node: whether `|x| ≤ zeroThreshold` counts as missing.
    public let zeroIsMissing: [Bool]
    /// Per node: a leaf's output, or an internal node's expected output (cover-weighted, as TreeSHAP defines it).
    public let values: [Double]
    /// Per node: the cover from the file.
    public let covers: [Double]

    /// Packed copy of the split data for the hot loops (one 16-byte load per step).
    let packed: [PackedNode]
    /// Per node: its cover over its parent's cover (1 at roots), TreeSHAP's zero fraction.
    let coverFractions: [Double]
    /// Tree groups walked in lockstep by `margin`, and how many steps each group needs.
    let lockstepSteps: [Int32]
    /// Whether `margin` walks groups of trees in lockstep (balanced trees) or each tree to its leaf (deep, uneven).
    let usesLockstep: Bool
    let hasZeroMissing: Bool
    /// Σ expected value of every tree, in Double.
    let expectedSum: Double
    /// TreeSHAP's constants by path length (see `makeSHAPCoefficients`).
    let shapCoefficients: [Double]
    /// TreeSHAP precomputed per block of leaves, for trees whose paths are short enough (see `SHAPTables`).
    let shapTables: SHAPTables

    /// Validates and normalises trees: child indices in range, every node reached once from the root (no cycles or
    /// shared subtrees), depth at most `maximumDepth`, features in range, thresholds not NaN, finite leaf values and
    /// covers. Errors name the tree and node. Also precomputes TreeSHAP's tables (see `SHAPTables`).
    public init(featureCount: Int, baseMargin: Double, leafSum: LeafSum, trees: [Tree]) throws(ModelError) {
        try self.init(
            featureCount: featureCount, baseMargin: baseMargin, leafSum: leafSum, trees: trees,
            shapTableLimits: .standard)
    }

    /// As the public initialiser, with the limits on TreeSHAP's tables chosen (tests).
    init(
        featureCount: Int, baseMargin: Double, leafSum: LeafSum, trees: [Tree], shapTableLimits: SHAPTableLimits
    ) throws(ModelError) {
        guard featureCount >= 1, featureCount <= Self.maximumFeatureCount else {
            throw .invalid("the model has \(featureCount) features; between 1 and \(Self.maximumFeatureCount) expected")
        }
        guard baseMargin.isFinite else { throw .invalid("the base margin \(baseMargin) is not a finite number") }
        guard !trees.isEmpty else { throw .invalid("the model has no trees") }
        guard trees.count <= Self.maximumTreeCount else {
            throw .invalid("the model has \(trees.count) trees; at most \(Self.maximumTreeCount) are supported")
        }
        var builder = Builder(featureCount: featureCount, leafSum: leafSum)
        for (index, tree) in trees.enumerated() { try builder.add(tree, index: index) }
        self.featureCount = featureCount
        self.baseMargin = baseMargin
        self.leafSum = leafSum
        self.treeRoots = builder.roots
        self.treeDepths = builder.depths
        self.leftChildren = builder.left
        self.rightChildren = builder.right
        self.features = builder.features
        self.thresholds = builder.thresholds
        self.defaultLeft = builder.defaultLeft
        self.zeroIsMissing = builder.zeroIsMissing
        self.values = builder.values
        self.covers = builder.covers
        self.packed = builder.packed
        self.coverFractions = builder.fractions
        self.hasZeroMissing = builder.zeroIsMissing.contains(true)
        var expected = 0.0
        for root in builder.roots { expected += builder.values[root] }
        self.expectedSum = expected
        self.shapCoefficients = Self.makeSHAPCoefficients(maxDepth: builder.depths.max() ?? 0)
        self.shapTables = SHAPTables(
            nodes: builder.packed, fractions: builder.fractions, values: builder.values, features: builder.features,
            roots: builder.roots, featureCount: featureCount, limits: shapTableLimits)
        // Lockstep walks every tree of a group for the group's deepest path; worth it unless trees are uneven.
        var steps: [Int32] = []
        var lockstepWork = 0
        var start = 0
        while start < builder.depths.count {
            let end = min(start + Self.lockstepWidth, builder.depths.count)
            let deepest = builder.depths[start..<end].max() ?? 0
            steps.append(Int32(deepest))
            lockstepWork += deepest * (end - start)
            start = end
        }
        self.lockstepSteps = steps
        self.usesLockstep = Double(lockstepWork) <= 1.5 * builder.meanPathSum + 1
    }

    /// Number of trees.
    public var treeCount: Int { treeRoots.count }
    /// Number of nodes in all trees.
    public var nodeCount: Int { leftChildren.count }
    /// The deepest tree's depth.
    public var maxDepth: Int { treeDepths.max() ?? 0 }
    /// The margin before any input is known: `baseMargin` plus every tree's expected value.
    public var expectedMargin: Double { baseMargin + expectedSum }
    /// Bytes of TreeSHAP's precomputed tables (0 when every tree is walked); at most 64 MiB.
    public var shapTableBytes: Int { shapTables.byteCount }
    /// Trees whose TreeSHAP comes from the tables; the others (a path of more than 10 distinct features, or past the
    /// 64 MiB cap) are walked, and trees of a single leaf contribute nothing.
    public var shapTabledTreeCount: Int { shapTables.treeCount }

    /// Trees walked side by side in the lockstep loop.
    static let lockstepWidth = 8
}

/// One node of the hot loops: 16 bytes, addressed by byte offset (index × 16) so a step needs no shifts.
///
/// The walks read a doubled row, `[x₀ … xₙ₋₁, −x₀ … −xₙ₋₁]`. A node's first child is the one missing inputs go to;
/// a present input takes the second child when `row[feature] ≥ threshold`, with the feature and threshold chosen at
/// build time so that this is the split's own test (see `TreeEnsemble.Builder`). A NaN compares false and so stays
/// on the first child, without a test of its own. A leaf's child is itself and its threshold NaN, so a step from a
/// leaf stays on it (the lockstep walk relies on this).
struct PackedNode: Sendable {
    var threshold: Double
    /// Byte offset of the first (default) child; the second child follows it.
    var childOffset: Int32
    /// Bits 0–29: byte offset of the split's input in the doubled row; bit 30: |x| ≤ zeroThreshold is missing too.
    var bits: UInt32

    static let zeroMissingBit: UInt32 = 1 << 30
    static let featureMask: UInt32 = (1 << 30) - 1
    static let stride = 16

    var childIndex: Int { Int(childOffset) >> 4 }
}

extension TreeEnsemble {
    /// Validates file trees one by one and appends them, renumbered breadth-first, to the flat arrays.
    fileprivate struct Builder {
        let featureCount: Int
        let leafSum: LeafSum
        var roots: [Int] = []
        var depths: [Int] = []
        var left: [Int32] = []
        var right: [Int32] = []
        /// Per node: the default child, which the other child follows; -1 at a leaf.
        var first: [Int32] = []
        var features: [Int32] = []
        var thresholds: [Double] = []
        var defaultLeft: [Bool] = []
        var zeroIsMissing: [Bool] = []
        var values: [Double] = []
        var covers: [Double] = []
        var packed: [PackedNode] = []
        var fractions: [Double] = []
        /// Σ over trees of the cover-weighted mean leaf depth: the steps an early-exit walk takes on average.
        var meanPathSum = 0.0

        init(featureCount: Int, leafSum: LeafSum) {
            self.featureCount = featureCount
            self.leafSum = leafSum
        }

        mutating func add(_ tree: Tree, index: Int) throws(ModelError) {
            let place = "tree \(index)"
            let count = tree.leftChildren.count
            guard count >= 1 else { throw .invalid("\(place): has no nodes") }
            let columns: [(String, Int)] = [
                ("right children", tree.rightChildren.count), ("features", tree.features.count),
                ("thresholds", tree.thresholds.count), ("default directions", tree.defaultLeft.count),
                ("zero-is-missing flags", tree.zeroIsMissing.count), ("values", tree.values.count),
                ("covers", tree.covers.count),
            ]
            for (name, other) in columns where other != count {
                throw .invalid("\(place): \(count) left children but \(other) \(name)")
            }
            guard left.count + count <= TreeEnsemble.maximumNodeCount else {
                throw .invalid(
                    "\(place): the model has more than \(TreeEnsemble.maximumNodeCount) nodes, more than is supported")
            }
            func name(_ node: Int) -> String {
                if let firstLeaf = tree.firstLeafNumber {
                    return node >= firstLeaf ? "leaf \(node - firstLeaf)" : "split node \(node)"
                }
                return "node \(node)"
            }

            // Breadth-first from the root: new number of each reached file node, children adjacent.
            var order = [0]
            var depthOf = [0]
            var seen = [Bool](repeating: false, count: count)
            seen[0] = true
            var head = 0
            var maxDepth = 0
            while head < order.count {
                let node = order[head]
                let depth = depthOf[head]
                head += 1
                let l = tree.leftChildren[node]
                let r = tree.rightChildren[node]
                if l == -1 && r == -1 {
                    let value = tree.values[node]
                    guard value.isFinite else { throw .invalid("\(place) \(name(node)): the leaf value is \(value)") }
                    if leafSum == .float32 && Double(Float(value)) != value {
                        throw .invalid("\(place) \(name(node)): the leaf value \(value) is not a 32-bit float")
                    }
                    maxDepth = max(maxDepth, depth)
                    continue
                }
                for (side, child) in [("left", l), ("right", r)] {
                    guard child >= 0 && child < count else {
                        if child == -1 {
                            throw .invalid(
                                "\(place) \(name(node)): has a \(side == "left" ? "right" : "left") child "
                                    + "but no \(side) child")
                        }
                        throw .invalid(
                            "\(place) \(name(node)): \(side) child \(child) is out of range (the tree has \(count) nodes)"
                        )
                    }
                    guard !seen[child] else {
                        throw .invalid(
                            "\(place) \(name(node)): \(side) child \(name(child)) is reached twice (a cycle or a shared "
                                + "subtree)")
                    }
                    seen[child] = true
                }
                guard depth + 1 <= TreeEnsemble.maximumDepth else {
                    throw .invalid("\(place): deeper than \(TreeEnsemble.maximumDepth) levels, more than is supported")
                }
                let feature = tree.features[node]
                guard feature >= 0 && feature < featureCount else {
                    throw .invalid(
                        "\(place) \(name(node)): feature index \(feature) is out of range (the model has "
                            + "\(featureCount) features)")
                }
                guard !tree.thresholds[node].isNaN else {
                    throw .invalid("\(place) \(name(node)): the threshold is NaN")
                }
                // The child missing inputs go to comes first (see PackedNode).
                let defaultFirst = tree.defaultLeft[node]
                order.append(defaultFirst ? l : r)
                depthOf.append(depth + 1)
                order.append(defaultFirst ? r : l)
                depthOf.append(depth + 1)
            }
            for node in order {
                let cover = tree.covers[node]
                guard cover.isFinite && cover >= 0 else {
                    throw .invalid("\(place) \(name(node)): the cover \(cover) is not a finite number ≥ 0")
                }
            }
            guard tree.covers[0] > 0 || order.count == 1 else {
                throw .invalid("\(place): the root's cover is 0, so the tree's expected value is undefined")
            }

            // Emit in breadth-first order: the children of order[k] are order[c], order[c + 1] for increasing c, the
            // default child first.
            let base = left.count
            var newNumber = [Int](repeating: -1, count: count)
            for (position, node) in order.enumerated() { newNumber[node] = base + position }
            roots.append(base)
            depths.append(maxDepth)
            for (position, node) in order.enumerated() {
                let me = base + position
                let isLeaf = tree.leftChildren[node] == -1
                fractions.append(position == 0 ? 1 : 0)  // set below from the parent's cover
                covers.append(tree.covers[node])
                if isLeaf {
                    left.append(-1)
                    right.append(-1)
                    first.append(-1)
                    features.append(0)
                    thresholds.append(.nan)
                    defaultLeft.append(false)
                    zeroIsMissing.append(false)
                    values.append(tree.values[node])
                    packed.append(PackedNode(threshold: .nan, childOffset: Int32(me * PackedNode.stride), bits: 0))
                } else {
                    let leftChild = newNumber[tree.leftChildren[node]]
                    let rightChild = newNumber[tree.rightChildren[node]]
                    let defaultChild = tree.defaultLeft[node] ? leftChild : rightChild
                    let feature = tree.features[node]
                    left.append(Int32(leftChild))
                    right.append(Int32(rightChild))
                    first.append(Int32(defaultChild))
                    features.append(Int32(feature))
                    thresholds.append(tree.thresholds[node])
                    defaultLeft.append(tree.defaultLeft[node])
                    zeroIsMissing.append(tree.zeroIsMissing[node])
                    values.append(0)
                    // Present inputs take the second child when x ≥ t (default left: the second is the right child) or
                    // when x < t, i.e. −x ≥ (−t).nextUp (default right: the second is the left child), read from the
                    // negated half of the row. A NaN compares false, so it stays on the first, default, child.
                    let threshold = tree.thresholds[node]
                    let packedThreshold: Double
                    var bits: UInt32
                    if tree.defaultLeft[node] {
                        packedThreshold = threshold
                        bits = UInt32(feature * MemoryLayout<Double>.stride)
                    } else {
                        packedThreshold = threshold == -.infinity ? .nan : (-threshold).nextUp  // NaN: never below −∞
                        bits = UInt32((featureCount + feature) * MemoryLayout<Double>.stride)
                    }
                    if tree.zeroIsMissing[node] { bits |= PackedNode.zeroMissingBit }
                    packed.append(
                        PackedNode(
                            threshold: packedThreshold, childOffset: Int32(defaultChild * PackedNode.stride),
                            bits: bits))
                }
            }
            // Zero fractions, then expected values bottom-up (children always follow their parent).
            for me in base..<left.count where first[me] >= 0 {
                let l = Int(first[me])
                let parent = covers[me]
                fractions[l] = parent > 0 ? covers[l] / parent : 0
                fractions[l + 1] = parent > 0 ? covers[l + 1] / parent : 0
            }
            var reach = [Double](repeating: 0, count: order.count)
            reach[0] = 1
            var meanDepth = 0.0
            for me in base..<left.count {
                let l = Int(first[me])
                if l >= 0 {
                    reach[l - base] = reach[me - base] * fractions[l]
                    reach[l + 1 - base] = reach[me - base] * fractions[l + 1]
                } else {
                    meanDepth += reach[me - base] * Double(depthOf[me - base])
                }
            }
            meanPathSum += min(meanDepth, Double(maxDepth))
            for me in (base..<left.count).reversed() where first[me] >= 0 {
                let l = Int(first[me])
                let expected = fractions[l] * values[l] + fractions[l + 1] * values[l + 1]
                guard expected.isFinite else {
                    throw .invalid("\(place): the expected value overflows (covers or leaf values too large)")
                }
                values[me] = expected
            }
        }
    }
}
