/// A payment as the payment service describes it when it asks for a score.
///
/// Field names follow the wire contract in `openapi.yaml`; `occurredAt` is kept both as the
/// caller's text (echoed back unchanged) and as microseconds since the Unix epoch (UTC) for features.
public struct Transaction: Sendable, Equatable {
    public var transactionID: String
    public var occurredAt: String
    public var occurredAtMicros: Int64
    public var amount: Double
    public var currency: String
    public var cardID: String?
    public var customerID: String?
    public var merchantID: String?
    public var deviceID: String?
    public var email: String?
    public var ipAddress: String?
    public var merchantCategory: String?
    public var merchantCountry: String?
    public var cardCountry: String?
    public var ipCountry: String?
    public var channel: Channel?
    /// Caller-supplied extra fields, sorted by key so that equal transactions encode equally.
    public var attributes: [Attribute]

    public init(
        transactionID: String, occurredAt: String, occurredAtMicros: Int64, amount: Double, currency: String,
        cardID: String? = nil, customerID: String? = nil, merchantID: String? = nil, deviceID: String? = nil,
        email: String? = nil, ipAddress: String? = nil, merchantCategory: String? = nil,
        merchantCountry: String? = nil, cardCountry: String? = nil, ipCountry: String? = nil,
        channel: Channel? = nil, attributes: [Attribute] = []
    ) {
        self.transactionID = transactionID
        self.occurredAt = occurredAt
        self.occurredAtMicros = occurredAtMicros
        self.amount = amount
        self.currency = currency
        self.cardID = cardID
        self.customerID = customerID
        self.merchantID = merchantID
        self.deviceID = deviceID
        self.email = email
        self.ipAddress = ipAddress
        self.merchantCategory = merchantCategory
        self.merchantCountry = merchantCountry
        self.cardCountry = cardCountry
        self.ipCountry = ipCountry
        self.channel = channel
        self.attributes = attributes.sorted { $0.name < $1.name }
    }

    /// The value of `attributes.NAME`, or nil when the caller did not send it.
    public func attribute(_ name: String) -> AttributeValue? {
        attributes.first { $0.name == name }?.value
    }
}

/// How the card was presented.
public enum Channel: String, Sendable, CaseIterable {
    case pos, ecommerce, contactless, atm, other
}

/// One entry of a transaction's `attributes` object.
public struct Attribute: Sendable, Equatable {
    public var name: String
    public var value: AttributeValue

    public init(name: String, value: AttributeValue) {
        self.name = name
        self.value = value
    }
}

/// The value of an attribute: JSON number, string, boolean or null.
public enum AttributeValue: Sendable, Equatable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case null
}

/// One reason a request body was refused: the JSON path of the field (`$.amount`,
/// `$.attributes.foo`) and what is wrong with it.
public struct FieldError: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// Limits on what a transaction may carry; the defaults are the contract's.
public struct TransactionLimits: Sendable, Equatable {
    public var maxIDLength = 128
    public var maxStringLength = 256
    public var maxAttributes = 64
    public var maxAttributeNameLength = 64
    public var maxAttributeStringLength = 256
    /// Amounts above this are refused as implausible (major units).
    public var maxAmount = 1e12

    public init() {}
}
