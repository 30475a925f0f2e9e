import Foundation
import VigilCore

/// The ways fraud enters the simulated stream; `docs/simulator.md` describes each one's signature.
enum FraudScenario: String, CaseIterable, Sendable, Comparable {
    /// Card details stolen: far above the owner's habit, from a foreign connection, often at night, online.
    case stolenCard = "stolen_card"
    /// Bursts of tiny amounts on many never-seen cards at one web shop, to find out which numbers work.
    case cardTesting = "card_testing"
    /// For a window of days one merchant's payments turn fraudulent; nothing else looks unusual.
    case compromisedMerchant = "compromised_merchant"
    /// Someone logs into the card holder's account: new device, e-mail just changed, bigger amounts.
    case accountTakeover = "account_takeover"

    /// Share of all fraudulent payments.
    var share: Double {
        switch self {
        case .stolenCard: 0.35
        case .cardTesting: 0.30
        case .compromisedMerchant: 0.20
        case .accountTakeover: 0.15
        }
    }

    static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// What really happened, which the server never sees.
enum GroundTruth: Sendable, Equatable {
    case legit
    case fraud(FraudScenario)

    var isFraud: Bool { self != .legit }

    var scenario: FraudScenario? {
        if case .fraud(let scenario) = self { return scenario } else { return nil }
    }
}

/// An attribute value as the API takes it.
enum SimAttribute: Sendable, Equatable {
    case int(Int)
    case bool(Bool)
    case string(String)
    case null
}

/// One generated payment and its ground truth.
struct SimulatedPayment: Sendable, Equatable {
    /// Position in the stream, from 0.
    var index = 0
    var transactionID = ""
    /// Seconds since the Unix epoch.
    var occurredAt: Int64
    var amountCents: Int64
    var currency: String
    var cardID: String
    var customerID: String?
    var merchantID: String
    var deviceID: String?
    var email: String?
    var ipAddress: String?
    var merchantCategory: String
    var merchantCountry: String
    var cardCountry: String
    var ipCountry: String?
    var channel: Channel
    var attributes: [String: SimAttribute]
    var truth: GroundTruth
    /// Fraud payments of one episode (one stolen card, one burst, one merchant) share a number.
    var episode: Int?

    var amount: Double { Double(amountCents) / 100 }

    /// `occurred_at` as sent: `2026-11-08T14:03:07Z`.
    var occurredAtText: String {
        let text = formatRFC3339(micros: occurredAt * 1_000_000)
        return text.hasSuffix(".000000Z") ? String(text.dropLast(8)) + "Z" : text
    }

    /// The `POST /v1/score` body.
    func body() -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 640)
        writer.objectStart()
        writer.key("transaction_id")
        writer.string(transactionID)
        writer.key("occurred_at")
        writer.string(occurredAtText)
        writer.key("amount")
        let cents = amountCents % 100
        writer.raw(Array("\(amountCents / 100).\(cents < 10 ? "0" : "")\(cents)".utf8))
        writer.key("currency")
        writer.string(currency)
        writer.key("card_id")
        writer.string(cardID)
        if let customerID {
            writer.key("customer_id")
            writer.string(customerID)
        }
        writer.key("merchant_id")
        writer.string(merchantID)
        if let deviceID {
            writer.key("device_id")
            writer.string(deviceID)
        }
        if let email {
            writer.key("email")
            writer.string(email)
        }
        if let ipAddress {
            writer.key("ip_address")
            writer.string(ipAddress)
        }
        writer.key("merchant_category")
        writer.string(merchantCategory)
        writer.key("merchant_country")
        writer.string(merchantCountry)
        writer.key("card_country")
        writer.string(cardCountry)
        if let ipCountry {
            writer.key("ip_country")
            writer.string(ipCountry)
        }
        writer.key("channel")
        writer.string(channel.rawValue)
        writer.key("attributes")
        writer.objectStart()
        for name in attributes.keys.sorted() {
            writer.key(name)
            switch attributes[name]! {
            case .int(let value): writer.int(value)
            case .bool(let value): writer.bool(value)
            case .string(let value): writer.string(value)
            case .null: writer.null()
            }
        }
        writer.objectEnd()
        writer.objectEnd()
        return writer.bytes
    }
}

