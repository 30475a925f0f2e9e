import VigilCore
import VigilStore

/// Exact explanations: of a stored decision with the model version that made it, or of a what-if body.
public struct Explainer: Sendable {
    public let registry: ModelRegistry
    public let store: any DecisionStore

    public init(registry: ModelRegistry, store: any DecisionStore) {
        self.registry = registry
        self.store = store
    }

    /// `GET /v1/transactions/{id}/explanation`: recomputed with the version recorded with the decision.
    public func explanation(transactionID id: String) async throws(ServiceError) -> [UInt8] {
        let stored = try await storeRead { try await store.transaction(id: id) }
        guard let stored else { throw .notFound("no transaction with id \(id)") }
        guard let version = Int(stored.modelVersion) else {
            throw .notFound("model \(stored.modelName) version \(stored.modelVersion) is not in the registry")
        }
        let (model, sha256) = try await registry.model(ModelKey(name: stored.modelName, version: version))
        guard let values = parseFeaturesJSON(stored.features),
            case .success(let transaction) = TransactionDecoder.decode(Array(stored.body.utf8))
        else {
            throw .unavailable("the stored record of transaction \(id) cannot be read back")
        }
        let inputs = model.featureNames.map { values[$0] ?? .nan }
        let explanation = model.explain(inputs)
        var writer = JSONWriter(reservingCapacity: 2048)
        write(
            transaction: transaction, model: model, sha256: sha256, inputs: inputs, explanation: explanation,
            decision: stored.decision, into: &writer)
        return writer.bytes
    }

    /// `POST /v1/explain`: what the champion would say about this payment; nothing is stored.
    public func whatIf(_ transaction: Transaction) -> [UInt8] {
        let active = registry.active
        let scorer = active.scorer
        let features = scorer.extractor.extract(transaction)
        let inputs = scorer.champion.inputs(from: features)
        let explanation = scorer.model.explain(inputs)
        let decision = scorer.policy.decide(
            riskScore: DecisionPolicy.riskScore(probability: Explanation.logistic(scorer.model.margin(inputs))))
        var writer = JSONWriter(reservingCapacity: 2048)
        write(
            transaction: transaction, model: scorer.model, sha256: active.championSHA256, inputs: inputs,
            explanation: explanation, decision: decision.rawValue, into: &writer)
        return writer.bytes
    }

    private func write(
        transaction: Transaction, model: any ScoringModel, sha256: String, inputs: [Double], explanation: Explanation,
        decision: String, into writer: inout JSONWriter
    ) {
        writer.objectStart()
        writer.key("transaction_id")
        writer.string(transaction.transactionID)
        writer.key("model")
        writer.objectStart()
        writer.key("name")
        writer.string(model.name)
        writer.key("version")
        writer.string(model.version)
        writer.key("sha256")
        writer.string(sha256)
        writer.objectEnd()
        writer.key("bias")
        writer.number(explanation.bias)
        writer.key("margin")
        writer.number(explanation.margin)
        writer.key("probability")
        writer.number(explanation.probability)
        writer.key("risk_score")
        writer.int(DecisionPolicy.riskScore(probability: explanation.probability))
        writer.key("decision")
        writer.string(decision)
        writer.key("additivity_error")
        writer.number(explanation.additivityError)
        writer.key("contributions")
        writer.arrayStart()
        for (index, name) in model.featureNames.enumerated() {
            writer.objectStart()
            writer.key("feature")
            writer.string(name)
            writer.key("value")
            if inputs[index].isNaN { writer.null() } else { writer.number(inputs[index]) }
            writer.key("contribution")
            writer.number(explanation.contributions[index])
            writer.objectEnd()
        }
        writer.arrayEnd()
        writer.key("reasons")
        writer.arrayStart()
        let reasons = registry.reasonWriter.reasons(
            for: explanation, featureNames: model.featureNames, inputs: inputs, transaction: transaction)
        for reason in reasons { writeReason(reason, into: &writer) }
        writer.arrayEnd()
        writer.objectEnd()
    }
}
