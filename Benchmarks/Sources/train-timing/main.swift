// Training time of Vigil's gradient-boosted trees: 200,000 rows × 30 features, 200 trees of depth 6 (no early
// stopping), learning rate 0.1, L2 1, minimum child weight 1, 255 bins; AUC on 50,000 later rows.
//
//   swift build -c release --package-path Benchmarks --product train-timing && Benchmarks/.build/release/train-timing
//
// With EXPORT=DIR it also writes DIR/train.csv, DIR/test.csv (label first, empty for missing) and DIR/vigil_auc.txt,
// for scripts/compare-lightgbm, which trains LightGBM with the same parameters on the same rows.
import Foundation
import VigilCore

struct Seeded: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func make(rows: Int, seed: UInt64) -> GradientBoostingTrainer.Data {
    var random = Seeded(state: seed)
    var columns = [[Double]](repeating: [], count: 30)
    var labels: [Bool] = []
    for _ in 0..<rows {
        var x = [Double](repeating: 0, count: 30)
        for f in 0..<30 { x[f] = f % 7 == 3 && random.next() % 5 == 0 ? .nan : Double(random.next() % 10_000) / 100 }
        var logit = -4.0 + (x[0] > 80 ? 1.5 : 0) + (x[1] > 60 && x[2] < 30 ? 1.2 : 0) + x[3].isNaN.int * 0.8
        logit += (x[4] - 50) / 40 + (x[5] > 90 ? 0.7 : 0) - (x[6] < 10 ? 0.6 : 0)
        let p = 1 / (1 + exp(-logit))
        labels.append(Double(random.next() % 1_000_000) / 1_000_000 < p)
        for f in 0..<30 { columns[f].append(x[f]) }
    }
    return .init(columns: columns, labels: labels)
}

extension Bool { var int: Double { self ? 1 : 0 } }

let train = make(rows: 200_000, seed: 1)
let test = make(rows: 50_000, seed: 2)
var parameters = GradientBoostingTrainer.Parameters()
parameters.trees = 200
parameters.maxDepth = 6
let start = ContinuousClock.now
let result = try GradientBoostingTrainer(parameters: parameters).train(train)
let elapsed = ContinuousClock.now - start
let model = try TreeEnsembleModel(
    name: "gbdt", version: "1", featureNames: (0..<30).map { "f\($0)" }, ensemble: result.ensemble, library: "vigil",
    libraryVersion: "1", objective: "binary:logistic")
let scores = (0..<test.rowCount).map { row in model.margin(test.columns.map { $0[row] }) }
// AUC by ranks.
let order = scores.indices.sorted { scores[$0] < scores[$1] }
var rankSum = 0.0
var positives = 0
for (rank, index) in order.enumerated() where test.labels[index] {
    rankSum += Double(rank + 1)
    positives += 1
}
let negatives = test.rowCount - positives
let auc = (rankSum - Double(positives) * Double(positives + 1) / 2) / (Double(positives) * Double(negatives))
print(
    "200,000 rows × 30 features, 200 trees of depth 6: trained in "
        + String(
            format: "%.1f s (target ≤ 30 s); AUC on 50,000 later rows %.4f",
            Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, auc))

if let directory = ProcessInfo.processInfo.environment["EXPORT"] {
    func csv(_ data: GradientBoostingTrainer.Data) -> String {
        var text = "label," + (0..<30).map { "f\($0)" }.joined(separator: ",") + "\n"
        for row in 0..<data.rowCount {
            text += (data.labels[row] ? "1" : "0")
            for column in data.columns { text += column[row].isNaN ? "," : ",\(column[row])" }
            text += "\n"
        }
        return text
    }
    try csv(train).write(toFile: directory + "/train.csv", atomically: true, encoding: .utf8)
    try csv(test).write(toFile: directory + "/test.csv", atomically: true, encoding: .utf8)
    try String(auc).write(toFile: directory + "/vigil_auc.txt", atomically: true, encoding: .utf8)
}
