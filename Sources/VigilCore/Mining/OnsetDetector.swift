/// Notices when a segment (a merchant country, a channel, a merchant category, a busy merchant) departs from its
/// own baseline: a robust z-score of the newest hourly bucket against the segment's earlier buckets.
///
/// z = (x − median) / (1.4826 × MAD), with the MAD floored so that a perfectly flat baseline does not make every
/// blip infinite. Metrics are the decline rate, the review rate, the mean score and the confirmed-fraud rate of
/// the bucket; a bucket with fewer than `minVolume` payments is not judged, and neither is a baseline with
/// fewer than `minBaselineBuckets` judged buckets. Buckets are in event time (`occurred_at`), so a replayed
/// history raises the same alerts as live traffic did.
public struct OnsetDetector: Sendable {
    public struct Settings: Sendable, Equatable {
        /// |z| at or above this raises an alert (only rises are alerts: a drop in fraud is not an attack).
        public var threshold = 4.0
        public var minVolume = 30
        public var minBaselineBuckets = 6
        /// The smallest MAD used, per metric, in the metric's own units.
        public var madFloor = 0.01

        public init() {}
    }

    /// One hour of one segment.
    public struct Bucket: Sendable, Equatable {
        public var payments: Int
        public var declines: Int
        public var reviews: Int
        public var scoreSum: Double
        /// Payments of this bucket labelled fraud so far.
        public var fraud: Int

        public init(payments: Int, declines: Int = 0, reviews: Int = 0, scoreSum: Double = 0, fraud: Int = 0) {
            self.payments = payments
            self.declines = declines
            self.reviews = reviews
            self.scoreSum = scoreSum
            self.fraud = fraud
        }

        func value(_ metric: Metric) -> Double {
            guard payments > 0 else { return .nan }
            let n = Double(payments)
            return switch metric {
            case .declineRate: Double(declines) / n
            case .reviewRate: Double(reviews) / n
            case .meanScore: scoreSum / n
            case .fraudRate: Double(fraud) / n
            }
        }
    }

    public enum Metric: String, Sendable, CaseIterable {
        case declineRate = "decline_rate", reviewRate = "review_rate", meanScore = "mean_score"
        case fraudRate = "fraud_rate"
    }

    /// A departure from the baseline.
    public struct Onset: Sendable, Equatable {
        public var metric: Metric
        public var value: Double
        public var baselineMedian: Double
        public var z: Double
        public var payments: Int
    }

    public let settings: Settings

    public init(settings: Settings = .init()) { self.settings = settings }

    /// The metrics of `current` that rose at least `threshold` robust standard deviations above `baseline`.
    public func onsets(current: Bucket, baseline: [Bucket]) -> [Onset] {
        guard current.payments >= settings.minVolume else { return [] }
        let judged = baseline.filter { $0.payments >= settings.minVolume }
        guard judged.count >= settings.minBaselineBuckets else { return [] }
        var onsets: [Onset] = []
        for metric in Metric.allCases {
            let values = judged.map { $0.value(metric) }
            let median = Self.median(values)
            let mad = max(Self.median(values.map { abs($0 - median) }), settings.madFloor)
            let value = current.value(metric)
            let z = (value - median) / (1.4826 * mad)
            if z >= settings.threshold {
                onsets.append(
                    Onset(metric: metric, value: value, baselineMedian: median, z: z, payments: current.payments))
            }
        }
        return onsets
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
