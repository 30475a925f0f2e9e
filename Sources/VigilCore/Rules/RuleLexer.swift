/// The names a rule may use: transaction fields (built in), `attributes.NAME`, the configured features and the
/// named lists that exist.
public struct RuleSchema: Sendable {
    public let featureNames: [String]
    public let listNames: Set<String>
    let featureIndex: [String: Int]

    public init(featureNames: [String], listNames: Set<String>) {
        self.featureNames = featureNames
        self.listNames = listNames
        var index: [String: Int] = [:]
        for (position, name) in featureNames.enumerated() where index[name] == nil { index[name] = position }
        featureIndex = index
    }

    /// Transaction fields that are strings (null when the caller did not send them).
    static let stringFields: [String] = [
        "transaction_id", "currency", "card_id", "customer_id", "merchant_id", "device_id", "email", "ip_address",
        "merchant_category", "merchant_country", "card_country", "ip_country", "channel",
    ]

    /// Every name a rule may read, for suggestions.
    var knownNames: [String] { Self.stringFields + ["amount"] + featureNames }
}

/// Limits that bound the cost of parsing and evaluating one rule.
public struct RuleLimits: Sendable, Equatable {
    public var maxSourceBytes = 4096
    public var maxNodes = 500
    public var maxDepth = 32
    public var maxListLiterals = 1000

    public init() {}
}

