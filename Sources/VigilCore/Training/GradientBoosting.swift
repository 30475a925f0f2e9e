import RealModule

/// Histogram-based gradient-boosted trees for the logistic loss, in pure Swift (issue 7's retraining).
///
/// Features are bucketed once into at most 255 bins per feature (quantile cut points; missing values get a bin of
/// their own and a learned default direction at every split, as in LightGBM and XGBoost). Trees grow depth-wise
/// to `maxDepth`; a node's histogram of gradient and hessian sums is built for the smaller child only, the other
/// is the parent's minus it. Splits maximise the usual second-order gain with L2 regularisation `l2` and need
/// `minChildWeight` of hessian on each side. Leaves are `−G / (H + l2) × learningRate`. With a validation set
/// (later in time than the training rows), training stops when the validation log loss has not improved for
/// `earlyStoppingRounds` trees, and the trees up to the best iteration are kept.
public struct GradientBoostingTrainer: Sendable {
    public struct Parameters: Sendable, Equatable {
        public var trees = 200
        public var maxDepth = 6
        public var learningRate = 0.1
        public var l2 = 1.0
        public var minChildWeight = 1.0
        public var maxBins = 255
        public var earlyStoppingRounds = 20

        public init() {}
    }

    /// Rows by columns: `columns[feature][row]`, NaN missing.
    public struct Data: Sendable {
        public var columns: [[Double]]
        public var labels: [Bool]

        public init(columns: [[Double]], labels: [Bool]) {
            self.columns = columns
            self.labels = labels
        }

        public var rowCount: Int { labels.count }
    }

    public struct Result: Sendable {
        public var ensemble: TreeEnsemble
        /// Validation log loss after each tree (empty without validation data).
        public var validationLoss: [Double]
        /// Trees kept.
        public var bestIteration: Int
    }

    public let parameters: Parameters

    public init(parameters: Parameters = .init()) { self.parameters = parameters }

    static let missingBin = 255

    /// Trains on `data`, stopping early on `validation`. `pace` is called between units of work (each node grown),
    /// where a caller may sleep to limit the CPU training takes.
    public func train(_ data: Data, validation: Data? = nil, pace: () -> Void = {}) throws(ModelError) -> Result {
        let rows = data.rowCount
        let featureCount = data.columns.count
        guard rows > 0, featureCount > 0, data.columns.allSatisfy({ $0.count == rows }) else {
            throw .invalid("training needs at least one row and one feature, every column as long as the labels")
        }
        let maxBins = min(max(parameters.maxBins, 2), 255)
        // Bin every feature once.
        var bounds: [[Double]] = []
        var binned: [[UInt8]] = []
        for column in data.columns {
            let cuts = Self.cuts(column, maxBins: maxBins)
            bounds.append(cuts)
            binned.append(
                column.map { value in
                    value.isNaN ? UInt8(Self.missingBin) : UInt8(Self.upperBound(cuts, value))
                })
        }
        let positives = data.labels.filter { $0 }.count
        let prior = min(max(Double(positives) / Double(rows), 1e-6), 1 - 1e-6)
        let base = Double.log(prior / (1 - prior))
        var margins = [Double](repeating: base, count: rows)
        var validationMargins = [Double](repeating: base, count: validation?.rowCount ?? 0)
        var gradients = [Double](repeating: 0, count: rows)
        var hessians = [Double](repeating: 0, count: rows)
        var trees: [TreeEnsemble.Tree] = []
        var losses: [Double] = []
        var best = (loss: Double.infinity, iteration: 0)

        for _ in 0..<parameters.trees {
            for row in 0..<rows {
                let p = 1 / (1 + Double.exp(-margins[row]))
                gradients[row] = p - (data.labels[row] ? 1 : 0)
                hessians[row] = max(p * (1 - p), 1e-16)
            }
            let tree = grow(
                binned: binned, bounds: bounds, gradients: gradients, hessians: hessians, margins: &margins, pace: pace)
            trees.append(tree)
            if let validation {
                var loss = 0.0
                for row in 0..<validation.rowCount {
                    validationMargins[row] += Self.predict(tree, validation.columns, row: row)
                    let p = 1 / (1 + Double.exp(-validationMargins[row]))
                    let clamped = min(max(p, 1e-15), 1 - 1e-15)
                    loss -= validation.labels[row] ? Double.log(clamped) : Double.log(1 - clamped)
                }
                loss /= Double(max(1, validation.rowCount))
                losses.append(loss)
                if loss < best.loss - 1e-12 {
                    best = (loss, trees.count)
                } else if trees.count - best.iteration >= parameters.earlyStoppingRounds {
                    break
                }
            }
        }
        let kept = validation == nil ? trees.count : max(1, best.iteration)
        let ensemble = try TreeEnsemble(
            featureCount: featureCount, baseMargin: base, leafSum: .double, trees: Array(trees.prefix(kept)))
        return Result(ensemble: ensemble, validationLoss: losses, bestIteration: kept)
    }

