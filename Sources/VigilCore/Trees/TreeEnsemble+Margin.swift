extension TreeEnsemble {
    /// The margin (log-odds) for one row of inputs ordered as the model's features; NaN is a missing input.
    ///
    /// Walks every tree without allocating or branching on the data: balanced forests eight trees at a time in
    /// lockstep (a leaf steps onto itself), uneven ones each tree to its leaf. Leaf values are added in tree order,
    /// in `leafSum` precision, so the result is the library's own to the last bit.
    public func margin(_ inputs: UnsafeBufferPointer<Double>) -> Double {
        precondition(inputs.count == featureCount, "inputs must match the model's features")
        return withDoubledRow(inputs) { row in
            packed.withUnsafeBytes { nodes in
                values.withUnsafeBufferPointer { leafValues in
                    let nodes = nodes.baseAddress!
                    let leafValues = leafValues.baseAddress!
                    switch (leafSum, hasZeroMissing) {
                    case (.float32, false):
                        return walk(nodes, leafValues, row, Float32Sum(baseMargin), NaNMissing.self)
                    case (.float32, true):
                        return walk(nodes, leafValues, row, Float32Sum(baseMargin), NaNOrZeroMissing.self)
                    case (.double, false):
                        return walk(nodes, leafValues, row, DoubleSum(baseMargin), NaNMissing.self)
                    case (.double, true):
                        return walk(nodes, leafValues, row, DoubleSum(baseMargin), NaNOrZeroMissing.self)
                    }
                }
            }
        }
    }

    /// The margin for an array of inputs ordered as the model's features.
    public func margin(_ inputs: [Double]) -> Double {
        inputs.withUnsafeBufferPointer { margin($0) }
    }

    /// The leaf each tree sends a row to (node indices into the flat arrays), for tests and tools.
    public func leaves(_ inputs: [Double]) -> [Int] {
        precondition(inputs.count == featureCount, "inputs must match the model's features")
        return inputs.withUnsafeBufferPointer { inputs in
            withDoubledRow(inputs) { row in
                packed.withUnsafeBytes { nodes in
                    treeRoots.map { root in
                        let offset =
                            hasZeroMissing
                            ? Self.leaf(nodes.baseAddress!, row, root * PackedNode.stride, NaNOrZeroMissing.self)
                            : Self.leaf(nodes.baseAddress!, row, root * PackedNode.stride, NaNMissing.self)
                        return offset / PackedNode.stride
                    }
                }
            }
        }
    }

    /// Runs `body` on `[x₀ … xₙ₋₁, −x₀ … −xₙ₋₁]` in temporary (stack) memory: the row the packed nodes read.
    @inline(__always)
    func withDoubledRow<Result>(
        _ inputs: UnsafeBufferPointer<Double>, _ body: (UnsafeRawPointer) -> Result
    ) -> Result {
        let count = featureCount
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * count) { row in
            let row = row.baseAddress!
            let x = inputs.baseAddress!
            for index in 0..<count {
                let value = x[index]
                row[index] = value
                row[count + index] = -value
            }
            return body(UnsafeRawPointer(row))
        }
    }

    @inline(__always)
    private func walk<Sum: LeafAccumulator, Rule: MissingRule>(
        _ nodes: UnsafeRawPointer, _ leafValues: UnsafePointer<Double>, _ row: UnsafeRawPointer, _ start: Sum,
        _ rule: Rule.Type
    ) -> Double {
        var sum = start
        let stride = PackedNode.stride
        treeRoots.withUnsafeBufferPointer { roots in
            let trees = roots.count
            var first = 0
            if usesLockstep {
                lockstepSteps.withUnsafeBufferPointer { steps in
                    var group = 0
                    while first + 8 <= trees {
                        var n0 = roots[first] &* stride
                        var n1 = roots[first + 1] &* stride
                        var n2 = roots[first + 2] &* stride
                        var n3 = roots[first + 3] &* stride
                        var n4 = roots[first + 4] &* stride
                        var n5 = roots[first + 5] &* stride
                        var n6 = roots[first + 6] &* stride
                        var n7 = roots[first + 7] &* stride
                        var remaining = steps[group]
                        while remaining > 0 {
                            n0 = Self.step(nodes, row, n0, rule)
                            n1 = Self.step(nodes, row, n1, rule)
                            n2 = Self.step(nodes, row, n2, rule)
                            n3 = Self.step(nodes, row, n3, rule)
                            n4 = Self.step(nodes, row, n4, rule)
                            n5 = Self.step(nodes, row, n5, rule)
                            n6 = Self.step(nodes, row, n6, rule)
                            n7 = Self.step(nodes, row, n7, rule)
                            remaining &-= 1
                        }
                        sum.add(leafValues[n0 &>> 4])
                        sum.add(leafValues[n1 &>> 4])
                        sum.add(leafValues[n2 &>> 4])
                        sum.add(leafValues[n3 &>> 4])
                        sum.add(leafValues[n4 &>> 4])
                        sum.add(leafValues[n5 &>> 4])
                        sum.add(leafValues[n6 &>> 4])
                        sum.add(leafValues[n7 &>> 4])
                        first += 8
                        group += 1
                    }
                }
            }
            while first < trees {
                sum.add(leafValues[Self.leaf(nodes, row, roots[first] &* stride, rule) &>> 4])
                first += 1
            }
        }
        return sum.value
    }

    /// Walks one tree from the node at byte offset `offset` to its leaf, returning the leaf's byte offset.
    @inline(__always)
    static func leaf<Rule: MissingRule>(
        _ nodes: UnsafeRawPointer, _ row: UnsafeRawPointer, _ offset: Int, _ rule: Rule.Type
    ) -> Int {
        var node = offset
        while true {
            let next = step(nodes, row, node, rule)
            if next == node { return node }
            node = next
        }
    }

    /// One step down from the node at byte offset `node`: its first or second child, or itself at a leaf.
    @inline(__always)
    static func step<Rule: MissingRule>(
        _ nodes: UnsafeRawPointer, _ row: UnsafeRawPointer, _ node: Int, _ rule: Rule.Type
    ) -> Int {
        let threshold = nodes.load(fromByteOffset: node, as: Double.self)
        let child = nodes.load(fromByteOffset: node &+ 8, as: Int32.self)
        let bits = nodes.load(fromByteOffset: node &+ 12, as: UInt32.self)
        let value = row.load(fromByteOffset: Int(bits & PackedNode.featureMask), as: Double.self)
        return Int(child) &+ Rule.secondOffset(value, threshold, bits)
    }
}

