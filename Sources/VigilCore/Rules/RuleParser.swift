/// A node of a parsed rule, with the byte offset where it starts (for error positions).
final class RuleNode {
    enum Operator: String {
        case and, or
        case equal = "=", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
        case plus = "+", minus = "-", times = "*", divide = "/"
    }

    enum Kind {
        case number(Double)
        case string(String)
        case bool(Bool)
        case null
        case name(String)
        case negate(RuleNode)
        case not(RuleNode)
        case binary(Operator, RuleNode, RuleNode)
        case inLiterals(RuleNode, [RuleNode], negated: Bool)
        case inList(RuleNode, name: String, nameOffset: Int, negated: Bool)
        case isNull(RuleNode, negated: Bool)
        case call(String, [RuleNode])
    }

    let kind: Kind
    let offset: Int

    init(_ kind: Kind, at offset: Int) {
        self.kind = kind
        self.offset = offset
    }
}

/// Recursive descent over the tokens, with explicit limits on nesting depth and node count, so no input can
/// overflow the stack or take long.
///
///     rule       := or END
///     or         := and ("or" and)*
///     and        := not ("and" not)*
///     not        := "not" not | comparison
///     comparison := additive [ compare additive | ["not"] "in" ( "(" literals ")" | "list" "(" string ")" )
///                            | "is" ["not"] "null" ]
///     additive   := product (("+" | "-") product)*
///     product    := unary (("*" | "/") unary)*
///     unary      := "-" unary | primary
///     primary    := number | string | true | false | null | name | name "(" [or ("," or)*] ")" | "(" or ")"
struct RuleParser {
    let tokens: [RuleToken]
    let source: [UInt8]
    let limits: RuleLimits
    private var index = 0
    private var depth = 0
    private var nodes = 0

    init(tokens: [RuleToken], source: [UInt8], limits: RuleLimits) {
        self.tokens = tokens
        self.source = source
        self.limits = limits
    }

    private var current: RuleToken { tokens[min(index, tokens.count - 1)] }

    private func error(_ message: String, at offset: Int? = nil) -> RuleSyntaxError {
        RuleSyntaxError(message, at: offset ?? current.offset, in: source)
    }

    private mutating func node(_ kind: RuleNode.Kind, at offset: Int) throws(RuleSyntaxError) -> RuleNode {
        nodes += 1
        guard nodes <= limits.maxNodes else {
            throw error("the rule has more than \(limits.maxNodes) parts (rules.limits)", at: offset)
        }
        return RuleNode(kind, at: offset)
    }

    private mutating func enter() throws(RuleSyntaxError) {
        depth += 1
        guard depth <= limits.maxDepth else {
            throw error("the rule is nested more than \(limits.maxDepth) levels deep")
        }
    }

    private mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    private mutating func accept(_ symbol: RuleToken.Symbol) -> Bool {
        guard case .symbol(symbol) = current.kind else { return false }
        advance()
        return true
    }

    private mutating func accept(_ keyword: RuleToken.Keyword) -> Bool {
        guard case .keyword(keyword) = current.kind else { return false }
        advance()
        return true
    }

    private mutating func expect(_ symbol: RuleToken.Symbol, _ what: String) throws(RuleSyntaxError) {
        guard accept(symbol) else { throw error("expected \(what), found \(describe(current))") }
    }

    private func describe(_ token: RuleToken) -> String {
        switch token.kind {
        case .number(let value): "the number \(value)"
        case .string: "a string"
        case .identifier(let name): "'\(name)'"
        case .keyword(let keyword): "'\(keyword.rawValue)'"
        case .symbol(let symbol): "'\(symbol.rawValue)'"
        case .end: "the end of the rule"
        }
    }

    mutating func parseRule() throws(RuleSyntaxError) -> RuleNode {
        if current.kind == .end { throw error("the rule is empty") }
        let rule = try parseOr()
        guard current.kind == .end else {
            throw error("expected 'and', 'or' or the end of the rule, found \(describe(current))")
        }
        return rule
    }

    private mutating func parseOr() throws(RuleSyntaxError) -> RuleNode {
        try enter()
        defer { depth -= 1 }
        var left = try parseAnd()
        while case .keyword(.or) = current.kind {
            let offset = current.offset
            advance()
            left = try node(.binary(.or, left, try parseAnd()), at: offset)
        }
        return left
    }

    private mutating func parseAnd() throws(RuleSyntaxError) -> RuleNode {
        var left = try parseNot()
        while case .keyword(.and) = current.kind {
            let offset = current.offset
            advance()
            left = try node(.binary(.and, left, try parseNot()), at: offset)
        }
        return left
    }

    private mutating func parseNot() throws(RuleSyntaxError) -> RuleNode {
        let offset = current.offset
        if accept(.not) {
            try enter()
            defer { depth -= 1 }
            return try node(.not(try parseNot()), at: offset)
        }
        return try parseComparison()
    }

