import Foundation
import GRDB
import VigilCore

public enum RuleActionKind: String, Sendable, CaseIterable {
    case block, review, allow, score
}

public enum RuleStatus: String, Sendable, CaseIterable {
    case proposed, shadow, active, disabled
}

/// The fields one version of a rule sets.
public struct RuleDraft: Sendable, Equatable {
    public var name: String
    public var expression: String
    public var action: RuleActionKind
    public var points: Double?
    public var status: RuleStatus
    public var expiresAtMicros: Int64?
    public var owner: String
    /// JSON object: `{"kind":"manual"}` or the mined pattern.
    public var provenance: String
    public var description: String?

    public init(
        name: String, expression: String, action: RuleActionKind, points: Double?, status: RuleStatus,
        expiresAtMicros: Int64?, owner: String, provenance: String, description: String?
    ) {
        self.name = name
        self.expression = expression
        self.action = action
        self.points = points
        self.status = status
        self.expiresAtMicros = expiresAtMicros
        self.owner = owner
        self.provenance = provenance
        self.description = description
    }
}

/// A rule at its current version: the fields that version set (readable directly, `rule.name`), and when.
@dynamicMemberLookup
public struct StoredRule: Sendable, Equatable {
    public var ruleID: String
    public var draft: RuleDraft
    public var version: Int
    public var createdAtMicros: Int64
    public var updatedAtMicros: Int64
    /// When it entered its current status (the start of a shadow run).
    public var statusSinceMicros: Int64

    public subscript<T>(dynamicMember field: KeyPath<RuleDraft, T>) -> T { draft[keyPath: field] }
}

/// One version of a rule, as it was written.
@dynamicMemberLookup
public struct RuleVersion: Sendable, Equatable {
    public var ruleID: String
    public var version: Int
    public var draft: RuleDraft
    public var changedBy: String
    public var changedAtMicros: Int64
    /// `rule.create`, `rule.update`, `rule.reverted`, `rule.expired` …
    public var change: String

    public subscript<T>(dynamicMember field: KeyPath<RuleDraft, T>) -> T { draft[keyPath: field] }
}

/// Hits of a rule and how the labelled ones turned out.
public struct RuleHitStats: Sendable, Equatable {
    public var hits = 0
    /// Payments scored since the same instant (by row order: ids grow with scoring time).
    public var scored = 0
    public var labelledHits = 0
    public var fraudHits = 0
    /// The same over hits whose effective label was given at or after the fresh-labels instant.
    public var freshLabelledHits = 0
    public var freshFraudHits = 0

    public init() {}
}

public enum RuleStoreError: Error, Sendable, Equatable {
    case notFound
    case versionConflict(current: Int)
}

/// The position after the last rule of a page (`updated_at`, `rule_id`), base64url; opaque to clients.
public struct RuleCursor: Sendable, Equatable {
    public var updatedAtMicros: Int64
    public var ruleID: String

    public init(updatedAtMicros: Int64, ruleID: String) {
        self.updatedAtMicros = updatedAtMicros
        self.ruleID = ruleID
    }

