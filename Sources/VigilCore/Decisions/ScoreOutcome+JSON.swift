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
        for reason in reasons { writeReason(reason, into: &writer) }
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

/// Reads back a feature vector written by `ScoreOutcome.featuresJSON()`: name → value, `nan` for null.
public func parseFeaturesJSON(_ json: String) -> [String: Double]? {
    var utf8 = Array(json.utf8)
    return utf8.withUnsafeMutableBytes { raw -> [String: Double]? in
        var scanner = JSONScanner(UnsafeRawBufferPointer(raw))
        var values: [String: Double] = [:]
        do {
            try scanner.beginObject()
            var first = true
            while let span = try scanner.nextObjectKey(isFirst: &first) {
                let name = scanner.string(span)
                switch try scanner.readValue() {
                case .number(let value): values[name] = value
                case .null: values[name] = .nan
                default: return nil
                }
            }
            try scanner.expectEnd()
        } catch {
            return nil
        }
        return values
    }
}

/// One reason as the score answer and the explanation endpoints write it.
public func writeReason(_ reason: Reason, into writer: inout JSONWriter) {
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
