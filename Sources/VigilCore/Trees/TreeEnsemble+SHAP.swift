extension TreeEnsemble {
    /// Exact SHAP values of one row: path-dependent TreeSHAP (Lundberg et al. 2018) over node covers.
    ///
    /// Returns one contribution per feature, in margin units, summed over the trees in Double. For every tree,
    /// `Σ contributions == leaf value − expected value` holds up to rounding, so
    /// `expectedMargin + Σ contributions` is the margin summed in Double. Trees with tables (`SHAPTables`) are looked
    /// up, the others walked (`pathWalkContributions`'s algorithm); both give the same values up to rounding. Allocates
    /// only the result: the scratch lives in temporary memory sized by the largest tree.
    public func contributions(_ inputs: [Double]) -> [Double] {
        precondition(inputs.count == featureCount, "inputs must match the model's features")
        var phi = [Double](repeating: 0, count: featureCount)
        inputs.withUnsafeBufferPointer { inputs in
            withDoubledRow(inputs) { row in
                phi.withUnsafeMutableBufferPointer { phi in
                    let phi = phi.baseAddress!
                    if shapTables.treeCount > 0 {
                        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: shapTables.maskCapacity) { masks in
                            let masks = masks.baseAddress!
                            if hasZeroMissing {
                                addTabledContributions(row: row, phi: phi, masks: masks, NaNOrZeroMissing.self)
                            } else {
                                addTabledContributions(row: row, phi: phi, masks: masks, NaNMissing.self)
                            }
                        }
                    }
                    if !shapTables.walkedRoots.isEmpty {
                        shapTables.walkedRoots.withUnsafeBufferPointer { roots in walk(roots, row: row, phi: phi) }
                    }
                }
            }
        }
        return phi
    }

    /// `contributions` by walking every tree (Algorithm 2 of Lundberg et al. 2018), without the tables: the
    /// algorithm for trees the tables do not cover, and the reference the tables are tested against.
    func pathWalkContributions(_ inputs: [Double]) -> [Double] {
        precondition(inputs.count == featureCount, "inputs must match the model's features")
        var phi = [Double](repeating: 0, count: featureCount)
        inputs.withUnsafeBufferPointer { inputs in
            withDoubledRow(inputs) { row in
                phi.withUnsafeMutableBufferPointer { phi in
                    treeRoots.withUnsafeBufferPointer { roots in walk(roots, row: row, phi: phi.baseAddress!) }
                }
            }
        }
        return phi
    }

    /// Walks the trees at `roots` for a doubled row, adding into `phi`. The path lives in temporary memory sized by
    /// the deepest tree, and the recursion depth is bounded by `maximumDepth`.
    private func walk(_ roots: UnsafeBufferPointer<Int>, row: UnsafeRawPointer, phi: UnsafeMutablePointer<Double>) {
        let depth = maxDepth
        // Segment k of the path (a node k levels down) holds at most k + 1 elements; lane reads run 8 past the end.
        let capacity = (depth + 2) * (depth + 3) / 2 + SHAPWalker.lanes
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: capacity) { pathFeatures in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 3 * capacity) { pathNumbers in
                let pathFeatures = pathFeatures.baseAddress!
                let numbers = pathNumbers.baseAddress!
                pathFeatures.initialize(repeating: -1, count: capacity)
                numbers.initialize(repeating: 0, count: 3 * capacity)
                walkTrees(
                    roots, row: row, phi: phi, pathFeatures: pathFeatures, zeros: numbers,
                    ones: numbers + capacity, weights: numbers + 2 * capacity)
            }
        }
    }

    private func walkTrees(
        _ roots: UnsafeBufferPointer<Int>, row: UnsafeRawPointer, phi: UnsafeMutablePointer<Double>,
        pathFeatures: UnsafeMutablePointer<Int32>,
        zeros: UnsafeMutablePointer<Double>, ones: UnsafeMutablePointer<Double>,
        weights: UnsafeMutablePointer<Double>
    ) {
        packed.withUnsafeBufferPointer { nodes in
            coverFractions.withUnsafeBufferPointer { fractions in
                values.withUnsafeBufferPointer { values in
                    features.withUnsafeBufferPointer { features in
                        shapCoefficients.withUnsafeBufferPointer { coefficients in
                            let walker = SHAPWalker(
                                nodes: nodes.baseAddress!, fractions: fractions.baseAddress!,
                                values: values.baseAddress!, features: features.baseAddress!, row: row, phi: phi,
                                pathFeatures: pathFeatures, zeros: zeros, ones: ones, weights: weights,
                                coefficients: coefficients.baseAddress!, stride: maxDepth + 2,
                                zeroRule: hasZeroMissing)
                            // The dummy first element: no feature, both fractions 1, weight 1. A lone leaf explains
                            // nothing, so trees of one leaf are skipped.
                            zeros[0] = 1
                            ones[0] = 1
                            weights[0] = 1
                            for root in roots where nodes[root].childIndex != root {
                                walker.recurse(
                                    node: root, parent: 0, depth: 0, zeroFraction: 1, oneFraction: 1, feature: -1)
                            }
                        }
                    }
                }
            }
        }
    }

    /// TreeSHAP's constants for each path length d (0 … maxDepth + 1), `stride` apart: four rows per d, indexed by i.
    static func makeSHAPCoefficients(maxDepth: Int) -> [Double] {
        let stride = maxDepth + 2
        var table = [Double](repeating: 0, count: stride * 4 * stride)
        for d in 0..<stride {
            let top = Double(d + 1)
            for i in 0..<stride {
                let base = d * 4 * stride
                table[base + i] = top / Double(i + 1)  // (d+1)/(i+1): unwinding a followed element
                table[base + stride + i] = i <= d ? Double(d - i) / top : 0  // (d−i)/(d+1): its other term; EXTEND
                table[base + 2 * stride + i] = i < d ? top / Double(d - i) : 0  // (d+1)/(d−i): an element not followed
                table[base + 3 * stride + i] = Double(i + 1) / top  // (i+1)/(d+1): EXTEND
            }
        }
        return table
    }
}

