import VigilCore

/// The fixed world the simulator draws from: countries and merchant categories with their habits.
enum Catalog {
    struct Country: Sendable {
        var code: String
        var currency: String
        /// Hours ahead of UTC (winter time; good enough for day and night).
        var utcOffset: Int
        /// Share of the simulated card holders who live there (0: merchants and travel only).
        var residents: Double
        /// First octets of the (made-up) IPv4 addresses of its internet users.
        var ipPrefixes: [Int]
    }

    /// Card holders' home countries, travel destinations and where foreign web shops sit. Amounts are not converted:
    /// every currency here is worth roughly a euro, so an amount reads the same everywhere.
    static let countries: [Country] = [
        Country(code: "DE", currency: "EUR", utcOffset: 1, residents: 0.20, ipPrefixes: [84, 87, 91, 93]),
        Country(code: "FR", currency: "EUR", utcOffset: 1, residents: 0.14, ipPrefixes: [82, 86, 90, 92]),
        Country(code: "GB", currency: "GBP", utcOffset: 0, residents: 0.13, ipPrefixes: [81, 86, 92, 109]),
        Country(code: "US", currency: "USD", utcOffset: -5, residents: 0.16, ipPrefixes: [23, 50, 66, 73, 98]),
        Country(code: "ES", currency: "EUR", utcOffset: 1, residents: 0.08, ipPrefixes: [80, 83, 88]),
        Country(code: "IT", currency: "EUR", utcOffset: 1, residents: 0.08, ipPrefixes: [79, 87, 151]),
        Country(code: "NL", currency: "EUR", utcOffset: 1, residents: 0.06, ipPrefixes: [77, 82, 145]),
        Country(code: "BE", currency: "EUR", utcOffset: 1, residents: 0.04, ipPrefixes: [81, 91, 109]),
        Country(code: "AT", currency: "EUR", utcOffset: 1, residents: 0.03, ipPrefixes: [62, 80, 91]),
        Country(code: "IE", currency: "EUR", utcOffset: 0, residents: 0.04, ipPrefixes: [78, 86, 89]),
        Country(code: "PT", currency: "EUR", utcOffset: 0, residents: 0.04, ipPrefixes: [85, 89, 94]),
        Country(code: "GR", currency: "EUR", utcOffset: 2, residents: 0, ipPrefixes: [79, 94]),
        Country(code: "HR", currency: "EUR", utcOffset: 1, residents: 0, ipPrefixes: [78, 93]),
        Country(code: "LU", currency: "EUR", utcOffset: 1, residents: 0, ipPrefixes: [80, 94]),
        Country(code: "MT", currency: "EUR", utcOffset: 1, residents: 0, ipPrefixes: [77, 193]),
        Country(code: "CY", currency: "EUR", utcOffset: 2, residents: 0, ipPrefixes: [31, 62]),
    ]

    static let residentCountries = countries.filter { $0.residents > 0 }
    /// Where card holders go on holiday (card-present payments abroad that are not fraud).
    static let travelDestinations = ["ES", "IT", "FR", "GR", "PT", "HR", "GB", "US", "DE", "NL"]
    /// Where the foreign web shops of legitimate cross-border shopping are.
    static let webShopCountries = ["US", "IE", "LU", "NL", "GB", "DE", "MT", "CY"]
    /// Where fraudsters' connections come from in the scenarios (IP country only; no merchants there).
    static let fraudIPCountries: [(code: String, prefixes: [Int])] = [
        ("RO", [5, 86, 188]), ("BR", [177, 179, 187]), ("VN", [14, 113, 171]), ("ID", [36, 114, 180]),
        ("NG", [41, 102, 105]), ("UA", [46, 91, 176]), ("TR", [78, 85, 88]), ("PH", [112, 120, 180]),
        ("MX", [187, 189, 201]), ("IN", [49, 103, 117]),
    ]

    static func country(_ code: String) -> Country {
        countries.first { $0.code == code } ?? countries[0]
    }

    static func ipAddress(prefixes: [Int], _ random: inout SeededRandom) -> String {
        "\(random.pick(prefixes)).\(random.int(0...255)).\(random.int(0...255)).\(random.int(1...254))"
    }

    struct Category: Sendable {
        var mcc: String
        var name: String
        /// Median amount of one payment, before the card holder's own spending level.
        var median: Double
        /// σ of the logarithm of the amount.
        var sigma: Double
        var channels: [(Channel, Double)]
        /// Share of everyday payments.
        var popularity: Double
    }

