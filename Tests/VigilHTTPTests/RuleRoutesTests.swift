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

private func score(
    _ client: any TestClientProtocol, _ server: TestServer, _ id: String, _ fields: [String: String] = [:],
    query: String = ""
) async throws -> [String: Any] {
    let answer = try await call(
        client, server, .post, "/v1/score\(query)", role: .scoring, body: transactionJSON(id, fields))
    #expect(answer.status == .ok, "\(answer.text)")
    return answer.json
}

@Suite("Rules, lists, backtests and the blast-radius guard over the real SQLite store")
struct RuleRoutesTests {
    @Test("a rule is type-checked when saved: a typo is refused with line, column, caret and a suggestion")
    func refusedAtSave() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let typo = try await call(
                client, server, .post, "/v1/rules",
                body: #"{"name":"typo","expression":"amount > 100 and\nmerchant_contry = 'NG'","action":"block"}"#)
            #expect(typo.status == .badRequest)
            let errors = try #require(typo.json["errors"] as? [[String: Any]])
            #expect(errors.first?["path"] as? String == "$.expression")
            let message = errors.first?["message"] as? String ?? ""
            #expect(message.contains("line 2, column 1"), "\(message)")
            #expect(message.contains("merchant_country"), "\(message)")
            #expect(message.contains("^"), "\(message)")

            let cases: [(String, String)] = [
                (#"{"name":"x","expression":"amount >","action":"block"}"#, "$.expression"),
                (#"{"name":"x","expression":"card_id in list(\"nope\")","action":"block"}"#, "$.expression"),
                (#"{"name":"x","expression":"amount > 1","action":"score"}"#, "$.points"),
                (#"{"name":"x","expression":"amount > 1","action":"block","points":2}"#, "$.points"),
                (#"{"name":"x","expression":"amount > 1","action":"explode"}"#, "$.action"),
                (#"{"name":"x","expression":"amount > 1","action":"block","status":"on"}"#, "$.status"),
                (
                    #"{"name":"x","expression":"amount > 1","action":"block","expires_at":"2001-01-01T00:00:00Z"}"#,
                    "$.expires_at"
                ),
                (#"{"name":"x","expression":"amount > 1","action":"block","colour":"red"}"#, "$.colour"),
                (#"{"expression":"amount > 1","action":"block"}"#, "$.name"),
                (#"{"name":"x","expression":"amount > 1","action":"score","points":99}"#, "$.points"),
            ]
            for (body, path) in cases {
                let refused = try await call(client, server, .post, "/v1/rules", body: body)
                #expect(refused.status == .badRequest, "\(body)")
                let paths = (refused.json["errors"] as? [[String: Any]])?.compactMap { $0["path"] as? String } ?? []
                #expect(paths.contains(path), "\(body): \(refused.text)")
            }
            let malformed = try await call(client, server, .post, "/v1/rules", body: "{")
            #expect(malformed.status == .badRequest)
            let list = try await call(client, server, .get, "/v1/rules", role: .review)
            #expect((list.json["items"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("precedence: allow over block over review; shadow rules are recorded and never act")
    func precedenceAndShadow() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let block = try await call(
                client, server, .post, "/v1/rules",
                body:
                    #"{"name":"Nigeria","expression":"merchant_country in ('NG', 'GH')","action":"block","status":"active"}"#
            )
            #expect(block.status == .created, "\(block.text)")
            let blockID = try #require(block.json["id"] as? String)
            #expect(block.json["version"] as? Int == 1)
            #expect(block.json["status"] as? String == "active")
            #expect((block.json["provenance"] as? [String: Any])?["kind"] as? String == "manual")
            let shadow = try await call(
                client, server, .post, "/v1/rules",
                body: #"{"name":"big","expression":"amount >= 1000","action":"block"}"#)
            #expect(shadow.json["status"] as? String == "shadow")
            let shadowID = try #require(shadow.json["id"] as? String)

            let declined = try await score(client, server, "tx-ng", ["merchant_country": "\"NG\""])
            #expect(declined["decision"] as? String == "decline")
            let hits = try #require(declined["rules"] as? [[String: Any]])
            #expect(hits.map { $0["id"] as? String } == [blockID])
            #expect(hits.first?["action"] as? String == "block")
            #expect((hits.first?["sentence"] as? String)?.contains("blocks") == true)

            // The shadow rule matches a big payment but does not decide, and is not shown to the caller.
            let big = try await score(client, server, "tx-big", ["amount": "1500"])
            #expect((big["rules"] as? [Any])?.isEmpty == true)
            #expect(big["decision"] as? String != "decline" || (big["score"] as? Double ?? 0) >= 0.8)
            let shadowPage = try await call(client, server, .get, "/v1/rules/\(shadowID)", role: .review)
            let stats = try #require(shadowPage.json["stats"] as? [String: Any])
            #expect(stats["hits"] as? Int == 1)
            #expect(stats["scored"] as? Int == 2)
            #expect(stats["hit_rate"] as? Double == 0.5)

            // allow beats block.
            let allow = try await call(
                client, server, .post, "/v1/rules",
                body: #"{"name":"vip","expression":"attributes.vip = true","action":"allow","status":"active"}"#)
            #expect(allow.status == .created)
            let allowed = try await score(client, server, "tx-ng-vip", ["merchant_country": "\"NG\""])
            #expect(allowed["decision"] as? String == "approve")
            #expect((allowed["rules"] as? [[String: Any]])?.count == 2)

            // A review rule opens a case from the rule; it never lowers a decline.
            let review = try await call(
                client, server, .post, "/v1/rules",
                body:
                    #"{"name":"gmail","expression":"ends_with(lower(email), '@gmail.com')","action":"review","status":"active"}"#
            )
            #expect(review.status == .created)
            let reviewID = try #require(review.json["id"] as? String)
            let reviewed = try await score(
                client, server, "tx-gmail", ["email": "\"Bob@GMAIL.com\"", "attributes": "{}"])
            #expect(reviewed["decision"] as? String == "review")
            let caseID = try #require(reviewed["case_id"] as? String)
            let detail = try await call(client, server, .get, "/v1/cases/\(caseID)", role: .review)
            #expect(detail.status == .ok)
            let ruleCases = try await call(client, server, .get, "/v1/cases?rule=\(reviewID)", role: .review)
            #expect((ruleCases.json["items"] as? [[String: Any]])?.count == 1, "\(ruleCases.text)")

            // The stored decision records every matched rule version, shadow included.
            let hitsRows = try await server.runtime.database.pool.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT rule_id, rule_version, mode FROM rule_hits WHERE transaction_id = 'tx-big'")
            }
            #expect(hitsRows.count == 1)
            #expect(hitsRows.first?["mode"] as String? == "shadow")
            #expect(hitsRows.first?["rule_id"] as String? == shadowID)
        }
    }

    @Test("score rules add α × points to the margin; rule_strength overrides α per request; explanations show it")
    func strength() async throws {
        let server = try await TestServer.make { $0.ruleStrength = 0.5 }
        try await server.test { client in
            let created = try await call(
                client, server, .post, "/v1/rules",
                body: #"{"name":"pos","expression":"channel = 'pos'","action":"score","points":2,"status":"active"}"#)
            #expect(created.status == .created, "\(created.text)")
            let alone = try await score(client, server, "tx-a0", query: "?rule_strength=0")
            let half = try await score(client, server, "tx-a5")
            let full = try await score(client, server, "tx-a1", query: "?rule_strength=1")
            let margins = [alone, half, full].map { logit($0["score"] as? Double ?? 0.5) }
            #expect(abs(margins[1] - margins[0] - 1) < 1e-9)
            #expect(abs(margins[2] - margins[0] - 2) < 1e-9)
            let rule = try #require((half["rules"] as? [[String: Any]])?.first)
            #expect(rule["contribution"] as? Double == 1)
            #expect(rule["points"] as? Double == 2)
            let zero = try #require((alone["rules"] as? [[String: Any]])?.first)
            #expect(zero["contribution"] as? Double == 0)

            let explained = try await call(client, server, .get, "/v1/transactions/tx-a5/explanation", role: .review)
            #expect(explained.json["rules_contribution"] as? Double == 1)
            let finalMargin = try #require(explained.json["final_margin"] as? Double)
            #expect(abs(finalMargin - margins[1]) < 1e-9)
            #expect((explained.json["rules"] as? [[String: Any]])?.first?["contribution"] as? Double == 1)

            let whatIf = try await call(
                client, server, .post, "/v1/explain?rule_strength=1", role: .scoring, body: transactionJSON("tx-w"))
            #expect(whatIf.json["rules_contribution"] as? Double == 2)
            let bad = try await call(
                client, server, .post, "/v1/score?rule_strength=2", role: .scoring, body: transactionJSON("tx-bad"))
            #expect(bad.status == .badRequest)
            #expect(bad.text.contains("$.query.rule_strength"))
        }
    }

    @Test("PATCH makes a new version in the audit log; a stale version is a conflict; expired rules stop acting")
    func versionsAndExpiry() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            // Long enough that the steps before the first score finish before it even on a loaded CI machine (at
            // 1.5 s the rule once expired first); the test then sleeps until just after it.
            let expiresMicros = SystemWallClock().nowMicros() + 6_000_000
            let expires = formatRFC3339(micros: expiresMicros)
            let created = try await call(
                client, server, .post, "/v1/rules",
                body:
                    #"{"name":"fr","expression":"card_country = 'FR'","action":"block","status":"active","expires_at":"\#(expires)"}"#
            )
            let id = try #require(created.json["id"] as? String)
            let patched = try await call(
                client, server, .patch, "/v1/rules/\(id)",
                body: #"{"expression":"card_country = 'DE'","version":1}"#)
            #expect(patched.status == .ok, "\(patched.text)")
            #expect(patched.json["version"] as? Int == 2)
            let stale = try await call(
                client, server, .patch, "/v1/rules/\(id)", body: #"{"name":"late","version":1}"#)
            #expect(stale.status == .conflict)
            let empty = try await call(client, server, .patch, "/v1/rules/\(id)", body: "{}")
            #expect(empty.status == .badRequest)
            let versions = try await call(client, server, .get, "/v1/rules/\(id)/versions", role: .review)
            let items = try #require(versions.json["items"] as? [[String: Any]])
            #expect(items.map { $0["expression"] as? String } == ["card_country = 'FR'", "card_country = 'DE'"])
            let audit = try await call(client, server, .get, "/v1/audit?entity_type=rule&entity_id=\(id)", role: .admin)
            #expect((audit.json["items"] as? [Any])?.count == 2, "\(audit.text)")

            let before = try await score(client, server, "tx-de-1")
            #expect(before["decision"] as? String == "decline")
            let left = expiresMicros - SystemWallClock().nowMicros()
            #expect(left > 0, "the rule expired before the first score")
            try await Task.sleep(for: .microseconds(max(0, left) + 100_000))
            let after = try await score(client, server, "tx-de-2")
            #expect(after["decision"] as? String != "decline")
            #expect((after["rules"] as? [Any])?.isEmpty == true)
            let page = try await call(client, server, .get, "/v1/rules/\(id)", role: .review)
            #expect(page.json["expired"] as? Bool == true)
            try await server.runtime.rules.runChecks()
            let disabled = try await call(client, server, .get, "/v1/rules/\(id)", role: .review)
            #expect(disabled.json["status"] as? String == "disabled")
            #expect(disabled.json["version"] as? Int == 3)
        }
    }

    @Test("lists: create with values, add as JSON and text, use in a rule, remove, refuse deleting a list in use")
    func lists() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let created = try await call(
                client, server, .post, "/v1/lists",
                body: #"{"name":"stolen_cards","kind":"card_id","values":["card_1","card_2"]}"#)
            #expect(created.status == .created, "\(created.text)")
            #expect(created.json["item_count"] as? Int == 2)
            let duplicate = try await call(
                client, server, .post, "/v1/lists", body: #"{"name":"stolen_cards","kind":"card_id"}"#)
            #expect(duplicate.status == .conflict)
            let badEmail = try await call(
                client, server, .post, "/v1/lists", body: #"{"name":"emails","kind":"email","values":["nope"]}"#)
            #expect(badEmail.status == .badRequest)
            #expect(badEmail.text.contains("$.values[0]"))

            var text = server.headers(.admin)
            text[.contentType] = "text/plain"
            let added = try await client.execute(
                uri: "/v1/lists/stolen_cards/items", method: .post, headers: text,
                body: ByteBuffer(string: "# from the bank\ncard_3\ncard_4\n\ncard_3\n"))
            #expect(added.status == .ok)
            #expect(try object(added.body)["added"] as? Int == 2)
            let rule = try await call(
                client, server, .post, "/v1/rules",
                body:
                    #"{"name":"stolen","expression":"card_id in list(\"stolen_cards\")","action":"block","status":"active"}"#
            )
            #expect(rule.status == .created, "\(rule.text)")
            #expect(
                try await score(client, server, "tx-l1", ["card_id": "\"card_4\""])["decision"] as? String == "decline")
            let removed = try await call(client, server, .delete, "/v1/lists/stolen_cards/items/card_4")
            #expect(removed.json["removed"] as? Int == 1)
            #expect(
                try await score(client, server, "tx-l2", ["card_id": "\"card_4\""])["decision"] as? String != "decline")

            let inUse = try await call(client, server, .delete, "/v1/lists/stolen_cards")
            #expect(inUse.status == .conflict)
            let page = try await call(client, server, .get, "/v1/lists/stolen_cards?limit=2", role: .review)
            #expect((page.json["items"] as? [[String: Any]])?.map { $0["value"] as? String } == ["card_1", "card_2"])
            #expect(page.json["next"] as? String == "card_2")
            let all = try await call(client, server, .get, "/v1/lists", role: .review)
            #expect((all.json["items"] as? [[String: Any]])?.first?["item_count"] as? Int == 3)
            let audit = try await call(client, server, .get, "/v1/audit?entity_type=list", role: .admin)
            #expect(((audit.json["items"] as? [Any])?.count ?? 0) >= 3, "\(audit.text)")

            let id = try #require(rule.json["id"] as? String)
            _ = try await call(client, server, .patch, "/v1/rules/\(id)", body: #"{"status":"disabled"}"#)
            let deleted = try await client.execute(
                uri: "/v1/lists/stolen_cards", method: .delete, headers: server.headers(.admin))
            #expect(deleted.status == .noContent)
            let gone = try await call(client, server, .get, "/v1/lists/stolen_cards", role: .review)
            #expect(gone.status == .notFound)
        }
    }

    @Test("backtest: hits, precision, recall, Stripe-style buckets and, for score rules, five strengths")
    func backtest() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            // 10 payments from NG (6 labelled fraud, one of them by chargeback, 2 legit), 10 from DE (1 fraud, 4 legit).
            for index in 0..<10 {
                _ = try await score(client, server, "ng-\(index)", ["merchant_country": "\"NG\"", "amount": "100"])
                _ = try await score(client, server, "de-\(index)", ["amount": "10"])
            }
            func label(_ id: String, _ value: String, _ source: String = "review") async throws {
                let labelled = try await call(
                    client, server, .post, "/v1/transactions/\(id)/labels", role: .review,
                    body: #"{"label":"\#(value)","source":"\#(source)"}"#)
                #expect(labelled.status == .created)
            }
            for index in 0..<5 { try await label("ng-\(index)", "fraud") }
            try await label("ng-5", "fraud", "chargeback")
            for index in 6..<8 { try await label("ng-\(index)", "legit") }
            try await label("de-0", "fraud")
            for index in 1..<5 { try await label("de-\(index)", "legit") }

            let result = try await call(
                client, server, .post, "/v1/rules/backtest", body: #"{"expression":"merchant_country = 'NG'"}"#)
            #expect(result.status == .ok, "\(result.text)")
            #expect(result.json["rows"] as? Int == 20)
            #expect(result.json["hits"] as? Int == 10)
            #expect(result.json["hit_rate"] as? Double == 0.5)
            #expect(result.json["amount_hit"] as? Double == 1000)
            #expect(result.json["precision"] as? Double == 6.0 / 8.0)
            #expect(result.json["recall"] as? Double == 6.0 / 7.0)
            #expect(result.json["fraud_amount_caught"] as? Double == 600)
            let buckets = try #require(result.json["buckets"] as? [String: [String: Any]])
            #expect(buckets["fraud"]?["count"] as? Int == 6)
            #expect(buckets["chargeback"]?["count"] as? Int == 1)
            #expect(buckets["legit"]?["count"] as? Int == 2)
            #expect(buckets["unlabelled"]?["count"] as? Int == 2)
            #expect((result.json["strengths"] as? [Any])?.isEmpty == true)

            let scored = try await call(
                client, server, .post, "/v1/rules/backtest",
                body: #"{"expression":"merchant_country = 'NG'","action":"score","points":8}"#)
            let strengths = try #require(scored.json["strengths"] as? [[String: Any]])
            #expect(strengths.map { $0["strength"] as? Double } == [0, 0.25, 0.5, 0.75, 1])
            #expect(strengths.first?["changed"] as? Int == 0)
            #expect(strengths.last?["decline"] as? Int == 10)
            #expect(strengths.last?["precision"] as? Double == 6.0 / 8.0)

            let empty = try await call(
                client, server, .post, "/v1/rules/backtest",
                body: #"{"expression":"amount > 0","from":"2030-01-01T00:00:00Z"}"#)
            #expect(empty.json["rows"] as? Int == 0)
            let refused = try await call(client, server, .post, "/v1/rules/backtest", body: #"{"action":"block"}"#)
            #expect(refused.status == .badRequest)
            let typo = try await call(
                client, server, .post, "/v1/rules/backtest", body: #"{"expression":"amout > 1"}"#)
            #expect(typo.status == .badRequest)
            #expect(typo.text.contains("amount"))
        }
    }

    @Test("the blast-radius guard reverts a rule that floods declines, audits it and raises an alert")
    func guardRevertsRule() async throws {
        let server = try await TestServer.make {
            $0.guardMinDecisions = 20
            $0.reviewAt = 101
            $0.declineAt = 101
        }
        try await server.test { client in
            for index in 0..<30 { _ = try await score(client, server, "base-\(index)") }
            let created = try await call(
                client, server, .post, "/v1/rules",
                body: #"{"name":"everything","expression":"amount >= 0","action":"block","status":"active"}"#)
            let id = try #require(created.json["id"] as? String)
            let watching = try await call(client, server, .get, "/v1/rules/\(id)", role: .review)
            #expect((watching.json["guard"] as? [String: Any])?["state"] as? String == "watching", "\(watching.text)")
            for index in 0..<25 { _ = try await score(client, server, "after-\(index)") }
            let trips = await server.runtime.rules.enforceGuard()
            #expect(trips.count == 1)
            let page = try await call(client, server, .get, "/v1/rules/\(id)", role: .review)
            #expect(page.json["status"] as? String == "disabled")
            #expect(page.json["version"] as? Int == 2)
            #expect(((page.json["guard"] as? [String: Any])?["state"] as? String)?.hasPrefix("reverted") == true)
            let audit = try await call(client, server, .get, "/v1/audit?entity_id=\(id)&actor=guard", role: .admin)
            #expect((audit.json["items"] as? [Any])?.count == 1, "\(audit.text)")
            let alerts = try await call(client, server, .get, "/v1/alerts?kind=blast_radius_revert", role: .review)
            let alert = try #require((alerts.json["items"] as? [[String: Any]])?.first)
            #expect(alert["subject_id"] as? String == id)
            #expect((alert["message"] as? String)?.contains("decline rate") == true)
            #expect(try await score(client, server, "later")["decision"] as? String == "approve")
        }
    }

    @Test("the guard rolls back a promotion that floods reviews")
    func guardRollsBackModel() async throws {
        let server = try await TestServer.make { $0.guardMinDecisions = 20 }
        try await server.test { client in
            for index in 0..<30 { _ = try await score(client, server, "base-\(index)", ["amount": "5"]) }
            _ = try await client.execute(
                uri: "/v1/models?name=paranoid&format=vigil-logistic", method: .post,
                headers: server.headers(.admin, json: false),
                body: ByteBuffer(string: logisticModelFile(weight: 0, intercept: 0)))
            let promoted = try await call(
                client, server, .post, "/v1/models/paranoid/versions/1/promote", body: #"{"alias":"champion"}"#)
            #expect(promoted.status == .ok)
            for index in 0..<25 {
                let answer = try await score(client, server, "after-\(index)", ["amount": "5"])
                #expect(answer["decision"] as? String == "review")
            }
            #expect(await server.runtime.rules.enforceGuard().count == 1)
            #expect(server.runtime.registry.active.scorer.model.name == "default-logistic")
            let alerts = try await call(client, server, .get, "/v1/alerts?subject_id=champion", role: .admin)
            #expect((alerts.json["items"] as? [Any])?.count == 1)
        }
    }

    @Test("an active rule whose precision on fresh labels falls below the floor raises one alert")
    func precisionFloor() async throws {
        let server = try await TestServer.make { $0.precisionMinLabels = 3 }
        try await server.test { client in
            let created = try await call(
                client, server, .post, "/v1/rules",
                body: #"{"name":"de","expression":"card_country = 'DE'","action":"review","status":"active"}"#)
            let id = try #require(created.json["id"] as? String)
            for index in 0..<4 {
                _ = try await score(client, server, "p-\(index)")
                _ = try await call(
                    client, server, .post, "/v1/transactions/p-\(index)/labels", role: .review,
                    body: #"{"label":"\#(index == 0 ? "fraud" : "legit")","source":"review"}"#)
            }
            try await server.runtime.rules.runChecks()
            try await server.runtime.rules.runChecks()
            let alerts = try await call(client, server, .get, "/v1/alerts?kind=rule_precision_floor", role: .review)
            let items = try #require(alerts.json["items"] as? [[String: Any]])
            #expect(items.count == 1)
            #expect(items.first?["subject_id"] as? String == id)
            let page = try await call(client, server, .get, "/v1/rules/\(id)", role: .review)
            let fresh = (page.json["stats"] as? [String: Any])?["fresh"] as? [String: Any]
            #expect(fresh?["precision"] as? Double == 0.25)
        }
    }
}

private func logit(_ probability: Double) -> Double { log(probability / (1 - probability)) }
