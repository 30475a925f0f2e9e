import Synchronization
import VigilCore

/// Decisions per 10-second bucket over a sliding span of wall-clock time, for the blast-radius guard.
///
/// Recording is one lock and three additions on the scoring path; memory is fixed at three counters per
/// bucket (the span is the guard's baseline plus its window, a few hundred to a few thousand buckets).
public final class DecisionRates: Sendable {
    public static let bucketMicros: Int64 = 10_000_000

    /// Counts of one stretch of time.
    public struct Counts: Sendable, Equatable {
        public var total = 0
        public var review = 0
        public var decline = 0

        public init(total: Int = 0, review: Int = 0, decline: Int = 0) {
            self.total = total
            self.review = review
            self.decline = decline
        }

        /// The decisions of `self` that came after `earlier` (two cumulative readings).
        public func since(_ earlier: Counts) -> Counts {
            Counts(total: total - earlier.total, review: review - earlier.review, decline: decline - earlier.decline)
        }

        public var reviewRate: Double { total == 0 ? 0 : Double(review) / Double(total) }
        public var declineRate: Double { total == 0 ? 0 : Double(decline) / Double(total) }
    }

    private struct Bucket {
        var index: Int64 = -1
        var counts = Counts()
    }

    private struct State {
        var buckets: [Bucket]
        /// Every decision since start: the difference of two readings counts exactly what happened in between.
        var cumulative = Counts()
    }

    private let state: Mutex<State>
    private let size: Int

    /// Keeps at least `spanMicros` of history.
    public init(spanMicros: Int64) {
        size = Int(spanMicros / Self.bucketMicros) + 2
        state = Mutex(State(buckets: Array(repeating: Bucket(), count: size)))
    }

    public func record(_ decision: Decision, atMicros now: Int64) {
        let index = now / Self.bucketMicros
        let slot = Int(index % Int64(size))
        let review = decision == .review ? 1 : 0
        let decline = decision == .decline ? 1 : 0
        state.withLock { state in
            if state.buckets[slot].index != index { state.buckets[slot] = Bucket(index: index) }
            state.buckets[slot].counts.total += 1
            state.buckets[slot].counts.review += review
            state.buckets[slot].counts.decline += decline
            state.cumulative.total += 1
            state.cumulative.review += review
            state.cumulative.decline += decline
        }
    }

    /// Every decision recorded since start.
    public var cumulative: Counts { state.withLock { $0.cumulative } }

    /// Decisions in the buckets from the one holding `from` to the current one (a trailing rate; the first
    /// bucket may hold up to 10 s from before `from`).
    public func counts(sinceMicros from: Int64) -> Counts {
        let first = from / Self.bucketMicros
        return state.withLock { state in
            var total = Counts()
            for bucket in state.buckets where bucket.index >= first {
                total.total += bucket.counts.total
                total.review += bucket.counts.review
                total.decline += bucket.counts.decline
            }
            return total
        }
    }
}