/// TreeSHAP's recursion over one tree. The path is kept as parallel arrays in caller-owned memory: each level copies
/// its parent's segment into the next one, so nothing is allocated per node.
///
/// A path element is a feature met on the way down (deduplicated), the fraction of the background that flows through
/// its splits (`zeros`, from covers), whether the row flows through all of them (`ones`, 0 or 1), and the weight of
/// subsets of each size (`weights`).
struct SHAPWalker {
    /// Path lengths up to this many elements after the dummy are explained in SIMD lanes.
    static let lanes = 8

    let nodes: UnsafePointer<PackedNode>
    let fractions: UnsafePointer<Double>
    let values: UnsafePointer<Double>
    let features: UnsafePointer<Int32>
    /// The doubled row the packed nodes read (see `PackedNode`).
    let row: UnsafeRawPointer
    let phi: UnsafeMutablePointer<Double>
    let pathFeatures: UnsafeMutablePointer<Int32>
    let zeros: UnsafeMutablePointer<Double>
    let ones: UnsafeMutablePointer<Double>
    let weights: UnsafeMutablePointer<Double>
    let coefficients: UnsafePointer<Double>
    let stride: Int
    let zeroRule: Bool

    /// (d+1)/(i+1), (d−i)/(d+1), (d+1)/(d−i) and (i+1)/(d+1) for path length d.
    @inline(__always) func unwindUp(_ d: Int) -> UnsafePointer<Double> { coefficients + d * 4 * stride }
    @inline(__always) func share(_ d: Int) -> UnsafePointer<Double> { coefficients + (d * 4 + 1) * stride }
    @inline(__always) func unwindDown(_ d: Int) -> UnsafePointer<Double> { coefficients + (d * 4 + 2) * stride }
    @inline(__always) func grow(_ d: Int) -> UnsafePointer<Double> { coefficients + (d * 4 + 3) * stride }