    private mutating func parseComparison() throws(RuleSyntaxError) -> RuleNode {
        let left = try parseAdditive()
        let offset = current.offset
        switch current.kind {
        case .symbol(let symbol):
            let op: RuleNode.Operator? =
                switch symbol {
                case .equal: .equal
                case .notEqual: .notEqual
                case .less: .less
                case .lessOrEqual: .lessOrEqual
                case .greater: .greater
                case .greaterOrEqual: .greaterOrEqual
                default: nil
                }
            guard let op else { return left }
            advance()
            return try node(.binary(op, left, try parseAdditive()), at: offset)
        case .keyword(.is):
            advance()
            let negated = accept(.not)
            guard accept(.null) else { throw error("expected 'null' after 'is\(negated ? " not" : "")'") }
            return try node(.isNull(left, negated: negated), at: offset)
        case .keyword(.not):
            advance()
            guard accept(.in) else { throw error("expected 'in' after 'not' here (or put 'not' before the condition)") }
            return try parseIn(left, negated: true, at: offset)
        case .keyword(.in):
            advance()
            return try parseIn(left, negated: false, at: offset)
        default:
            return left
        }
    }

    private mutating func parseIn(_ left: RuleNode, negated: Bool, at offset: Int) throws(RuleSyntaxError) -> RuleNode {
        if case .identifier(let word) = current.kind, word.lowercased() == "list" {
            advance()
            try expect(.leftParen, "'(' after list")
            let nameOffset = current.offset
            guard case .string(let name) = current.kind else {
                throw error("expected the list's name as a string, as in list(\"stolen_cards\")")
            }
            advance()
            try expect(.rightParen, "')' after the list's name")
            return try node(.inList(left, name: name, nameOffset: nameOffset, negated: negated), at: offset)
        }
        try expect(.leftParen, "'(' and a list of values, or list(\"name\"), after 'in'")
        var literals: [RuleNode] = []
        repeat {
            let literalOffset = current.offset
            var sign = 1.0
            if accept(.minus) { sign = -1 }
            switch current.kind {
            case .number(let value): literals.append(RuleNode(.number(sign * value), at: literalOffset))
            case .string(let text) where sign > 0: literals.append(RuleNode(.string(text), at: literalOffset))
            case .keyword(.true) where sign > 0: literals.append(RuleNode(.bool(true), at: literalOffset))
            case .keyword(.false) where sign > 0: literals.append(RuleNode(.bool(false), at: literalOffset))
            default: throw error("expected a number or a string in the list, found \(describe(current))")
            }
            advance()
            guard literals.count <= limits.maxListLiterals else {
                throw error("the list has more than \(limits.maxListLiterals) values", at: literalOffset)
            }
        } while accept(.comma)
        try expect(.rightParen, "',' or ')' in the list of values")
        return try node(.inLiterals(left, literals, negated: negated), at: offset)
    }

    private mutating func parseAdditive() throws(RuleSyntaxError) -> RuleNode {
        var left = try parseProduct()
        while true {
            let offset = current.offset
            let op: RuleNode.Operator
            if accept(.plus) { op = .plus } else if accept(.minus) { op = .minus } else { return left }
            left = try node(.binary(op, left, try parseProduct()), at: offset)
        }
    }

    private mutating func parseProduct() throws(RuleSyntaxError) -> RuleNode {
        var left = try parseUnary()
        while true {
            let offset = current.offset
            let op: RuleNode.Operator
            if accept(.times) { op = .times } else if accept(.divide) { op = .divide } else { return left }
            left = try node(.binary(op, left, try parseUnary()), at: offset)
        }
    }

    private mutating func parseUnary() throws(RuleSyntaxError) -> RuleNode {
        let offset = current.offset
        if accept(.minus) {
            try enter()
            defer { depth -= 1 }
            return try node(.negate(try parseUnary()), at: offset)
        }
        return try parsePrimary()
    }

    private mutating func parsePrimary() throws(RuleSyntaxError) -> RuleNode {
        let token = current
        switch token.kind {
        case .number(let value):
            advance()
            return try node(.number(value), at: token.offset)
        case .string(let text):
            advance()
            return try node(.string(text), at: token.offset)
        case .keyword(.true), .keyword(.false):
            advance()
            return try node(.bool(token.kind == .keyword(.true)), at: token.offset)
        case .keyword(.null):
            advance()
            return try node(.null, at: token.offset)
        case .identifier(let name):
            advance()
            guard accept(.leftParen) else { return try node(.name(name), at: token.offset) }
            try enter()
            defer { depth -= 1 }
            var arguments: [RuleNode] = []
            if !accept(.rightParen) {
                repeat { arguments.append(try parseOr()) } while accept(.comma)
                try expect(.rightParen, "',' or ')' after the function's arguments")
            }
            return try node(.call(name, arguments), at: token.offset)
        case .symbol(.leftParen):
            advance()
            let inner = try parseOr()
            try expect(.rightParen, "')'")
            return inner
        default:
            throw error("expected a value, a name or '(', found \(describe(token))")
        }
    }
}
