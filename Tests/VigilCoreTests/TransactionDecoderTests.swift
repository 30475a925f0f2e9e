import Testing

@testable import VigilCore

@Suite("Transaction decoder")
struct TransactionDecoderTests {
    /// The members of a valid body with every field, in contract order, as raw JSON values.
    static let fullMembers: [(String, String)] = [
        ("transaction_id", #""tx_1001""#),
        ("occurred_at", #""2026-11-22T05:58:05.123456+01:00""#),
        ("amount", "42.9"),
        ("currency", #""EUR""#),
        ("card_id", #""card_8f3a""#),
        ("customer_id", #""cust_1029""#),
        ("merchant_id", #""m_bakery_17""#),
        ("device_id", #""dev_a91f""#),
        ("email", #""buyer@example.com""#),
        ("ip_address", #""203.0.113.54""#),
        ("merchant_category", #""5462""#),
        ("merchant_country", #""FR""#),
        ("card_country", #""US""#),
        ("ip_country", #""NG""#),
        ("channel", #""contactless""#),
        ("attributes", #"{"tid":"T-0042","pin_verified":true,"account_age_days":2,"promo_code":null}"#),
    ]

    static let optionalStringFields = [
        "card_id", "customer_id", "merchant_id", "device_id", "email", "ip_address", "merchant_category",
        "merchant_country", "card_country", "ip_country", "channel",
    ]

    /// A full valid body with some members replaced (a nil value removes the member) and others appended.
    static func body(_ changes: [String: String?] = [:], adding extra: [(String, String)] = []) -> String {
        var members: [String] = []
        for (name, value) in fullMembers {
            if let change = changes[name] {
                if let change { members.append("\"\(name)\":\(change)") }
            } else {
                members.append("\"\(name)\":\(value)")
            }
        }
        for (name, value) in extra { members.append("\"\(name)\":\(value)") }
        return "{" + members.joined(separator: ",") + "}"
    }

    typealias Decoded = Result<Transaction, TransactionDecodingError>

    static func decode(_ text: String, limits: TransactionLimits = .init()) -> Decoded {
        TransactionDecoder.decode(Array(text.utf8), limits: limits)
    }

    /// The errors for a body, or none when it decodes.
    static func errors(_ text: String, limits: TransactionLimits = .init()) -> [FieldError] {
        errors(Array(text.utf8), limits: limits)
    }

    static func errors(_ bytes: [UInt8], limits: TransactionLimits = .init()) -> [FieldError] {
        switch TransactionDecoder.decode(bytes, limits: limits) {
        case .success: return []
        case .failure(let failure): return failure.errors
        }
    }

    static func transaction(_ text: String) throws -> Transaction {
        try decode(text).get()
    }

    /// Asserts that the body is refused with exactly one error at `path` whose message contains `fragment`.
    static func expectOneError(
        _ text: String, at path: String, saying fragment: String = "", sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let found = errors(text)
        #expect(found.count == 1, "\(found)", sourceLocation: sourceLocation)
        #expect(found.first?.path == path, "\(found)", sourceLocation: sourceLocation)
        #expect(found.first?.message.contains(fragment) == true, "\(found)", sourceLocation: sourceLocation)
    }

    // MARK: - Valid bodies

    @Test("a body with every field decodes to the transaction it describes")
    func decodesFullBody() throws {
        // Given a valid body with every field
        let body = Self.body()
        // When it is decoded
        let transaction = try Self.transaction(body)
        // Then every field is set, the timestamp is kept as sent and the attributes are sorted by name
        #expect(transaction.transactionID == "tx_1001")
        #expect(transaction.occurredAt == "2026-11-22T05:58:05.123456+01:00")
        #expect(transaction.occurredAtMicros == 1_795_323_485_123_456)
        #expect(transaction.amount == 42.9)
        #expect(transaction.currency == "EUR")
        #expect(transaction.cardID == "card_8f3a")
        #expect(transaction.customerID == "cust_1029")
        #expect(transaction.merchantID == "m_bakery_17")
        #expect(transaction.deviceID == "dev_a91f")
        #expect(transaction.email == "buyer@example.com")
        #expect(transaction.ipAddress == "203.0.113.54")
        #expect(transaction.merchantCategory == "5462")
        #expect(transaction.merchantCountry == "FR")
        #expect(transaction.cardCountry == "US")
        #expect(transaction.ipCountry == "NG")
        #expect(transaction.channel == .contactless)
        #expect(
            transaction.attributes == [
                Attribute(name: "account_age_days", value: .number(2)),
                Attribute(name: "pin_verified", value: .bool(true)),
                Attribute(name: "promo_code", value: .null),
                Attribute(name: "tid", value: .string("T-0042")),
            ])
    }

    @Test("a body with only the required fields decodes with every optional field absent")
    func decodesMinimalBody() throws {
        // Given only the required fields, with whitespace around every token
        let body = """
             {
              "transaction_id" : "tx_min",\t"occurred_at":"2025-03-14T09:26:53Z",
              "amount": 12.5, "currency": "EUR"
            }\r\n
            """
        // When it is decoded
        let transaction = try Self.transaction(body)
        // Then the optional fields are absent
        #expect(
            transaction
                == Transaction(
                    transactionID: "tx_min", occurredAt: "2025-03-14T09:26:53Z",
                    occurredAtMicros: 1_741_944_413_000_000,
                    amount: 12.5, currency: "EUR"))
    }

    @Test("null in an optional field means absent", arguments: optionalStringFields + ["attributes"])
    func nullIsAbsent(field: String) throws {
        // Given a full body with one optional field null
        let body = Self.body([field: "null"])
        // When it is decoded
        let transaction = try Self.transaction(body)
        // Then that field is absent and the others are set
        var expected = try Self.transaction(Self.body([field: nil]))
        #expect(transaction == expected)
        expected = try Self.transaction(Self.body())
        #expect(transaction != expected)
    }

    @Test("keys may be sent in any order")
    func anyOrder() throws {
        // Given the full body's members in reverse order
        let members = Self.fullMembers.reversed().map { "\"\($0.0)\":\($0.1)" }
        // When it is decoded
        let transaction = try Self.transaction("{" + members.joined(separator: ",") + "}")
        // Then it equals the body in contract order
        #expect(transaction == (try Self.transaction(Self.body())))
    }

    // MARK: - Not JSON, not an object

    @Test(
        "a body that is not a JSON object has one error at $",
        arguments: ["[]", "[1,2]", #""x""#, "12", "null", "true"])
    func notAnObject(body: String) {
        // Given valid JSON that is not an object
        // When it is decoded
        // Then there is one error at $ saying an object was expected
        Self.expectOneError(body, at: "$", saying: "object")
    }

    @Test("an empty or blank body has one error at $", arguments: ["", "   ", "\n\t\r "])
    func emptyBody(body: String) {
        // Given no JSON at all
        // When it is decoded
        // Then there is one error at $
        Self.expectOneError(body, at: "$", saying: "object")
    }

    @Test(
        "malformed JSON has one error at $ with the byte offset",
        arguments: [
            "{", #"{"transaction_id""#, #"{"transaction_id":}"#, #"{"amount":1,}"#, "{,}", #"{"a":1 "b":2}"#,
            #"{"amount":tru}"#, #"{'amount':1}"#, #"{"amount":01}"#, #"{"amount":1.}"#, #"{"amount":.5}"#,
            #"{"amount":-}"#, #"{"amount":1e}"#, #"{"amount":+1}"#, #"{"card_id":"\x"}"#, #"{"card_id":"\u12"}"#,
            #"{"card_id":"\u12G4"}"#, #"{"amount" 1}"#, #"{"amount":1]"#, #"{"foo":[1,2}"#, #"{"foo":{"a" 1}}"#,
            #"{"foo":[1,]}"#, #"{"card_id":"abc}"#, #"{"amount":1}x"#, #"{"amount":1}{}"#, "{}}", #"{"amount":nul}"#,
            #"{"amount":1.5e+}"#, #"{"amount":12ab}"#, #"{"amount":0x10}"#, "{\"card_id\":\"a\u{1}b\"}",
            "{\"card_id\":\"line\nbreak\"}",
        ])
    func malformed(body: String) {
        // Given a body that is not valid JSON
        // When it is decoded
        let found = Self.errors(body)
        // Then there is exactly one error, at $, saying what and where
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.path == "$")
        #expect(found.first?.message.contains("malformed JSON") == true, "\(found)")
        #expect(found.first?.message.contains("at byte offset") == true, "\(found)")
    }

    @Test("the malformed-JSON message gives the offset of the offending byte")
    func malformedOffset() {
        // Given a trailing comma at byte 12
        let body = #"{"amount":1,}"#
        // When it is decoded
        // Then the message names that offset
        Self.expectOneError(body, at: "$", saying: "at byte offset 12")
    }

    @Test("trailing data after the object is malformed even when the object is valid")
    func trailingData() {
        // Given a valid body followed by more JSON
        let body = Self.body() + " []"
        // When it is decoded
        // Then it is refused as malformed
        Self.expectOneError(body, at: "$", saying: "malformed JSON")
    }

    // MARK: - Unknown, duplicate and missing fields

    @Test("an unknown field is refused at its path and its value is skipped")
    func unknownField() {
        // Given a valid body with an unknown member whose value is nested
        let body = Self.body(adding: [("foo", #"{"deep":[1,-2.5e3,{"x":null,"y":"\u00e9\"]"},[],{}],"z":true}"#)])
        // When it is decoded
        // Then the only error is the unknown field
        Self.expectOneError(body, at: "$.foo", saying: "unknown field")
    }

    @Test("an unknown field whose name is not an identifier gets a bracketed path")
    func unknownFieldBracketPath() {
        // Given an unknown member named with a space and a quote
        let body = Self.body(adding: [("odd name'", "1")])
        // When it is decoded
        // Then its path quotes the name
        Self.expectOneError(body, at: #"$['odd name\'']"#, saying: "unknown field")
    }

    @Test(
        "a repeated field is refused as a duplicate", arguments: ["transaction_id", "amount", "channel", "attributes"])
    func duplicateField(field: String) throws {
        // Given a valid body with one field sent twice
        let value = try #require(Self.fullMembers.first { $0.0 == field }?.1)
        let body = Self.body(adding: [(field, value)])
        // When it is decoded
        // Then the error names the field as a duplicate
        Self.expectOneError(body, at: "$.\(field)", saying: "duplicate field")
    }

    @Test("a key spelled with escapes is the same field")
    func escapedKey() throws {
        // Given the amount key written with a \u escape
        let body = Self.body(["amount": nil], adding: [(#"amo\u0075nt"#, "7")])
        // When it is decoded
        let transaction = try Self.transaction(body)
        // Then it is the amount
        #expect(transaction.amount == 7)
    }

    @Test(
        "missing required fields are each refused", arguments: ["transaction_id", "occurred_at", "amount", "currency"])
    func missingRequired(field: String) {
        // Given a body without one required field
        let body = Self.body([field: nil])
        // When it is decoded
        // Then that field is reported as required
        Self.expectOneError(body, at: "$.\(field)", saying: "required")
    }

    @Test("an empty object reports all four required fields")
    func emptyObject() {
        // Given {}
        // When it is decoded
        let found = Self.errors("{}")
        // Then each required field is reported, in contract order
        #expect(found.map(\.path) == ["$.transaction_id", "$.occurred_at", "$.amount", "$.currency"])
        #expect(found.allSatisfy { $0.message.contains("required") })
    }

    @Test("every bad field is reported, not just the first")
    func collectsEveryError() {
        // Given a body with many bad fields
        let body = Self.body(
            [
                "transaction_id": #""""#, "occurred_at": #""yesterday""#, "amount": "-1", "currency": #""eur""#,
                "card_id": "12", "email": #""nobody""#, "ip_address": #""1.2.3""#, "merchant_category": #""54""#,
                "merchant_country": #""fr""#, "channel": #""web""#, "attributes": #"{"a-b":1,"n":[1]}"#,
            ], adding: [("foo", "1")])
        // When it is decoded
        let found = Self.errors(body)
        // Then every one of them is reported at its path
        #expect(
            found.map(\.path) == [
                "$.transaction_id", "$.occurred_at", "$.amount", "$.currency", "$.card_id", "$.email",
                "$.ip_address", "$.merchant_category", "$.merchant_country", "$.channel", "$.attributes['a-b']",
                "$.attributes.n", "$.foo",
            ])
    }

    // MARK: - NaN, Infinity and number edges

    @Test(
        "bare NaN and Infinity are refused at the field that holds them", arguments: ["NaN", "Infinity", "-Infinity"])
    func nonFiniteLiteral(literal: String) {
        // Given an amount written as a bare non-finite literal, and a bad currency
        let body = Self.body(["amount": literal, "currency": #""XYZ""#])
        // When it is decoded
        let found = Self.errors(body)
        // Then the amount error names the field and decoding went on to the currency
        #expect(
            found == [
                FieldError(path: "$.amount", message: "NaN and Infinity are not allowed"),
                FieldError(path: "$.currency", message: found.last?.message ?? ""),
            ])
    }

    @Test(
        "bare NaN and Infinity are refused in any value position",
        arguments: [
            ("card_id", "NaN", "$.card_id"), ("transaction_id", "Infinity", "$.transaction_id"),
            ("attributes", #"{"x":NaN}"#, "$.attributes.x"), ("attributes", "-Infinity", "$.attributes"),
        ])
    func nonFiniteAnywhere(field: String, value: String, path: String) {
        // Given a non-finite literal in a value position
        let body = Self.body([field: value])
        // When it is decoded
        // Then the error is at that value's path
        Self.expectOneError(body, at: path, saying: "NaN and Infinity are not allowed")
    }

    @Test("NaN nested inside a skipped value stops decoding with an error at the field")
    func nonFiniteNested() {
        // Given an unknown field whose array holds NaN
        let body = Self.body(adding: [("foo", "[1,NaN]")])
        // When it is decoded
        let found = Self.errors(body)
        // Then the errors name the field: unknown, and NaN
        #expect(found.map(\.path) == ["$.foo", "$.foo"])
        #expect(found.last?.message == "NaN and Infinity are not allowed")
    }

    @Test("a number too large for a Double is refused as not finite", arguments: ["1e999", "-1e999", "1E+400"])
    func overflow(number: String) {
        // Given an amount that overflows to infinity
        // When it is decoded
        // Then the amount must be finite
        Self.expectOneError(Self.body(["amount": number]), at: "$.amount", saying: "must be a finite number")
        Self.expectOneError(
            Self.body(["attributes": #"{"big":\#(number)}"#]), at: "$.attributes.big", saying: "must be a finite number"
        )
    }

    @Test(
        "valid amounts on the edges are accepted exactly",
        arguments: [
            ("0", 0.0), ("-0", 0.0), ("0.0", 0.0), ("1e12", 1e12), ("1000000000000", 1e12),
            ("999999999999.99", 999_999_999_999.99),
            ("12.50", 12.5), ("1E2", 100), ("1e-400", 0), ("4.9e-324", .leastNonzeroMagnitude), ("0.1", 0.1),
            ("9007199254740993e-4", 900_719_925_474.0993),
        ])
    func amountEdges(text: String, value: Double) throws {
        // Given an amount on an edge of the grammar or the range
        // When it is decoded
        let transaction = try Self.transaction(Self.body(["amount": text]))
        // Then it is the correctly rounded value
        #expect(transaction.amount == value)
    }

    @Test(
        "amounts that are negative, too large or not numbers are refused",
        arguments: [
            ("-0.01", "must not be negative"), ("1000000000000.0001", "must not be greater than 1000000000000"),
            ("1e13", "must not be greater than"), (#""12.5""#, "must be a JSON number, not a string"),
            ("null", "must be a number, got null"), ("true", "must be a number, got a boolean"),
            ("[1]", "must be a number, got an array"), (#"{"v":1}"#, "must be a number, got an object"),
        ])
    func badAmount(text: String, message: String) {
        // Given a bad amount
        // When it is decoded
        // Then the amount error explains it
        Self.expectOneError(Self.body(["amount": text]), at: "$.amount", saying: message)
    }

    @Test("the amount limit comes from the limits")
    func amountLimit() {
        // Given a lower maximum amount
        var limits = TransactionLimits()
        limits.maxAmount = 100
        // When an amount above it is decoded
        let found = Self.errors(Self.body(["amount": "100.5"]), limits: limits)
        // Then it is refused
        #expect(found == [FieldError(path: "$.amount", message: "must not be greater than 100")])
    }

    // MARK: - Required string fields

    @Test(
        "transaction_id must be 1 to 128 characters without control characters",
        arguments: [
            (#""""#, "must be 1 to 128 characters"),
            ("\"\(String(repeating: "x", count: 129))\"", "must be 1 to 128 characters"),
            (#""tx\u0001""#, "control characters"), (#""tx\n""#, "control characters"),
            ("\"tx\u{7F}\"", "control characters"), ("\"tx\u{85}\"", "control characters"),
            (#""tx\u009f""#, "control characters"), ("12", "must be a string, got a number"),
            ("null", "must be a string, got null"),
        ])
    func badTransactionID(text: String, message: String) {
        // Given a bad transaction_id
        // When it is decoded
        // Then the error explains it
        Self.expectOneError(Self.body(["transaction_id": text]), at: "$.transaction_id", saying: message)
    }

    @Test("transaction_id length counts Unicode scalars, not bytes")
    func transactionIDLength() throws {
        // Given 128 two-byte characters, and 128 four-byte ones
        let twoByte = String(repeating: "é", count: 128)
        let fourByte = String(repeating: "😀", count: 128)
        // When they are decoded
        // Then both are accepted
        #expect(try Self.transaction(Self.body(["transaction_id": "\"\(twoByte)\""])).transactionID == twoByte)
        #expect(try Self.transaction(Self.body(["transaction_id": "\"\(fourByte)\""])).transactionID == fourByte)
    }

    @Test(
        "occurred_at must be an RFC 3339 timestamp",
        arguments: [
            #""2026-11-22""#, #""2026-11-22 05:58:05Z""#, #""2026-02-30T00:00:00Z""#, #""2026-11-22T05:58:60Z""#,
            #""2026-11-22T05:58:05+24:00""#, #""0000-01-01T00:00:00Z""#, #""2026-11-22T05:58:05.1234567890Z""#,
            "1795327085",
            "null",
        ])
    func badOccurredAt(text: String) {
        // Given a bad occurred_at
        // When it is decoded
        // Then the error is at occurred_at
        Self.expectOneError(Self.body(["occurred_at": text]), at: "$.occurred_at")
    }

    @Test("occurred_at may be written with escapes and is kept as decoded")
    func occurredAtEscaped() throws {
        // Given a timestamp with an escaped T
        let transaction = try Self.transaction(Self.body(["occurred_at": #""2026-11-22\u005405:58:05Z""#]))
        // When it is decoded
        // Then it parses like the plain text
        #expect(transaction.occurredAt == "2026-11-22T05:58:05Z")
        #expect(transaction.occurredAtMicros == 1_795_327_085_000_000)
    }

    @Test(
        "currency must be an uppercase ISO 4217 code",
        arguments: [#""eur""#, #""Eur""#, #""XYZ""#, #""EURO""#, #""""#, "978"])
    func badCurrency(text: String) {
        // Given a bad currency
        // When it is decoded
        let found = Self.errors(Self.body(["currency": text]))
        // Then the error is at currency, and for a string says codes are uppercase ISO 4217
        #expect(found.count == 1)
        #expect(found.first?.path == "$.currency")
        if text.hasPrefix("\"") {
            #expect(found.first?.message.contains("uppercase") == true)
            #expect(found.first?.message.contains("ISO 4217") == true)
        }
    }

    @Test("current ISO 4217 codes are accepted", arguments: ["EUR", "USD", "JPY", "XCG", "ZWG", "XAD", "CHW"])
    func currencies(code: String) throws {
        // Given a current currency code
        // When it is decoded
        // Then it is accepted
        #expect(try Self.transaction(Self.body(["currency": "\"\(code)\""])).currency == code)
    }

    // MARK: - Optional string fields

    @Test(
        "optional identifiers must be 1 to 256 characters",
        arguments: ["card_id", "customer_id", "merchant_id", "device_id"])
    func entityKeys(field: String) throws {
        // Given an identifier of the maximum length, an empty one, one too long, one with a control and a number
        let longest = String(repeating: "k", count: 256)
        // When they are decoded
        // Then only the first is accepted
        #expect(Self.errors(Self.body([field: "\"\(longest)\""])).isEmpty)
        Self.expectOneError(Self.body([field: #""""#]), at: "$.\(field)", saying: "1 to 256 characters")
        Self.expectOneError(Self.body([field: "\"\(longest)k\""]), at: "$.\(field)", saying: "1 to 256 characters")
        Self.expectOneError(Self.body([field: #""a\tb""#]), at: "$.\(field)", saying: "control characters")
        Self.expectOneError(Self.body([field: "7"]), at: "$.\(field)", saying: "must be a string or null")
        Self.expectOneError(Self.body([field: "false"]), at: "$.\(field)", saying: "must be a string or null")
    }

    @Test("email must look like local@domain", arguments: ["a@b", "first.last+tag@example.co.uk", "ü@例え.jp"])
    func validEmail(email: String) throws {
        // Given a plausible email
        // When it is decoded
        // Then it is accepted
        #expect(try Self.transaction(Self.body(["email": "\"\(email)\""])).email == email)
    }

    @Test(
        "email without exactly one @ with text on both sides, or longer than 254, is refused",
        arguments: ["ab", "@b", "a@", "a@b@c", "@", String(repeating: "a", count: 250) + "@b.cd"])
    func badEmail(email: String) {
        // Given a bad email
        // When it is decoded
        // Then the error is at email
        Self.expectOneError(Self.body(["email": "\"\(email)\""]), at: "$.email", saying: "local@domain")
    }

    @Test(
        "valid IPv4 and IPv6 addresses are accepted",
        arguments: [
            "0.0.0.0", "203.0.113.54", "255.255.255.255", "::", "::1", "1::", "2001:db8::1", "fe80::1:2:3:4",
            "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "::ffff:192.0.2.128", "64:ff9b::192.0.2.33",
            "1:2:3:4:5:6:7::", "1:2:3:4:5:6:1.2.3.4", "ABCD:EF01:2345:6789:ABCD:EF01:2345:6789",
        ])
    func validIP(address: String) throws {
        // Given a valid address
        // When it is decoded
        // Then it is accepted
        #expect(try Self.transaction(Self.body(["ip_address": "\"\(address)\""])).ipAddress == address)
    }

    @Test(
        "invalid IP addresses are refused",
        arguments: [
            "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.", ".1.2.3", "1..2.3", "1.2.3.4 ", "a.b.c.d",
            ":", ":::", "1:2", "1:::2", "::1::", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "g::1",
            "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3", "fe80::1%eth0", ":1::", "1::2:", "localhost",
        ])
    func badIP(address: String) {
        // Given an invalid address
        // When it is decoded
        // Then the error is at ip_address
        Self.expectOneError(Self.body(["ip_address": "\"\(address)\""]), at: "$.ip_address", saying: "IPv4")
    }

    @Test(
        "merchant_category must be exactly four ASCII digits",
        arguments: [#""546""#, #""54621""#, #""54a2""#, #""５４６２""#, "5462"])
    func badMerchantCategory(text: String) {
        // Given a bad merchant category
        // When it is decoded
        // Then the error is at merchant_category
        Self.expectOneError(Self.body(["merchant_category": text]), at: "$.merchant_category")
    }

    @Test(
        "countries must be uppercase ISO 3166-1 alpha-2 codes",
        arguments: ["merchant_country", "card_country", "ip_country"])
    func countries(field: String) throws {
        // Given a valid code and bad ones
        // When they are decoded
        // Then only the valid one is accepted, and the errors say uppercase ISO 3166-1
        #expect(Self.errors(Self.body([field: #""DE""#])).isEmpty)
        for bad in [#""de""#, #""XX""#, #""DEU""#, #""D""#] {
            Self.expectOneError(
                Self.body([field: bad]), at: "$.\(field)", saying: "ISO 3166-1 alpha-2 country code in uppercase")
        }
    }

    @Test("all 249 ISO 3166-1 and 178 ISO 4217 codes are known, uppercase only")
    func isoCodeLists() {
        // Given the code lists
        // When they are counted and checked
        // Then they have the official sizes and lowercase codes are not members
        #expect(ISOCodes.countries.count == 249)
        #expect(ISOCodes.currencies.count == 178)
        #expect(ISOCodes.isCountry("GB") && !ISOCodes.isCountry("UK") && !ISOCodes.isCountry("gb"))
        #expect(ISOCodes.isCurrency("GBP") && !ISOCodes.isCurrency("gbp") && !ISOCodes.isCurrency("HRK"))
    }

    @Test("channel must be one of the contract's values", arguments: Channel.allCases)
    func channels(channel: Channel) throws {
        // Given a known channel
        // When it is decoded
        // Then it is that channel
        #expect(try Self.transaction(Self.body(["channel": "\"\(channel.rawValue)\""])).channel == channel)
    }

    @Test("an unknown channel is refused with the list of channels", arguments: [#""POS""#, #""web""#, "1"])
    func badChannel(text: String) {
        // Given an unknown channel
        // When it is decoded
        // Then the error is at channel
        Self.expectOneError(Self.body(["channel": text]), at: "$.channel")
    }

    // MARK: - Attributes

    @Test("attribute values may be numbers, strings, booleans or null")
    func attributeValues() throws {
        // Given one attribute of each kind, unsorted
        let body = Self.body(["attributes": #"{"s":"x","n":-1.5e2,"t":true,"f":false,"z":null,"e":""}"#])
        // When it is decoded
        let transaction = try Self.transaction(body)
        // Then each has its value and they are sorted by name
        #expect(transaction.attributes.map(\.name) == ["e", "f", "n", "s", "t", "z"])
        #expect(transaction.attribute("n") == .number(-150))
        #expect(transaction.attribute("s") == .string("x"))
        #expect(transaction.attribute("t") == .bool(true))
        #expect(transaction.attribute("f") == .bool(false))
        #expect(transaction.attribute("z") == .null)
        #expect(transaction.attribute("e") == .string(""))
    }

    @Test("attributes must be an object or null", arguments: ["[]", "1", #""x""#, "true"])
    func attributesType(text: String) {
        // Given attributes that are not an object
        // When it is decoded
        // Then the error is at attributes
        Self.expectOneError(Self.body(["attributes": text]), at: "$.attributes", saying: "must be an object or null")
    }

    @Test("at most 64 attributes are allowed")
    func attributeCount() {
        // Given 64 attributes, and 65
        func attributes(_ count: Int) -> String {
            "{" + (0..<count).map { "\"a\($0)\":\($0)" }.joined(separator: ",") + "}"
        }
        // When they are decoded
        // Then 64 pass and 65 are refused once, at attributes
        #expect(Self.errors(Self.body(["attributes": attributes(64)])).isEmpty)
        Self.expectOneError(Self.body(["attributes": attributes(65)]), at: "$.attributes", saying: "at most 64")
        Self.expectOneError(Self.body(["attributes": attributes(200)]), at: "$.attributes", saying: "at most 64")
    }

    @Test(
        "attribute names must be 1 to 64 letters, digits or underscores",
        arguments: [
            ("a-b", "$.attributes['a-b']"), ("", "$.attributes['']"), ("a b", "$.attributes['a b']"),
            ("é", "$.attributes['é']"),
            (String(repeating: "n", count: 65), "$.attributes.\(String(repeating: "n", count: 65))"),
        ])
    func badAttributeName(name: String, path: String) {
        // Given an attribute with a bad name
        let body = Self.body(["attributes": "{\"\(name)\":1}"])
        // When it is decoded
        // Then the error is at that attribute
        Self.expectOneError(body, at: path, saying: "letters, digits or underscores")
    }

    @Test("a 64-character attribute name of every allowed kind of character is accepted")
    func longestAttributeName() throws {
        // Given a name of 64 allowed characters
        let name = "Az09_" + String(repeating: "x", count: 59)
        // When it is decoded
        let transaction = try Self.transaction(Self.body(["attributes": "{\"\(name)\":1}"]))
        // Then the attribute is there
        #expect(transaction.attribute(name) == .number(1))
    }

    @Test(
        "nested objects and arrays are refused as attribute values",
        arguments: [#"{"n":{"a":1}}"#, #"{"n":[1,2]}"#, #"{"n":[]}"#, #"{"n":{}}"#])
    func nestedAttribute(text: String) {
        // Given an attribute whose value is an object or array
        // When it is decoded
        // Then the error is at that attribute
        Self.expectOneError(Self.body(["attributes": text]), at: "$.attributes.n", saying: "nested objects and arrays")
    }

    @Test("attribute strings may have at most 256 characters")
    func attributeStringLength() {
        // Given a string of 256 characters, and 257
        let longest = String(repeating: "€", count: 256)
        // When they are decoded
        // Then the longer one is refused at its path
        #expect(Self.errors(Self.body(["attributes": "{\"s\":\"\(longest)\"}"])).isEmpty)
        Self.expectOneError(
            Self.body(["attributes": "{\"s\":\"\(longest)x\"}"]), at: "$.attributes.s", saying: "at most 256 characters"
        )
    }

    @Test("a repeated attribute name is refused as a duplicate")
    func duplicateAttribute() {
        // Given the same attribute twice
        // When it is decoded
        // Then the second is a duplicate
        Self.expectOneError(
            Self.body(["attributes": #"{"a":1,"b":2,"a":3}"#]), at: "$.attributes.a", saying: "duplicate")
    }

    // MARK: - Strings: escapes and UTF-8

    @Test(
        "string escapes decode to the characters they stand for",
        arguments: [
            (#"tx\"q"#, "tx\"q"), (#"tx\\b"#, "tx\\b"), (#"tx\/s"#, "tx/s"), (#"\u00e9t\u00E9"#, "été"),
            (#"\u20ac"#, "€"), (#"\ud83d\ude00"#, "😀"), (#"a\uD834\uDD1Eb"#, "a𝄞b"), ("é€😀", "é€😀"),
        ])
    func escapes(raw: String, decoded: String) throws {
        // Given a transaction_id with escapes or raw multi-byte characters
        let transaction = try Self.transaction(Self.body(["transaction_id": "\"\(raw)\""]))
        // When it is decoded
        // Then it is the text the escapes stand for
        #expect(transaction.transactionID == decoded)
    }

    @Test(
        "lone surrogate escapes are malformed",
        arguments: [#""\ud83d""#, #""\ude00""#, #""\ud83dx""#, #""\ud83d\u0041""#, #""\ud83d\ud83d""#, #""\ud83d\""#])
    func loneSurrogates(text: String) {
        // Given a lone surrogate escape
        // When it is decoded
        // Then the body is malformed
        Self.expectOneError(Self.body(["card_id": text]), at: "$", saying: "malformed JSON")
    }

    @Test(
        "invalid UTF-8 in a string is malformed",
        arguments: [
            [0xC3] as [UInt8], [0xC0, 0xAF], [0xC1, 0xBF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80],
            [0xF0, 0x80, 0x80, 0xAF],
            [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0x80], [0xE2, 0x82], [0xF0, 0x9F, 0x98],
        ])
    func invalidUTF8(sequence: [UInt8]) {
        // Given a card_id holding an ill-formed UTF-8 sequence
        let body = Array(#"{"card_id":"a"#.utf8) + sequence + Array(#"b"}"#.utf8)
        // When it is decoded
        let found = Self.errors(body)
        // Then there is one error at $
        #expect(found.count == 1)
        #expect(found.first?.path == "$")
        #expect(found.first?.message.contains("UTF-8") == true, "\(found)")
    }

    // MARK: - Robustness

    @Test("deep nesting in an unknown field is refused without recursion", arguments: [100_000, 1_000, 33])
    func deepNesting(depth: Int) {
        // Given an unknown field nested `depth` levels deep, arrays and objects alike
        let arrays = Self.body(adding: [
            ("foo", String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
        ])
        let objects = Self.body(
            adding: [("foo", String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth))])
        // When they are decoded
        // Then each is refused as too deep, without crashing
        for body in [arrays, objects] {
            let found = Self.errors(body)
            #expect(found.count == 1)
            #expect(found.first?.path == "$")
            #expect(found.first?.message.contains("nested deeper than 32") == true, "\(found)")
        }
    }

    @Test("nesting up to 32 levels in an unknown field is skipped")
    func nestingAtLimit() {
        // Given an unknown field nested exactly 32 levels deep
        let body = Self.body(adding: [("foo", String(repeating: "[", count: 32) + String(repeating: "]", count: 32))])
        // When it is decoded
        // Then the only error is the unknown field
        Self.expectOneError(body, at: "$.foo", saying: "unknown field")
    }

    @Test("a deeply nested body that is not an object is refused without recursion")
    func deepNonObject() {
        // Given 100000 opening brackets
        let body = String(repeating: "[", count: 100_000)
        // When it is decoded
        let found = Self.errors(body)
        // Then there is one error at $
        #expect(found.count == 1)
        #expect(found.first?.path == "$")
    }

    @Test("mutated and truncated bodies never crash and always give a transaction or at least one error")
    func mutations() {
        // Given 20,000 seeded random mutations of a valid body
        var random = SplitMix64(seed: 20_261_122)
        let original = Array(Self.body().utf8)
        let interesting = Array(#"{}[]",:\ 0-9.eE+tfnulNaIy"#.utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xED, 0xF4, 0xFF]
        var decoded = 0
        for _ in 0..<20_000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                Self.mutate(&bytes, interesting: interesting, using: &random)
            }
            // When it is decoded
            let result = TransactionDecoder.decode(bytes)
            // Then it is a transaction that encodes and decodes back to itself, or a non-empty list of errors
            switch result {
            case .success(let transaction):
                decoded += 1
                let again = TransactionDecoder.decode(transaction.canonicalJSON())
                #expect(again == .success(transaction))
            case .failure(let failure):
                #expect(!failure.errors.isEmpty)
                #expect(failure.errors.allSatisfy { $0.path.hasPrefix("$") && !$0.message.isEmpty })
            }
        }
        #expect(decoded > 0)
    }

    static func mutate(_ bytes: inout [UInt8], interesting: [UInt8], using random: inout SplitMix64) {
        guard !bytes.isEmpty else {
            bytes.append(interesting[Int.random(in: 0..<interesting.count, using: &random)])
            return
        }
        let at = Int.random(in: 0..<bytes.count, using: &random)
        let byte =
            Bool.random(using: &random)
            ? interesting[Int.random(in: 0..<interesting.count, using: &random)]
            : UInt8.random(in: 0...255, using: &random)
        switch Int.random(in: 0..<6, using: &random) {
        case 0: bytes[at] = byte
        case 1: bytes.insert(byte, at: at)
        case 2: bytes.remove(at: at)
        case 3: bytes.removeSubrange(at...)
        case 4:
            let end = min(bytes.count, at + Int.random(in: 1...16, using: &random))
            bytes.insert(contentsOf: bytes[at..<end], at: Int.random(in: 0...bytes.count, using: &random))
        default:
            let other = Int.random(in: 0..<bytes.count, using: &random)
            bytes.swapAt(at, other)
        }
    }

    // MARK: - Canonical JSON

    @Test("the canonical JSON has contract order, omits absent fields and sorts attributes")
    func canonicalJSON() throws {
        // Given a decoded full body with a null optional field
        let transaction = try Self.transaction(Self.body(["device_id": "null"]))
        // When it is encoded
        let json = String(decoding: transaction.canonicalJSON(), as: UTF8.self)
        // Then the fields come in contract order, device_id is omitted and attributes are sorted
        #expect(
            json
                == #"{"transaction_id":"tx_1001","occurred_at":"2026-11-22T05:58:05.123456+01:00","amount":42.9,"#
                + #""currency":"EUR","card_id":"card_8f3a","customer_id":"cust_1029","merchant_id":"m_bakery_17","#
                + #""email":"buyer@example.com","ip_address":"203.0.113.54","merchant_category":"5462","#
                + #""merchant_country":"FR","card_country":"US","ip_country":"NG","channel":"contactless","#
                + #""attributes":{"account_age_days":2.0,"pin_verified":true,"promo_code":null,"tid":"T-0042"}}"#)
    }

    @Test("a minimal transaction encodes only the required fields")
    func canonicalMinimal() {
        // Given a transaction with only required fields
        let transaction = Transaction(
            transactionID: "tx_1", occurredAt: "2025-03-14T09:26:53Z", occurredAtMicros: 1_741_944_413_000_000,
            amount: 2480, currency: "USD")
        // When it is encoded
        let json = String(decoding: transaction.canonicalJSON(), as: UTF8.self)
        // Then only those appear
        #expect(
            json == #"{"transaction_id":"tx_1","occurred_at":"2025-03-14T09:26:53Z","amount":2480.0,"currency":"USD"}"#)
    }

    @Test(
        "decoding the canonical JSON gives back an equal transaction",
        arguments: [
            Transaction(
                transactionID: "tx_\"quoted\"\\é😀", occurredAt: "2026-11-22t05:58:05.123456789z",
                occurredAtMicros: 1_795_327_085_123_456, amount: 0.1, currency: "JPY", cardID: "c/1",
                customerID: "cust", merchantID: "m", deviceID: "d", email: "x@y", ipAddress: "::1",
                merchantCategory: "0000", merchantCountry: "JP", cardCountry: "KR", ipCountry: "CN", channel: .atm,
                attributes: [
                    Attribute(name: "z", value: .string("line\nbreak\u{0}\u{1F}")),
                    Attribute(name: "A", value: .number(-1e-300)), Attribute(name: "_", value: .bool(false)),
                    Attribute(name: "m", value: .null), Attribute(name: "big", value: .number(1.7976931348623157e308)),
                ]),
            Transaction(
                transactionID: "t", occurredAt: "0001-01-01T00:00:00Z", occurredAtMicros: -62_135_596_800_000_000,
                amount: 1e12, currency: "EUR"),
            Transaction(
                transactionID: "t", occurredAt: "9999-12-31T23:59:59.999999-23:59",
                occurredAtMicros: 253_402_387_139_999_999,
                amount: .leastNonzeroMagnitude, currency: "XXX", channel: .other),
        ])
    func roundTrip(transaction: Transaction) throws {
        // Given a transaction
        // When it is encoded canonically and decoded again
        let decoded = try TransactionDecoder.decode(transaction.canonicalJSON()).get()
        // Then it is equal, and encodes to the same bytes
        #expect(decoded == transaction)
        #expect(decoded.canonicalJSON() == transaction.canonicalJSON())
    }

    // MARK: - Scanner

    @Suite("JSON scanner")
    struct Scanner {
        static func scanNumber(_ text: String) throws -> Double {
            try Array(text.utf8).withUnsafeBytes { bytes in
                var scanner = JSONScanner(bytes)
                let value = try scanner.readNumber()
                try scanner.expectEnd()
                return value
            }
        }

        @Test(
            "numbers are parsed correctly rounded, on the fast and the slow path",
            arguments: [
                "0", "-0", "1", "-1", "0.1", "0.2", "0.3", "1.5", "123.456", "-987654.321", "1e22", "1e23", "1e-22",
                "9007199254740992", "9007199254740993", "9007199254740995", "18446744073709551615",
                "18446744073709551616", "123456789012345678901234567890", "0.1e1", "1.7976931348623157e308",
                "1.7976931348623158e308", "2.2250738585072014e-308", "2.2250738585072011e-308", "4.9e-324", "5e-324",
                "2.4703282292062328e-324", "2.4703282292062327e-324", "1e-400", "1E+2", "1e-0", "12.50e-1",
                "0.000000000000000000000000000001", "100000000000000000000000", "0.30000000000000004",
                "17976931348623158" + String(repeating: "0", count: 292),
            ])
        func correctlyRounded(text: String) throws {
            // Given a number in JSON's grammar
            // When it is scanned
            let value = try Self.scanNumber(text)
            // Then it is bit for bit what the standard library's correctly rounded parser gives
            let expected = try #require(Double(text))
            #expect(value.bitPattern == expected.bitPattern)
        }

        @Test("random decimal texts parse like the standard library")
        func randomDecimals() throws {
            // Given seeded random decimals with up to 20 digits and exponents
            var random = SplitMix64(seed: 1_234)
            for _ in 0..<20_000 {
                var text = Bool.random(using: &random) ? "-" : ""
                let integerDigits = Int.random(in: 1...12, using: &random)
                text += String(Int.random(in: 1...9, using: &random))
                for _ in 1..<integerDigits { text += String(Int.random(in: 0...9, using: &random)) }
                if Bool.random(using: &random) {
                    text += "."
                    for _ in 0..<Int.random(in: 1...10, using: &random) {
                        text += String(Int.random(in: 0...9, using: &random))
                    }
                }
                if Int.random(in: 0..<4, using: &random) == 0 { text += "e\(Int.random(in: -30...30, using: &random))" }
                // When it is scanned
                let value = try Self.scanNumber(text)
                // Then it equals the standard library's result
                #expect(value.bitPattern == Double(text)!.bitPattern, "\(text)")
            }
        }

        @Test("skipValue accepts 32 levels and refuses 33")
        func skipDepth() throws {
            // Given arrays nested 32 and 33 levels deep
            let ok = Array((String(repeating: "[", count: 32) + String(repeating: "]", count: 32)).utf8)
            let deep = Array((String(repeating: "[", count: 33) + String(repeating: "]", count: 33)).utf8)
            // When they are skipped
            // Then the first is skipped to its end and the second is too deep
            try ok.withUnsafeBytes { bytes in
                var scanner = JSONScanner(bytes)
                try scanner.skipValue()
                #expect(scanner.offset == bytes.count)
            }
            deep.withUnsafeBytes { bytes in
                var scanner = JSONScanner(bytes)
                #expect(throws: JSONScanner.Failure.self) { try scanner.skipValue() }
            }
        }

        @Test("object and array iteration helpers walk members in order")
        func iteration() throws {
            // Given an object with an array member
            let json = Array(#" { "a" : [1, "two", null] , "b":{"c":false} } "#.utf8)
            try json.withUnsafeBytes { bytes in
                var scanner = JSONScanner(bytes)
                var keys: [String] = []
                var elements: [JSONScanner.Value] = []
                // When it is walked with the helpers
                try scanner.beginObject()
                var firstKey = true
                while let key = try scanner.nextObjectKey(isFirst: &firstKey) {
                    keys.append(scanner.string(key))
                    if scanner.peek() == UInt8(ascii: "[") {
                        try scanner.beginArray()
                        var firstElement = true
                        while try scanner.nextArrayElement(isFirst: &firstElement) {
                            elements.append(try scanner.readValue())
                        }
                    } else {
                        try scanner.skipValue()
                    }
                }
                try scanner.expectEnd()
                // Then every key and element is seen
                #expect(keys == ["a", "b"])
                #expect(elements.count == 3)
                #expect(elements.first == .number(1))
                #expect(elements.last == .null)
                #expect(scanner.isAtEnd)
            }
        }

        @Test("strings report their scalar count and control characters")
        func stringSpans() throws {
            // Given a string with escapes, multi-byte characters and a control character
            let json = Array(#""a\u00e9😀\n""#.utf8)
            try json.withUnsafeBytes { bytes in
                var scanner = JSONScanner(bytes)
                // When it is read
                let span = try scanner.readStringSpan()
                // Then the span knows what the text holds
                #expect(span.scalarCount == 4)
                #expect(span.hasEscapes)
                #expect(span.hasControlCharacters)
                #expect(scanner.string(span) == "aé😀\n")
            }
        }
    }
}

/// SplitMix64: a small seeded generator so that random tests repeat exactly.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
