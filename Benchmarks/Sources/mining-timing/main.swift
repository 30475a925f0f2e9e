// Pattern mining at scale: 1,000,000 labelled rows × 30 features (20 numeric, 10 categorical, among them a
// merchant id with 5,000 values), a planted attack, beam-search subgroup discovery with the default settings
// (up to 3 conditions, beam 40, 8 quantile cuts per numeric column).
//
//   swift build -c release --package-path Benchmarks --product mining-timing && Benchmarks/.build/release/mining-timing
import Foundation
import VigilCore

struct Seeded: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

let rows = Int(ProcessInfo.processInfo.environment["ROWS"] ?? "") ?? 1_000_000
var random = Seeded(state: 11)
var numeric = [[Double]](repeating: [], count: 20)
var categorical = [[String?]](repeating: [], count: 10)
var labels: [Bool] = []
labels.reserveCapacity(rows)
for column in 0..<20 { numeric[column].reserveCapacity(rows) }
for column in 0..<10 { categorical[column].reserveCapacity(rows) }
let countries = ["DE", "FR", "US", "GB", "NL", "ES", "IT", "PL", "BR", "NG"]
for _ in 0..<rows {
    let merchant = Int(random.next() % 5_000)
    for column in 0..<20 { numeric[column].append(Double(random.next() % 10_000) / 10) }
    categorical[0].append("m_\(merchant)")
    for column in 1..<10 { categorical[column].append(countries[Int(random.next() % UInt64(countries.count))]) }
    // The attack: merchant m_42 with feature 0 at or above 800 is mostly fraud; elsewhere 1 % fraud.
    let attack = merchant == 42 && numeric[0][numeric[0].count - 1] >= 800
    labels.append(attack ? random.next() % 10 != 0 : random.next() % 100 == 0)
}
var columns: [PatternMiner.Column] = (0..<20).map { .numeric(name: "f\($0)", values: numeric[$0]) }
columns.append(.categorical(name: "merchant_id", values: categorical[0]))
columns += (1..<10).map { .categorical(name: "c\($0)", values: categorical[$0]) }

let start = ContinuousClock.now
let patterns = PatternMiner().mine(columns: columns, labels: labels)
let elapsed = ContinuousClock.now - start
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print("\(rows) rows × \(columns.count) features, \(labels.filter { $0 }.count) fraud")
print(String(format: "mined in %.2f s (target ≤ 10 s)", seconds))
for pattern in patterns.prefix(3) {
    print(
        String(
            format: "  %@  support %d, precision %.3f, recall %.4f, lift %.1f, lower bound %.3f",
            pattern.expression, pattern.support, pattern.precision, pattern.recall, pattern.lift,
            pattern.precisionLowerBound))
}
