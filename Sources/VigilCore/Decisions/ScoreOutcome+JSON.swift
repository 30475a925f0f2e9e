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
        for match in ruleMatches where match.mode == .active {
            writeRuleMatch(match, strength: ruleStrength, decided: match == forcingRule, into: &writer)
        }
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

/// One matched rule as the score answer and the explanation write it: id, name, version, action, points,
/// contribution to the margin and a sentence.
public func writeRuleMatch(_ match: RuleMatch, strength: Double, decided: Bool, into writer: inout JSONWriter) {
    writer.objectStart()
    writer.key("id")
    writer.string(match.id)
    writer.key("name")
    writer.string(match.name)
    writer.key("version")
    writer.int(match.version)
    writer.key("action")
    writer.string(match.action.name)
    if let points = match.action.points {
        writer.key("points")
        writer.number(points)
    }
    writer.key("contribution")
    writer.number(match.contribution)
    writer.key("sentence")
    writer.string(ruleSentence(match, strength: strength, decided: decided))
    writer.objectEnd()
}

/// A readable sentence for a matched rule.
public func ruleSentence(_ match: RuleMatch, strength: Double, decided: Bool) -> String {
    let subject = "Rule \u{201C}\(match.name)\u{201D}"
    switch match.action {
    case .allow:
        return subject + (decided ? " allows this payment, over the model and every other rule." : " matched.")
    case .block:
        return subject + (decided ? " blocks this payment." : " matched, but an allow rule took precedence.")
    case .review:
        return subject + (decided ? " sends this payment to review." : " matched, but a stronger rule decided.")
    case .score(let points):
        return subject + " adds \(formatNumber(points, signed: true)) points at rule strength "
            + "\(formatNumber(strength, signed: false)): \(formatNumber(match.contribution, signed: true)) to the log-odds."
    }
}

private func formatNumber(_ value: Double, signed: Bool) -> String {
    var writer = JSONWriter(reservingCapacity: 24)
    writer.number((value * 1000).rounded() / 1000)
    let text = String(decoding: writer.bytes, as: UTF8.self)
    return signed && value > 0 ? "+" + text : text
}

extension ScoreOutcome {
    /// Every matched rule, active and shadow, as stored with the decision (nil when none matched):
    /// `[{"id", "name", "version", "action", "points", "mode", "contribution", "strength", "decided"}]`.
    public func rulesJSON() -> String? {
        guard !ruleMatches.isEmpty else { return nil }
        var writer = JSONWriter(reservingCapacity: 160 * ruleMatches.count)
        writer.arrayStart()
        for match in ruleMatches {
            writer.objectStart()
            writer.key("id")
            writer.string(match.id)
            writer.key("name")
            writer.string(match.name)
            writer.key("version")
            writer.int(match.version)
            writer.key("action")
            writer.string(match.action.name)
            writer.key("points")
            writer.optionalNumber(match.action.points)
            writer.key("mode")
            writer.string(match.mode.rawValue)
            writer.key("contribution")
            writer.number(match.contribution)
            writer.key("strength")
            writer.number(ruleStrength)
            writer.key("decided")
            writer.bool(match == forcingRule)
            writer.objectEnd()
        }
        writer.arrayEnd()
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
