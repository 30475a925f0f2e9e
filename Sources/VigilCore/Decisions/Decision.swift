/// What Vigil tells the payment service to do, ordered by severity.
public enum Decision: String, Sendable, CaseIterable, Comparable {
    case approve, review, decline

    public var severity: Int {
        switch self {
        case .approve: 0
        case .review: 1
        case .decline: 2
        }
    }

    public static func < (lhs: Decision, rhs: Decision) -> Bool { lhs.severity < rhs.severity }
}
