/// Builds compact JSON text as UTF-8 bytes, inserting commas itself, so encoders only say what to write.
///
/// Call `key(_:)` before each member value inside an object. The writer does not check nesting; it trusts its caller
/// to pair `objectStart()`/`objectEnd()` and `arrayStart()`/`arrayEnd()`.
public struct JSONWriter: Sendable {
    /// The JSON written so far.
    public var bytes: [UInt8]
    private var needsComma = false

    /// An empty writer whose buffer has room for `capacity` bytes, so typical documents never reallocate.
    public init(reservingCapacity capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    // MARK: - Structure

    /// Opens an object (`{`), as a value or an array element.
    public mutating func objectStart() {
        separate()
        bytes.append(UInt8(ascii: "{"))
    }

    /// Closes the innermost object (`}`).
    public mutating func objectEnd() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// Opens an array (`[`), as a value or an array element.
    public mutating func arrayStart() {
        separate()
        bytes.append(UInt8(ascii: "["))
    }

    /// Closes the innermost array (`]`).
    public mutating func arrayEnd() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes an object member's name and the colon; the member's value must follow.
    public mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
    }

    // MARK: - Values

    /// Writes a string value, escaped.
    public mutating func string(_ value: String) {
        separate()
        appendQuoted(value)
        needsComma = true
    }

    /// Writes the shortest text that reads back as the same Double; NaN and ±infinity, which JSON cannot carry, as
    /// `null`.
    public mutating func number(_ value: Double) {
        separate()
        if value.isFinite {
            bytes.append(contentsOf: value.description.utf8)
        } else {
            appendStatic("null")
        }
        needsComma = true
    }

    /// Writes an integer in decimal.
    public mutating func int(_ value: Int) {
        int(Int64(value))
    }

    /// Writes an integer in decimal, without going through `String`.
    public mutating func int(_ value: Int64) {
        separate()
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[(20 - count)..<20]))
        }
        needsComma = true
    }

    /// Writes `true` or `false`.
    public mutating func bool(_ value: Bool) {
        separate()
        if value { appendStatic("true") } else { appendStatic("false") }
        needsComma = true
    }

    /// Writes `null`.
    public mutating func null() {
        separate()
        appendStatic("null")
        needsComma = true
    }

    /// Splices one complete, already encoded JSON value (for example a stored document) in value position.
    public mutating func raw(_ json: [UInt8]) {
        separate()
        bytes.append(contentsOf: json)
        needsComma = true
    }

    /// Writes the string, or `null` when there is none.
    public mutating func optionalString(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    /// Writes the number, or `null` when there is none.
    public mutating func optionalNumber(_ value: Double?) {
        if let value { number(value) } else { null() }
    }

    /// Writes the integer, or `null` when there is none.
    public mutating func optionalInt(_ value: Int64?) {
        if let value { int(value) } else { null() }
    }

    // MARK: - Internals

    @inline(__always)
    private mutating func separate() {
        if needsComma {
            bytes.append(UInt8(ascii: ","))
            needsComma = false
        }
    }

    @inline(__always)
    private mutating func appendStatic(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends `text` in quotes, escaping `"`, `\` and control characters below U+0020 as `\u00XX`.
    private mutating func appendQuoted(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var runStart = 0
            var i = 0
            let count = utf8.count
            while i < count {
                let byte = utf8[i]
                if byte >= 0x20 && byte != 0x22 && byte != 0x5C {
                    i += 1
                    continue
                }
                if i > runStart { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i])) }
                if byte < 0x20 {
                    let hex: StaticString = "0123456789abcdef"
                    bytes.append(contentsOf: [
                        UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                        hex.utf8Start[Int(byte >> 4)], hex.utf8Start[Int(byte & 0xF)],
                    ])
                } else {
                    bytes.append(UInt8(ascii: "\\"))
                    bytes.append(byte)
                }
                i += 1
                runStart = i
            }
            if count > runStart { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<count])) }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
