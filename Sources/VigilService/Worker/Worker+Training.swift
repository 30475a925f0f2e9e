import Foundation
import VigilCore
import VigilStore

extension Worker {
    struct TrainingOutcome: Sendable {
        var json: String
        var skipped: Bool
    }

    /// A trained candidate: its kind, its file as the registry stores it, and its held-out evaluation.
    struct TrainedCandidate: Sendable {
        var kind: String
        var registryName: String
        var format: ModelFormat
        var file: [UInt8]
        var evaluation: Evaluation
        var details: [(String, Int)]
    }

    /// The heavy half of a training run, on the worker's thread.
    struct TrainingComputation: Sendable {
        let store: WorkerStore
        let settings: WorkerSettings
        let featureNames: [String]
        let policy: DecisionPolicy
        let champion: any ScoringModel

        struct Result: Sendable {
            var rows: (train: Int, validation: Int, holdout: Int) = (0, 0, 0)
            var fraud = 0
            var holdoutFromMicros: Int64 = 0
            var holdoutToMicros: Int64 = 0
            var candidates: [TrainedCandidate] = []
            var champion: Evaluation?
            var note: String?
        }

        func run() throws -> Result {
            var result = Result()
            let rows = try store.trainingRows(
                limit: settings.trainingMaxRows, unlabelledAsLegit: settings.trainingUnlabelledAsLegit)
            var pacer = WorkerPacer(share: settings.cpuShare)
            var parsed: [[String: Double]] = []
            parsed.reserveCapacity(rows.count)
            for (index, row) in rows.enumerated() {
                if index & 255 == 0 { pacer.pace() }
                parsed.append(parseFeaturesJSON(row.features) ?? [:])
            }
            let labels = rows.map(\.isFraud)
            result.fraud = labels.filter { $0 }.count
            let count = rows.count
            let trainEnd = count * 70 / 100
            let validationEnd = count * 85 / 100
            result.rows = (trainEnd, validationEnd - trainEnd, count - validationEnd)
            func fraud(_ range: Range<Int>) -> Int { labels[range].filter { $0 }.count }
            guard count >= 200, fraud(0..<trainEnd) >= 10, fraud(trainEnd..<validationEnd) >= 2,
                fraud(validationEnd..<count) >= 2, fraud(validationEnd..<count) < count - validationEnd
            else {
                result.note =
                    "not enough payments to train and evaluate: \(count) read, \(result.fraud) fraud (needs 200, "
                    + "with at least 10 fraud to train on and fraud and legitimate payments in the validation and "
                    + "held-out parts)"
                return result
            }
            result.holdoutFromMicros = rows[validationEnd].occurredAtMicros
            result.holdoutToMicros = rows[count - 1].occurredAtMicros
            func data(_ range: Range<Int>, names: [String]) -> GradientBoostingTrainer.Data {
                GradientBoostingTrainer.Data(
                    columns: names.map { name in range.map { parsed[$0][name] ?? .nan } },
                    labels: Array(labels[range]))
            }
            let train = data(0..<trainEnd, names: featureNames)
            let validation = data(trainEnd..<validationEnd, names: featureNames)
            let holdoutRange = validationEnd..<count
            let holdoutLabels = Array(labels[holdoutRange])
            func evaluate(_ model: any ScoringModel) -> Evaluation {
                let scores = holdoutRange.map { row in
                    Explanation.logistic(model.margin(model.featureNames.map { parsed[row][$0] ?? .nan }))
                }
                return Evaluation(scores: scores, isFraud: holdoutLabels, policy: policy)
            }
            result.champion = evaluate(champion)

            var parameters = GradientBoostingTrainer.Parameters()
            parameters.trees = settings.trainingTrees
            parameters.maxDepth = settings.trainingMaxDepth
            parameters.learningRate = settings.trainingLearningRate
            let boosted = try GradientBoostingTrainer(parameters: parameters).train(train, validation: validation) {
                pacer.pace()
            }
            let treeText = boosted.ensemble.lightGBMText(featureNames: featureNames)
            let treeModel = try TreeEnsembleModel(
                name: "worker-gbdt", version: "new", featureNames: featureNames, ensemble: boosted.ensemble,
                library: "vigil", libraryVersion: "1", objective: "binary sigmoid:1")
            result.candidates.append(
                TrainedCandidate(
                    kind: "gradient_boosting", registryName: "worker-gbdt", format: .lightgbmText,
                    file: Array(treeText.utf8), evaluation: evaluate(treeModel),
                    details: [("trees", boosted.ensemble.treeCount), ("best_iteration", boosted.bestIteration)]))

            let document = try LogisticRegressionTrainer().train(
                train, featureNames: featureNames, name: "worker-logistic", version: "new"
            ) { pacer.pace() }
            let logistic = try LogisticModel(document: document)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            result.candidates.append(
                TrainedCandidate(
                    kind: "logistic_regression", registryName: "worker-logistic", format: .vigilLogistic,
                    file: Array(try encoder.encode(document)), evaluation: evaluate(logistic),
                    details: [("features", featureNames.count)]))
            return result
        }
    }

