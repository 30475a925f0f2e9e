import VigilCore

/// A small JSON request body (a rule, a list change, a backtest) parsed into values, for field-by-field validation.
///
/// Built on `JSONScanner`, so the same limits apply (depth, UTF-8). Objects keep their members in order;
/// a key given twice is reported by `JSONObjectReader`.
public indirect enum JSONInput: Sendable, Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    case array([JSONInput])
    case object([(String, JSONInput)])

    public static func == (lhs: JSONInput, rhs: JSONInput) -> Bool {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.bool(let a), .bool(let b)): a == b
        case (.null, .null): true
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// Parses a whole body; a syntax error is `ServiceError.malformed` at `$`.
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxElements: Int = 200_000) throws(ServiceError)
        -> JSONInput
    {
        var scanner = JSONScanner(bytes)
        var budget = maxElements
        do {
            let value = try read(&scanner, budget: &budget)
            try scanner.expectEnd()
            return value
        } catch is TooLarge {
            throw .validation([FieldError(path: "$", message: "has more than \(maxElements) values")])
        } catch {
            throw .malformed(FieldError(path: "$", message: "malformed JSON: \(error)"))
        }
    }

    public static func parse(_ bytes: [UInt8], maxElements: Int = 200_000) throws(ServiceError) -> JSONInput {
        let result = bytes.withUnsafeBytes { raw -> Result<JSONInput, ServiceError> in
            do throws(ServiceError) {
                return .success(try parse(raw, maxElements: maxElements))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private struct TooLarge: Error {}

    private struct NonFinite: Error, CustomStringConvertible {
        var description: String { "NaN and Infinity are not JSON numbers" }
    }

    private static func read(_ scanner: inout JSONScanner, budget: inout Int) throws -> JSONInput {
        budget -= 1
        guard budget >= 0 else { throw TooLarge() }
        switch scanner.peek() {
        case UInt8(ascii: "{"):
            try scanner.beginObject()
            var members: [(String, JSONInput)] = []
            var first = true
            while let span = try scanner.nextObjectKey(isFirst: &first) {
                let key = scanner.string(span)
                members.append((key, try read(&scanner, budget: &budget)))
            }
            return .object(members)
        case UInt8(ascii: "["):
            try scanner.beginArray()
            var elements: [JSONInput] = []
            var first = true
            while try scanner.nextArrayElement(isFirst: &first) {
                elements.append(try read(&scanner, budget: &budget))
            }
            return .array(elements)
        default:
            switch try scanner.readValue() {
            case .string(let span): return .string(scanner.string(span))
            case .number(let number): return .number(number)
            case .bool(let flag): return .bool(flag)
            case .null: return .null
            case .object, .array, .nonFiniteLiteral:
                throw NonFinite()
            }
        }
    }

    /// The JSON type name, for error messages.
    public var typeName: String {
        switch self {
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// Reads the members of a request object, collecting every bad field instead of stopping at the first.
public struct JSONObjectReader {
    public private(set) var errors: [FieldError] = []
    private var members: [String: JSONInput] = [:]
    private let prefix: String

    /// Refuses a non-object body, keys given twice and keys not in `known`.
    public init(_ input: JSONInput, known: Set<String>, path prefix: String = "$") throws(ServiceError) {
        self.prefix = prefix
        guard case .object(let pairs) = input else {
            throw .validation([FieldError(path: prefix, message: "must be a JSON object, not \(input.typeName)")])
        }
        for (key, value) in pairs {
            let path = "\(prefix).\(key.prefix(64))"
            if !known.contains(key) {
                errors.append(FieldError(path: path, message: "is not a known field"))
            } else if members[key] != nil {
                errors.append(FieldError(path: path, message: "is given more than once"))
            } else {
                members[key] = value
            }
        }
    }

    public func has(_ key: String) -> Bool { members[key] != nil }

    /// Whether the key is present with an explicit `null`.
    public func isNull(_ key: String) -> Bool { members[key] == .null }

    public mutating func fail(_ key: String, _ message: String) {
        errors.append(FieldError(path: "\(prefix).\(key)", message: message))
    }

    /// true or false; nil when absent or null, an error for anything else.
    public mutating func bool(_ key: String) -> Bool? {
        switch members[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        case let other?:
            fail(key, "must be true or false, not \(other.typeName)")
            return nil
        }
    }

    /// A string of 1…`maxBytes` UTF-8 bytes; nil (and an error when `required`) otherwise. Null counts as absent.
    public mutating func string(_ key: String, required: Bool = false, maxBytes: Int = 256) -> String? {
        guard let value = members[key], value != .null else {
            if required { fail(key, "is required") }
            return nil
        }
        guard case .string(let text) = value, (1...maxBytes).contains(text.utf8.count) else {
            fail(key, "must be a string of 1 to \(maxBytes) bytes")
            return nil
        }
        return text
    }

    /// A finite number in `range`.
    public mutating func number(_ key: String, required: Bool = false, in range: ClosedRange<Double>) -> Double? {
        guard let value = members[key], value != .null else {
            if required { fail(key, "is required") }
            return nil
        }
        guard case .number(let number) = value, number.isFinite, range.contains(number) else {
            fail(key, "must be a number from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return number
    }

    /// A whole number in `range`.
    public mutating func int(_ key: String, in range: ClosedRange<Int>) -> Int? {
        guard let value = members[key], value != .null else { return nil }
        guard case .number(let number) = value, number.rounded() == number, number >= Double(range.lowerBound),
            number <= Double(range.upperBound)
        else {
            fail(key, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return Int(number)
    }

    /// An RFC 3339 time as microseconds.
    public mutating func time(_ key: String, required: Bool = false) -> Int64? {
        guard let value = members[key], value != .null else {
            if required { fail(key, "is required") }
            return nil
        }
        guard case .string(let text) = value, case .success(let micros) = RFC3339.parse(text) else {
            fail(key, "must be an RFC 3339 time such as 2026-11-22T10:00:00Z")
            return nil
        }
        return micros
    }

    /// An array of strings, each 1…`maxBytes` bytes, at most `maxCount`.
    public mutating func strings(_ key: String, required: Bool = false, maxCount: Int, maxBytes: Int = 256) -> [String]?
    {
        guard let value = members[key], value != .null else {
            if required { fail(key, "is required") }
            return nil
        }
        guard case .array(let elements) = value else {
            fail(key, "must be an array of strings")
            return nil
        }
        guard elements.count <= maxCount else {
            fail(key, "must have at most \(maxCount) values, not \(elements.count)")
            return nil
        }
        var result: [String] = []
        result.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            guard case .string(let text) = element, (1...maxBytes).contains(text.utf8.count) else {
                errors.append(
                    FieldError(
                        path: "\(prefix).\(key)[\(index)]", message: "must be a string of 1 to \(maxBytes) bytes"))
                return nil
            }
            result.append(text)
        }
        return result
    }

    /// One of a closed set of strings.
    public mutating func choice<T: RawRepresentable<String>>(_ key: String, required: Bool = false, _ type: T.Type)
        -> T? where T: CaseIterable
    {
        guard let value = members[key], value != .null else {
            if required { fail(key, "is required") }
            return nil
        }
        guard case .string(let text) = value, let choice = T(rawValue: text) else {
            fail(key, "must be one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return choice
    }

    /// Throws every collected error as one validation failure.
    public func check() throws(ServiceError) {
        if !errors.isEmpty { throw .validation(errors) }
    }
}