    /// Visits `node`, entered with the parent's path (segment at `parent`, `depth` elements after the dummy).
    func recurse(
        node: Int, parent: Int, depth uniqueDepth: Int, zeroFraction: Double, oneFraction: Double, feature: Int32
    ) {
        var depth = uniqueDepth
        let path = parent + depth + 1
        copySegment(from: parent, to: path, count: depth)
        extend(from: parent, to: path, depth, zeroFraction, oneFraction, feature)

        let packed = nodes[node]
        let first = packed.childIndex
        if first == node {
            if depth < Self.lanes {
                leafInLanes(path, depth, values[node])
            } else {
                leaf(path, depth, values[node])
            }
            return
        }
        let split = features[node]
        let value = row.load(fromByteOffset: Int(packed.bits & PackedNode.featureMask), as: Double.self)
        let second =
            zeroRule
            ? NaNOrZeroMissing.secondOffset(value, packed.threshold, packed.bits) != 0
            : NaNMissing.secondOffset(value, packed.threshold, packed.bits) != 0
        let hot = second ? first + 1 : first
        let cold = second ? first : first + 1

        var incomingZero = 1.0
        var incomingOne = 1.0
        var index = 1
        while index <= depth {
            if pathFeatures[path + index] == split { break }
            index += 1
        }
        if index <= depth {
            incomingZero = zeros[path + index]
            incomingOne = ones[path + index]
            unwind(path, depth, index)
            depth -= 1
        }
        let hotZero = fractions[hot] * incomingZero
        if hotZero != 0 || incomingOne != 0 {
            recurse(
                node: hot, parent: path, depth: depth + 1, zeroFraction: hotZero, oneFraction: incomingOne,
                feature: split)
        }
        // A branch that neither the row nor the background reaches contributes nothing (and would divide by zero).
        let coldZero = fractions[cold] * incomingZero
        if coldZero != 0 {
            recurse(node: cold, parent: path, depth: depth + 1, zeroFraction: coldZero, oneFraction: 0, feature: split)
        }
    }

    /// EXTEND: the parent's path plus one element, written into the child's segment; weights of subsets without
    /// it scale by `zero`, with it by `one`. Reads the parent's weights and writes the child's in one pass, the
    /// previous weight carried in a register: new wₖ = zero·wₖ·(d−k)/(d+1) + one·wₖ₋₁·k/(d+1).
    @inline(__always)
    func extend(from parent: Int, to path: Int, _ depth: Int, _ zero: Double, _ one: Double, _ feature: Int32) {
        pathFeatures[path + depth] = feature
        zeros[path + depth] = zero
        ones[path + depth] = one
        let source = weights + parent
        let w = weights + path
        guard depth > 0 else {
            w[0] = 1
            return
        }
        let keep = share(depth)
        let add = grow(depth)
        var previous = source[0]
        w[0] = zero * previous * keep[0]
        var k = 1
        while k < depth {
            let old = source[k]
            w[k] = zero * old * keep[k] + one * previous * add[k - 1]
            previous = old
            k += 1
        }
        w[depth] = one * previous * add[depth - 1]
    }

    /// UNWIND: removes element `index`, undoing its EXTEND.
    @inline(__always)
    func unwind(_ path: Int, _ depth: Int, _ index: Int) {
        let w = weights + path
        let one = ones[path + index]
        let zero = zeros[path + index]
        var next = w[depth]
        var i = depth - 1
        if one != 0 {
            let up = unwindUp(depth)
            let keep = share(depth)
            while i >= 0 {
                let weight = w[i]
                let unwound = next * up[i]
                w[i] = unwound
                next = weight - unwound * zero * keep[i]
                i -= 1
            }
        } else {
            let inverseZero = 1 / zero
            let down = unwindDown(depth)
            while i >= 0 {
                w[i] = w[i] * down[i] * inverseZero
                i -= 1
            }
        }
        var k = path + index
        while k < path + depth {
            pathFeatures[k] = pathFeatures[k + 1]
            zeros[k] = zeros[k + 1]
            ones[k] = ones[k + 1]
            k += 1
        }
    }

