import Testing

@testable import VigilCore

@Suite("Pattern mining: beam-search subgroup discovery")
struct PatternMinerTests {
    /// 20,000 payments, 1 % fraud at random, plus an attack: merchant m_bad's payments of 500 and more are 90 %
    /// fraud, its smaller ones 2 %.
    static func table(seed: UInt64) -> (columns: [PatternMiner.Column], labels: [Bool]) {
        var random = SplitMix64(seed: seed)
        var merchants: [String?] = []
        var amounts: [Double] = []
        var countries: [String?] = []
        var noise: [Double] = []
        var labels: [Bool] = []
        for _ in 0..<20_000 {
            let bad = random.next() % 20 == 0
            let merchant = bad ? "m_bad" : "m_\(random.next() % 300)"
            let amount = Double(random.next() % 100_000) / 100
            var fraud = random.next() % 100 == 0
            if bad { fraud = amount >= 500 ? random.next() % 10 != 0 : random.next() % 50 == 0 }
            merchants.append(merchant)
            amounts.append(random.next() % 50 == 0 ? .nan : amount)
            countries.append(random.next() % 30 == 0 ? nil : ["DE", "FR", "US", "NG"][Int(random.next() % 4)])
            noise.append(Double(random.next() % 1000))
            labels.append(fraud)
        }
        return (
            [
                .categorical(name: "merchant_id", values: merchants), .numeric(name: "amount", values: amounts),
                .categorical(name: "merchant_country", values: countries), .numeric(name: "noise", values: noise),
            ], labels
        )
    }

    static func holds(_ condition: PatternMiner.Condition, row: Int, columns: [PatternMiner.Column]) -> Bool {
        let column = columns.first { $0.name == condition.column }!
        switch (condition, column) {
        case (.equals(_, let value), .categorical(_, let values)): return values[row] == value
        case (.atLeast(_, let threshold), .numeric(_, let values)):
            return !values[row].isNaN && values[row] >= threshold
        case (.below(_, let threshold), .numeric(_, let values)): return !values[row].isNaN && values[row] < threshold
        default: return false
        }
    }

    @Test(
        "finds the attack's conjunction with high precision; every figure matches a direct count",
        arguments: [7, 8] as [UInt64])
    func findsAttack(seed: UInt64) throws {
        let (columns, labels) = Self.table(seed: seed)
        let patterns = PatternMiner().mine(columns: columns, labels: labels)
        let best = try #require(patterns.first)
        #expect(best.conditions.contains(.equals(column: "merchant_id", value: "m_bad")), "\(best.expression)")
        #expect(
            best.conditions.contains { if case .atLeast("amount", _) = $0 { true } else { false } },
            "\(best.expression)")
        #expect(best.precision >= 0.8)
        #expect(!best.conditions.contains { $0.column == "noise" }, "\(best.expression)")
        #expect(best.expression.hasPrefix("amount >= "))
        let totalFraud = labels.filter { $0 }.count
        for pattern in patterns {
            var support = 0
            var fraud = 0
            for row in labels.indices
            where pattern.conditions.allSatisfy({ Self.holds($0, row: row, columns: columns) }) {
                support += 1
                if labels[row] { fraud += 1 }
            }
            #expect(pattern.support == support, "\(pattern.expression)")
            #expect(pattern.fraud == fraud, "\(pattern.expression)")
            #expect(abs(pattern.recall - Double(fraud) / Double(totalFraud)) < 1e-12)
            #expect(pattern.precisionLowerBound == PatternMiner.wilsonLowerBound(successes: fraud, trials: support))
            #expect(pattern.conditions.count <= 3)
        }
        #expect(zip(patterns, patterns.dropFirst()).allSatisfy { $0.precisionLowerBound >= $1.precisionLowerBound })
    }

    @Test("the Wilson bound, expressions with quotes, and nothing to mine without fraud")
    func details() throws {
        #expect(abs(PatternMiner.wilsonLowerBound(successes: 8, trials: 10) - 0.490157) < 1e-5)
        #expect(PatternMiner.wilsonLowerBound(successes: 0, trials: 0) == 0)
        #expect(
            PatternMiner.Condition.equals(column: "email", value: "o'neil\\x").description == #"email = 'o\'neil\\x'"#)
        #expect(
            PatternMiner().mine(columns: [.numeric(name: "amount", values: [1, 2])], labels: [false, false]).isEmpty)
        let schema = RuleSchema(featureNames: ["amount", "noise"], listNames: [])
        let (columns, labels) = Self.table(seed: 7)
        for pattern in PatternMiner().mine(columns: columns, labels: labels) {
            _ = try RuleExpression.compile(pattern.expression, schema: schema)
        }
    }
}
