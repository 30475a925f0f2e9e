/// Time-ordered random identifiers (`cs_` + 26 Crockford base32 characters, ULID layout).
public struct IdentifierGenerator: Sendable {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    public init() {}

    /// 48 bits of milliseconds then 80 random bits, so ids sort by creation time.
    public func make(prefix: String, nowMicros: Int64) -> String {
        var generator = SystemRandomNumberGenerator()
        let millis = UInt64(max(0, nowMicros / 1000)) & 0xFFFF_FFFF_FFFF
        let randomHigh = UInt64.random(in: 0...0xFFFF, using: &generator)
        let randomLow = UInt64.random(in: .min ... .max, using: &generator)
        // 128 bits: millis(48) | randomHigh(16) | randomLow(64), encoded 5 bits at a time from the top.
        let high = (millis << 16) | randomHigh
        var characters = [UInt8](repeating: 0, count: 26)
        for index in 0..<26 {
            let bitOffset = 128 - 5 * (index + 1)
            let value: UInt64
            if bitOffset >= 64 {
                value = (high >> UInt64(bitOffset - 64)) & 31
            } else if bitOffset >= 0 {
                let fromLow = randomLow >> UInt64(bitOffset)
                let fromHigh = high << UInt64(64 - bitOffset)
                value = (fromLow | fromHigh) & 31
            } else {
                value = (randomLow << UInt64(-bitOffset)) & 31
            }
            characters[index] = Self.alphabet[Int(value)]
        }
        return prefix + String(decoding: characters, as: UTF8.self)
    }
}
