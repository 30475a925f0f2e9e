import Foundation

/// Any JSON document, read leniently: the terminal client prints what a server answer contains and skips what it
/// does not, so a field added or missing on the server never breaks a command.
enum JSONValue: Sendable, Equatable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Parses a whole document; nil when the bytes are not JSON.
    static func parse(_ data: Data) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: data)
    }

    subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] } else { return nil }
    }

    var string: String? {
        if case .string(let value) = self { return value } else { return nil }
    }

    var double: Double? {
        if case .number(let value) = self { return value } else { return nil }
    }

    var int: Int? {
        if case .number(let value) = self, value.rounded() == value, abs(value) < 1e15 { return Int(value) }
        return nil
    }

    var bool: Bool? {
        if case .bool(let value) = self { return value } else { return nil }
    }

    var array: [JSONValue]? {
        if case .array(let value) = self { return value } else { return nil }
    }

    var object: [String: JSONValue]? {
        if case .object(let value) = self { return value } else { return nil }
    }

    var isNull: Bool { self == .null }

    /// Short text for a terminal: strings unquoted, whole numbers without a fraction, containers as compact JSON.
    var text: String {
        switch self {
        case .null: "null"
        case .bool(let value): value ? "true" : "false"
        case .number(let value): Self.number(value)
        case .string(let value): value
        case .array(let items): "[" + items.map(\.json).joined(separator: ",") + "]"
        case .object: json
        }
    }

    /// Compact JSON text, keys sorted.
    var json: String {
        switch self {
        case .string(let value):
            let data = (try? JSONEncoder().encode(value)) ?? Data("\"\"".utf8)
            return String(decoding: data, as: UTF8.self)
        case .array(let items): return "[" + items.map(\.json).joined(separator: ",") + "]"
        case .object(let members):
            return "{"
                + members.keys.sorted().map { JSONValue.string($0).json + ":" + members[$0]!.json }.joined(
                    separator: ",") + "}"
        default: return text
        }
    }

    static func number(_ value: Double) -> String {
        if value.rounded() == value, abs(value) < 1e15 { return String(Int(value)) }
        return String(value)
    }
}
