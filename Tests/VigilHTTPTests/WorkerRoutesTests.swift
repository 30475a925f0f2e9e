import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import VigilCore
import VigilStore

@testable import VigilHTTP
@testable import VigilService

/// One payment to score and, optionally, label.
private struct Planned {
    var id: String
    var fields: [String: String]
    var label: String?
}

/// Scores every payment, then labels the labelled ones in one NDJSON batch.
private func load(_ client: any TestClientProtocol, _ server: TestServer, _ payments: [Planned]) async throws {
    for payment in payments {
        let answer = try await call(
            client, server, .post, "/v1/score", role: .scoring, body: transactionJSON(payment.id, payment.fields))
        #expect(answer.status == .ok, "\(answer.text)")
    }
    let lines = payments.compactMap { payment in
        payment.label.map { #"{"transaction_id":"\#(payment.id)","label":"\#($0)","source":"review"}"# }
    }
    guard !lines.isEmpty else { return }
    var headers = server.headers(.review, json: false)
    headers[.contentType] = "application/x-ndjson"
    let response = try await client.execute(
        uri: "/v1/labels/batch", method: .post, headers: headers,
        body: ByteBuffer(string: lines.joined(separator: "\n")))
    #expect(response.status == .ok)
    #expect(try object(response.body)["added"] as? Int == lines.count, "\(String(buffer: response.body))")
}

/// `2026-11-20T00:00:00Z` plus `minutes`.
private func time(_ minutes: Int) -> String {
    "\"" + formatRFC3339(micros: 1_795_132_800_000_000 + Int64(minutes) * 60_000_000) + "\""
}

/// A small deterministic generator for test data.
private struct Dice {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
}

/// A run's result object.
private func result(_ answer: (status: HTTPResponse.Status, json: [String: Any], text: String)) throws -> [String: Any]
{
    #expect(answer.status == .ok, "\(answer.text)")
    #expect(answer.json["status"] as? String != "failed", "\(answer.text)")
    return try #require(answer.json["result"] as? [String: Any], "\(answer.text)")
}

@Suite("The background worker over the real SQLite store: mining, training, onset alerts")
struct WorkerRoutesTests {
    /// 400 payments over two days at 20 merchants; `m_bad` has 40 payments, 36 of them fraud.
    private func miningData() -> [Planned] {
        var dice = Dice(state: 7)
        var payments: [Planned] = []
        for index in 0..<400 {
            let bad = index % 10 == 0
            let merchant = bad ? "m_bad" : "m_\(dice.below(19))"
            let fraud = bad ? index % 100 != 0 : dice.chance(0.03)
            let labelled = bad || fraud || dice.chance(0.4)
            payments.append(
                Planned(
                    id: "mine-\(index)",
                    fields: [
                        "merchant_id": "\"\(merchant)\"", "occurred_at": time(index * 7),
                        "card_id": "\"card_\(dice.below(150))\"", "amount": "\(10 + dice.below(200))",
                    ],
                    label: labelled ? (fraud ? "fraud" : "legit") : nil))
        }
        return payments
    }

    @Test("mining proposes the over-represented merchant with evidence; approved, rejected and covered patterns")
    func mining() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            try await load(client, server, miningData())
            let first = try result(
                try await call(client, server, .post, "/v1/worker/run", body: #"{"job":"mine","wait":true}"#))
            #expect(first["labelled"] as? Int ?? 0 >= 40)
            let proposed = try #require(first["proposed"] as? [[String: Any]], "\(first)")
            // The best pattern names the merchant (alone, or refined by a condition that drops its few legit ones).
            let bad = try #require(
                proposed.first { ($0["expression"] as? String)?.contains("merchant_id = 'm_bad'") == true },
                "\(first)")
            #expect(bad["precision"] as? Double ?? 0 >= 0.8)
            let ruleID = try #require(bad["rule_id"] as? String)

            // The rule is proposed, expires in 14 days, and carries its pattern and two backtests that agree with it
            // (every m_bad payment is labelled, so the backtest's hits are the pattern's support).
            let rule = try await call(client, server, .get, "/v1/rules/\(ruleID)")
            #expect(rule.json["status"] as? String == "proposed")
            #expect(rule.json["owner"] as? String == "worker")
            #expect(rule.json["expires_at"] is String)
            let provenance = try #require(rule.json["provenance"] as? [String: Any])
            #expect(provenance["kind"] as? String == "mined")
            let pattern = try #require(provenance["pattern"] as? [String: Any])
            let support = try #require(pattern["support"] as? Int)
            let fraud = try #require(pattern["fraud"] as? Int)
            #expect(support >= 20 && fraud <= 36 && fraud >= support - 4)
            #expect(pattern["precision_lower_bound"] as? Double ?? 0 > 0.7)
            let evidence = try #require(provenance["evidence"] as? [String: [String: Any]])
            #expect(evidence["window"]?["hits"] as? Int == support)
            #expect(abs((evidence["window"]?["precision"] as? Double ?? 0) - Double(fraud) / Double(support)) < 1e-12)
            #expect((evidence["window"]?["buckets"] as? [String: [String: Any]])?["fraud"]?["count"] as? Int == fraud)
            #expect(evidence["previous_window"]?["rows"] as? Int == 0)

            // Proposed once: the next run does not propose it again.
            let second = try result(
                try await call(client, server, .post, "/v1/worker/run", body: #"{"job":"mine","wait":true}"#))
            let secondExpressions = (second["proposed"] as? [[String: Any]] ?? []).compactMap {
                $0["expression"] as? String
            }
            #expect(!secondExpressions.contains(bad["expression"] as! String))

            // Rejected (disabled while proposed): remembered, not proposed again on the same evidence.
            let rejected = try await call(
                client, server, .patch, "/v1/rules/\(ruleID)", body: #"{"status":"disabled"}"#)
            #expect(rejected.status == .ok)
            let third = try result(
                try await call(client, server, .post, "/v1/worker/run", body: #"{"job":"mine","wait":true}"#))
            let skipped = third["skipped"] as? [[String: Any]] ?? []
            #expect(
                skipped.contains {
                    ($0["expression"] as? String) == (bad["expression"] as? String)
                        && ($0["reason"] as? String)?.contains("rejected before") == true
                }, "\(third)")

            // A live rule that already catches those payments covers the pattern.
            let manual = try await call(
                client, server, .post, "/v1/rules",
                body: #"{"name":"bad shop","expression":"merchant_id = 'm_bad'","action":"review","status":"shadow"}"#)
            #expect(manual.status == .created)
            try await server.runtime.database.pool.write { db in try db.execute(sql: "DELETE FROM rejected_patterns") }
            let fourth = try result(
                try await call(client, server, .post, "/v1/worker/run", body: #"{"job":"mine","wait":true}"#))
            let covered = fourth["skipped"] as? [[String: Any]] ?? []
            #expect(
                covered.contains {
                    ($0["expression"] as? String)?.contains("m_bad") == true
                        && ($0["reason"] as? String)?.contains("covered by the existing rule") == true
                }, "\(fourth)")

            // Every run is listed with its result.
            let status = try await call(client, server, .get, "/v1/worker")
            let jobs = try #require(status.json["jobs"] as? [[String: Any]])
            let mine = try #require(jobs.first { $0["job"] as? String == "mine" })
            #expect((mine["runs"] as? [Any])?.count == 4)
        }
    }

    @Test("training registers the better of a boosted model and a logistic regression as challenger")
    func training() async throws {
        let server = try await TestServer.make { $0.worker.trainingTrees = 40 }
        try await server.test { client in
            var dice = Dice(state: 11)
            var payments: [Planned] = []
            for index in 0..<700 {
                // Fraud: online, foreign card, large; some noise both ways.
                let risky = dice.chance(0.25)
                let fraud = risky ? dice.chance(0.7) : dice.chance(0.02)
                payments.append(
                    Planned(
                        id: "train-\(index)",
                        fields: [
                            "occurred_at": time(index * 5), "card_id": "\"card_\(index)\"",
                            "amount": risky ? "\(300 + dice.below(900))" : "\(5 + dice.below(80))",
                            "channel": risky ? "\"ecommerce\"" : "\"pos\"",
                            "card_country": risky ? "\"US\"" : "\"DE\"",
                        ],
                        label: fraud ? "fraud" : "legit"))
            }
            try await load(client, server, payments)
            let trained = try result(
                try await call(client, server, .post, "/v1/worker/run", body: #"{"job":"train","wait":true}"#))
            let rows = try #require(trained["rows"] as? [String: Int])
            #expect(rows["train"] == 490 && rows["validation"] == 105 && rows["holdout"] == 105)
            let candidates = try #require(trained["candidates"] as? [[String: Any]])
            #expect(
                Set(candidates.compactMap { $0["model"] as? String }) == ["gradient_boosting", "logistic_regression"])
            for candidate in candidates {
                let holdout = try #require(candidate["holdout"] as? [String: Any])
                #expect(holdout["roc_auc"] as? Double ?? 0 > 0.8, "\(candidate)")
                #expect(holdout["labelled"] as? Int == 105)
            }
            let champion = try #require(trained["champion"] as? [String: Any])
            #expect(champion["name"] as? String == "default-logistic")
            #expect((champion["holdout"] as? [String: Any])?["labelled"] as? Int == 105)
            let registered = try #require(trained["registered"] as? [String: Any])
            #expect(trained["promoted_to_champion"] as? Bool == false)
            let models = try await call(client, server, .get, "/v1/models")
            let aliases = try #require(models.json["aliases"] as? [String: Any], "\(models.text)")
            let challenger = try #require(aliases["challenger"] as? [String: Any], "\(models.text)")
            #expect(challenger["name"] as? String == registered["name"] as? String)
            // The challenger now scores in shadow.
            let scored = try await call(
                client, server, .post, "/v1/score", role: .scoring, body: transactionJSON("after-training"))
            #expect(scored.status == .ok)
            #expect(server.runtime.registry.active.challenger != nil)

            // A scheduled run with no new labels since is skipped.
            let skipped = try await server.runtime.worker.run(.train, trigger: "schedule", wait: true)
            #expect(skipped.status == .skipped)
            #expect(skipped.result?.contains("\"new_labels\":0") == true)
        }
    }

    @Test("with auto-promotion on, a challenger that beats the champion by the margin is promoted and watched")
    func autoPromotion() async throws {
        let server = try await TestServer.make {
            $0.worker.trainingTrees = 30
            $0.worker.autoPromote = true
            $0.worker.promoteMargin = 0.01
        }
        try await server.test { client in
            var dice = Dice(state: 5)
            var payments: [Planned] = []
            for index in 0..<600 {
                // A signal the default model reads backwards: here the fraud is tiny amounts (card testing).
                let risky = dice.chance(0.2)
                let fraud = risky ? dice.chance(0.9) : dice.chance(0.01)
                payments.append(
                    Planned(
                        id: "promote-\(index)",
                        fields: [
                            "occurred_at": time(index * 5), "card_id": "\"card_\(index)\"",
                            "amount": risky ? "\(1 + dice.below(3))" : "\(20 + dice.below(60))",
                        ],
                        label: fraud ? "fraud" : "legit"))
            }
            try await load(client, server, payments)
            let trained = try result(
                try await call(client, server, .post, "/v1/worker/run", body: #"{"job":"train","wait":true}"#))
            #expect(trained["promoted_to_champion"] as? Bool == true, "\(trained)")
            let models = try await call(client, server, .get, "/v1/models")
            let aliases = try #require(models.json["aliases"] as? [String: Any], "\(models.text)")
            let champion = try #require(aliases["champion"] as? [String: Any])
            #expect((champion["name"] as? String)?.hasPrefix("worker-") == true)
        }
    }

    @Test("an onset in one segment raises one alert and mining restricted to it proposes a rule linked to it")
    func onset() async throws {
        let server = try await TestServer.make {
            $0.worker.onsetMinVolume = 8
            $0.worker.onsetBaselineBuckets = 12
            $0.worker.miningMinFraud = 5
        }
        try await server.test { client in
            var dice = Dice(state: 3)
            var payments: [Planned] = []
            // 13 hours of ordinary grocery and restaurant payments, 10 an hour each, a few labelled legit.
            for hour in 0..<13 {
                for slot in 0..<20 {
                    let id = "on-\(hour)-\(slot)"
                    payments.append(
                        Planned(
                            id: id,
                            fields: [
                                "occurred_at": time(hour * 60 + slot * 3), "merchant_id": "\"m_\(dice.below(12))\"",
                                "merchant_category": slot % 2 == 0 ? "\"5411\"" : "\"5812\"",
                                "card_id": "\"card_\(dice.below(300))\"", "amount": "\(8 + dice.below(50))",
                            ],
                            label: dice.chance(0.3) ? "legit" : nil))
                }
            }
            // In the 13th hour a grocery merchant is hit: 30 large fraudulent payments.
            for slot in 0..<30 {
                payments.append(
                    Planned(
                        id: "on-hit-\(slot)",
                        fields: [
                            "occurred_at": time(12 * 60 + slot * 2), "merchant_id": "\"m_hit\"",
                            "merchant_category": "\"5411\"", "card_id": "\"victim_\(slot)\"",
                            "amount": "\(400 + dice.below(300))",
                        ],
                        label: "fraud"))
            }
            try await load(client, server, payments)
            let run = try result(
                try await call(client, server, .post, "/v1/worker/run", body: #"{"job":"onset","wait":true}"#))
            let alerts = try #require(run["alerts"] as? [[String: Any]], "\(run)")
            // The attacked merchant's category, country and channel depart from their baselines; restaurants do not.
            let segments = alerts.compactMap { $0["segment"] as? [String: String] }
            #expect(segments.contains(["kind": "merchant_category", "value": "5411"]), "\(run)")
            #expect(!segments.contains { $0["value"] == "5812" })
            #expect(alerts.allSatisfy { $0["new"] as? Bool == true })
            let grocery = try #require(
                alerts.first { ($0["segment"] as? [String: String])?["value"] == "5411" })
            let metrics = try #require(grocery["metrics"] as? [[String: Any]])
            #expect(metrics.contains { $0["metric"] as? String == "fraud_rate" })
            // Mining restricted to an alert's segment proposes the merchant, linked to that alert, once per run.
            let alertIDs = Set(alerts.compactMap { $0["alert_id"] as? String })
            let rules = try await call(client, server, .get, "/v1/rules?status=proposed")
            let items = try #require(rules.json["items"] as? [[String: Any]])
            let hits = items.filter { ($0["expression"] as? String)?.contains("merchant_id = 'm_hit'") == true }
            #expect(hits.count == 1, "\(items)")
            let hit = try #require(hits.first)
            let provenance = try #require(hit["provenance"] as? [String: Any])
            let alertID = try #require(provenance["alert_id"] as? String)
            #expect(alertIDs.contains(alertID))
            let evidence = try #require(provenance["evidence"] as? [String: [String: Any]])
            #expect(evidence["window"]?["precision"] as? Double ?? 0 >= 0.8)

            // The alert is listed; the same onset is not raised twice.
            let listed = try await call(client, server, .get, "/v1/alerts?kind=segment_onset")
            #expect((listed.json["items"] as? [[String: Any]])?.contains { $0["id"] as? String == alertID } == true)
            let again = try result(
                try await call(client, server, .post, "/v1/worker/run", body: #"{"job":"onset","wait":true}"#))
            #expect((again["alerts"] as? [[String: Any]])?.allSatisfy { $0["new"] as? Bool == false } == true)
        }
    }

    @Test("bad run requests are refused naming the field; a run without wait answers 202 and finishes")
    func runRequests() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let unknown = try await call(client, server, .post, "/v1/worker/run", body: #"{"job":"dance"}"#)
            #expect(unknown.status == .badRequest)
            #expect(unknown.text.contains("$.job"))
            let missing = try await call(client, server, .post, "/v1/worker/run", body: #"{"wait":true}"#)
            #expect(missing.status == .badRequest)
            let wrongType = try await call(
                client, server, .post, "/v1/worker/run", body: #"{"job":"mine","wait":"yes"}"#)
            #expect(wrongType.text.contains("$.wait"))
            let extra = try await call(client, server, .post, "/v1/worker/run", body: #"{"job":"mine","x":1}"#)
            #expect(extra.text.contains("$.x"))
            let started = try await call(client, server, .post, "/v1/worker/run", body: #"{"job":"mine"}"#)
            #expect(started.status == .accepted)
            let runID = try #require(started.json["run_id"] as? String)
            var finished: WorkerRun?
            for _ in 0..<200 {
                finished = try await server.runtime.worker.store.run(id: runID)
                if finished?.status != .running { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(finished?.status == .succeeded)
            #expect(finished?.result?.contains("no payments stored yet") == true)
        }
    }

    @Test("the worker's heavy work runs on a thread at the lowest priority")
    func lowPriority() async throws {
        let niceness = try await LowPriorityThread.run { LowPriorityThread.currentNiceness() }
        #if os(Linux)
            #expect(niceness == 19)
        #endif
    }

    @Test("cancelling a job's caller returns while the work still runs: a shutdown never waits for the thread")
    func cancellation() async throws {
        // The work blocks until released, so the caller can only get its answer early through cancellation.
        let release = DispatchSemaphore(value: 0)
        let task = Task {
            try await LowPriorityThread.run { () -> Int in
                release.wait()
                return 1
            }
        }
        try await Task.sleep(for: .milliseconds(20))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        release.signal()
    }

    @Test("per-job counters reach /metrics")
    func metrics() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            _ = try await call(client, server, .post, "/v1/worker/run", body: #"{"job":"onset","wait":true}"#)
            let response = try await client.execute(uri: "/metrics", method: .get)
            let text = String(buffer: response.body)
            #expect(text.contains(#"vigil_worker_runs{job="onset",status="succeeded"} 1"#), "\(text.prefix(400))")
            #expect(text.contains(#"vigil_worker_last_duration_seconds{job="onset"}"#))
        }
    }
}
