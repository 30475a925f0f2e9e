import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import VigilCore
import VigilService
import VigilStore

@testable import VigilHTTP

@Suite("History features in scoring, rules, explanations and across a restart")
struct VelocityRoutesTests {
    static func score(_ client: any TestClientProtocol, _ server: TestServer, _ id: String, _ fields: [String: String])
        async throws -> [String: Any]
    {
        let response = try await client.execute(
            uri: "/v1/score?explain=true", method: .post, headers: server.headers(.scoring),
            body: ByteBuffer(string: transactionJSON(id, fields)))
        #expect(response.status == .ok, "\(String(buffer: response.body))")
        return try object(response.body)
    }

    static func features(_ client: any TestClientProtocol, _ server: TestServer, _ id: String) async throws
        -> [String: Any]
    {
        let stored = try await client.execute(
            uri: "/v1/transactions/\(id)", method: .get, headers: server.headers(.review))
        let record = try object(stored.body)
        return try #require(record["features"] as? [String: Any])
    }

    @Test("a payment's history excludes itself, counts retries once and orders late payments by occurred_at")
    func counts() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            for (index, minute) in [0, 10, 20].enumerated() {
                _ = try await Self.score(
                    client, server, "v\(index)",
                    ["occurred_at": "\"2026-11-22T10:\(minute == 0 ? "00" : String(minute)):00Z\"", "amount": "100"])
            }
            // A retry of v2 is answered from the store and counts nothing.
            _ = try await Self.score(
                client, server, "v2", ["occurred_at": "\"2026-11-22T10:20:00Z\"", "amount": "100"])
            _ = try await Self.score(
                client, server, "v3", ["occurred_at": "\"2026-11-22T10:30:00Z\"", "amount": "400"])
            let features = try await Self.features(client, server, "v3")
            #expect(features["card_id_count_1h"] as? Double == 3)
            #expect(features["card_id_sum_amount_24h"] as? Double == 300)
            #expect(features["amount_to_card_id_avg_amount_30d"] as? Double == 4)
            #expect(features["card_id_first_seen_seconds"] as? Double == 1800)
            #expect(features["email_count_24h"] as? Double == 3)
            // A payment that happened before the others (arriving late, within the lateness) sees only earlier ones.
            _ = try await Self.score(client, server, "v-late", ["occurred_at": "\"2026-11-22T10:05:00Z\""])
            let late = try await Self.features(client, server, "v-late")
            #expect(late["card_id_count_1h"] as? Double == 1)
            // Another card has no history.
            _ = try await Self.score(client, server, "other", ["card_id": "\"card_9\"", "email": "\"z@example.com\""])
            let other = try await Self.features(client, server, "other")
            #expect(other["card_id_count_1h"] as? Double == 0)
            #expect(other["card_id_first_seen_seconds"] is NSNull)
        }
    }

    @Test("concurrent duplicates of one payment count once")
    func concurrentDuplicates() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<16 {
                    group.addTask { _ = try await Self.score(client, server, "dup", [:]) }
                }
                try await group.waitForAll()
            }
            _ = try await Self.score(client, server, "after", ["occurred_at": "\"2026-11-22T10:00:01Z\""])
            #expect(try await Self.features(client, server, "after")["card_id_count_1h"] as? Double == 1)
        }
    }

    @Test("rules and models read history features by name; reasons say them in words; fraud labels count")
    func rulesModelsAndLabels() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            let rule = try await client.execute(
                uri: "/v1/rules", method: .post, headers: server.headers(.admin),
                body: ByteBuffer(
                    string:
                        #"{"name":"burst","expression":"card_id_count_1h >= 2","action":"review","status":"active"}"#
                ))
            #expect(rule.status == .created)
            _ = try await Self.score(client, server, "b0", ["occurred_at": "\"2026-11-22T10:00:00Z\""])
            _ = try await Self.score(client, server, "b1", ["occurred_at": "\"2026-11-22T10:01:00Z\""])
            let third = try await Self.score(client, server, "b2", ["occurred_at": "\"2026-11-22T10:02:00Z\""])
            #expect(third["decision"] as? String == "review")
            #expect((third["rules"] as? [[String: Any]])?.first?["name"] as? String == "burst")

            let model =
                #"{"format":"vigil-logistic/1","name":"x","version":"x","intercept":-3,"features":[{"name":"card_id_count_1h","weight":2,"mean":0,"scale":1}]}"#
            _ = try await client.execute(
                uri: "/v1/models?name=burst&format=vigil-logistic", method: .post,
                headers: server.headers(.admin, json: false), body: ByteBuffer(string: model))
            _ = try await client.execute(
                uri: "/v1/models/burst/versions/1/promote", method: .post, headers: server.headers(.admin),
                body: ByteBuffer(string: #"{"alias":"champion"}"#))
            let fourth = try await Self.score(client, server, "b3", ["occurred_at": "\"2026-11-22T10:03:00Z\""])
            let reason = try #require((fourth["reasons"] as? [[String: Any]])?.first)
            #expect(reason["feature"] as? String == "card_id_count_1h")
            #expect(
                (reason["sentence"] as? String)?.hasPrefix("3 payments on this card in the last hour") == true,
                "\(reason)")

            // Two fraud labels on merchant payments: the merchant's fraud rate counts them by labeled_at.
            for id in ["b0", "b1"] {
                let labelled = try await client.execute(
                    uri: "/v1/transactions/\(id)/labels", method: .post, headers: server.headers(.review),
                    body: ByteBuffer(
                        string: #"{"label":"fraud","source":"chargeback","labeled_at":"2026-11-22T10:04:00Z"}"#))
                #expect(labelled.status == .created)
            }
            _ = try await Self.score(
                client, server, "m1",
                ["merchant_id": "\"m_1\"", "card_id": "\"card_x\"", "occurred_at": "\"2026-11-22T10:05:00Z\""])
            // b0…b3 had no merchant id; m1 is the merchant's first payment: no rate yet.
            #expect(try await Self.features(client, server, "m1")["merchant_id_fraud_rate_7d"] is NSNull)
        }
    }

    @Test("an attribute declared as an entity is counted, read by rules and stored with the decision")
    func attributeEntity() async throws {
        let server = try await TestServer.make { $0.features += ["attributes.terminal_id.count_1h"] }
        try await server.test { client in
            let rule = try await client.execute(
                uri: "/v1/rules", method: .post, headers: server.headers(.admin),
                body: ByteBuffer(
                    string:
                        #"{"name":"terminal burst","expression":"attributes.terminal_id.count_1h >= 2","action":"block","status":"active"}"#
                ))
            #expect(rule.status == .created, "\(String(buffer: rule.body))")
            var last: [String: Any] = [:]
            for index in 0..<3 {
                last = try await Self.score(
                    client, server, "t\(index)",
                    ["card_id": "\"card_\(index)\"", "attributes": #"{"terminal_id":"T-9"}"#])
            }
            #expect(last["decision"] as? String == "decline")
            #expect(try await Self.features(client, server, "t2")["attributes.terminal_id.count_1h"] as? Double == 2)
        }
    }

    @Test("features after a restart equal those before it (history rebuilt from the store)")
    func restart() async throws {
        var config = VigilConfig()
        config.databasePath =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("vigil-velocity-\(UUID().uuidString)/vigil.sqlite").path
        config.logRequests = false
        let probe = Transaction(
            transactionID: "probe", occurredAt: "2026-11-22T12:00:00Z", occurredAtMicros: 1_795_348_800_000_000,
            amount: 50, currency: "EUR", cardID: "card_1", merchantID: "m_1", deviceID: "d_1", email: "a@example.com",
            ipAddress: "10.0.0.1")
        let first = try await VigilRuntime.open(config: config, logger: Logger(label: "test"))
        for index in 0..<40 {
            let minute = index % 60
            let body =
                #"{"transaction_id":"r\#(index)","occurred_at":"2026-11-22T11:\#(minute < 10 ? "0" : "")\#(minute):00Z","amount":\#(10 + index),"currency":"EUR","card_id":"card_\#(index % 3)","merchant_id":"m_\#(index % 2)","device_id":"d_\#(index % 4)","email":"a@example.com","ip_address":"10.0.0.\#(index % 2)"}"#
            let transaction = try Array(body.utf8).withUnsafeBytes { bytes in try first.scoring.decode(body: bytes) }
            _ = try await first.scoring.score(transaction)
        }
        try await first.velocity.recordFraud([("r1", 1_795_345_000_000_000), ("r3", 1_795_345_100_000_000)])
        try await first.database.pool.write { db in
            for id in ["r1", "r3"] {
                try db.execute(
                    sql: """
                        INSERT INTO labels (transaction_id, label, source, labeled_at, recorded_at, recorded_by)
                        VALUES (?, 'fraud', 'chargeback', ?, 0, 'x')
                        """, arguments: [id, id == "r1" ? 1_795_345_000_000_000 : 1_795_345_100_000_000])
            }
        }
        let before = first.velocity.peek(probe)
        await first.close()
        let second = try await VigilRuntime.open(config: config, logger: Logger(label: "test"))
        let after = second.velocity.peek(probe)
        #expect(before.count == after.count)
        for (index, (a, b)) in zip(before, after).enumerated() {
            #expect(a == b || (a.isNaN && b.isNaN), "\(second.velocity.specs[index].name): \(a) before, \(b) after")
        }
        #expect(before[0] > 0)
        let rate = try #require(second.velocity.specs.firstIndex { $0.name == "merchant_id_fraud_rate_7d" })
        #expect(after[rate] > 0)
        await second.close()
    }
}
