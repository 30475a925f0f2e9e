/// Precomputed TreeSHAP (in the manner of Yang 2021, "Fast TreeSHAP", v2): per leaf, path-dependent TreeSHAP is a
/// function of which of its path's features the row follows, so it is tabulated once at import and only looked up
/// per row.
///
/// For a leaf with value v whose root-to-leaf path splits on the distinct features P (d = |P|), let zⱼ be the product
/// of the path's cover fractions at the splits on j and oⱼ ∈ {0, 1} whether the row follows every split on j. The
/// leaf's share of the path-dependent game is v·Πⱼ (j known ? oⱼ : zⱼ), whose Shapley values are, for i ∈ P,
///
///     φᵢ = v·(oᵢ − zᵢ)·Σ_{S ⊆ Q∖{i}} w(|S|, d)·Π_{j ∈ P∖{i}∖S} zⱼ,   Q = {j : oⱼ = 1},  w(s, d) = s!(d−s−1)!/d!,
///
/// so the contributions of a leaf depend on the row only through Q. Tables go one step further: a *block*, a subtree
/// with at most `blockSplits` splits, sums the contributions of all its leaves, which depend on the row only through
/// the features its root's path fails (a mask over that path's distinct features) and the directions the row takes
/// at the block's own splits. Each block stores one row of sums per combination, over the block's features; `explain`
/// computes the masks top-down over the splits above the blocks (each split once), then adds one table row per block.
/// Distinct features are numbered by first appearance from the root, so a node's numbering holds for everything
/// below it.
///
/// Memory per block is 2^(u + s) rows of |F| Doubles (u: distinct features above the block, s: its splits, F: its
/// features), about (d + 1)·2^(d−1) Doubles per leaf in a full tree. Trees with more than
/// `SHAPTableLimits.maxPathFeatures` distinct features on a path, and trees past the ensemble's byte cap, are walked by
/// `SHAPWalker` instead.
struct SHAPTables: Sendable {
    /// Splits a block may have: 3 is a full subtree of depth 2 (four leaves, one lookup), for about the memory of
    /// one table per leaf and path feature.
    static let blockSplits = 3

    /// One split above the blocks: sets the failed-feature mask of its two children from its own.
    struct Split: Sendable {
        /// `PackedNode.threshold` and `PackedNode.bits`: the split's own test, as `margin` makes it.
        var threshold: Double
        var bits: UInt32
        /// 1 << (the split feature's number on the path).
        var featureBit: UInt32
        /// Index of this node's mask in the chunk's scratch masks.
        var mask: Int32
        /// Index of the first (default) child's mask; the second child's follows it.
        var children: Int32
    }

    /// One block: up to three splits, whose directions (bit k: split k, breadth-first) above the root's mask select a
    /// row of its table.
    struct Block: Sendable {
        var threshold0: Double
        var threshold1: Double
        var threshold2: Double
        var bits0: UInt32
        var bits1: UInt32
        var bits2: UInt32
        /// Index of the block root's mask in the chunk's scratch masks.
        var mask: Int32
        /// Number of distinct features above the block: the directions' bits start here in the row index.
        var shift: Int32
        /// Doubles per table row: the block's distinct features.
        var width: Int32
        /// Offset of the block's first row in `values`.
        var table: Int32
        /// Offset of the block's features in `features`.
        var features: Int32
        /// How many of the three splits are the block's (the others are never taken).
        var splitCount: Int32
    }

    /// Trees are explained a chunk at a time: first every split of the chunk's trees (parents before children), then
    /// its blocks, grouped by split count and sorted by width so that the code a block takes is predictable. Masks
    /// are numbered within the chunk; mask 0 is every root's, always 0.
    struct Chunk: Sendable {
        /// Where the chunk's splits end (they start where the previous chunk's ended).
        var splitEnd: Int32
        /// Where its blocks of 0, 1, 2 and 3 splits end (each group starts where the previous one ended).
        var blockEnds: (Int32, Int32, Int32, Int32)
    }

