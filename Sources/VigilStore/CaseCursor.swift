import Foundation

/// The position after the last case of a page, for keyset pagination; opaque to clients.
public enum CaseCursor: Sendable, Equatable {
    case newest(createdAtMicros: Int64, caseID: String)
    case risk(score: Double, createdAtMicros: Int64, caseID: String)
    case priority(priority: Double, createdAtMicros: Int64, caseID: String)

    /// The position just after `item` in `order`.
    public init(after item: StoredCase, order: CaseQuery.Order) {
        switch order {
        case .newest: self = .newest(createdAtMicros: item.createdAtMicros, caseID: item.caseID)
        case .risk: self = .risk(score: item.score, createdAtMicros: item.createdAtMicros, caseID: item.caseID)
        case .priority:
            self = .priority(priority: item.priority, createdAtMicros: item.createdAtMicros, caseID: item.caseID)
        }
    }

    public var order: CaseQuery.Order {
        switch self {
        case .newest: .newest
        case .risk: .risk
        case .priority: .priority
        }
    }

    /// base64url of `n:CREATED:CASE` or `r:SCOREBITS:CREATED:CASE`.
    public var token: String {
        let plain: String
        switch self {
        case .newest(let created, let caseID): plain = "n:\(created):\(caseID)"
        case .risk(let score, let created, let caseID):
            plain = "r:\(String(score.bitPattern, radix: 16)):\(created):\(caseID)"
        case .priority(let priority, let created, let caseID):
            plain = "p:\(String(priority.bitPattern, radix: 16)):\(created):\(caseID)"
        }
        return Data(plain.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Nil for anything this server did not issue.
    public init?(token: String) {
        guard token.utf8.count <= 512 else { return nil }
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.utf8.count % 4 != 0 { base64.append("=") }
        guard let data = Data(base64Encoded: base64), let plain = String(data: data, encoding: .utf8) else {
            return nil
        }
        let parts = plain.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        switch parts.first {
        case "n":
            guard parts.count == 3 || (parts.count == 4), let created = Int64(parts[1]) else { return nil }
            let caseID = parts.dropFirst(2).joined(separator: ":")
            guard !caseID.isEmpty else { return nil }
            self = .newest(createdAtMicros: created, caseID: caseID)
        case "r":
            guard parts.count == 4, let bits = UInt64(parts[1], radix: 16), let created = Int64(parts[2]),
                !parts[3].isEmpty
            else { return nil }
            let score = Double(bitPattern: bits)
            guard score.isFinite else { return nil }
            self = .risk(score: score, createdAtMicros: created, caseID: parts[3])
        case "p":
            guard parts.count == 4, let bits = UInt64(parts[1], radix: 16), let created = Int64(parts[2]),
                !parts[3].isEmpty
            else { return nil }
            let priority = Double(bitPattern: bits)
            guard priority.isFinite else { return nil }
            self = .priority(priority: priority, createdAtMicros: created, caseID: parts[3])
        default:
            return nil
        }
    }
}
