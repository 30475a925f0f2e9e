// Times Vigil's tree ensemble per row, without a framework: median of several timed passes over all rows.
//
//   tree-timing MODEL ROWS [OUTPUT]
//
// Prints one JSON object: nanoseconds per row for `margin` and for `explain` (TreeSHAP), the model's shape, the import
// time (parsing plus TreeSHAP's tables; the fastest of several imports) and the tables' size. With OUTPUT, also writes
// every row's margin, contributions and bias there (JSON), so the caller can check them against the library that
// trained the model.
import Foundation
import TreeBenchSupport
import VigilCore

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    FileHandle.standardError.write(Data("usage: tree-timing MODEL ROWS [OUTPUT]\n".utf8))
    exit(2)
}
let input = try TreeBenchInput(modelPath: arguments[1], rowsPath: arguments[2])
let model = input.model
let rows = input.rows

@inline(never)
func marginPass(_ rows: [[Double]]) -> Double {
    var sum = 0.0
    for row in rows { sum += model.margin(row) }
    return sum
}

@inline(never)
func explainPass(_ rows: [[Double]]) -> Double {
    var sum = 0.0
    for row in rows { sum += model.explain(row).contributions[0] }
    return sum
}

/// Nanoseconds per row: the median of `repeats` measurements, each as many passes as fill `budget` seconds.
func time(_ pass: ([[Double]]) -> Double, repeats: Int, budget: Double) -> Double {
    let clock = ContinuousClock()
    var sink = 0.0
    let probeStart = clock.now
    sink += pass(rows)
    let probe = probeStart.duration(to: clock.now)
    let probeSeconds = Double(probe.components.seconds) + Double(probe.components.attoseconds) * 1e-18
    let passes = max(1, Int(budget / max(probeSeconds, 1e-9)))
    var samples: [Double] = []
    for _ in 0..<repeats {
        let start = clock.now
        for _ in 0..<passes { sink += pass(rows) }
        let elapsed = start.duration(to: clock.now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        samples.append(seconds * 1e9 / Double(passes * rows.count))
    }
    if sink == .infinity { print("") }  // keep the work observable
    samples.sort()
    return samples[samples.count / 2]
}

/// The fastest of several imports of the model file, in milliseconds (every model kept, so no free is timed).
func fastestImport(_ path: String, repeats: Int) throws -> Double {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let clock = ContinuousClock()
    var kept: [TreeEnsembleModel] = []
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = clock.now
        let model =
            path.hasSuffix(".json")
            ? try TreeEnsembleImport.xgboost(json: bytes, name: "bench", version: "1")
            : try TreeEnsembleImport.lightgbm(text: bytes, name: "bench", version: "1")
        let elapsed = start.duration(to: clock.now)
        kept.append(model)
        best = min(best, Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) * 1e-15)
    }
    return best
}

let importMilliseconds = try fastestImport(arguments[1], repeats: 7)
_ = marginPass(rows)
_ = explainPass(rows)
let marginNanoseconds = time(marginPass, repeats: 7, budget: 0.3)
let explainNanoseconds = time(explainPass, repeats: 5, budget: 0.5)

if arguments.count >= 4 {
    var results: [[String: Any]] = []
    for row in rows {
        let explanation = model.explain(row)
        results.append([
            "margin": model.margin(row), "contributions": explanation.contributions, "bias": explanation.bias,
        ])
    }
    let data = try JSONSerialization.data(withJSONObject: results)
    try data.write(to: URL(fileURLWithPath: arguments[3]))
}

let summary: [String: Any] = [
    "rows": rows.count, "trees": model.metadata.treeCount, "max_depth": model.metadata.maxDepth,
    "features": model.metadata.featureCount, "margin_ns_per_row": marginNanoseconds,
    "explain_ns_per_row": explainNanoseconds, "import_ms": importMilliseconds,
    "shap_table_bytes": model.ensemble.shapTableBytes, "shap_tabled_trees": model.ensemble.shapTabledTreeCount,
]
let json = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])
print(String(decoding: json, as: UTF8.self))