    /// Masks a chunk may number, unless a single tree needs more (4 KiB of scratch).
    static let chunkMasks = 1024

    var chunks: [Chunk] = []
    var splits: [Split] = []
    var blocks: [Block] = []
    /// Per block, its features (inputs) in the order of its table rows.
    var features: [Int32] = []
    /// The tables: per block, 2^(u + s) rows of `width` contributions.
    var values: [Double] = []
    /// Roots of the trees TreeSHAP walks instead (paths too long, or past the byte cap); lone leaves are in neither.
    var walkedRoots: [Int] = []
    /// Most masks of any chunk: the scratch `explain` needs.
    var maskCapacity = 1
    /// Bytes of all the above.
    var byteCount = 0
    /// Trees with tables.
    var treeCount = 0
}

/// When `TreeEnsemble` builds SHAP tables.
struct SHAPTableLimits: Sendable, Equatable {
    /// Trees with a path of more distinct features than this are walked (tables grow as 2^d per leaf).
    var maxPathFeatures: Int
    /// Tables of all trees together stay at or below this many bytes; trees that would pass it are walked.
    var maxBytes: Int

    /// 10 distinct features per path, 64 MiB per model.
    static let standard = SHAPTableLimits(maxPathFeatures: 10, maxBytes: 64 << 20)
}

extension SHAPTables {
    /// Builds the tables of every tree that fits `limits`, in tree order; the others are listed in `walkedRoots`.
    init(
        nodes: [PackedNode], fractions: [Double], values leafValues: [Double], features nodeFeatures: [Int32],
        roots: [Int], featureCount: Int, limits: SHAPTableLimits
    ) {
        precondition(limits.maxPathFeatures <= 16, "tables of paths longer than 16 features are not supported")
        precondition(limits.maxBytes / MemoryLayout<Double>.stride < Int(Int32.max), "offsets are 32-bit")
        var builder = SHAPTableBuilder(
            nodes: nodes, fractions: fractions, leafValues: leafValues, nodeFeatures: nodeFeatures,
            featureCount: featureCount, limits: limits)
        var budget = limits.maxBytes
        var chunk = PendingChunk()
        for (tree, root) in roots.enumerated() {
            let end = tree + 1 < roots.count ? roots[tree + 1] : nodes.count
            guard nodes[root].childIndex != root else { continue }  // a lone leaf explains nothing
            guard let shape = builder.shape(root: root, end: end), shape.bytes <= budget else {
                walkedRoots.append(root)
                continue
            }
            budget -= shape.bytes
            if chunk.trees > 0 && Int(chunk.masks + shape.masks - 1) > Self.chunkMasks { close(&chunk) }
            builder.emit(shape, into: &self, chunk: &chunk)
            chunk.trees += 1
            treeCount += 1
        }
        if chunk.trees > 0 { close(&chunk) }
        byteCount =
            values.count * MemoryLayout<Double>.stride + features.count * MemoryLayout<Int32>.stride
            + splits.count * MemoryLayout<Split>.stride + blocks.count * MemoryLayout<Block>.stride
            + chunks.count * MemoryLayout<Chunk>.stride
    }

    /// The chunk being filled: its masks so far (mask 0 is the roots') and its blocks, not yet sorted.
    struct PendingChunk {
        var trees = 0
        var masks: Int32 = 1
        var blocks: [Block] = []
    }

    mutating func close(_ chunk: inout PendingChunk) {
        maskCapacity = max(maskCapacity, Int(chunk.masks))
        // By split count, then width; stable, so blocks of one kind keep their trees' order.
        let sorted = chunk.blocks.enumerated().sorted {
            ($0.element.splitCount, $0.element.width, $0.offset) < ($1.element.splitCount, $1.element.width, $1.offset)
        }
        var ends = [Int32](repeating: Int32(blocks.count), count: 4)
        for (_, block) in sorted {
            blocks.append(block)
            for count in Int(block.splitCount)..<4 { ends[count] = Int32(blocks.count) }
        }
        chunks.append(Chunk(splitEnd: Int32(splits.count), blockEnds: (ends[0], ends[1], ends[2], ends[3])))
        chunk = PendingChunk()
    }
}

