/// Beam-search subgroup discovery: conjunctions of up to `maxConditions` conditions over labelled payments that
/// are over-represented in fraud, ranked by the Wilson lower bound of their precision.
///
/// Items are equality on a categorical column (values with at least `minFraud` fraud rows) and thresholds on a
/// numeric column (`≥` and `<` at its quantile cut points). Each item's cover is a bitset over the rows; a
/// conjunction's cover is the AND of its items', counted with popcount, so a level costs
/// beam width × items × rows / 64 word operations. A pattern is kept only when every condition pulls its
/// weight: adding a condition must raise the lower bound by `minImprovement` over the pattern without it (a
/// pattern dominated by a simpler one is pruned). Missing values (NaN, nil) never satisfy a condition.
public struct PatternMiner: Sendable {
    public struct Settings: Sendable, Equatable {
        public var maxConditions = 3
        public var beamWidth = 40
        /// Fraud rows a pattern must cover.
        public var minFraud = 5
        /// Cut points per numeric column (quantiles).
        public var bins = 8
        /// Values per categorical column considered (most fraud first).
        public var maxValuesPerColumn = 200
        /// Patterns returned.
        public var top = 10
        /// Confidence of the Wilson bound (z).
        public var z = 1.96
        /// How much a condition must raise the lower bound over the pattern without it to be kept.
        public var minImprovement = 0.02

        public init() {}
    }

    /// A column of the mining table: numbers (NaN missing) or category codes (`nil` missing).
    public enum Column: Sendable {
        case numeric(name: String, values: [Double])
        case categorical(name: String, values: [String?])

        public var name: String {
            switch self {
            case .numeric(let name, _), .categorical(let name, _): name
            }
        }
    }

    /// One condition of a pattern.
    public enum Condition: Sendable, Hashable, CustomStringConvertible {
        case equals(column: String, value: String)
        case atLeast(column: String, threshold: Double)
        case below(column: String, threshold: Double)

        public var column: String {
            switch self {
            case .equals(let column, _), .atLeast(let column, _), .below(let column, _): column
            }
        }

        /// The condition in Vigil's rule language.
        public var description: String {
            switch self {
            case .equals(let column, let value):
                var escaped = ""
                for character in value {
                    if character == "\\" || character == "'" { escaped.append("\\") }
                    escaped.append(character)
                }
                return "\(column) = '\(escaped)'"
            case .atLeast(let column, let threshold): return "\(column) >= \(threshold)"
            case .below(let column, let threshold): return "\(column) < \(threshold)"
            }
        }
    }

    /// A conjunction and its evidence on the mined rows.
    public struct Pattern: Sendable, Equatable {
        public var conditions: [Condition]
        /// Rows covered.
        public var support: Int
        /// Fraud rows covered.
        public var fraud: Int
        public var precision: Double
        /// Covered fraud over all fraud.
        public var recall: Double
        /// Precision over the base fraud rate.
        public var lift: Double
        /// Wilson lower bound of the precision.
        public var precisionLowerBound: Double

        public init(
            conditions: [Condition], support: Int, fraud: Int, precision: Double, recall: Double, lift: Double,
            precisionLowerBound: Double
        ) {
            self.conditions = conditions
            self.support = support
            self.fraud = fraud
            self.precision = precision
            self.recall = recall
            self.lift = lift
            self.precisionLowerBound = precisionLowerBound
        }

        /// The pattern as a rule expression (`merchant_id = 'm_7' and amount >= 500.0`).
        public var expression: String { conditions.map(\.description).joined(separator: " and ") }
    }

    public let settings: Settings

    public init(settings: Settings = .init()) { self.settings = settings }

