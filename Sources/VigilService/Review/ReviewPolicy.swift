import VigilCore
import VigilStore

/// How the review queue is ordered and fed: the priority of a new case, the exploration sample, the lease.
public struct ReviewPolicy: Sendable, Equatable {
    /// What orders the queue, highest first.
    public enum Priority: String, Sendable, CaseIterable {
        /// probability × amount, in the payment's currency (amounts are not converted).
        case expectedLoss = "expected_loss"
        case score
        case amount
    }

    public var priority: Priority
    /// Share of approved payments that also open a `sample` case, 0…1.
    public var sampleRate: Double
    /// How long a claim holds a case before another reviewer may take it.
    public var leaseMicros: Int64

    public init(priority: Priority = .expectedLoss, sampleRate: Double = 0.005, leaseSeconds: Int = 900) {
        self.priority = priority
        self.sampleRate = sampleRate
        self.leaseMicros = Int64(leaseSeconds) * 1_000_000
    }

    public func priority(probability: Double, amount: Double) -> Double {
        switch priority {
        case .expectedLoss: probability * amount
        case .score: probability
        case .amount: amount
        }
    }

    /// Whether an approved payment belongs to the exploration sample. Decided by a hash of its id, so a
    /// replay decides the same and the sample is a fixed, unbiased share of approvals.
    public func isSampled(transactionID: String) -> Bool {
        guard sampleRate > 0 else { return false }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in transactionID.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        // Finalise (splitmix64) so that ids differing in one character spread over the whole range.
        hash ^= hash >> 30
        hash = hash &* 0xbf58_476d_1ce4_e5b9
        hash ^= hash >> 27
        hash = hash &* 0x94d0_49bb_1331_11eb
        hash ^= hash >> 31
        return Double(hash >> 11) / Double(UInt64(1) << 53) < sampleRate
    }
}
