/// Every reason a transaction body was refused, each with the JSON path of its field.
///
/// A body that is not JSON, or not an object, has exactly one error, at path `$`.
public struct TransactionDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var errors: [FieldError]

    public init(errors: [FieldError]) {
        self.errors = errors
    }

    public var description: String {
        errors.map(\.description).joined(separator: "; ")
    }
}

/// Turns a `POST /v1/score` body into a validated `Transaction` in one pass over the bytes, reporting every bad field.
public enum TransactionDecoder {
    /// Decodes and validates a transaction body (UTF-8 JSON).
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, limits: TransactionLimits = .init()
    ) -> Result<Transaction, TransactionDecodingError> {
        var session = Session(bytes: bytes, limits: limits)
        do {
            return try session.run()
        } catch {
            if error.kind == .nonFiniteLiteral, let path = session.failurePath {
                var errors = session.errors
                errors.append(FieldError(path: path, message: Session.nonFiniteMessage))
                return .failure(TransactionDecodingError(errors: errors))
            }
            return .failure(
                TransactionDecodingError(errors: [FieldError(path: "$", message: "malformed JSON: \(error)")]))
        }
    }

    /// Decodes and validates a transaction body (UTF-8 JSON).
    public static func decode(
        _ bytes: [UInt8], limits: TransactionLimits = .init()
    ) -> Result<Transaction, TransactionDecodingError> {
        bytes.withUnsafeBytes { decode($0, limits: limits) }
    }

    /// The fields of the wire contract, in contract order.
    enum Field: Int, CaseIterable {
        case transactionID, occurredAt, amount, currency, cardID, customerID, merchantID, deviceID, email
        case ipAddress, merchantCategory, merchantCountry, cardCountry, ipCountry, channel, attributes

        var name: String {
            switch self {
            case .transactionID: "transaction_id"
            case .occurredAt: "occurred_at"
            case .amount: "amount"
            case .currency: "currency"
            case .cardID: "card_id"
            case .customerID: "customer_id"
            case .merchantID: "merchant_id"
            case .deviceID: "device_id"
            case .email: "email"
            case .ipAddress: "ip_address"
            case .merchantCategory: "merchant_category"
            case .merchantCountry: "merchant_country"
            case .cardCountry: "card_country"
            case .ipCountry: "ip_country"
            case .channel: "channel"
            case .attributes: "attributes"
            }
        }

        var path: String { "$." + name }
        var bit: UInt32 { 1 << UInt32(rawValue) }

        /// The field whose name the unescaped key bytes spell, if any.
        @inline(__always)
        static func matching(_ span: JSONScanner.StringSpan, in scanner: JSONScanner) -> Field? {
            switch span.end - span.start {
            case 5: return scanner.rawBytes(of: span, equal: "email") ? .email : nil
            case 6: return scanner.rawBytes(of: span, equal: "amount") ? .amount : nil
            case 7:
                if scanner.rawBytes(of: span, equal: "card_id") { return .cardID }
                return scanner.rawBytes(of: span, equal: "channel") ? .channel : nil
            case 8: return scanner.rawBytes(of: span, equal: "currency") ? .currency : nil
            case 9: return scanner.rawBytes(of: span, equal: "device_id") ? .deviceID : nil
            case 10:
                if scanner.rawBytes(of: span, equal: "ip_address") { return .ipAddress }
                if scanner.rawBytes(of: span, equal: "ip_country") { return .ipCountry }
                return scanner.rawBytes(of: span, equal: "attributes") ? .attributes : nil
            case 11:
                if scanner.rawBytes(of: span, equal: "occurred_at") { return .occurredAt }
                if scanner.rawBytes(of: span, equal: "customer_id") { return .customerID }
                return scanner.rawBytes(of: span, equal: "merchant_id") ? .merchantID : nil
            case 12: return scanner.rawBytes(of: span, equal: "card_country") ? .cardCountry : nil
            case 14: return scanner.rawBytes(of: span, equal: "transaction_id") ? .transactionID : nil
            case 16: return scanner.rawBytes(of: span, equal: "merchant_country") ? .merchantCountry : nil
            case 17: return scanner.rawBytes(of: span, equal: "merchant_category") ? .merchantCategory : nil
            default: return nil
            }
        }

        static func matching(name: String) -> Field? {
            allCases.first { $0.name == name }
        }
    }

    /// The state of one decode: the scanner, the fields read so far and the errors found so far.
    struct Session {
        static let nonFiniteMessage = "NaN and Infinity are not allowed"

        var scanner: JSONScanner
        let limits: TransactionLimits
        var errors: [FieldError] = []
        /// Path of the field being read when a `NaN`/`Infinity` nested in a skipped value stopped the scan.
        var failurePath: String?
        var seen: UInt32 = 0
        var unknownPaths: Set<String> = []

        var transactionID: String?
        var occurredAt: String?
        var occurredAtMicros: Int64 = 0
        var amount: Double?
        var currency: String?
        var cardID: String?
        var customerID: String?
        var merchantID: String?
        var deviceID: String?
        var email: String?
        var ipAddress: String?
        var merchantCategory: String?
        var merchantCountry: String?
        var cardCountry: String?
        var ipCountry: String?
        var channel: Channel?
        var attributes: [Attribute] = []

        init(bytes: UnsafeRawBufferPointer, limits: TransactionLimits) {
            scanner = JSONScanner(bytes)
            self.limits = limits
        }

        mutating func run() throws(JSONScanner.Failure) -> Result<Transaction, TransactionDecodingError> {
            guard let first = scanner.peek() else {
                return refuseBody("body is empty; expected a JSON object")
            }
            guard first == UInt8(ascii: "{") else {
                let value = try scanner.readValue()
                try scanner.expectEnd()
                if value == .nonFiniteLiteral { return refuseBody(Self.nonFiniteMessage) }
                return refuseBody("body must be a JSON object, got \(Self.kind(of: value))")
            }
            try scanner.beginObject()
            var isFirst = true
            while let key = try scanner.nextObjectKey(isFirst: &isFirst) {
                let field =
                    key.hasEscapes
                    ? Field.matching(name: scanner.string(key)) : Field.matching(key, in: scanner)
                guard let field else {
                    try unknownField(key)
                    continue
                }
                guard seen & field.bit == 0 else {
                    fail(field.path, "duplicate field")
                    try skipMember(path: field.path)
                    continue
                }
                seen |= field.bit
                try read(field)
            }
            try scanner.expectEnd()
            if seen & 0b1111 != 0b1111 {
                for field in [Field.transactionID, .occurredAt, .amount, .currency] where seen & field.bit == 0 {
                    fail(field.path, "required field is missing")
                }
            }
            guard errors.isEmpty, let transactionID, let occurredAt, let amount, let currency else {
                return .failure(TransactionDecodingError(errors: errors))
            }
            var transaction = Transaction(
                transactionID: transactionID, occurredAt: occurredAt, occurredAtMicros: occurredAtMicros,
                amount: amount, currency: currency, cardID: cardID, customerID: customerID, merchantID: merchantID,
                deviceID: deviceID, email: email, ipAddress: ipAddress, merchantCategory: merchantCategory,
                merchantCountry: merchantCountry, cardCountry: cardCountry, ipCountry: ipCountry, channel: channel)
            if !attributes.isEmpty {
                Self.sortByName(&attributes)
                transaction.attributes = attributes
            }
            return .success(transaction)
        }

        // MARK: - Fields

        mutating func read(_ field: Field) throws(JSONScanner.Failure) {
            switch field {
            case .transactionID:
                guard let span = try requiredString(field) else { return }
                guard span.scalarCount >= 1 && span.scalarCount <= limits.maxIDLength else {
                    return fail(field.path, "must be 1 to \(limits.maxIDLength) characters long")
                }
                guard !span.hasControlCharacters else { return fail(field.path, "must not contain control characters") }
                transactionID = scanner.string(span)
            case .occurredAt:
                guard let span = try requiredString(field) else { return }
                let text = scanner.string(span)
                let parsed =
                    span.hasEscapes ? RFC3339.parse(text) : RFC3339.parse(scanner.rawBytes(of: span))
                switch parsed {
                case .success(let micros):
                    occurredAt = text
                    occurredAtMicros = micros
                case .failure(let failure):
                    fail(field.path, "must be an RFC 3339 timestamp such as 2026-11-22T05:58:05Z: \(failure)")
                }
            case .amount:
                try readAmount()
            case .currency:
                guard let span = try requiredString(field) else { return }
                let code = span.scalarCount == 3 ? scanner.string(span) : ""
                guard ISOCodes.isCurrency(code) else {
                    return fail(field.path, "must be an ISO 4217 currency code in uppercase, such as EUR")
                }
                currency = code
            case .cardID: cardID = try optionalString(field)
            case .customerID: customerID = try optionalString(field)
            case .merchantID: merchantID = try optionalString(field)
            case .deviceID: deviceID = try optionalString(field)
            case .email:
                guard let text = try optionalString(field) else { return }
                guard Self.isEmail(text) else {
                    return fail(field.path, "must look like local@domain (one @) and be at most 254 characters")
                }
                email = text
            case .ipAddress:
                guard let text = try optionalString(field) else { return }
                guard Self.isIPv4(text.utf8) || Self.isIPv6(text.utf8) else {
                    return fail(field.path, "must be an IPv4 (dotted quad) or IPv6 address")
                }
                ipAddress = text
            case .merchantCategory:
                guard let text = try optionalString(field) else { return }
                guard text.utf8.count == 4, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                    return fail(field.path, "must be a merchant category code of exactly 4 digits")
                }
                merchantCategory = text
            case .merchantCountry: merchantCountry = try country(field)
            case .cardCountry: cardCountry = try country(field)
            case .ipCountry: ipCountry = try country(field)
            case .channel:
                guard let text = try optionalString(field) else { return }
                guard let value = Channel(rawValue: text) else {
                    let names = Channel.allCases.map(\.rawValue).joined(separator: ", ")
                    return fail(field.path, "must be one of \(names)")
                }
                channel = value
            case .attributes:
                try readAttributes()
            }
        }

        private mutating func readAmount() throws(JSONScanner.Failure) {
            let path = Field.amount.path
            switch try readValue(path: path) {
            case .number(let value):
                guard value.isFinite else { return fail(path, "must be a finite number") }
                guard value >= 0 else { return fail(path, "must not be negative") }
                guard value <= limits.maxAmount else {
                    return fail(path, "must not be greater than \(Self.text(of: limits.maxAmount))")
                }
                amount = value
            case .nonFiniteLiteral: fail(path, Self.nonFiniteMessage)
            case .string: fail(path, "must be a JSON number, not a string")
            case let other: fail(path, "must be a number, got \(Self.kind(of: other))")
            }
        }

        private mutating func country(_ field: Field) throws(JSONScanner.Failure) -> String? {
            guard let text = try optionalString(field) else { return nil }
            guard ISOCodes.isCountry(text) else {
                fail(field.path, "must be an ISO 3166-1 alpha-2 country code in uppercase, such as DE")
                return nil
            }
            return text
        }

        /// The string value of a required field, or nil after recording why there is none.
        private mutating func requiredString(_ field: Field) throws(JSONScanner.Failure) -> JSONScanner.StringSpan? {
            let value = try readValue(path: field.path)
            if case .string(let span) = value { return span }
            if value == .nonFiniteLiteral {
                fail(field.path, Self.nonFiniteMessage)
            } else {
                fail(field.path, "must be a string, got \(Self.kind(of: value))")
            }
            return nil
        }

        /// The text of an optional string field; nil when it is null or invalid (then an error is recorded).
        private mutating func optionalString(_ field: Field) throws(JSONScanner.Failure) -> String? {
            let value = try readValue(path: field.path)
            switch value {
            case .string(let span):
                guard span.scalarCount >= 1 && span.scalarCount <= limits.maxStringLength else {
                    fail(field.path, "must be 1 to \(limits.maxStringLength) characters long")
                    return nil
                }
                guard !span.hasControlCharacters else {
                    fail(field.path, "must not contain control characters")
                    return nil
                }
                return scanner.string(span)
            case .null:
                return nil
            case .nonFiniteLiteral:
                fail(field.path, Self.nonFiniteMessage)
                return nil
            default:
                fail(field.path, "must be a string or null, got \(Self.kind(of: value))")
                return nil
            }
        }

        private mutating func readAttributes() throws(JSONScanner.Failure) {
            let path = Field.attributes.path
            guard scanner.peek() == UInt8(ascii: "{") else {
                let value = try readValue(path: path)
                switch value {
                case .null: return
                case .nonFiniteLiteral: return fail(path, Self.nonFiniteMessage)
                default: return fail(path, "must be an object or null, got \(Self.kind(of: value))")
                }
            }
            try scanner.beginObject()
            var isFirst = true
            var count = 0
            while let key = try scanner.nextObjectKey(isFirst: &isFirst) {
                count += 1
                if count > limits.maxAttributes {
                    if count == limits.maxAttributes + 1 {
                        fail(path, "must have at most \(limits.maxAttributes) entries")
                    }
                    try skipMember(path: Self.attributePath(scanner.string(key)))
                    continue
                }
                let name = scanner.string(key)
                guard Self.isAttributeName(name, maxLength: limits.maxAttributeNameLength) else {
                    let memberPath = Self.attributePath(name)
                    fail(
                        memberPath,
                        "attribute names must be 1 to \(limits.maxAttributeNameLength) letters, digits or underscores")
                    try skipMember(path: memberPath)
                    continue
                }
                guard !attributes.contains(where: { $0.name == name }) else {
                    let memberPath = Self.attributePath(name)
                    fail(memberPath, "duplicate field")
                    try skipMember(path: memberPath)
                    continue
                }
                try readAttribute(name)
            }
        }

        private mutating func readAttribute(_ name: String) throws(JSONScanner.Failure) {
            let value = try readValue(path: Self.attributePath(name))
            let attribute: AttributeValue
            switch value {
            case .number(let number):
                guard number.isFinite else { return fail(Self.attributePath(name), "must be a finite number") }
                attribute = .number(number)
            case .string(let span):
                guard span.scalarCount <= limits.maxAttributeStringLength else {
                    return fail(
                        Self.attributePath(name),
                        "must be at most \(limits.maxAttributeStringLength) characters long")
                }
                attribute = .string(scanner.string(span))
            case .bool(let flag): attribute = .bool(flag)
            case .null: attribute = .null
            case .nonFiniteLiteral: return fail(Self.attributePath(name), Self.nonFiniteMessage)
            case .object, .array:
                return fail(
                    Self.attributePath(name),
                    "must be a number, string, boolean or null; nested objects and arrays are not allowed")
            }
            if attributes.isEmpty { attributes.reserveCapacity(8) }
            attributes.append(Attribute(name: name, value: attribute))
        }

        // MARK: - Unknown and skipped members

        private mutating func unknownField(_ key: JSONScanner.StringSpan) throws(JSONScanner.Failure) {
            let path = Self.memberPath(parent: "$", name: scanner.string(key))
            if unknownPaths.insert(path).inserted {
                fail(path, "unknown field")
            }
            try skipMember(path: path)
        }

        /// Skips a member's value; a bare `NaN`/`Infinity` is reported at `path` rather than as malformed JSON.
        private mutating func skipMember(path: String) throws(JSONScanner.Failure) {
            if try readValue(path: path) == .nonFiniteLiteral {
                fail(path, Self.nonFiniteMessage)
            }
        }

        /// Reads the next value, remembering `path` if a non-finite literal nested inside it stops the scan.
        @inline(__always)
        private mutating func readValue(path: @autoclosure () -> String) throws(JSONScanner.Failure)
            -> JSONScanner.Value
        {
            do {
                return try scanner.readValue()
            } catch {
                if error.kind == .nonFiniteLiteral && failurePath == nil { failurePath = path() }
                throw error
            }
        }

        private mutating func fail(_ path: String, _ message: String) {
            errors.append(FieldError(path: path, message: message))
        }

        private mutating func refuseBody(_ message: String) -> Result<Transaction, TransactionDecodingError> {
            .failure(TransactionDecodingError(errors: [FieldError(path: "$", message: message)]))
        }

        // MARK: - Checks

        static func kind(of value: JSONScanner.Value) -> String {
            switch value {
            case .string: "a string"
            case .number: "a number"
            case .bool: "a boolean"
            case .null: "null"
            case .object: "an object"
            case .array: "an array"
            case .nonFiniteLiteral: "NaN or Infinity"
            }
        }

        static func attributePath(_ name: String) -> String {
            memberPath(parent: "$.attributes", name: name)
        }

        /// `parent.name` when the name is made of letters, digits and underscores, else `parent['name']`.
        static func memberPath(parent: String, name: String) -> String {
            if !name.isEmpty && name.utf8.allSatisfy(isNameByte) { return parent + "." + name }
            var quoted = ""
            for scalar in name.unicodeScalars {
                switch scalar {
                case "'": quoted += "\\'"
                case "\\": quoted += "\\\\"
                default: quoted.unicodeScalars.append(scalar)
                }
            }
            return parent + "['" + quoted + "']"
        }

        @inline(__always)
        static func isNameByte(_ byte: UInt8) -> Bool {
            (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
        }

        static func isAttributeName(_ name: String, maxLength: Int) -> Bool {
            let utf8 = name.utf8
            return !utf8.isEmpty && utf8.count <= maxLength && utf8.allSatisfy(isNameByte)
        }

        static func isEmail(_ text: String) -> Bool {
            var count = 0
            var at = -1
            var ats = 0
            for (index, scalar) in text.unicodeScalars.enumerated() {
                count += 1
                if scalar == "@" {
                    ats += 1
                    at = index
                }
            }
            return count <= 254 && ats == 1 && at > 0 && at < count - 1
        }

        /// Whether `text` is a dotted quad of decimal numbers 0–255 without leading zeros.
        static func isIPv4<C: Collection<UInt8>>(_ text: C) -> Bool {
            var parts = 0
            var value = 0
            var digits = 0
            var leadingZero = false
            for byte in text {
                if byte == UInt8(ascii: ".") {
                    guard digits > 0, parts < 3 else { return false }
                    parts += 1
                    value = 0
                    digits = 0
                    continue
                }
                guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"), !leadingZero || digits == 0 else {
                    return false
                }
                leadingZero = digits == 0 && byte == UInt8(ascii: "0")
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
                guard digits <= 3, value <= 255 else { return false }
            }
            return parts == 3 && digits > 0
        }

        /// Whether `text` is an IPv6 address in RFC 4291 text form (`::` once at most, optional IPv4 tail).
        static func isIPv6(_ text: String.UTF8View) -> Bool {
            let bytes = Array(text)
            let count = bytes.count
            guard count >= 2 && count <= 45 else { return false }
            var i = 0
            var groups = 0
            var compressed = false
            if bytes[0] == UInt8(ascii: ":") {
                guard bytes[1] == UInt8(ascii: ":") else { return false }
                compressed = true
                i = 2
                if i == count { return true }
            }
            while true {
                let start = i
                while i < count && i - start < 5 && hexValue(bytes[i]) != nil { i += 1 }
                if i < count && bytes[i] == UInt8(ascii: ".") {
                    guard isIPv4(bytes[start...]) else { return false }
                    groups += 2
                    break
                }
                let length = i - start
                guard length >= 1 && length <= 4 else { return false }
                groups += 1
                if i == count { break }
                guard bytes[i] == UInt8(ascii: ":") else { return false }
                i += 1
                if i < count && bytes[i] == UInt8(ascii: ":") {
                    guard !compressed else { return false }
                    compressed = true
                    i += 1
                    if i == count { break }
                } else if i == count {
                    return false
                }
                guard groups < 8 else { return false }
            }
            return compressed ? groups <= 7 : groups == 8
        }

        private static func hexValue(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }

        /// `1000000000000` rather than `1e+12` for whole numbers, Swift's shortest text otherwise.
        static func text(of number: Double) -> String {
            if abs(number) < 1e15, let whole = Int64(exactly: number) { return String(whole) }
            return number.description
        }

        /// Insertion sort by name: attribute lists are short and usually sent already sorted.
        static func sortByName(_ attributes: inout [Attribute]) {
            guard attributes.count > 1 else { return }
            for i in 1..<attributes.count {
                var j = i
                while j > 0 && attributes[j].name < attributes[j - 1].name {
                    attributes.swapAt(j, j - 1)
                    j -= 1
                }
            }
        }
    }
}
