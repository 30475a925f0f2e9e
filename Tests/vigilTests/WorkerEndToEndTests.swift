import Foundation
import Testing
import VigilCore

@testable import vigil

@Suite("The worker end to end: a simulated attack on one merchant becomes an alert and a proposed rule")
struct WorkerEndToEndTests {
    static let arguments = [
        "--payments", "6000", "--days", "3", "--fraud-rate", "0.01", "--attack-payments", "150", "--attack-hours",
        "6", "--seed", "7",
    ]

    /// The merchant the simulator compromises in the stream's last six hours (the generator is pure: the same
    /// settings give the same merchants whatever the start).
    static func attackedMerchant() throws -> String {
        var settings = SimulationSettings(
            payments: 6_000, days: 3, seed: 7, fraudRate: 0.01, start: 1_794_441_600, runID: "e2e")
        settings.attackPayments = 150
        settings.attackHours = 6
        let attack = PaymentGenerator(settings: settings).filter {
            $0.truth == .fraud(.compromisedMerchant) && $0.occurredAt >= settings.end - 6 * 3_600
        }
        let counts = Dictionary(grouping: attack, by: \.merchantID).mapValues(\.count)
        return try #require(counts.max { $0.value < $1.value }?.key)
    }

    @Test(
        "simulate --attack-payments, then `vigil worker --once onset`: an onset alert and a rule with precision ≥ 0.8")
    func compromisedMerchant() async throws {
        let directory = try temporaryDirectory()
        let server = try await ServerProcess.start(
            directory: directory, database: "vigil.sqlite", environment: ["VIGIL_WORKER_ENABLED": "false"])
        defer { server.kill(SIGTERM) }
        let scoring = try #require(server.keys["scoring"])
        let review = try #require(server.keys["review"])
        let admin = try #require(server.keys["admin"])
        let simulated = try await runVigil(
            ["simulate"] + Self.arguments + ["--rate", "0", "--review", "--run-id", "attack", "--no-progress"],
            environment: [
                "VIGIL_URL": "http://127.0.0.1:\(server.port)", "VIGIL_SCORING_KEY": scoring,
                "VIGIL_REVIEW_KEY": review,
            ], timeout: 600)
        #expect(simulated.status == 0, "\(simulated.stdout)\n\(simulated.stderr)")
        #expect(simulated.stdout.contains("Errors: none"), "\(simulated.stdout)")

        // The worker as its own process, on the same database, with onset buckets small enough for 6,000 payments.
        let worker = try await runVigil(
            ["worker", "--once", "onset", "--database", directory.appendingPathComponent("vigil.sqlite").path],
            environment: ["VIGIL_WORKER_ONSET_MIN_VOLUME": "10", "VIGIL_LOG_LEVEL": "warning"], timeout: 300)
        #expect(worker.status == 0, "\(worker.stdout)\n\(worker.stderr)")
        let run = try #require(JSONValue.parse(Data(worker.stdout.utf8)), "\(worker.stdout)")
        #expect(run["status"]?.string == "succeeded", "\(worker.stdout)")
        let merchant = try Self.attackedMerchant()

        // An alert for a segment the merchant is in, and mining of that segment proposed a rule naming it.
        let alerts = try #require(run["result"]?["alerts"]?.array, "\(worker.stdout)")
        #expect(!alerts.isEmpty, "\(worker.stdout)")
        let (status, page) = try await server.request("GET", "/v1/rules?status=proposed&limit=200", key: admin)
        #expect(status == 200)
        let proposed = try #require(JSONValue.parse(Data(page.utf8))?["items"]?.array)
        let alertIDs = Set(alerts.compactMap { $0["alert_id"]?.string })
        let singled = proposed.filter { rule in
            (rule["expression"]?.string?.contains("merchant_id = '\(merchant)'") ?? false)
                && alertIDs.contains(rule["provenance"]?["alert_id"]?.string ?? "")
        }
        let best = try #require(
            singled.max {
                ($0["provenance"]?["evidence"]?["window"]?["precision"]?.double ?? 0)
                    < ($1["provenance"]?["evidence"]?["window"]?["precision"]?.double ?? 0)
            }, "no proposed rule names \(merchant): \(page.prefix(3000))\n\(worker.stdout.prefix(3000))")
        let precision = try #require(best["provenance"]?["evidence"]?["window"]?["precision"]?.double)
        #expect(precision >= 0.8, "\(best)")
        // The alert is there for people, in GET /v1/alerts.
        let (_, listed) = try await server.request("GET", "/v1/alerts?kind=segment_onset", key: admin)
        #expect(alertIDs.allSatisfy { listed.contains($0) })
    }
}
