import Foundation
import GRDB
import Logging
import Testing
import VigilCore
import VigilStore

@testable import VigilService

/// A logistic model document that reads `log_amount` with the given weight.
func logisticFile(weight: Double, intercept: Double = -3, feature: String = "log_amount") -> [UInt8] {
    Array(
        #"{"format":"vigil-logistic/1","name":"uploaded","version":"x","intercept":\#(intercept),"features":[{"name":"\#(feature)","weight":\#(weight),"mean":3.6,"scale":1.3}]}"#
            .utf8)
}

@Suite("Model registry against the real SQLite store")
struct ModelRegistryTests {
    let logger = Logger(label: "test")

    @Test("an empty registry is seeded with the default model as champion version 1, once")
    func seeding() async throws {
        let config = temporaryConfig()
        let runtime = try await VigilRuntime.open(config: config, logger: logger, clock: FixedClock())
        let active = runtime.registry.active
        #expect(active.scorer.model.name == "default-logistic")
        #expect(active.scorer.model.version == "1")
        #expect(active.championSHA256 == sha256Hex(Array(DefaultModel.json.utf8)))
        #expect(active.challenger == nil)
        await runtime.close()
        let again = try await VigilRuntime.open(config: config, logger: logger, clock: FixedClock())
        #expect(try await again.registry.store.all().count == 1)
        let entries = try await AuditLog.entries(
            entityType: "model_alias", entityID: "champion", in: again.database)
        #expect(entries.map(\.action) == ["model.seeded"])
        await again.close()
    }

    @Test("a registry follows alias changes another process made to the same database; its own later change wins")
    func followsAnotherProcess() async throws {
        let config = temporaryConfig()
        let server = try await VigilRuntime.open(config: config, logger: logger, clock: FixedClock())
        // A second runtime on the same file stands for `vigil worker`.
        let worker = try await VigilRuntime.open(config: config, logger: logger, clock: FixedClock())
        let uploaded = try await worker.registry.upload(
            name: "trained", format: .vigilLogistic, file: logisticFile(weight: 1.5), by: "worker")
        try await worker.registry.promote(uploaded.key, to: .challenger, by: "worker")
        #expect(server.registry.active.challenger == nil)
        #expect(try await server.registry.followStore() == [.challenger])
        #expect(server.registry.active.challenger?.model.name == "trained")
        #expect(try await server.registry.followStore() == [])
        try await worker.registry.promote(uploaded.key, to: .champion, by: "worker")
        #expect(try await server.registry.followStore() == [.champion])
        #expect(server.registry.active.scorer.model.name == "trained")
        // Cleared elsewhere: followed too.
        try await worker.registry.clearChallenger(by: "worker")
        #expect(try await server.registry.followStore() == [.challenger])
        #expect(server.registry.active.challenger == nil)
        await worker.close()
        await server.close()
    }

    @Test("uploads get increasing versions; promote swaps the champion for the next score; every decision records it")
    func promoteAndRecord() async throws {
        let runtime = try await VigilRuntime.open(config: temporaryConfig(), logger: logger, clock: FixedClock())
        let first = try await runtime.registry.upload(
            name: "amount-only", format: .vigilLogistic, file: logisticFile(weight: 1), by: "risk-lead")
        let second = try await runtime.registry.upload(
            name: "amount-only", format: .vigilLogistic, file: logisticFile(weight: 2), by: "risk-lead")
        #expect(first.key.version == 1)
        #expect(second.key.version == 2)
        #expect(second.featureNames == ["log_amount"])
        #expect(second.uploadedBy == "risk-lead")

        let before = try await runtime.scoring.score(bytes: body("before"))
        try await runtime.registry.promote(second.key, to: .champion, by: "risk-lead")
        let after = try await runtime.scoring.score(bytes: body("after"))
        #expect(
            String(decoding: before.json, as: UTF8.self).contains(#""model":{"name":"default-logistic","version":"1"}"#)
        )
        #expect(String(decoding: after.json, as: UTF8.self).contains(#""model":{"name":"amount-only","version":"2"}"#))
        let recorded = try await runtime.database.pool.read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT model_name, model_version, model_sha256 FROM transactions WHERE transaction_id = 'after'")
        }
        #expect(recorded?["model_name"] == "amount-only")
        #expect(recorded?["model_version"] == "2")
        #expect(recorded?["model_sha256"] == second.sha256)
        let audit = try await AuditLog.entries(entityType: "model_alias", entityID: "champion", in: runtime.database)
        #expect(audit.last?.action == "model.promoted")
        #expect(audit.last?.actor == "risk-lead")
        #expect(audit.last?.before == #"{"name":"default-logistic","version":1}"#)
        #expect(audit.last?.after == #"{"name":"amount-only","version":2}"#)

