/// Turns a probability into a 0–100 risk score and the risk score into a decision by thresholds.
public struct DecisionPolicy: Sendable, Equatable {
    /// Risk scores at or above this go to review.
    public let reviewAt: Int
    /// Risk scores at or above this are declined.
    public let declineAt: Int

    /// `0 ≤ reviewAt ≤ declineAt ≤ 101` (101 switches declining off).
    public init(reviewAt: Int, declineAt: Int) throws(PolicyError) {
        guard (0...101).contains(reviewAt) else { throw .invalid("decision.review_at must be between 0 and 101") }
        guard (0...101).contains(declineAt) else { throw .invalid("decision.decline_at must be between 0 and 101") }
        guard reviewAt <= declineAt else { throw .invalid("decision.review_at must not be above decision.decline_at") }
        self.reviewAt = reviewAt
        self.declineAt = declineAt
    }

    /// The probability in percent, rounded to the nearest integer.
    public static func riskScore(probability: Double) -> Int {
        guard probability.isFinite else { return 100 }
        return min(100, max(0, Int((probability * 100).rounded())))
    }

    public func decide(riskScore: Int) -> Decision {
        if riskScore >= declineAt { return .decline }
        if riskScore >= reviewAt { return .review }
        return .approve
    }
}

/// Why a decision policy was refused.
public enum PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(String)
    public var description: String {
        switch self {
        case .invalid(let message): message
        }
    }
}
