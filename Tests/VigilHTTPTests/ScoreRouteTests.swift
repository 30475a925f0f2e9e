import CompressNIO
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import VigilService
import VigilStore

@testable import VigilHTTP

@Suite("POST /v1/score")
struct ScoreRouteTests {
    @Test("a valid payment is scored, stored and answered with the contract's fields")
    func scores() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            try await client.execute(
                uri: "/v1/score", method: .post, headers: server.headers(.scoring),
                body: ByteBuffer(string: transactionJSON("tx-1"))
            ) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                #expect(response.headers[HTTPField.Name("X-Request-Id")!] != nil)
                let answer = try object(response.body)
                #expect(answer["transaction_id"] as? String == "tx-1")
                #expect(answer["decision"] as? String == "approve")
                #expect((answer["risk_score"] as? Int).map { (0...100).contains($0) } == true)
                // An approval carries no reasons unless asked: nobody reads them, and tree SHAP is costly.
                #expect((answer["reasons"] as? [[String: Any]])?.count == 0)
                #expect((answer["model"] as? [String: Any])?["name"] as? String == "default-logistic")
                #expect((answer["model"] as? [String: Any])?["version"] as? String == "1")
                #expect(answer["case_id"] is NSNull)
            }
            try await client.execute(
                uri: "/v1/score?explain=true", method: .post, headers: server.headers(.scoring),
                body: ByteBuffer(string: transactionJSON("tx-2"))
            ) { response in
                #expect(response.status == .ok)
                let answer = try object(response.body)
                #expect(answer["decision"] as? String == "approve")
                let reasons = try #require(answer["reasons"] as? [[String: Any]])
                #expect(reasons.count == 3)
                #expect(reasons.allSatisfy { ($0["sentence"] as? String)?.isEmpty == false })
            }
            try await client.execute(
                uri: "/v1/score?explain=maybe&x=1", method: .post, headers: server.headers(.scoring),
                body: ByteBuffer(string: transactionJSON("tx-3"))
            ) { response in
                #expect(response.status == .badRequest)
                let problem = try object(response.body)
                let paths = (problem["errors"] as? [[String: Any]])?.compactMap { $0["path"] as? String }
                #expect(paths?.sorted() == ["$.query.explain", "$.query.x"])
            }
            try await client.execute(uri: "/v1/transactions/tx-1", method: .get, headers: server.headers(.review)) {
                response in
                #expect(response.status == .ok)
                let record = try object(response.body)
                #expect((record["transaction"] as? [String: Any])?["amount"] as? Double == 40.5)
                #expect((record["features"] as? [String: Any])?["hour_of_day"] as? Double == 10)
                #expect(record["decision"] as? String == "approve")
            }
        }
    }

    @Test("decisions follow the configured thresholds; review opens a case that the queue shows")
    func thresholdsAndCases() async throws {
        let server = try await TestServer.make()
        let risky = transactionJSON(
            "tx-risky",
            [
                "amount": "2450", "card_country": "\"US\"", "ip_country": "\"NG\"", "channel": "\"ecommerce\"",
                "occurred_at": "\"2026-11-22T03:00:00Z\"",
            ])
        let medium = transactionJSON(
            "tx-medium",
            ["amount": "500", "card_country": "\"US\"", "channel": "\"ecommerce\"", "ip_country": "\"US\""])
        try await server.test { client in
            let decline = try await client.execute(
                uri: "/v1/score", method: .post, headers: server.headers(.scoring), body: ByteBuffer(string: risky))
            #expect(try object(decline.body)["decision"] as? String == "decline")
            let review = try await client.execute(
                uri: "/v1/score", method: .post, headers: server.headers(.scoring), body: ByteBuffer(string: medium))
            let answer = try object(review.body)
            #expect(answer["decision"] as? String == "review")
            let caseID = try #require(answer["case_id"] as? String)
            let list = try await client.execute(
                uri: "/v1/cases?order=risk&limit=10", method: .get, headers: server.headers(.review))
            #expect(list.status == .ok)
            let items = try #require(try object(list.body)["items"] as? [[String: Any]])
            #expect(items.map { $0["case_id"] as? String } == [caseID])
            let detail = try await client.execute(
                uri: "/v1/cases/\(caseID)", method: .get, headers: server.headers(.review))
            #expect(detail.status == .ok)
            #expect(
                (try object(detail.body)["transaction"] as? [String: Any])?["transaction_id"] as? String == "tx-medium")
        }
    }

    @Test("concurrent duplicates get the same bytes and store one row")
    func concurrentDuplicates() async throws {
        let server = try await TestServer.make()
        let body = transactionJSON("tx-dup")
        let answers = try await server.test { client in
            try await withThrowingTaskGroup(of: (HTTPResponse.Status, String).self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        let response = try await client.execute(
                            uri: "/v1/score", method: .post, headers: server.headers(.scoring),
                            body: ByteBuffer(string: body))
                        return (response.status, response.body.text)
                    }
                }
                return try await group.reduce(into: [(HTTPResponse.Status, String)]()) { $0.append($1) }
            }
        }
        #expect(answers.allSatisfy { $0.0 == .ok })
        #expect(Set(answers.map(\.1)).count == 1)
        let rows = try await server.runtime.database.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM transactions WHERE transaction_id = 'tx-dup'")
        }
        #expect(rows == 1)
    }

    @Test("ids with slashes, spaces and non-ASCII read back through percent-encoded paths")
    func percentEncodedIDs() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            for id in ["a/b", "with space", "café-✓", "100%"] {
                let scored = try await client.execute(
                    uri: "/v1/score", method: .post, headers: server.headers(.scoring),
                    body: ByteBuffer(string: transactionJSON(id)))
                #expect(scored.status == .ok)
                let encoded = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                let read = try await client.execute(
                    uri: "/v1/transactions/\(encoded)", method: .get, headers: server.headers(.admin))
                #expect(read.status == .ok, "\(id)")
                #expect(try object(read.body)["transaction_id"] as? String == id)
            }
        }
    }

    @Test("the same id with a different body is a 409 problem")
    func conflict() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            _ = try await client.execute(
                uri: "/v1/score", method: .post, headers: server.headers(.scoring),
                body: ByteBuffer(string: transactionJSON("tx-c")))
            let response = try await client.execute(
                uri: "/v1/score", method: .post, headers: server.headers(.scoring),
                body: ByteBuffer(string: transactionJSON("tx-c", ["amount": "41"])))
            #expect(response.status == .conflict)
            #expect(response.headers[.contentType] == "application/problem+json")
            #expect(try object(response.body)["type"] as? String == "https://vigil.dev/problems/conflict")
            // A replay with the same body is counted as a replay, not as a second decision
            let replay = try await client.execute(
                uri: "/v1/score", method: .post, headers: server.headers(.scoring),
                body: ByteBuffer(string: transactionJSON("tx-c")))
            #expect(replay.status == .ok)
            let metrics = try await client.execute(uri: "/metrics", method: .get).body.text
            #expect(metrics.contains("vigil_score_replays_total 1"))
            #expect(metrics.contains(#"vigil_decisions_total{decision="approve"} 1"#))
        }
    }

    static let invalidBodies: [(String, String, [String])] = [
        ("malformed", "{\"transaction_id\": ", ["$"]),
        ("not an object", "[1,2]", ["$"]),
        ("NaN amount", transactionJSON("x", ["amount": "NaN"]), ["$.amount"]),
        ("Infinity amount", transactionJSON("x", ["amount": "Infinity"]), ["$.amount"]),
        ("overflowing amount", transactionJSON("x", ["amount": "1e999"]), ["$.amount"]),
        ("negative amount", transactionJSON("x", ["amount": "-1"]), ["$.amount"]),
        ("amount as string", transactionJSON("x", ["amount": "\"12\""]), ["$.amount"]),
        ("unknown currency", transactionJSON("x", ["currency": "\"XYZ\""]), ["$.currency"]),
        ("lower-case currency", transactionJSON("x", ["currency": "\"eur\""]), ["$.currency"]),
        ("unknown country", transactionJSON("x", ["card_country": "\"QQ\""]), ["$.card_country"]),
        ("bad timestamp", transactionJSON("x", ["occurred_at": "\"2026-13-01T00:00:00Z\""]), ["$.occurred_at"]),
        ("timestamp without zone", transactionJSON("x", ["occurred_at": "\"2026-11-01T00:00:00\""]), ["$.occurred_at"]),
        ("empty id", transactionJSON("", [:]), ["$.transaction_id"]),
        ("oversized id", transactionJSON(String(repeating: "a", count: 129)), ["$.transaction_id"]),
        (
            "oversized string", transactionJSON("x", ["card_id": "\"\(String(repeating: "c", count: 257))\""]),
            ["$.card_id"]
        ),
        ("bad channel", transactionJSON("x", ["channel": "\"web\""]), ["$.channel"]),
        ("bad MCC", transactionJSON("x", ["merchant_category": "\"54a1\""]), ["$.merchant_category"]),
        ("bad email", transactionJSON("x", ["email": "\"nobody\""]), ["$.email"]),
        ("bad IP", transactionJSON("x", ["ip_address": "\"300.1.1.1\""]), ["$.ip_address"]),
        ("unknown field", transactionJSON("x", ["amout": "1"]), ["$.amout"]),
        ("nested attribute", transactionJSON("x", ["attributes": "{\"a\":{\"b\":1}}"]), ["$.attributes.a"]),
        (
            "too many attributes",
            transactionJSON("x", ["attributes": "{" + (0..<65).map { "\"k\($0)\":1" }.joined(separator: ",") + "}"]),
            ["$.attributes"]
        ),
        ("missing required fields", "{}", ["$.transaction_id", "$.occurred_at", "$.amount", "$.currency"]),
        (
            "several bad fields", transactionJSON("x", ["amount": "-5", "currency": "\"EURO\"", "channel": "\"web\""]),
            ["$.amount", "$.currency", "$.channel"]
        ),
    ]

    @Test("bad input is a 400 problem naming every bad field", arguments: invalidBodies)
    func validation(name: String, body: String, paths: [String]) async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            try await client.execute(
                uri: "/v1/score", method: .post, headers: server.headers(.scoring), body: ByteBuffer(string: body)
            ) { response in
                #expect(response.status == .badRequest, "\(name)")
                #expect(response.headers[.contentType] == "application/problem+json")
                let problem = try object(response.body)
                #expect(problem["status"] as? Int == 400)
                let reported = Set((problem["errors"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String })
                #expect(reported.isSuperset(of: paths), "\(name): \(reported)")
            }
        }
    }

    @Test("wrong content type is 415, a too large body 413, an unknown content encoding 415")
    func transportRefusals() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            var text = server.headers(.scoring, json: false)
            text[.contentType] = "text/plain"
            let wrongType = try await client.execute(
                uri: "/v1/score", method: .post, headers: text, body: ByteBuffer(string: transactionJSON()))
            #expect(wrongType.status == .unsupportedMediaType)
            #expect(wrongType.headers[.contentType] == "application/problem+json")
            let noType = try await client.execute(
                uri: "/v1/score", method: .post, headers: server.headers(.scoring, json: false),
                body: ByteBuffer(string: transactionJSON()))
            #expect(noType.status == .unsupportedMediaType)
            let huge = transactionJSON("big", ["attributes": "{\"pad\":\"\(String(repeating: "x", count: 70_000))\"}"])
            let tooLarge = try await client.execute(
                uri: "/v1/score", method: .post, headers: server.headers(.scoring), body: ByteBuffer(string: huge))
            #expect(tooLarge.status == .contentTooLarge)
            #expect(tooLarge.headers[.contentType] == "application/problem+json")
            var brotli = server.headers(.scoring)
            brotli[.contentEncoding] = "br"
            let unknownEncoding = try await client.execute(
                uri: "/v1/score", method: .post, headers: brotli, body: ByteBuffer(string: transactionJSON()))
            #expect(unknownEncoding.status == .unsupportedMediaType)
            var empty = server.headers(.scoring, json: false)
            empty[.contentType] = ""
            let emptyType = try await client.execute(
                uri: "/v1/score", method: .post, headers: empty, body: ByteBuffer(string: transactionJSON()))
            #expect(emptyType.status == .unsupportedMediaType)
            var latin1 = server.headers(.scoring, json: false)
            latin1[.contentType] = "application/json; charset=iso-8859-1"
            let wrongCharset = try await client.execute(
                uri: "/v1/score", method: .post, headers: latin1, body: ByteBuffer(string: transactionJSON()))
            #expect(wrongCharset.status == .unsupportedMediaType)
            var charset = server.headers(.scoring, json: false)
            charset[.contentType] = "application/json; charset=utf-8"
            let withCharset = try await client.execute(
                uri: "/v1/score", method: .post, headers: charset, body: ByteBuffer(string: transactionJSON()))
            #expect(withCharset.status == .ok)
        }
    }

    @Test("gzip request bodies are accepted; a gzip bomb is a 413, corrupt gzip a 400")
    func gzipBodies() async throws {
        let server = try await TestServer.make()
        var gzipHeaders = server.headers(.scoring)
        gzipHeaders[.contentEncoding] = "gzip"
        let gzip = gzipHeaders
        var plain = ByteBuffer(string: transactionJSON("tx-gz"))
        let compressed = try plain.compress(with: .gzip())
        // A 10 MB body of spaces compresses to about 10 KB.
        var bombSource = ByteBuffer(string: "{" + String(repeating: " ", count: 10_000_000) + "}")
        let bomb = try bombSource.compress(with: .gzip())
        #expect(bomb.readableBytes < 65_536)
        try await server.test { client in
            let ok = try await client.execute(uri: "/v1/score", method: .post, headers: gzip, body: compressed)
            #expect(ok.status == .ok)
            let exploded = try await client.execute(uri: "/v1/score", method: .post, headers: gzip, body: bomb)
            #expect(exploded.status == .contentTooLarge)
            let corrupt = try await client.execute(
                uri: "/v1/score", method: .post, headers: gzip, body: ByteBuffer(string: "not gzip"))
            #expect(corrupt.status == .badRequest)
            #expect(corrupt.headers[.contentType] == "application/problem+json")
        }
    }
}
