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

/// A payment that the default model sends to review (risk between 40 and 80).
func reviewJSON(_ id: String, amount: Double = 500) -> String {
    transactionJSON(
        id,
        [
            "amount": String(amount), "card_country": "\"US\"", "channel": "\"ecommerce\"",
            "ip_country": "\"US\"",
        ])
}

extension TestServer {
    /// Scores `ids` as review payments and returns their case ids.
    func openCases(_ client: some TestClientProtocol, _ ids: [String], amount: (Int) -> Double = { _ in 500 })
        async throws -> [String]
    {
        var cases: [String] = []
        for (index, id) in ids.enumerated() {
            let response = try await client.execute(
                uri: "/v1/score", method: .post, headers: headers(.scoring),
                body: ByteBuffer(string: reviewJSON(id, amount: amount(index))))
            let answer = try object(response.body)
            guard answer["decision"] as? String == "review", let caseID = answer["case_id"] as? String else {
                throw TestFailure("\(id) was not sent to review: \(answer)")
            }
            cases.append(caseID)
        }
        return cases
    }

    /// Headers for another reviewer with their own key.
    func reviewer(_ name: String) throws -> HTTPFields {
        let key = try runtime.keys.create(name: name, role: "review", nowMicros: 1).key
        var fields = HTTPFields()
        fields[.authorization] = "Bearer \(key)"
        fields[.contentType] = "application/json"
        return fields
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

@Suite("Review queue, claims, labels and audit")
struct ReviewRoutesTests {
    @Test("cases/next claims by expected loss; claim, release and lease are enforced; every change is audited")
    func claims() async throws {
        let server = try await TestServer.make()
        let alice = try server.reviewer("alice")
        let bob = try server.reviewer("bob")
        try await server.runtime.authenticator.refresh()
        try await server.test { client in
            // Amounts 500, 1500, 1000: with similar scores the 1500 case has the largest expected loss.
            let cases = try await server.openCases(client, ["q-1", "q-2", "q-3"]) { [500, 1500, 1000][$0] }
            let first = try await client.execute(uri: "/v1/cases/next", method: .get, headers: alice)
            #expect(first.status == .ok)
            let claimed = try object(first.body)
            #expect(claimed["case_id"] as? String == cases[1])
            #expect(claimed["assignee"] as? String == "alice")
            #expect(claimed["lease_expires_at"] is String)
            #expect((claimed["transaction"] as? [String: Any])?["transaction_id"] as? String == "q-2")

            // Bob cannot take Alice's case, gets the next one instead.
            let steal = try await client.execute(uri: "/v1/cases/\(cases[1])/claim", method: .post, headers: bob)
            #expect(steal.status == .conflict)
            #expect(String(buffer: steal.body).contains("held by alice"))
            let second = try await client.execute(uri: "/v1/cases/next", method: .get, headers: bob)
            #expect(try object(second.body)["case_id"] as? String == cases[2])

            // Bob cannot release Alice's case; Alice can, and then Bob can claim it.
            let wrongRelease = try await client.execute(
                uri: "/v1/cases/\(cases[1])/release", method: .post, headers: bob)
            #expect(wrongRelease.status == .conflict)
            let release = try await client.execute(uri: "/v1/cases/\(cases[1])/release", method: .post, headers: alice)
            #expect(release.status == .ok)
            #expect(try object(release.body)["assignee"] is NSNull)
            let take = try await client.execute(uri: "/v1/cases/\(cases[1])/claim", method: .post, headers: bob)
            #expect(take.status == .ok)
            // Renewing one's own claim is fine.
            let renew = try await client.execute(uri: "/v1/cases/\(cases[1])/claim", method: .post, headers: bob)
            #expect(renew.status == .ok)

            // Filters: Bob's cases, unassigned cases.
            let mine = try await client.execute(uri: "/v1/cases?assignee=bob", method: .get, headers: alice)
            #expect(
                Set((try object(mine.body)["items"] as? [[String: Any]])?.compactMap { $0["case_id"] as? String } ?? [])
                    == [cases[1], cases[2]])
            let free = try await client.execute(uri: "/v1/cases?assignee=none", method: .get, headers: alice)
            #expect(
                (try object(free.body)["items"] as? [[String: Any]])?.compactMap { $0["case_id"] as? String } == [
                    cases[0]
                ])
            let big = try await client.execute(uri: "/v1/cases?min_amount=1200", method: .get, headers: alice)
            #expect((try object(big.body)["items"] as? [[String: Any]])?.count == 1)

            let last = try await client.execute(uri: "/v1/cases/next", method: .get, headers: alice)
            #expect(try object(last.body)["case_id"] as? String == cases[0])
            let empty = try await client.execute(uri: "/v1/cases/next", method: .get, headers: alice)
            #expect(empty.status == .noContent)

            let audit = try await client.execute(
                uri: "/v1/audit?entity_type=case&entity_id=\(cases[1])", method: .get, headers: server.headers(.admin))
            let actions = (try object(audit.body)["items"] as? [[String: Any]])?.compactMap { $0["action"] as? String }
            #expect(actions == ["case.lease_renewed", "case.claimed", "case.released", "case.claimed"])
        }
    }

