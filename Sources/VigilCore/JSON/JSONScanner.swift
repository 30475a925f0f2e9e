/// A forward-only JSON tokenizer over borrowed bytes, so request bodies are validated without building a tree.
///
/// The scanner never recurses: `skipValue()` walks nested values with a bit stack and refuses nesting deeper than
/// `maxDepth`. Strings are validated (escapes, surrogate pairs, UTF-8, no raw control characters) while scanning and
/// only turned into `String` when the caller asks, straight from the input bytes when there was no escape.
public struct JSONScanner {
    /// The input; it must stay valid while the scanner is used.
    public let bytes: UnsafeRawBufferPointer
    /// Byte offset of the next unread byte.
    public private(set) var offset: Int
    /// Deepest nesting `skipValue()` accepts, counting the skipped value itself as one level.
    public static let maxDepth = 32

    /// A scanner at the start of `bytes`.
    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        self.offset = 0
    }

    // MARK: - Errors and tokens

    /// Why the input is not acceptable JSON, and the byte offset where that was found.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The broad kind of problem, so callers can treat `NaN`/`Infinity` apart from other syntax errors.
        public enum Kind: Sendable, Equatable {
            case syntax
            case unexpectedEnd
            case invalidUTF8
            case nonFiniteLiteral
            case tooDeep
        }

        public var kind: Kind
        /// Byte offset in the input where the problem was found.
        public var offset: Int
        /// What is wrong, in words, without the offset.
        public var reason: String

        public init(_ kind: Kind, offset: Int, reason: String) {
            self.kind = kind
            self.offset = offset
            self.reason = reason
        }

        public var description: String { "\(reason) at byte offset \(offset)" }
    }

    /// A validated JSON string in the input: its content range (without quotes) and what scanning learned about it.
    public struct StringSpan: Sendable, Equatable {
        /// Offset of the first content byte (just after the opening quote).
        public var start: Int
        /// Offset of the closing quote.
        public var end: Int
        /// Whether the content has backslash escapes, so its bytes are not the decoded text.
        public var hasEscapes: Bool
        /// Whether the decoded text has a control character (U+0000–U+001F, U+007F–U+009F).
        public var hasControlCharacters: Bool
        /// Number of Unicode scalars in the decoded text.
        public var scalarCount: Int

        public init(start: Int, end: Int, hasEscapes: Bool, hasControlCharacters: Bool, scalarCount: Int) {
            self.start = start
            self.end = end
            self.hasEscapes = hasEscapes
            self.hasControlCharacters = hasControlCharacters
            self.scalarCount = scalarCount
        }
    }

    /// One scalar value read by `readValue()`; objects and arrays are skipped and only reported by kind.
    public enum Value: Sendable, Equatable {
        case string(StringSpan)
        case number(Double)
        case bool(Bool)
        case null
        case object
        case array
        /// A bare `NaN`, `Infinity` or `-Infinity`, which some serializers write but JSON does not allow.
        case nonFiniteLiteral
    }

    // MARK: - Cursor

    /// Whether only whitespace remains.
    public var isAtEnd: Bool {
        var copy = self
        copy.skipWhitespace()
        return copy.offset >= bytes.count
    }

    /// Advances past JSON whitespace (space, tab, line feed, carriage return).
    @inline(__always)
    public mutating func skipWhitespace() {
        let count = bytes.count
        while offset < count {
            let byte = bytes[offset]
            guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { return }
            offset += 1
        }
    }

    /// The next non-whitespace byte without consuming it, or nil at the end of the input.
    @inline(__always)
    public mutating func peek() -> UInt8? {
        skipWhitespace()
        return offset < bytes.count ? bytes[offset] : nil
    }

    /// Consumes `byte` if it is the next non-whitespace byte.
    @inline(__always)
    public mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard offset < bytes.count, bytes[offset] == byte else { return false }
        offset += 1
        return true
    }

    /// Consumes `byte`, which must be the next non-whitespace byte.
    @inline(__always)
    public mutating func expect(_ byte: UInt8) throws(Failure) {
        skipWhitespace()
        guard offset < bytes.count else {
            throw Failure(
                .unexpectedEnd, offset: offset, reason: "unexpected end of input, expected '\(Self.show(byte))'")
        }
        guard bytes[offset] == byte else { throw unexpected(expected: "'\(Self.show(byte))'") }
        offset += 1
    }

    /// Fails unless only whitespace remains.
    public mutating func expectEnd() throws(Failure) {
        skipWhitespace()
        guard offset >= bytes.count else { throw unexpected(expected: "end of input") }
    }

    // MARK: - Objects and arrays

    /// Consumes the `{` that opens an object.
    public mutating func beginObject() throws(Failure) {
        try expect(UInt8(ascii: "{"))
    }

    /// Moves to the next member of the object opened by `beginObject()`: returns its key (the `:` consumed), or nil
    /// after consuming the closing `}`. `isFirst` must start true and is maintained by this method.
    public mutating func nextObjectKey(isFirst: inout Bool) throws(Failure) -> StringSpan? {
        skipWhitespace()
        guard offset < bytes.count else {
            throw Failure(.unexpectedEnd, offset: offset, reason: "unexpected end of input inside an object")
        }
        if bytes[offset] == UInt8(ascii: "}") {
            offset += 1
            return nil
        }
        if isFirst {
            isFirst = false
        } else {
            guard bytes[offset] == UInt8(ascii: ",") else { throw unexpected(expected: "',' or '}'") }
            offset += 1
            skipWhitespace()
        }
        guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else {
            if offset >= bytes.count {
                throw Failure(.unexpectedEnd, offset: offset, reason: "unexpected end of input, expected an object key")
            }
            throw unexpected(expected: "a string key")
        }
        let key = try readStringSpan()
        try expect(UInt8(ascii: ":"))
        return key
    }

    /// Consumes the `[` that opens an array.
    public mutating func beginArray() throws(Failure) {
        try expect(UInt8(ascii: "["))
    }

    /// Moves to the next element of the array opened by `beginArray()`: true when a value follows, false after
    /// consuming the closing `]`. `isFirst` must start true and is maintained by this method.
    public mutating func nextArrayElement(isFirst: inout Bool) throws(Failure) -> Bool {
        skipWhitespace()
        guard offset < bytes.count else {
            throw Failure(.unexpectedEnd, offset: offset, reason: "unexpected end of input inside an array")
        }
        if bytes[offset] == UInt8(ascii: "]") {
            offset += 1
            return false
        }
        if isFirst {
            isFirst = false
        } else {
            guard bytes[offset] == UInt8(ascii: ",") else { throw unexpected(expected: "',' or ']'") }
            offset += 1
        }
        return true
    }

    // MARK: - Values

    /// Reads the next value: scalars are returned, objects and arrays are skipped (with the depth limit), and a bare
    /// `NaN`/`Infinity`/`-Infinity` is consumed and reported as `.nonFiniteLiteral` rather than thrown.
    public mutating func readValue() throws(Failure) -> Value {
        skipWhitespace()
        guard offset < bytes.count else {
            throw Failure(.unexpectedEnd, offset: offset, reason: "unexpected end of input, expected a value")
        }
        switch bytes[offset] {
        case UInt8(ascii: "\""): return .string(try readStringSpan())
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try readNumber())
        case UInt8(ascii: "-"):
            if readNonFiniteLiteral() { return .nonFiniteLiteral }
            return .number(try readNumber())
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool(try readBool())
        case UInt8(ascii: "n"):
            try readNull()
            return .null
        case UInt8(ascii: "{"):
            try skipValue()
            return .object
        case UInt8(ascii: "["):
            try skipValue()
            return .array
        default:
            if readNonFiniteLiteral() { return .nonFiniteLiteral }
            throw unexpected(expected: "a value")
        }
    }

    /// Consumes a bare `NaN`, `Infinity`, `+Infinity` or `-Infinity` if one is next (followed by a delimiter).
    public mutating func readNonFiniteLiteral() -> Bool {
        skipWhitespace()
        guard offset < bytes.count else { return false }
        var start = offset
        if bytes[start] == UInt8(ascii: "-") || bytes[start] == UInt8(ascii: "+") { start += 1 }
        if start == offset && matchesWord("NaN", at: start) {
            offset = start + 3
            return true
        }
        if matchesWord("Infinity", at: start) {
            offset = start + 8
            return true
        }
        return false
    }

    /// Reads `true` or `false`.
    public mutating func readBool() throws(Failure) -> Bool {
        skipWhitespace()
        if matchesWord("true") {
            offset += 4
            return true
        }
        if matchesWord("false") {
            offset += 5
            return false
        }
        throw unexpectedOrEnd(expected: "true or false")
    }

    /// Reads `null`.
    public mutating func readNull() throws(Failure) {
        skipWhitespace()
        guard matchesWord("null") else { throw unexpectedOrEnd(expected: "null") }
        offset += 4
    }

    /// Reads a string and decodes it.
    public mutating func readString() throws(Failure) -> String {
        let span = try readStringSpan()
        return string(span)
    }

    /// Reads and validates a string, returning where it is; `string(_:)` decodes it later if needed.
    public mutating func readStringSpan() throws(Failure) -> StringSpan {
        skipWhitespace()
        let count = bytes.count
        guard offset < count else {
            throw Failure(.unexpectedEnd, offset: offset, reason: "unexpected end of input, expected a string")
        }
        guard bytes[offset] == UInt8(ascii: "\"") else { throw unexpected(expected: "a string") }
        let start = offset + 1
        var i = start
        var scalars = 0
        var hasEscapes = false
        var hasControl = false
        while true {
            guard i < count else {
                throw Failure(
                    .unexpectedEnd, offset: i, reason: "unterminated string starting at byte offset \(start - 1)")
            }
            let byte = bytes[i]
            if byte < 0x7F && byte >= 0x20 && byte != 0x22 && byte != 0x5C {
                i &+= 1
                scalars &+= 1
                continue
            }
            if byte == 0x22 { break }
            if byte == 0x5C {
                hasEscapes = true
                i = try scanEscape(at: i, hasControl: &hasControl)
                scalars &+= 1
                continue
            }
            if byte < 0x20 {
                throw Failure(.syntax, offset: i, reason: "unescaped control character 0x\(Self.hex2(byte)) in string")
            }
            if byte == 0x7F {
                hasControl = true
                i &+= 1
                scalars &+= 1
                continue
            }
            let length = Self.utf8SequenceLength(bytes, at: i, count: count)
            guard length > 0 else {
                throw Failure(.invalidUTF8, offset: i, reason: "invalid UTF-8 in string")
            }
            if byte == 0xC2 && bytes[i &+ 1] < 0xA0 { hasControl = true }
            i &+= length
            scalars &+= 1
        }
        offset = i + 1
        return StringSpan(
            start: start, end: i, hasEscapes: hasEscapes, hasControlCharacters: hasControl, scalarCount: scalars)
    }

    /// The decoded text of a string read by this scanner.
    public func string(_ span: StringSpan) -> String {
        let raw = UnsafeRawBufferPointer(rebasing: bytes[span.start..<span.end])
        guard span.hasEscapes else { return String(decoding: raw, as: UTF8.self) }
        return String(unsafeUninitializedCapacity: raw.count) { buffer in
            Self.unescape(raw, into: buffer)
        }
    }

    /// Whether the string's raw bytes equal `text` (only meaningful without escapes; see `StringSpan.hasEscapes`).
    @inline(__always)
    public func rawBytes(of span: StringSpan, equal text: StaticString) -> Bool {
        let length = span.end - span.start
        guard length == text.utf8CodeUnitCount else { return false }
        let other = text.utf8Start
        var i = 0
        while i < length {
            if bytes[span.start + i] != other[i] { return false }
            i += 1
        }
        return true
    }

    /// The raw bytes of a string read by this scanner, without the quotes and not unescaped.
    public func rawBytes(of span: StringSpan) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[span.start..<span.end])
    }

    /// Reads a number (RFC 8259 grammar) as the correctly rounded Double; overflow gives ±infinity.
    public mutating func readNumber() throws(Failure) -> Double {
        skipWhitespace()
        let count = bytes.count
        let start = offset
        var i = offset
        var negative = false
        if i < count && bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        guard i < count else {
            throw Failure(.unexpectedEnd, offset: i, reason: "unexpected end of input in a number")
        }
        var mantissa: UInt64 = 0
        var digits = 0
        var exactMantissa = true
        let first = bytes[i]
        if first == UInt8(ascii: "0") {
            i += 1
        } else if first >= UInt8(ascii: "1") && first <= UInt8(ascii: "9") {
            while i < count {
                let d = bytes[i] &- UInt8(ascii: "0")
                guard d < 10 else { break }
                if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(d) } else { exactMantissa = false }
                digits += 1
                i += 1
            }
        } else {
            if negative, first == UInt8(ascii: "I") {
                throw Failure(.nonFiniteLiteral, offset: start, reason: "NaN and Infinity are not allowed")
            }
            throw Failure(.syntax, offset: i, reason: "invalid number: expected a digit")
        }
        var fractionDigits = 0
        if i < count && bytes[i] == UInt8(ascii: ".") {
            i += 1
            let fractionStart = i
            while i < count {
                let d = bytes[i] &- UInt8(ascii: "0")
                guard d < 10 else { break }
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(d)
                    if mantissa != 0 { digits += 1 }
                } else {
                    exactMantissa = false
                }
                i += 1
            }
            fractionDigits = i - fractionStart
            guard fractionDigits > 0 else {
                throw i < count
                    ? Failure(.syntax, offset: i, reason: "invalid number: expected a digit after '.'")
                    : Failure(.unexpectedEnd, offset: i, reason: "unexpected end of input in a number")
            }
        }
        var exponent = 0
        if i < count && (bytes[i] | 0x20) == UInt8(ascii: "e") {
            i += 1
            var exponentNegative = false
            if i < count && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) {
                exponentNegative = bytes[i] == UInt8(ascii: "-")
                i += 1
            }
            let exponentStart = i
            while i < count {
                let d = bytes[i] &- UInt8(ascii: "0")
                guard d < 10 else { break }
                if exponent < 100_000 { exponent = exponent * 10 + Int(d) }
                i += 1
            }
            guard i > exponentStart else {
                throw i < count
                    ? Failure(.syntax, offset: i, reason: "invalid number: expected a digit in the exponent")
                    : Failure(.unexpectedEnd, offset: i, reason: "unexpected end of input in a number")
            }
            if exponentNegative { exponent = -exponent }
        }
        if i < count {
            let next = bytes[i]
            if (next >= UInt8(ascii: "0") && next <= UInt8(ascii: "9")) || next == UInt8(ascii: ".")
                || (next | 0x20) >= UInt8(ascii: "a") && (next | 0x20) <= UInt8(ascii: "z")
            {
                throw Failure(.syntax, offset: i, reason: "invalid number")
            }
        }
        offset = i
        let scale = exponent - fractionDigits
        if exactMantissa && mantissa <= 1 << 53 && scale >= -22 && scale <= 22 {
            var value = Double(mantissa)
            if scale < 0 {
                value /= Self.powerOfTen(-scale)
            } else if scale > 0 {
                value *= Self.powerOfTen(scale)
            }
            return negative ? -value : value
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        guard let value = Double(text) else {
            throw Failure(.syntax, offset: start, reason: "invalid number")
        }
        return value
    }

    /// Skips one value of any kind without recursion, refusing nesting deeper than `maxDepth`.
    public mutating func skipValue() throws(Failure) {
        var depth = 0
        var objectLevels: UInt64 = 0
        let count = bytes.count
        while true {
            skipWhitespace()
            guard offset < count else {
                throw Failure(.unexpectedEnd, offset: offset, reason: "unexpected end of input, expected a value")
            }
            switch bytes[offset] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let isObject = bytes[offset] == UInt8(ascii: "{")
                depth += 1
                guard depth <= Self.maxDepth else {
                    throw Failure(.tooDeep, offset: offset, reason: "JSON nested deeper than \(Self.maxDepth) levels")
                }
                let bit: UInt64 = 1 << UInt64(depth - 1)
                if isObject { objectLevels |= bit } else { objectLevels &= ~bit }
                offset += 1
                skipWhitespace()
                if offset < count && bytes[offset] == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    offset += 1
                    depth -= 1
                } else {
                    if isObject { try skipKey() }
                    continue
                }
            case UInt8(ascii: "\""): _ = try readStringSpan()
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try readNumber()
            case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try readBool()
            case UInt8(ascii: "n"): try readNull()
            default:
                let at = offset
                if readNonFiniteLiteral() {
                    throw Failure(.nonFiniteLiteral, offset: at, reason: "NaN and Infinity are not allowed")
                }
                throw unexpected(expected: "a value")
            }
            while depth > 0 {
                skipWhitespace()
                guard offset < count else {
                    throw Failure(.unexpectedEnd, offset: offset, reason: "unexpected end of input inside a value")
                }
                let isObject = objectLevels & (1 << UInt64(depth - 1)) != 0
                let byte = bytes[offset]
                if byte == UInt8(ascii: ",") {
                    offset += 1
                    if isObject { try skipKey() }
                    break
                }
                guard byte == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) else {
                    throw unexpected(expected: isObject ? "',' or '}'" : "',' or ']'")
                }
                offset += 1
                depth -= 1
            }
            if depth == 0 { return }
        }
    }

    // MARK: - Internals

    private mutating func skipKey() throws(Failure) {
        skipWhitespace()
        guard offset < bytes.count else {
            throw Failure(.unexpectedEnd, offset: offset, reason: "unexpected end of input, expected an object key")
        }
        guard bytes[offset] == UInt8(ascii: "\"") else { throw unexpected(expected: "a string key") }
        _ = try readStringSpan()
        try expect(UInt8(ascii: ":"))
    }

    /// Whether `word` starts at `start` (default: the cursor) and is not followed by a letter or digit.
    @inline(__always)
    private func matchesWord(_ word: StaticString, at start: Int? = nil) -> Bool {
        let offset = start ?? self.offset
        let length = word.utf8CodeUnitCount
        guard offset + length <= bytes.count else { return false }
        let text = word.utf8Start
        for i in 0..<length where bytes[offset + i] != text[i] { return false }
        if offset + length < bytes.count {
            let next = bytes[offset + length] | 0x20
            if (next >= UInt8(ascii: "a") && next <= UInt8(ascii: "z")) || (next >= 0x30 && next <= 0x39) {
                return false
            }
        }
        return true
    }

    /// Validates the escape at `i` (a backslash) and returns the offset after it.
    @inline(__always)
    private func scanEscape(at i: Int, hasControl: inout Bool) throws(Failure) -> Int {
        let count = bytes.count
        guard i + 1 < count else {
            throw Failure(.unexpectedEnd, offset: i, reason: "unexpected end of input in an escape")
        }
        switch bytes[i + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"):
            return i + 2
        case UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            hasControl = true
            return i + 2
        case UInt8(ascii: "u"):
            let unit = try hexUnit(at: i + 2)
            if unit >= 0xDC00 && unit <= 0xDFFF {
                throw Failure(.syntax, offset: i, reason: "lone low surrogate escape in string")
            }
            if unit >= 0xD800 && unit <= 0xDBFF {
                guard i + 11 < count, bytes[i + 6] == UInt8(ascii: "\\"), bytes[i + 7] == UInt8(ascii: "u") else {
                    throw Failure(.syntax, offset: i, reason: "lone high surrogate escape in string")
                }
                let low = try hexUnit(at: i + 8)
                guard low >= 0xDC00 && low <= 0xDFFF else {
                    throw Failure(.syntax, offset: i, reason: "lone high surrogate escape in string")
                }
                return i + 12
            }
            if unit < 0x20 || (unit >= 0x7F && unit <= 0x9F) { hasControl = true }
            return i + 6
        default:
            throw Failure(.syntax, offset: i, reason: "invalid escape in string")
        }
    }

    /// The four hex digits at `i` as a UTF-16 code unit.
    @inline(__always)
    private func hexUnit(at i: Int) throws(Failure) -> UInt32 {
        guard i + 4 <= bytes.count else {
            throw Failure(.unexpectedEnd, offset: i, reason: "unexpected end of input in a \\u escape")
        }
        var unit: UInt32 = 0
        for k in 0..<4 {
            let value = Self.hexValue(bytes[i + k])
            guard value < 16 else {
                throw Failure(.syntax, offset: i + k, reason: "invalid hex digit in a \\u escape")
            }
            unit = unit << 4 | UInt32(value)
        }
        return unit
    }

    @inline(__always)
    private static func hexValue(_ byte: UInt8) -> UInt8 {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return 0xFF
        }
    }

    /// Length of the well-formed UTF-8 sequence starting with a non-ASCII byte at `i`, or 0 if it is ill-formed.
    @inline(__always)
    private static func utf8SequenceLength(_ bytes: UnsafeRawBufferPointer, at i: Int, count: Int) -> Int {
        let lead = bytes[i]
        @inline(__always) func continuation(_ k: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
            i + k < count && bytes[i + k] >= low && bytes[i + k] <= high
        }
        switch lead {
        case 0xC2...0xDF:
            return continuation(1) ? 2 : 0
        case 0xE0:
            return continuation(1, 0xA0) && continuation(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF:
            return continuation(1) && continuation(2) ? 3 : 0
        case 0xED:
            return continuation(1, 0x80, 0x9F) && continuation(2) ? 3 : 0
        case 0xF0:
            return continuation(1, 0x90) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF1...0xF3:
            return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF4:
            return continuation(1, 0x80, 0x8F) && continuation(2) && continuation(3) ? 4 : 0
        default:
            return 0
        }
    }

    /// Decodes validated string content with escapes into `buffer`, returning the number of bytes written.
    private static func unescape(_ raw: UnsafeRawBufferPointer, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var i = 0
        var out = 0
        let count = raw.count
        while i < count {
            var runEnd = i
            while runEnd < count && raw[runEnd] != 0x5C { runEnd += 1 }
            if runEnd > i {
                let length = runEnd - i
                UnsafeMutableRawPointer(buffer.baseAddress! + out).copyMemory(
                    from: raw.baseAddress! + i, byteCount: length)
                out += length
                i = runEnd
            }
            guard i < count else { break }
            let escape = raw[i + 1]
            i += 2
            var scalar: UInt32
            switch escape {
            case UInt8(ascii: "b"): scalar = 0x08
            case UInt8(ascii: "f"): scalar = 0x0C
            case UInt8(ascii: "n"): scalar = 0x0A
            case UInt8(ascii: "r"): scalar = 0x0D
            case UInt8(ascii: "t"): scalar = 0x09
            case UInt8(ascii: "u"):
                scalar = hexUnitUnchecked(raw, at: i)
                i += 4
                if scalar >= 0xD800 && scalar <= 0xDBFF {
                    let low = hexUnitUnchecked(raw, at: i + 2)
                    i += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
            default: scalar = UInt32(escape)
            }
            if scalar < 0x80 {
                buffer[out] = UInt8(scalar)
                out += 1
            } else if scalar < 0x800 {
                buffer[out] = UInt8(0xC0 | scalar >> 6)
                buffer[out + 1] = UInt8(0x80 | scalar & 0x3F)
                out += 2
            } else if scalar < 0x10000 {
                buffer[out] = UInt8(0xE0 | scalar >> 12)
                buffer[out + 1] = UInt8(0x80 | scalar >> 6 & 0x3F)
                buffer[out + 2] = UInt8(0x80 | scalar & 0x3F)
                out += 3
            } else {
                buffer[out] = UInt8(0xF0 | scalar >> 18)
                buffer[out + 1] = UInt8(0x80 | scalar >> 12 & 0x3F)
                buffer[out + 2] = UInt8(0x80 | scalar >> 6 & 0x3F)
                buffer[out + 3] = UInt8(0x80 | scalar & 0x3F)
                out += 4
            }
        }
        return out
    }

    private static func hexUnitUnchecked(_ raw: UnsafeRawBufferPointer, at i: Int) -> UInt32 {
        var unit: UInt32 = 0
        for k in 0..<4 { unit = unit << 4 | UInt32(hexValue(raw[i + k])) }
        return unit
    }

    /// 10^n for 0 ≤ n ≤ 22, all exactly representable as Double.
    @inline(__always)
    private static func powerOfTen(_ n: Int) -> Double {
        switch n {
        case 0: 1e0
        case 1: 1e1
        case 2: 1e2
        case 3: 1e3
        case 4: 1e4
        case 5: 1e5
        case 6: 1e6
        case 7: 1e7
        case 8: 1e8
        case 9: 1e9
        case 10: 1e10
        case 11: 1e11
        case 12: 1e12
        case 13: 1e13
        case 14: 1e14
        case 15: 1e15
        case 16: 1e16
        case 17: 1e17
        case 18: 1e18
        case 19: 1e19
        case 20: 1e20
        case 21: 1e21
        default: 1e22
        }
    }

    private func unexpected(expected: String) -> Failure {
        guard offset < bytes.count else {
            return Failure(.unexpectedEnd, offset: offset, reason: "unexpected end of input, expected \(expected)")
        }
        let byte = bytes[offset]
        let found = byte >= 0x20 && byte < 0x7F ? "'\(Self.show(byte))'" : "byte 0x\(Self.hex2(byte))"
        return Failure(.syntax, offset: offset, reason: "unexpected \(found), expected \(expected)")
    }

    private func unexpectedOrEnd(expected: String) -> Failure {
        unexpected(expected: expected)
    }

    private static func show(_ byte: UInt8) -> String {
        String(UnicodeScalar(byte))
    }

    private static func hex2(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
    }
}

@available(*, unavailable, message: "JSONScanner borrows memory that must not cross concurrency domains")
extension JSONScanner: Sendable {}
