import Foundation
import Testing

@testable import VigilCore

@Suite("Logistic regression training and the LightGBM text export of trained trees")
struct TrainingExportTests {
    /// Rows from a known logistic model: margin = -2 + 1.5·z0 − 1·z1 + 0·z2 on standard-normal-ish inputs.
    static func logisticData(rows: Int, seed: UInt64) -> GradientBoostingTrainer.Data {
        var random = SplitMix64(seed: seed)
        func uniform() -> Double { Double(random.next() >> 11) / Double(1 << 53) }
        func normal() -> Double {
            (-2 * Foundation.log(max(uniform(), 1e-300))).squareRoot() * Foundation.cos(2 * .pi * uniform())
        }
        var columns = [[Double]](repeating: [], count: 4)
        var labels: [Bool] = []
        for _ in 0..<rows {
            let x0 = 10 + 2 * normal()  // mean 10, sd 2
            let x1 = normal()
            let x2 = normal()
            let margin = -2 + 1.5 * (x0 - 10) / 2 - x1
            labels.append(uniform() < 1 / (1 + Foundation.exp(-margin)))
            columns[0].append(x0)
            columns[1].append(x1)
            columns[2].append(x2)
            columns[3].append(7)  // constant
        }
        return GradientBoostingTrainer.Data(columns: columns, labels: labels)
    }

    @Test("recovers a known logistic model's weights; a constant feature gets weight 0 and scale 1")
    func recoversWeights() throws {
        let data = Self.logisticData(rows: 40_000, seed: 3)
        let document = try LogisticRegressionTrainer().train(
            data, featureNames: ["a", "b", "c", "d"], name: "lr", version: "1")
        let model = try LogisticModel(document: document)
        #expect(abs(document.intercept - -2) < 0.1, "\(document.intercept)")
        #expect(abs(document.features[0].weight - 1.5) < 0.1, "\(document.features[0])")
        #expect(abs(document.features[1].weight - -1) < 0.1, "\(document.features[1])")
        #expect(abs(document.features[2].weight) < 0.05, "\(document.features[2])")
        #expect(document.features[3].weight == 0 && document.features[3].scale == 1)
        #expect(abs(document.features[0].mean - 10) < 0.05 && abs(document.features[0].scale - 2) < 0.05)
        // The document scores as the trainer's standardised model: a missing input contributes nothing.
        let row = [12.0, .nan, 0.5, 7]
        let expected =
            document.intercept + document.features[0].weight * (12 - document.features[0].mean)
            / document.features[0].scale + document.features[2].weight * (0.5 - document.features[2].mean)
            / document.features[2].scale
        #expect(abs(model.margin(row) - expected) < 1e-12)
        // It round-trips through JSON, the registry's file.
        let decoded = try JSONDecoder().decode(LogisticModelDocument.self, from: JSONEncoder().encode(document))
        #expect(try LogisticModel(document: decoded) == model)
    }

    @Test("missing values are imputed with the mean in training as in scoring; empty data is refused")
    func missingAndEmpty() throws {
        var data = Self.logisticData(rows: 5_000, seed: 4)
        for row in stride(from: 0, to: 5_000, by: 3) { data.columns[0][row] = .nan }
        let document = try LogisticRegressionTrainer().train(
            data, featureNames: ["a", "b", "c", "d"], name: "lr", version: "1")
        #expect(document.features[0].weight > 1 && document.features[0].weight < 2)
        #expect(throws: ModelError.self) {
            try LogisticRegressionTrainer().train(
                GradientBoostingTrainer.Data(columns: [[]], labels: []), featureNames: ["a"], name: "x", version: "1")
        }
    }

    @Test("a trained ensemble written as LightGBM text reads back with bit-identical margins")
    func lightGBMRoundTrip() throws {
        let train = GradientBoostingTests.data(rows: 5_000, seed: 9)
        var parameters = GradientBoostingTrainer.Parameters()
        parameters.trees = 30
        parameters.maxDepth = 4
        let result = try GradientBoostingTrainer(parameters: parameters).train(train)
        let names = ["x0", "x1", "x2", "x3"]
        let text = result.ensemble.lightGBMText(featureNames: names)
        #expect(text.hasPrefix("tree\nversion=v4\n"))
        #expect(text.contains("objective=binary sigmoid:1"))
        let model = try TreeEnsembleImport.lightgbm(text: Array(text.utf8), name: "rt", version: "1")
        #expect(model.featureNames == names)
        // Rows of the training data, missing values, and values exactly at every threshold.
        var rows: [[Double]] = (0..<2_000).map { row in (0..<4).map { train.columns[$0][row] } }
        for node in 0..<result.ensemble.nodeCount where result.ensemble.leftChildren[node] >= 0 {
            var row = [50.0, 50, 5, 500]
            row[Int(result.ensemble.features[node])] = result.ensemble.thresholds[node]
            rows.append(row)
            row[Int(result.ensemble.features[node])] = result.ensemble.thresholds[node].nextDown
            rows.append(row)
        }
        rows.append([.nan, .nan, .nan, .nan])
        for row in rows {
            #expect(model.margin(row) == result.ensemble.margin(row), "\(row)")
        }
    }

    @Test("a single-leaf tree is written without split lines and reads back")
    func singleLeaf() throws {
        let ensemble = try TreeEnsemble(
            featureCount: 2, baseMargin: -1.25, leafSum: .double,
            trees: [
                .leaf(0.5),
                TreeEnsemble.Tree(
                    leftChildren: [1, -1, -1], rightChildren: [2, -1, -1], features: [1, 0, 0],
                    thresholds: [3, 0, 0], defaultLeft: [true, false, false], values: [0, -0.25, 0.75],
                    covers: [10, 4, 6]),
            ])
        let text = ensemble.lightGBMText(featureNames: ["a", "b"])
        let model = try TreeEnsembleImport.lightgbm(text: Array(text.utf8), name: "leaf", version: "1")
        for row in [[0.0, 2.9], [0, 3], [0, .nan], [1, 100]] {
            #expect(model.margin(row) == ensemble.margin(row))
        }
        #expect(model.margin([0, .nan]) == -1.25 + 0.5 - 0.25)
    }
}
