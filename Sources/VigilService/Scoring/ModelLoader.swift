import Foundation
import VigilCore

/// Reads model files named in config; the embedded default when no path is configured.
public enum ModelLoader {
    /// The model file that seeds an empty registry: `model.path`, or the embedded default when it is empty.
    public static func seedFile(path: String) throws -> (bytes: [UInt8], source: String) {
        if path.isEmpty { return (Array(DefaultModel.json.utf8), "embedded default model") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelLoadError(source: path, message: "cannot read the file")
        }
        return ([UInt8](data), path)
    }

    public static func logistic(json: Data, source: String) throws -> LogisticModel {
        let document = try logisticDocument(json: json, source: source)
        do {
            return try LogisticModel(document: document)
        } catch {
            throw ModelLoadError(source: source, message: error.description)
        }
    }

    /// Decodes a `vigil-logistic/1` document, naming the field that is wrong.
    public static func logisticDocument(json: Data, source: String) throws -> LogisticModelDocument {
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
        return document
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
