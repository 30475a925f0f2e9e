import Foundation
import Logging
import Testing
import VigilCore
import VigilStore

@testable import VigilService

/// A clock that reads a fixed instant, so answers are exactly reproducible.
struct FixedClock: WallClock {
    var micros: Int64 = 1_763_800_000_000_000
    func nowMicros() -> Int64 { micros }
}

func temporaryConfig() -> VigilConfig {
    var config = VigilConfig()
    config.databasePath =
        FileManager.default.temporaryDirectory
        .appendingPathComponent("vigil-service-\(UUID().uuidString)/vigil.sqlite").path
    return config
}

func body(_ id: String, amount: Double = 40, extra: String = "") -> [UInt8] {
    Array(
        #"{"transaction_id":"\#(id)","occurred_at":"2026-11-22T10:00:00Z","amount":\#(amount),"currency":"EUR","card_country":"DE","merchant_country":"DE","ip_country":"DE","channel":"pos"\#(extra)}"#
            .utf8)
}

extension ScoringService {
    func score(bytes: [UInt8]) async throws(ServiceError) -> Answer {
        let decoded = bytes.withUnsafeBytes { raw in Result { () throws(ServiceError) in try decode(body: raw) } }
        return try await score(decoded.get())
    }
}

@Suite("Scoring use case against the real SQLite store")
struct ScoringServiceTests {
    let logger = Logger(label: "test")

    @Test("the same transaction again returns the stored answer byte for byte and stores nothing twice")
    func idempotentReplay() async throws {
        let runtime = try await VigilRuntime.open(config: temporaryConfig(), logger: logger, clock: FixedClock())
        let first = try await runtime.scoring.score(bytes: body("tx-1"))
        let later = try await VigilRuntime.open(config: runtime.config, logger: logger, clock: FixedClock(micros: 5))
        let second = try await later.scoring.score(bytes: body("tx-1"))
        #expect(first.json == second.json)
        #expect(!first.isReplay)
        #expect(second.isReplay)
    }

    @Test("the same id with a different body is a conflict")
    func conflict() async throws {
        let runtime = try await VigilRuntime.open(config: temporaryConfig(), logger: logger, clock: FixedClock())
        _ = try await runtime.scoring.score(bytes: body("tx-1"))
        await #expect(throws: ServiceError.self) { try await runtime.scoring.score(bytes: body("tx-1", amount: 41)) }
        // Key order and whitespace do not make a body different
        let reordered = Array(
            #"{ "currency":"EUR","amount":40,"transaction_id":"tx-1","occurred_at":"2026-11-22T10:00:00Z","channel":"pos","ip_country":"DE","merchant_country":"DE","card_country":"DE"}"#
                .utf8)
        let replay = try await runtime.scoring.score(bytes: reordered)
        #expect(replay.isReplay)
    }

    @Test("a review decision opens a case, and both survive a restart on the same database")
    func reviewOpensCaseAcrossRestart() async throws {
        var config = temporaryConfig()
        config.reviewAt = 0
        config.declineAt = 101
        let runtime = try await VigilRuntime.open(config: config, logger: logger, clock: FixedClock())
        let answer = try await runtime.scoring.score(bytes: body("tx-review"))
        #expect(answer.decision == .review)
        #expect(answer.openedCase)
        await runtime.close()
        // When the database is opened again
        let reopened = try await VigilRuntime.open(config: config, logger: logger, clock: FixedClock())
        // Then the transaction and its open case are there
        let record = String(decoding: try await reopened.reader.transaction(id: "tx-review"), as: UTF8.self)
        #expect(record.contains("\"decision\":\"review\""))
        let cases = try await reopened.store.cases(CaseQuery())
        #expect(cases.items.map(\.transactionID) == ["tx-review"])
        #expect(record.contains("\"case_id\":\"\(cases.items[0].caseID)\""))
    }

    @Test("validation failures list every bad field")
    func validation() async throws {
        let runtime = try await VigilRuntime.open(config: temporaryConfig(), logger: logger, clock: FixedClock())
        do {
            _ = try await runtime.scoring.score(
                bytes: Array(#"{"transaction_id":"","amount":-1,"currency":"eur"}"#.utf8))
            Issue.record("expected a refusal")
        } catch .validation(let errors) {
            let paths = Set(errors.map(\.path))
            #expect(paths.isSuperset(of: ["$.transaction_id", "$.amount", "$.currency", "$.occurred_at"]))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("a transaction that cannot be stored is not acknowledged")
    func unavailable() async throws {
        let runtime = try await VigilRuntime.open(config: temporaryConfig(), logger: logger, clock: FixedClock())
        await runtime.close()
        await #expect(throws: ServiceError.self) { try await runtime.scoring.score(bytes: body("late")) }
    }

    @Test("case ids sort by creation time")
    func identifiers() {
        let generator = IdentifierGenerator()
        let early = generator.make(prefix: "cs_", nowMicros: 1_000_000)
        let late = generator.make(prefix: "cs_", nowMicros: 2_000_000)
        #expect(early.count == 29)
        #expect(early < late)
    }
}
