import Foundation
import VigilCore
import VigilStore

/// A segment a mining run is restricted to (an onset alert's).
public struct MiningSegment: Sendable, Equatable {
    public var kind: SegmentKind
    public var value: String

    /// The segment as a rule condition.
    var condition: PatternMiner.Condition { .equals(column: kind.rawValue, value: value) }
}

/// What one mining run looks at: a window of event time (and the one before it, for evidence), optionally a
/// segment, and the alert that asked for it.
struct MiningRequest: Sendable {
    var fromMicros: Int64
    var toMicros: Int64
    var previousFromMicros: Int64
    var segment: MiningSegment?
    var alertID: String?
    /// Fraud payments (row ids) that rules proposed earlier in this run already single out.
    var coveredFraud: Set<Int64> = []
}

/// A candidate that passed every filter, with its evidence, ready to become a proposed rule.
struct MinedProposal: Sendable {
    var conditions: [PatternMiner.Condition]
    var pattern: PatternMiner.Pattern
    var signature: String
    var previouslyRejected: String?
    var window: BacktestTally
    var previous: BacktestTally

    /// The fraud payments (row ids) it covers among the mined rows.
    var fraudRows: [Int64]

    var expression: String { conditions.map(\.description).joined(separator: " and ") }
}

/// A candidate that was dropped, and why.
struct SkippedPattern: Sendable {
    var expression: String
    var reason: String
}

/// The heavy half of a mining run: reads the window's payments, mines, filters and backtests the candidates.
/// Runs synchronously on the worker's low-priority thread.
struct MiningComputation: Sendable {
    let scan: BacktestScan
    let store: WorkerStore
    let book: RuleBook
    let schema: RuleSchema
    let featureNames: [String]
    let policy: DecisionPolicy
    let settings: WorkerSettings

    struct Outcome: Sendable {
        var rows = 0
        /// Rows mined: labelled ones, and unlabelled ones as legit unless settings say to skip them.
        var mined = 0
        var labelled = 0
        var fraud = 0
        var proposals: [MinedProposal] = []
        var skipped: [SkippedPattern] = []
    }

    /// Transaction fields mined as categories.
    static let categoricalFields = [
        "merchant_id", "merchant_country", "merchant_category", "channel", "card_country", "ip_country", "currency",
    ]

    static func categorical(_ transaction: Transaction, _ field: String) -> String? {
        switch field {
        case "merchant_id": transaction.merchantID
        case "merchant_country": transaction.merchantCountry
        case "merchant_category": transaction.merchantCategory
        case "channel": transaction.channel?.rawValue
        case "card_country": transaction.cardCountry
        case "ip_country": transaction.ipCountry
        case "currency": transaction.currency
        default: nil
        }
    }

