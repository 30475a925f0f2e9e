import Foundation
import GRDB
import Testing
import VigilCore

@testable import VigilStore

@Suite("Rules, lists, alerts and the backtest scan in SQLite")
struct RuleStoreTests {
    static func draft(_ expression: String = "amount > 1", status: RuleStatus = .shadow) -> RuleDraft {
        RuleDraft(
            name: "r", expression: expression, action: .block, points: nil, status: status, expiresAtMicros: nil,
            owner: "alice", provenance: #"{"kind":"manual"}"#, description: nil)
    }

    @Test("versions are kept, immutable and audited; a stale expected version is a conflict")
    func versions() async throws {
        let database = try temporaryDatabase()
        let store = RuleStore(database: database)
        let created = try await store.create(ruleID: "rl_1", draft: Self.draft(), actor: "alice", nowMicros: 10)
        #expect(created.version == 1)
        #expect(created.statusSinceMicros == 10)
        let changed = try await store.update(ruleID: "rl_1", expectedVersion: 1, actor: "bob", nowMicros: 20) { rule in
            var draft = Self.draft("amount > 2", status: .active)
            draft.owner = rule.owner
            return draft
        }
        #expect(changed.after.version == 2)
        #expect(changed.after.statusSinceMicros == 20)
        #expect(changed.after.createdAtMicros == 10)
        let renamed = try await store.update(ruleID: "rl_1", expectedVersion: nil, actor: "bob", nowMicros: 30) {
            var draft = Self.draft("amount > 2", status: .active)
            draft.name = $0.name + "!"
            return draft
        }
        #expect(renamed.after.statusSinceMicros == 20)
        await #expect(throws: RuleStoreError.versionConflict(current: 3)) {
            _ = try await store.update(ruleID: "rl_1", expectedVersion: 2, actor: "x", nowMicros: 40) { _ in
                Self.draft()
            }
        }
        await #expect(throws: RuleStoreError.notFound) {
            _ = try await store.update(ruleID: "none", expectedVersion: nil, actor: "x", nowMicros: 40) { _ in
                Self.draft()
            }
        }
        let versions = try await store.versions(ruleID: "rl_1")
        #expect(versions.map(\.version) == [1, 2, 3])
        #expect(versions.map(\.expression) == ["amount > 1", "amount > 2", "amount > 2"])
        #expect(versions.map(\.changedBy) == ["alice", "bob", "bob"])
        #expect(try await store.version(ruleID: "rl_1", version: 1)?.status == .shadow)
        #expect(try await store.live().map(\.ruleID) == ["rl_1"])
        #expect(throws: DatabaseError.self) {
            try database.pool.write { db in try db.execute(sql: "UPDATE rule_versions SET name = 'x'") }
        }
        #expect(throws: DatabaseError.self) {
            try database.pool.write { db in try db.execute(sql: "DELETE FROM rule_versions") }
        }
        let audit = try await AuditLog.entries(entityType: "rule", entityID: "rl_1", in: database)
        #expect(audit.map(\.action) == ["rule.create", "rule.update", "rule.update"])
        #expect(audit[1].before?.contains("amount > 1") == true)
        #expect(audit[1].after?.contains("amount > 2") == true)
    }

    @Test("pages by last change with an opaque cursor, filtered by status")
    func pages() async throws {
        let store = RuleStore(database: try temporaryDatabase())
        for index in 0..<5 {
            _ = try await store.create(
                ruleID: "rl_\(index)", draft: Self.draft(status: index % 2 == 0 ? .active : .disabled), actor: "a",
                nowMicros: Int64(index))
        }
        let first = try await store.rules(status: nil, limit: 2, after: nil)
        #expect(first.items.map(\.ruleID) == ["rl_4", "rl_3"])
        let cursor = try #require(first.next)
        #expect(RuleCursor(encoded: cursor.encoded) == cursor)
        let second = try await store.rules(status: nil, limit: 2, after: cursor)
        #expect(second.items.map(\.ruleID) == ["rl_2", "rl_1"])
        #expect(
            try await store.rules(status: .active, limit: 10, after: nil).items.map(\.ruleID) == [
                "rl_4", "rl_2", "rl_0",
            ])
        #expect(RuleCursor(encoded: "garbage!") == nil)
    }

    @Test("rule hits are written with the decision once, and counted with their effective labels")
    func hits() async throws {
        let database = try temporaryDatabase()
        let writer = GroupCommitWriter(database: database)
        let store = RuleStore(database: database)
        for index in 0..<4 {
            var scored = record("t\(index)", createdAt: 100 + Int64(index))
            scored.ruleHits = [RuleHit(ruleID: "rl_a", version: 1, mode: "shadow", action: "block")]
            scored.rulesJSON = #"[{"id":"rl_a"}]"#
            _ = try await writer.submit(scored)
        }
        var replay = record("t0", createdAt: 500)
        replay.ruleHits = [RuleHit(ruleID: "rl_a", version: 1, mode: "shadow", action: "block")]
        #expect(try await writer.submit(replay) == .existing(body: replay.body, answer: replay.answer))
        _ = try await writer.submit(record("t9", createdAt: 200))
        try await database.pool.write { db in
            for (id, label, source, at) in [
                ("t0", "legit", "review", 50), ("t0", "fraud", "chargeback", 40), ("t1", "legit", "review", 300),
            ] {
                try db.execute(
                    sql: """
                        INSERT INTO labels (transaction_id, label, source, labeled_at, recorded_at, recorded_by)
                        VALUES (?, ?, ?, ?, 0, 'x')
                        """, arguments: [id, label, source, at])
            }
        }
        let stats = try await store.hitStats(ruleID: "rl_a", sinceMicros: 101, labelledSinceMicros: 100)
        #expect(stats.hits == 3)
        #expect(stats.scored == 4)
        #expect(stats.labelledHits == 1)
        #expect(stats.fraudHits == 0)
        #expect(stats.freshLabelledHits == 1)
        let all = try await store.hitStats(ruleID: "rl_a", sinceMicros: 0, labelledSinceMicros: 100)
        #expect(all.hits == 4)
        #expect(all.scored == 5)
        #expect(all.labelledHits == 2)
        #expect(all.fraudHits == 1)  // the chargeback outranks the later review verdict
        #expect(all.freshFraudHits == 0)
        let stored = try await SQLiteDecisionStore(database: database, writer: writer).transaction(id: "t1")
        #expect(stored?.rules == #"[{"id":"rl_a"}]"#)
        await writer.close()
    }

    @Test("lists normalise by kind, page in order, audit changes and snapshot every value")
    func lists() async throws {
        let database = try temporaryDatabase()
        let store = ListStore(database: database)
        #expect(ListKind.email.normalize("Bob@Example.COM") == "bob@example.com")
        #expect(ListKind.email.normalize("no-at") == nil)
        #expect(ListKind.country.normalize("de") == "DE")
        #expect(ListKind.country.normalize("DEU") == nil)
        #expect(ListKind.ipAddress.normalize("10.0.0.1") == "10.0.0.1")
        #expect(ListKind.ipAddress.normalize("10.0.0.256") == nil)
        #expect(ListKind.ipAddress.normalize("2001:DB8::1") == "2001:db8::1")
        #expect(ListKind.cardID.normalize("a\u{1}b") == nil)
        #expect(!ListStore.isValidName("Bad Name"))
        _ = try await store.create(name: "emails", kind: .email, description: nil, actor: "a", nowMicros: 1)
        await #expect(throws: ListStoreError.exists) {
            _ = try await store.create(name: "emails", kind: .email, description: nil, actor: "a", nowMicros: 1)
        }
        await #expect(throws: ListStoreError.invalidValue("nope", .email)) {
            _ = try await store.add(name: "emails", values: ["x@y.z", "nope"], actor: "a", nowMicros: 2)
        }
        #expect(try await store.list(name: "emails")?.itemCount == 0)
        #expect(
            try await store.add(name: "emails", values: ["B@x.io", "a@x.io", "b@x.io"], actor: "a", nowMicros: 2) == 2)
        #expect(try await store.items(name: "emails", after: nil, limit: 1).map(\.value) == ["a@x.io"])
        #expect(try await store.items(name: "emails", after: "a@x.io", limit: 5).map(\.value) == ["b@x.io"])
        #expect(try await store.snapshot() == ["emails": ["a@x.io", "b@x.io"]])
        #expect(try await store.remove(name: "emails", values: ["A@X.IO", "zz@x.io"], actor: "a", nowMicros: 3) == 1)
        await #expect(throws: ListStoreError.notFound) {
            _ = try await store.add(name: "none", values: ["x"], actor: "a", nowMicros: 3)
        }
        #expect(try await store.delete(name: "emails", actor: "a", nowMicros: 4))
        #expect(try await !store.delete(name: "emails", actor: "a", nowMicros: 4))
        let count = try await database.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM list_items") }
        #expect(count == 0)
        let audit = try await AuditLog.entries(entityType: "list", entityID: "emails", in: database)
        #expect(audit.map(\.action) == ["list.create", "list.add", "list.remove", "list.delete"])
    }

    @Test("alerts are deduplicated by key, listed newest first and resolved once")
    func alerts() async throws {
        let store = AlertStore(database: try temporaryDatabase())
        func alert(_ id: String, key: String?) -> NewAlert {
            NewAlert(
                alertID: id, kind: "k", subjectType: "rule", subjectID: "rl_1", message: "m", details: "{}",
                dedupeKey: key)
        }
        #expect(try await store.raise(alert("al_1", key: "same"), nowMicros: 1) != nil)
        #expect(try await store.raise(alert("al_2", key: "same"), nowMicros: 2) == nil)
        #expect(try await store.raise(alert("al_3", key: nil), nowMicros: 3) != nil)
        #expect(
            try await store.alerts(kind: nil, subjectID: nil, limit: 10, beforeMicros: nil).map(\.alertID) == [
                "al_3", "al_1",
            ])
        #expect(
            try await store.alerts(kind: "k", subjectID: "rl_1", limit: 10, beforeMicros: 3).map(\.alertID) == ["al_1"])
        #expect(try await store.resolve(id: "al_1", actor: "a", nowMicros: 5)?.resolvedAtMicros == 5)
        #expect(try await store.resolve(id: "al_1", actor: "a", nowMicros: 9)?.resolvedAtMicros == 5)
        #expect(try await store.alert(id: "none") == nil)
    }

    @Test("the backtest scan streams rows in range with effective labels and bytes, across chunks, and stops")
    func scan() async throws {
        let database = try temporaryDatabase()
        let writer = GroupCommitWriter(database: database)
        let count = BacktestScan.chunk + 500
        var records: [ScoreRecord] = []
        for index in 0..<count {
            var scored = record("t\(index)", createdAt: Int64(index))
            scored.occurredAtMicros = Int64(index)
            scored.decision = ["approve", "review", "decline"][index % 3]
            scored.margin = index % 2 == 0 ? Double(index) : nil
            scored.features = #"{"amount":\#(index)}"#
            records.append(scored)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for slice in stride(from: 0, to: count, by: 5_000) {
                let part = records[slice..<min(count, slice + 5_000)]
                group.addTask { for scored in part { _ = try await writer.submit(scored) } }
            }
            try await group.waitForAll()
        }
        try await database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO labels (transaction_id, label, source, labeled_at, recorded_at, recorded_by)
                    VALUES ('t3', 'fraud', 'chargeback', 1, 0, 'x'), ('t4', 'legit', 'review', 1, 0, 'x'),
                        ('t3', 'legit', 'review', 5, 0, 'x'), ('t5', 'legit', 'review', 1, 0, 'x'),
                        ('t5', 'fraud', 'review', 3, 0, 'x')
                    """)
            // (t3: the chargeback outranks a later review; t5: the later of two reviews counts)
        }
        let scan = BacktestScan(database: database)
        var seen = 0
        var labels: [String: BacktestLabel] = [:]
        var decisions: [Decision: Int] = [:]
        var margins = 0
        let visited = try await scan.scan(fromMicros: 1, toMicros: Int64(count - 1), maxRows: .max) { row in
            seen += 1
            let body = String(decoding: row.body, as: UTF8.self)
            let features = String(decoding: row.features, as: UTF8.self)
            #expect(features == #"{"amount":\#(row.occurredAtMicros)}"#)
            if row.label != .none { labels[body] = row.label }
            if row.labelSource == "chargeback" { #expect(row.label == .fraud) }
            decisions[row.decision, default: 0] += 1
            if row.margin != nil { margins += 1 }
            return true
        }
        #expect(visited == count - 2)
        #expect(seen == count - 2)
        #expect(
            labels == [
                #"{"transaction_id":"t3"}"#: .fraud, #"{"transaction_id":"t4"}"#: .legit,
                #"{"transaction_id":"t5"}"#: .fraud,
            ])
        #expect(decisions.values.reduce(0, +) == count - 2)
        #expect(decisions.count == 3)
        #expect(margins == (count - 2) / 2)
        var stoppedAfter = 0
        let stopped = try await scan.scan(fromMicros: nil, toMicros: nil, maxRows: .max) { _ in
            stoppedAfter += 1
            return stoppedAfter < 10
        }
        #expect(stopped == 10)
        #expect(try await scan.scan(fromMicros: nil, toMicros: nil, maxRows: 7) { _ in true } == 7)
        await writer.close()
    }
}
