import VigilCore

/// A merchant: one category, one country, one currency.
struct SimMerchant: Sendable {
    var id: String
    var mcc: String
    var country: String
    var currency: String
}

struct SimCard: Sendable {
    var id: String
    /// Where the card was issued.
    var country: String
    var ageDays: Int
}

/// A holiday: card-present payments in another country for a few days, which are not fraud.
struct SimTrip: Sendable {
    var firstDay: Int
    var lastDay: Int
    var country: String
}

/// A card holder with their own habits.
struct SimCustomer: Sendable {
    var id: String
    var home: String
    var cards: [SimCard]
    var email: String
    /// Days since the e-mail address last changed, at the start of the stream; nil: never changed.
    var emailChangedDaysAgo: Int?
    var devices: [String]
    var deviceAgeDays: Int
    var homeIP: String
    /// The median amount of this person's everyday payments (a grocery basket); their other purchases scale with it.
    var typicalAmount: Double
    /// Relative number of payments per day.
    var activity: Double
    /// Hours their day is shifted from the usual one (night owls +3, early birds −2).
    var hourShift: Int
    /// 0 (cash-and-chip) … 1 (everything online or contactless).
    var digitalAffinity: Double
    /// Indexes into `Catalog.categories`, with this person's weights.
    var categories: [(index: Int, weight: Double)]
    /// Their regular shops by category code (indexes into the population's merchants).
    var favourites: [String: [Int]]
    var accountAgeDays: Int
    var trip: SimTrip?

    /// The category weights as a ready-made table.
    var categoryWeights: [Double] { categories.map(\.weight) }
}

/// Everyone in the simulated world: card holders and merchants, drawn once from the seed.
struct Population: Sendable {
    var customers: [SimCustomer]
    var merchants: [SimMerchant]
    /// Merchant indexes by `country|mcc`.
    var merchantsAt: [String: [Int]]
    var customerIndex: [String: Int]
    let activityTable: WeightedTable

    /// The "everyday" basket that `typicalAmount` is measured against (the grocery median).
    static let baseAmount = 38.0

    static func customerCount(payments: Int) -> Int {
        min(100_000, max(50, payments / 20))
    }

