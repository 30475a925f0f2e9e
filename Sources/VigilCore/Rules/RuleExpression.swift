/// Named value lists as scoring reads them: one immutable snapshot, rebuilt when a list changes.
public struct RuleLists: Sendable {
    let sets: [String: Set<String>]

    public init(_ lists: [String: Set<String>]) { sets = lists }

    public static let empty = RuleLists([:])

    public func contains(_ value: String, inList name: String) -> Bool {
        sets[name]?.contains(value) ?? false
    }
}

/// What a rule reads: one payment, its features and the lists, built once per payment and shared by every
/// rule, so evaluation passes one reference instead of copying the transaction into each closure.
public final class RuleInput: Sendable {
    let t: Transaction
    let f: [Double]
    let l: RuleLists

    public init(_ transaction: Transaction, _ features: [Double], _ lists: RuleLists) {
        t = transaction
        f = features
        l = lists
    }
}

/// A value at run time: what an `attributes.NAME` can hold, and what generic comparisons see.
enum RuleValue: Equatable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case null
}

/// A parsed, type-checked and compiled rule expression: immutable, side-effect free, cheap to evaluate.
///
/// Compiled once into closures by static type: numbers evaluate to `Double` (NaN is null), strings to
/// `String?`, conditions to `Bool`; only `attributes.NAME`, whose type is known at run time only, goes through
/// a tagged value. Names are resolved to fields or vector positions at compile time, never looked up by name
/// while scoring.
public struct RuleExpression: Sendable {
    public let source: String
    /// Fields, features and attributes it reads, as written, sorted, unique.
    public let referencedNames: [String]
    /// List names it reads, sorted, unique.
    public let referencedLists: [String]
    let condition: BoolEval

    /// Parses, type-checks against `schema` and compiles; every refusal names line, column and why.
    public static func compile(
        _ source: String, schema: RuleSchema, limits: RuleLimits = .init()
    ) throws(RuleSyntaxError) -> RuleExpression {
        let bytes = Array(source.utf8)
        guard bytes.count <= limits.maxSourceBytes else {
            throw RuleSyntaxError(
                "the rule is \(bytes.count) bytes long, more than the limit of \(limits.maxSourceBytes)",
                at: limits.maxSourceBytes, in: bytes)
        }
        var lexer = RuleLexer(bytes)
        let tokens = try lexer.tokens(limit: limits.maxNodes * 4)
        var parser = RuleParser(tokens: tokens, source: bytes, limits: limits)
        let tree = try parser.parseRule()
        var compiler = RuleCompiler(schema: schema, source: bytes)
        let compiled = try compiler.compile(tree)
        guard let condition = compiled.code.asBool else {
            throw RuleSyntaxError(
                "a rule must be a condition (true or false), but this is \(compiled.code.typeName)",
                at: tokens.first?.offset ?? 0, in: bytes)
        }
        return RuleExpression(
            source: source, referencedNames: compiler.names.sorted(), referencedLists: compiler.lists.sorted(),
            condition: condition)
    }

    /// Whether the rule holds for this payment; `features` is in the schema's feature order (NaN is missing).
    public func matches(_ transaction: Transaction, features: [Double], lists: RuleLists) -> Bool {
        condition(RuleInput(transaction, features, lists))
    }

    /// The same, on an input built once for many rules (`RuleBook` evaluates all its rules on one).
    @inline(__always)
    public func matches(_ input: RuleInput) -> Bool { condition(input) }
}

typealias NumberEval = @Sendable (RuleInput) -> Double
typealias StringEval = @Sendable (RuleInput) -> String?
typealias BoolEval = @Sendable (RuleInput) -> Bool
typealias AnyEval = @Sendable (RuleInput) -> RuleValue

/// Compiled code of one node, by its static type.
enum RuleCode {
    case number(NumberEval)
    case string(StringEval)
    case bool(BoolEval)
    /// An attribute: number, string, bool or null, known only at run time.
    case any(AnyEval)
    /// The literal `null`.
    case null

    var typeName: String {
        switch self {
        case .number: "a number"
        case .string: "a string"
        case .bool: "a condition"
        case .any: "an attribute"
        case .null: "null"
        }
    }

    /// Any code as a tagged value (the slow, general path).
    var asAny: AnyEval {
        switch self {
        case .number(let eval):
            return { i in
                let value = eval(i)
                return value.isNaN ? .null : .number(value)
            }
        case .string(let eval): return { i in eval(i).map(RuleValue.string) ?? .null }
        case .bool(let eval): return { i in .bool(eval(i)) }
        case .any(let eval): return eval
        case .null: return { _ in .null }
        }
    }

    /// Code usable where a number is expected (an attribute that is not a number is null).
    var asNumber: NumberEval? {
        switch self {
        case .number(let eval): return eval
        case .any(let eval):
            return { i in
                if case .number(let value) = eval(i) { return value }
                return .nan
            }
        default: return nil
        }
    }

    /// Code usable where a string is expected (an attribute that is not a string is null).
    var asString: StringEval? {
        switch self {
        case .string(let eval): return eval
        case .any(let eval):
            return { i in
                if case .string(let value) = eval(i) { return value }
                return nil
            }
        default: return nil
        }
    }

    /// Code usable where a condition is expected (an attribute that is not a boolean is false).
    var asBool: BoolEval? {
        switch self {
        case .bool(let eval): return eval
        case .any(let eval): return { i in eval(i) == .bool(true) }
        default: return nil
        }
    }
}