/// What the stream is made of.
struct SimulationSettings: Sendable {
    var payments = 5_000
    var days = 14
    var seed: UInt64 = 1
    var fraudRate = 0.02
    /// Extra fraud on top of the mix: this many payments at one compromised merchant, all in the stream's last
    /// `attackHours` hours (a sudden attack, for onset detection).
    var attackPayments = 0
    var attackHours = 6
    /// The first simulated instant, seconds since the epoch (the CLI uses UTC midnight `days` days ago).
    var start: Int64 = 0
    /// Part of every transaction id, so that two runs never collide.
    var runID = "run"

    var end: Int64 { start + Int64(days) * 86_400 }

    /// `tx_s7_r1a2b3_000042` for the payment at `index` (from 0).
    func transactionID(_ index: Int) -> String {
        let number = String(index + 1)
        let width = max(6, String(payments).count)
        return "\(transactionPrefix)" + String(repeating: "0", count: max(0, width - number.count)) + number
    }

    var transactionPrefix: String { "tx_s\(seed)_\(runID)_" }

    /// The index of one of this run's transaction ids; nil for any other id.
    func index(ofTransaction id: String) -> Int? {
        guard id.hasPrefix(transactionPrefix), let number = Int(id.dropFirst(transactionPrefix.count)),
            (1...max(1, payments)).contains(number)
        else { return nil }
        return number - 1
    }
    var fraudCount: Int {
        min(payments, Int((Double(payments) * fraudRate).rounded()) + attackPayments)
    }

    /// The fraud of the scenario mix, without the attack.
    var mixFraudCount: Int { max(0, fraudCount - attackPayments) }
}

/// A pure, seeded stream of payments in time order: the same settings give the same payments, byte for byte.
///
/// Legitimate payments come from the population's habits day by day; the fraud is planned up front, episode by
/// episode, and merged in by time. Exactly `payments` payments come out, `fraudCount` of them fraudulent.
struct PaymentGenerator: Sequence, IteratorProtocol {
    let settings: SimulationSettings
    let population: Population
    /// Legitimate payments per simulated day.
    let legitPerDay: [Int]
    /// Fraud payments by day, each day in time order.
    private var fraudByDay: [[SimulatedPayment]]
    private var random: SeededRandom
    private var day = 0
    private var buffer: [SimulatedPayment] = []
    private var position = 0
    private var emitted = 0

    init(settings: SimulationSettings) {
        precondition(settings.days > 0 && settings.payments >= 0)
        self.settings = settings
        let population = Population(seed: settings.seed, payments: settings.payments, days: settings.days)
        self.population = population
        var planner = FraudPlanner(settings: settings, population: population)
        let fraud = planner.plan()
        var byDay = Array(repeating: [SimulatedPayment](), count: settings.days)
        for payment in fraud {
            byDay[Int((payment.occurredAt - settings.start) / 86_400)].append(payment)
        }
        fraudByDay = byDay
        let weights = (0..<settings.days).map { day in
            Catalog.weekdayWeights[Self.weekday(settings.start + Int64(day) * 86_400)]
        }
        legitPerDay = apportion(settings.payments - fraud.count, weights)
        random = SeededRandom(seed: settings.seed, stream: 3)
    }

    /// 0 = Monday.
    static func weekday(_ seconds: Int64) -> Int {
        Int(((seconds / 86_400) % 7 + 7 + 3) % 7)
    }

    mutating func next() -> SimulatedPayment? {
        while position >= buffer.count {
            guard day < settings.days else { return nil }
            buffer = makeDay(day)
            position = 0
            day += 1
        }
        var payment = buffer[position]
        position += 1
        payment.index = emitted
        payment.transactionID = settings.transactionID(emitted)
        emitted += 1
        return payment
    }

    private mutating func makeDay(_ day: Int) -> [SimulatedPayment] {
        var payments = fraudByDay[day]
        payments.reserveCapacity(payments.count + legitPerDay[day])
        for _ in 0..<legitPerDay[day] {
            let customer = population.customers[population.activityTable.draw(&random)]
            payments.append(legitPayment(customer, day: day))
        }
        // Stable: equal times keep fraud (planned first) ahead of legit, and each group in its own order.
        return payments.enumerated().sorted { ($0.element.occurredAt, $0.offset) < ($1.element.occurredAt, $1.offset) }
            .map(\.element)
    }