/// What the first pass over a tree finds: per node (local index), its subtree's split count, the distinct features
/// above it and its own feature's number; which nodes root blocks; and the bytes its tables take.
struct SHAPTreeShape {
    var root: Int
    var splitsBelow: [Int32]
    var distinctAbove: [Int32]
    var featureNumber: [Int32]
    var blockRoot: [Bool]
    var bytes: Int
    /// Masks the tree numbers: its splits above blocks and its block roots.
    var masks: Int32
}

struct SHAPTableBuilder {
    let nodes: [PackedNode]
    let fractions: [Double]
    let leafValues: [Double]
    let nodeFeatures: [Int32]
    let limits: SHAPTableLimits
    /// Per input: how often the current path splits on it, and its number on the path (first appearance).
    var pathCount: [Int32]
    var pathNumber: [Int32]
    /// s!(d−s−1)!/d!, at d·stride + s.
    let weights: [Double]
    let weightStride: Int
    /// Scratch for `leafContributions`, sized for the longest path.
    var contributions: [Double]
    var sums: [Double]
    var products: [Double]

    init(
        nodes: [PackedNode], fractions: [Double], leafValues: [Double], nodeFeatures: [Int32], featureCount: Int,
        limits: SHAPTableLimits
    ) {
        self.nodes = nodes
        self.fractions = fractions
        self.leafValues = leafValues
        self.nodeFeatures = nodeFeatures
        self.limits = limits
        pathCount = [Int32](repeating: 0, count: featureCount)
        pathNumber = [Int32](repeating: 0, count: featureCount)
        let stride = max(limits.maxPathFeatures, 0) + 1
        var factorial = [1.0]
        for k in 1...stride { factorial.append(factorial[k - 1] * Double(k)) }
        var weights = [Double](repeating: 0, count: stride * stride)
        for d in 1..<stride {
            for s in 0..<d { weights[d * stride + s] = factorial[s] * factorial[d - s - 1] / factorial[d] }
        }
        self.weights = weights
        weightStride = stride
        contributions = [Double](repeating: 0, count: (1 << (stride - 1)) * (stride - 1))
        sums = [Double](repeating: 0, count: 1 << (stride - 1))
        products = [Double](repeating: 1, count: 1 << (stride - 1))
    }

    @inline(__always) func isLeaf(_ node: Int) -> Bool { nodes[node].childIndex == node }