    /// Mines `columns` (all of `labels.count` rows) for the best patterns, best first. `pace` is called between
    /// units of work (a caller may sleep there to limit the CPU mining takes).
    public func mine(columns: [Column], labels: [Bool], pace: () -> Void = {}) -> [Pattern] {
        let rows = labels.count
        let words = (rows + 63) / 64
        var fraudBits = [UInt64](repeating: 0, count: words)
        var totalFraud = 0
        for (row, isFraud) in labels.enumerated() where isFraud {
            fraudBits[row >> 6] |= 1 << UInt64(row & 63)
            totalFraud += 1
        }
        guard totalFraud > 0, rows > 0 else { return [] }
        let baseRate = Double(totalFraud) / Double(rows)
        let items = self.items(columns: columns, labels: labels, words: words)

        struct Candidate {
            var items: [Int]
            var cover: [UInt64]
            var support: Int
            var fraud: Int
            var bound: Double
        }
        func evaluate(_ cover: [UInt64]) -> (support: Int, fraud: Int) {
            var support = 0
            var fraud = 0
            for index in 0..<words {
                let word = cover[index]
                support += word.nonzeroBitCount
                fraud += (word & fraudBits[index]).nonzeroBitCount
            }
            return (support, fraud)
        }

        var results: [Candidate] = []
        var beam: [Candidate] = []
        for (index, item) in items.enumerated() {
            let (support, fraud) = evaluate(item.cover)
            guard fraud >= settings.minFraud else { continue }
            beam.append(
                Candidate(
                    items: [index], cover: item.cover, support: support, fraud: fraud,
                    bound: Self.wilsonLowerBound(successes: fraud, trials: support, z: settings.z)))
        }
        beam = Array(beam.sorted { $0.bound > $1.bound }.prefix(settings.beamWidth))
        results += beam
        var level = 1
        while level < settings.maxConditions, !beam.isEmpty {
            level += 1
            var next: [Candidate] = []
            var seen: Set<[Int]> = []
            for candidate in beam {
                let usedColumns = Set(candidate.items.map { items[$0].columnIndex })
                for (index, item) in items.enumerated() where !usedColumns.contains(item.columnIndex) {
                    let key = (candidate.items + [index]).sorted()
                    guard seen.insert(key).inserted else { continue }
                    pace()
                    var cover = candidate.cover
                    for word in 0..<words { cover[word] &= item.cover[word] }
                    let (support, fraud) = evaluate(cover)
                    guard fraud >= settings.minFraud else { continue }
                    let bound = Self.wilsonLowerBound(successes: fraud, trials: support, z: settings.z)
                    // Dominated: the simpler pattern is at least as good.
                    guard bound >= candidate.bound + settings.minImprovement, support < candidate.support else {
                        continue
                    }
                    next.append(Candidate(items: key, cover: cover, support: support, fraud: fraud, bound: bound))
                }
            }
            beam = Array(next.sorted { $0.bound > $1.bound }.prefix(settings.beamWidth))
            results += beam
        }
        // Best first; among patterns with the same cover, the simplest.
        var patterns: [Pattern] = []
        var covers: Set<[UInt64]> = []
        for candidate in results.sorted(by: {
            $0.bound != $1.bound ? $0.bound > $1.bound : $0.items.count < $1.items.count
        }) {
            guard covers.insert(candidate.cover).inserted else { continue }
            let precision = Double(candidate.fraud) / Double(candidate.support)
            patterns.append(
                Pattern(
                    conditions: candidate.items.map { items[$0].condition }.sorted { $0.column < $1.column },
                    support: candidate.support, fraud: candidate.fraud, precision: precision,
                    recall: Double(candidate.fraud) / Double(totalFraud), lift: precision / baseRate,
                    precisionLowerBound: candidate.bound))
            if patterns.count == settings.top { break }
        }
        return patterns
    }

    struct Item {
        var condition: Condition
        var columnIndex: Int
        var cover: [UInt64]
    }

    func items(columns: [Column], labels: [Bool], words: Int) -> [Item] {
        var items: [Item] = []
        for (columnIndex, column) in columns.enumerated() {
            switch column {
            case .categorical(let name, let values):
                var fraudCounts: [String: Int] = [:]
                for (row, value) in values.enumerated() where labels[row] {
                    if let value { fraudCounts[value, default: 0] += 1 }
                }
                let kept = fraudCounts.filter { $0.value >= settings.minFraud }
                    .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                    .prefix(settings.maxValuesPerColumn)
                var slot: [String: Int] = [:]
                for (offset, entry) in kept.enumerated() { slot[entry.key] = offset }
                var covers = [[UInt64]](
                    repeating: [UInt64](repeating: 0, count: words), count: kept.count)
                for (row, value) in values.enumerated() {
                    guard let value, let index = slot[value] else { continue }
                    covers[index][row >> 6] |= 1 << UInt64(row & 63)
                }
                for (offset, entry) in kept.enumerated() {
                    items.append(
                        Item(
                            condition: .equals(column: name, value: entry.key), columnIndex: columnIndex,
                            cover: covers[offset]))
                }
            case .numeric(let name, let values):
                let present = values.filter { !$0.isNaN }.sorted()
                guard present.count > 1 else { continue }
                var cuts: [Double] = []
                for bin in 1..<settings.bins {
                    let cut = present[present.count * bin / settings.bins]
                    if cut > present[0], cuts.last != cut { cuts.append(cut) }
                }
                for cut in cuts {
                    var atLeast = [UInt64](repeating: 0, count: words)
                    var below = [UInt64](repeating: 0, count: words)
                    for (row, value) in values.enumerated() where !value.isNaN {
                        if value >= cut {
                            atLeast[row >> 6] |= 1 << UInt64(row & 63)
                        } else {
                            below[row >> 6] |= 1 << UInt64(row & 63)
                        }
                    }
                    items.append(
                        Item(
                            condition: .atLeast(column: name, threshold: cut), columnIndex: columnIndex, cover: atLeast)
                    )
                    items.append(
                        Item(condition: .below(column: name, threshold: cut), columnIndex: columnIndex, cover: below))
                }
            }
        }
        return items
    }

    /// The Wilson score interval's lower bound for `successes` of `trials`.
    public static func wilsonLowerBound(successes: Int, trials: Int, z: Double = 1.96) -> Double {
        guard trials > 0 else { return 0 }
        let n = Double(trials)
        let p = Double(successes) / n
        let z2 = z * z
        let centre = p + z2 / (2 * n)
        let margin = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        return max(0, (centre - margin) / (1 + z2 / n))
    }
}
