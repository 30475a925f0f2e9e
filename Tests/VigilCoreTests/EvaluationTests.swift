import Foundation
import Testing

@testable import VigilCore

/// scikit-learn's own metrics on fixed score sets, written by scripts/fixtures/make_metric_fixtures.py.
struct MetricFixture: Decodable {
    struct Threshold: Decodable {
        var risk_score: Int
        var flagged: Int
        var precision: Double?
        var recall: Double?
    }

    struct Case: Decodable {
        var name: String
        var scores: [Double]
        var is_fraud: [Bool]
        var roc_auc: Double?
        var average_precision: Double?
        var review: Threshold
        var decline: Threshold
    }

    var review_at: Int
    var decline_at: Int
    var cases: [Case]

    static func load() throws -> MetricFixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/metrics/evaluation.json")
        return try JSONDecoder().decode(MetricFixture.self, from: Data(contentsOf: url))
    }
}

@Suite("Evaluation against scikit-learn")
struct EvaluationTests {
    @Test("ROC AUC, average precision, precision and recall equal scikit-learn's on every fixture case")
    func parity() throws {
        let fixture = try MetricFixture.load()
        #expect(fixture.cases.count >= 5)
        let policy = try DecisionPolicy(reviewAt: fixture.review_at, declineAt: fixture.decline_at)
        for item in fixture.cases {
            let evaluation = Evaluation(scores: item.scores, isFraud: item.is_fraud, policy: policy)
            #expect(evaluation.labelled == item.scores.count)
            #expect(evaluation.fraud == item.is_fraud.filter { $0 }.count)
            #expect(Self.close(evaluation.rocAUC, item.roc_auc), "\(item.name) roc_auc")
            #expect(Self.close(evaluation.averagePrecision, item.average_precision), "\(item.name) average precision")
            for (quality, expected) in zip(evaluation.thresholds, [item.review, item.decline]) {
                #expect(quality.riskScore == expected.risk_score)
                #expect(quality.flagged == expected.flagged, "\(item.name) \(quality.name) flagged")
                #expect(Self.close(quality.precision, expected.precision), "\(item.name) \(quality.name) precision")
                #expect(Self.close(quality.recall, expected.recall), "\(item.name) \(quality.name) recall")
            }
        }
    }

    static func close(_ lhs: Double?, _ rhs: Double?) -> Bool {
        switch (lhs, rhs) {
        case (nil, nil): true
        case (let a?, let b?): abs(a - b) < 1e-12
        default: false
        }
    }
}
