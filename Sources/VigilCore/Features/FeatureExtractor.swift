import RealModule

/// Computes the configured features of a transaction into a vector, in a fixed order.
///
/// Built once from the config's feature names; `extract` is pure and allocation-light because it
/// runs on every scored payment.
public struct FeatureExtractor: Sendable {
    public let kinds: [FeatureKind]
    public let names: [String]
    public let highRiskMerchantCategories: Set<String>
    /// The history features, in the order their values are passed to `extract(_:history:)`.
    public let velocitySpecs: [VelocitySpec]
    private let indexByName: [String: Int]

    /// Fails with every unknown name listed, so a typo in config is caught at start.
    public init(names: [String], highRiskMerchantCategories: Set<String> = []) throws(FeatureError) {
        var kinds: [FeatureKind] = []
        var unknown: [String] = []
        var seen: Set<String> = []
        for name in names {
            guard seen.insert(name).inserted else { throw .duplicate(name) }
            if let kind = FeatureKind(name: name) { kinds.append(kind) } else { unknown.append(name) }
        }
        guard unknown.isEmpty else { throw .unknown(unknown) }
        self.kinds = kinds
        self.names = kinds.map(\.name)
        self.highRiskMerchantCategories = highRiskMerchantCategories
        self.velocitySpecs = kinds.compactMap { if case .velocity(let spec) = $0 { spec } else { nil } }
        var index: [String: Int] = [:]
        for (position, name) in self.names.enumerated() { index[name] = position }
        self.indexByName = index
    }

    /// The position of a feature in the vector, or nil when it is not configured.
    public func index(of name: String) -> Int? { indexByName[name] }

    /// The feature vector of a transaction; `Double.nan` marks a missing value. `history` holds the values of
    /// `velocitySpecs`, in their order (computed by the service from the entities' history); missing ones are NaN.
    public func extract(_ transaction: Transaction, history: [Double] = []) -> [Double] {
        let clock = UTCClockFields(micros: transaction.occurredAtMicros)
        var next = 0
        return kinds.map { kind in
            if case .velocity = kind {
                defer { next += 1 }
                return next < history.count ? history[next] : .nan
            }
            return value(of: kind, transaction, clock)
        }
    }

    private func value(of kind: FeatureKind, _ tx: Transaction, _ clock: UTCClockFields) -> Double {
        switch kind {
        case .velocity: return .nan
        case .amount: return tx.amount
        case .logAmount: return .log(onePlus: tx.amount)
        case .hourOfDay: return Double(clock.hour)
        case .dayOfWeek: return Double(clock.weekday)
        case .isWeekend: return clock.weekday >= 5 ? 1 : 0
        case .isNight: return clock.hour < 6 ? 1 : 0
        case .cardMerchantCountryMismatch: return Self.mismatch(tx.cardCountry, tx.merchantCountry)
        case .ipCardCountryMismatch: return Self.mismatch(tx.ipCountry, tx.cardCountry)
        case .channelIs(let channel):
            guard let sent = tx.channel else { return .nan }
            return sent == channel ? 1 : 0
        case .highRiskMerchantCategory:
            guard let mcc = tx.merchantCategory else { return .nan }
            return highRiskMerchantCategories.contains(mcc) ? 1 : 0
        case .has(let field): return Self.isPresent(field, in: tx) ? 1 : 0
        case .attribute(let name):
            switch tx.attribute(name) {
            case .number(let number): return number
            case .bool(let flag): return flag ? 1 : 0
            case .string, .null, nil: return .nan
            }
        }
    }

    private static func mismatch(_ lhs: String?, _ rhs: String?) -> Double {
        guard let lhs, let rhs else { return .nan }
        return lhs == rhs ? 0 : 1
    }

    private static func isPresent(_ field: FeatureKind.OptionalField, in tx: Transaction) -> Bool {
        switch field {
        case .cardID: tx.cardID != nil
        case .customerID: tx.customerID != nil
        case .merchantID: tx.merchantID != nil
        case .deviceID: tx.deviceID != nil
        case .email: tx.email != nil
        case .ipAddress: tx.ipAddress != nil
        }
    }
}

/// Why a feature list was refused.
public enum FeatureError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknown([String])
    case duplicate(String)

    public var description: String {
        switch self {
        case .unknown(let names):
            "unknown feature names: \(names.joined(separator: ", ")) (known: \(FeatureKind.builtInNames.joined(separator: ", ")), attributes.NAME, and history features such as card_id_count_1h; see docs/velocity.md)"
        case .duplicate(let name): "feature \(name) is listed twice"
        }
    }
}

/// Hour and weekday of an instant in UTC, from microseconds since the epoch.
struct UTCClockFields {
    let hour: Int
    /// 0 = Monday … 6 = Sunday.
    let weekday: Int

    init(micros: Int64) {
        let (days, microsOfDay) = RFC3339.splitDays(micros: micros)
        hour = Int(microsOfDay / 3_600_000_000)
        // 1970-01-01 was a Thursday (weekday 3 when Monday is 0).
        let weekday = (days + 3) % 7
        self.weekday = Int(weekday < 0 ? weekday + 7 : weekday)
    }
}
