import Synchronization
import VigilCore
import VigilStore

/// The rules scoring evaluates right now: one immutable `RuleBook`, swapped atomically after every change.
///
/// Changes reload the live rules and the lists from the store and install the result; a generation number
/// taken before each reload keeps an older reload from overwriting a newer one, so memory follows the
/// order of the database changes.
public final class RuleEngine: Sendable {
    private struct State {
        var book = RuleBook.empty
        var generation: UInt64 = 0
        var listNames: Set<String> = []
        /// Live rules that no longer compile (a list they read was deleted): id → why.
        var broken: [String: String] = [:]
    }

    public let rules: RuleStore
    public let lists: ListStore
    public let featureNames: [String]
    private let state = Mutex(State())
    private let generations = Mutex<UInt64>(0)

    public init(rules: RuleStore, lists: ListStore, featureNames: [String]) {
        self.rules = rules
        self.lists = lists
        self.featureNames = featureNames
    }

    /// The book to score this request with.
    public var book: RuleBook { state.withLock { $0.book } }

    /// What a rule saved now is checked against: the configured features and the lists that exist now.
    public var schema: RuleSchema {
        RuleSchema(featureNames: featureNames, listNames: state.withLock { $0.listNames })
    }

    /// Live rules that failed to compile at the last reload, with the reason.
    public var broken: [String: String] { state.withLock { $0.broken } }

    /// Reads the live rules and every list, compiles them and installs the result.
    public func reload() async throws {
        let generation = generations.withLock { value in
            value += 1
            return value
        }
        let live = try await rules.live()
        let snapshot = try await lists.snapshot()
        let schema = RuleSchema(featureNames: featureNames, listNames: Set(snapshot.keys))
        var compiled: [BookRule] = []
        var broken: [String: String] = [:]
        for rule in live.sorted(by: { $0.ruleID < $1.ruleID }) {
            guard let mode = RuleMode(rawValue: rule.status.rawValue) else { continue }
            do {
                let expression = try RuleExpression.compile(rule.expression, schema: schema)
                compiled.append(
                    BookRule(
                        id: rule.ruleID, name: rule.name, version: rule.version, action: Self.action(rule),
                        mode: mode, expiresAtMicros: rule.expiresAtMicros, expression: expression))
            } catch {
                broken[rule.ruleID] = error.description
            }
        }
        let book = RuleBook(rules: compiled, lists: RuleLists(snapshot))
        state.withLock { state in
            guard generation > state.generation else { return }
            state.generation = generation
            state.book = book
            state.listNames = Set(snapshot.keys)
            state.broken = broken
        }
    }

    static func action(_ rule: StoredRule) -> RuleAction {
        switch rule.action {
        case .block: .block
        case .review: .review
        case .allow: .allow
        case .score: .score(rule.points ?? 0)
        }
    }
}