    /// Merchant categories (ISO 18245 codes) with their typical amounts and how cards are presented there.
    static let categories: [Category] = [
        Category(
            mcc: "5411", name: "grocery", median: 38, sigma: 0.6,
            channels: [(.contactless, 0.6), (.pos, 0.35), (.ecommerce, 0.05)], popularity: 0.22),
        Category(
            mcc: "5812", name: "restaurant", median: 32, sigma: 0.5,
            channels: [(.contactless, 0.6), (.pos, 0.4)], popularity: 0.10),
        Category(
            mcc: "5814", name: "fast food", median: 11, sigma: 0.4,
            channels: [(.contactless, 0.85), (.pos, 0.15)], popularity: 0.10),
        Category(
            mcc: "5541", name: "fuel", median: 55, sigma: 0.35,
            channels: [(.pos, 0.5), (.contactless, 0.5)], popularity: 0.07),
        Category(
            mcc: "5912", name: "pharmacy", median: 19, sigma: 0.6,
            channels: [(.contactless, 0.7), (.pos, 0.3)], popularity: 0.05),
        Category(
            mcc: "5311", name: "department store", median: 65, sigma: 0.7,
            channels: [(.pos, 0.4), (.contactless, 0.3), (.ecommerce, 0.3)], popularity: 0.06),
        Category(
            mcc: "5651", name: "clothing", median: 58, sigma: 0.6,
            channels: [(.ecommerce, 0.5), (.pos, 0.3), (.contactless, 0.2)], popularity: 0.07),
        Category(
            mcc: "5732", name: "electronics", median: 160, sigma: 0.9,
            channels: [(.ecommerce, 0.7), (.pos, 0.3)], popularity: 0.04),
        Category(
            mcc: "5999", name: "retail", median: 35, sigma: 0.8,
            channels: [(.ecommerce, 0.6), (.pos, 0.2), (.contactless, 0.2)], popularity: 0.07),
        Category(
            mcc: "5815", name: "digital goods", median: 9, sigma: 0.7, channels: [(.ecommerce, 1)], popularity: 0.06),
        Category(mcc: "4121", name: "rides", median: 17, sigma: 0.5, channels: [(.ecommerce, 1)], popularity: 0.05),
        Category(mcc: "4511", name: "airline", median: 280, sigma: 0.6, channels: [(.ecommerce, 1)], popularity: 0.015),
        Category(
            mcc: "7011", name: "hotel", median: 190, sigma: 0.6, channels: [(.ecommerce, 0.6), (.pos, 0.4)],
            popularity: 0.015),
        Category(mcc: "6011", name: "cash machine", median: 100, sigma: 0.5, channels: [(.atm, 1)], popularity: 0.04),
        Category(mcc: "7995", name: "betting", median: 40, sigma: 0.9, channels: [(.ecommerce, 1)], popularity: 0.01),
        Category(
            mcc: "4829", name: "money transfer", median: 150, sigma: 0.8, channels: [(.ecommerce, 1)],
            popularity: 0.005),
        Category(
            mcc: "6051", name: "crypto and quasi-cash", median: 200, sigma: 0.9, channels: [(.ecommerce, 1)],
            popularity: 0.005),
        Category(
            mcc: "5944", name: "jewellery", median: 300, sigma: 0.8, channels: [(.pos, 0.7), (.ecommerce, 0.3)],
            popularity: 0.005),
    ]

    static func category(_ mcc: String) -> Category {
        categories.first { $0.mcc == mcc } ?? categories[0]
    }

    /// How likely a payment is in each local hour, for a daytime person (peaks at lunch and early evening).
    static let dayCurve: [Double] = [
        0.25, 0.12, 0.06, 0.04, 0.04, 0.08, 0.3, 0.8, 1.4, 1.7, 1.9, 2.1, 2.7, 2.4, 2.0, 2.0, 2.2, 2.6, 2.8, 2.4, 1.9,
        1.4, 0.9, 0.5,
    ]

    /// Relative traffic by day of the week, Monday first.
    static let weekdayWeights: [Double] = [0.95, 0.95, 1.0, 1.0, 1.1, 1.15, 0.85]

    static let firstNames = [
        "anna", "ben", "clara", "david", "elena", "felix", "greta", "hugo", "ines", "jonas", "karla", "leon", "maria",
        "noah", "olivia", "paul", "rosa", "sam", "tara", "victor", "wiebke", "yusuf", "zoe", "marc", "lucia", "tom",
    ]
    static let lastNames = [
        "schmidt", "martin", "smith", "garcia", "rossi", "jansen", "peeters", "huber", "murphy", "silva", "mueller",
        "bernard", "jones", "lopez", "bianchi", "devries", "maes", "gruber", "kelly", "santos", "brown", "moreau",
    ]
    /// Reserved example domains (RFC 2606), so no real mailbox is ever named.
    static let emailDomains = ["example.com", "example.org", "example.net", "mail.example", "post.example"]
}
