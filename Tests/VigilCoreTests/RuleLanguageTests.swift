import Testing

@testable import VigilCore

@Suite("Rule language: parsing, types, null semantics, errors, limits and fuzzing")
struct RuleLanguageTests {
    static let schema = RuleSchema(
        featureNames: ["amount", "log_amount", "is_night", "card_count_1h"], listNames: ["stolen", "vip_emails"])
    static let lists = RuleLists(["stolen": ["card_bad"], "vip_emails": ["boss@example.com"]])

    static func payment(
        amount: Double = 120, card: String? = "card_1", email: String? = "Alice@Example.com", country: String? = "NG",
        channel: Channel? = .ecommerce, attributes: [Attribute] = []
    ) -> Transaction {
        Transaction(
            transactionID: "t-1", occurredAt: "2026-11-22T03:00:00Z", occurredAtMicros: 0, amount: amount,
            currency: "EUR", cardID: card, email: email, merchantCategory: "7995", merchantCountry: country,
            cardCountry: "DE", channel: channel, attributes: attributes)
    }

    /// Features in schema order: amount, log_amount, is_night, card_count_1h.
    static let features: [Double] = [120, 4.8, 1, .nan]

    func check(
        _ source: String, _ expected: Bool, _ transaction: Transaction = payment(), features: [Double] = features,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let expression = try RuleExpression.compile(source, schema: Self.schema)
        #expect(
            expression.matches(transaction, features: features, lists: Self.lists) == expected, "\(source)",
            sourceLocation: sourceLocation)
    }

    @Test("comparisons, arithmetic and precedence")
    func operators() throws {
        try check("amount > 100", true)
        try check("amount >= 120 and amount <= 120", true)
        try check("amount = 120", true)
        try check("amount == 120", true)
        try check("amount != 120", false)
        try check("amount <> 121", true)
        try check("amount < 100 or amount > 110", true)
        try check("amount * 2 - 40 = 200", true)
        try check("amount / 4 + 1 = 31", true)
        try check("-amount < 0", true)
        try check("1 + 2 * 3 = 7", true)
        try check("(1 + 2) * 3 = 9", true)
        // and binds tighter than or; not binds looser than comparison
        try check("amount > 1000 and amount > 0 or amount = 120", true)
        try check("amount > 1000 and (amount > 0 or amount = 120)", false)
        try check("not amount > 1000", true)
        try check("NOT amount > 1000 AND channel = 'ecommerce'", true)
        try check("merchant_country = \"NG\"", true)
        try check("merchant_country < 'NZ'", true)
        try check("log_amount > 4.5 and is_night = 1", true)
        try check("1e2 < amount", true)
        try check("# a comment\namount > 1 # trailing\n", true)
    }

    @Test("in-lists, named lists and string functions")
    func membership() throws {
        try check("merchant_country in ('NG', 'GH')", true)
        try check("merchant_country not in ('NG', 'GH')", false)
        try check("amount in (1, 2, 120)", true)
        try check("amount in (-5, 3)", false)
        try check("card_id in list(\"stolen\")", false)
        try check("card_id in list(\"stolen\")", true, Self.payment(card: "card_bad"))
        try check("card_id not in list('stolen')", true)
        try check("lower(email) in list('vip_emails')", false)
        try check("starts_with(lower(email), 'alice@')", true)
        try check("ends_with(email, '.com')", true)
        try check("contains(upper(email), 'EXAMPLE')", true)
        try check("length(merchant_country) = 2", true)
        try check("STARTS_WITH(email, 'Al')", true)
        try check("email = 'it\\'s'", false)
        try check("email = 'tab\\tnew\\nline'", false, Self.payment())
    }

    @Test("null semantics: missing values make comparisons false; is null tests them")
    func nulls() throws {
        let bare = Self.payment(card: nil, email: nil, country: nil, channel: nil)
        try check("card_id = 'x'", false, bare)
        try check("card_id != 'x'", false, bare)
        try check("not card_id = 'x'", true, bare)
        try check("card_id is null", true, bare)
        try check("card_id is not null", false, bare)
        try check("card_id in list('stolen')", false, bare)
        try check("card_id not in list('stolen')", false, bare)
        try check("merchant_country not in ('NG')", false, bare)
        try check("starts_with(email, 'a')", false, bare)
        try check("channel is null", true, bare)
        try check("card_count_1h > 0", false)
        try check("card_count_1h <= 0", false)
        try check("card_count_1h != 0", false)
        try check("card_count_1h is null", true)
        try check("card_count_1h + 1 > 0", false)
        try check("amount / 0 is null", true)
        try check("amount / 0 > 0", false)
    }

    @Test("attributes are typed at run time: a value of another type makes the comparison false")
    func attributes() throws {
        let payment = Self.payment(attributes: [
            Attribute(name: "age", value: .number(3)), Attribute(name: "vip", value: .bool(true)),
            Attribute(name: "tier", value: .string("gold")), Attribute(name: "gone", value: .null),
        ])
        try check("attributes.age < 7", true, payment)
        try check("attributes.age + 1 = 4", true, payment)
        try check("attributes.vip = true", true, payment)
        try check("attributes.vip", true, payment)
        try check("attributes.vip and amount > 1", true, payment)
        try check("attributes.tier in ('gold', 'silver')", true, payment)
        try check("attributes.tier > 5", false, payment)
        try check("attributes.tier = 5", false, payment)
        try check("attributes.tier != 5", false, payment)
        try check("attributes.gone is null", true, payment)
        try check("attributes.missing is null", true, payment)
        try check("attributes.age", false, payment)
        try check("starts_with(attributes.tier, 'go')", true, payment)
        try check("attributes.age = attributes.age", true, payment)
    }

    @Test("names, lists and attributes read are reported")
    func references() throws {
        let expression = try RuleExpression.compile(
            "card_id in list('stolen') and amount > 1 and attributes.x = 1 and log_amount > 0 and amount < 9",
            schema: Self.schema)
        #expect(expression.referencedNames == ["amount", "attributes.x", "card_id", "log_amount"])
        #expect(expression.referencedLists == ["stolen"])
    }

    func refused(
        _ source: String, line: Int, column: Int, _ mention: String, limits: RuleLimits = .init(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            _ = try RuleExpression.compile(source, schema: Self.schema, limits: limits)
            Issue.record("\(source) compiled", sourceLocation: sourceLocation)
        } catch {
            #expect(error.line == line, "\(source): \(error)", sourceLocation: sourceLocation)
            #expect(error.column == column, "\(source): \(error)", sourceLocation: sourceLocation)
            #expect(error.message.contains(mention), "\(source): \(error)", sourceLocation: sourceLocation)
            #expect(error.caret.count == column && error.caret.hasSuffix("^"), sourceLocation: sourceLocation)
            #expect(error.description.hasPrefix("line \(line), column \(column): "), sourceLocation: sourceLocation)
        }
    }

    @Test("errors name line, column and why, with a caret; typos get a suggestion")
    func errors() {
        refused("amount > 100 and\n  merchant_contry = 'NG'", line: 2, column: 3, "did you mean 'merchant_country'?")
        refused("amount >", line: 1, column: 9, "expected a value")
        refused("amount > 1 amount", line: 1, column: 12, "expected 'and', 'or'")
        refused("(amount > 1", line: 1, column: 12, "expected ')'")
        refused("card_id in list('stolen_cards')", line: 1, column: 17, "no list named \"stolen_cards\"")
        refused("card_id in list('stole')", line: 1, column: 17, "did you mean \"stolen\"")
        refused("startswith(email, 'a')", line: 1, column: 1, "did you mean starts_with?")
        refused("lower(email, 'a') = 'b'", line: 1, column: 1, "takes 1 argument")
        refused("amount > 'ten'", line: 1, column: 10, "cannot compare a number with a string")
        refused("email + 1 > 2", line: 1, column: 1, "needs numbers")
        refused("amount and email = 'x'", line: 1, column: 1, "needs conditions")
        refused("amount + 1", line: 1, column: 1, "must be a condition")
        refused("  attributes.x + 1", line: 1, column: 3, "must be a condition")
        refused("email = null", line: 1, column: 9, "is null")
        refused("email = 'unclosed", line: 1, column: 9, "not closed")
        refused("amount ~ 1", line: 1, column: 8, "unexpected character")
        refused("merchant_country in ('NG', 2)", line: 1, column: 28, "must hold strings")
        refused("", line: 1, column: 1, "empty")
        refused("é = 'x'", line: 1, column: 1, "unexpected character")
        refused("merchant_country = 'ü' and\tfoo = 1", line: 1, column: 28, "unknown name 'foo'")
    }

    func refusedByLimit(
        _ source: String, _ mention: String, limits: RuleLimits, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            _ = try RuleExpression.compile(source, schema: Self.schema, limits: limits)
            Issue.record("compiled", sourceLocation: sourceLocation)
        } catch {
            #expect(error.message.contains(mention), "\(error.message)", sourceLocation: sourceLocation)
        }
    }

    @Test("limits refuse oversized, over-deep and over-long rules without overflowing the stack")
    func limits() {
        refusedByLimit(String(repeating: "(", count: 5_000) + "amount > 1", "bytes long", limits: RuleLimits())
        var large = RuleLimits()
        large.maxSourceBytes = 1_000_000
        large.maxNodes = 100_000
        refusedByLimit(String(repeating: "(", count: 100_000) + "amount > 1", "nested more than 32", limits: large)
        refusedByLimit(String(repeating: "not ", count: 100_000) + "amount > 1", "nested more than 32", limits: large)
        refusedByLimit(String(repeating: "-", count: 100_000) + "amount > 1", "nested more than 32", limits: large)
        refusedByLimit(
            "lower(" + String(repeating: "lower(", count: 50_000) + "email", "nested more than 32", limits: large)
        var parts = RuleLimits()
        parts.maxSourceBytes = 1_000_000
        refusedByLimit(
            "amount" + String(repeating: " + amount", count: 300) + " > 1", "more than 500 parts", limits: parts)
        refusedByLimit(
            "amount" + String(repeating: " + amount", count: 20_000) + " > 1", "more than 2000 tokens", limits: parts)
        parts.maxNodes = 10_000
        refusedByLimit(
            "amount in (" + (0..<1001).map(String.init).joined(separator: ",") + ")", "more than 1000 values",
            limits: parts)
        // Just under the limits compiles and evaluates (a deep but legal rule).
        let deep = String(repeating: "(", count: 30) + "amount > 1" + String(repeating: ")", count: 30)
        #expect((try? RuleExpression.compile(deep, schema: Self.schema)) != nil)
    }

    static let corpus = [
        "amount > 500 and merchant_country in ('NG', 'GH')",
        "card_id in list(\"stolen\") or (amount > 1000 and is_night = 1)",
        "not starts_with(lower(email), 'test') and channel = 'ecommerce'",
        "attributes.account_age_days < 7 and amount / 2 >= 100",
        "card_count_1h is not null and card_count_1h > 5",
        "merchant_category in ('7995', '4829') and card_country != merchant_country",
        "length(email) > 30 or ends_with(email, '.ru')",
        "-amount + 3 * log_amount <= 0 or attributes.vip = true",
        "email not in list('vip_emails') and upper(currency) = 'EUR'",
        "ip_country is null and device_id is null and amount >= 250.5",
    ]

    @Test("fuzz: random bytes and mutated rules never crash or hang the compiler; what compiles evaluates")
    func fuzz() {
        var random = SplitMix64(seed: 0x5EED_0001)
        let alphabet = Array("ab_.()'\"=<>!+-*/, 0123456789#\n\téandornotinisnulllist".utf8)
        let tokens = [
            "(", ")", "and", "or", "not", "in", "is", "null", "list(", "'x'", "1", "amount", ",", "=", "<", "-", "*",
            "lower(", "attributes.y", "\"", "'",
        ]
        let transactions = [
            Self.payment(), Self.payment(card: nil, email: nil, country: nil, channel: nil),
            Self.payment(attributes: [Attribute(name: "y", value: .string("x"))]),
        ]
        var compiled = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                let length = Int(random.next() % 80)
                bytes = (0..<length).map { _ in
                    random.next() % 4 == 0
                        ? UInt8(truncatingIfNeeded: random.next())
                        : alphabet[Int(random.next() % UInt64(alphabet.count))]
                }
            } else {
                bytes = Array(Self.corpus[Int(random.next() % UInt64(Self.corpus.count))].utf8)
                for _ in 0...(random.next() % 4) {
                    let position = bytes.isEmpty ? 0 : Int(random.next() % UInt64(bytes.count))
                    switch random.next() % 5 {
                    case 0 where !bytes.isEmpty: bytes.remove(at: position)
                    case 1: bytes.insert(alphabet[Int(random.next() % UInt64(alphabet.count))], at: position)
                    case 2:
                        let token = tokens[Int(random.next() % UInt64(tokens.count))]
                        bytes.insert(contentsOf: Array(" \(token) ".utf8), at: position)
                    case 3 where !bytes.isEmpty:
                        let end = min(bytes.count, position + Int(random.next() % 12))
                        bytes.insert(contentsOf: Array(bytes[position..<end]), at: position)
                    default:
                        if !bytes.isEmpty { bytes[position] = UInt8(truncatingIfNeeded: random.next()) }
                    }
                }
            }
            let source = String(decoding: bytes, as: UTF8.self)
            if let expression = try? RuleExpression.compile(source, schema: Self.schema) {
                compiled += 1
                for transaction in transactions {
                    _ = expression.matches(transaction, features: Self.features, lists: Self.lists)
                    _ = expression.matches(transaction, features: [], lists: .empty)
                }
            }
        }
        // The mutations keep a fair share of rules valid, so evaluation is exercised too.
        #expect(compiled > 200, "only \(compiled) of 20000 inputs compiled")
    }

    @Test("every corpus rule compiles")
    func corpusCompiles() throws {
        let schema = RuleSchema(featureNames: Self.schema.featureNames, listNames: Self.schema.listNames)
        for source in Self.corpus {
            _ = try RuleExpression.compile(source, schema: schema)
        }
    }
}
