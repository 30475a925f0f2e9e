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

/// The label rules shared by the store's queries: which label of a history is the effective one.
public enum LabelStore {
    /// The order that puts a transaction's effective label first: the most authoritative source, then the latest
    /// `labeled_at`, then the latest row. `table` qualifies the columns (`"l."`), or is empty.
    static func precedenceOrder(_ table: String = "") -> String {
        "CASE \(table)source \(sourceRank) ELSE -1 END DESC, \(table)labeled_at DESC, \(table)id DESC"
    }

    private static let sourceRank = LabelSource.allCases.map { "WHEN '\($0.rawValue)' THEN \($0.rank)" }
        .joined(separator: " ")

    /// One row per labelled transaction: `transaction_id`, `label` (the effective one), `labeled_at`, `source`.
    static let effectiveLabelsSQL = effectiveLabelsSQL(where: nil)

    /// As `effectiveLabelsSQL`, over the labels that match `condition` (SQL on the `labels` table, its `?`
    /// arguments bound by the caller), so a caller that needs a few transactions does not rank every label.
    static func effectiveLabelsSQL(where condition: String?) -> String {
        """
        SELECT transaction_id, label, labeled_at, source FROM (
            SELECT transaction_id, label, labeled_at, source, ROW_NUMBER() OVER (
                PARTITION BY transaction_id ORDER BY \(precedenceOrder())) AS position
            FROM labels\(condition.map { " WHERE " + $0 } ?? ""))
        WHERE position = 1
        """
    }
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
