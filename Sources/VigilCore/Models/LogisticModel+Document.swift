/// The JSON file format of the built-in logistic model (`config/models/*.json`).
///
/// ```json
/// {"format": "vigil-logistic/1", "name": "default", "version": "1", "intercept": -5.2,
///  "features": [{"name": "log_amount", "weight": 0.9, "mean": 3.6, "scale": 1.3}]}
/// ```
public struct LogisticModelDocument: Codable, Sendable, Equatable {
    public static let format = "vigil-logistic/1"

    public struct Feature: Codable, Sendable, Equatable {
        public var name: String
        public var weight: Double
        public var mean: Double
        public var scale: Double
        /// What the weight means, for people reading the file.
        public var note: String?
    }

    public var format: String
    public var name: String
    public var version: String
    public var description: String?
    public var intercept: Double
    public var features: [Feature]
}

extension LogisticModel {
    /// Validates a decoded model document.
    public init(document: LogisticModelDocument) throws(ModelError) {
        guard document.format == LogisticModelDocument.format else {
            throw .invalid("format is \"\(document.format)\", expected \"\(LogisticModelDocument.format)\"")
        }
        try self.init(
            name: document.name, version: document.version, description: document.description ?? "",
            intercept: document.intercept,
            features: document.features.map { ($0.name, $0.weight, $0.mean, $0.scale) })
    }
}
