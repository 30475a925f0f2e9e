import RealModule

/// Logistic regression with L2 regularisation, fitted by Newton's method (iteratively reweighted least squares),
/// producing the `vigil-logistic/1` document the registry stores.
///
/// Each feature is standardised with its training mean and standard deviation (NaN ignored; a constant feature
/// gets scale 1); a missing value is imputed with the mean, so it contributes nothing, exactly as `LogisticModel`
/// scores it. The loss is the mean log loss plus `l2 / 2 × ‖w‖²` per row (the intercept is not penalised). Each
/// Newton step solves the (d+1)×(d+1) system by Cholesky and is halved until the loss does not rise.
public struct LogisticRegressionTrainer: Sendable {
    public struct Parameters: Sendable, Equatable {
        /// L2 strength per row (on standardised weights).
        public var l2 = 1e-3
        public var maxIterations = 50
        /// Stop when no coefficient moves more than this.
        public var tolerance = 1e-8

        public init() {}
    }

    public let parameters: Parameters

    public init(parameters: Parameters = .init()) { self.parameters = parameters }

    /// Fits the model; `pace` is called between units of work (every 4,096 rows of a Newton step), where a caller
    /// may sleep to limit the CPU training takes.
    public func train(
        _ data: GradientBoostingTrainer.Data, featureNames: [String], name: String, version: String,
        pace: () -> Void = {}
    ) throws(ModelError) -> LogisticModelDocument {
        let rows = data.rowCount
        let d = data.columns.count
        guard rows > 0, d > 0, featureNames.count == d, data.columns.allSatisfy({ $0.count == rows }) else {
            throw .invalid("training needs at least one row and one named feature, every column as long as the labels")
        }
        // Standardise.
        var means = [Double](repeating: 0, count: d)
        var scales = [Double](repeating: 1, count: d)
        var z = [[Double]](repeating: [], count: d)
        for feature in 0..<d {
            let column = data.columns[feature]
            var sum = 0.0
            var count = 0
            for value in column where !value.isNaN {
                sum += value
                count += 1
            }
            let mean = count > 0 ? sum / Double(count) : 0
            var squares = 0.0
            for value in column where !value.isNaN { squares += (value - mean) * (value - mean) }
            let deviation = count > 1 ? (squares / Double(count)).squareRoot() : 0
            let scale = deviation > 1e-12 && deviation.isFinite ? deviation : 1
            means[feature] = mean
            scales[feature] = scale
            z[feature] = column.map { $0.isNaN ? 0 : ($0 - mean) / scale }
        }
        let y = data.labels.map { $0 ? 1.0 : 0.0 }
        let positives = y.reduce(0, +)
        let prior = min(max(positives / Double(rows), 1e-6), 1 - 1e-6)
        // Coefficients: index 0 the intercept, then the weights.
        var beta = [Double](repeating: 0, count: d + 1)
        beta[0] = Double.log(prior / (1 - prior))
        let n = Double(rows)
        let l2 = parameters.l2

        func margins(_ beta: [Double]) -> [Double] {
            var result = [Double](repeating: beta[0], count: rows)
            for feature in 0..<d where beta[feature + 1] != 0 {
                let weight = beta[feature + 1]
                let column = z[feature]
                for row in 0..<rows { result[row] += weight * column[row] }
            }
            return result
        }
        func loss(_ beta: [Double]) -> Double {
            var total = 0.0
            for (row, margin) in margins(beta).enumerated() {
                // log(1 + e^m) − y·m, computed without overflow.
                let softplus =
                    margin > 0
                    ? margin + Double.log(onePlus: Double.exp(-margin)) : Double.log(onePlus: Double.exp(margin))
                total += softplus - y[row] * margin
            }
            var penalty = 0.0
            for feature in 1...d { penalty += beta[feature] * beta[feature] }
            return total / n + l2 / 2 * penalty
        }

        var current = loss(beta)
        for _ in 0..<parameters.maxIterations {
            let m = margins(beta)
            var gradient = [Double](repeating: 0, count: d + 1)
            var hessian = [Double](repeating: 0, count: (d + 1) * (d + 1))
            var x = [Double](repeating: 1, count: d + 1)
            for row in 0..<rows {
                if row & 4095 == 0 { pace() }
                let p = 1 / (1 + Double.exp(-m[row]))
                let w = max(p * (1 - p), 1e-12)
                let residual = p - y[row]
                for feature in 0..<d { x[feature + 1] = z[feature][row] }
                for i in 0...d {
                    gradient[i] += residual * x[i]
                    let wx = w * x[i]
                    for j in 0...i { hessian[i * (d + 1) + j] += wx * x[j] }
                }
            }
            for i in 0...d {
                gradient[i] /= n
                for j in 0...i {
                    hessian[i * (d + 1) + j] /= n
                    hessian[j * (d + 1) + i] = hessian[i * (d + 1) + j]
                }
                if i > 0 {
                    gradient[i] += l2 * beta[i]
                    hessian[i * (d + 1) + i] += l2
                }
            }
            guard let step = Self.solve(hessian, gradient, size: d + 1) else { break }
            var scale = 1.0
            var accepted = false
            while scale > 1e-6 {
                let candidate = zip(beta, step).map { $0 - scale * $1 }
                let value = loss(candidate)
                if value <= current + 1e-15 {
                    beta = candidate
                    current = value
                    accepted = true
                    break
                }
                scale /= 2
            }
            let moved = step.map { abs($0 * scale) }.max() ?? 0
            if !accepted || moved < parameters.tolerance { break }
        }
        guard beta.allSatisfy(\.isFinite) else { throw .invalid("training diverged: a coefficient is not finite") }
        return LogisticModelDocument(
            format: LogisticModelDocument.format, name: name, version: version,
            description: "Logistic regression trained by Vigil's worker on \(rows) labelled payments",
            intercept: beta[0],
            features: (0..<d).map { feature in
                LogisticModelDocument.Feature(
                    name: featureNames[feature], weight: beta[feature + 1], mean: means[feature],
                    scale: scales[feature], note: nil)
            })
    }

    /// Solves `A x = b` for a symmetric positive definite `A` (row-major, `size`²) by Cholesky; nil if it is not.
    static func solve(_ a: [Double], _ b: [Double], size: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: size * size)
        for i in 0..<size {
            for j in 0...i {
                var sum = a[i * size + j]
                for k in 0..<j { sum -= l[i * size + k] * l[j * size + k] }
                if i == j {
                    guard sum > 0, sum.isFinite else { return nil }
                    l[i * size + i] = sum.squareRoot()
                } else {
                    l[i * size + j] = sum / l[j * size + j]
                }
            }
        }
        var y = [Double](repeating: 0, count: size)
        for i in 0..<size {
            var sum = b[i]
            for k in 0..<i { sum -= l[i * size + k] * y[k] }
            y[i] = sum / l[i * size + i]
        }
        var x = [Double](repeating: 0, count: size)
        for i in stride(from: size - 1, through: 0, by: -1) {
            var sum = y[i]
            for k in (i + 1)..<size { sum -= l[k * size + i] * x[k] }
            x[i] = sum / l[i * size + i]
        }
        return x
    }
}