    func run(_ request: MiningRequest) throws -> Outcome {
        var outcome = Outcome()
        var positions: [String: Int] = [:]
        for (index, name) in featureNames.enumerated() { positions[name] = index }
        // Existing rules a pattern may already be covered by: everything live, evaluated on every mined row.
        let existing = book.rules
        var categories = [[String?]](repeating: [], count: Self.categoricalFields.count)
        var numbers = [[Double]](repeating: [], count: featureNames.count)
        var labels: [Bool] = []
        var rowIDs: [Int64] = []
        var labelledCount = 0
        let unlabelledAsLegit = settings.miningUnlabelledAsLegit
        var ruleHits = [[Bool]](repeating: [], count: existing.count)
        var features = [Double](repeating: .nan, count: featureNames.count)
        var pacer = WorkerPacer(share: settings.cpuShare)
        outcome.rows = try scan.scanBlocking(
            fromMicros: request.fromMicros, toMicros: request.toMicros, maxRows: settings.miningMaxRows,
            betweenChunks: { pacer.pace() }
        ) { row in
            guard row.label != .none || unlabelledAsLegit,
                case .success(let transaction) = TransactionDecoder.decode(row.body)
            else {
                return true
            }
            if let segment = request.segment, Self.categorical(transaction, segment.kind.rawValue) != segment.value {
                return true
            }
            for index in features.indices { features[index] = .nan }
            RuleService.readFeatures(row.features, positions: positions, into: &features)
            for (index, field) in Self.categoricalFields.enumerated() {
                categories[index].append(Self.categorical(transaction, field))
            }
            for index in features.indices { numbers[index].append(features[index]) }
            labels.append(row.label == .fraud)
            rowIDs.append(row.rowID)
            if row.label != .none { labelledCount += 1 }
            if !existing.isEmpty {
                let input = RuleInput(transaction, features, book.lists)
                for (index, rule) in existing.enumerated() { ruleHits[index].append(rule.expression.matches(input)) }
            }
            return true
        }
        outcome.mined = labels.count
        outcome.labelled = labelledCount
        outcome.fraud = labels.filter { $0 }.count
        guard outcome.fraud > 0 else { return outcome }

        var columns: [PatternMiner.Column] = []
        for (index, field) in Self.categoricalFields.enumerated() where field != request.segment?.kind.rawValue {
            columns.append(.categorical(name: field, values: categories[index]))
        }
        for (index, name) in featureNames.enumerated() {
            columns.append(.numeric(name: name, values: numbers[index]))
        }
        var miner = PatternMiner.Settings()
        miner.minFraud = settings.miningMinFraud
        miner.top = max(settings.miningTop * 4, 10)
        // At most three conditions in all: the segment's counts as one.
        miner.maxConditions = request.segment == nil ? 3 : 2
        // A proposal is read by a person: each extra condition must raise the precision bound clearly.
        miner.minImprovement = 0.05
        let patterns = PatternMiner(settings: miner).mine(columns: columns, labels: labels) { pacer.pace() }

        // Candidates: the segment alone (when restricted), then each pattern (within the segment when restricted).
        var candidates: [(conditions: [PatternMiner.Condition], pattern: PatternMiner.Pattern)] = []
        if let segment = request.segment {
            let fraud = outcome.fraud
            let all = labels.count
            let bound = PatternMiner.wilsonLowerBound(successes: fraud, trials: all)
            candidates.append(
                (
                    [segment.condition],
                    PatternMiner.Pattern(
                        conditions: [], support: all, fraud: fraud, precision: Double(fraud) / Double(all), recall: 1,
                        lift: 1, precisionLowerBound: bound)
                ))
        }
        for pattern in patterns {
            candidates.append(((request.segment.map { [$0.condition] } ?? []) + pattern.conditions, pattern))
        }
        candidates.sort { $0.pattern.precisionLowerBound > $1.pattern.precisionLowerBound }

        let mined = try store.minedRules()
        let openSignatures = Set(
            mined.filter { $0.status != .disabled }.compactMap(\.signature))
        let rejected = try store.rejectedPatterns()
        var chosen:
            [(conditions: [PatternMiner.Condition], pattern: PatternMiner.Pattern, rejected: String?, fraud: [Int64])] =
                []
        var coveredFraud = request.coveredFraud
        var seen: Set<String> = []
        for candidate in candidates {
            let expression = candidate.conditions.map(\.description).joined(separator: " and ")
            let signature = Self.signature(candidate.conditions)
            guard seen.insert(signature).inserted else { continue }
            if chosen.count >= settings.miningTop { break }
            if candidate.pattern.precisionLowerBound < settings.miningMinPrecision {
                outcome.skipped.append(
                    SkippedPattern(
                        expression: expression,
                        reason: "precision lower bound \(Self.rounded(candidate.pattern.precisionLowerBound)) is below "
                            + "\(settings.miningMinPrecision)"))
                continue
            }
            if openSignatures.contains(signature) {
                outcome.skipped.append(
                    SkippedPattern(expression: expression, reason: "already proposed or live as a mined rule"))
                continue
            }
            let cover = Self.cover(candidate.pattern.conditions, columns: columns, rows: labels.count)
            let covered = cover.filter { $0 }.count
            let fraudRows = cover.indices.filter { cover[$0] && labels[$0] }.map { rowIDs[$0] }
            let already = fraudRows.filter { coveredFraud.contains($0) }.count
            if !fraudRows.isEmpty, Double(already) >= 0.8 * Double(fraudRows.count) {
                outcome.skipped.append(
                    SkippedPattern(
                        expression: expression,
                        reason: "singles out mostly the same fraud as a rule this run proposed already"))
                continue
            }
            if let index = ruleHits.indices.first(where: { index in
                let both = zip(cover, ruleHits[index]).filter { $0 && $1 }.count
                return covered > 0 && Double(both) >= 0.8 * Double(covered)
            }) {
                outcome.skipped.append(
                    SkippedPattern(
                        expression: expression, reason: "covered by the existing rule \(existing[index].id)"))
                continue
            }
            if let before = rejected[signature] {
                let material =
                    candidate.pattern.precisionLowerBound >= before.precisionLowerBound + settings.materialChange
                    || candidate.pattern.fraud >= 2 * max(before.fraud, 1)
                if !material {
                    outcome.skipped.append(
                        SkippedPattern(
                            expression: expression,
                            reason:
                                "rejected before (rule \(before.ruleID)) and its evidence has not changed materially"
                        ))
                    continue
                }
            }
            chosen.append((candidate.conditions, candidate.pattern, rejected[signature]?.ruleID, fraudRows))
            coveredFraud.formUnion(fraudRows)
        }
        guard !chosen.isEmpty else { return outcome }

        // Evidence: each chosen candidate backtested as a rule on this window and the one before.
        let expressions = try chosen.map { candidate in
            try RuleExpression.compile(
                candidate.conditions.map(\.description).joined(separator: " and "), schema: schema)
        }
        var current = [BacktestTally](repeating: BacktestTally(points: nil, policy: policy), count: chosen.count)
        var previous = current
        _ = try scan.scanBlocking(
            fromMicros: request.previousFromMicros, toMicros: request.toMicros, maxRows: settings.miningMaxRows * 2,
            betweenChunks: { pacer.pace() }
        ) { row in
            guard case .success(let transaction) = TransactionDecoder.decode(row.body) else { return true }
            for index in features.indices { features[index] = .nan }
            RuleService.readFeatures(row.features, positions: positions, into: &features)
            let input = RuleInput(transaction, features, book.lists)
            let inWindow = row.occurredAtMicros >= request.fromMicros
            let margin = row.margin ?? RuleService.logit(row.score)
            for (index, expression) in expressions.enumerated() {
                let hit = expression.matches(input)
                if inWindow {
                    current[index].add(
                        hit: hit, amount: row.amount, label: row.label, chargeback: row.labelSource == "chargeback",
                        decision: row.decision, modelMargin: margin)
                } else {
                    previous[index].add(
                        hit: hit, amount: row.amount, label: row.label, chargeback: row.labelSource == "chargeback",
                        decision: row.decision, modelMargin: margin)
                }
            }
            return true
        }
        for (index, candidate) in chosen.enumerated() {
            outcome.proposals.append(
                MinedProposal(
                    conditions: candidate.conditions, pattern: candidate.pattern,
                    signature: Self.signature(candidate.conditions), previouslyRejected: candidate.rejected,
                    window: current[index], previous: previous[index], fraudRows: candidate.fraud))
        }
        return outcome
    }