    /// The first pass: nil when a path has more than `maxPathFeatures` distinct features.
    mutating func shape(root: Int, end: Int) -> SHAPTreeShape? {
        let count = end - root
        let maxSplits = Int32(SHAPTables.blockSplits)
        var below = [Int32](repeating: 0, count: count)
        for local in (0..<count).reversed() where !isLeaf(root + local) {
            let first = nodes[root + local].childIndex - root
            below[local] = 1 + below[first] + below[first + 1]
        }
        var blockRoot = [Bool](repeating: false, count: count)
        blockRoot[0] = below[0] <= maxSplits
        for local in 0..<count where below[local] > maxSplits {
            let first = nodes[root + local].childIndex - root
            blockRoot[first] = below[first] <= maxSplits
            blockRoot[first + 1] = below[first + 1] <= maxSplits
        }

        var above = [Int32](repeating: 0, count: count)
        var number = [Int32](repeating: 0, count: count)
        var bytes = 0
        var fits = true
        // Depth-first, keeping the current path's features (with multiplicity) in `pathCount`.
        var stack: [(local: Int, depth: Int)] = [(0, 0)]
        var path: [Int32] = []
        var distinct: Int32 = 0
        while fits, let (local, depth) = stack.popLast() {
            while path.count > depth {
                let feature = Int(path.removeLast())
                pathCount[feature] -= 1
                if pathCount[feature] == 0 { distinct -= 1 }
            }
            above[local] = distinct
            guard Int(distinct) <= limits.maxPathFeatures else {
                fits = false
                break
            }
            if blockRoot[local] {
                // Its features: those above, then the block's new ones.
                var width = Int(distinct)
                var seen: [Int32] = []
                for split in blockSplits(root: root, local: local) {
                    let feature = nodeFeatures[root + split]
                    if pathCount[Int(feature)] == 0 && !seen.contains(feature) {
                        seen.append(feature)
                        width += 1
                    }
                }
                let rows = 1 << (Int(distinct) + Int(below[local]))
                bytes +=
                    rows * width * MemoryLayout<Double>.stride + width * MemoryLayout<Int32>.stride
                    + MemoryLayout<SHAPTables.Block>.stride
            } else if below[local] > maxSplits {
                bytes += MemoryLayout<SHAPTables.Split>.stride
            }
            let node = root + local
            if isLeaf(node) { continue }
            let feature = Int(nodeFeatures[node])
            if pathCount[feature] == 0 {
                pathNumber[feature] = distinct
                distinct += 1
            }
            number[local] = pathNumber[feature]
            pathCount[feature] += 1
            path.append(Int32(feature))
            let first = nodes[node].childIndex - root
            stack.append((first + 1, depth + 1))
            stack.append((first, depth + 1))
        }
        for feature in path { pathCount[Int(feature)] -= 1 }
        guard fits else { return nil }
        bytes += MemoryLayout<SHAPTables.Chunk>.stride  // at most one chunk per tree
        var masks: Int32 = 0
        for local in 0..<count where blockRoot[local] || below[local] > maxSplits { masks += 1 }
        return SHAPTreeShape(
            root: root, splitsBelow: below, distinctAbove: above, featureNumber: number, blockRoot: blockRoot,
            bytes: bytes, masks: masks)
    }

    /// The splits of the block rooted at `local`, breadth-first (their order in the row index); empty for a leaf.
    func blockSplits(root: Int, local: Int) -> [Int] {
        var splits: [Int] = []
        if !isLeaf(root + local) { splits.append(local) }
        var head = 0
        while head < splits.count {
            let first = nodes[root + splits[head]].childIndex - root
            for child in [first, first + 1] where !isLeaf(root + child) { splits.append(child) }
            head += 1
        }
        return splits
    }

    /// The second pass: appends the tree's splits and tables, and its blocks to the chunk.
    mutating func emit(_ shape: SHAPTreeShape, into tables: inout SHAPTables, chunk: inout SHAPTables.PendingChunk) {
        let root = shape.root
        let count = shape.splitsBelow.count
        let maxSplits = Int32(SHAPTables.blockSplits)
        var parent = [Int](repeating: -1, count: count)
        for local in 0..<count where !isLeaf(root + local) {
            let first = nodes[root + local].childIndex - root
            parent[first] = local
            parent[first + 1] = local
        }
        // Masks: the root's is the chunk's mask 0; then the other splits above the blocks and the block roots,
        // breadth-first, so siblings are adjacent.
        var maskIndex = [Int32](repeating: -1, count: count)
        maskIndex[0] = 0
        for local in 1..<count where shape.blockRoot[local] || shape.splitsBelow[local] > maxSplits {
            maskIndex[local] = chunk.masks
            chunk.masks += 1
        }
        for local in 0..<count where shape.splitsBelow[local] > maxSplits {
            let node = nodes[root + local]
            let first = node.childIndex - root
            precondition(maskIndex[first] >= 0 && maskIndex[first + 1] == maskIndex[first] + 1)
            tables.splits.append(
                SHAPTables.Split(
                    threshold: node.threshold, bits: node.bits, featureBit: 1 << UInt32(shape.featureNumber[local]),
                    mask: maskIndex[local], children: maskIndex[first]))
        }
        for local in 0..<count where shape.blockRoot[local] {
            chunk.blocks.append(emitBlock(shape, local: local, parent: parent, mask: maskIndex[local], into: &tables))
        }
    }

