import VigilCore

/// Everything the driver learns while it runs: what the server decided for each payment, what the review team and
/// the chargebacks did, and what went wrong. Kept behind a mutex; each payment is an index into flat arrays, so a
/// run of millions stays small.
struct Ledger: Sendable {
    enum Outcome: UInt8, Sendable {
        case pending = 0
        case approve
        case review
        case decline
        case failed
    }

    struct PendingChargeback: Sendable {
        var due: Int64
        var index: Int
    }

    var outcome: [Outcome]
    var truth: [GroundTruth]
    var occurredAt: [Int64]
    var channel: [Channel]
    var teamVerdict: [LabelValue?]
    var sent = 0
    var acknowledged = 0
    var failed = 0
    var consecutiveFailures = 0
    var decisions: [Outcome: Int] = [:]
    var byScenario: [FraudScenario?: [Outcome: Int]] = [:]
    /// Error messages with how often each happened, in the order first seen.
    var errors: [(message: String, count: Int)] = []
    var abort: String?

    var casesClaimed = 0
    var casesWorked = 0
    var casesClosed = 0
    var teamFraud = 0
    var teamLegit = 0
    var foreignCases: [String] = []
    var reviewSlotsUsed = 0

    var pendingChargebacks: [PendingChargeback] = []
    var chargebacksInside = 0
    var chargebacksAtEnd = 0
    var chargebacksSkipped = 0
    var chargebacksByScenario: [FraudScenario: Int] = [:]
    var labelErrors = 0

    enum LabelValue: String, Sendable {
        case fraud
        case legit
    }

    init(payments: Int) {
        outcome = Array(repeating: .pending, count: payments)
        truth = Array(repeating: .legit, count: payments)
        occurredAt = Array(repeating: 0, count: payments)
        channel = Array(repeating: .other, count: payments)
        teamVerdict = Array(repeating: nil, count: payments)
    }

    mutating func error(_ message: String) {
        if let index = errors.firstIndex(where: { $0.message == message }) {
            errors[index].count += 1
        } else {
            errors.append((message, 1))
        }
    }

    var errorCount: Int { errors.reduce(0) { $0 + $1.count } }
}

extension Ledger.Outcome {
    init?(decision: String) {
        switch decision {
        case "approve": self = .approve
        case "review": self = .review
        case "decline": self = .decline
        default: return nil
        }
    }
}