/// A refused rule: where and why, with the source line and a caret under the column.
public struct RuleSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based.
    public var line: Int
    /// 1-based, in characters.
    public var column: Int
    public var message: String
    public var sourceLine: String
    public var caret: String

    public var description: String { "line \(line), column \(column): \(message)\n\(sourceLine)\n\(caret)" }

    init(_ message: String, at offset: Int, in source: [UInt8]) {
        let offset = max(0, min(offset, source.count))
        var line = 1
        var lineStart = 0
        for index in 0..<offset where source[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        var lineEnd = lineStart
        while lineEnd < source.count, source[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
        // Columns count characters: UTF-8 continuation bytes do not start one.
        let column = source[lineStart..<offset].reduce(1) { $0 + (($1 & 0xC0) == 0x80 ? 0 : 1) }
        self.line = line
        self.column = column
        self.message = message
        var text = String(decoding: source[lineStart..<lineEnd], as: UTF8.self)
        if text.hasSuffix("\r") { text.removeLast() }
        // Tabs keep their width so the caret lines up in a terminal.
        sourceLine = text
        caret = text.unicodeScalars.prefix(column - 1).map { $0 == "\t" ? "\t" : " " }.joined() + "^"
    }
}

/// One token of a rule, with the byte offset it starts at.
struct RuleToken: Equatable {
    enum Kind: Equatable {
        case number(Double)
        case string(String)
        case identifier(String)
        case keyword(Keyword)
        case symbol(Symbol)
        case end
    }

    enum Keyword: String {
        case and, or, not, `in`, `is`, null, `true`, `false`
    }

    enum Symbol: String {
        case leftParen = "(", rightParen = ")", comma = ","
        case equal = "=", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
        case plus = "+", minus = "-", times = "*", divide = "/"
    }

    var kind: Kind
    var offset: Int
}

/// Splits a rule into tokens; never reads past the end, never loops without consuming input.
struct RuleLexer {
    let source: [UInt8]
    var position = 0

    init(_ source: [UInt8]) { self.source = source }

    mutating func tokens(limit: Int) throws(RuleSyntaxError) -> [RuleToken] {
        var tokens: [RuleToken] = []
        while true {
            let token = try next()
            tokens.append(token)
            if token.kind == .end { return tokens }
            if tokens.count > limit {
                throw RuleSyntaxError("the rule has more than \(limit) tokens", at: token.offset, in: source)
            }
        }
    }

    private mutating func next() throws(RuleSyntaxError) -> RuleToken {
        skipSpaceAndComments()
        let start = position
        guard position < source.count else { return RuleToken(kind: .end, offset: start) }
        let byte = source[position]
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."):
            return RuleToken(kind: .number(try number()), offset: start)
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            return RuleToken(kind: .string(try string(quote: byte)), offset: start)
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"):
            let word = identifier()
            if let keyword = RuleToken.Keyword(rawValue: word.lowercased()), !word.contains(".") {
                return RuleToken(kind: .keyword(keyword), offset: start)
            }
            return RuleToken(kind: .identifier(word), offset: start)
        default:
            position += 1
            let following = position < source.count ? source[position] : 0
            let symbol: RuleToken.Symbol
            switch byte {
            case UInt8(ascii: "("): symbol = .leftParen
            case UInt8(ascii: ")"): symbol = .rightParen
            case UInt8(ascii: ","): symbol = .comma
            case UInt8(ascii: "+"): symbol = .plus
            case UInt8(ascii: "-"): symbol = .minus
            case UInt8(ascii: "*"): symbol = .times
            case UInt8(ascii: "/"): symbol = .divide
            case UInt8(ascii: "="):
                if following == UInt8(ascii: "=") { position += 1 }
                symbol = .equal
            case UInt8(ascii: "!") where following == UInt8(ascii: "="):
                position += 1
                symbol = .notEqual
            case UInt8(ascii: "<"):
                if following == UInt8(ascii: "=") {
                    position += 1
                    symbol = .lessOrEqual
                } else if following == UInt8(ascii: ">") {
                    position += 1
                    symbol = .notEqual
                } else {
                    symbol = .less
                }
            case UInt8(ascii: ">"):
                if following == UInt8(ascii: "=") {
                    position += 1
                    symbol = .greaterOrEqual
                } else {
                    symbol = .greater
                }
            default:
                position = start
                let shown = String(decoding: source[start..<min(source.count, start + 4)], as: UTF8.self).prefix(1)
                throw RuleSyntaxError("unexpected character '\(shown)'", at: start, in: source)
            }
            return RuleToken(kind: .symbol(symbol), offset: start)
        }
    }

    private mutating func skipSpaceAndComments() {
        while position < source.count {
            switch source[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                position += 1
            case UInt8(ascii: "#"):
                while position < source.count, source[position] != UInt8(ascii: "\n") { position += 1 }
            default:
                return
            }
        }
    }

    private func isDigit(_ index: Int) -> Bool {
        index < source.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(source[index])
    }

    private mutating func number() throws(RuleSyntaxError) -> Double {
        let start = position
        while isDigit(position) { position += 1 }
        if position < source.count, source[position] == UInt8(ascii: ".") {
            position += 1
            while isDigit(position) { position += 1 }
        }
        if position < source.count, source[position] == UInt8(ascii: "e") || source[position] == UInt8(ascii: "E") {
            var lookahead = position + 1
            if lookahead < source.count,
                source[lookahead] == UInt8(ascii: "+") || source[lookahead] == UInt8(ascii: "-")
            {
                lookahead += 1
            }
            if isDigit(lookahead) {
                position = lookahead
                while isDigit(position) { position += 1 }
            }
        }
        let text = String(decoding: source[start..<position], as: UTF8.self)
        guard position - start <= 64, let value = Double(text), value.isFinite else {
            throw RuleSyntaxError("'\(text.prefix(64))' is not a number", at: start, in: source)
        }
        return value
    }

    private mutating func string(quote: UInt8) throws(RuleSyntaxError) -> String {
        let start = position
        position += 1
        var bytes: [UInt8] = []
        while position < source.count {
            let byte = source[position]
            if byte == quote {
                position += 1
                return String(decoding: bytes, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\n") { break }
            if byte == UInt8(ascii: "\\") {
                guard position + 1 < source.count else { break }
                let escaped = source[position + 1]
                switch escaped {
                case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): bytes.append(escaped)
                case UInt8(ascii: "n"): bytes.append(UInt8(ascii: "\n"))
                case UInt8(ascii: "t"): bytes.append(UInt8(ascii: "\t"))
                default:
                    throw RuleSyntaxError(
                        "unknown escape '\\\(String(decoding: [escaped], as: UTF8.self))' (use \\\\, \\', \\\", \\n or \\t)",
                        at: position, in: source)
                }
                position += 2
                continue
            }
            bytes.append(byte)
            position += 1
        }
        throw RuleSyntaxError("this string is not closed on its line", at: start, in: source)
    }

    private mutating func identifier() -> String {
        let start = position
        while position < source.count {
            let byte = source[position]
            let isWord =
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
            let isDot =
                byte == UInt8(ascii: ".") && position + 1 < source.count
                && ((UInt8(ascii: "a")...UInt8(ascii: "z")).contains(source[position + 1])
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(source[position + 1])
                    || source[position + 1] == UInt8(ascii: "_"))
            guard isWord || isDot else { break }
            position += 1
        }
        return String(decoding: source[start..<position], as: UTF8.self)
    }
}