    /// One block's features and table: for every (mask above, directions) the sum of its leaves' contributions.
    mutating func emitBlock(
        _ shape: SHAPTreeShape, local blockRoot: Int, parent: [Int], mask: Int32, into tables: inout SHAPTables
    ) -> SHAPTables.Block {
        let root = shape.root
        let above = Int(shape.distinctAbove[blockRoot])
        // The path above: each distinct feature and its zero fraction, the product of its splits' cover fractions
        // multiplied top-down, as the walker does (so the rounding is the same).
        var pathNodes: [Int] = []
        var child = blockRoot
        while parent[child] >= 0 {
            pathNodes.append(child)
            child = parent[child]
        }
        var features = [Int32](repeating: -1, count: above)
        var zeros = [Double](repeating: 1, count: above)
        for child in pathNodes.reversed() {
            let split = parent[child]
            let number = Int(shape.featureNumber[split])
            features[number] = nodeFeatures[root + split]
            zeros[number] = fractions[root + child] * zeros[number]
        }

        let splits = blockSplits(root: root, local: blockRoot)
        var blockFeatures = features
        for split in splits where !blockFeatures.contains(nodeFeatures[root + split]) {
            blockFeatures.append(nodeFeatures[root + split])
        }
        let width = blockFeatures.count
        let rows = 1 << (above + splits.count)
        let base = tables.values.count
        tables.values.append(contentsOf: repeatElement(0, count: rows * width))

        // Every leaf of the block: its path below the block root as (split's direction bit, child taken, feature bit).
        var leaves: [Int] = []
        for local in [blockRoot]
            + splits.flatMap({ split -> [Int] in
                let first = nodes[root + split].childIndex - root
                return [first, first + 1]
            }) where isLeaf(root + local)
        {
            leaves.append(local)
        }
        for leaf in leaves {
            var edges: [(bit: Int, second: Int, local: Int)] = []
            var node = leaf
            while node != blockRoot {
                let split = parent[node]
                let second = node == nodes[root + split].childIndex - root ? 0 : 1
                edges.append((splits.firstIndex(of: split)!, second, node))
                node = split
            }
            edges.reverse()
            var leafFeatures = features
            var leafZeros = zeros
            var columns = Array(0..<above)
            var failBits: [(bit: Int, second: Int, feature: UInt32)] = []
            for edge in edges {
                let feature = nodeFeatures[root + parent[edge.local]]
                let number: Int
                if let known = leafFeatures.firstIndex(of: feature) {
                    number = known
                } else {
                    number = leafFeatures.count
                    leafFeatures.append(feature)
                    leafZeros.append(1)
                    columns.append(blockFeatures.firstIndex(of: feature)!)
                }
                leafZeros[number] = fractions[root + edge.local] * leafZeros[number]
                failBits.append((edge.bit, edge.second, 1 << UInt32(number)))
            }
            let d = leafFeatures.count
            precondition(d == Int(shape.distinctAbove[leaf]) && d >= 1 && d <= limits.maxPathFeatures)
            leafContributions(value: leafValues[root + leaf], zeros: leafZeros)
            let all = (1 << d) - 1
            // The features each combination of the block's directions fails on this leaf's path.
            var failedBelow = [Int](repeating: 0, count: 1 << splits.count)
            for directions in 0..<failedBelow.count {
                for edge in failBits where (directions >> edge.bit) & 1 != edge.second {
                    failedBelow[directions] |= Int(edge.feature)
                }
            }
            let contributions = contributions
            tables.values.withUnsafeMutableBufferPointer { values in
                for index in 0..<rows {
                    let failed = (index & ((1 << above) - 1)) | failedBelow[index >> above]
                    let followed = all & ~failed
                    let row = base + index * width
                    for number in 0..<d { values[row + columns[number]] += contributions[followed * d + number] }
                }
            }
        }

        // Splits the block does not have are never taken: a NaN threshold compares false.
        var thresholds = [Double](repeating: .nan, count: 3)
        var bits = [UInt32](repeating: 0, count: 3)
        for (k, split) in splits.enumerated() {
            thresholds[k] = nodes[root + split].threshold
            bits[k] = nodes[root + split].bits
        }
        let block = SHAPTables.Block(
            threshold0: thresholds[0], threshold1: thresholds[1], threshold2: thresholds[2], bits0: bits[0],
            bits1: bits[1], bits2: bits[2], mask: mask, shift: Int32(above), width: Int32(width), table: Int32(base),
            features: Int32(tables.features.count), splitCount: Int32(splits.count))
        tables.features.append(contentsOf: blockFeatures)
        return block
    }