    init(seed: UInt64, payments: Int, days: Int) {
        var random = SeededRandom(seed: seed, stream: 1)
        let tag = "s\(seed)"
        // Merchants: every category in every country where card holders live, card-present shops where they
        // travel, web shops abroad, then more in proportion to how popular each category is.
        var merchants: [SimMerchant] = []
        func addMerchant(_ country: String, _ mcc: String) {
            merchants.append(
                SimMerchant(
                    id: "mer_\(tag)_\(merchants.count + 1)", mcc: mcc, country: country,
                    currency: Catalog.country(country).currency))
        }
        let cardPresent: Set<String> = ["5411", "5812", "5814", "5541", "5912", "5311", "7011", "6011", "5944"]
        for country in Catalog.residentCountries {
            for category in Catalog.categories { addMerchant(country.code, category.mcc) }
        }
        for code in Catalog.travelDestinations where Catalog.country(code).residents == 0 {
            for category in Catalog.categories where cardPresent.contains(category.mcc) {
                addMerchant(code, category.mcc)
            }
        }
        for code in Catalog.webShopCountries {
            for category in Catalog.categories where category.channels.contains(where: { $0.0 == .ecommerce }) {
                addMerchant(code, category.mcc)
            }
        }
        let customerCount = Self.customerCount(payments: payments)
        let extra = max(0, customerCount / 3 - merchants.count)
        let residentWeights = Catalog.residentCountries.map(\.residents)
        let popularity = Catalog.categories.map(\.popularity)
        for _ in 0..<extra {
            let country = Catalog.residentCountries[random.weightedIndex(residentWeights)].code
            addMerchant(country, Catalog.categories[random.weightedIndex(popularity)].mcc)
        }
        var merchantsAt: [String: [Int]] = [:]
        for (index, merchant) in merchants.enumerated() {
            merchantsAt["\(merchant.country)|\(merchant.mcc)", default: []].append(index)
        }

        var customers: [SimCustomer] = []
        customers.reserveCapacity(customerCount)
        for number in 1...customerCount {
            let home = Catalog.residentCountries[random.weightedIndex(residentWeights)]
            let id = "cus_\(tag)_\(number)"
            let accountAge = max(1, Int(random.logNormal(median: 900, sigma: 0.9)))
            var cards = [
                SimCard(
                    id: "card_\(tag)_\(number)a",
                    country: random.chance(0.96) ? home.code : random.pick(Catalog.residentCountries).code,
                    ageDays: min(accountAge, random.int(30...1_400)))
            ]
            if random.chance(0.2) {
                cards.append(SimCard(id: "card_\(tag)_\(number)b", country: home.code, ageDays: random.int(10...900)))
            }
            let first = random.pick(Catalog.firstNames)
            let last = random.pick(Catalog.lastNames)
            let email = "\(first).\(last)\(random.int(1...99))@\(random.pick(Catalog.emailDomains))"
            var devices = ["dev_\(random.hex(12))"]
            if random.chance(0.35) { devices.append("dev_\(random.hex(12))") }
            // Categories: groceries for everyone, plus four to eight others by popularity.
            var chosen: [(index: Int, weight: Double)] = [(0, popularity[0] * random.logNormal(median: 1, sigma: 0.3))]
            let wanted = random.int(4...8)
            var remaining = Array(1..<Catalog.categories.count)
            while chosen.count <= wanted, !remaining.isEmpty {
                let pick = random.weightedIndex(remaining.map { popularity[$0] })
                let index = remaining.remove(at: pick)
                chosen.append((index, popularity[index] * random.logNormal(median: 1, sigma: 0.5)))
            }
            var favourites: [String: [Int]] = [:]
            for (index, _) in chosen {
                let mcc = Catalog.categories[index].mcc
                var shops: [Int] = []
                for _ in 0..<random.int(1...3) {
                    let abroad =
                        Catalog.categories[index].channels.allSatisfy { $0.0 == .ecommerce } && random.chance(0.3)
                    let country = abroad ? random.pick(Catalog.webShopCountries) : home.code
                    if let candidates = merchantsAt["\(country)|\(mcc)"] ?? merchantsAt["\(home.code)|\(mcc)"] {
                        shops.append(random.pick(candidates))
                    }
                }
                favourites[mcc] = shops
            }
            var trip: SimTrip?
            if random.chance(0.06) {
                let destinations = Catalog.travelDestinations.filter { $0 != home.code }
                let firstDay = random.below(max(days, 1))
                trip = SimTrip(
                    firstDay: firstDay, lastDay: firstDay + random.int(2...9), country: random.pick(destinations))
            }
            let shift = random.weighted([(0, 0.75), (3, 0.12), (-2, 0.13)])
            customers.append(
                SimCustomer(
                    id: id, home: home.code, cards: cards, email: email,
                    emailChangedDaysAgo: random.chance(0.3) ? Int(random.logNormal(median: 400, sigma: 0.8)) + 1 : nil,
                    devices: devices, deviceAgeDays: random.int(20...900),
                    homeIP: Catalog.ipAddress(prefixes: home.ipPrefixes, &random),
                    typicalAmount: Self.baseAmount * random.logNormal(median: 1, sigma: 0.5),
                    activity: random.logNormal(median: 1, sigma: 0.7), hourShift: shift,
                    digitalAffinity: random.uniform(), categories: chosen, favourites: favourites,
                    accountAgeDays: accountAge, trip: trip))
        }
        self.customers = customers
        self.merchants = merchants
        self.merchantsAt = merchantsAt
        var customerIndex: [String: Int] = [:]
        for (index, customer) in customers.enumerated() { customerIndex[customer.id] = index }
        self.customerIndex = customerIndex
        self.activityTable = WeightedTable(customers.map(\.activity))
    }

    func customer(id: String?) -> SimCustomer? {
        id.flatMap { customerIndex[$0] }.map { customers[$0] }
    }

    /// Merchants of a category in a country, else of the category anywhere, else anywhere.
    func merchants(country: String, mcc: String) -> [Int] {
        if let here = merchantsAt["\(country)|\(mcc)"], !here.isEmpty { return here }
        let anywhere = merchants.indices.filter { merchants[$0].mcc == mcc }
        return anywhere.isEmpty ? Array(merchants.indices) : anywhere
    }
}