        // A restart keeps the champion.
        await runtime.close()
        let restarted = try await VigilRuntime.open(config: runtime.config, logger: logger, clock: FixedClock())
        #expect(restarted.registry.active.scorer.model.name == "amount-only")
        await restarted.close()
    }

    @Test("rollback returns the champion to what it was; the challenger can be rolled back to none")
    func rollback() async throws {
        let runtime = try await VigilRuntime.open(config: temporaryConfig(), logger: logger, clock: FixedClock())
        await #expect(throws: ServiceError.conflict("champion has no earlier version to roll back to")) {
            try await runtime.registry.rollback(.champion, by: "lead")
        }
        let uploaded = try await runtime.registry.upload(
            name: "m", format: .vigilLogistic, file: logisticFile(weight: 1), by: "lead")
        try await runtime.registry.promote(uploaded.key, to: .champion, by: "lead")
        #expect(runtime.registry.active.scorer.model.name == "m")
        try await runtime.registry.rollback(.champion, by: "lead")
        #expect(runtime.registry.active.scorer.model.name == "default-logistic")

        try await runtime.registry.promote(uploaded.key, to: .challenger, by: "lead")
        #expect(runtime.registry.active.challenger?.model.name == "m")
        try await runtime.registry.rollback(.challenger, by: "lead")
        #expect(runtime.registry.active.challenger == nil)
        try await runtime.registry.promote(uploaded.key, to: .challenger, by: "lead")
        try await runtime.registry.clearChallenger(by: "lead")
        #expect(runtime.registry.active.challenger == nil)
        #expect(try await runtime.registry.store.aliases()[.challenger] == nil)
        await runtime.close()
    }

    @Test("the challenger is scored in shadow on every payment, stored beside the decision, never returned")
    func challengerInShadow() async throws {
        let runtime = try await VigilRuntime.open(config: temporaryConfig(), logger: logger, clock: FixedClock())
        // A challenger that flags everything: intercept 5 gives a probability above 0.99.
        let challenger = try await runtime.registry.upload(
            name: "paranoid", format: .vigilLogistic, file: logisticFile(weight: 0, intercept: 5), by: "lead")
        try await runtime.registry.promote(challenger.key, to: .challenger, by: "lead")
        for index in 0..<5 {
            let answer = try await runtime.scoring.score(bytes: body("tx-\(index)"))
            #expect(answer.decision == .approve)
            #expect(answer.shadowAgreed == false)
            #expect(!String(decoding: answer.json, as: UTF8.self).contains("paranoid"))
        }
        let agreement = try await runtime.registry.store.shadowAgreement(challenger.key)
        #expect(agreement.scored == 5)
        #expect(agreement.sameDecision == 0)
        #expect(agreement.matrix == ["approve": ["decline": 5]])
        let page = try await runtime.models.version(challenger.key)
        let json = try JSONSerialization.jsonObject(with: Data(page)) as? [String: Any]
        let shadow = json?["shadow"] as? [String: Any]
        #expect(shadow?["scored"] as? Int == 5)
        #expect(shadow?["agreement_rate"] as? Double == 0)
        #expect(json?["aliases"] as? [String] == ["challenger"])
        await runtime.close()
    }

    @Test("a model needing features the config does not produce is refused at upload, listing them all")
    func missingFeatures() async throws {
        let runtime = try await VigilRuntime.open(config: temporaryConfig(), logger: logger, clock: FixedClock())
        let file = Array(
            #"{"format":"vigil-logistic/1","name":"n","version":"1","intercept":0,"features":[{"name":"attributes.f07","weight":1,"mean":0,"scale":1},{"name":"velocity_1h","weight":1,"mean":0,"scale":1},{"name":"amount","weight":1,"mean":0,"scale":1}]}"#
                .utf8)
        await #expect(
            throws: ServiceError.invalidModel(
                "model n needs features the config does not produce: attributes.f07, velocity_1h")
        ) {
            try await runtime.registry.upload(name: "n", format: .vigilLogistic, file: file, by: "lead")
        }
        await #expect(throws: ServiceError.self) {
            try await runtime.registry.upload(name: "Bad Name", format: .vigilLogistic, file: file, by: "lead")
        }
        await #expect(throws: ServiceError.self) {
            try await runtime.registry.upload(name: "aliases", format: .vigilLogistic, file: file, by: "lead")
        }
        #expect(try await runtime.registry.store.all().count == 1)
        await runtime.close()
    }

    @Test("a version's page evaluates it on labelled payments: AUC, PR-AUC, precision and recall, label count")
    func evaluation() async throws {
        let runtime = try await VigilRuntime.open(config: temporaryConfig(), logger: logger, clock: FixedClock())
        let labels = ReviewStore(database: runtime.database)
        // Larger amounts are fraud here, so a model that weighs the amount separates them perfectly.
        for (index, amount) in [10.0, 20, 30, 40, 5000, 8000, 9000].enumerated() {
            _ = try await runtime.scoring.score(bytes: body("tx-\(index)", amount: amount))
            _ = try await labels.addLabel(
                NewLabel(
                    transactionID: "tx-\(index)", label: amount > 1000 ? .fraud : .legit, source: .review,
                    labeledAtMicros: 1, recordedBy: "analyst"),
                idempotencyKey: nil, requestSHA256: "", nowMicros: 2)
        }
        // A later review verdict does not outrank a chargeback; a chargeback outranks an earlier review.
        _ = try await labels.addLabel(
            NewLabel(
                transactionID: "tx-0", label: .fraud, source: .chargeback, labeledAtMicros: 3, recordedBy: "issuer"),
            idempotencyKey: nil, requestSHA256: "", nowMicros: 3)
        _ = try await labels.addLabel(
            NewLabel(transactionID: "tx-0", label: .legit, source: .review, labeledAtMicros: 4, recordedBy: "analyst"),
            idempotencyKey: nil, requestSHA256: "", nowMicros: 4)
        #expect(
            try await labels.addLabel(
                NewLabel(
                    transactionID: "nope", label: .fraud, source: .review, labeledAtMicros: 1, recordedBy: "a"),
                idempotencyKey: nil, requestSHA256: "", nowMicros: 1) == .unknownTransaction)
        let uploaded = try await runtime.registry.upload(
            name: "amount", format: .vigilLogistic, file: logisticFile(weight: 3, intercept: -6), by: "lead")
        let page = try await runtime.models.version(uploaded.key)
        let json = try JSONSerialization.jsonObject(with: Data(page)) as? [String: Any]
        let evaluation = try #require(json?["evaluation"] as? [String: Any])
        #expect(evaluation["labels_used"] as? Int == 7)
        #expect(evaluation["fraud"] as? Int == 4)
        // tx-0 (amount 10) is fraud by chargeback and scores lowest: one fraud ranked below all three legit.
        let auc = try #require(evaluation["roc_auc"] as? Double)
        #expect(abs(auc - 0.75) < 1e-12)
        await runtime.close()
    }
}