    public var encoded: String {
        Data("\(updatedAtMicros):\(ruleID)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Nil for anything this server did not issue.
    public init?(encoded: String) {
        guard encoded.utf8.count <= 512 else { return nil }
        var base64 = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.utf8.count % 4 != 0 { base64.append("=") }
        guard let data = Data(base64Encoded: base64), let plain = String(data: data, encoding: .utf8) else {
            return nil
        }
        let parts = plain.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let updated = Int64(parts[0]), !parts[1].isEmpty else { return nil }
        self.init(updatedAtMicros: updated, ruleID: parts[1])
    }
}

/// Rules as versioned data: the current version in `rules`, every version in the immutable `rule_versions`,
/// each change with its audit entry in the same transaction.
public final class RuleStore: Sendable {
    public let database: VigilDatabase

    public init(database: VigilDatabase) {
        self.database = database
    }

    public func create(ruleID: String, draft: RuleDraft, actor: String, nowMicros: Int64) async throws -> StoredRule {
        try await database.pool.write { db in
            let rule = StoredRule(
                ruleID: ruleID, draft: draft, version: 1, createdAtMicros: nowMicros, updatedAtMicros: nowMicros,
                statusSinceMicros: nowMicros)
            try Self.write(rule, db: db, insert: true)
            try Self.writeVersion(rule, changedBy: actor, change: "rule.create", db: db)
            try AuditLog.append(
                AuditEntry(
                    atMicros: nowMicros, actor: actor, action: "rule.create", entityType: "rule", entityID: ruleID,
                    before: nil, after: Self.json(rule)),
                in: db)
            return rule
        }
    }

    public func update(
        ruleID: String, expectedVersion: Int?, actor: String, nowMicros: Int64, change: String = "rule.update",
        _ update: @Sendable (StoredRule) throws -> RuleDraft
    ) async throws -> (before: StoredRule, after: StoredRule) {
        try await database.pool.write { db in
            guard let before = try Self.fetch(ruleID, db: db) else { throw RuleStoreError.notFound }
            if let expectedVersion, expectedVersion != before.version {
                throw RuleStoreError.versionConflict(current: before.version)
            }
            let draft = try update(before)
            var after = before
            after.draft = draft
            after.version = before.version + 1
            after.updatedAtMicros = nowMicros
            if draft.status != before.status { after.statusSinceMicros = nowMicros }
            try Self.write(after, db: db, insert: false)
            try Self.writeVersion(after, changedBy: actor, change: change, db: db)
            try AuditLog.append(
                AuditEntry(
                    atMicros: nowMicros, actor: actor, action: change, entityType: "rule", entityID: ruleID,
                    before: Self.json(before), after: Self.json(after)),
                in: db)
            return (before, after)
        }
    }

    public func rule(id: String) async throws -> StoredRule? {
        try await database.pool.read { db in try Self.fetch(id, db: db) }
    }

    public func version(ruleID: String, version: Int) async throws -> RuleVersion? {
        try await database.pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM rule_versions WHERE rule_id = ? AND version = ?", arguments: [ruleID, version]
            ).map(Self.ruleVersion)
        }
    }