    /// A pattern's identity across runs: its equality conditions exactly, its thresholds by column and direction
    /// only (cut points move a little as data arrives), sorted.
    static func signature(_ conditions: [PatternMiner.Condition]) -> String {
        conditions.map { condition in
            switch condition {
            case .equals: condition.description
            case .atLeast(let column, _): "\(column) >= *"
            case .below(let column, _): "\(column) < *"
            }
        }.sorted().joined(separator: " and ")
    }

    /// Which rows satisfy every condition (missing values never do).
    static func cover(_ conditions: [PatternMiner.Condition], columns: [PatternMiner.Column], rows: Int) -> [Bool] {
        var cover = [Bool](repeating: true, count: rows)
        for condition in conditions {
            guard let column = columns.first(where: { $0.name == condition.column }) else { continue }
            switch (condition, column) {
            case (.equals(_, let value), .categorical(_, let values)):
                for row in 0..<rows where values[row] != value { cover[row] = false }
            case (.atLeast(_, let threshold), .numeric(_, let values)):
                for row in 0..<rows where !(values[row] >= threshold) { cover[row] = false }
            case (.below(_, let threshold), .numeric(_, let values)):
                for row in 0..<rows where !(values[row] < threshold) { cover[row] = false }
            default:
                for row in 0..<rows { cover[row] = false }
            }
        }
        return cover
    }

    static func rounded(_ value: Double) -> String {
        String(format: "%.3f", value)
    }
}
