import VigilCore
import VigilStore

/// The read side: stored decisions and review cases as JSON documents.
public struct RecordReader: Sendable {
    public let store: any DecisionStore
    public let clock: any WallClock
    public static let maxPageSize = 200

    public init(store: any DecisionStore, clock: any WallClock) {
        self.store = store
        self.clock = clock
    }

    /// `GET /v1/transactions/{id}`: the transaction, its features and the answer that was served.
    public func transaction(id: String) async throws(ServiceError) -> [UInt8] {
        guard let stored = try await storeRead({ try await store.transaction(id: id) }) else {
            throw .notFound("no transaction with id \(id)")
        }
        var writer = JSONWriter()
        Self.writeRecord(stored, into: &writer)
        return writer.bytes
    }

    /// `GET /v1/cases`.
    public func cases(_ query: CaseQuery) async throws(ServiceError) -> [UInt8] {
        var query = query
        let now = clock.nowMicros()
        query.nowMicros = now
        let page = try await storeRead { [query] in try await store.cases(query) }
        var writer = JSONWriter()
        writer.objectStart()
        writer.key("items")
        writer.arrayStart()
        for item in page.items { Self.writeCase(item, transaction: nil, nowMicros: now, into: &writer) }
        writer.arrayEnd()
        writer.key("next_cursor")
        if let next = page.next { writer.string(next.token) } else { writer.null() }
        writer.objectEnd()
        return writer.bytes
    }

    /// `GET /v1/cases/{id}`: the case and the full transaction record.
    public func caseDetail(id: String) async throws(ServiceError) -> [UInt8] {
        guard let stored = try await storeRead({ try await store.caseByID(id) }) else {
            throw .notFound("no case with id \(id)")
        }
        let transaction = try await storeRead { try await store.transaction(id: stored.transactionID) }
        var writer = JSONWriter()
        Self.writeCase(stored, transaction: transaction, nowMicros: clock.nowMicros(), into: &writer)
        return writer.bytes
    }

    /// The answer's fields with the stored transaction and features spliced in front.
    static func writeRecord(_ stored: StoredTransaction, into writer: inout JSONWriter) {
        var bytes: [UInt8] = Array("{\"transaction\":".utf8)
        bytes += stored.body.utf8
        bytes += ",\"features\":".utf8
        bytes += stored.features.utf8
        bytes += ",".utf8
        bytes += stored.answer.utf8.dropFirst()
        writer.raw(bytes)
    }

    static func writeCase(
        _ item: StoredCase, transaction: StoredTransaction?, nowMicros: Int64, into writer: inout JSONWriter
    ) {
        writer.objectStart()
        writer.key("case_id")
        writer.string(item.caseID)
        writer.key("transaction_id")
        writer.string(item.transactionID)
        writer.key("status")
        writer.string(item.status.rawValue)
        writer.key("reason")
        writer.string(item.reason)
        writer.key("score")
        writer.number(item.score)
        writer.key("risk_score")
        writer.int(item.riskScore)
        writer.key("amount")
        writer.number(item.amount)
        writer.key("currency")
        writer.string(item.currency)
        writer.key("created_at")
        writer.string(formatRFC3339(micros: item.createdAtMicros))
        writer.key("closed_at")
        if let closed = item.closedAtMicros { writer.string(formatRFC3339(micros: closed)) } else { writer.null() }
        writer.key("priority")
        writer.number(item.priority)
        writer.key("source")
        writer.string(item.source.rawValue)
        writer.key("rule_id")
        if let rule = item.ruleID { writer.string(rule) } else { writer.null() }
        // A lease that ran out holds nothing.
        let held = (item.leaseExpiresAtMicros ?? 0) > nowMicros
        writer.key("assignee")
        if held, let assignee = item.assignee { writer.string(assignee) } else { writer.null() }
        writer.key("lease_expires_at")
        if held, let until = item.leaseExpiresAtMicros {
            writer.string(formatRFC3339(micros: until))
        } else {
            writer.null()
        }
        writer.key("verdict")
        if let verdict = item.verdict { writer.string(verdict) } else { writer.null() }
        if let transaction {
            writer.key("transaction")
            writeRecord(transaction, into: &writer)
        }
        writer.objectEnd()
    }
}
