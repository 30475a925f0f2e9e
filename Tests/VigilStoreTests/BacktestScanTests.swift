import Foundation
import GRDB
import Testing
import VigilCore

@testable import VigilStore

@Suite("Backtest scan")
struct BacktestScanTests {
    /// A stored payment about as large as the service writes one: a 330-byte body, 20 features.
    static func insertPayments(_ count: Int, into database: VigilDatabase, occurredAt: (Int) -> Int64) throws {
        try database.pool.write { db in
            let statement = try db.makeStatement(
                sql: """
                    INSERT INTO transactions (transaction_id, occurred_at, amount, currency, body, features, score,
                        risk_score, decision, model_name, model_version, answer, scored_at, margin)
                    VALUES (?, ?, ?, 'EUR', ?, ?, ?, ?, ?, 'm', '1', ?, ?, ?)
                    """)
            for index in 0..<count {
                let id = "t\(index)"
                let amount = Double(index % 5_000) / 10
                let body = """
                    {"transaction_id":"\(id)","occurred_at":"2026-11-01T10:00:00Z","amount":\(amount),\
                    "currency":"EUR","card_id":"card_\(index % 100_000)","customer_id":"cus_\(index % 80_000)",\
                    "merchant_id":"m_\(index % 3_000)","device_id":"dev_\(index % 90_000)",\
                    "email":"u\(index % 80_000)@example.com","ip_address":"10.\(index % 250).\(index % 199).7",\
                    "merchant_category":"5411","merchant_country":"DE","card_country":"DE","ip_country":"DE",\
                    "channel":"ecommerce"}
                    """
                var features = "{"
                for feature in 0..<20 {
                    if feature > 0 { features += "," }
                    features += "\"feature_\(feature)\":\(Double(index % (feature + 7)) / 3)"
                }
                features += "}"
                let score = Double(index % 100) / 100
                try statement.execute(arguments: [
                    id, occurredAt(index), amount, body, features, score, Int(score * 100),
                    ["approve", "review", "decline"][index % 3], #"{"transaction_id":"\#(id)"}"#, Int64(index),
                    index % 2 == 0 ? Double(index % 17) - 8 : nil,
                ])
            }
        }
    }

    /// Measures the scan over 1,000,000 stored payments (100,000 of them labelled); run with
    /// `VIGIL_SCAN_BENCH=1 swift test --filter BacktestScanTests/bench`. `VIGIL_SCAN_BENCH_DB` keeps the database
    /// at that path between runs. Prints figures; asserts nothing about time.
    @Test(
        "scan rate over 1,000,000 stored payments",
        .enabled(if: ProcessInfo.processInfo.environment["VIGIL_SCAN_BENCH"] == "1"))
    func bench() async throws {
        let rows = Int(ProcessInfo.processInfo.environment["VIGIL_SCAN_BENCH_ROWS"] ?? "") ?? 1_000_000
        let database: VigilDatabase
        if let path = ProcessInfo.processInfo.environment["VIGIL_SCAN_BENCH_DB"] {
            database = try VigilDatabase(path: path)
        } else {
            database = try temporaryDatabase()
        }
        let stored = try await database.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM transactions")
        }
        if stored != rows {
            let filling = ContinuousClock.now
            try Self.insertPayments(rows, into: database) { Int64($0) }
            try await database.pool.write { db in
                let statement = try db.makeStatement(
                    sql: """
                        INSERT INTO labels (transaction_id, label, source, labeled_at, recorded_at, recorded_by)
                        VALUES (?, ?, ?, ?, 0, 'bench')
                        """)
                for index in stride(from: 0, to: rows, by: 10) {
                    let fraud = index % 90 == 0
                    try statement.execute(arguments: [
                        "t\(index)", fraud ? "fraud" : "legit", fraud && index % 180 == 0 ? "chargeback" : "review",
                        Int64(index),
                    ])
                }
            }
            print("bench: filled \(rows) payments in \(ContinuousClock.now - filling)")
        }
        let scan = BacktestScan(database: database)
        for run in 1...3 {
            var bytes = 0
            var fraud = 0
            let started = ContinuousClock.now
            let visited = try await scan.scan(fromMicros: nil, toMicros: nil, maxRows: .max) { row in
                bytes &+= row.body.count &+ row.features.count
                if row.label == .fraud { fraud += 1 }
                return true
            }
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print(
                "bench: run \(run): \(visited) rows (\(fraud) fraud, \(bytes) bytes) in \(elapsed): "
                    + "\(Int(Double(visited) / seconds)) rows/s")
            #expect(visited == rows)
        }
        let half = ContinuousClock.now
        let visited = try await scan.scan(fromMicros: Int64(rows / 4), toMicros: Int64(rows / 4 * 3), maxRows: .max) {
            _ in true
        }
        print("bench: half range: \(visited) rows in \(ContinuousClock.now - half)")
        let counting = ContinuousClock.now
        let scored = try await database.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM transactions WHERE scored_at >= ?", arguments: [0])
        }
        print("bench: COUNT(*) of \(scored ?? 0) payments scored since an instant in \(ContinuousClock.now - counting)")
    }
}
