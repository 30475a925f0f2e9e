import VigilCore
import VigilStore

/// The review loop's use cases: claim, release, label, and read labels and the audit log.
public struct ReviewService: Sendable {
    public let store: ReviewStore
    public let decisions: any DecisionStore
    public let clock: any WallClock
    public let policy: ReviewPolicy
    /// Counts fraud labels into history features that read them.
    public let velocity: VelocityService?

    public init(
        store: ReviewStore, decisions: any DecisionStore, clock: any WallClock, policy: ReviewPolicy,
        velocity: VelocityService? = nil
    ) {
        self.velocity = velocity
        self.store = store
        self.decisions = decisions
        self.clock = clock
        self.policy = policy
    }

    /// `GET /v1/cases/next`: the claimed case with its transaction record, or nil when the queue is empty.
    public func claimNext(reviewer: String) async throws(ServiceError) -> [UInt8]? {
        let claimed = try await storeWrite {
            try await store.claimNext(reviewer: reviewer, nowMicros: clock.nowMicros(), leaseMicros: policy.leaseMicros)
        }
        guard let claimed else { return nil }
        return try await caseDocument(claimed)
    }

    /// `POST /v1/cases/{id}/claim`.
    public func claim(caseID: String, reviewer: String) async throws(ServiceError) -> [UInt8] {
        let now = clock.nowMicros()
        switch try await storeWrite({
            try await store.claim(caseID: caseID, reviewer: reviewer, nowMicros: now, leaseMicros: policy.leaseMicros)
        }) {
        case .claimed(let claimed): return try await caseDocument(claimed)
        case .notFound: throw .notFound("no case with id \(caseID)")
        case .closed: throw .conflict("case \(caseID) is closed")
        case .held(let holder, let until):
            throw .conflict(
                "case \(caseID) is held by \(holder) until \(formatRFC3339(micros: until)); "
                    + "it returns to the queue when that reviewer releases it, labels it or the lease runs out")
        }
    }

    /// `POST /v1/cases/{id}/release`.
    public func release(caseID: String, reviewer: String) async throws(ServiceError) -> [UInt8] {
        switch try await storeWrite({
            try await store.release(caseID: caseID, reviewer: reviewer, nowMicros: clock.nowMicros())
        }) {
        case .released(let released): return try await caseDocument(released)
        case .notFound: throw .notFound("no case with id \(caseID)")
        case .notHeld(let holder):
            throw .conflict(
                holder.map { "case \(caseID) is held by \($0), not by \(reviewer)" }
                    ?? "case \(caseID) is not held by anyone")
        }
    }

    /// The answer to a label: 201 when added, 200 when an Idempotency-Key replayed it.
    public struct LabelAnswer: Sendable {
        public var json: [UInt8]
        public var created: Bool
    }

    /// `POST /v1/transactions/{id}/labels`.
    public func label(
        transactionID: String, body: [UInt8], idempotencyKey: String?, reviewer: String
    ) async throws(ServiceError) -> LabelAnswer {
        if let idempotencyKey, !(1...128).contains(idempotencyKey.utf8.count) {
            throw .validation([FieldError(path: "$.headers.Idempotency-Key", message: "must be 1 to 128 bytes")])
        }
        let decoded = body.withUnsafeBytes { bytes in
            Result { () throws(ServiceError) in try LabelDecoder.decode(bytes, requireTransactionID: false) }
        }
        let input = try decoded.get()
        let now = clock.nowMicros()
        let label = NewLabel(
            transactionID: transactionID, label: input.label, source: input.source, reasonCode: input.reasonCode,
            note: input.note, labeledAtMicros: input.labeledAtMicros ?? now, recordedBy: reviewer)
        // The request as given (labeled_at as sent, not defaulted), so a retry with the same key matches.
        let fingerprint = sha256Hex(Array("\(transactionID)\u{0}".utf8) + body)
        let outcome = try await storeWrite {
            try await store.addLabel(label, idempotencyKey: idempotencyKey, requestSHA256: fingerprint, nowMicros: now)
        }
        let stored: StoredLabel
        let created: Bool
        var closedCase: String?
        switch outcome {
        case .added(let added, let closed):
            stored = added
            created = true
            closedCase = closed
            if added.label == .fraud {
                try await storeRead {
                    try await velocity?.recordFraud([(transactionID, added.labeledAtMicros)])
                }
            }
        case .replayed(let replayed):
            stored = replayed
            created = false
        case .unknownTransaction: throw .notFound("no transaction with id \(transactionID)")
        case .idempotencyConflict:
            throw .conflict("Idempotency-Key \(idempotencyKey ?? "") was already used for a different label request")
        }
        let history = try await storeRead { try await store.labels(transactionID: transactionID) }
        var writer = JSONWriter(reservingCapacity: 1024)
        writer.objectStart()
        writer.key("label")
        Self.writeLabel(stored, into: &writer)
        writer.key("closed_case_id")
        if let closedCase { writer.string(closedCase) } else { writer.null() }
        Self.writeHistory(transactionID: transactionID, history, into: &writer)
        writer.objectEnd()
        return LabelAnswer(json: writer.bytes, created: created)
    }

