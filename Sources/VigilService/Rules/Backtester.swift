import Foundation
import VigilCore
import VigilStore

extension RuleService {
    static let backtestFields: Set<String> = ["expression", "rule_id", "action", "points", "from", "to", "max_rows"]
    /// At most this many stored payments per backtest (with a range, the oldest in it first; without, row order).
    public static let maxBacktestRows = 5_000_000

    /// Transaction fields a rule reads straight from the stored body (features need the stored feature JSON).
    static let transactionFieldNames: Set<String> = [
        "transaction_id", "currency", "amount", "card_id", "customer_id", "merchant_id", "device_id", "email",
        "ip_address", "merchant_category", "merchant_country", "card_country", "ip_country", "channel",
    ]

    /// `POST /v1/rules/backtest`: replays an expression (or a stored rule) over the stored payments that occurred in
    /// `[from, to)`, with their effective labels.
    public func backtest(body: [UInt8]) async throws(ServiceError) -> [UInt8] {
        var reader = try JSONObjectReader(JSONInput.parse(body), known: Self.backtestFields)
        var expressionText = reader.string("expression", maxBytes: RuleLimits().maxSourceBytes)
        let ruleID = reader.string("rule_id", maxBytes: 64)
        var actionKind = reader.choice("action", RuleActionKind.self)
        var points = reader.number("points", in: -Self.maxPoints...Self.maxPoints)
        let from = reader.time("from")
        let to = reader.time("to")
        let maxRows = reader.int("max_rows", in: 1...Self.maxBacktestRows) ?? Self.maxBacktestRows
        if expressionText == nil, ruleID == nil, !reader.has("expression"), !reader.has("rule_id") {
            reader.fail("expression", "is required (or rule_id)")
        }
        if reader.has("expression"), reader.has("rule_id") {
            reader.fail("rule_id", "give either expression or rule_id, not both")
        }
        if let from, let to, from >= to { reader.fail("to", "must be after from") }
        try reader.check()
        var name = "expression"
        if let ruleID {
            guard let rule = try await storeRead({ try await store.rule(id: ruleID) }) else {
                throw .notFound("no rule with id \(ruleID)")
            }
            expressionText = rule.expression
            actionKind = actionKind ?? rule.action
            points = points ?? rule.points
            name = "rule \(rule.ruleID) version \(rule.version)"
        }
        let kind = actionKind ?? .review
        if kind == .score, points == nil {
            reader.fail("points", "is required for action score")
        }
        if kind != .score, points != nil, reader.has("points") { reader.fail("points", "is only for action score") }
        try reader.check()
        guard let expressionText else { throw .validation(reader.errors) }
        let expression: RuleExpression
        do {
            expression = try RuleExpression.compile(expressionText, schema: engine.schema)
        } catch {
            throw .validation([
                FieldError(path: ruleID == nil ? "$.expression" : "$.rule_id", message: error.description)
            ])
        }
        let book = engine.book
        let policy = registry.policy
        let featureNames = engine.featureNames
        let needsFeatures = expression.referencedNames.contains {
            !Self.transactionFieldNames.contains($0) && !$0.hasPrefix("attributes.")
        }
        var positions: [String: Int] = [:]
        for (index, name) in featureNames.enumerated() { positions[name] = index }
        let started = ContinuousClock.now
        var tally = BacktestTally(points: kind == .score ? points : nil, policy: policy)
        var unreadable = 0
        let lists = book.lists
        let rows: Int
        do {
            rows = try await scan.scan(fromMicros: from, toMicros: to, maxRows: maxRows) { row in
                guard case .success(let transaction) = TransactionDecoder.decode(row.body) else {
                    unreadable += 1
                    return true
                }
                var features: [Double]
                if needsFeatures {
                    features = [Double](repeating: .nan, count: featureNames.count)
                    Self.readFeatures(row.features, positions: positions, into: &features)
                } else {
                    features = []
                }
                let hit = expression.matches(transaction, features: features, lists: lists)
                let decision = row.decision
                let margin = row.margin ?? Self.logit(row.score)
                tally.add(
                    hit: hit, amount: row.amount, label: row.label, chargeback: row.labelSource == "chargeback",
                    decision: decision, modelMargin: margin)
                return true
            }
        } catch {
            throw .unavailable("the stored payments could not be read: \(error)")
        }
        let elapsed = ContinuousClock.now - started
        var writer = JSONWriter(reservingCapacity: 4096)
        writer.objectStart()
        writer.key("subject")
        writer.string(name)
        writer.key("expression")
        writer.string(expressionText)
        writer.key("action")
        writer.string(kind.rawValue)
        writer.key("points")
        writer.optionalNumber(kind == .score ? points : nil)
        writer.key("from")
        writer.optionalString(from.map { formatRFC3339(micros: $0) })
        writer.key("to")
        writer.optionalString(to.map { formatRFC3339(micros: $0) })
        writer.key("rows")
        writer.int(rows)
        writer.key("truncated")
        writer.bool(rows >= maxRows)
        writer.key("unreadable")
        writer.int(unreadable)
        Self.writeTallyFields(tally, into: &writer)
        writer.key("strengths")
        writer.arrayStart()
        for outcome in tally.strengths {
            writer.objectStart()
            writer.key("strength")
            writer.number(outcome.strength)
            writer.key("approve")
            writer.int(outcome.approve)
            writer.key("review")
            writer.int(outcome.review)
            writer.key("decline")
            writer.int(outcome.decline)
            writer.key("changed")
            writer.int(outcome.changed)
            writer.key("precision")
            writer.optionalNumber(outcome.precision)
            writer.key("recall")
            writer.optionalNumber(tally.recall(of: outcome))
            writer.key("fraud_flagged")
            Self.write(outcome.fraudFlagged, into: &writer)
            writer.key("legit_flagged")
            Self.write(outcome.legitFlagged, into: &writer)
            writer.objectEnd()
        }
        writer.arrayEnd()
        writer.key("elapsed_ms")
        writer.number(elapsed.milliseconds)
        writer.objectEnd()
        return writer.bytes
    }

