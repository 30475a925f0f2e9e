extension Transaction {
    /// Writes the canonical JSON of this transaction, so equal transactions store and compare as equal bytes.
    ///
    /// Fields come in contract order (`transaction_id`, `occurred_at`, `amount`, `currency`, then the optional ones
    /// that are present, `channel`, `attributes` sorted by name); absent optional fields are omitted, and
    /// `attributes` only appears when there is at least one. `TransactionDecoder` reads it back to an equal value.
    public func encodeJSON(into writer: inout JSONWriter) {
        writer.objectStart()
        writer.key("transaction_id")
        writer.string(transactionID)
        writer.key("occurred_at")
        writer.string(occurredAt)
        writer.key("amount")
        writer.number(amount)
        writer.key("currency")
        writer.string(currency)
        Self.member("card_id", cardID, into: &writer)
        Self.member("customer_id", customerID, into: &writer)
        Self.member("merchant_id", merchantID, into: &writer)
        Self.member("device_id", deviceID, into: &writer)
        Self.member("email", email, into: &writer)
        Self.member("ip_address", ipAddress, into: &writer)
        Self.member("merchant_category", merchantCategory, into: &writer)
        Self.member("merchant_country", merchantCountry, into: &writer)
        Self.member("card_country", cardCountry, into: &writer)
        Self.member("ip_country", ipCountry, into: &writer)
        Self.member("channel", channel?.rawValue, into: &writer)
        if !attributes.isEmpty {
            writer.key("attributes")
            writer.objectStart()
            let isSorted = zip(attributes, attributes.dropFirst()).allSatisfy { $0.name <= $1.name }
            for attribute in isSorted ? attributes : attributes.sorted(by: { $0.name < $1.name }) {
                writer.key(attribute.name)
                switch attribute.value {
                case .number(let value): writer.number(value)
                case .string(let value): writer.string(value)
                case .bool(let value): writer.bool(value)
                case .null: writer.null()
                }
            }
            writer.objectEnd()
        }
        writer.objectEnd()
    }

    /// The canonical JSON of this transaction: what is stored and compared for idempotent replays.
    public func canonicalJSON() -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 512)
        encodeJSON(into: &writer)
        return writer.bytes
    }

    private static func member(_ name: String, _ value: String?, into writer: inout JSONWriter) {
        guard let value else { return }
        writer.key(name)
        writer.string(value)
    }
}
