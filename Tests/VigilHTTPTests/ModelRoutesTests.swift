import CompressNIO
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import VigilCore
import VigilService
import VigilStore

@testable import VigilHTTP

/// A logistic model file reading `log_amount` (and optionally another feature) with the given weights.
func logisticModelFile(weight: Double, intercept: Double = -3, extraFeature: String? = nil) -> String {
    let extra = extraFeature.map { #",{"name":"\#($0)","weight":1,"mean":0,"scale":1}"# } ?? ""
    return
        #"{"format":"vigil-logistic/1","name":"x","version":"x","intercept":\#(intercept),"features":[{"name":"log_amount","weight":\#(weight),"mean":3.6,"scale":1.3}\#(extra)]}"#
}

@Suite("Model registry and explanation routes")
struct ModelRoutesTests {
    @Test("upload answers 201 with the version's page and Location; bad uploads are precise problems")
    func upload() async throws {
        let server = try await TestServer.make { $0.maxModelUploadBytes = 2048 }
        try await server.test { client in
            let created = try await client.execute(
                uri: "/v1/models?name=amount&format=vigil-logistic", method: .post,
                headers: server.headers(.admin, json: false), body: ByteBuffer(string: logisticModelFile(weight: 1)))
            #expect(created.status == .created)
            #expect(created.headers[.location] == "/v1/models/amount/versions/1")
            let page = try object(created.body)
            #expect(page["version"] as? Int == 1)
            #expect(page["format"] as? String == "vigil-logistic")
            #expect((page["sha256"] as? String)?.count == 64)
            #expect((page["uploaded_by"] as? String)?.hasPrefix("test-admin") == true)
            #expect(page["feature_names"] as? [String] == ["log_amount"])

            // gzip bodies are accepted
            var gzipHeaders = server.headers(.admin, json: false)
            gzipHeaders[.contentEncoding] = "gzip"
            var plain = ByteBuffer(string: logisticModelFile(weight: 2))
            let zipped = try plain.compress(with: .gzip())
            let second = try await client.execute(
                uri: "/v1/models?name=amount&format=vigil-logistic", method: .post, headers: gzipHeaders, body: zipped)
            #expect(second.status == .created)
            #expect(try object(second.body)["version"] as? Int == 2)

            let cases: [(String, String, HTTPResponse.Status, String)] = [
                ("/v1/models?format=vigil-logistic", logisticModelFile(weight: 1), .badRequest, "$.query.name"),
                ("/v1/models?name=a&format=onnx", logisticModelFile(weight: 1), .badRequest, "$.query.format"),
                (
                    "/v1/models?name=Bad%20Name&format=vigil-logistic", logisticModelFile(weight: 1), .badRequest,
                    "lower-case"
                ),
                (
                    "/v1/models?name=a&format=vigil-logistic",
                    logisticModelFile(weight: 1, extraFeature: "velocity_1h"),
                    .unprocessableContent, "velocity_1h"
                ),
                ("/v1/models?name=a&format=vigil-logistic", "{\"format\":", .unprocessableContent, "not valid JSON"),
                (
                    "/v1/models?name=a&format=vigil-logistic", String(repeating: " ", count: 4096),
                    .contentTooLarge, "at most 2048 bytes"
                ),
            ]
            for (uri, body, status, mention) in cases {
                let response = try await client.execute(
                    uri: uri, method: .post, headers: server.headers(.admin, json: false),
                    body: ByteBuffer(string: body))
                #expect(response.status == status, "\(uri)")
                #expect(response.headers[.contentType] == "application/problem+json")
                let text = String(buffer: response.body)
                #expect(text.contains(mention), "\(uri): \(text)")
            }
        }
    }

    @Test("promote hot-swaps the champion; the old decision is still explained with the version that made it")
    func promoteAndExplain() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let risky = transactionJSON("tx-old", ["amount": "2450", "card_country": "\"US\"", "ip_country": "\"NG\""])
            let old = try await client.execute(
                uri: "/v1/score", method: .post, headers: server.headers(.scoring), body: ByteBuffer(string: risky))
            #expect(old.status == .ok)
            let oldAnswer = try object(old.body)

            _ = try await client.execute(
                uri: "/v1/models?name=amount&format=vigil-logistic", method: .post,
                headers: server.headers(.admin, json: false), body: ByteBuffer(string: logisticModelFile(weight: 1)))
            let promoted = try await client.execute(
                uri: "/v1/models/amount/versions/1/promote", method: .post, headers: server.headers(.admin),
                body: ByteBuffer(string: #"{"alias":"champion"}"#))
            #expect(promoted.status == .ok)
            let aliases = try object(promoted.body)
            #expect((aliases["champion"] as? [String: Any])?["name"] as? String == "amount")

            let new = try await client.execute(
                uri: "/v1/score?explain=true", method: .post, headers: server.headers(.scoring),
                body: ByteBuffer(string: transactionJSON("tx-new")))
            #expect((try object(new.body)["model"] as? [String: Any])?["name"] as? String == "amount")

            // The old decision is explained by default-logistic version 1, exactly as it was scored.
            let explained = try await client.execute(
                uri: "/v1/transactions/tx-old/explanation", method: .get, headers: server.headers(.review))
            #expect(explained.status == .ok)
            let explanation = try object(explained.body)
            let model = try #require(explanation["model"] as? [String: Any])
            #expect(model["name"] as? String == "default-logistic")
            #expect(model["version"] as? String == "1")
            #expect(
                (explanation["probability"] as? Double).map { abs($0 - (oldAnswer["score"] as! Double)) } ?? 1 < 1e-12)
            let contributions = try #require(explanation["contributions"] as? [[String: Any]])
            let bias = try #require(explanation["bias"] as? Double)
            let margin = try #require(explanation["margin"] as? Double)
            let sum = contributions.compactMap { $0["contribution"] as? Double }.reduce(bias, +)
            #expect(abs(sum - margin) < 1e-9)
            let defaultModel = try ModelLoader.logistic(json: Data(DefaultModel.json.utf8), source: "embedded")
            #expect(contributions.map { $0["feature"] as? String } == defaultModel.featureNames)
            #expect(try #require(explanation["additivity_error"] as? Double) < 1e-9)
            #expect((explanation["reasons"] as? [[String: Any]])?.count == 3)
            #expect(explanation["decision"] as? String == oldAnswer["decision"] as? String)

            // The new one by amount version 1.
            let explainedNew = try await client.execute(
                uri: "/v1/transactions/tx-new/explanation", method: .get, headers: server.headers(.scoring))
            let newModel = try object(explainedNew.body)["model"] as? [String: Any]
            #expect(newModel?["name"] as? String == "amount")
            #expect(newModel?["version"] as? String == "1")

            let missing = try await client.execute(
                uri: "/v1/transactions/none/explanation", method: .get, headers: server.headers(.scoring))
            #expect(missing.status == .notFound)
            let badPromote = try await client.execute(
                uri: "/v1/models/amount/versions/1/promote", method: .post, headers: server.headers(.admin),
                body: ByteBuffer(string: #"{"alias":"king","x":1}"#))
            #expect(badPromote.status == .badRequest)
            let paths = (try object(badPromote.body)["errors"] as? [[String: Any]])?.compactMap {
                $0["path"] as? String
            }
            #expect(paths?.sorted() == ["$.alias", "$.x"])
            let unknownVersion = try await client.execute(
                uri: "/v1/models/amount/versions/9/promote", method: .post, headers: server.headers(.admin),
                body: ByteBuffer(string: #"{"alias":"champion"}"#))
            #expect(unknownVersion.status == .notFound)
        }
    }

    @Test("POST /v1/explain answers what the champion would say and stores nothing")
    func whatIf() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let response = try await client.execute(
                uri: "/v1/explain", method: .post, headers: server.headers(.scoring),
                body: ByteBuffer(string: transactionJSON("tx-what-if")))
            #expect(response.status == .ok)
            let explanation = try object(response.body)
            #expect(explanation["transaction_id"] as? String == "tx-what-if")
            #expect((explanation["contributions"] as? [[String: Any]])?.isEmpty == false)
            let stored = try await client.execute(
                uri: "/v1/transactions/tx-what-if", method: .get, headers: server.headers(.scoring))
            #expect(stored.status == .notFound)
            let invalid = try await client.execute(
                uri: "/v1/explain", method: .post, headers: server.headers(.scoring),
                body: ByteBuffer(string: #"{"transaction_id":"x"}"#))
            #expect(invalid.status == .badRequest)
        }
    }

    @Test("promotions under concurrent scoring: no failed request, every decision scored by one whole model")
    func hotSwapUnderLoad() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            for weight in [1.0, 2.0] {
                let uploaded = try await client.execute(
                    uri: "/v1/models?name=swap&format=vigil-logistic", method: .post,
                    headers: server.headers(.admin, json: false),
                    body: ByteBuffer(string: logisticModelFile(weight: weight)))
                #expect(uploaded.status == .created)
            }
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        try await client.execute(
                            uri: "/v1/score?explain=true", method: .post, headers: server.headers(.scoring),
                            body: ByteBuffer(string: transactionJSON("tx-swap-\(index)"))
                        ).status
                    }
                }
                group.addTask {
                    for round in 0..<20 {
                        let version = round % 2 + 1
                        let response = try await client.execute(
                            uri: "/v1/models/swap/versions/\(version)/promote", method: .post,
                            headers: server.headers(.admin), body: ByteBuffer(string: #"{"alias":"champion"}"#))
                        #expect(response.status == .ok)
                    }
                    return .ok
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == .ok })
            // Each stored decision's answer names the same model whose file hash was recorded with it, and its
            // explanation (recomputed with that version) gives the same score.
            let hashes = try await server.runtime.database.pool.read { db in
                try Row.fetchAll(db, sql: "SELECT name, version, sha256 FROM models")
                    .reduce(into: [String: String]()) {
                        $0["\($1["name"] as String)/\($1["version"] as Int)"] = $1["sha256"]
                    }
            }
            let rows = try await server.runtime.database.pool.read { db in
                try Row.fetchAll(
                    db,
                    sql:
                        "SELECT model_name, model_version, model_sha256, score, answer FROM transactions WHERE transaction_id LIKE 'tx-swap-%'"
                )
            }
            #expect(rows.count == 200)
            for row in rows {
                let name: String = row["model_name"]
                let version: String = row["model_version"]
                #expect(hashes["\(name)/\(version)"] == row["model_sha256"])
                let answer: String = row["answer"]
                #expect(answer.contains(#""model":{"name":"\#(name)","version":"\#(version)"}"#))
            }
        }
    }
}

@Suite("XGBoost and LightGBM files through the API")
struct TreeModelRouteTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("VigilCoreTests/Fixtures/trees")
    static let features = [
        "amount", "log_amount", "hour_of_day", "is_weekend", "card_merchant_country_mismatch", "channel_ecommerce",
        "mcc_high_risk", "attributes.f01", "attributes.f02", "attributes.f03", "attributes.f04", "attributes.f05",
        "attributes.f06",
    ]

    /// The default features (the seeded champion reads them) plus the fixtures' attributes.
    static let configured = VigilConfig.defaultFeatures + Self.features.filter { $0.hasPrefix("attributes.") }

    static func file(_ name: String) throws -> ByteBuffer {
        ByteBuffer(bytes: try Data(contentsOf: fixtures.appendingPathComponent(name)))
    }

    static let transaction = transactionJSON(
        "tx-tree",
        [
            "amount": "1250.5", "occurred_at": "\"2026-11-21T23:30:00Z\"", "card_country": "\"US\"",
            "channel": "\"ecommerce\"",
            "attributes": #"{"f01":0.3,"f02":-1.5,"f03":0,"f04":2.25,"f05":null,"f06":7}"#,
        ])

    @Test(
        "hostile uploads (truncated, huge, deeply nested, wrong types) are refused clearly; the champion keeps scoring")
    func hostileUploads() async throws {
        let server = try await TestServer.make {
            $0.features = Self.configured
            $0.maxModelUploadBytes = 1_048_576
        }
        try await server.test { client in
            let xgboost = String(buffer: try Self.file("xgb_binary_logistic.model.json"))
            let lightgbm = String(buffer: try Self.file("lgb_binary.model.txt"))
            let cases: [(format: String, body: String, status: HTTPResponse.Status, mention: String)] = [
                ("xgboost-json", String(xgboost.prefix(xgboost.count / 2)), .unprocessableContent, "truncated"),
                ("lightgbm-text", String(lightgbm.prefix(lightgbm.count / 2)), .unprocessableContent, "is missing"),
                ("xgboost-json", String(repeating: " ", count: 1_048_577), .contentTooLarge, "at most 1048576 bytes"),
                (
                    "xgboost-json", #"{"learner":"# + String(repeating: "[", count: 200_000), .unprocessableContent,
                    "learner"
                ),
                ("vigil-logistic", String(repeating: "[", count: 200_000), .unprocessableContent, "JSON"),
                (
                    "xgboost-json",
                    xgboost.replacingOccurrences(of: #""num_feature":"#, with: #""num_feature":{"x":1},"unused":"#),
                    .unprocessableContent, "num_feature"
                ),
                (
                    "lightgbm-text", lightgbm.replacingOccurrences(of: "max_feature_idx=", with: "max_feature_idx=x"),
                    .unprocessableContent, "max_feature_idx"
                ),
                (
                    "vigil-logistic",
                    #"{"format":"vigil-logistic/1","name":1,"version":"1","intercept":"a","features":[]}"#,
                    .unprocessableContent, "name"
                ),
            ]
            for (index, upload) in cases.enumerated() {
                let response = try await client.execute(
                    uri: "/v1/models?name=hostile&format=\(upload.format)", method: .post,
                    headers: server.headers(.admin, json: false), body: ByteBuffer(string: upload.body))
                #expect(response.status == upload.status, "case \(index): \(String(buffer: response.body).prefix(300))")
                #expect(response.headers[.contentType] == "application/problem+json", "case \(index)")
                #expect(String(buffer: response.body).contains(upload.mention), "case \(index)")
                // The champion is untouched and keeps deciding.
                let scored = try await client.execute(
                    uri: "/v1/score", method: .post, headers: server.headers(.scoring),
                    body: ByteBuffer(string: transactionJSON("hostile-\(index)")))
                #expect(scored.status == .ok)
                #expect(String(buffer: scored.body).contains(#""model":{"name":"default-logistic","version":"1"}"#))
            }
            let stored = try await server.runtime.registry.store.all()
            #expect(stored.map(\.key.name) == ["default-logistic"])
        }
    }

    @Test(
        "library files are accepted as saved, decide as champion, and explain exactly",
        arguments: [("xgb_binary_logistic.model.json", "xgboost-json"), ("lgb_binary.model.txt", "lightgbm-text")])
    func champion(file: String, format: String) async throws {
        let server = try await TestServer.make { $0.features = Self.configured }
        let bytes = try Self.file(file)
        // The expected score, computed by the importer and extractor directly.
        let model: any ScoringModel =
            format == "xgboost-json"
            ? try TreeEnsembleImport.xgboost(json: Array(buffer: bytes), name: "gbm", version: "1")
            : try TreeEnsembleImport.lightgbm(text: Array(buffer: bytes), name: "gbm", version: "1")
        let transaction = try TransactionDecoder.decode(Array(Self.transaction.utf8)).get()
        let extractor = try FeatureExtractor(
            names: Self.configured, highRiskMerchantCategories: Set(VigilConfig().highRiskMerchantCategories))
        let runner = try ModelRunner(model: model, extractor: extractor)
        let expected = Explanation.logistic(model.margin(runner.inputs(from: extractor.extract(transaction))))

        try await server.test { client in
            let uploaded = try await client.execute(
                uri: "/v1/models?name=gbm&format=\(format)", method: .post,
                headers: server.headers(.admin, json: false),
                body: bytes)
            #expect(uploaded.status == .created)
            let page = try object(uploaded.body)
            #expect(page["feature_names"] as? [String] == Self.features)
            let details = try #require(page["details"] as? [String: Any])
            #expect(details["kind"] as? String == "tree ensemble")
            #expect((details["trees"] as? Int ?? 0) > 0)
            let promoted = try await client.execute(
                uri: "/v1/models/gbm/versions/1/promote", method: .post, headers: server.headers(.admin),
                body: ByteBuffer(string: #"{"alias":"champion"}"#))
            #expect(promoted.status == .ok)

            let scored = try await client.execute(
                uri: "/v1/score?explain=true", method: .post, headers: server.headers(.scoring),
                body: ByteBuffer(string: Self.transaction))
            #expect(scored.status == .ok)
            let answer = try object(scored.body)
            // Within an ulp or two: Foundation's JSON parser does not always round the last digit correctly.
            #expect(abs(try #require(answer["score"] as? Double) - expected) < 1e-15)
            #expect((answer["model"] as? [String: Any])?["name"] as? String == "gbm")
            #expect((answer["reasons"] as? [[String: Any]])?.isEmpty == false)

            let explained = try await client.execute(
                uri: "/v1/transactions/tx-tree/explanation", method: .get, headers: server.headers(.review))
            let explanation = try object(explained.body)
            let bias = try #require(explanation["bias"] as? Double)
            let margin = try #require(explanation["margin"] as? Double)
            let contributions = try #require(explanation["contributions"] as? [[String: Any]])
            #expect(contributions.count == Self.features.count)
            let sum = contributions.compactMap { $0["contribution"] as? Double }.reduce(bias, +)
            #expect(abs(sum - margin) < 1e-9)
            #expect(abs(try #require(explanation["probability"] as? Double) - expected) < 1e-6)
            // attributes.f05 was null: a missing value, shown as null.
            #expect(contributions.first { $0["feature"] as? String == "attributes.f05" }?["value"] is NSNull)
        }
    }

    @Test(
        "multiclass, ranking and categorical models are refused with what and where",
        arguments: [
            ("xgb_multiclass.model.json", "xgboost-json"), ("xgb_rank.model.json", "xgboost-json"),
            ("lgb_multiclass.model.txt", "lightgbm-text"), ("lgb_categorical.model.txt", "lightgbm-text"),
        ])
    func refused(file: String, format: String) async throws {
        let server = try await TestServer.make { $0.features = Self.configured }
        try await server.test { client in
            let response = try await client.execute(
                uri: "/v1/models?name=bad&format=\(format)", method: .post,
                headers: server.headers(.admin, json: false),
                body: try Self.file(file))
            #expect(response.status == .unprocessableContent)
            let problem = try object(response.body)
            #expect(problem["type"] as? String == "https://vigil.dev/problems/invalid-model")
            #expect((problem["detail"] as? String)?.isEmpty == false)
            let list = try await client.execute(uri: "/v1/models", method: .get, headers: server.headers(.admin))
            #expect((try object(list.body)["models"] as? [[String: Any]])?.count == 1)
        }
    }

    @Test("a tree model whose features the config does not produce is refused, listing them")
    func missingFeatures() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let response = try await client.execute(
                uri: "/v1/models?name=gbm&format=xgboost-json", method: .post,
                headers: server.headers(.admin, json: false), body: try Self.file("xgb_binary_logistic.model.json"))
            #expect(response.status == .unprocessableContent)
            let detail = try object(response.body)["detail"] as? String ?? ""
            #expect(detail.contains("attributes.f01, attributes.f02"))
        }
    }
}
