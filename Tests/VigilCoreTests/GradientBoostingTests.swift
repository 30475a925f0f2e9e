import Foundation
import Testing

@testable import VigilCore

@Suite("Gradient-boosted trees: training")
struct GradientBoostingTests {
    /// y depends on x0 (threshold), x1 (interaction with x0), x2 missing often; x3 is noise.
    static func data(rows: Int, seed: UInt64) -> GradientBoostingTrainer.Data {
        var random = SplitMix64(seed: seed)
        var columns = [[Double]](repeating: [], count: 4)
        var labels: [Bool] = []
        for _ in 0..<rows {
            let x0 = Double(random.next() % 1000) / 10
            let x1 = Double(random.next() % 100)
            let x2: Double = random.next() % 3 == 0 ? .nan : Double(random.next() % 10)
            let x3 = Double(random.next() % 1000)
            var logit = -3.0 + (x0 > 70 ? 2.5 : 0) + (x0 > 70 && x1 > 50 ? 1.5 : 0) + (x2.isNaN ? 1.0 : 0)
            logit += Double(random.next() % 100) / 100 - 0.5
            let p = 1 / (1 + Foundation.exp(-logit))
            labels.append(Double(random.next() % 10_000) / 10_000 < p)
            columns[0].append(x0)
            columns[1].append(x1)
            columns[2].append(x2)
            columns[3].append(x3)
        }
        return GradientBoostingTrainer.Data(columns: columns, labels: labels)
    }

    @Test("learns thresholds, interactions and missingness; the ensemble scores as training did; early stopping")
    func learns() throws {
        let train = Self.data(rows: 20_000, seed: 1)
        let valid = Self.data(rows: 5_000, seed: 2)
        var parameters = GradientBoostingTrainer.Parameters()
        parameters.trees = 300
        parameters.earlyStoppingRounds = 10
        let result = try GradientBoostingTrainer(parameters: parameters).train(train, validation: valid)
        #expect(result.bestIteration < 300, "early stopping never triggered")
        #expect(result.validationLoss.count >= result.bestIteration)
        #expect(result.validationLoss.first! > result.validationLoss[result.bestIteration - 1])
        let model = try TreeEnsembleModel(
            name: "gbdt", version: "1", featureNames: ["x0", "x1", "x2", "x3"], ensemble: result.ensemble,
            library: "vigil", libraryVersion: "1", objective: "binary:logistic")
        var scores: [Double] = []
        for row in 0..<valid.rowCount {
            let inputs = valid.columns.map { $0[row] }
            scores.append(Explanation.logistic(model.margin(inputs)))
        }
        let auc = Evaluation.rocAUC(scores: scores, isFraud: valid.labels, fraud: valid.labels.filter { $0 }.count)
        #expect(auc > 0.80, "AUC \(auc)")
        // The model uses the informative features, not the noise.
        let used = Set(result.ensemble.features.map(Int.init))
        #expect(used.contains(0) && used.contains(2))
    }

    @Test("bad input is refused; cut points split distinct values and quantiles")
    func details() {
        #expect(throws: ModelError.self) {
            try GradientBoostingTrainer().train(.init(columns: [[1, 2]], labels: [true]))
        }
        #expect(GradientBoostingTrainer.cuts([3, 1, 2, 2, .nan], maxBins: 255) == [2, 3])
        let many = (0..<10_000).map(Double.init)
        let cuts = GradientBoostingTrainer.cuts(many, maxBins: 255)
        #expect(cuts.count <= 253 && cuts.count > 200)
        #expect(zip(cuts, cuts.dropFirst()).allSatisfy { $0 < $1 })
    }
}