    /// A payment that follows the card holder's habits: their hours, categories, regular shops, channels, amounts.
    private mutating func legitPayment(_ customer: SimCustomer, day: Int) -> SimulatedPayment {
        let traveling = customer.trip.map { (day >= $0.firstDay && day <= $0.lastDay) ? $0.country : nil } ?? nil
        let location = Catalog.country(traveling ?? customer.home)
        let hourWeights = (0..<24).map { Catalog.dayCurve[($0 - customer.hourShift + 24) % 24] }
        let localHour = random.weightedIndex(hourWeights)
        let dayStart = settings.start + Int64(day) * 86_400
        var secondOfDay = (localHour - location.utcOffset) * 3_600 + random.below(3_600)
        secondOfDay = ((secondOfDay % 86_400) + 86_400) % 86_400
        let occurredAt = dayStart + Int64(secondOfDay)

        let category = Catalog.categories[customer.categories[random.weightedIndex(customer.categoryWeights)].index]
        let affinity = customer.digitalAffinity
        let channel = random.weighted(
            category.channels.map { channel, weight in
                switch channel {
                case .ecommerce, .contactless: (channel, weight * (0.5 + affinity))
                case .pos: (channel, weight * (1.5 - affinity))
                default: (channel, weight)
                }
            })
        let merchantIndex: Int
        if let traveling, channel != .ecommerce {
            merchantIndex = random.pick(population.merchants(country: traveling, mcc: category.mcc))
        } else if let favourites = customer.favourites[category.mcc], !favourites.isEmpty, random.chance(0.8) {
            merchantIndex = random.pick(favourites)
        } else {
            let abroad = channel == .ecommerce && random.chance(0.2)
            let country = abroad ? random.pick(Catalog.webShopCountries) : customer.home
            merchantIndex = random.pick(population.merchants(country: country, mcc: category.mcc))
        }
        let merchant = population.merchants[merchantIndex]
        var amount =
            category.median * customer.typicalAmount / Population.baseAmount * exp(category.sigma * random.normal())
        if channel == .atm { amount = Swift.max(20, Swift.min(500, (amount / 20).rounded() * 20)) }
        let card = customer.cards.count > 1 && random.chance(0.25) ? customer.cards[1] : customer.cards[0]
        var payment = SimulatedPayment(
            occurredAt: occurredAt, amountCents: Self.cents(amount), currency: merchant.currency, cardID: card.id,
            customerID: customer.id, merchantID: merchant.id, merchantCategory: merchant.mcc,
            merchantCountry: merchant.country, cardCountry: card.country, channel: channel,
            attributes: [
                "account_age_days": .int(customer.accountAgeDays + day),
                "card_age_days": .int(card.ageDays + day),
            ],
            truth: .legit)
        if channel == .ecommerce {
            let newDevice = random.chance(0.007)
            payment.deviceID = newDevice ? "dev_\(random.hex(12))" : random.pick(customer.devices)
            if let traveling {
                payment.ipAddress = Catalog.ipAddress(prefixes: Catalog.country(traveling).ipPrefixes, &random)
                payment.ipCountry = traveling
            } else {
                payment.ipAddress =
                    random.chance(0.85)
                    ? customer.homeIP : Catalog.ipAddress(prefixes: Catalog.country(customer.home).ipPrefixes, &random)
                payment.ipCountry = customer.home
            }
            payment.email = customer.email
            payment.attributes["three_ds"] = .bool(random.chance(0.75))
            payment.attributes["new_device"] = .bool(newDevice)
            payment.attributes["device_age_days"] = .int(newDevice ? 0 : customer.deviceAgeDays + day)
            let changed: Int? = random.chance(0.002) ? random.int(0...3) : customer.emailChangedDaysAgo.map { $0 + day }
            payment.attributes["email_changed_days_ago"] = changed.map { .int($0) } ?? .null
        } else {
            payment.attributes["pin_verified"] = .bool(
                channel == .atm || (channel == .pos && random.chance(0.92)) || (channel == .contactless && amount > 50))
        }
        return payment
    }

    static func cents(_ amount: Double) -> Int64 {
        Swift.max(1, Int64((amount * 100).rounded()))
    }
}

