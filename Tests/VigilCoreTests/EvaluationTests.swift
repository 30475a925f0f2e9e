import Foundation
import Testing

@testable import VigilCore

/// scikit-learn's own metrics on fixed score sets, written by scripts/fixtures/make_metric_fixtures.py.
struct MetricFixture: Decodable {
    struct Threshold: Decodable {
        var riskScore: Int
        var flagged: Int
        var precision: Double?
        var recall: Double?
    }

    struct Case: Decodable {
        var name: String
        var scores: [Double]
        var isFraud: [Bool]
        var rocAuc: Double?
        var averagePrecision: Double?
        var review: Threshold
        var decline: Threshold
    }

    var reviewAt: Int
    var declineAt: Int
    var cases: [Case]

    static func load() throws -> MetricFixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/metrics/evaluation.json")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(MetricFixture.self, from: Data(contentsOf: url))
    }
}

@Suite("Evaluation against scikit-learn")
struct EvaluationTests {
    @Test("ROC AUC, average precision, precision and recall equal scikit-learn's on every fixture case")
    func parity() throws {
        let fixture = try MetricFixture.load()
        #expect(fixture.cases.count >= 5)
        let policy = try DecisionPolicy(reviewAt: fixture.reviewAt, declineAt: fixture.declineAt)
        for item in fixture.cases {
            let evaluation = Evaluation(scores: item.scores, isFraud: item.isFraud, policy: policy)
            #expect(evaluation.labelled == item.scores.count)
            #expect(evaluation.fraud == item.isFraud.filter { $0 }.count)
            #expect(Self.close(evaluation.rocAUC, item.rocAuc), "\(item.name) rocAuc")
            #expect(Self.close(evaluation.averagePrecision, item.averagePrecision), "\(item.name) average precision")
            for (quality, expected) in zip(evaluation.thresholds, [item.review, item.decline]) {
                #expect(quality.riskScore == expected.riskScore)
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
