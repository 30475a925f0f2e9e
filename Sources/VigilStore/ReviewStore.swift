import GRDB

/// A label as stored, with who gave it and when it was recorded.
public struct StoredLabel: Sendable, Equatable {
    public var id: Int64
    public var transactionID: String
    public var label: LabelValue
    public var source: LabelSource
    public var reasonCode: String?
    public var note: String?
    public var labeledAtMicros: Int64
    public var recordedAtMicros: Int64
    public var recordedBy: String
}

/// What became of a claim.
public enum ClaimOutcome: Sendable, Equatable {
    case claimed(StoredCase)
    case notFound
    case closed
    /// Another reviewer holds it until then.
    case held(by: String, untilMicros: Int64)
}

/// What became of a release.
public enum ReleaseOutcome: Sendable, Equatable {
    case released(StoredCase)
    case notFound
    /// The caller does not hold it (nil: nobody does).
    case notHeld(by: String?)
}

/// What became of a label.
public enum LabelOutcome: Sendable, Equatable {
    /// Appended; `closedCase` is the open case the verdict closed, if any.
    case added(StoredLabel, closedCase: String?)
    /// The same Idempotency-Key with the same request: the label stored the first time.
    case replayed(StoredLabel)
    case unknownTransaction
    /// The same Idempotency-Key was used for a different request.
    case idempotencyConflict
}

/// The review loop in SQLite: claims with leases, labels that close cases, all audited in the same transaction.
///
/// Every change runs in one write transaction; SQLite serialises writers, so two reviewers can never claim the
/// same case.
public struct ReviewStore: Sendable {
    public let database: VigilDatabase

    public init(database: VigilDatabase) {
        self.database = database
    }