    @Test("32 concurrent reviewers never hold the same case")
    func concurrentClaims() async throws {
        let server = try await TestServer.make()
        var reviewers: [HTTPFields] = []
        for index in 0..<32 { reviewers.append(try server.reviewer("r\(index)")) }
        try await server.runtime.authenticator.refresh()
        try await server.test { [reviewers] client in
            let cases = try await server.openCases(client, (0..<40).map { "c-\($0)" })
            let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
                for headers in reviewers {
                    group.addTask {
                        var mine: [String] = []
                        for _ in 0..<3 {
                            let response = try await client.execute(
                                uri: "/v1/cases/next", method: .get, headers: headers)
                            if response.status == .ok, let id = try object(response.body)["case_id"] as? String {
                                mine.append(id)
                            }
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(claimed.count == 40)
            #expect(Set(claimed) == Set(cases))
        }
    }

    @Test("a verdict closes the case; history is kept; a chargeback outranks a review; Idempotency-Key is honoured")
    func labels() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let cases = try await server.openCases(client, ["l-1"])
            var headers = server.headers(.review)
            headers[HTTPField.Name("Idempotency-Key")!] = "verdict-1"
            let body =
                #"{"label":"legit","source":"review","reason_code":"customer_confirmed","note":"called the customer"}"#
            let first = try await client.execute(
                uri: "/v1/transactions/l-1/labels", method: .post, headers: headers, body: ByteBuffer(string: body))
            #expect(first.status == .created)
            let answer = try object(first.body)
            #expect(answer["closed_case_id"] as? String == cases[0])
            #expect((answer["label"] as? [String: Any])?["recorded_by"] as? String == "test-review")
            #expect((answer["effective_label"] as? [String: Any])?["label"] as? String == "legit")
            // The same key and body: the same label, nothing added.
            let replay = try await client.execute(
                uri: "/v1/transactions/l-1/labels", method: .post, headers: headers, body: ByteBuffer(string: body))
            #expect(replay.status == .ok)
            #expect(
                (try object(replay.body)["label"] as? [String: Any])?["id"] as? Int
                    == (answer["label"] as? [String: Any])?["id"] as? Int)
            // The same key, another body: a conflict.
            let conflict = try await client.execute(
                uri: "/v1/transactions/l-1/labels", method: .post, headers: headers,
                body: ByteBuffer(string: #"{"label":"fraud","source":"review"}"#))
            #expect(conflict.status == .conflict)

            // A chargeback weeks later, labelled at the time it became known.
            let chargeback = try await client.execute(
                uri: "/v1/transactions/l-1/labels", method: .post, headers: server.headers(.review),
                body: ByteBuffer(
                    string:
                        #"{"label":"fraud","source":"chargeback","reason_code":"10.4","labeled_at":"2026-12-20T09:00:00Z"}"#
                ))
            #expect(chargeback.status == .created)
            // And a later review verdict does not outrank it.
            _ = try await client.execute(
                uri: "/v1/transactions/l-1/labels", method: .post, headers: server.headers(.review),
                body: ByteBuffer(string: #"{"label":"legit","source":"review","labeled_at":"2026-12-21T09:00:00Z"}"#))
            let history = try await client.execute(
                uri: "/v1/transactions/l-1/labels", method: .get, headers: server.headers(.admin))
            let document = try object(history.body)
            #expect((document["history"] as? [[String: Any]])?.count == 3)
            let effective = try #require(document["effective_label"] as? [String: Any])
            #expect(effective["label"] as? String == "fraud")
            #expect(effective["source"] as? String == "chargeback")

            let closed = try await client.execute(
                uri: "/v1/cases/\(cases[0])", method: .get, headers: server.headers(.review))
            let closedCase = try object(closed.body)
            #expect(closedCase["status"] as? String == "closed")
            #expect(closedCase["verdict"] as? String == "legit")
            // A closed case cannot be claimed.
            let claim = try await client.execute(
                uri: "/v1/cases/\(cases[0])/claim", method: .post, headers: server.headers(.review))
            #expect(claim.status == .conflict)

            let unknown = try await client.execute(
                uri: "/v1/transactions/none/labels", method: .post, headers: server.headers(.review),
                body: ByteBuffer(string: #"{"label":"fraud","source":"review"}"#))
            #expect(unknown.status == .notFound)
            let invalid = try await client.execute(
                uri: "/v1/transactions/l-1/labels", method: .post, headers: server.headers(.review),
                body: ByteBuffer(string: #"{"label":"maybe","source":"psychic","labeled_at":"yesterday","x":1}"#))
            #expect(invalid.status == .badRequest)
            let paths = (try object(invalid.body)["errors"] as? [[String: Any]])?.compactMap { $0["path"] as? String }
            #expect(paths?.sorted() == ["$.label", "$.labeled_at", "$.source", "$.x"])
        }
    }

    @Test("the audit log cannot be changed or deleted, even directly in SQL")
    func auditIsAppendOnly() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            _ = try await server.openCases(client, ["a-1"])
            _ = try await client.execute(uri: "/v1/cases/next", method: .get, headers: server.headers(.review))
            let database = server.runtime.database
            #expect(throws: DatabaseError.self) {
                try database.pool.write { db in try db.execute(sql: "UPDATE audit_log SET actor = 'mallory'") }
            }
            #expect(throws: DatabaseError.self) {
                try database.pool.write { db in try db.execute(sql: "DELETE FROM audit_log") }
            }
            let audit = try await client.execute(
                uri: "/v1/audit?actor=test-review", method: .get, headers: server.headers(.review))
            #expect((try object(audit.body)["items"] as? [[String: Any]])?.count == 1)
            let bad = try await client.execute(
                uri: "/v1/audit?from=yesterday&nope=1", method: .get, headers: server.headers(.admin))
            #expect(bad.status == .badRequest)
        }
    }
}

@Suite("Bulk labels, exploration sample and review statistics")
struct ReviewBatchAndStatsTests {
    static func ndjsonHeaders(_ server: TestServer, gzip: Bool = false) -> HTTPFields {
        var headers = server.headers(.review, json: false)
        headers[.contentType] = "application/x-ndjson"
        if gzip { headers[.contentEncoding] = "gzip" }
        return headers
    }

    @Test("NDJSON lines are applied or rejected with their line number; good lines survive bad ones; gzip works")
    func batch() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let cases = try await server.openCases(client, ["b-1", "b-2", "b-3"])
            let body = [
                #"{"transaction_id":"b-1","label":"fraud","source":"review"}"#,
                #"{"transaction_id":"missing","label":"fraud","source":"chargeback"}"#,
                "not json",
                "",
                #"{"transaction_id":"b-2","label":"legit","source":"customer_report","labeled_at":"2026-11-20T00:00:00Z"}"#,
                #"{"transaction_id":"b-3","label":"maybe","source":"review"}"#,
                #"{"transaction_id":"b-3","label":"fraud","source":"chargeback","labeled_at":"2026-12-01T00:00:00Z"}"#,
            ].joined(separator: "\n")
            let response = try await client.execute(
                uri: "/v1/labels/batch", method: .post, headers: Self.ndjsonHeaders(server),
                body: ByteBuffer(string: body))
            #expect(response.status == .ok)
            let answer = try object(response.body)
            #expect(answer["lines"] as? Int == 6)
            #expect(answer["added"] as? Int == 3)
            #expect(answer["rejected"] as? Int == 3)
            let errors = try #require(answer["errors"] as? [[String: Any]])
            #expect(errors.compactMap { $0["line"] as? Int } == [2, 3, 5])
            #expect((errors[0]["reason"] as? String)?.contains("no transaction with id missing") == true)
            #expect((errors[2]["reason"] as? String)?.contains("$.label") == true)
            // Every labelled case was closed.
            for caseID in cases {
                let detail = try await client.execute(
                    uri: "/v1/cases/\(caseID)", method: .get, headers: server.headers(.review))
                #expect(try object(detail.body)["status"] as? String == "closed")
            }
            // The same batch again, gzip-compressed: nothing is added twice.
            var plain = ByteBuffer(string: body)
            let again = try await client.execute(
                uri: "/v1/labels/batch", method: .post, headers: Self.ndjsonHeaders(server, gzip: true),
                body: try plain.compress(with: .gzip()))
            let second = try object(again.body)
            #expect(second["added"] as? Int == 0)
            #expect(second["duplicates"] as? Int == 3)
            let wrongType = try await client.execute(
                uri: "/v1/labels/batch", method: .post, headers: server.headers(.review), body: ByteBuffer(string: body)
            )
            #expect(wrongType.status == .unsupportedMediaType)
        }
    }

    @Test("a share of approvals opens sample cases, not announced to the caller; stats estimate the miss rate")
    func sampleAndStats() async throws {
        let server = try await TestServer.make { $0.sampleRate = 1 }
        try await server.test { client in
            for index in 0..<4 {
                let response = try await client.execute(
                    uri: "/v1/score", method: .post, headers: server.headers(.scoring),
                    body: ByteBuffer(string: transactionJSON("s-\(index)")))
                let answer = try object(response.body)
                #expect(answer["decision"] as? String == "approve")
                #expect(answer["case_id"] is NSNull)
            }
            let samples = try await client.execute(
                uri: "/v1/cases?source=sample", method: .get, headers: server.headers(.review))
            #expect((try object(samples.body)["items"] as? [[String: Any]])?.count == 4)
            let lines = (0..<4).map {
                #"{"transaction_id":"s-\#($0)","label":"\#($0 == 0 ? "fraud" : "legit")","source":"review"}"#
            }
            _ = try await client.execute(
                uri: "/v1/labels/batch", method: .post, headers: Self.ndjsonHeaders(server),
                body: ByteBuffer(string: lines.joined(separator: "\n") + "\n"))
            let stats = try await client.execute(uri: "/v1/stats", method: .get, headers: server.headers(.admin))
            #expect(stats.status == .ok)
            let document = try object(stats.body)
            let sample = try #require(document["sample"] as? [String: Any])
            #expect(sample["labelled"] as? Int == 4)
            #expect(sample["fraud"] as? Int == 1)
            #expect(sample["miss_rate"] as? Double == 0.25)
            let interval = try #require(sample["miss_rate_95ci"] as? [Double])
            #expect(interval[0] < 0.25 && interval[1] > 0.25)
            let verdicts = try #require(document["verdicts"] as? [String: Any])
            #expect(verdicts["last_24h"] as? Int == 4)
            #expect(
                (verdicts["per_reviewer_per_hour"] as? [[String: Any]])?.first?["reviewer"] as? String == "test-review")
            #expect((document["queue"] as? [String: Any])?["open"] as? Int == 0)
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            let text = String(buffer: metrics.body)
            #expect(text.contains("vigil_sample_miss_rate_ratio 0.25"))
            #expect(text.contains("vigil_review_queue_open_cases 0"))
            #expect(text.contains(#"vigil_review_verdicts_per_hour_ratio{reviewer="test-review"} 0.16666"#))
            #expect(text.contains("vigil_sample_miss_rate_low_ratio 0.0455"))
            #expect(text.contains("vigil_review_time_to_verdict_median_seconds"))
            #expect(text.contains("vigil_label_maturity_ratio"))
        }
    }

    @Test("the Wilson interval matches the textbook values")
    func wilson() throws {
        let interval = try #require(ReviewStats.wilson(successes: 1, trials: 4))
        #expect(abs(interval.low - 0.04558) < 1e-4)
        #expect(abs(interval.high - 0.69936) < 1e-4)
        #expect(ReviewStats.wilson(successes: 0, trials: 0) == nil)
    }
}
