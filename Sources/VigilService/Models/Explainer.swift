import VigilCore
import VigilStore

/// Exact explanations: of a stored decision with the model version that made it, or of a what-if body.
public struct Explainer: Sendable {
    public let registry: ModelRegistry
    public let store: any DecisionStore
    /// The rules a what-if is evaluated against (nil: the model alone).
    public let rules: RuleEngine?
    public let clock: any WallClock
    public let defaultStrength: Double
    public let velocity: VelocityService?

    public init(
        registry: ModelRegistry, store: any DecisionStore, rules: RuleEngine? = nil,
        clock: any WallClock = SystemWallClock(), defaultStrength: Double = 1, velocity: VelocityService? = nil
    ) {
        self.velocity = velocity
        self.registry = registry
        self.store = store
        self.rules = rules
        self.clock = clock
        self.defaultStrength = defaultStrength
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
        // The rules that matched when it was decided, as stored with the decision (active and shadow).
        var rulesJSON: [UInt8] = Array("[]".utf8)
        var contribution = 0.0
        if let stored = stored.rules, case .array(let entries)? = try? JSONInput.parse(Array(stored.utf8)) {
            rulesJSON = Array(stored.utf8)
            for case .object(let fields) in entries {
                if case .number(let value)? = fields.first(where: { $0.0 == "contribution" })?.1 {
                    contribution += value
                }
            }
        }
        var writer = JSONWriter(reservingCapacity: 2048)
        write(
            transaction: transaction, model: model, sha256: sha256, inputs: inputs, explanation: explanation,
            rulesJSON: rulesJSON, rulesContribution: contribution, decision: stored.decision, into: &writer)
        return writer.bytes
    }

    /// `POST /v1/explain`: what the champion would say about this payment; nothing is stored.
    public func whatIf(_ transaction: Transaction, strength: Double? = nil) -> [UInt8] {
        let active = registry.active
        let scorer = active.scorer
        let outcome = scorer.score(
            transaction, explain: .always, rules: rules?.book ?? .empty, strength: strength ?? defaultStrength,
            nowMicros: clock.nowMicros(), history: velocity?.isEnabled == true ? velocity!.peek(transaction) : [])
        let inputs = scorer.champion.inputs(from: outcome.features)
        let explanation = outcome.explanation ?? scorer.model.explain(inputs)
        var rules = JSONWriter(reservingCapacity: 256)
        rules.arrayStart()
        for match in outcome.ruleMatches {
            writeRuleMatch(match, strength: outcome.ruleStrength, decided: match == outcome.forcingRule, into: &rules)
        }
        rules.arrayEnd()
        var writer = JSONWriter(reservingCapacity: 2048)
        write(
            transaction: transaction, model: scorer.model, sha256: active.championSHA256, inputs: inputs,
            explanation: explanation, rulesJSON: rules.bytes, rulesContribution: outcome.margin - outcome.modelMargin,
            decision: outcome.decision.rawValue, into: &writer)
        return writer.bytes
    }

    private func write(
        transaction: Transaction, model: any ScoringModel, sha256: String, inputs: [Double], explanation: Explanation,
        rulesJSON: [UInt8], rulesContribution: Double, decision: String, into writer: inout JSONWriter
    ) {
        let finalMargin = explanation.margin + rulesContribution
        let probability = Explanation.logistic(finalMargin)
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
        writer.key("rules_contribution")
        writer.number(rulesContribution)
        writer.key("final_margin")
        writer.number(finalMargin)
        writer.key("probability")
        writer.number(probability)
        writer.key("risk_score")
        writer.int(DecisionPolicy.riskScore(probability: probability))
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
        writer.key("rules")
        writer.raw(rulesJSON)
        writer.objectEnd()
    }
}
