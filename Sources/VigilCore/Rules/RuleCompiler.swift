/// Type-checks a parsed rule against the schema and compiles it into closures.
struct RuleCompiler {
    let schema: RuleSchema
    let source: [UInt8]
    private(set) var names: Set<String> = []
    private(set) var lists: Set<String> = []

    init(schema: RuleSchema, source: [UInt8]) {
        self.schema = schema
        self.source = source
    }

    struct Compiled {
        var code: RuleCode
        /// A literal's value, for the fast paths of comparisons and `in`.
        var literal: RuleValue?
    }

    private func error(_ message: String, _ node: RuleNode) -> RuleSyntaxError {
        RuleSyntaxError(message, at: node.offset, in: source)
    }

    mutating func compile(_ node: RuleNode) throws(RuleSyntaxError) -> Compiled {
        switch node.kind {
        case .number(let value): return Compiled(code: .number({ _ in value }), literal: .number(value))
        case .string(let text): return Compiled(code: .string({ _ in text }), literal: .string(text))
        case .bool(let flag): return Compiled(code: .bool({ _ in flag }), literal: .bool(flag))
        case .null: return Compiled(code: .null, literal: .null)
        case .name(let name): return Compiled(code: try resolve(name, node))
        case .negate(let inner):
            let compiled = try compile(inner).code
            guard let value = compiled.asNumber else {
                throw error("'-' needs a number, not \(compiled.typeName)", inner)
            }
            return Compiled(code: .number({ i in -value(i) }))
        case .not(let inner):
            let compiled = try compile(inner).code
            guard let condition = compiled.asBool else {
                throw error("'not' needs a condition, not \(compiled.typeName)", inner)
            }
            return Compiled(code: .bool({ i in !condition(i) }))
        case .binary(let op, let left, let right):
            return try binary(op, left, right, node)
        case .inLiterals(let left, let literals, let negated):
            return Compiled(code: .bool(try inLiterals(left, literals, negated: negated)))
        case .inList(let left, let name, let nameOffset, let negated):
            guard schema.listNames.contains(name) else {
                let hint =
                    suggestion(for: name, among: Array(schema.listNames)).map { "; did you mean \"\($0)\"?" } ?? ""
                throw RuleSyntaxError(
                    "there is no list named \"\(name)\"\(hint) (create it with POST /v1/lists)", at: nameOffset,
                    in: source)
            }
            lists.insert(name)
            let compiled = try compile(left).code
            guard let value = compiled.asString else {
                throw error("list membership needs a string, not \(compiled.typeName)", left)
            }
            if negated {
                return Compiled(
                    code: .bool({ i in
                        guard let text = value(i) else { return false }
                        return !i.l.contains(text, inList: name)
                    }))
            }
            return Compiled(
                code: .bool({ i in
                    guard let text = value(i) else { return false }
                    return i.l.contains(text, inList: name)
                }))
        case .isNull(let inner, let negated):
            let test: BoolEval
            switch try compile(inner).code {
            case .number(let value): test = { i in value(i).isNaN }
            case .string(let value): test = { i in value(i) == nil }
            case .bool: test = { _ in false }
            case .any(let value): test = { i in value(i) == .null }
            case .null: test = { _ in true }
            }
            if negated {
                let inner = test
                return Compiled(code: .bool({ i in !inner(i) }))
            }
            return Compiled(code: .bool(test))
        case .call(let name, let arguments):
            return Compiled(code: try call(name, arguments, node))
        }
    }

    // MARK: - Names

    private mutating func resolve(_ name: String, _ node: RuleNode) throws(RuleSyntaxError) -> RuleCode {
        if name.hasPrefix("attributes."), name.dropFirst(11).contains("."), let position = schema.featureIndex[name] {
            names.insert(name)
            return .number({ i in position < i.f.count ? i.f[position] : .nan })
        }
        if name.hasPrefix("attributes.") {
            let attribute = String(name.dropFirst(11))
            guard !attribute.isEmpty, !attribute.contains(".") else {
                throw error("'\(name)' is not an attribute name (attributes.NAME)", node)
            }
            names.insert(name)
            return .any({ i in
                switch i.t.attribute(attribute) {
                case .number(let value)?: .number(value)
                case .string(let value)?: .string(value)
                case .bool(let value)?: .bool(value)
                case .null?, nil: .null
                }
            })
        }
        if let field = Self.stringField(name) {
            names.insert(name)
            return .string(field)
        }
        if name == "amount" {
            names.insert(name)
            return .number({ i in i.t.amount })
        }
        if let position = schema.featureIndex[name] {
            names.insert(name)
            return .number({ i in position < i.f.count ? i.f[position] : .nan })
        }
        let hint = suggestion(for: name, among: schema.knownNames).map { "; did you mean '\($0)'?" } ?? ""
        throw error(
            "unknown name '\(name)'\(hint) (transaction fields, attributes.NAME and the configured features)", node)
    }