/// Plans every fraudulent payment of the run, episode by episode, within each scenario's share of the budget.
struct FraudPlanner {
    let settings: SimulationSettings
    let population: Population
    private var random: SeededRandom
    private var episode = 0

    init(settings: SimulationSettings, population: Population) {
        self.settings = settings
        self.population = population
        self.random = SeededRandom(seed: settings.seed, stream: 2)
    }

    mutating func plan() -> [SimulatedPayment] {
        let attack = min(settings.attackPayments, settings.fraudCount)
        let budgets = apportion(settings.fraudCount - attack, FraudScenario.allCases.map(\.share))
        var payments: [SimulatedPayment] = []
        for (scenario, budget) in zip(FraudScenario.allCases, budgets) where budget > 0 {
            switch scenario {
            case .stolenCard:
                var left = budget
                while left > 0 { left -= append(stolenCard(limit: left), to: &payments) }
            case .cardTesting:
                var left = budget
                while left > 0 { left -= append(cardTesting(limit: left), to: &payments) }
            case .compromisedMerchant:
                // About one merchant per 150 fraudulent payments, at least one.
                let merchants = max(1, (budget + 149) / 150)
                for share in apportion(budget, Array(repeating: 1, count: merchants)) where share > 0 {
                    _ = append(compromisedMerchant(count: share), to: &payments)
                }
            case .accountTakeover:
                var left = budget
                while left > 0 { left -= append(accountTakeover(limit: left), to: &payments) }
            }
        }
        if attack > 0 {
            let hours = Int64(min(settings.attackHours, settings.days * 24))
            _ = append(
                compromisedMerchant(count: attack, within: (settings.end - hours * 3_600, hours * 3_600)), to: &payments
            )
        }
        return payments.sorted { $0.occurredAt < $1.occurredAt }
    }

    private mutating func append(_ episode: [SimulatedPayment], to payments: inout [SimulatedPayment]) -> Int {
        payments.append(contentsOf: episode)
        return episode.count
    }

    /// A time in the stream; times past its end wrap around to its beginning.
    private func clamp(_ seconds: Int64) -> Int64 {
        let span = settings.end - settings.start
        return settings.start + (((seconds - settings.start) % span) + span) % span
    }

    private mutating func anyTime() -> Int64 {
        settings.start + Int64(random.below(Int(settings.end - settings.start)))
    }

    private mutating func fraudIP() -> (address: String, country: String) {
        let origin = random.pick(Catalog.fraudIPCountries)
        return (Catalog.ipAddress(prefixes: origin.prefixes, &random), origin.code)
    }

    private mutating func throwawayEmail() -> String {
        "\(random.pick(Catalog.firstNames))\(random.hex(5))@\(random.pick(Catalog.emailDomains))"
    }

    private mutating func victim() -> SimCustomer {
        population.customers[random.below(population.customers.count)]
    }

    private mutating func nextEpisode() -> Int {
        episode += 1
        return episode
    }