    /// Grows one tree depth-wise, adds its leaves to `margins`, and returns it in `TreeEnsemble.Tree` form.
    private func grow(
        binned: [[UInt8]], bounds: [[Double]], gradients: [Double], hessians: [Double], margins: inout [Double],
        pace: () -> Void
    ) -> TreeEnsemble.Tree {
        let featureCount = binned.count
        let width = 256
        var left: [Int] = []
        var right: [Int] = []
        var features: [Int] = []
        var thresholds: [Double] = []
        var defaultLeft: [Bool] = []
        var values: [Double] = []
        var covers: [Double] = []
        func addNode() -> Int {
            left.append(-1)
            right.append(-1)
            features.append(0)
            thresholds.append(0)
            defaultLeft.append(false)
            values.append(0)
            covers.append(0)
            return left.count - 1
        }
        struct Pending {
            var node: Int
            var rows: [Int32]
            var histogram: [Double]  // featureCount × width × (g, h)
            var depth: Int
        }
        func histogram(_ rows: [Int32]) -> [Double] {
            var result = [Double](repeating: 0, count: featureCount * width * 2)
            result.withUnsafeMutableBufferPointer { out in
                for feature in 0..<featureCount {
                    binned[feature].withUnsafeBufferPointer { bins in
                        let offset = feature * width * 2
                        for row in rows {
                            let index = offset + Int(bins[Int(row)]) * 2
                            out[index] += gradients[Int(row)]
                            out[index + 1] += hessians[Int(row)]
                        }
                    }
                }
            }
            return result
        }
        let root = addNode()
        var queue = [Pending(node: root, rows: (0..<Int32(gradients.count)).map { $0 }, histogram: [], depth: 0)]
        queue[0].histogram = histogram(queue[0].rows)
        let λ = parameters.l2
        while !queue.isEmpty {
            pace()
            var pending = queue.removeFirst()
            var totalG = 0.0
            var totalH = 0.0
            for row in pending.rows {
                totalG += gradients[Int(row)]
                totalH += hessians[Int(row)]
            }
            covers[pending.node] = totalH
            var bestGain = 0.0
            var bestSplit: (feature: Int, bin: Int, missingLeft: Bool)?
            if pending.depth < parameters.maxDepth, pending.rows.count > 1 {
                let parentScore = totalG * totalG / (totalH + λ)
                for feature in 0..<featureCount {
                    let offset = feature * width * 2
                    let missingG = pending.histogram[offset + Self.missingBin * 2]
                    let missingH = pending.histogram[offset + Self.missingBin * 2 + 1]
                    var gl = 0.0
                    var hl = 0.0
                    for bin in 0..<max(0, bounds[feature].count) {
                        gl += pending.histogram[offset + bin * 2]
                        hl += pending.histogram[offset + bin * 2 + 1]
                        for missingLeft in [false, true] {
                            let lg = missingLeft ? gl + missingG : gl
                            let lh = missingLeft ? hl + missingH : hl
                            let rg = totalG - lg
                            let rh = totalH - lh
                            guard lh >= parameters.minChildWeight, rh >= parameters.minChildWeight else { continue }
                            let gain = lg * lg / (lh + λ) + rg * rg / (rh + λ) - parentScore
                            if gain > bestGain + 1e-12 {
                                bestGain = gain
                                bestSplit = (feature, bin, missingLeft)
                            }
                        }
                    }
                }
            }
            guard let split = bestSplit else {
                let value = -totalG / (totalH + λ) * parameters.learningRate
                values[pending.node] = value
                for row in pending.rows { margins[Int(row)] += value }
                continue
            }
            features[pending.node] = split.feature
            thresholds[pending.node] = bounds[split.feature][split.bin]
            defaultLeft[pending.node] = split.missingLeft
            var leftRows: [Int32] = []
            var rightRows: [Int32] = []
            let bins = binned[split.feature]
            for row in pending.rows {
                let bin = Int(bins[Int(row)])
                let goesLeft = bin == Self.missingBin ? split.missingLeft : bin <= split.bin
                if goesLeft { leftRows.append(row) } else { rightRows.append(row) }
            }
            let leftNode = addNode()
            let rightNode = addNode()
            left[pending.node] = leftNode
            right[pending.node] = rightNode
            // The smaller child's histogram is built; the larger one's is the parent's minus it.
            let smallIsLeft = leftRows.count <= rightRows.count
            let small = histogram(smallIsLeft ? leftRows : rightRows)
            for index in pending.histogram.indices { pending.histogram[index] -= small[index] }
            queue.append(
                Pending(
                    node: leftNode, rows: leftRows, histogram: smallIsLeft ? small : pending.histogram,
                    depth: pending.depth + 1))
            queue.append(
                Pending(
                    node: rightNode, rows: rightRows, histogram: smallIsLeft ? pending.histogram : small,
                    depth: pending.depth + 1))
        }
        return TreeEnsemble.Tree(
            leftChildren: left, rightChildren: right, features: features, thresholds: thresholds,
            defaultLeft: defaultLeft, values: values, covers: covers)
    }

