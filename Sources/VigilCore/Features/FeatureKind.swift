/// A feature Vigil knows how to compute from a transaction, named as models and rules refer to it.
///
/// Missing values are represented as `Double.nan` in feature vectors and as JSON `null` on the wire.
public enum FeatureKind: Sendable, Hashable {
    /// `amount`, major units as sent.
    case amount
    /// `log_amount`: ln(1 + amount), which makes amounts comparable across orders of magnitude.
    case logAmount
    /// `hour_of_day`: 0–23 in UTC.
    case hourOfDay
    /// `day_of_week`: 0 (Monday) – 6 (Sunday) in UTC.
    case dayOfWeek
    /// `is_weekend`: 1 on Saturday and Sunday (UTC), else 0.
    case isWeekend
    /// `is_night`: 1 between 00:00 and 05:59 UTC, else 0.
    case isNight
    /// `card_merchant_country_mismatch`: 1 when both are known and differ, 0 when equal, missing otherwise.
    case cardMerchantCountryMismatch
    /// `ip_card_country_mismatch`: 1 when both are known and differ, 0 when equal, missing otherwise.
    case ipCardCountryMismatch
    /// `channel_NAME`: 1 when the channel is NAME, 0 when it is another, missing when not sent.
    case channelIs(Channel)
    /// `mcc_high_risk`: 1 when the merchant category is in the configured high-risk list.
    case highRiskMerchantCategory
    /// `has_email`, `has_device_id`, …: 1 when the optional field was sent, else 0.
    case has(OptionalField)
    /// `attributes.NAME`: numbers as they are, booleans as 1/0; strings and null are missing.
    case attribute(String)
    /// A history feature (`card_id_count_1h`, …): computed from the entity's earlier payments and labels, not
    /// from the payment alone (see `VelocitySpec`).
    case velocity(VelocitySpec)

    /// Optional transaction fields whose presence can be a feature.
    public enum OptionalField: String, Sendable, CaseIterable {
        case cardID = "card_id", customerID = "customer_id", merchantID = "merchant_id", deviceID = "device_id"
        case email, ipAddress = "ip_address"
    }

    /// Parses a feature name as written in config and model files.
    public init?(name: String) {
        switch name {
        case "amount": self = .amount
        case "log_amount": self = .logAmount
        case "hour_of_day": self = .hourOfDay
        case "day_of_week": self = .dayOfWeek
        case "is_weekend": self = .isWeekend
        case "is_night": self = .isNight
        case "card_merchant_country_mismatch": self = .cardMerchantCountryMismatch
        case "ip_card_country_mismatch": self = .ipCardCountryMismatch
        case "mcc_high_risk": self = .highRiskMerchantCategory
        default:
            if name.hasPrefix("channel_"), let channel = Channel(rawValue: String(name.dropFirst(8))) {
                self = .channelIs(channel)
            } else if name.hasPrefix("has_"), let field = OptionalField(rawValue: String(name.dropFirst(4))) {
                self = .has(field)
            } else if name.hasPrefix("attributes."), name.dropFirst(11).contains("."),
                let spec = VelocitySpec(name: name)
            {
                self = .velocity(spec)
            } else if name.hasPrefix("attributes.") {
                let attribute = String(name.dropFirst(11))
                guard !attribute.isEmpty, attribute.utf8.count <= 64,
                    attribute.utf8.allSatisfy({
                        $0 == 95 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0)
                    })
                else { return nil }
                self = .attribute(attribute)
            } else if let spec = VelocitySpec(name: name) {
                self = .velocity(spec)
            } else {
                return nil
            }
        }
    }

    /// The name models, rules and the API use for this feature.
    public var name: String {
        switch self {
        case .amount: "amount"
        case .logAmount: "log_amount"
        case .hourOfDay: "hour_of_day"
        case .dayOfWeek: "day_of_week"
        case .isWeekend: "is_weekend"
        case .isNight: "is_night"
        case .cardMerchantCountryMismatch: "card_merchant_country_mismatch"
        case .ipCardCountryMismatch: "ip_card_country_mismatch"
        case .channelIs(let channel): "channel_\(channel.rawValue)"
        case .highRiskMerchantCategory: "mcc_high_risk"
        case .has(let field): "has_\(field.rawValue)"
        case .attribute(let name): "attributes.\(name)"
        case .velocity(let spec): spec.name
        }
    }

    /// Every built-in name (attributes excluded), for error messages and documentation.
    public static let builtInNames: [String] =
        [
            "amount", "log_amount", "hour_of_day", "day_of_week", "is_weekend", "is_night",
            "card_merchant_country_mismatch", "ip_card_country_mismatch", "mcc_high_risk",
        ]
        + Channel.allCases.map { "channel_\($0.rawValue)" }
        + OptionalField.allCases.map { "has_\($0.rawValue)" }
}
