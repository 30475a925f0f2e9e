import Logging
import Synchronization
import VigilCore
import VigilStore

/// Reverts a rule change or a model promotion that pushes the decline or review rate far above its baseline.
///
/// When a change makes a rule act (or a model becomes champion), the guard records the decline and review
/// rates of the trailing `baseline` minutes and watches the `window` minutes after the change. Once at least
/// `minDecisions` decisions were made since the change, if either rate exceeds `factor ×` its baseline (a
/// baseline below `minRate` counts as `minRate`), the change is reverted: the rule goes back to the version
/// before the change (a new rule is disabled), the model alias rolls back. The revert is audited (actor
/// `guard`) and an alert says why. A change made while there were fewer than `minDecisions` decisions in the
/// baseline is not watched, because there is nothing to compare with; its page says so.
public final class BlastRadiusGuard: Sendable {
    public struct Settings: Sendable, Equatable {
        public var enabled = true
        public var factor = 3.0
        public var windowMinutes = 10
        public var baselineMinutes = 60
        public var minDecisions = 200
        public var minRate = 0.01

        public init(
            enabled: Bool = true, factor: Double = 3, windowMinutes: Int = 10, baselineMinutes: Int = 60,
            minDecisions: Int = 200, minRate: Double = 0.01
        ) {
            self.enabled = enabled
            self.factor = factor
            self.windowMinutes = windowMinutes
            self.baselineMinutes = baselineMinutes
            self.minDecisions = minDecisions
            self.minRate = minRate
        }

        var windowMicros: Int64 { Int64(windowMinutes) * 60_000_000 }
        var baselineMicros: Int64 { Int64(baselineMinutes) * 60_000_000 }
    }

    /// What a watch would revert.
    public enum Subject: Sendable, Equatable, Hashable {
        case rule(String)
        case champion
    }

    /// One watched change.
    public struct Watch: Sendable, Equatable {
        public var subject: Subject
        /// For a rule: the version to go back to (nil: the rule is new, so it is disabled).
        public var revertToVersion: Int?
        /// For a rule: the version the change produced (a later edit replaces the watch).
        public var changedVersion: Int?
        public var description: String
        public var startedAtMicros: Int64
        public var baseline: DecisionRates.Counts
        /// The cumulative counts when the change was made: what came after is counted from here.
        public var startTotals = DecisionRates.Counts()
        /// Nil while watching; set when the watch ended.
        public var outcome: String?
        public var endedAtMicros: Int64?
    }

    public let settings: Settings
    public let rates: DecisionRates
    private let watches = Mutex<[Subject: Watch]>([:])
    private let logger: Logger

    public init(settings: Settings, logger: Logger = Logger(label: "vigil.guard")) {
        self.settings = settings
        self.rates = DecisionRates(spanMicros: settings.baselineMicros + settings.windowMicros + 60_000_000)
        self.logger = logger
    }

    /// The current or last watch of a subject.
    public func watch(of subject: Subject) -> Watch? { watches.withLock { $0[subject] } }

    /// Starts watching a rule change that makes the rule act.
    public func watchRule(_ rule: StoredRule, previousVersion: Int?, nowMicros: Int64) async {
        start(
            Watch(
                subject: .rule(rule.ruleID), revertToVersion: previousVersion, changedVersion: rule.version,
                description: "rule \(rule.ruleID) version \(rule.version) (\(rule.name))", startedAtMicros: nowMicros,
                baseline: .init()), nowMicros: nowMicros)
    }

    /// Starts watching a promotion to champion.
    public func watchChampion(description: String, nowMicros: Int64) {
        start(
            Watch(
                subject: .champion, revertToVersion: nil, changedVersion: nil, description: description,
                startedAtMicros: nowMicros, baseline: .init()), nowMicros: nowMicros)
    }

    private func start(_ watch: Watch, nowMicros: Int64) {
        guard settings.enabled else { return }
        var watch = watch
        watch.baseline = rates.counts(sinceMicros: nowMicros - settings.baselineMicros)
        watch.startTotals = rates.cumulative
        if watch.baseline.total < settings.minDecisions {
            watch.outcome =
                "not watched: \(watch.baseline.total) decisions in the \(settings.baselineMinutes) minutes before "
                + "the change, fewer than guard.min_decisions (\(settings.minDecisions))"
            watch.endedAtMicros = nowMicros
        }
        watches.withLock { $0[watch.subject] = watch }
    }

    /// A change the guard decided to revert, for the caller to carry out.
    public struct Trip: Sendable, Equatable {
        public var watch: Watch
        public var after: DecisionRates.Counts
        public var reason: String
    }

    /// Ends watches past their window and returns the ones that tripped (each ends as it is returned).
    public func check(nowMicros: Int64) -> [Trip] {
        guard settings.enabled else { return [] }
        return watches.withLock { watches in
            var trips: [Trip] = []
            for (subject, watch) in watches where watch.outcome == nil {
                let after = rates.cumulative.since(watch.startTotals)
                if after.total >= settings.minDecisions, let reason = breach(watch.baseline, after) {
                    var ended = watch
                    ended.outcome = "reverted: \(reason)"
                    ended.endedAtMicros = nowMicros
                    watches[subject] = ended
                    trips.append(Trip(watch: ended, after: after, reason: reason))
                } else if nowMicros - watch.startedAtMicros >= settings.windowMicros {
                    var ended = watch
                    ended.outcome = "kept: no breach within \(settings.windowMinutes) minutes"
                    ended.endedAtMicros = nowMicros
                    watches[subject] = ended
                }
            }
            return trips
        }
    }

    private func breach(_ baseline: DecisionRates.Counts, _ after: DecisionRates.Counts) -> String? {
        let declineLimit = settings.factor * max(baseline.declineRate, settings.minRate)
        if after.declineRate > declineLimit {
            return "decline rate \(Self.percent(after.declineRate)) over \(after.total) decisions exceeds "
                + "\(settings.factor) × its baseline \(Self.percent(baseline.declineRate))"
        }
        let reviewLimit = settings.factor * max(baseline.reviewRate, settings.minRate)
        if after.reviewRate > reviewLimit {
            return "review rate \(Self.percent(after.reviewRate)) over \(after.total) decisions exceeds "
                + "\(settings.factor) × its baseline \(Self.percent(baseline.reviewRate))"
        }
        return nil
    }

    static func percent(_ rate: Double) -> String {
        "\(Double((rate * 10_000).rounded()) / 100) %"
    }

    /// `{"decisions", "review_rate", "decline_rate"}`.
    static func write(_ counts: DecisionRates.Counts, into writer: inout JSONWriter) {
        writer.objectStart()
        writer.key("decisions")
        writer.int(counts.total)
        writer.key("review_rate")
        writer.number(counts.reviewRate)
        writer.key("decline_rate")
        writer.number(counts.declineRate)
        writer.objectEnd()
    }

    static func write(_ watch: Watch, into writer: inout JSONWriter) {
        writer.objectStart()
        writer.key("started_at")
        writer.string(formatRFC3339(micros: watch.startedAtMicros))
        writer.key("baseline")
        write(watch.baseline, into: &writer)
        writer.key("state")
        writer.string(watch.outcome ?? "watching")
        writer.key("ended_at")
        writer.optionalString(watch.endedAtMicros.map { formatRFC3339(micros: $0) })
        writer.objectEnd()
    }
}
