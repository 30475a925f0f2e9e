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

@Suite("Auth matrix, operations routes and errors")
struct AuthAndOpsTests {
    /// Every protected route with the roles it accepts.
    static let routes: [(HTTPRequest.Method, String, [Role], String?, HTTPResponse.Status)] = [
        (.post, "/v1/score", [.scoring], transactionJSON("tx-auth"), .ok),
        (.get, "/v1/transactions/tx-auth", [.scoring, .review, .admin], nil, .ok),
        (.get, "/v1/transactions/tx-auth/explanation", [.scoring, .review, .admin], nil, .ok),
        (.post, "/v1/explain", [.scoring], transactionJSON("tx-what-if"), .ok),
        (.get, "/v1/cases", [.review], nil, .ok),
        (.get, "/v1/cases/CASE", [.review], nil, .ok),
        (.get, "/v1/models", [.admin], nil, .ok),
        (.post, "/v1/models?name=uploaded&format=vigil-logistic", [.admin], DefaultModel.json, .created),
        (.get, "/v1/models/default-logistic/versions/1", [.admin], nil, .ok),
        (.post, "/v1/models/default-logistic/versions/1/promote", [.admin], #"{"alias":"challenger"}"#, .ok),
        // Nothing to roll back to on a new server: the role check passes and the answer is a conflict.
        (.post, "/v1/models/aliases/champion/rollback", [.admin], nil, .conflict),
        (.delete, "/v1/models/aliases/challenger", [.admin], nil, .ok),
        (.get, "/v1/cases/next", [.review], nil, .ok),
        (.post, "/v1/cases/CASE/claim", [.review], nil, .ok),
        // Not held by the caller: the role check passes and the answer is a conflict.
        (.post, "/v1/cases/CASE/release", [.review], nil, .conflict),
        (.post, "/v1/transactions/tx-auth/labels", [.review], #"{"label":"fraud","source":"review"}"#, .created),
        (.get, "/v1/transactions/tx-auth/labels", [.scoring, .review, .admin], nil, .ok),
        (.get, "/v1/audit", [.review, .admin], nil, .ok),
        (.get, "/v1/rules", [.review, .admin], nil, .ok),
        (.post, "/v1/rules", [.admin], #"{"name":"big","expression":"amount > 1000","action":"review"}"#, .created),
        (.get, "/v1/rules/rl_none", [.review, .admin], nil, .notFound),
        (.patch, "/v1/rules/rl_none", [.admin], #"{"status":"disabled"}"#, .notFound),
        (.get, "/v1/rules/rl_none/versions", [.review, .admin], nil, .notFound),
        (.post, "/v1/rules/backtest", [.admin], #"{"expression":"amount > 10"}"#, .ok),
        (.get, "/v1/lists", [.review, .admin], nil, .ok),
        (.post, "/v1/lists", [.admin], #"{"name":"stolen","kind":"card_id","values":["card_9"]}"#, .created),
        (.get, "/v1/lists/none", [.review, .admin], nil, .notFound),
        (.delete, "/v1/lists/none", [.admin], nil, .notFound),
        (.post, "/v1/lists/none/items", [.admin], #"{"values":["x"]}"#, .notFound),
        (.post, "/v1/lists/none/items/remove", [.admin], #"{"values":["x"]}"#, .notFound),
        (.delete, "/v1/lists/none/items/x", [.admin], nil, .notFound),
        (.get, "/v1/alerts", [.review, .admin], nil, .ok),
        (.get, "/v1/worker", [.admin], nil, .ok),
        (.post, "/v1/worker/run", [.admin], #"{"job":"onset","wait":true}"#, .ok),
    ]

    @Test("no key or an unknown key is 401, a wrong role 403, a right role passes", arguments: routes)
    func authMatrix(
        method: HTTPRequest.Method, path: String, allowed: [Role], requestBody: String?, success: HTTPResponse.Status
    ) async throws {
        let server = try await TestServer.make { $0.reviewAt = 0 }
        try await server.test { client in
            let scored = try await client.execute(
                uri: "/v1/score", method: .post, headers: server.headers(.scoring),
                body: ByteBuffer(string: transactionJSON("tx-auth")))
            let caseID = try object(scored.body)["case_id"] as? String ?? "none"
            let uri = path.replacingOccurrences(of: "CASE", with: caseID)
            let body = requestBody.map { ByteBuffer(string: $0) }
            // No key
            let anonymous = try await client.execute(uri: uri, method: method, headers: server.headers(nil), body: body)
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.headers[.wwwAuthenticate] == "Bearer")
            #expect(anonymous.headers[.contentType] == "application/problem+json")
            // Unknown key, and a malformed header
            var unknown = server.headers(nil)
            unknown[.authorization] = "Bearer vgl_" + String(repeating: "A", count: 43)
            let response1 = try await client.execute(uri: uri, method: method, headers: unknown, body: body)
            #expect(response1.status == .unauthorized)
            unknown[.authorization] = "Basic abc"
            let response2 = try await client.execute(uri: uri, method: method, headers: unknown, body: body)
            #expect(response2.status == .unauthorized)
            // Each role
            for role in Role.allCases {
                let response = try await client.execute(
                    uri: uri, method: method, headers: server.headers(role), body: body)
                if allowed.contains(role) {
                    #expect(response.status == success, "\(role) on \(uri)")
                } else {
                    #expect(response.status == .forbidden, "\(role) on \(uri)")
                    #expect(response.headers[.contentType] == "application/problem+json")
                }
            }
        }
    }

    @Test("a revoked key stops working after a refresh")
    func revokedKey() async throws {
        let server = try await TestServer.make()
        let keyID = try server.runtime.keys.list().first { $0.role == "review" }!.keyID
        #expect(try server.runtime.keys.revoke(keyID: keyID, nowMicros: 2))
        try await server.runtime.authenticator.refresh()
        try await server.test { client in
            let response3 = try await client.execute(uri: "/v1/cases", method: .get, headers: server.headers(.review))
            #expect(response3.status == .unauthorized)
        }
    }

    @Test("health, readiness, metrics and the spec need no key")
    func opsRoutes() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            _ = try await client.execute(
                uri: "/v1/score", method: .post, headers: server.headers(.scoring),
                body: ByteBuffer(string: transactionJSON()))
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
            #expect(health.body.text == #"{"status":"ok"}"#)
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .ok)
            let text = metrics.body.text
            for line in [
                #"vigil_http_requests_total{route="/v1/score",method="POST",status="200"} 1"#,
                #"vigil_decisions_total{decision="approve"} 1"#, "vigil_cases_opened_total 0",
                "vigil_commit_batch_size_count", "vigil_commit_duration_seconds_bucket",
                "vigil_http_request_duration_seconds_bucket",
            ] {
                #expect(text.contains(line), "\(line)")
            }
            let spec = try await client.execute(uri: "/openapi.yaml", method: .get)
            #expect(spec.status == .ok)
            #expect(spec.headers[.contentType] == "application/yaml")
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
            #expect(
                spec.body.text == (try String(contentsOf: root.appendingPathComponent("openapi.yaml"), encoding: .utf8))
            )
        }
    }

    @Test("metrics can be put behind a key")
    func metricsKey() async throws {
        let server = try await TestServer.make { $0.metricsRequireKey = true }
        try await server.test { client in
            let response4 = try await client.execute(uri: "/metrics", method: .get)
            #expect(response4.status == .unauthorized)
            let response5 = try await client.execute(uri: "/metrics", method: .get, headers: server.headers(.admin))
            #expect(response5.status == .ok)
        }
    }

    @Test("readiness turns false when the store stops taking writes, and true by itself when writes go through")
    func notReady() async throws {
        let server = try await TestServer.make()
        // Writes of payments to review and the readiness probe fail (as on a full disk) once their tables are gone.
        let schema = try await server.runtime.database.pool.read { db in
            try String.fetchAll(
                db, sql: "SELECT sql FROM sqlite_master WHERE tbl_name IN ('cases', 'write_probe') AND sql IS NOT NULL")
        }
        try await server.runtime.database.pool.write { db in
            try db.execute(sql: "DROP TABLE cases; DROP TABLE write_probe")
        }
        try await server.test { client in
            // A review-worthy payment cannot be stored without the cases table: 503, then /readyz is false.
            let body = transactionJSON(
                "tx-fail",
                ["amount": "500", "card_country": "\"US\"", "channel": "\"ecommerce\"", "ip_country": "\"US\""])
            let failed = try await client.execute(
                uri: "/v1/score", method: .post, headers: server.headers(.scoring), body: ByteBuffer(string: body))
            #expect(failed.status == .serviceUnavailable)
            #expect(failed.headers[.contentType] == "application/problem+json")
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .serviceUnavailable)
            #expect(ready.headers[.contentType] == "application/problem+json")
            // Nothing of the failed decision was kept
            let response6 = try await client.execute(
                uri: "/v1/transactions/tx-fail", method: .get, headers: server.headers(.admin))
            #expect(response6.status == .notFound)
            // When writes go through again, readiness sees it with no payment scored in between
            try await server.runtime.database.pool.write { db in
                for statement in schema { try db.execute(sql: statement) }
            }
            let recovered = try await client.execute(uri: "/readyz", method: .get)
            #expect(recovered.status == .ok)
            let again = try await client.execute(
                uri: "/v1/score", method: .post, headers: server.headers(.scoring), body: ByteBuffer(string: body))
            #expect(again.status == .ok)
        }
    }

    @Test("unknown routes are 404 problems; known paths with other methods 405 with Allow")
    func notFoundAndMethod() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let missing = try await client.execute(uri: "/v2/nothing", method: .get)
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType] == "application/problem+json")
            #expect(try object(missing.body)["type"] as? String == "https://vigil.dev/problems/not-found")
            let wrongMethod = try await client.execute(
                uri: "/v1/score", method: .get, headers: server.headers(.scoring))
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.headers[.allow] == "POST")
            for method in [HTTPRequest.Method.options, .put, .delete, HTTPRequest.Method("PROPFIND")!] {
                let other = try await client.execute(
                    uri: "/v1/cases/x", method: method, headers: server.headers(.review))
                #expect(other.status == .methodNotAllowed, "\(method)")
                #expect(other.headers[.allow] == "GET, HEAD")
            }
            let head = try await client.execute(uri: "/healthz", method: .head)
            #expect(head.status == .ok)
            let unknownTransaction = try await client.execute(
                uri: "/v1/transactions/nope", method: .get, headers: server.headers(.admin))
            #expect(unknownTransaction.status == .notFound)
            #expect(unknownTransaction.headers[.contentType] == "application/problem+json")
            let unknownCase = try await client.execute(
                uri: "/v1/cases/nope", method: .get, headers: server.headers(.review))
            #expect(unknownCase.status == .notFound)
        }
    }

    @Test("bad case-list parameters are 400 problems naming each parameter")
    func caseQueryValidation() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let response = try await client.execute(
                uri: "/v1/cases?limit=0&order=oldest&status=pending&cursor=zzz&color=red", method: .get,
                headers: server.headers(.review))
            #expect(response.status == .badRequest)
            let paths = Set(
                (try object(response.body)["errors"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String })
            #expect(paths == ["$.query.limit", "$.query.order", "$.query.status", "$.query.cursor", "$.query.color"])
        }
    }

    @Test("list answers are gzip-compressed when the client accepts gzip")
    func gzipResponses() async throws {
        let server = try await TestServer.make { $0.reviewAt = 0 }
        try await server.test { client in
            for index in 0..<20 {
                _ = try await client.execute(
                    uri: "/v1/score", method: .post, headers: server.headers(.scoring),
                    body: ByteBuffer(string: transactionJSON("tx-\(index)")))
            }
            var headers = server.headers(.review)
            headers[.acceptEncoding] = "gzip, deflate"
            let response = try await client.execute(uri: "/v1/cases?limit=20", method: .get, headers: headers)
            #expect(response.status == .ok)
            #expect(response.headers[.contentEncoding] == "gzip")
            var body = response.body
            let plain = try body.decompress(with: .gzip())
            #expect((try object(plain)["items"] as? [Any])?.count == 20)
            let uncompressed = try await client.execute(
                uri: "/v1/cases?limit=20", method: .get, headers: server.headers(.review))
            #expect(uncompressed.headers[.contentEncoding] == nil)
        }
    }
}
