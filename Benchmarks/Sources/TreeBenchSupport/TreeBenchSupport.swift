import Foundation
import VigilCore

/// The model and rows a tree benchmark runs on, named by `VIGIL_BENCH_MODEL` and `VIGIL_BENCH_ROWS`.
public struct TreeBenchInput: Sendable {
    public let model: TreeEnsembleModel
    /// Inputs ordered as the model's features; NaN is missing.
    public let rows: [[Double]]

    /// Loads an XGBoost `.json` or LightGBM `.txt` model and a JSON array of rows (`null` = missing).
    public init(modelPath: String, rowsPath: String) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: modelPath)))
        model =
            modelPath.hasSuffix(".json")
            ? try TreeEnsembleImport.xgboost(json: bytes, name: "bench", version: "1")
            : try TreeEnsembleImport.lightgbm(text: bytes, name: "bench", version: "1")
        let decoded = try JSONDecoder().decode([[Double?]].self, from: Data(contentsOf: URL(fileURLWithPath: rowsPath)))
        rows = decoded.map { row in row.map { $0 ?? .nan } }
        guard !rows.isEmpty, rows.allSatisfy({ $0.count == model.featureNames.count }) else {
            throw BenchInputError(
                message: "\(rowsPath): every row must have \(model.featureNames.count) values, one per model feature")
        }
    }

    /// From the environment: `VIGIL_BENCH_MODEL` and `VIGIL_BENCH_ROWS`.
    public static func fromEnvironment() throws -> TreeBenchInput {
        let environment = ProcessInfo.processInfo.environment
        guard let model = environment["VIGIL_BENCH_MODEL"], let rows = environment["VIGIL_BENCH_ROWS"] else {
            throw BenchInputError(
                message: "set VIGIL_BENCH_MODEL (an xgboost .json or lightgbm .txt model) and VIGIL_BENCH_ROWS (a JSON "
                    + "array of rows); scripts/bench-trees makes both")
        }
        return try TreeBenchInput(modelPath: model, rowsPath: rows)
    }
}

/// Why the benchmark input could not be loaded.
public struct BenchInputError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
