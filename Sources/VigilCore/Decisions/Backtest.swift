/// The label a backtest sees for a stored payment: its effective label, if it has one.
public enum BacktestLabel: Sendable, Equatable {
    case none, fraud, legit
}

/// A count of payments and their amount.
public struct CountAndAmount: Sendable, Equatable {
    public var count = 0
    public var amount = 0.0

    public init(count: Int = 0, amount: Double = 0) {
        self.count = count
        self.amount = amount
    }

    mutating func add(_ amount: Double) {
        count += 1
        self.amount += amount
    }
}

/// Hits of a rule over stored payments, sorted into Stripe Radar's buckets.
///
/// Every bucket counts hits only. `chargeback` is the part of `fraud` whose effective label came from a
/// chargeback; `alreadyFlagged` counts hits that were declined or reviewed anyway, whatever their label.
public struct BacktestBuckets: Sendable, Equatable {
    public var fraud = CountAndAmount()
    public var chargeback = CountAndAmount()
    public var legit = CountAndAmount()
    public var unlabelled = CountAndAmount()
    public var alreadyFlagged = CountAndAmount()

    public init() {}
}

/// What a `score` rule would have done at one rule strength α: the decisions of the model's margin plus
/// `α × points` on the rule's hits, through the same thresholds.
public struct StrengthOutcome: Sendable, Equatable {
    public var strength: Double
    public var approve = 0
    public var review = 0
    public var decline = 0
    /// Flagged (review or decline) labelled fraud: true positives.
    public var fraudFlagged = CountAndAmount()
    /// Flagged labelled legit payments: false positives.
    public var legitFlagged = CountAndAmount()
    /// Payments whose decision differs from the model's alone (α = 0).
    public var changed = 0

    public init(strength: Double) { self.strength = strength }

    /// Of the labelled flagged payments, the share that were fraud; nil when none was labelled.
    public var precision: Double? {
        let labelled = fraudFlagged.count + legitFlagged.count
        return labelled == 0 ? nil : Double(fraudFlagged.count) / Double(labelled)
    }
}

/// Counts a rule's backtest one stored payment at a time; `summary` gives the figures.
///
/// Pure and order-independent, so a scan can be split and the tallies merged.
public struct BacktestTally: Sendable, Equatable {
    public private(set) var rows = 0
    public private(set) var hits = 0
    public private(set) var amountHit = 0.0
    public private(set) var labelledFraud = CountAndAmount()
    public private(set) var labelledLegit = CountAndAmount()
    public private(set) var buckets = BacktestBuckets()
    /// One entry per requested strength, for `score` rules; empty otherwise.
    public private(set) var strengths: [StrengthOutcome]
    private let points: Double?
    private let policy: DecisionPolicy

    /// The strengths a `score` rule is replayed at, as the issue asks: 0, 0.25, 0.5, 0.75 and 1.
    public static let defaultStrengths: [Double] = [0, 0.25, 0.5, 0.75, 1]

    /// `points` is the rule's `score` points (nil for forcing actions); `policy` decides replayed margins.
    public init(points: Double?, policy: DecisionPolicy, strengths: [Double] = BacktestTally.defaultStrengths) {
        self.points = points
        self.policy = policy
        self.strengths = points == nil ? [] : strengths.map(StrengthOutcome.init(strength:))
    }

    /// One stored payment: whether the rule matched it, its amount, label, the decision it got and the model's
    /// margin (log-odds, before rules) it was scored with.
    public mutating func add(
        hit: Bool, amount: Double, label: BacktestLabel, chargeback: Bool, decision: Decision, modelMargin: Double
    ) {
        rows += 1
        switch label {
        case .fraud: labelledFraud.add(amount)
        case .legit: labelledLegit.add(amount)
        case .none: break
        }
        if hit {
            hits += 1
            amountHit += amount
            switch label {
            case .fraud:
                buckets.fraud.add(amount)
                if chargeback { buckets.chargeback.add(amount) }
            case .legit: buckets.legit.add(amount)
            case .none: buckets.unlabelled.add(amount)
            }
            if decision != .approve { buckets.alreadyFlagged.add(amount) }
        }
        guard let points, !strengths.isEmpty else { return }
        let alone = policy.decide(riskScore: DecisionPolicy.riskScore(probability: Explanation.logistic(modelMargin)))
        for index in strengths.indices {
            let replayed: Decision
            if hit {
                let margin = modelMargin + strengths[index].strength * points
                replayed = policy.decide(riskScore: DecisionPolicy.riskScore(probability: Explanation.logistic(margin)))
            } else {
                replayed = alone
            }
            switch replayed {
            case .approve: strengths[index].approve += 1
            case .review: strengths[index].review += 1
            case .decline: strengths[index].decline += 1
            }
            if replayed != alone { strengths[index].changed += 1 }
            if replayed != .approve {
                switch label {
                case .fraud: strengths[index].fraudFlagged.add(amount)
                case .legit: strengths[index].legitFlagged.add(amount)
                case .none: break
                }
            }
        }
    }

    /// Adds another tally of the same rule (a part of the same scan).
    public mutating func merge(_ other: BacktestTally) {
        rows += other.rows
        hits += other.hits
        amountHit += other.amountHit
        labelledFraud.count += other.labelledFraud.count
        labelledFraud.amount += other.labelledFraud.amount
        labelledLegit.count += other.labelledLegit.count
        labelledLegit.amount += other.labelledLegit.amount
        for path in [
            \BacktestBuckets.fraud, \.chargeback, \.legit, \.unlabelled, \.alreadyFlagged,
        ] {
            buckets[keyPath: path].count += other.buckets[keyPath: path].count
            buckets[keyPath: path].amount += other.buckets[keyPath: path].amount
        }
        for index in strengths.indices where index < other.strengths.count {
            let theirs = other.strengths[index]
            strengths[index].approve += theirs.approve
            strengths[index].review += theirs.review
            strengths[index].decline += theirs.decline
            strengths[index].changed += theirs.changed
            strengths[index].fraudFlagged.count += theirs.fraudFlagged.count
            strengths[index].fraudFlagged.amount += theirs.fraudFlagged.amount
            strengths[index].legitFlagged.count += theirs.legitFlagged.count
            strengths[index].legitFlagged.amount += theirs.legitFlagged.amount
        }
    }

    public var hitRate: Double? { rows == 0 ? nil : Double(hits) / Double(rows) }

    /// Of the labelled hits, the share that were fraud; nil when no hit was labelled.
    public var precision: Double? {
        let labelled = buckets.fraud.count + buckets.legit.count
        return labelled == 0 ? nil : Double(buckets.fraud.count) / Double(labelled)
    }

    /// Of all labelled fraud in the range, the share the rule hit; nil when there was none.
    public var recall: Double? {
        labelledFraud.count == 0 ? nil : Double(buckets.fraud.count) / Double(labelledFraud.count)
    }

    /// Recall of a strength's flagged payments over all labelled fraud in the range.
    public func recall(of outcome: StrengthOutcome) -> Double? {
        labelledFraud.count == 0 ? nil : Double(outcome.fraudFlagged.count) / Double(labelledFraud.count)
    }
}
