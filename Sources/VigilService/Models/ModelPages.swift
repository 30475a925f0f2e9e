import VigilCore
import VigilStore

/// The registry's read side: the list of models and each version's page (aliases, shadow agreement and
/// evaluation on labelled payments).
public struct ModelPages: Sendable {
    public let registry: ModelRegistry

    public init(registry: ModelRegistry) {
        self.registry = registry
    }

    /// `GET /v1/models`: every version of every model and where the aliases point.
    public func list() async throws(ServiceError) -> [UInt8] {
        let (models, aliases) = try await storeRead {
            (try await registry.store.all(), try await registry.store.aliases())
        }
        var writer = JSONWriter(reservingCapacity: 4096)
        writer.objectStart()
        writer.key("aliases")
        writeAliases(aliases, into: &writer)
        writer.key("models")
        writer.arrayStart()
        var index = 0
        while index < models.count {
            let name = models[index].key.name
            writer.objectStart()
            writer.key("name")
            writer.string(name)
            writer.key("versions")
            writer.arrayStart()
            while index < models.count, models[index].key.name == name {
                writeSummary(models[index], aliases: aliases, into: &writer)
                index += 1
            }
            writer.arrayEnd()
            writer.objectEnd()
        }
        writer.arrayEnd()
        writer.objectEnd()
        return writer.bytes
    }

    /// Where `champion` and `challenger` point now.
    public func aliases() async throws(ServiceError) -> [UInt8] {
        let aliases = try await storeRead { try await registry.store.aliases() }
        var writer = JSONWriter()
        writeAliases(aliases, into: &writer)
        return writer.bytes
    }

    /// The page of a version just stored (`POST /v1/models` answers with it).
    public func summary(_ model: StoredModel) async throws(ServiceError) -> [UInt8] {
        let aliases = try await storeRead { try await registry.store.aliases() }
        var writer = JSONWriter(reservingCapacity: 1024)
        writeSummary(model, aliases: aliases, into: &writer)
        return writer.bytes
    }

    /// `GET /v1/models/{name}/versions/{v}`: the summary plus shadow agreement and evaluation.
    public func version(_ key: ModelKey) async throws(ServiceError) -> [UInt8] {
        let (stored, aliases, agreement, labelled) = try await storeRead {
            (
                try await registry.store.model(key), try await registry.store.aliases(),
                try await registry.store.shadowAgreement(key),
                try await registry.store.labelledFeatures(limit: ModelRegistry.evaluationLimit)
            )
        }
        guard let stored else { throw .notFound("no model \(key.name) version \(key.version)") }
        let model = try await registry.model(key).model
        var scores: [Double] = []
        var isFraud: [Bool] = []
        scores.reserveCapacity(labelled.count)
        for item in labelled {
            guard let values = parseFeaturesJSON(item.features) else { continue }
            scores.append(Explanation.logistic(model.margin(model.featureNames.map { values[$0] ?? .nan })))
            isFraud.append(item.isFraud)
        }
        let evaluation = Evaluation(scores: scores, isFraud: isFraud, policy: registry.policy)

        var writer = JSONWriter(reservingCapacity: 4096)
        writeSummary(stored, aliases: aliases, into: &writer) { writer in
            writer.key("shadow")
            writeAgreement(agreement, into: &writer)
            writer.key("evaluation")
            writeEvaluation(evaluation, into: &writer)
        }
        return writer.bytes
    }

    private func writeAliases(_ aliases: [ModelAlias: AliasTarget], into writer: inout JSONWriter) {
        writer.objectStart()
        for alias in ModelAlias.allCases {
            writer.key(alias.rawValue)
            guard let target = aliases[alias] else {
                writer.null()
                continue
            }
            writer.objectStart()
            writer.key("name")
            writer.string(target.key.name)
            writer.key("version")
            writer.int(target.key.version)
            writer.key("set_by")
            writer.string(target.setBy)
            writer.key("set_at")
            writer.string(formatRFC3339(micros: target.setAtMicros))
            writer.objectEnd()
        }
        writer.objectEnd()
    }

    private func writeSummary(
        _ model: StoredModel, aliases: [ModelAlias: AliasTarget], into writer: inout JSONWriter,
        more: (inout JSONWriter) -> Void = { _ in }
    ) {
        writer.objectStart()
        writer.key("name")
        writer.string(model.key.name)
        writer.key("version")
        writer.int(model.key.version)
        writer.key("format")
        writer.string(model.format.rawValue)
        writer.key("sha256")
        writer.string(model.sha256)
        writer.key("size_bytes")
        writer.int(model.sizeBytes)
        writer.key("uploaded_by")
        writer.string(model.uploadedBy)
        writer.key("uploaded_at")
        writer.string(formatRFC3339(micros: model.uploadedAtMicros))
        writer.key("aliases")
        writer.arrayStart()
        for alias in ModelAlias.allCases where aliases[alias]?.key == model.key { writer.string(alias.rawValue) }
        writer.arrayEnd()
        writer.key("feature_names")
        writer.arrayStart()
        for name in model.featureNames { writer.string(name) }
        writer.arrayEnd()
        writer.key("details")
        writer.raw(Array(model.details.utf8))
        more(&writer)
        writer.objectEnd()
    }

    private func writeAgreement(_ agreement: ShadowAgreement, into writer: inout JSONWriter) {
        writer.objectStart()
        writer.key("scored")
        writer.int(agreement.scored)
        writer.key("same_decision")
        writer.int(agreement.sameDecision)
        writer.key("agreement_rate")
        if agreement.scored > 0 {
            writer.number(Double(agreement.sameDecision) / Double(agreement.scored))
        } else {
            writer.null()
        }
        writer.key("mean_absolute_score_difference")
        if let difference = agreement.meanAbsoluteScoreDifference { writer.number(difference) } else { writer.null() }
        writer.key("decisions")
        writer.objectStart()
        for champion in agreement.matrix.keys.sorted() {
            writer.key(champion)
            writer.objectStart()
            for (challenger, count) in agreement.matrix[champion, default: [:]].sorted(by: { $0.key < $1.key }) {
                writer.key(challenger)
                writer.int(count)
            }
            writer.objectEnd()
        }
        writer.objectEnd()
        writer.objectEnd()
    }

    private func writeEvaluation(_ evaluation: Evaluation, into writer: inout JSONWriter) {
        func optional(_ value: Double?) {
            if let value { writer.number(value) } else { writer.null() }
        }
        writer.objectStart()
        writer.key("labels_used")
        writer.int(evaluation.labelled)
        writer.key("fraud")
        writer.int(evaluation.fraud)
        writer.key("roc_auc")
        optional(evaluation.rocAUC)
        writer.key("pr_auc")
        optional(evaluation.averagePrecision)
        writer.key("thresholds")
        writer.arrayStart()
        for threshold in evaluation.thresholds {
            writer.objectStart()
            writer.key("decision")
            writer.string(threshold.name)
            writer.key("risk_score_at_least")
            writer.int(threshold.riskScore)
            writer.key("flagged")
            writer.int(threshold.flagged)
            writer.key("precision")
            optional(threshold.precision)
            writer.key("recall")
            optional(threshold.recall)
            writer.objectEnd()
        }
        writer.arrayEnd()
        writer.objectEnd()
    }
}