/// How a split treats missing inputs; specialised so the common case pays for no zero test.
protocol MissingRule {
    /// `PackedNode.stride` when the input takes the second child, 0 for the first (default) one; branch-free.
    static func secondOffset(_ value: Double, _ threshold: Double, _ bits: UInt32) -> Int
}

/// Only NaN is missing (XGBoost; LightGBM's NaN and None missing types once normalised): a NaN compares false.
enum NaNMissing: MissingRule {
    @inline(__always)
    static func secondOffset(_ value: Double, _ threshold: Double, _ bits: UInt32) -> Int {
        value >= threshold ? PackedNode.stride : 0
    }
}

/// NaN, and on flagged nodes also |x| ≤ `TreeEnsemble.zeroThreshold`, is missing (LightGBM's Zero missing type).
enum NaNOrZeroMissing: MissingRule {
    @inline(__always)
    static func secondOffset(_ value: Double, _ threshold: Double, _ bits: UInt32) -> Int {
        let second = value >= threshold ? PackedNode.stride : 0
        let nearZero = value.magnitude <= 1.0000000180025095e-35 ? PackedNode.stride : 0  // TreeEnsemble.zeroThreshold
        let zeroMissing = Int(truncatingIfNeeded: Int32(bitPattern: bits << 1) >> 31)  // all ones when flagged
        return second & ~(nearZero & zeroMissing)
    }
}

/// Adds leaf values into a margin in a library's precision.
protocol LeafAccumulator {
    mutating func add(_ leaf: Double)
    var value: Double { get }
}

/// XGBoost: Float, starting from the Float base margin.
struct Float32Sum: LeafAccumulator {
    var sum: Float
    init(_ base: Double) { sum = Float(base) }
    @inline(__always) mutating func add(_ leaf: Double) { sum += Float(leaf) }
    var value: Double { Double(sum) }
}

/// LightGBM: Double.
struct DoubleSum: LeafAccumulator {
    var sum: Double
    init(_ base: Double) { sum = base }
    @inline(__always) mutating func add(_ leaf: Double) { sum += leaf }
    var value: Double { sum }
}
