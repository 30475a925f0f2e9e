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