    /// Stolen card details: one to six payments within hours, mostly online, far above the owner's habit, from a
    /// foreign connection on a new device, often in the owner's night, with a buyer account just opened.
    private mutating func stolenCard(limit: Int) -> [SimulatedPayment] {
        let owner = victim()
        let card = owner.cards[0]
        let number = nextEpisode()
        var count = 1
        while count < 6, random.chance(0.55) { count += 1 }
        count = min(count, limit)
        let home = Catalog.country(owner.home)
        var time = anyTime()
        if random.chance(0.65) {
            // Between midnight and 05:59 where the owner lives, while they sleep.
            let dayStart = time - (time - settings.start) % 86_400
            time = dayStart + Int64(((random.int(0...5) - home.utcOffset + 24) % 24) * 3_600 + random.below(3_600))
        }
        let device = "dev_\(random.hex(12))"
        let email = random.chance(0.5) ? owner.email : throwawayEmail()
        let connection = fraudIP()
        let ecommerceMix: [(String, Double)] = [
            ("5732", 0.35), ("5815", 0.15), ("6051", 0.15), ("5944", 0.1), ("4511", 0.1), ("5999", 0.15),
        ]
        var payments: [SimulatedPayment] = []
        for _ in 0..<count {
            let online = random.chance(0.8)
            let mcc = online ? random.weighted(ecommerceMix) : random.pick(["5732", "5944", "5311"])
            let country: String
            if online {
                country =
                    random.chance(0.6) ? random.pick(Catalog.webShopCountries.filter { $0 != owner.home }) : owner.home
            } else {
                // A cloned card used in a shop abroad.
                country = random.pick(Catalog.travelDestinations.filter { $0 != owner.home })
            }
            let merchant = population.merchants[random.pick(population.merchants(country: country, mcc: mcc))]
            let amount = min(
                8_000,
                max(owner.typicalAmount * random.uniform(5, 20), Catalog.category(mcc).median * random.uniform(1.5, 3)))
            var payment = SimulatedPayment(
                occurredAt: clamp(time), amountCents: PaymentGenerator.cents(amount), currency: merchant.currency,
                cardID: card.id, customerID: owner.id, merchantID: merchant.id, merchantCategory: merchant.mcc,
                merchantCountry: merchant.country, cardCountry: card.country, channel: online ? .ecommerce : .pos,
                attributes: ["card_age_days": .int(card.ageDays)], truth: .fraud(.stolenCard), episode: number)
            if online {
                payment.deviceID = device
                payment.email = email
                payment.ipAddress = connection.address
                payment.ipCountry = connection.country
                payment.attributes["account_age_days"] = .int(random.int(0...2))
                payment.attributes["three_ds"] = .bool(random.chance(0.15))
                payment.attributes["new_device"] = .bool(true)
                payment.attributes["device_age_days"] = .int(0)
                payment.attributes["email_changed_days_ago"] = .null
            } else {
                payment.attributes["account_age_days"] = .int(owner.accountAgeDays)
                payment.attributes["pin_verified"] = .bool(false)
            }
            payments.append(payment)
            time += Int64(60 + random.exponential(mean: 1_800))
        }
        return payments
    }

    /// Card testing: a burst of 8 to 30 tiny amounts (0.50 to 2.00) within minutes at one web shop, each on a card
    /// number never seen before, no customer, one connection and device for the whole burst.
    private mutating func cardTesting(limit: Int) -> [SimulatedPayment] {
        let number = nextEpisode()
        let count = min(limit, random.int(8...30))
        let candidates = population.merchants.indices.filter {
            ["5815", "5999"].contains(population.merchants[$0].mcc)
        }
        let merchant = population.merchants[random.pick(candidates)]
        let connection = fraudIP()
        let device = "dev_\(random.hex(12))"
        var time = anyTime()
        var payments: [SimulatedPayment] = []
        for index in 0..<count {
            let cents: Int64 = random.chance(0.3) ? 100 : Int64(random.int(50...200))
            let issuer = Catalog.residentCountries[random.weightedIndex(Catalog.residentCountries.map(\.residents))]
            var payment = SimulatedPayment(
                occurredAt: clamp(time), amountCents: cents, currency: merchant.currency,
                cardID: "card_s\(settings.seed)_\(settings.runID)_t\(number)_\(index + 1)", customerID: nil,
                merchantID: merchant.id, merchantCategory: merchant.mcc, merchantCountry: merchant.country,
                cardCountry: issuer.code, channel: .ecommerce,
                attributes: [
                    "account_age_days": .int(0), "three_ds": .bool(false), "new_device": .bool(true),
                    "device_age_days": .int(0), "email_changed_days_ago": .null,
                ],
                truth: .fraud(.cardTesting), episode: number)
            payment.deviceID = device
            payment.ipAddress = connection.address
            payment.ipCountry = connection.country
            if random.chance(0.5) { payment.email = throwawayEmail() }
            payments.append(payment)
            time += Int64(2 + random.exponential(mean: 15))
        }
        return payments
    }