    /// A backtest's counts as a JSON object (the worker's evidence for a mined rule).
    static func writeTallySummary(_ tally: BacktestTally, into writer: inout JSONWriter) {
        writer.objectStart()
        writer.key("rows")
        writer.int(tally.rows)
        writeTallyFields(tally, into: &writer)
        writer.objectEnd()
    }

    /// Hits, labelled counts, precision, recall and the buckets, as fields of the object being written.
    static func writeTallyFields(_ tally: BacktestTally, into writer: inout JSONWriter) {
        writer.key("hits")
        writer.int(tally.hits)
        writer.key("hit_rate")
        writer.optionalNumber(tally.hitRate)
        writer.key("amount_hit")
        writer.number(tally.amountHit)
        writer.key("labelled")
        writer.objectStart()
        writer.key("fraud")
        Self.write(tally.labelledFraud, into: &writer)
        writer.key("legit")
        Self.write(tally.labelledLegit, into: &writer)
        writer.objectEnd()
        writer.key("precision")
        writer.optionalNumber(tally.precision)
        writer.key("recall")
        writer.optionalNumber(tally.recall)
        writer.key("fraud_amount_caught")
        writer.number(tally.buckets.fraud.amount)
        writer.key("legit_hit")
        Self.write(tally.buckets.legit, into: &writer)
        writer.key("buckets")
        writer.objectStart()
        writer.key("fraud")
        Self.write(tally.buckets.fraud, into: &writer)
        writer.key("chargeback")
        Self.write(tally.buckets.chargeback, into: &writer)
        writer.key("legit")
        Self.write(tally.buckets.legit, into: &writer)
        writer.key("unlabelled")
        Self.write(tally.buckets.unlabelled, into: &writer)
        writer.key("already_declined_or_reviewed")
        Self.write(tally.buckets.alreadyFlagged, into: &writer)
        writer.objectEnd()
    }

    static func write(_ value: CountAndAmount, into writer: inout JSONWriter) {
        writer.objectStart()
        writer.key("count")
        writer.int(value.count)
        writer.key("amount")
        writer.number(value.amount)
        writer.objectEnd()
    }

    static func logit(_ probability: Double) -> Double {
        let clamped = min(max(probability, 1e-15), 1 - 1e-15)
        return log(clamped / (1 - clamped))
    }

    /// Fills feature values from stored feature JSON (`{"name": number | null, …}`) at their positions.
    static func readFeatures(_ bytes: UnsafeRawBufferPointer, positions: [String: Int], into features: inout [Double]) {
        var scanner = JSONScanner(bytes)
        do {
            try scanner.beginObject()
            var first = true
            while let span = try scanner.nextObjectKey(isFirst: &first) {
                let value = try scanner.readValue()
                guard case .number(let number) = value, let position = positions[scanner.string(span)] else { continue }
                features[position] = number
            }
        } catch {
            return
        }
    }
}
