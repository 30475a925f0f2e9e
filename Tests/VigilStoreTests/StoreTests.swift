import Foundation
import GRDB
import Synchronization
import Testing

@testable import VigilStore

/// A fresh database file in its own temporary directory.
func temporaryDatabase() throws -> VigilDatabase {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-store-\(UUID().uuidString)")
    return try VigilDatabase(path: directory.appendingPathComponent("test.sqlite").path)
}

func record(_ id: String, score: Double = 0.5, caseID: String? = nil, createdAt: Int64 = 1_000, body: String? = nil)
    -> ScoreRecord
{
    ScoreRecord(
        transactionID: id, occurredAtMicros: 1, amount: 10, currency: "EUR",
        body: body ?? "{\"transaction_id\":\"\(id)\"}",
        features: "{}", score: score, riskScore: Int(score * 100), decision: caseID == nil ? "approve" : "review",
        modelName: "m", modelVersion: "1", modelSHA256: "00", answer: "{\"transaction_id\":\"\(id)\"}",
        scoredAtMicros: createdAt,
        openedCase: caseID.map { NewCase(caseID: $0, reason: "review", priority: score * 100) })
}

@Suite("SQLite store")
struct StoreTests {
    @Test("a new database is migrated, in WAL mode, with the configured synchronous level")
    func migrationsAndPragmas() throws {
        let database = try temporaryDatabase()
        // SQLite was switched to multi-thread mode without memory statistics before its first use
        #expect(VigilDatabase.sqliteConfiguration == 0)
        #expect(
            try database.appliedMigrations() == [
                "0001-transactions-cases-keys", "0002-model-registry-audit-labels", "0003-review-queue",
                "0004-rules-lists-alerts", "0005-worker", "0006-write-probe",
            ])
        let (mode, level) = try database.pool.writeWithoutTransaction { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
        }
        #expect(mode == "wal")
        #expect(level == 1)
        let full = try VigilDatabase(path: database.path, synchronous: .full)
        let fullLevel = try full.pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(fullLevel == 2)
    }

    @Test("the group-commit writer stores a record and its case; a repeat returns the stored one")
    func writeAndReplay() async throws {
        let database = try temporaryDatabase()
        let writer = GroupCommitWriter(database: database)
        let store = SQLiteDecisionStore(database: database, writer: writer)
        // Given a record that opens a case
        #expect(try await store.record(record("a", caseID: "cs_1")) == .inserted)
        // When the same id arrives again with another answer
        var again = record("a")
        again.answer = "{\"other\":true}"
        let outcome = try await store.record(again)
        // Then the first body and answer come back and nothing new is stored
        #expect(outcome == .existing(body: "{\"transaction_id\":\"a\"}", answer: "{\"transaction_id\":\"a\"}"))
        let count = try await database.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM transactions") }
        #expect(count == 1)
        let stored = try #require(try await store.transaction(id: "a"))
        #expect(stored.caseID == "cs_1")
        let storedCase = try #require(try await store.caseByID("cs_1"))
        #expect(storedCase.status == .open)
        #expect(storedCase.transactionID == "a")
    }

    @Test("entity keys are readable as columns, derived from the stored body")
    func entityColumns() async throws {
        let database = try temporaryDatabase()
        let store = SQLiteDecisionStore(database: database, writer: GroupCommitWriter(database: database))
        _ = try await store.record(record("e1", body: #"{"transaction_id":"e1","card_id":"card_9","channel":"pos"}"#))
        let row = try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT card_id, channel, email FROM transactions WHERE transaction_id = 'e1'")
        }
        #expect(row?["card_id"] == "card_9")
        #expect(row?["channel"] == "pos")
        #expect(row?["email"] == nil as String?)
    }

    @Test("concurrent duplicates store exactly one row, and every caller gets the same answer")
    func concurrentDuplicates() async throws {
        let database = try temporaryDatabase()
        let writer = GroupCommitWriter(database: database)
        let outcomes = try await withThrowingTaskGroup(of: RecordOutcome.self) { group in
            for index in 0..<200 {
                group.addTask { try await writer.submit(record(index % 2 == 0 ? "dup" : "other-\(index)")) }
            }
            return try await group.reduce(into: [RecordOutcome]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == .inserted }.count == 101)
        let rows = try await database.pool.read {
            try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM transactions WHERE transaction_id = 'dup'")
        }
        #expect(rows == 1)
    }

    @Test("many concurrent records are committed in shared transactions")
    func batching() async throws {
        let database = try temporaryDatabase()
        let sizes = Sizes()
        let writer = GroupCommitWriter(database: database) { size, _, _ in sizes.add(size) }
        try await withThrowingTaskGroup(of: RecordOutcome.self) { group in
            for index in 0..<500 { group.addTask { try await writer.submit(record("t\(index)")) } }
            for try await outcome in group { #expect(outcome == .inserted) }
        }
        #expect(sizes.total == 500)
        #expect(sizes.commits < 500)
    }

    @Test("a closed writer refuses new records")
    func closed() async throws {
        let database = try temporaryDatabase()
        let writer = GroupCommitWriter(database: database)
        await writer.close()
        await #expect(throws: StoreError.self) { try await writer.submit(record("late")) }
    }

    @Test("cases page by newest and by risk with keyset cursors, without gaps or repeats")
    func casePaging() async throws {
        let database = try temporaryDatabase()
        let store = SQLiteDecisionStore(database: database, writer: GroupCommitWriter(database: database))
        // Given 25 cases, some sharing a creation time and some sharing a score
        for index in 0..<25 {
            _ = try await store.record(
                record(
                    "t\(index)", score: Double(index % 7) / 10, caseID: "cs_\(index + 100)", createdAt: Int64(index / 3)
                ))
        }
        for order in CaseQuery.Order.allCases {
            // When paging 4 at a time
            var seen: [StoredCase] = []
            var cursor: CaseCursor?
            repeat {
                let page = try await store.cases(CaseQuery(order: order, limit: 4, after: cursor))
                seen += page.items
                cursor = page.next.flatMap { CaseCursor(token: $0.token) }
                #expect(cursor == page.next)
            } while cursor != nil
            // Then every case comes once, in order
            #expect(Set(seen.map(\.caseID)).count == 25)
            #expect(seen.count == 25)
            switch order {
            case .newest:
                #expect(seen.map(\.createdAtMicros) == seen.map(\.createdAtMicros).sorted(by: >))
            case .risk:
                #expect(seen.map(\.score) == seen.map(\.score).sorted(by: >))
            case .priority:
                #expect(seen.map(\.priority) == seen.map(\.priority).sorted(by: >))
            }
        }
        #expect(try await store.cases(CaseQuery(status: .closed)).items.isEmpty)
        #expect(try await store.cases(CaseQuery(status: .all, limit: 200)).items.count == 25)
    }

    @Test(
        "cursor tokens refuse anything the server did not issue",
        arguments: ["", "abc", "bjo=", "cjp4OjE6Yw", "!!!", String(repeating: "a", count: 600)])
    func badCursor(token: String) {
        #expect(CaseCursor(token: token) == nil)
    }

    @Test("API keys are stored hashed, listed without the key, and revocable")
    func apiKeys() async throws {
        let keys = APIKeyStore(database: try temporaryDatabase())
        // Given a bootstrap on an empty database
        let created = try keys.bootstrap(roles: ["scoring", "review", "admin"], nowMicros: 1)
        #expect(created.count == 3)
        #expect(try keys.bootstrap(roles: ["scoring"], nowMicros: 2).isEmpty)
        // Then no stored column holds the key itself
        let (key, record) = created[0]
        #expect(key.hasPrefix("vgl_") && key.count == 47)
        #expect(record.keyHash == APIKeyStore.hash(key))
        #expect(record.keyHash != key)
        let dump = try await keys.database.pool.read { db in
            try String.fetchAll(db, sql: "SELECT key_id || name || role || key_hash || prefix FROM api_keys")
        }
        #expect(!dump.contains { $0.contains(key) })
        // When one is revoked it is no longer active
        #expect(try keys.revoke(keyID: record.keyID, nowMicros: 3))
        #expect(try !keys.revoke(keyID: record.keyID, nowMicros: 4))
        #expect(try await keys.active().count == 2)
        #expect(try keys.list().count == 3)
    }
}

/// Collects commit sizes from the writer's observer.
final class Sizes: Sendable {
    private let values = Mutex<[Int]>([])
    func add(_ size: Int) { values.withLock { $0.append(size) } }
    var total: Int { values.withLock { $0.reduce(0, +) } }
    var commits: Int { values.withLock { $0.count } }
}

@Suite("Review store: leases")
struct LeaseTests {
    @Test("a lease that runs out returns the case to the queue, audited; the holder can renew before that")
    func expiry() async throws {
        let database = try temporaryDatabase()
        let store = SQLiteDecisionStore(database: database, writer: GroupCommitWriter(database: database))
        _ = try await store.record(record("t1", score: 0.5, caseID: "cs_1", createdAt: 1))
        let review = ReviewStore(database: database)
        let first = try await review.claimNext(reviewer: "alice", nowMicros: 1_000, leaseMicros: 500)
        #expect(first?.caseID == "cs_1")
        #expect(try await review.claimNext(reviewer: "bob", nowMicros: 1_400, leaseMicros: 500) == nil)
        #expect(
            try await review.claim(caseID: "cs_1", reviewer: "bob", nowMicros: 1_400, leaseMicros: 500)
                == .held(by: "alice", untilMicros: 1_500))
        // At the lease's end the case is claimable again.
        let second = try await review.claimNext(reviewer: "bob", nowMicros: 1_500, leaseMicros: 500)
        #expect(second?.caseID == "cs_1")
        #expect(second?.assignee == "bob")
        let actions = try await AuditLog.entries(entityType: "case", entityID: "cs_1", in: database).map(\.action)
        #expect(actions == ["case.claimed", "case.lease_expired", "case.claimed"])
        #expect(try await review.release(caseID: "cs_1", reviewer: "alice", nowMicros: 1_600) == .notHeld(by: "bob"))
    }
}