    static func stringField(_ name: String) -> StringEval? {
        switch name {
        case "transaction_id": { i in i.t.transactionID }
        case "currency": { i in i.t.currency }
        case "card_id": { i in i.t.cardID }
        case "customer_id": { i in i.t.customerID }
        case "merchant_id": { i in i.t.merchantID }
        case "device_id": { i in i.t.deviceID }
        case "email": { i in i.t.email }
        case "ip_address": { i in i.t.ipAddress }
        case "merchant_category": { i in i.t.merchantCategory }
        case "merchant_country": { i in i.t.merchantCountry }
        case "card_country": { i in i.t.cardCountry }
        case "ip_country": { i in i.t.ipCountry }
        case "channel": { i in i.t.channel?.rawValue }
        default: nil
        }
    }

    /// The closest known name within a small edit distance.
    private func suggestion(for name: String, among candidates: [String]) -> String? {
        let target = Array(name.lowercased().utf8)
        guard target.count <= 64 else { return nil }
        var best: (String, Int)?
        for candidate in candidates {
            let distance = Self.editDistance(target, Array(candidate.utf8))
            if distance <= max(2, target.count / 3), distance < (best?.1 ?? .max) { best = (candidate, distance) }
        }
        return best?.0
    }

    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var row = previous
        for i in 1...a.count {
            row[0] = i
            for j in 1...b.count {
                row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &row)
        }
        return previous[b.count]
    }

    // MARK: - Operators

    private mutating func binary(
        _ op: RuleNode.Operator, _ leftNode: RuleNode, _ rightNode: RuleNode, _ node: RuleNode
    ) throws(RuleSyntaxError) -> Compiled {
        let left = try compile(leftNode)
        let right = try compile(rightNode)
        switch op {
        case .and, .or:
            guard let lhs = left.code.asBool else {
                throw error("'\(op.rawValue)' needs conditions on both sides, not \(left.code.typeName)", leftNode)
            }
            guard let rhs = right.code.asBool else {
                throw error("'\(op.rawValue)' needs conditions on both sides, not \(right.code.typeName)", rightNode)
            }
            if op == .and { return Compiled(code: .bool({ i in lhs(i) && rhs(i) })) }
            return Compiled(code: .bool({ i in lhs(i) || rhs(i) }))
        case .plus, .minus, .times, .divide:
            guard let lhs = left.code.asNumber else {
                throw error("'\(op.rawValue)' needs numbers, not \(left.code.typeName)", leftNode)
            }
            guard let rhs = right.code.asNumber else {
                throw error("'\(op.rawValue)' needs numbers, not \(right.code.typeName)", rightNode)
            }
            let code: NumberEval =
                switch op {
                case .plus: { i in lhs(i) + rhs(i) }
                case .minus: { i in lhs(i) - rhs(i) }
                case .times: { i in lhs(i) * rhs(i) }
                default:
                    { i in
                        let divisor = rhs(i)
                        return divisor == 0 ? .nan : lhs(i) / divisor
                    }
                }
            return Compiled(code: .number(code))
        default:
            return Compiled(code: .bool(try comparison(op, left, right, leftNode, rightNode)))
        }
    }

    private func comparison(
        _ op: RuleNode.Operator, _ left: Compiled, _ right: Compiled, _ leftNode: RuleNode, _ rightNode: RuleNode
    ) throws(RuleSyntaxError) -> BoolEval {
        if case .null = left.code { throw error("compare with null using 'is null' or 'is not null'", leftNode) }
        if case .null = right.code { throw error("compare with null using 'is null' or 'is not null'", rightNode) }
        let ordered = op != .equal && op != .notEqual
        switch (left.code, right.code) {
        case (.number(let lhs), .number(let rhs)):
            if case .number(let constant)? = right.literal { return Self.compare(op, lhs, constant) }
            return Self.compare(op, lhs, rhs)
        case (.string(let lhs), .string(let rhs)):
            if case .string(let constant)? = right.literal {
                switch op {
                case .equal: return { i in lhs(i) == constant }
                case .notEqual: return { i in lhs(i).map { $0 != constant } ?? false }
                default: break
                }
            }
            return { i in
                guard let a = lhs(i), let b = rhs(i) else { return false }
                return Self.holds(op, a, b)
            }
        case (.bool(let lhs), .bool(let rhs)):
            guard !ordered else { throw error("'\(op.rawValue)' cannot order conditions", leftNode) }
            if op == .equal { return { i in lhs(i) == rhs(i) } }
            return { i in lhs(i) != rhs(i) }
        case (.any, _), (_, .any):
            if ordered, case .bool = left.code { throw error("'\(op.rawValue)' cannot order conditions", leftNode) }
            if ordered, case .bool = right.code { throw error("'\(op.rawValue)' cannot order conditions", rightNode) }
            let lhs = left.code.asAny
            let rhs = right.code.asAny
            return { i in Self.compareValues(op, lhs(i), rhs(i)) }
        default:
            throw error(
                "cannot compare \(left.code.typeName) with \(right.code.typeName) using '\(op.rawValue)'", rightNode)
        }
    }

    private static func compare(_ op: RuleNode.Operator, _ lhs: @escaping NumberEval, _ constant: Double) -> BoolEval {
        switch op {
        case .equal: { i in lhs(i) == constant }
        case .notEqual:
            { i in
                let value = lhs(i)
                return !value.isNaN && value != constant
            }
        case .less: { i in lhs(i) < constant }
        case .lessOrEqual: { i in lhs(i) <= constant }
        case .greater: { i in lhs(i) > constant }
        default: { i in lhs(i) >= constant }
        }
    }

    private static func compare(_ op: RuleNode.Operator, _ lhs: @escaping NumberEval, _ rhs: @escaping NumberEval)
        -> BoolEval
    {
        { i in
            let a = lhs(i)
            let b = rhs(i)
            guard !a.isNaN, !b.isNaN else { return false }
            return holds(op, a, b)
        }
    }

    static func holds<T: Comparable>(_ op: RuleNode.Operator, _ a: T, _ b: T) -> Bool {
        switch op {
        case .equal: a == b
        case .notEqual: a != b
        case .less: a < b
        case .lessOrEqual: a <= b
        case .greater: a > b
        default: a >= b
        }
    }

    /// Two run-time values: false when either is null or their types differ.
    static func compareValues(_ op: RuleNode.Operator, _ a: RuleValue, _ b: RuleValue) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): holds(op, x, y)
        case (.string(let x), .string(let y)): holds(op, x, y)
        case (.bool(let x), .bool(let y)): op == .equal ? x == y : (op == .notEqual ? x != y : false)
        default: false
        }
    }

    private mutating func inLiterals(
        _ leftNode: RuleNode, _ literals: [RuleNode], negated: Bool
    ) throws(RuleSyntaxError) -> BoolEval {
        let left = try compile(leftNode).code
        let test: BoolEval
        switch left {
        case .number(let value):
            var numbers: Set<Double> = []
            for literal in literals {
                guard case .number(let number) = literal.kind else {
                    throw error("this list must hold numbers, like the value it is compared with", literal)
                }
                numbers.insert(number)
            }
            let set = numbers
            test = { i in set.contains(value(i)) }
        case .string(let value):
            var strings: Set<String> = []
            for literal in literals {
                guard case .string(let text) = literal.kind else {
                    throw error("this list must hold strings, like the value it is compared with", literal)
                }
                strings.insert(text)
            }
            let set = strings
            test = { i in value(i).map { set.contains($0) } ?? false }
        case .any(let value):
            let values = literals.map { literal -> RuleValue in
                switch literal.kind {
                case .number(let number): .number(number)
                case .string(let text): .string(text)
                case .bool(let flag): .bool(flag)
                default: .null
                }
            }
            test = { i in
                let actual = value(i)
                return actual != .null && values.contains(actual)
            }
        default:
            throw error("'in' needs a number or a string on its left, not \(left.typeName)", leftNode)
        }
        guard negated else { return test }
        // `x not in (…)` is false when x is null, like every other comparison with null.
        let isNull: BoolEval =
            switch left {
            case .number(let value): { i in value(i).isNaN }
            case .string(let value): { i in value(i) == nil }
            case .any(let value): { i in value(i) == .null }
            default: { _ in true }
            }
        return { i in !isNull(i) && !test(i) }
    }

    // MARK: - Functions

    static let functions = ["starts_with", "ends_with", "contains", "lower", "upper", "length"]

    private mutating func call(_ name: String, _ arguments: [RuleNode], _ node: RuleNode) throws(RuleSyntaxError)
        -> RuleCode
    {
        let function = name.lowercased()
        guard Self.functions.contains(function) else {
            let hint = suggestion(for: function, among: Self.functions).map { "; did you mean \($0)?" } ?? ""
            throw error(
                "unknown function '\(name)'\(hint) (known: \(Self.functions.joined(separator: ", ")))", node)
        }
        let arity = ["lower", "upper", "length"].contains(function) ? 1 : 2
        guard arguments.count == arity else {
            throw error("\(function) takes \(arity) argument\(arity == 1 ? "" : "s"), not \(arguments.count)", node)
        }
        var strings: [StringEval] = []
        for argument in arguments {
            let compiled = try compile(argument).code
            guard let value = compiled.asString else {
                throw error("\(function) needs strings, not \(compiled.typeName)", argument)
            }
            strings.append(value)
        }
        let first = strings[0]
        switch function {
        case "lower": return .string({ i in first(i)?.lowercased() })
        case "upper": return .string({ i in first(i)?.uppercased() })
        case "length": return .number({ i in first(i).map { Double($0.count) } ?? .nan })
        default:
            let second = strings[1]
            let test: @Sendable (String, String) -> Bool =
                switch function {
                case "starts_with": { $0.hasPrefix($1) }
                case "ends_with": { $0.hasSuffix($1) }
                default: { $0.contains($1) }
                }
            return .bool({ i in
                guard let a = first(i), let b = second(i) else { return false }
                return test(a, b)
            })
        }
    }
}
