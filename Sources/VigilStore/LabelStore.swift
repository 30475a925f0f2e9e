import GRDB

/// The label kinds a verdict or a chargeback can carry.
public enum LabelValue: String, Sendable, CaseIterable {
    case fraud, legit
}

/// Where a label came from, in rising order of authority: the effective label of a payment is the one from
/// the highest-ranked source, the latest `labeled_at` among equals (a chargeback outranks a review verdict).
public enum LabelSource: String, Sendable, CaseIterable {
    case other, review
    case customerReport = "customer_report"
    case issuerAlert = "issuer_alert"
    case chargeback

    public var rank: Int {
        switch self {
        case .other: 0
        case .review: 1
        case .customerReport: 2
        case .issuerAlert: 3
        case .chargeback: 4
        }
    }
}

/// One label as given.
public struct NewLabel: Sendable, Equatable {
    public var transactionID: String
    public var label: LabelValue
    public var source: LabelSource
    public var reasonCode: String?
    public var note: String?
    public var labeledAtMicros: Int64
    public var recordedBy: String

    public init(
        transactionID: String, label: LabelValue, source: LabelSource, reasonCode: String? = nil,
        note: String? = nil, labeledAtMicros: Int64, recordedBy: String
    ) {
        self.transactionID = transactionID
        self.label = label
        self.source = source
        self.reasonCode = reasonCode
        self.note = note
        self.labeledAtMicros = labeledAtMicros
        self.recordedBy = recordedBy
    }
}

/// Labels in SQLite: appended, never replaced.
public struct LabelStore: Sendable {
    public let database: VigilDatabase

    public init(database: VigilDatabase) {
        self.database = database
    }

    /// Appends a label; false when the transaction is unknown.
    @discardableResult
    public func append(_ label: NewLabel, recordedAtMicros: Int64) async throws -> Bool {
        try await database.pool.write { db in
            guard
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM transactions WHERE transaction_id = ?", arguments: [label.transactionID])
                    != nil
            else { return false }
            try db.execute(
                sql: """
                    INSERT INTO labels (
                        transaction_id, label, source, reason_code, note, labeled_at, recorded_at, recorded_by)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    label.transactionID, label.label.rawValue, label.source.rawValue, label.reasonCode, label.note,
                    label.labeledAtMicros, recordedAtMicros, label.recordedBy,
                ])
            return true
        }
    }

    /// One row per labelled transaction: `transaction_id`, `label` (the effective one), `labeled_at`.
    static let effectiveLabelsSQL: String = {
        let rank = LabelSource.allCases.map { "WHEN '\($0.rawValue)' THEN \($0.rank)" }.joined(separator: " ")
        return """
            SELECT transaction_id, label, labeled_at FROM (
                SELECT transaction_id, label, labeled_at, ROW_NUMBER() OVER (
                    PARTITION BY transaction_id
                    ORDER BY CASE source \(rank) ELSE -1 END DESC, labeled_at DESC, id DESC) AS position
                FROM labels)
            WHERE position = 1
            """
    }()
}

extension LabelStore {
    /// The effective label of a history: the most authoritative source, the latest `labeled_at` among equals.
    public static func effective(_ labels: [StoredLabel]) -> StoredLabel? {
        labels.max { lhs, rhs in
            if lhs.source.rank != rhs.source.rank { return lhs.source.rank < rhs.source.rank }
            if lhs.labeledAtMicros != rhs.labeledAtMicros { return lhs.labeledAtMicros < rhs.labeledAtMicros }
            return lhs.id < rhs.id
        }
    }
}
