/// Picks the largest contributions of an explanation and says each in one readable sentence.
public struct ReasonWriter: Sendable {
    /// How many reasons a score answer carries at most.
    public let count: Int

    public init(count: Int = 3) {
        self.count = max(0, count)
    }

    /// The top contributions by absolute size; features that contributed exactly zero are left out.
    public func reasons(
        for explanation: Explanation, featureNames: [String], inputs: [Double], transaction: Transaction
    ) -> [Reason] {
        let ranked = explanation.contributions.indices
            .filter { explanation.contributions[$0] != 0 }
            .sorted {
                let lhs = abs(explanation.contributions[$0])
                let rhs = abs(explanation.contributions[$1])
                return lhs != rhs ? lhs > rhs : featureNames[$0] < featureNames[$1]
            }
            .prefix(count)
        return ranked.map { index in
            let value = inputs[index]
            let contribution = explanation.contributions[index]
            return Reason(
                feature: featureNames[index], value: value.isNaN ? nil : value, contribution: contribution,
                sentence: Self.sentence(
                    feature: featureNames[index], value: value, contribution: contribution, transaction: transaction))
        }
    }

    /// A sentence stating the value and the direction of its effect.
    static func sentence(feature: String, value: Double, contribution: Double, transaction tx: Transaction) -> String {
        let effect = contribution > 0 ? "raises the risk" : "lowers the risk"
        let effectClause = "\(effect) (\(Self.signed(contribution)) log-odds)"
        if value.isNaN { return "\(feature) is unknown for this payment; \(effectClause)" }
        let flag = value != 0
        switch FeatureKind(name: feature) {
        case .amount, .logAmount:
            return "amount \(Self.money(tx.amount)) \(tx.currency) \(effectClause)"
        case .hourOfDay, .isNight:
            let hour = UTCClockFields(micros: tx.occurredAtMicros).hour
            let hourText = hour < 10 ? "0\(hour):00" : "\(hour):00"
            return
                "made in the \(hourText) hour UTC\(feature == "is_night" ? (flag ? ", at night" : ", not at night") : ""); \(effectClause)"
        case .dayOfWeek, .isWeekend:
            let weekday = UTCClockFields(micros: tx.occurredAtMicros).weekday
            let names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
            return "made on a \(names[weekday]) (UTC); \(effectClause)"
        case .cardMerchantCountryMismatch:
            let card = tx.cardCountry ?? "?"
            let merchant = tx.merchantCountry ?? "?"
            return flag
                ? "card country \(card) differs from merchant country \(merchant); \(effectClause)"
                : "card and merchant are both in \(card); \(effectClause)"
        case .ipCardCountryMismatch:
            let ip = tx.ipCountry ?? "?"
            let card = tx.cardCountry ?? "?"
            return flag
                ? "IP address is in \(ip), card country is \(card); \(effectClause)"
                : "IP address and card are both in \(card); \(effectClause)"
        case .channelIs(let channel):
            return flag
                ? "channel is \(channel.rawValue); \(effectClause)"
                : "channel is \(tx.channel?.rawValue ?? "?"), not \(channel.rawValue); \(effectClause)"
        case .highRiskMerchantCategory:
            let mcc = tx.merchantCategory ?? "?"
            return flag
                ? "merchant category \(mcc) is on the high-risk list; \(effectClause)"
                : "merchant category \(mcc) is not on the high-risk list; \(effectClause)"
        case .has(let field):
            return "\(field.rawValue) was \(flag ? "sent" : "not sent"); \(effectClause)"
        case .attribute(let name):
            return "attribute \(name) is \(Self.plain(value)); \(effectClause)"
        case .velocity(let spec):
            return "\(Self.history(spec, value: value, transaction: tx)); \(effectClause)"
        case nil:
            return "\(feature) is \(Self.plain(value)); \(effectClause)"
        }
    }

    /// A history feature in words: "9 payments on this card in the last hour".
    static func history(_ spec: VelocitySpec, value: Double, transaction tx: Transaction) -> String {
        let entity =
            switch spec.entity {
            case .cardID: "card"
            case .customerID: "customer"
            case .merchantID: "merchant"
            case .deviceID: "device"
            case .email: "e-mail address"
            case .ipAddress: "IP address"
            case .attribute(let name): name.replacingUnderscores()
            }
        let window = windowText(spec.windowMicros)
        let count = Int64(value.rounded())
        switch spec.aggregate {
        case .count: return "\(count) payment\(count == 1 ? "" : "s") on this \(entity) in the last \(window)"
        case .sumAmount: return "\(money(value)) \(tx.currency) spent on this \(entity) in the last \(window)"
        case .avgAmount:
            return "this \(entity)'s average payment in the last \(window) is \(money(value)) \(tx.currency)"
        case .maxAmount:
            return "this \(entity)'s largest payment in the last \(window) is \(money(value)) \(tx.currency)"
        case .distinct(let field):
            return
                "\(count) different \(field.rawValue) value\(count == 1 ? "" : "s") on this \(entity) in the last \(window)"
        case .amountToAverage:
            return "amount is \((value * 100).rounded() / 100) × this \(entity)'s average over the last \(window)"
        case .firstSeenSeconds: return "this \(entity) was first seen \(durationText(value)) ago"
        case .lastSeenSeconds: return "this \(entity) was last seen \(durationText(value)) ago"
        case .fraudCount:
            return "\(count) confirmed fraud label\(count == 1 ? "" : "s") on this \(entity) in the last \(window)"
        case .fraudRate:
            return
                "\((value * 1000).rounded() / 10) % of this \(entity)'s payments in the last \(window) were confirmed fraud"
        }
    }

    static func windowText(_ micros: Int64) -> String {
        let minutes = micros / 60_000_000
        if minutes % 1440 == 0 { return minutes == 1440 ? "day" : "\(minutes / 1440) days" }
        if minutes % 60 == 0 { return minutes == 60 ? "hour" : "\(minutes / 60) hours" }
        return minutes == 1 ? "minute" : "\(minutes) minutes"
    }

    static func durationText(_ seconds: Double) -> String {
        if seconds < 120 { return "\(Int(seconds)) seconds" }
        if seconds < 7200 { return "\(Int(seconds / 60)) minutes" }
        if seconds < 172_800 { return "\(Int(seconds / 3600)) hours" }
        return "\(Int(seconds / 86400)) days"
    }

    /// `2,450.00`: two decimals and thousands separators, independent of locale.
    static func money(_ amount: Double) -> String {
        let cents = Int64((amount * 100).rounded())
        let whole = String(cents / 100)
        var grouped = ""
        for (offset, character) in whole.enumerated() {
            if offset > 0, (whole.count - offset) % 3 == 0 { grouped.append(",") }
            grouped.append(character)
        }
        let fraction = cents % 100
        return "\(grouped).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// A number without a trailing `.0` when it is whole.
    static func plain(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    /// `+1.23` / `-0.40`.
    static func signed(_ value: Double) -> String {
        let hundredths = Int64((abs(value) * 100).rounded())
        let fraction = hundredths % 100
        return "\(value < 0 ? "-" : "+")\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

extension String {
    /// `terminal_id` → `terminal id`, for sentences.
    func replacingUnderscores() -> String {
        String(map { $0 == "_" ? " " : $0 })
    }
}