    public func versions(ruleID: String) async throws -> [RuleVersion] {
        try await database.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM rule_versions WHERE rule_id = ? ORDER BY version", arguments: [ruleID]
            ).map(Self.ruleVersion)
        }
    }

    public func rules(
        status: RuleStatus?, limit: Int, after: RuleCursor?
    ) async throws -> (items: [StoredRule], next: RuleCursor?) {
        let limit = min(max(limit, 1), 500)
        return try await database.pool.read { db in
            var conditions: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            if let status {
                conditions.append("status = ?")
                arguments.append(status.rawValue)
            }
            if let after {
                conditions.append("(updated_at < ? OR (updated_at = ? AND rule_id < ?))")
                arguments += [after.updatedAtMicros, after.updatedAtMicros, after.ruleID]
            }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            arguments.append(limit + 1)
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM rules \(filter) ORDER BY updated_at DESC, rule_id DESC LIMIT ?",
                arguments: StatementArguments(arguments))
            let items = rows.prefix(limit).map(Self.storedRule)
            let next =
                rows.count > limit
                ? items.last.map { RuleCursor(updatedAtMicros: $0.updatedAtMicros, ruleID: $0.ruleID) } : nil
            return (Array(items), next)
        }
    }

    /// Rules in `shadow` or `active`: what scoring evaluates.
    public func live() async throws -> [StoredRule] {
        try await database.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM rules WHERE status IN ('shadow', 'active') ORDER BY rule_id")
                .map(Self.storedRule)
        }
    }

    /// Hits since `sinceMicros`, the payments scored since then, and the labelled hits by their effective label.
    public func hitStats(ruleID: String, sinceMicros: Int64, labelledSinceMicros: Int64) async throws -> RuleHitStats {
        let effective = """
            SELECT label || ':' || labeled_at FROM labels l WHERE l.transaction_id = h.transaction_id
            ORDER BY \(LabelStore.precedenceOrder()) LIMIT 1
            """
        return try await database.pool.read { db in
            var stats = RuleHitStats()
            let rows = try Row.fetchCursor(
                db,
                sql: "SELECT (\(effective)) AS effective FROM rule_hits h WHERE h.rule_id = ? AND h.scored_at >= ?",
                arguments: [ruleID, sinceMicros])
            while let row = try rows.next() {
                stats.hits += 1
                guard let effective: String = row["effective"] else { continue }
                let parts = effective.split(separator: ":")
                guard parts.count == 2, let labeledAt = Int64(parts[1]) else { continue }
                let fraud = parts[0] == "fraud"
                stats.labelledHits += 1
                if fraud { stats.fraudHits += 1 }
                if labeledAt >= labelledSinceMicros {
                    stats.freshLabelledHits += 1
                    if fraud { stats.freshFraudHits += 1 }
                }
            }
            stats.scored = try Self.scoredSince(sinceMicros, db: db)
            return stats
        }
    }

    /// Payments scored at or after `since`: ids grow with scoring time, so the first such id is found by a binary
    /// search over the primary key (a few lookups) rather than a scan or an index on every insert.
    static func scoredSince(_ since: Int64, db: Database) throws -> Int {
        guard let maxID = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM transactions"),
            let minID = try Int64.fetchOne(db, sql: "SELECT MIN(id) FROM transactions")
        else { return 0 }
        let lookup = try db.cachedStatement(sql: "SELECT scored_at FROM transactions WHERE id >= ? ORDER BY id LIMIT 1")
        var low = minID
        var high = maxID + 1
        while low < high {
            let middle = low + (high - low) / 2
            let scoredAt = try Int64.fetchOne(lookup, arguments: [middle]) ?? .max
            if scoredAt >= since { high = middle } else { low = middle + 1 }
        }
        guard low <= maxID else { return 0 }
        return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM transactions WHERE id >= ?", arguments: [low]) ?? 0
    }

    // MARK: - Rows

    static func fetch(_ ruleID: String, db: Database) throws -> StoredRule? {
        try Row.fetchOne(db, sql: "SELECT * FROM rules WHERE rule_id = ?", arguments: [ruleID]).map(storedRule)
    }

    static func write(_ rule: StoredRule, db: Database, insert: Bool) throws {
        let arguments: StatementArguments = [
            rule.name, rule.expression, rule.action.rawValue, rule.points, rule.status.rawValue, rule.expiresAtMicros,
            rule.owner, rule.provenance, rule.description, rule.version, rule.createdAtMicros, rule.updatedAtMicros,
            rule.statusSinceMicros, rule.ruleID,
        ]
        if insert {
            try db.execute(
                sql: """
                    INSERT INTO rules (name, expression, action, points, status, expires_at, owner, provenance,
                        description, version, created_at, updated_at, status_since, rule_id)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: arguments)
        } else {
            try db.execute(
                sql: """
                    UPDATE rules SET name = ?, expression = ?, action = ?, points = ?, status = ?, expires_at = ?,
                        owner = ?, provenance = ?, description = ?, version = ?, created_at = ?, updated_at = ?,
                        status_since = ?
                    WHERE rule_id = ?
                    """, arguments: arguments)
        }
    }

    static func writeVersion(_ rule: StoredRule, changedBy: String, change: String, db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO rule_versions (rule_id, version, name, expression, action, points, status, expires_at,
                    owner, provenance, description, changed_by, changed_at, change)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                rule.ruleID, rule.version, rule.name, rule.expression, rule.action.rawValue, rule.points,
                rule.status.rawValue, rule.expiresAtMicros, rule.owner, rule.provenance, rule.description, changedBy,
                rule.updatedAtMicros, change,
            ])
    }

    static func draft(_ row: Row) -> RuleDraft {
        RuleDraft(
            name: row["name"], expression: row["expression"],
            action: RuleActionKind(rawValue: row["action"]) ?? .review,
            points: row["points"], status: RuleStatus(rawValue: row["status"]) ?? .disabled,
            expiresAtMicros: row["expires_at"], owner: row["owner"], provenance: row["provenance"],
            description: row["description"])
    }

    static func storedRule(_ row: Row) -> StoredRule {
        StoredRule(
            ruleID: row["rule_id"], draft: draft(row), version: row["version"], createdAtMicros: row["created_at"],
            updatedAtMicros: row["updated_at"], statusSinceMicros: row["status_since"])
    }

    static func ruleVersion(_ row: Row) -> RuleVersion {
        RuleVersion(
            ruleID: row["rule_id"], version: row["version"], draft: draft(row), changedBy: row["changed_by"],
            changedAtMicros: row["changed_at"], change: row["change"])
    }

    /// The audit document of a rule version.
    static func json(_ rule: StoredRule) -> String {
        var writer = JSONWriter(reservingCapacity: 512)
        writer.objectStart()
        writer.key("version")
        writer.int(rule.version)
        writer.key("name")
        writer.string(rule.name)
        writer.key("expression")
        writer.string(rule.expression)
        writer.key("action")
        writer.string(rule.action.rawValue)
        writer.key("points")
        writer.optionalNumber(rule.points)
        writer.key("status")
        writer.string(rule.status.rawValue)
        writer.key("expires_at")
        writer.optionalInt(rule.expiresAtMicros)
        writer.key("owner")
        writer.string(rule.owner)
        writer.key("provenance")
        writer.raw(Array(rule.provenance.utf8))
        writer.objectEnd()
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