    /// `GET /v1/transactions/{id}/labels`: the full history and the effective label.
    public func labels(transactionID: String) async throws(ServiceError) -> [UInt8] {
        let stored = try await storeRead { try await decisions.transaction(id: transactionID) }
        guard stored != nil else { throw .notFound("no transaction with id \(transactionID)") }
        let history = try await storeRead { try await store.labels(transactionID: transactionID) }
        var writer = JSONWriter(reservingCapacity: 1024)
        writer.objectStart()
        Self.writeHistory(transactionID: transactionID, history, into: &writer)
        writer.objectEnd()
        return writer.bytes
    }

    /// `GET /v1/audit`.
    public func audit(_ query: AuditQuery) async throws(ServiceError) -> [UInt8] {
        let (entries, next) = try await storeRead { try await AuditLog.entries(query, in: store.database) }
        var writer = JSONWriter(reservingCapacity: 4096)
        writer.objectStart()
        writer.key("items")
        writer.arrayStart()
        for entry in entries {
            writer.objectStart()
            writer.key("id")
            writer.int(Int(entry.id))
            writer.key("at")
            writer.string(formatRFC3339(micros: entry.atMicros))
            writer.key("actor")
            writer.string(entry.actor)
            writer.key("action")
            writer.string(entry.action)
            writer.key("entity_type")
            writer.string(entry.entityType)
            writer.key("entity_id")
            writer.string(entry.entityID)
            writer.key("before")
            if let before = entry.before { writer.raw(Array(before.utf8)) } else { writer.null() }
            writer.key("after")
            if let after = entry.after { writer.raw(Array(after.utf8)) } else { writer.null() }
            writer.objectEnd()
        }
        writer.arrayEnd()
        writer.key("next_cursor")
        if let next { writer.string(String(next)) } else { writer.null() }
        writer.objectEnd()
        return writer.bytes
    }

