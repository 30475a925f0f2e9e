/// How well scores separate fraud from legitimate payments, on labelled examples.
public struct Evaluation: Sendable, Equatable {
    public var labelled: Int
    public var fraud: Int
    /// Area under the ROC curve (ties count one half); nil without both classes.
    public var rocAUC: Double?
    /// Average precision, the area under the precision-recall curve as scikit-learn computes it.
    public var averagePrecision: Double?
    public var thresholds: [ThresholdQuality]

    /// Precision and recall when everything at or above a risk score is flagged.
    public struct ThresholdQuality: Sendable, Equatable {
        public var name: String
        public var riskScore: Int
        public var flagged: Int
        public var truePositives: Int
        /// Nil when nothing is flagged.
        public var precision: Double?
        /// Nil without fraud.
        public var recall: Double?
    }

    /// Evaluates probabilities against labels at the policy's review and decline thresholds.
    public init(scores: [Double], isFraud: [Bool], policy: DecisionPolicy) {
        precondition(scores.count == isFraud.count, "one label per score")
        let fraud = isFraud.lazy.filter { $0 }.count
        labelled = scores.count
        self.fraud = fraud
        let legit = scores.count - fraud
        rocAUC = fraud > 0 && legit > 0 ? Self.rocAUC(scores: scores, isFraud: isFraud, fraud: fraud) : nil
        averagePrecision = fraud > 0 ? Self.averagePrecision(scores: scores, isFraud: isFraud, fraud: fraud) : nil
        let risks = scores.map { DecisionPolicy.riskScore(probability: $0) }
        thresholds = [("review", policy.reviewAt), ("decline", policy.declineAt)].map { name, threshold in
            var flagged = 0
            var hits = 0
            for (risk, label) in zip(risks, isFraud) where risk >= threshold {
                flagged += 1
                if label { hits += 1 }
            }
            return ThresholdQuality(
                name: name, riskScore: threshold, flagged: flagged, truePositives: hits,
                precision: flagged > 0 ? Double(hits) / Double(flagged) : nil,
                recall: fraud > 0 ? Double(hits) / Double(fraud) : nil)
        }
    }

    /// Mann-Whitney: (Σ ranks of fraud − F(F+1)/2) / (F·L), with tied scores given their average rank.
    static func rocAUC(scores: [Double], isFraud: [Bool], fraud: Int) -> Double {
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count, scores[order[end + 1]] == scores[order[start]] { end += 1 }
            let averageRank = Double(start + end + 2) / 2
            for position in start...end where isFraud[order[position]] { rankSum += averageRank }
            start = end + 1
        }
        let fraudCount = Double(fraud)
        let legitCount = Double(scores.count - fraud)
        return (rankSum - fraudCount * (fraudCount + 1) / 2) / (fraudCount * legitCount)
    }

    /// Σ (Rₙ − Rₙ₋₁) · Pₙ over the distinct scores from the highest down.
    static func averagePrecision(scores: [Double], isFraud: [Bool], fraud: Int) -> Double {
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var truePositives = 0
        var flagged = 0
        var previousRecall = 0.0
        var sum = 0.0
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count, scores[order[end + 1]] == scores[order[start]] { end += 1 }
            for position in start...end {
                flagged += 1
                if isFraud[order[position]] { truePositives += 1 }
            }
            let recall = Double(truePositives) / Double(fraud)
            sum += (recall - previousRecall) * Double(truePositives) / Double(flagged)
            previousRecall = recall
            start = end + 1
        }
        return sum
    }
}
