import Foundation
import Testing

@testable import VigilCore

/// The fixtures written by `scripts/fixtures/make_model_fixtures.py`: model files saved by xgboost and lightgbm, and
/// what the libraries themselves predict and explain for 200 rows of each (see `Fixtures/trees/README.md`).
enum TreeFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/trees")

    struct RowsFile: Decodable {
        var library: String
        var libraryVersion: String
        var modelFile: String
        var objective: String
        var featureNames: [String]
        var rows: [Row]
        var float64Rows: [Row]?

        enum CodingKeys: String, CodingKey {
            case library, objective, rows
            case libraryVersion = "library_version"
            case modelFile = "model_file"
            case featureNames = "feature_names"
            case float64Rows = "float64_rows"
        }
    }

    struct Row: Decodable {
        var x: [Double?]
        var probability: Double?
        var margin: Double
        var contributions: [Double]
        var bias: Double

        var inputs: [Double] { x.map { $0 ?? .nan } }
    }

    static func bytes(_ file: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(file)))
    }

    static func rows(_ base: String) throws -> RowsFile {
        try JSONDecoder().decode(
            RowsFile.self, from: Data(contentsOf: directory.appendingPathComponent("\(base).rows.json")))
    }

    static func model(_ file: String) throws -> TreeEnsembleModel {
        let bytes = try bytes(file)
        return file.hasSuffix(".json")
            ? try TreeEnsembleImport.xgboost(json: bytes, name: "fixture", version: "1")
            : try TreeEnsembleImport.lightgbm(text: bytes, name: "fixture", version: "1")
    }

    /// LightGBM's `sigmoid:` scale from the model's objective line (1 in every fixture).
    static func sigmoid(_ model: TreeEnsembleModel) -> Double {
        guard model.metadata.library == "lightgbm",
            let part = model.metadata.objective.split(separator: " ").first(where: { $0.hasPrefix("sigmoid:") })
        else { return 1 }
        return Double(part.dropFirst("sigmoid:".count)) ?? 1
    }
}

@Suite("Tree ensembles agree with xgboost and lightgbm on their own fixtures")
struct TreeFixtureTests {
    static let scoring = [
        "xgb_binary_logistic", "xgb_logitraw", "xgb_reg_logistic", "lgb_binary", "lgb_binary_zero_missing",
        "lgb_binary_no_missing",
    ]

    @Test(
        "every row: probability and margin within 1e-6, each contribution and the bias within 1e-5", arguments: scoring)
    func parity(base: String) throws {
        // Given a model file and the library's own outputs for its rows
        let expected = try TreeFixtures.rows(base)
        let model = try TreeFixtures.model(expected.modelFile)
        #expect(model.featureNames == expected.featureNames)
        #expect(model.metadata.library == expected.library)
        let sigmoid = TreeFixtures.sigmoid(model)
        var rows = expected.rows
        rows += expected.float64Rows ?? []
        #expect(rows.count >= 200)
        var worstMargin = 0.0
        var worstContribution = 0.0
        for (index, row) in rows.enumerated() {
            // When Vigil scores and explains the row
            let inputs = row.inputs
            let margin = model.margin(inputs)
            let explanation = model.explain(inputs)
            // Then the margin is the library's. xgboost's margin is a float32 sum, which Vigil reproduces by adding
            // the same float32 leaf values in the same order; 1e-6 is the spec's bound (it is met exactly here).
            let libraryMargin = row.margin * sigmoid
            #expect(abs(margin - libraryMargin) <= 1e-6, "row \(index): margin \(margin) vs \(libraryMargin)")
            worstMargin = max(worstMargin, abs(margin - libraryMargin))
            if let probability = row.probability {
                let ours = Explanation.logistic(margin)
                #expect(abs(ours - probability) <= 1e-6, "row \(index): probability \(ours) vs \(probability)")
            }
            // And the explanation is the library's TreeSHAP, in margin units
            #expect(explanation.margin == margin)
            #expect(explanation.contributions.count == row.contributions.count)
            for (feature, (ours, theirs)) in zip(explanation.contributions, row.contributions).enumerated() {
                #expect(
                    abs(ours - theirs * sigmoid) <= 1e-5,
                    "row \(index) feature \(expected.featureNames[feature]): \(ours) vs \(theirs * sigmoid)")
                worstContribution = max(worstContribution, abs(ours - theirs * sigmoid))
            }
            #expect(abs(explanation.bias - row.bias * sigmoid) <= 1e-5, "row \(index): bias \(explanation.bias)")
            // And it adds up exactly
            #expect(explanation.additivityError < 1e-12, "row \(index)")
            #expect(abs(explanation.bias - model.ensemble.expectedMargin) < 1e-5)
        }
        print(
            "\(base): \(rows.count) rows, max |margin diff| \(worstMargin), max |contribution diff| \(worstContribution)"
        )
    }

    @Test("the metadata says what the file is")
    func metadata() throws {
        let xgb = try TreeFixtures.model("xgb_binary_logistic.model.json")
        #expect(xgb.metadata.library == "xgboost")
        #expect(xgb.metadata.objective == "binary:logistic")
        #expect(xgb.metadata.treeCount == 30)
        #expect(xgb.metadata.featureCount == 13)
        #expect(xgb.metadata.maxDepth == 4)
        #expect(xgb.metadata.libraryVersion.split(separator: ".").count == 3)
        let lgb = try TreeFixtures.model("lgb_binary.model.txt")
        #expect(lgb.metadata.library == "lightgbm")
        #expect(lgb.metadata.objective == "binary sigmoid:1")
        #expect(lgb.metadata.treeCount == 30)
        #expect(lgb.metadata.featureCount == 13)
        #expect(lgb.metadata.libraryVersion == "v4")
        #expect(lgb.metadata.maxDepth >= 3)
    }

    @Test(
        "refused files say what and where",
        arguments: [
            ("xgb_multiclass.model.json", "learner.objective.name is \"multi:softprob\""),
            ("xgb_rank.model.json", "learner.objective.name is \"rank:pairwise\""),
            ("lgb_multiclass.model.txt", "objective=multiclass num_class:3: only binary classifiers"),
            ("lgb_categorical.model.txt", "tree 0: num_cat=1: categorical splits are not supported"),
        ])
    func refusals(file: String, message: String) throws {
        #expect {
            _ = try TreeFixtures.model(file)
        } throws: { error in
            guard let error = error as? ModelError, case .invalid(let text) = error else { return false }
            return text.contains(message)
        }
    }
}