    /// One leaf's contributions for every set Q of followed features, into `contributions`: d values per Q, at
    /// Q·d + i.
    ///
    /// Hᵢ(M) = Σ_{S ⊆ M} w(|S|, d)·Π_{j ∉ S, j ≠ i} zⱼ over the other features (a subset-sum transform of the terms),
    /// and φᵢ = v·(oᵢ − zᵢ)·Hᵢ(Q∖{i}).
    mutating func leafContributions(value: Double, zeros: [Double]) {
        let d = zeros.count
        let others = d - 1
        let subsets = 1 << others
        for i in 0..<d {
            // products[T] = Π_{k ∈ T} z (T over the others), built up from T without its lowest member.
            for subset in 1..<max(subsets, 1) {
                let lowest = subset.trailingZeroBitCount
                products[subset] = products[subset & (subset - 1)] * zeros[lowest < i ? lowest : lowest + 1]
            }
            // The terms w(|S|, d)·Π_{k ∉ S} z, then their subset sums.
            for subset in 0..<subsets {
                sums[subset] =
                    weights[d * weightStride + subset.nonzeroBitCount] * products[(subsets - 1) & ~subset]
            }
            for k in 0..<others {
                for subset in 0..<subsets where subset & (1 << k) != 0 { sums[subset] += sums[subset ^ (1 << k)] }
            }
            let low = (1 << i) - 1
            for followed in 0..<(1 << d) {
                let others = (followed & low) | ((followed >> (i + 1)) << i)
                let one: Double = (followed >> i) & 1 == 1 ? 1 : 0
                contributions[followed * d + i] = value * (one - zeros[i]) * sums[others]
            }
        }
    }
}

extension TreeEnsemble {
    /// Adds the tabled trees' contributions for a doubled row (see `PackedNode`) into `phi`; `masks` holds
    /// `shapTables.maskCapacity` entries.
    @inline(__always)
    func addTabledContributions<Rule: MissingRule>(
        row: UnsafeRawPointer, phi: UnsafeMutablePointer<Double>, masks: UnsafeMutablePointer<UInt32>,
        _ rule: Rule.Type
    ) {
        let tables = shapTables
        tables.chunks.withUnsafeBufferPointer { chunks in
            tables.splits.withUnsafeBufferPointer { splits in
                tables.blocks.withUnsafeBufferPointer { blocks in
                    tables.features.withUnsafeBufferPointer { features in
                        tables.values.withUnsafeBufferPointer { values in
                            Self.addTabled(
                                row: row, phi: phi, masks: masks, chunks: chunks, splits: splits.baseAddress!,
                                blocks: blocks.baseAddress!, features: features.baseAddress!,
                                values: values.baseAddress!, rule)
                        }
                    }
                }
            }
        }
    }

    /// 1 when the row takes a split's second child, 0 for the first (default) one; branch-free, as `margin` decides.
    @inline(__always)
    static func direction<Rule: MissingRule>(
        _ row: UnsafeRawPointer, _ threshold: Double, _ bits: UInt32, _ rule: Rule.Type
    ) -> Int {
        let value = row.load(fromByteOffset: Int(bits & PackedNode.featureMask), as: Double.self)
        return Rule.secondOffset(value, threshold, bits) &>> 4  // PackedNode.stride is 16
    }

