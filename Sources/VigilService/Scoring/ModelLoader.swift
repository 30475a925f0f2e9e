import Foundation
import VigilCore

/// Reads model files into models; the embedded default when no path is configured.
public enum ModelLoader {
    public static func load(path: String) throws -> any ScoringModel {
        if path.isEmpty { return try logistic(json: Data(DefaultModel.json.utf8), source: "embedded default model") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelLoadError(source: path, message: "cannot read the file")
        }
        return try logistic(json: data, source: path)
    }

    public static func logistic(json: Data, source: String) throws -> LogisticModel {
        let document: LogisticModelDocument
        do {
            document = try JSONDecoder().decode(LogisticModelDocument.self, from: json)
        } catch let DecodingError.keyNotFound(key, context) {
            throw ModelLoadError(source: source, message: "missing \(Self.path(context.codingPath + [key]))")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw ModelLoadError(
                source: source, message: "\(Self.path(context.codingPath)): \(context.debugDescription)")
        } catch let DecodingError.dataCorrupted(context) {
            throw ModelLoadError(source: source, message: "not valid JSON: \(context.debugDescription)")
        }
        do {
            return try LogisticModel(document: document)
        } catch {
            throw ModelLoadError(source: source, message: error.description)
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
    }
}

/// A model file that could not be used, with where and why.
public struct ModelLoadError: Error, Sendable, CustomStringConvertible {
    public var source: String
    public var message: String
    public var description: String { "\(source): \(message)" }
}
