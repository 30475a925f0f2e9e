/// What the service needs from storage for decisions and cases; SQLite now, PostgreSQL later.
public protocol DecisionStore: Sendable {
    /// Commits a scored payment (durably, before returning) or returns the one already stored.
    func record(_ record: ScoreRecord) async throws -> RecordOutcome
    func transaction(id: String) async throws -> StoredTransaction?
    func cases(_ query: CaseQuery) async throws -> CasePage
    func caseByID(_ caseID: String) async throws -> StoredCase?
    /// Whether writes are going through; false after a failed commit until one succeeds.
    var isWritable: Bool { get }
    /// Whether the store answers reads.
    func isReadable() async -> Bool
    /// Whether a write could start now (probed without writing anything).
    func canBeginWrite() async -> Bool
    /// Commits a one-row write to learn whether writes go through again (after a full disk, say); when it
    /// does, `isWritable` is true again.
    func probeWrite() async -> Bool
}

/// A stored decision as the read side serves it.
public struct StoredTransaction: Sendable, Equatable {
    public var transactionID: String
    /// Canonical transaction JSON.
    public var body: String
    /// Feature values JSON.
    public var features: String
    /// The score answer JSON as it was served.
    public var answer: String
    public var caseID: String?
    /// The model version that decided, and the hash of its file (nil for decisions made before the registry).
    public var modelName: String
    public var modelVersion: String
    public var modelSHA256: String?
    public var decision: String
    /// The rules that matched, with their contributions (JSON array), when any did.
    public var rules: String?

    public init(
        transactionID: String, body: String, features: String, answer: String, caseID: String?, modelName: String,
        modelVersion: String, modelSHA256: String?, decision: String, rules: String? = nil
    ) {
        self.rules = rules
        self.transactionID = transactionID
        self.body = body
        self.features = features
        self.answer = answer
        self.caseID = caseID
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.modelSHA256 = modelSHA256
        self.decision = decision
    }
}

/// A review case.
public struct StoredCase: Sendable, Equatable {
    public var caseID: String
    public var transactionID: String
    public var status: CaseStatus
    public var reason: String
    public var score: Double
    public var riskScore: Int
    public var amount: Double
    public var currency: String
    public var createdAtMicros: Int64
    public var closedAtMicros: Int64?
    public var priority: Double
    public var source: CaseSource
    public var ruleID: String?
    /// Who holds the case, while the lease runs.
    public var assignee: String?
    public var leaseExpiresAtMicros: Int64?
    /// The label that closed it.
    public var verdict: String?

    public init(
        caseID: String, transactionID: String, status: CaseStatus, reason: String, score: Double, riskScore: Int,
        amount: Double, currency: String, createdAtMicros: Int64, closedAtMicros: Int64?, priority: Double = 0,
        source: CaseSource = .model, ruleID: String? = nil, assignee: String? = nil,
        leaseExpiresAtMicros: Int64? = nil, verdict: String? = nil
    ) {
        self.priority = priority
        self.source = source
        self.ruleID = ruleID
        self.assignee = assignee
        self.leaseExpiresAtMicros = leaseExpiresAtMicros
        self.verdict = verdict
        self.caseID = caseID
        self.transactionID = transactionID
        self.status = status
        self.reason = reason
        self.score = score
        self.riskScore = riskScore
        self.amount = amount
        self.currency = currency
        self.createdAtMicros = createdAtMicros
        self.closedAtMicros = closedAtMicros
    }
}

public enum CaseStatus: String, Sendable, CaseIterable {
    case open, closed
}

/// Which cases to list, in which order, from where.
public struct CaseQuery: Sendable, Equatable {
    public enum StatusFilter: String, Sendable, CaseIterable {
        case open, closed, all
    }

    public enum Order: String, Sendable, CaseIterable {
        /// Highest priority first (the order `GET /v1/cases/next` claims in), oldest first among equals.
        case priority
        /// Most recently opened first.
        case newest
        /// Highest score first.
        case risk
    }

    public var status: StatusFilter
    public var order: Order
    public var limit: Int
    public var after: CaseCursor?
    /// Held by this reviewer (a live lease); `""` for cases nobody holds.
    public var assignee: String?
    public var source: CaseSource?
    public var ruleID: String?
    public var minimumAmount: Double?
    public var createdFromMicros: Int64?
    public var createdBeforeMicros: Int64?
    /// The time leases are judged at (a lease that ran out holds nothing).
    public var nowMicros: Int64

    public init(
        status: StatusFilter = .open, order: Order = .priority, limit: Int = 50, after: CaseCursor? = nil,
        nowMicros: Int64 = 0
    ) {
        self.status = status
        self.order = order
        self.limit = limit
        self.after = after
        self.nowMicros = nowMicros
    }
}

/// One page of cases and where the next one starts.
public struct CasePage: Sendable, Equatable {
    public var items: [StoredCase]
    public var next: CaseCursor?

    public init(items: [StoredCase], next: CaseCursor?) {
        self.items = items
        self.next = next
    }
}