    /// `GET /v1/stats`.
    public func stats(maturityDays: Int) async throws(ServiceError) -> [UInt8] {
        let stats = try await storeRead {
            try await store.stats(nowMicros: clock.nowMicros(), maturityDays: maturityDays)
        }
        var writer = JSONWriter(reservingCapacity: 1024)
        func optional(_ value: Double?) {
            if let value { writer.number(value) } else { writer.null() }
        }
        func share(_ part: Int, _ whole: Int) -> Double? { whole > 0 ? Double(part) / Double(whole) : nil }
        writer.objectStart()
        writer.key("queue")
        writer.objectStart()
        writer.key("open")
        writer.int(stats.openCases)
        writer.key("open_unassigned")
        writer.int(stats.openUnassigned)
        writer.key("oldest_open_age_seconds")
        optional(stats.oldestOpenAgeSeconds)
        writer.key("by_source")
        writer.objectStart()
        for source in CaseSource.allCases {
            writer.key(source.rawValue)
            writer.int(stats.openBySource[source.rawValue] ?? 0)
        }
        writer.objectEnd()
        writer.objectEnd()
        writer.key("verdicts")
        writer.objectStart()
        writer.key("last_24h")
        writer.int(stats.reviewVerdictsLast24h)
        writer.key("per_reviewer_per_hour")
        writer.arrayStart()
        for (reviewer, count) in stats.verdictsByReviewer.sorted(by: { $0.key < $1.key }) {
            writer.objectStart()
            writer.key("reviewer")
            writer.string(reviewer)
            writer.key("verdicts")
            writer.int(count)
            writer.key("per_hour")
            writer.number(Double(count) / 24)
            writer.objectEnd()
        }
        writer.arrayEnd()
        writer.key("median_time_to_verdict_seconds")
        optional(stats.medianTimeToVerdictSeconds)
        writer.key("p90_time_to_verdict_seconds")
        optional(stats.p90TimeToVerdictSeconds)
        writer.objectEnd()
        writer.key("reviewed")
        writer.objectStart()
        writer.key("cases")
        writer.int(stats.reviewedCases)
        writer.key("confirmed_fraud")
        writer.int(stats.confirmedFraud)
        writer.key("fraud_share")
        optional(share(stats.confirmedFraud, stats.reviewedCases))
        writer.objectEnd()
        writer.key("sample")
        writer.objectStart()
        writer.key("labelled")
        writer.int(stats.sampleLabelled)
        writer.key("fraud")
        writer.int(stats.sampleFraud)
        writer.key("miss_rate")
        optional(share(stats.sampleFraud, stats.sampleLabelled))
        writer.key("miss_rate_95ci")
        if let interval = ReviewStats.wilson(successes: stats.sampleFraud, trials: stats.sampleLabelled) {
            writer.arrayStart()
            writer.number(interval.low)
            writer.number(interval.high)
            writer.arrayEnd()
        } else {
            writer.null()
        }
        writer.objectEnd()
        writer.key("labels")
        writer.objectStart()
        writer.key("maturity_days")
        writer.int(stats.maturityDays)
        writer.key("transactions_older")
        writer.int(stats.matureTransactions)
        writer.key("labelled")
        writer.int(stats.matureLabelled)
        writer.key("maturity")
        optional(share(stats.matureLabelled, stats.matureTransactions))
        writer.objectEnd()
        writer.objectEnd()
        return writer.bytes
    }

    // MARK: -

    private func caseDocument(_ item: StoredCase) async throws(ServiceError) -> [UInt8] {
        let transaction = try await storeRead { try await decisions.transaction(id: item.transactionID) }
        var writer = JSONWriter(reservingCapacity: 2048)
        RecordReader.writeCase(item, transaction: transaction, nowMicros: clock.nowMicros(), into: &writer)
        return writer.bytes
    }

    static func writeHistory(transactionID: String, _ history: [StoredLabel], into writer: inout JSONWriter) {
        writer.key("transaction_id")
        writer.string(transactionID)
        writer.key("effective_label")
        if let effective = LabelStore.effective(history) {
            writeLabel(effective, into: &writer)
        } else {
            writer.null()
        }
        writer.key("history")
        writer.arrayStart()
        for label in history { writeLabel(label, into: &writer) }
        writer.arrayEnd()
    }

    static func writeLabel(_ label: StoredLabel, into writer: inout JSONWriter) {
        writer.objectStart()
        writer.key("id")
        writer.int(Int(label.id))
        writer.key("label")
        writer.string(label.label.rawValue)
        writer.key("source")
        writer.string(label.source.rawValue)
        writer.key("reason_code")
        if let code = label.reasonCode { writer.string(code) } else { writer.null() }
        writer.key("note")
        if let note = label.note { writer.string(note) } else { writer.null() }
        writer.key("labeled_at")
        writer.string(formatRFC3339(micros: label.labeledAtMicros))
        writer.key("recorded_at")
        writer.string(formatRFC3339(micros: label.recordedAtMicros))
        writer.key("recorded_by")
        writer.string(label.recordedBy)
        writer.objectEnd()
    }
}