    /// A tree's leaf for one row of raw values (x < threshold goes left; missing follows the default).
    static func predict(_ tree: TreeEnsemble.Tree, _ columns: [[Double]], row: Int) -> Double {
        var node = 0
        while tree.leftChildren[node] >= 0 {
            let value = columns[tree.features[node]][row]
            let goesLeft = value.isNaN ? tree.defaultLeft[node] : value < tree.thresholds[node]
            node = goesLeft ? tree.leftChildren[node] : tree.rightChildren[node]
        }
        return tree.values[node]
    }

    /// Cut points: a value goes to the first bin whose cut is above it (`x < cut`), the last bin past every cut.
    static func cuts(_ column: [Double], maxBins: Int) -> [Double] {
        let present = column.filter { !$0.isNaN }.sorted()
        guard let first = present.first else { return [] }
        var distinct: [Double] = [first]
        for value in present.dropFirst() where value != distinct[distinct.count - 1] { distinct.append(value) }
        if distinct.count <= maxBins - 1 { return Array(distinct.dropFirst()) }
        var cuts: [Double] = []
        for bin in 1..<(maxBins - 1) {
            let cut = present[present.count * bin / (maxBins - 1)]
            if cut > first, cuts.last.map({ $0 < cut }) ?? true { cuts.append(cut) }
        }
        return cuts
    }

    static func upperBound(_ cuts: [Double], _ value: Double) -> Int {
        var low = 0
        var high = cuts.count
        while low < high {
            let middle = (low + high) / 2
            if cuts[middle] <= value { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