    /// Claims the highest-priority open case nobody holds (or whose lease ran out) for `reviewer`.
    public func claimNext(reviewer: String, nowMicros: Int64, leaseMicros: Int64) async throws -> StoredCase? {
        try await database.pool.write { db in
            try Self.expireLeases(now: nowMicros, db)
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT * FROM cases INDEXED BY cases_claimable
                            WHERE status = 'open' AND assignee IS NULL
                            ORDER BY priority DESC, created_at, case_id LIMIT 1
                            """))
            else { return nil }
            let found = SQLiteDecisionStore.storedCase(row)
            return try Self.assign(found, to: reviewer, now: nowMicros, lease: leaseMicros, action: "case.claimed", db)
        }
    }

    /// Returns cases whose lease ran out to the queue (audited), so the claimable index stays exact.
    static func expireLeases(now: Int64, _ db: Database) throws {
        let expired = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT case_id, assignee, lease_expires_at FROM cases INDEXED BY cases_leased
                    WHERE status = 'open' AND assignee IS NOT NULL AND lease_expires_at <= ?
                    """),
            arguments: [now])
        for row in expired {
            let caseID: String = row["case_id"]
            let assignee: String = row["assignee"]
            try db.cachedStatement(sql: "UPDATE cases SET assignee = NULL, lease_expires_at = NULL WHERE case_id = ?")
                .execute(arguments: [caseID])
            try AuditLog.append(
                AuditEntry(
                    atMicros: now, actor: "vigil", action: "case.lease_expired", entityType: "case", entityID: caseID,
                    before: "{\"assignee\":\(jsonString(assignee))}", after: "{\"assignee\":null}"),
                in: db)
        }
    }

    /// Claims one case, or renews the caller's own lease on it.
    public func claim(caseID: String, reviewer: String, nowMicros: Int64, leaseMicros: Int64) async throws
        -> ClaimOutcome
    {
        try await database.pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM cases WHERE case_id = ?", arguments: [caseID])
            else { return .notFound }
            let found = SQLiteDecisionStore.storedCase(row)
            guard found.status == .open else { return .closed }
            if let holder = found.assignee, let until = found.leaseExpiresAtMicros, until > nowMicros,
                holder != reviewer
            {
                return .held(by: holder, untilMicros: until)
            }
            let renewing = found.assignee == reviewer && (found.leaseExpiresAtMicros ?? 0) > nowMicros
            return .claimed(
                try Self.assign(
                    found, to: reviewer, now: nowMicros, lease: leaseMicros,
                    action: renewing ? "case.lease_renewed" : "case.claimed", db))
        }
    }

    /// Gives a held case back to the queue; only its holder can.
    public func release(caseID: String, reviewer: String, nowMicros: Int64) async throws -> ReleaseOutcome {
        try await database.pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM cases WHERE case_id = ?", arguments: [caseID])
            else { return .notFound }
            var found = SQLiteDecisionStore.storedCase(row)
            let live = (found.leaseExpiresAtMicros ?? 0) > nowMicros ? found.assignee : nil
            guard live == reviewer else { return .notHeld(by: live) }
            try db.execute(
                sql: "UPDATE cases SET assignee = NULL, lease_expires_at = NULL WHERE case_id = ?", arguments: [caseID])
            try AuditLog.append(
                AuditEntry(
                    atMicros: nowMicros, actor: reviewer, action: "case.released", entityType: "case", entityID: caseID,
                    before: "{\"assignee\":\(jsonString(reviewer))}", after: "{\"assignee\":null}"),
                in: db)
            found.assignee = nil
            found.leaseExpiresAtMicros = nil
            return .released(found)
        }
    }

    /// Appends a label; a verdict closes the transaction's open case. `requestSHA256` identifies the request for
    /// the Idempotency-Key check.
    public func addLabel(
        _ label: NewLabel, idempotencyKey: String?, requestSHA256: String, nowMicros: Int64
    ) async throws -> LabelOutcome {
        try await database.pool.write { db in
            if let idempotencyKey,
                let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM labels WHERE recorded_by = ? AND idempotency_key = ?",
                    arguments: [label.recordedBy, idempotencyKey])
            {
                let stored: String? = row["request_sha256"]
                return stored == requestSHA256 ? .replayed(Self.storedLabel(row)) : .idempotencyConflict
            }
            guard
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM transactions WHERE transaction_id = ?", arguments: [label.transactionID])
                    != nil
            else { return .unknownTransaction }
            let (stored, closed) = try Self.insert(
                label, idempotencyKey: idempotencyKey, requestSHA256: requestSHA256, now: nowMicros, db)
            return .added(stored, closedCase: closed)
        }
    }

    /// What became of one label of a batch.
    public enum BatchOutcome: Sendable, Equatable {
        case added
        /// The same label (transaction, label, source, labeled_at) is already there: a re-sent batch adds nothing.
        case duplicate
        case unknownTransaction
    }

    /// Applies many labels in one transaction. `timed[i]` says whether label i came with its own `labeled_at`:
    /// then the same transaction, label, source and time is a duplicate; without one, the same transaction,
    /// label and source is.
    public func addLabels(_ labels: [NewLabel], timed: [Bool], nowMicros: Int64) async throws -> [BatchOutcome] {
        try await database.pool.write { db in
            let exists = try db.cachedStatement(sql: "SELECT 1 FROM transactions WHERE transaction_id = ?")
            let sameAt = try db.cachedStatement(
                sql: "SELECT 1 FROM labels WHERE transaction_id = ? AND label = ? AND source = ? AND labeled_at = ?")
            let same = try db.cachedStatement(
                sql: "SELECT 1 FROM labels WHERE transaction_id = ? AND label = ? AND source = ?")
            return try zip(labels, timed).map { label, isTimed in
                guard try Bool.fetchOne(exists, arguments: [label.transactionID]) != nil else {
                    return .unknownTransaction
                }
                var key: StatementArguments = [label.transactionID, label.label.rawValue, label.source.rawValue]
                if isTimed { _ = key.append(contentsOf: [label.labeledAtMicros]) }
                guard try Bool.fetchOne(isTimed ? sameAt : same, arguments: key) == nil else { return .duplicate }
                _ = try Self.insert(label, idempotencyKey: nil, requestSHA256: nil, now: nowMicros, db)
                return .added
            }
        }
    }

    /// Every label of a transaction, oldest first.
    public func labels(transactionID: String) async throws -> [StoredLabel] {
        try await database.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM labels WHERE transaction_id = ? ORDER BY labeled_at, id",
                arguments: [transactionID]
            ).map(Self.storedLabel)
        }
    }

    // MARK: -

    private static func assign(
        _ found: StoredCase, to reviewer: String, now: Int64, lease: Int64, action: String, _ db: Database
    ) throws -> StoredCase {
        let until = now + lease
        try db.execute(
            sql: "UPDATE cases SET assignee = ?, lease_expires_at = ? WHERE case_id = ?",
            arguments: [reviewer, until, found.caseID])
        let before = found.assignee.flatMap { (found.leaseExpiresAtMicros ?? 0) > now ? $0 : nil }
        try AuditLog.append(
            AuditEntry(
                atMicros: now, actor: reviewer, action: action, entityType: "case", entityID: found.caseID,
                before: "{\"assignee\":\(before.map(jsonString) ?? "null")}",
                after: "{\"assignee\":\(jsonString(reviewer)),\"lease_expires_at_us\":\(until)}"),
            in: db)
        var claimed = found
        claimed.assignee = reviewer
        claimed.leaseExpiresAtMicros = until
        return claimed
    }

    private static func insert(
        _ label: NewLabel, idempotencyKey: String?, requestSHA256: String?, now: Int64, _ db: Database
    ) throws -> (StoredLabel, closedCase: String?) {
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO labels (
                    transaction_id, label, source, reason_code, note, labeled_at, recorded_at, recorded_by,
                    idempotency_key, request_sha256)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        try insert.execute(arguments: [
            label.transactionID, label.label.rawValue, label.source.rawValue, label.reasonCode, label.note,
            label.labeledAtMicros, now, label.recordedBy, idempotencyKey, requestSHA256,
        ])
        let id = db.lastInsertedRowID
        let stored = StoredLabel(
            id: id, transactionID: label.transactionID, label: label.label, source: label.source,
            reasonCode: label.reasonCode, note: label.note, labeledAtMicros: label.labeledAtMicros,
            recordedAtMicros: now, recordedBy: label.recordedBy)
        let after =
            "{\"label_id\":\(id),\"label\":\"\(label.label.rawValue)\",\"source\":\"\(label.source.rawValue)\"}"
        try AuditLog.append(
            AuditEntry(
                atMicros: now, actor: label.recordedBy, action: "transaction.labelled", entityType: "transaction",
                entityID: label.transactionID, before: nil, after: after),
            in: db)
        let open = try String.fetchOne(
            db.cachedStatement(sql: "SELECT case_id FROM cases WHERE transaction_id = ? AND status = 'open'"),
            arguments: [label.transactionID])
        if let open {
            try db.cachedStatement(
                sql: """
                    UPDATE cases SET status = 'closed', closed_at = ?, verdict = ?, assignee = NULL,
                        lease_expires_at = NULL
                    WHERE case_id = ?
                    """
            ).execute(arguments: [now, label.label.rawValue, open])
            try AuditLog.append(
                AuditEntry(
                    atMicros: now, actor: label.recordedBy, action: "case.closed", entityType: "case", entityID: open,
                    before: "{\"status\":\"open\"}",
                    after: "{\"status\":\"closed\",\"verdict\":\"\(label.label.rawValue)\",\"label_id\":\(id)}"),
                in: db)
        }
        return (stored, open)
    }

    static func storedLabel(_ row: Row) -> StoredLabel {
        StoredLabel(
            id: row["id"], transactionID: row["transaction_id"],
            label: LabelValue(rawValue: row["label"]) ?? .legit, source: LabelSource(rawValue: row["source"]) ?? .other,
            reasonCode: row["reason_code"], note: row["note"], labeledAtMicros: row["labeled_at"],
            recordedAtMicros: row["recorded_at"], recordedBy: row["recorded_by"])
    }
}