    @inline(__always)
    static func addTabled<Rule: MissingRule>(
        row: UnsafeRawPointer, phi: UnsafeMutablePointer<Double>, masks: UnsafeMutablePointer<UInt32>,
        chunks: UnsafeBufferPointer<SHAPTables.Chunk>, splits: UnsafePointer<SHAPTables.Split>,
        blocks: UnsafePointer<SHAPTables.Block>, features: UnsafePointer<Int32>, values: UnsafePointer<Double>,
        _ rule: Rule.Type
    ) {
        var split = 0
        var block = 0
        masks[0] = 0
        for chunk in chunks {
            // The masks, top-down: both children fail the split's feature, then the child taken gets the parent's
            // mask back (stores rather than a select, which the compiler would turn into an unpredictable branch).
            let splitEnd = Int(chunk.splitEnd)
            while split < splitEnd {
                let s = splits[split]
                let second = direction(row, s.threshold, s.bits, rule)
                let mask = masks[Int(s.mask)]
                let children = Int(s.children)
                let failed = mask | s.featureBit
                masks[children] = failed
                masks[children &+ 1] = failed
                masks[children &+ second] = mask
                split &+= 1
            }
            // Blocks of 0, 1, 2 and 3 splits.
            let (end0, end1, end2, end3) = chunk.blockEnds
            while block < Int(end0) {
                let b = blocks[block]
                add(b, Int(masks[Int(b.mask)]), phi, features, values)
                block &+= 1
            }
            while block < Int(end1) {
                let b = blocks[block]
                let directions = direction(row, b.threshold0, b.bits0, rule)
                add(b, Int(masks[Int(b.mask)]) | directions &<< Int(b.shift), phi, features, values)
                block &+= 1
            }
            while block < Int(end2) {
                let b = blocks[block]
                let directions =
                    direction(row, b.threshold0, b.bits0, rule) | direction(row, b.threshold1, b.bits1, rule) &<< 1
                add(b, Int(masks[Int(b.mask)]) | directions &<< Int(b.shift), phi, features, values)
                block &+= 1
            }
            while block < Int(end3) {
                let b = blocks[block]
                let directions =
                    direction(row, b.threshold0, b.bits0, rule) | direction(row, b.threshold1, b.bits1, rule) &<< 1
                    | direction(row, b.threshold2, b.bits2, rule) &<< 2
                add(b, Int(masks[Int(b.mask)]) | directions &<< Int(b.shift), phi, features, values)
                block &+= 1
            }
        }
    }

    /// Adds row `index` of a block's table to its features' contributions. Blocks come sorted by width, so the switch
    /// goes the same way many times in a row.
    @inline(__always)
    static func add(
        _ b: SHAPTables.Block, _ index: Int, _ phi: UnsafeMutablePointer<Double>, _ features: UnsafePointer<Int32>,
        _ values: UnsafePointer<Double>
    ) {
        let width = Int(b.width)
        let contributions = values + (Int(b.table) &+ index &* width)
        let columns = features + Int(b.features)
        switch width {
        case 8:
            phi[Int(columns[7])] += contributions[7]
            fallthrough
        case 7:
            phi[Int(columns[6])] += contributions[6]
            fallthrough
        case 6:
            phi[Int(columns[5])] += contributions[5]
            fallthrough
        case 5:
            phi[Int(columns[4])] += contributions[4]
            fallthrough
        case 4:
            phi[Int(columns[3])] += contributions[3]
            fallthrough
        case 3:
            phi[Int(columns[2])] += contributions[2]
            fallthrough
        case 2:
            phi[Int(columns[1])] += contributions[1]
            fallthrough
        case 1:
            phi[Int(columns[0])] += contributions[0]
        default:
            for k in 0..<width { phi[Int(columns[k])] += contributions[k] }
        }
    }
}