    /// A compromised merchant: for a window of one to three weeks (at most the stream), `count` payments at one
    /// domestic merchant are fraudulent: other people's cards, in business hours, amounts 1.5 to 4 times the
    /// category's usual, card-present ones without PIN and online ones keyed in (no device, IP or e-mail).
    /// With `within` (start, seconds), every payment falls in that span instead (an attack's sudden onset).
    private mutating func compromisedMerchant(
        count: Int, within: (start: Int64, seconds: Int64)? = nil
    ) -> [SimulatedPayment] {
        let number = nextEpisode()
        let categories = ["5411", "5812", "5541", "5311", "5651", "5999", "5732"]
        let home = Catalog.residentCountries[random.weightedIndex(Catalog.residentCountries.map(\.residents))]
        let mcc = random.pick(categories)
        let merchant = population.merchants[random.pick(population.merchants(country: home.code, mcc: mcc))]
        let category = Catalog.category(merchant.mcc)
        let length = min(settings.days, random.int(7...21))
        let firstDay = random.int(0...(settings.days - length))
        let neighbours = population.customers.filter { $0.home == home.code }
        var payments: [SimulatedPayment] = []
        for _ in 0..<count {
            // Mostly local card holders, some numbers bought from elsewhere.
            let owner = neighbours.isEmpty || random.chance(0.3) ? victim() : random.pick(neighbours)
            let card = owner.cards[0]
            var day = firstDay + random.below(length)
            let hour = (random.int(8...20) - home.utcOffset + 24) % 24
            var time = settings.start + Int64(day) * 86_400 + Int64(hour * 3_600 + random.below(3_600))
            if let within {
                time = within.start + Int64(random.below(Int(within.seconds)))
                day = Int((time - settings.start) / 86_400)
            }
            let channel = random.weighted(category.channels)
            let amount = category.median * random.uniform(1.5, 4)
            var payment = SimulatedPayment(
                occurredAt: clamp(time), amountCents: PaymentGenerator.cents(amount), currency: merchant.currency,
                cardID: card.id, customerID: owner.id, merchantID: merchant.id, merchantCategory: merchant.mcc,
                merchantCountry: merchant.country, cardCountry: card.country, channel: channel,
                attributes: [
                    "account_age_days": .int(owner.accountAgeDays + day), "card_age_days": .int(card.ageDays + day),
                ],
                truth: .fraud(.compromisedMerchant), episode: number)
            if channel == .ecommerce {
                payment.attributes["three_ds"] = .bool(false)
            } else {
                payment.attributes["pin_verified"] = .bool(false)
            }
            payments.append(payment)
        }
        return payments
    }

    /// Account takeover: one to three online payments with the owner's own card and account (old), from a new
    /// device, with the e-mail address changed that day, mostly from a foreign connection, 3 to 10 times the
    /// owner's habit, at merchants where value is easy to move on.
    private mutating func accountTakeover(limit: Int) -> [SimulatedPayment] {
        let owner = victim()
        let card = owner.cards[0]
        let number = nextEpisode()
        let count = min(limit, random.int(1...3))
        let device = "dev_\(random.hex(12))"
        let email = throwawayEmail()
        let connection: (address: String, country: String) =
            random.chance(0.7)
            ? fraudIP() : (Catalog.ipAddress(prefixes: Catalog.country(owner.home).ipPrefixes, &random), owner.home)
        var time = anyTime()
        let mix: [(String, Double)] = [("5732", 0.3), ("5815", 0.2), ("4829", 0.2), ("6051", 0.15), ("5944", 0.15)]
        var payments: [SimulatedPayment] = []
        for _ in 0..<count {
            let mcc = random.weighted(mix)
            let country = random.chance(0.6) ? owner.home : random.pick(Catalog.webShopCountries)
            let merchant = population.merchants[random.pick(population.merchants(country: country, mcc: mcc))]
            let day = Int((clamp(time) - settings.start) / 86_400)
            let amount = max(owner.typicalAmount * random.uniform(3, 10), Catalog.category(mcc).median)
            var payment = SimulatedPayment(
                occurredAt: clamp(time), amountCents: PaymentGenerator.cents(amount), currency: merchant.currency,
                cardID: card.id, customerID: owner.id, merchantID: merchant.id, merchantCategory: merchant.mcc,
                merchantCountry: merchant.country, cardCountry: card.country, channel: .ecommerce,
                attributes: [
                    "account_age_days": .int(owner.accountAgeDays + day), "card_age_days": .int(card.ageDays + day),
                    "three_ds": .bool(random.chance(0.5)), "new_device": .bool(true), "device_age_days": .int(0),
                    "email_changed_days_ago": .int(0),
                ],
                truth: .fraud(.accountTakeover), episode: number)
            payment.deviceID = device
            payment.email = email
            payment.ipAddress = connection.address
            payment.ipCountry = connection.country
            payments.append(payment)
            time += Int64(120 + random.exponential(mean: 2_400))
        }
        return payments
    }
}