@Suite("Bulk labels against the real SQLite store")
struct LabelBatchTests {
    @Test("lines past the limit are not read; the answer says so; split lines and CRLF are handled")
    func lineLimit() async throws {
        let runtime = try await VigilRuntime.open(
            config: temporaryConfig(), logger: Logger(label: "test"), clock: FixedClock())
        _ = try await runtime.scoring.score(bytes: body("b-1"))
        let batch = LabelBatch(store: ReviewStore(database: runtime.database), clock: FixedClock(), lineLimit: 3)
        var session = batch.session(recordedBy: "importer")
        let text =
            #"{"transaction_id":"b-1","label":"fraud","source":"chargeback"}"# + "\r\n"
            + #"{"transaction_id":"b-1","label":"legit","source":"review"}"# + "\n" + "not json\n"
            + #"{"transaction_id":"b-1","label":"fraud","source":"other"}"# + "\n" + "more\n"
        let bytes = Array(text.utf8)
        // Fed in pieces that cut lines in the middle.
        for start in stride(from: 0, to: bytes.count, by: 7) {
            try await session.feed(Array(bytes[start..<min(start + 7, bytes.count)]))
        }
        let answer = try JSONSerialization.jsonObject(with: Data(try await session.finish())) as? [String: Any]
        #expect(answer?["lines"] as? Int == 3)
        #expect(answer?["added"] as? Int == 2)
        #expect(answer?["rejected"] as? Int == 1)
        #expect(answer?["body_truncated"] as? Bool == true)
        let history = try await ReviewStore(database: runtime.database).labels(transactionID: "b-1")
        #expect(history.map(\.source) == [.chargeback, .review])
        await runtime.close()
    }
}
