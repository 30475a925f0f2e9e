import Foundation
import Yams

/// Builds the configuration: embedded defaults < config file < `VIGIL_*` environment < command-line flags.
public struct ConfigLoader: Sendable {
    /// The file read when `--config` is not given, if it exists.
    public static let defaultPath = "config/vigil.yaml"

    public init() {}

    /// - Parameters:
    ///   - file: `--config`; it must exist when given. Without it `config/vigil.yaml` is read if present.
    ///   - environment: the process environment; `VIGIL_CONFIG` names a file like `--config`.
    ///   - flags: settings from flags, by key (`server.port` …).
    /// - Returns: the configuration and the file it read, if any.
    public func load(
        file: String?, environment: [String: String], flags: [(key: String, value: String)]
    ) throws(ConfigError) -> (config: VigilConfig, file: String?) {
        var config = VigilConfig()
        let path = file ?? environment["VIGIL_CONFIG"]
        var readFile: String?
        if let path {
            try config.apply(try Self.settings(fromFile: path))
            readFile = path
        } else if FileManager.default.fileExists(atPath: Self.defaultPath) {
            try config.apply(try Self.settings(fromFile: Self.defaultPath))
            readFile = Self.defaultPath
        }
        try config.apply(Self.settings(fromEnvironment: environment))
        try config.apply(flags.map { ($0.key, $0.value, "flag") })
        return (config, readFile)
    }

    /// `VIGIL_*` variables that name no key; `load` does not fail on them (scripts export their own
    /// `VIGIL_URL` and keys), and `vigil serve` prints them as a warning.
    public static func unknownVariables(in environment: [String: String]) -> [String] {
        let known = Set(VigilConfig.keys.map { "VIGIL_" + $0.replacingOccurrences(of: ".", with: "_").uppercased() })
        return environment.keys.filter {
            $0.hasPrefix("VIGIL_") && $0 != "VIGIL_CONFIG" && !known.contains($0) && !clientVariables.contains($0)
        }
        .sorted()
    }

    /// Read by the client commands (`vigil cases`, `label`, `stats`, `simulate`), not by the server.
    public static let clientVariables: Set<String> = [
        "VIGIL_URL", "VIGIL_KEY", "VIGIL_SCORING_KEY", "VIGIL_REVIEW_KEY", "VIGIL_ADMIN_KEY",
    ]

    /// `VIGIL_SERVER_PORT=9000` → `server.port`; `VIGIL_CONFIG` is the file itself, not a key.
    static func settings(fromEnvironment environment: [String: String]) -> [(
        key: String, value: String, source: String
    )] {
        var byVariable: [String: String] = [:]
        for key in VigilConfig.keys {
            byVariable["VIGIL_" + key.replacingOccurrences(of: ".", with: "_").uppercased()] = key
        }
        var settings: [(String, String, String)] = []
        for (variable, value) in environment.sorted(by: { $0.key < $1.key })
        where variable.hasPrefix("VIGIL_") && variable != "VIGIL_CONFIG" {
            guard let key = byVariable[variable] else { continue }
            settings.append((key, value, "environment \(variable)"))
        }
        return settings
    }

    static func settings(fromFile path: String) throws(ConfigError) -> [(key: String, value: String, source: String)] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadable(path: path, reason: "\(error.localizedDescription)")
        }
        return try settings(fromYAML: text, source: path)
    }

    /// Flattens a YAML document to dotted keys; sequences become comma-separated lists.
    static func settings(fromYAML text: String, source: String) throws(ConfigError) -> [(
        key: String, value: String, source: String
    )] {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw .unreadable(path: source, reason: "\(error)")
        }
        guard let node else { return [] }
        guard case .mapping(let mapping) = node else {
            throw .unreadable(path: source, reason: "the top level must be a mapping of keys")
        }
        var settings: [(String, String, String)] = []
        try flatten(mapping, prefix: "", source: source, into: &settings)
        return settings
    }

    private static func flatten(
        _ mapping: Node.Mapping, prefix: String, source: String, into settings: inout [(String, String, String)]
    ) throws(ConfigError) {
        for (keyNode, valueNode) in mapping {
            guard let name = keyNode.string else {
                throw .unreadable(
                    path: source, reason: "keys must be strings (under \(prefix.isEmpty ? "top level" : prefix))")
            }
            let key = prefix.isEmpty ? name : "\(prefix).\(name)"
            switch valueNode {
            case .mapping(let nested):
                try flatten(nested, prefix: key, source: source, into: &settings)
            case .sequence(let sequence):
                var items: [String] = []
                for item in sequence {
                    guard let text = item.string, !text.contains(",") else {
                        throw .invalid(key, "(from \(source)) must be a list of plain values")
                    }
                    items.append(text)
                }
                settings.append((key, items.joined(separator: ","), source))
            case .scalar(let scalar):
                guard VigilConfig.keys.contains(key) else { throw .unknownKey(key, source: source) }
                settings.append((key, scalar.string == "~" ? "" : scalar.string, source))
            }
        }
    }
}
