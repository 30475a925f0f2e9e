/// A history feature declared by name, such as `card_id_count_1h` or `merchant_id_fraud_rate_7d`.
///
/// Grammar: `ENTITY_AGGREGATE[_FIELD]_WINDOW`, where ENTITY is one of `card_id`, `customer_id`, `merchant_id`,
/// `device_id`, `email`, `ip_address` (or `attributes.NAME.AGGREGATE[_FIELD]_WINDOW` for an attribute); AGGREGATE is `count`, `sum`, `avg`, `max` (FIELD `amount`), `distinct`
/// (FIELD one of the entity fields or `merchant_country`, `ip_country`, `merchant_category`), `fraud_count` or
/// `fraud_rate` (confirmed-fraud labels by `labeled_at`); WINDOW is a whole number of minutes, hours or days
/// (`10m`, `1h`, `30d`). Also `amount_to_ENTITY_avg_amount_WINDOW` (the payment's amount over the entity's average
/// in the window) and `ENTITY_first_seen_seconds` / `ENTITY_last_seen_seconds` (time since).
///
/// Every value is evaluated at the payment's `occurred_at` over `[occurred_at − window, occurred_at]` and excludes
/// the payment itself.
public struct VelocitySpec: Sendable, Hashable {
    /// Whose history: a transaction field, or an attribute the caller sends (`attributes.terminal_id`).
    public enum Entity: Sendable, Hashable {
        case cardID, customerID, merchantID, deviceID, email, ipAddress
        /// `attributes.NAME`: its string value, or its number written out; absent, null or boolean means no key.
        case attribute(String)

        /// The entities that are transaction fields.
        public static let fields: [Entity] = [.cardID, .customerID, .merchantID, .deviceID, .email, .ipAddress]

        /// `card_id`, …, or `attributes.NAME`.
        public var rawValue: String {
            switch self {
            case .cardID: "card_id"
            case .customerID: "customer_id"
            case .merchantID: "merchant_id"
            case .deviceID: "device_id"
            case .email: "email"
            case .ipAddress: "ip_address"
            case .attribute(let name): "attributes.\(name)"
            }
        }

        public func key(of transaction: Transaction) -> String? {
            switch self {
            case .cardID: transaction.cardID
            case .customerID: transaction.customerID
            case .merchantID: transaction.merchantID
            case .deviceID: transaction.deviceID
            case .email: transaction.email?.lowercased()
            case .ipAddress: transaction.ipAddress
            case .attribute(let name):
                switch transaction.attribute(name) {
                case .string(let text)?: text
                case .number(let number)?: String(number)
                default: nil
                }
            }
        }
    }

    /// A field whose distinct values can be counted.
    public enum KeyField: String, Sendable, CaseIterable {
        case cardID = "card_id", customerID = "customer_id", merchantID = "merchant_id", deviceID = "device_id"
        case email, ipAddress = "ip_address", merchantCountry = "merchant_country", ipCountry = "ip_country"
        case merchantCategory = "merchant_category"

        public func value(of transaction: Transaction) -> String? {
            switch self {
            case .cardID: transaction.cardID
            case .customerID: transaction.customerID
            case .merchantID: transaction.merchantID
            case .deviceID: transaction.deviceID
            case .email: transaction.email?.lowercased()
            case .ipAddress: transaction.ipAddress
            case .merchantCountry: transaction.merchantCountry
            case .ipCountry: transaction.ipCountry
            case .merchantCategory: transaction.merchantCategory
            }
        }
    }

    public enum Aggregate: Sendable, Hashable {
        case count, sumAmount, avgAmount, maxAmount
        case distinct(KeyField)
        /// The payment's amount over the entity's average amount in the window.
        case amountToAverage
        case firstSeenSeconds, lastSeenSeconds
        case fraudCount, fraudRate
    }

    public let name: String
    public let entity: Entity
    public let aggregate: Aggregate
    /// Window length in microseconds; 0 for first/last seen (all retained history).
    public let windowMicros: Int64

    /// Parses a declared name; nil when it is not a history feature.
    public init?(name: String) {
        var rest = Substring(name)
        var ratio = false
        if rest.hasPrefix("amount_to_") {
            ratio = true
            rest = rest.dropFirst("amount_to_".count)
        }
        let entity: Entity
        if rest.hasPrefix("attributes.") {
            // attributes.NAME.REST: the attribute's name ends at the next dot.
            let afterPrefix = rest.dropFirst("attributes.".count)
            guard let dot = afterPrefix.firstIndex(of: "."), dot > afterPrefix.startIndex else { return nil }
            let attribute = afterPrefix[..<dot]
            guard attribute.utf8.count <= 64,
                attribute.utf8.allSatisfy({
                    $0 == 95 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0)
                })
            else { return nil }
            entity = .attribute(String(attribute))
            rest = afterPrefix[afterPrefix.index(after: dot)...]
        } else {
            guard let field = Entity.fields.first(where: { rest.hasPrefix($0.rawValue + "_") }) else { return nil }
            entity = field
            rest = rest.dropFirst(field.rawValue.count + 1)
        }
        if !ratio, rest == "first_seen_seconds" || rest == "last_seen_seconds" {
            self.name = name
            self.entity = entity
            self.aggregate = rest == "first_seen_seconds" ? .firstSeenSeconds : .lastSeenSeconds
            self.windowMicros = 0
            return
        }
        guard let separator = rest.lastIndex(of: "_"),
            let window = Self.window(rest[rest.index(after: separator)...])
        else { return nil }
        let body = rest[..<separator]
        let aggregate: Aggregate
        switch body {
        case "count" where !ratio: aggregate = .count
        case "sum_amount" where !ratio: aggregate = .sumAmount
        case "avg_amount": aggregate = ratio ? .amountToAverage : .avgAmount
        case "max_amount" where !ratio: aggregate = .maxAmount
        case "fraud_count" where !ratio: aggregate = .fraudCount
        case "fraud_rate" where !ratio: aggregate = .fraudRate
        default:
            guard !ratio, body.hasPrefix("distinct_"), let field = KeyField(rawValue: String(body.dropFirst(9))) else {
                return nil
            }
            aggregate = .distinct(field)
        }
        self.name = name
        self.entity = entity
        self.aggregate = aggregate
        self.windowMicros = window
    }

    /// `10m`, `1h`, `30d` in microseconds (1 minute to 400 days).
    static func window(_ text: Substring) -> Int64? {
        guard let unit = text.last, let number = Int64(text.dropLast()), number > 0 else { return nil }
        let micros: Int64
        switch unit {
        case "m": micros = number * 60_000_000
        case "h": micros = number * 3_600_000_000
        case "d": micros = number * 86_400_000_000
        default: return nil
        }
        guard (60_000_000...400 * 86_400_000_000).contains(micros) else { return nil }
        return micros
    }
}
