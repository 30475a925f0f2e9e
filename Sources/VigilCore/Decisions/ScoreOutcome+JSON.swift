extension ScoreOutcome {
    /// The score answer as served by `POST /v1/score` and stored for idempotent replays.
    public func answerJSON(caseID: String?, scoredAtMicros: Int64) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 1024)
        writer.objectStart()
        writer.key("transaction_id")
        writer.string(transaction.transactionID)
        writer.key("score")
        writer.number(probability)
        writer.key("risk_score")
        writer.int(riskScore)
        writer.key("decision")
        writer.string(decision.rawValue)
        writer.key("reasons")
        writer.arrayStart()
        for reason in reasons {
            writer.objectStart()
            writer.key("feature")
            writer.string(reason.feature)
            writer.key("value")
            if let value = reason.value { writer.number(value) } else { writer.null() }
            writer.key("contribution")
            writer.number(reason.contribution)
            writer.key("sentence")
            writer.string(reason.sentence)
            writer.objectEnd()
        }
        writer.arrayEnd()
        writer.key("rules")
        writer.arrayStart()
        writer.arrayEnd()
        writer.key("model")
        writer.objectStart()
        writer.key("name")
        writer.string(modelName)
        writer.key("version")
        writer.string(modelVersion)
        writer.objectEnd()
        writer.key("case_id")
        if let caseID { writer.string(caseID) } else { writer.null() }
        writer.key("scored_at")
        writer.string(formatRFC3339(micros: scoredAtMicros))
        writer.objectEnd()
        return writer.bytes
    }

    /// The feature vector as a JSON object, name → number or null when missing.
    public func featuresJSON() -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 512)
        writer.objectStart()
        for (name, value) in zip(featureNames, features) {
            writer.key(name)
            if value.isNaN { writer.null() } else { writer.number(value) }
        }
        writer.objectEnd()
        return writer.bytes
    }
}
