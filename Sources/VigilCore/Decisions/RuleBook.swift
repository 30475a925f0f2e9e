/// What a rule does when it matches.
public enum RuleAction: Sendable, Equatable {
    /// Force `decline`.
    case block
    /// Force at least `review` (a `decline` stays a decline).
    case review
    /// Force `approve`, over every other rule and the model (an allowlist).
    case allow
    /// Add this many points to the model's margin (log-odds), scaled by the rule strength α.
    case score(Double)

    /// The wire name: `block`, `review`, `allow` or `score`.
    public var name: String {
        switch self {
        case .block: "block"
        case .review: "review"
        case .allow: "allow"
        case .score: "score"
        }
    }

    /// The points of a `score` action, nil for the forcing actions.
    public var points: Double? {
        if case .score(let points) = self { return points }
        return nil
    }
}

/// Whether a rule acts on decisions or is only recorded.
public enum RuleMode: String, Sendable, Equatable {
    case active, shadow
}

/// One compiled rule as scoring evaluates it: a snapshot of one version. A class, so the loop over 200 rules
/// per payment passes references rather than copying each rule's strings and closures.
public final class BookRule: Sendable {
    public let id: String
    public let name: String
    public let version: Int
    public let action: RuleAction
    public let mode: RuleMode
    /// After this instant (microseconds since the epoch) the rule no longer matches anything.
    public let expiresAtMicros: Int64?
    public let expression: RuleExpression
    /// The compiled condition, held directly so the scoring loop calls it without copying the expression.
    private let condition: @Sendable (RuleInput) -> Bool

    public init(
        id: String, name: String, version: Int, action: RuleAction, mode: RuleMode, expiresAtMicros: Int64?,
        expression: RuleExpression
    ) {
        self.id = id
        self.name = name
        self.version = version
        self.action = action
        self.mode = mode
        self.expiresAtMicros = expiresAtMicros
        self.expression = expression
        self.condition = expression.condition
    }

    @inline(__always)
    func matches(_ input: RuleInput) -> Bool { condition(input) }

    /// Whether the rule still acts (or records, in shadow) at this instant.
    public func isLive(atMicros now: Int64) -> Bool {
        guard let expiresAtMicros else { return true }
        return now < expiresAtMicros
    }
}

/// A rule that matched a payment, with what it contributed.
public struct RuleMatch: Sendable, Equatable {
    public var id: String
    public var name: String
    public var version: Int
    public var action: RuleAction
    public var mode: RuleMode
    /// For an active `score` rule: α × points, added to the margin. Zero otherwise.
    public var contribution: Double

    public init(id: String, name: String, version: Int, action: RuleAction, mode: RuleMode, contribution: Double) {
        self.id = id
        self.name = name
        self.version = version
        self.action = action
        self.mode = mode
        self.contribution = contribution
    }
}

/// The rules scoring evaluates (active and shadow) and the named lists they read; one immutable snapshot.
///
/// Precedence of the forcing actions follows Stripe Radar: `allow` over `block` over `review`. `score`
/// rules add `α × points` to the model's margin before the thresholds are applied; α (the rule strength,
/// DeepCTRL's inference-time knob) is 0 for "the model alone" and 1 for "the rules at full weight".
public struct RuleBook: Sendable {
    public let rules: [BookRule]
    public let lists: RuleLists

    public init(rules: [BookRule], lists: RuleLists) {
        self.rules = rules
        self.lists = lists
    }

    public static let empty = RuleBook(rules: [], lists: .empty)

    /// Every live rule that matches, active and shadow, in book order.
    public func matches(
        _ transaction: Transaction, features: [Double], strength: Double, nowMicros: Int64
    ) -> [RuleMatch] {
        var matched: [RuleMatch] = []
        let input = RuleInput(transaction, features, lists)
        for rule in rules where rule.isLive(atMicros: nowMicros) {
            guard rule.matches(input) else { continue }
            let contribution: Double
            if rule.mode == .active, case .score(let points) = rule.action {
                contribution = strength * points
            } else {
                contribution = 0
            }
            matched.append(
                RuleMatch(
                    id: rule.id, name: rule.name, version: rule.version, action: rule.action, mode: rule.mode,
                    contribution: contribution))
        }
        return matched
    }
}

/// How the active matches change a decision the model's (rule-adjusted) score made.
public enum RuleVerdict {
    /// The forcing rule that decided, if any: `allow` over `block` over `review`.
    public static func forcing(_ matches: [RuleMatch]) -> RuleMatch? {
        var block: RuleMatch?
        var review: RuleMatch?
        for match in matches where match.mode == .active {
            switch match.action {
            case .allow: return match
            case .block: if block == nil { block = match }
            case .review: if review == nil { review = match }
            case .score: break
            }
        }
        return block ?? review
    }

    /// The final decision: the thresholds' decision, then the forcing rule (a `review` rule never lowers a decline).
    public static func decide(thresholds: Decision, forcing: RuleMatch?) -> Decision {
        guard let forcing else { return thresholds }
        switch forcing.action {
        case .allow: return .approve
        case .block: return .decline
        case .review: return max(thresholds, .review)
        case .score: return thresholds
        }
    }
}