    @inline(__always)
    func copyLanes(_ array: UnsafeMutablePointer<Double>, from source: Int, to destination: Int) {
        UnsafeMutableRawPointer(array + destination).storeBytes(
            of: UnsafeRawPointer(array + source).loadUnaligned(as: SIMD8<Double>.self), as: SIMD8<Double>.self)
    }

    /// Copies the elements (not the weights, which `extend` writes) of a parent's path segment into a child's. Short
    /// paths (the usual case) move as whole 8-lane vectors: the lanes past `count` land in space no live segment uses
    /// yet, which the buffer's padding keeps in bounds.
    @inline(__always)
    func copySegment(from source: Int, to destination: Int, count: Int) {
        if count <= Self.lanes {
            let from = UnsafeRawPointer(pathFeatures + source)
            let to = UnsafeMutableRawPointer(pathFeatures + destination)
            to.storeBytes(of: from.loadUnaligned(as: SIMD8<Int32>.self), as: SIMD8<Int32>.self)
            copyLanes(zeros, from: source, to: destination)
            copyLanes(ones, from: source, to: destination)
        } else {
            for k in 0..<count {
                pathFeatures[destination + k] = pathFeatures[source + k]
                zeros[destination + k] = zeros[source + k]
                ones[destination + k] = ones[source + k]
            }
        }
    }

    /// At a leaf, credits every path feature with its share of the leaf value: the sum of the weights with that
    /// element unwound, times (one − zero). For an element the row does not follow (one == 0) that sum is
    /// Σ wᵢ·(d+1)/(d−i) over its zero fraction, the same numerator for all of them.
    @inline(__always)
    func leaf(_ path: Int, _ depth: Int, _ value: Double) {
        let w = weights + path
        let up = unwindUp(depth)
        let keep = share(depth)
        let down = unwindDown(depth)
        var coldSum = 0.0
        for i in 0..<depth { coldSum += w[i] * down[i] }
        var index = 1
        while index <= depth {
            let zero = zeros[path + index]
            let one = ones[path + index]
            let total: Double
            if one != 0 {
                var next = w[depth]
                var sum = 0.0
                var i = depth - 1
                while i >= 0 {
                    let unwound = next * up[i]
                    sum += unwound
                    next = w[i] - unwound * zero * keep[i]
                    i -= 1
                }
                total = sum
            } else {
                total = coldSum / zero
            }
            phi[Int(pathFeatures[path + index])] += total * (one - zero) * value
            index += 1
        }
    }

    /// `leaf` for paths of fewer than `lanes` elements: every element's unwound sum runs in its own SIMD lane, so the
    /// serial recurrence is paid once per leaf rather than once per element.
    @inline(__always)
    func leafInLanes(_ path: Int, _ depth: Int, _ value: Double) {
        let w = weights + path
        let up = unwindUp(depth)
        let keep = share(depth)
        let down = unwindDown(depth)
        // Gathered lane by lane: a vector load here would straddle the stores that just wrote these elements and stall
        // on store forwarding. Lanes past `depth` hold whatever follows the path; their results are never read.
        let z = zeros + path + 1
        let o = ones + path + 1
        let zero = SIMD8<Double>(z[0], z[1], z[2], z[3], z[4], z[5], z[6], z[7])
        let one = SIMD8<Double>(o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7])
        var next = SIMD8<Double>(repeating: w[depth])
        var followed = SIMD8<Double>(repeating: 0)
        var coldSum = 0.0
        var i = depth - 1
        while i >= 0 {
            let unwound = next * up[i]
            followed += unwound
            next = SIMD8<Double>(repeating: w[i]) - unwound * zero * keep[i]
            coldSum += w[i] * down[i]
            i -= 1
        }
        // Elements the row does not follow take coldSum / zero; their factor (one − zero) is −zero, so −coldSum.
        let shares = one .!= 0
        let credit = followed.replacing(with: 0, where: .!shares) * (one - zero) * value
        let notFollowed = -coldSum * value
        for lane in 0..<depth {
            phi[Int(pathFeatures[path + 1 + lane])] += shares[lane] ? credit[lane] : notFollowed
        }
    }
}