    /// Trains when enough labels arrived since the last training (or `force`), registers the better candidate as
    /// challenger, and promotes it when the policy says so.
    func train(runID: String, force: Bool) async throws -> TrainingOutcome {
        let store = self.store
        let previous = try await store.lastSucceeded(job: WorkerJob.train.rawValue)
        let since = previous?.result.flatMap(Self.labelCursor) ?? 0
        let (cursor, fresh) = try await LowPriorityThread.run {
            (try store.labelCursor(), try store.labelsSince(since))
        }
        if !force, fresh < settings.trainingMinNewLabels {
            return TrainingOutcome(
                json: "{\"label_cursor\":\(since),\"new_labels\":\(fresh),\"needed\":\(settings.trainingMinNewLabels),"
                    + "\"note\":\"not enough new labels since the last training\"}",
                skipped: true)
        }
        let champion = registry.active.scorer.model
        let championKey = try await registry.store.aliases()[.champion]?.key
        let computation = TrainingComputation(
            store: store, settings: settings, featureNames: registry.extractor.names, policy: registry.policy,
            champion: champion)
        let started = ContinuousClock.now
        let result = try await LowPriorityThread.run { try computation.run() }
        var writer = JSONWriter(reservingCapacity: 2048)
        writer.objectStart()
        writer.key("label_cursor")
        writer.int(Int(cursor))
        writer.key("new_labels")
        writer.int(fresh)
        writer.key("rows")
        writer.objectStart()
        writer.key("train")
        writer.int(result.rows.train)
        writer.key("validation")
        writer.int(result.rows.validation)
        writer.key("holdout")
        writer.int(result.rows.holdout)
        writer.objectEnd()
        writer.key("fraud")
        writer.int(result.fraud)
        guard let championEvaluation = result.champion, let best = Self.better(result.candidates) else {
            writer.key("note")
            writer.optionalString(result.note)
            writer.objectEnd()
            return TrainingOutcome(json: String(decoding: writer.bytes, as: UTF8.self), skipped: true)
        }
        writer.key("holdout_window")
        Self.writeSpan(from: result.holdoutFromMicros, to: result.holdoutToMicros, into: &writer)
        writer.key("candidates")
        writer.arrayStart()
        for candidate in result.candidates {
            writer.objectStart()
            writer.key("model")
            writer.string(candidate.kind)
            for (key, value) in candidate.details {
                writer.key(key)
                writer.int(value)
            }
            Self.writeEvaluation(candidate.evaluation, into: &writer)
            writer.objectEnd()
        }
        writer.arrayEnd()
        writer.key("champion")
        writer.objectStart()
        writer.key("name")
        writer.optionalString(championKey?.name)
        writer.key("version")
        if let championKey { writer.int(championKey.version) } else { writer.null() }
        Self.writeEvaluation(championEvaluation, into: &writer)
        writer.objectEnd()

        let stored = try await registry.upload(
            name: best.registryName, format: best.format, file: best.file, by: "worker")
        try await registry.promote(stored.key, to: .challenger, by: "worker")
        writer.key("registered")
        writer.objectStart()
        writer.key("model")
        writer.string(best.kind)
        writer.key("name")
        writer.string(stored.key.name)
        writer.key("version")
        writer.int(stored.key.version)
        writer.key("alias")
        writer.string("challenger")
        writer.objectEnd()
        var promoted = false
        if settings.autoPromote, let challengerAUC = best.evaluation.rocAUC,
            let championAUC = championEvaluation.rocAUC,
            challengerAUC >= championAUC + settings.promoteMargin
        {
            try await registry.promote(stored.key, to: .champion, by: "worker")
            rules.rateGuard.watchChampion(
                description:
                    "model \(stored.key.name) version \(stored.key.version) promoted to champion by the worker",
                nowMicros: clock.nowMicros())
            promoted = true
        }
        writer.key("promoted_to_champion")
        writer.bool(promoted)
        let elapsed = ContinuousClock.now - started
        writer.key("elapsed_ms")
        writer.number(elapsed.milliseconds)
        writer.objectEnd()
        return TrainingOutcome(json: String(decoding: writer.bytes, as: UTF8.self), skipped: false)
    }

    /// The candidate with the higher held-out AUC (the simpler one, the logistic regression, on a tie).
    static func better(_ candidates: [TrainedCandidate]) -> TrainedCandidate? {
        candidates.max { left, right in
            let l = left.evaluation.rocAUC ?? 0
            let r = right.evaluation.rocAUC ?? 0
            if l != r { return l < r }
            return left.kind == "logistic_regression"
        }
    }

    static func writeEvaluation(_ evaluation: Evaluation, into writer: inout JSONWriter) {
        writer.key("holdout")
        writer.objectStart()
        writer.key("labelled")
        writer.int(evaluation.labelled)
        writer.key("fraud")
        writer.int(evaluation.fraud)
        writer.key("roc_auc")
        writer.optionalNumber(evaluation.rocAUC)
        writer.key("average_precision")
        writer.optionalNumber(evaluation.averagePrecision)
        writer.objectEnd()
    }

    /// `label_cursor` of a training run's result.
    static func labelCursor(_ result: String) -> Int64? {
        guard let range = result.range(of: "\"label_cursor\":") else { return nil }
        let digits = result[range.upperBound...].prefix { $0.isNumber }
        return Int64(digits)
    }
}
