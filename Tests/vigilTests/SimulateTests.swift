import Foundation
import Testing
import VigilCore

@testable import vigil

@Suite("vigil simulate: the seeded payment generator")
struct SimulateGeneratorTests {
    static let start: Int64 = 1_794_441_600  // 2026-11-15T00:00:00Z, a Sunday

    func settings(payments: Int, seed: UInt64 = 7, fraudRate: Double = 0.02, days: Int = 14) -> SimulationSettings {
        SimulationSettings(
            payments: payments, days: days, seed: seed, fraudRate: fraudRate, start: Self.start, runID: "t1")
    }

    @Test("the same seed gives the same stream, byte for byte; another seed another one")
    func determinism() {
        let first = PaymentGenerator(settings: settings(payments: 3_000)).map { $0.body() }
        let again = PaymentGenerator(settings: settings(payments: 3_000)).map { $0.body() }
        let other = PaymentGenerator(settings: settings(payments: 3_000, seed: 8)).map { $0.body() }
        #expect(first.count == 3_000)
        #expect(first == again)
        #expect(first != other)
    }

    @Test("exactly the payments asked for, in time order, inside the span, with unique ids; fraud at the rate asked")
    func shape() {
        for (payments, rate) in [(10_000, 0.02), (4_000, 0.1), (500, 0.0)] {
            let settings = settings(payments: payments, fraudRate: rate)
            let stream = Array(PaymentGenerator(settings: settings))
            #expect(stream.count == payments)
            #expect(Set(stream.map(\.transactionID)).count == payments)
            #expect(zip(stream, stream.dropFirst()).allSatisfy { $0.occurredAt <= $1.occurredAt })
            #expect(stream.allSatisfy { $0.occurredAt >= settings.start && $0.occurredAt < settings.end })
            #expect(stream.enumerated().allSatisfy { $0.offset == $0.element.index })
            #expect(stream.allSatisfy { settings.index(ofTransaction: $0.transactionID) == $0.index })
            let fraud = stream.filter(\.truth.isFraud).count
            #expect(fraud == settings.fraudCount)
            #expect(abs(Double(fraud) / Double(payments) - rate) < 0.001)
            if rate > 0 {
                #expect(Set(stream.compactMap(\.truth.scenario)) == Set(FraudScenario.allCases))
            }
        }
    }

    @Test("legitimate traffic looks like everyday card use")
    func legitimateTraffic() throws {
        let stream = Array(PaymentGenerator(settings: settings(payments: 20_000, fraudRate: 0)))
        let share = { (test: (SimulatedPayment) -> Bool) in Double(stream.filter(test).count) / Double(stream.count) }
        // A mix of channels with card-present payments the majority.
        #expect(share { $0.channel == .ecommerce } > 0.1 && share { $0.channel == .ecommerce } < 0.45)
        #expect(share { $0.channel == .contactless || $0.channel == .pos } > 0.5)
        #expect(share { $0.channel == .atm } > 0.01)
        // Days busier than nights (00:00–05:59 UTC), cross-border use the exception.
        let night = share { Int($0.occurredAt % 86_400) / 3_600 < 6 }
        #expect(night > 0.03 && night < 0.2)
        #expect(share { $0.cardCountry != $0.merchantCountry } < 0.2)
        #expect(share { $0.attributes["new_device"] == .bool(true) } < 0.01)
        // Amounts: a median of a few tens, a long tail.
        let amounts = stream.map(\.amount).sorted()
        #expect(amounts[amounts.count / 2] > 10 && amounts[amounts.count / 2] < 80)
        #expect(amounts[amounts.count * 99 / 100] > 200)
        // Each customer keeps to their regular shops: far fewer merchants than payments per customer.
        let byCustomer = Dictionary(grouping: stream, by: { $0.customerID ?? "" }).values.filter { $0.count >= 30 }
        let someone = try #require(byCustomer.first)
        #expect(Set(someone.map(\.merchantID)).count < someone.count / 2)
    }

    @Test("each fraud scenario carries its documented signature")
    func scenarioSignatures() throws {
        let generator = PaymentGenerator(settings: settings(payments: 20_000, fraudRate: 0.05))
        let population = generator.population
        let stream = Array(generator)
        let legitCards = Set(stream.filter { !$0.truth.isFraud }.map(\.cardID))
        func payments(_ scenario: FraudScenario) -> [SimulatedPayment] {
            stream.filter { $0.truth == .fraud(scenario) }
        }
        func episodes(_ scenario: FraudScenario) -> [[SimulatedPayment]] {
            Array(Dictionary(grouping: payments(scenario), by: { $0.episode ?? -1 }).values)
        }

        // Card testing: tiny amounts on never-seen cards, one web shop and one connection per burst, within minutes.
        let testing = payments(.cardTesting)
        #expect(!testing.isEmpty)
        #expect(testing.allSatisfy { $0.amountCents >= 50 && $0.amountCents <= 200 })
        #expect(
            testing.allSatisfy { $0.customerID == nil && $0.channel == .ecommerce && !legitCards.contains($0.cardID) })
        #expect(Set(testing.map(\.cardID)).count == testing.count)
        for burst in episodes(.cardTesting) {
            #expect(Set(burst.map(\.merchantID)).count == 1)
            #expect(Set(burst.map { $0.ipAddress ?? "" }).count == 1)
            #expect(burst.count <= 30)
            let times = burst.map(\.occurredAt)
            // Bursts near the end of the stream wrap to its beginning; all others last minutes.
            #expect(times.max()! - times.min()! < 3_600 || times.max()! - times.min()! > 13 * 86_400)
        }

        // Stolen card: far above the owner's habit, foreign connection on a new device when online, often at night.
        let stolen = payments(.stolenCard)
        #expect(!stolen.isEmpty)
        for payment in stolen {
            let owner = try #require(population.customer(id: payment.customerID))
            #expect(payment.amount >= min(4.9 * owner.typicalAmount, 7_999))
            if payment.channel == .ecommerce {
                #expect(payment.ipCountry != payment.cardCountry)
                #expect(payment.attributes["new_device"] == .bool(true))
            } else {
                #expect(payment.merchantCountry != owner.home)
            }
        }
        let ownersNight = stolen.filter { payment in
            let offset = Catalog.country(population.customer(id: payment.customerID)!.home).utcOffset
            return ((Int(payment.occurredAt % 86_400) / 3_600 + offset + 24) % 24) < 6
        }
        #expect(Double(ownersNight.count) / Double(stolen.count) > 0.4)

        // Compromised merchant: one merchant per episode, within a window of at most three weeks, other people's cards.
        let merchantFraud = payments(.compromisedMerchant)
        #expect(!merchantFraud.isEmpty)
        for window in episodes(.compromisedMerchant) {
            #expect(Set(window.map(\.merchantID)).count == 1)
            let times = window.map(\.occurredAt)
            #expect(times.max()! - times.min()! <= 21 * 86_400)
            #expect(Set(window.map(\.cardID)).count > window.count / 4)
        }

        // Account takeover: the owner's own card and old account, a new device and an e-mail address changed today.
        let takeover = payments(.accountTakeover)
        #expect(!takeover.isEmpty)
        for payment in takeover {
            let owner = try #require(population.customer(id: payment.customerID))
            #expect(owner.cards.contains { $0.id == payment.cardID })
            #expect(payment.email != owner.email)
            #expect(payment.deviceID.map { !owner.devices.contains($0) } == true)
            #expect(payment.attributes["email_changed_days_ago"] == .int(0))
            #expect(payment.attributes["new_device"] == .bool(true))
            let day = Int((payment.occurredAt - Self.start) / 86_400)
            #expect(payment.attributes["account_age_days"] == .int(owner.accountAgeDays + day))
        }
    }

    @Test("bodies follow the contract: field formats, at most 64 attributes")
    func bodies() throws {
        let stream = Array(PaymentGenerator(settings: settings(payments: 2_000, fraudRate: 0.1)))
        for payment in stream.prefix(400) {
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(payment.body())) as? [String: Any])
            #expect(object["transaction_id"] as? String == payment.transactionID)
            #expect(RFC3339.parse(object["occurred_at"] as! String) == .success(payment.occurredAt * 1_000_000))
            #expect((object["merchant_category"] as? String)?.count == 4)
            #expect(Channel(rawValue: object["channel"] as! String) != nil)
            #expect((object["attributes"] as? [String: Any]).map { $0.count <= 64 } == true)
        }
    }
}

@Suite("vigil simulate against the real server", .serialized)
struct SimulateServerTests {
    @Test("a few hundred generated payments of every kind all score 200")
    func bodiesAreAccepted() async throws {
        let server = try await ServerProcess.start(directory: try temporaryDirectory(), database: "vigil.sqlite")
        defer { server.kill(SIGTERM) }
        let scoring = try #require(server.keys["scoring"])
        let stream = Array(
            PaymentGenerator(
                settings: SimulationSettings(
                    payments: 3_000, days: 14, seed: 11, fraudRate: 0.1, start: 1_794_441_600, runID: "valid")))
        let chosen = stream.filter(\.truth.isFraud) + stream.filter { !$0.truth.isFraud }.prefix(200)
        let statuses = try await withThrowingTaskGroup(of: (String, Int, String).self) { group in
            var results: [(String, Int, String)] = []
            for (number, payment) in chosen.enumerated() {
                if number >= 8, let result = try await group.next() { results.append(result) }
                group.addTask {
                    let (status, body) = try await server.request(
                        "POST", "/v1/score", key: scoring, body: String(decoding: payment.body(), as: UTF8.self))
                    return (payment.transactionID, status, body)
                }
            }
            for try await result in group { results.append(result) }
            return results
        }
        #expect(statuses.count == chosen.count)
        for (id, status, body) in statuses where status != 200 {
            Issue.record("\(id): \(status) \(body)")
        }
        #expect(statuses.allSatisfy { SimulationDriver.decision(in: Data($0.2.utf8)) != nil })
    }

    @Test("simulate --review: every payment stored, cases worked and closed, labels and chargebacks sent")
    func endToEnd() async throws {
        let server = try await ServerProcess.start(directory: try temporaryDirectory(), database: "vigil.sqlite")
        defer { server.kill(SIGTERM) }
        let scoring = try #require(server.keys["scoring"])
        let review = try #require(server.keys["review"])
        let run = try await runVigil(
            [
                "simulate", "--payments", "400", "--rate", "0", "--review", "--seed", "7", "--run-id", "e2e",
                "--no-progress",
            ],
            environment: [
                "VIGIL_URL": "http://127.0.0.1:\(server.port)", "VIGIL_SCORING_KEY": scoring,
                "VIGIL_REVIEW_KEY": review,
            ])
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("Sent 400 of 400 payments"))
        #expect(run.stdout.contains("Errors: none"))
        // Every payment is stored.
        let settings = SimulationSettings(payments: 400, seed: 7, runID: "e2e")
        let missing = try await withThrowingTaskGroup(of: String?.self) { group in
            var missing: [String] = []
            for index in 0..<400 {
                if index >= 8, let result = try await group.next(), let id = result { missing.append(id) }
                group.addTask {
                    let id = settings.transactionID(index)
                    return try await server.request("GET", "/v1/transactions/\(id)", key: review).0 == 200 ? nil : id
                }
            }
            for try await result in group { if let id = result { missing.append(id) } }
            return missing
        }
        #expect(missing.isEmpty, "not stored: \(missing.prefix(5))")
        // Cases were worked and closed by labels, and those labels are stored.
        let (status, page) = try await server.request("GET", "/v1/cases?status=closed&limit=200", key: review)
        #expect(status == 200)
        let closed = try #require(JSONValue.parse(Data(page.utf8))?["items"]?.array)
        #expect(!closed.isEmpty)
        let transaction = try #require(closed.first?["transaction_id"]?.string)
        let (_, labels) = try await server.request("GET", "/v1/transactions/\(transaction)/labels", key: review)
        #expect(JSONValue.parse(Data(labels.utf8))?["history"]?.array?.isEmpty == false)
        // Missed fraud came back as chargebacks.
        let chargebacks = try #require(
            run.stdout.firstMatch(of: /Chargebacks \(5 to 30 days after the payment\): (\d+) sent/).map { Int($0.1)! })
        #expect(chargebacks > 0)
        let (_, audit) = try await server.request(
            "GET", "/v1/audit?action=transaction.labelled&limit=200", key: review)
        #expect(audit.contains("chargeback"))
        // A second identical run replays: the same answers, nothing new, still exit 0.
        let again = try await runVigil(
            [
                "simulate", "--payments", "400", "--rate", "0", "--seed", "7", "--run-id", "e2e", "--no-progress",
            ],
            environment: ["VIGIL_URL": "http://127.0.0.1:\(server.port)", "VIGIL_SCORING_KEY": scoring])
        #expect(again.status == 0, "\(again.stderr)")
    }

    @Test("a wrong scoring key or an unreachable server stops before sending, exit non-zero")
    func refusals() async throws {
        let server = try await ServerProcess.start(directory: try temporaryDirectory(), database: "vigil.sqlite")
        defer { server.kill(SIGTERM) }
        let badKey = try await runVigil(
            ["simulate", "--payments", "10", "--no-progress"],
            environment: ["VIGIL_URL": "http://127.0.0.1:\(server.port)", "VIGIL_SCORING_KEY": "vgl_wrong"])
        #expect(badKey.status != 0)
        #expect(badKey.stderr.contains("401"))
        let unreachable = try await runVigil(
            ["simulate", "--payments", "10", "--no-progress", "--url", "http://127.0.0.1:1"],
            environment: ["VIGIL_SCORING_KEY": "vgl_x"])
        #expect(unreachable.status != 0)
        #expect(unreachable.stderr.contains("http://127.0.0.1:1"))
    }
}

/// A fresh directory for a server's database.
func temporaryDirectory() throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
}

/// Runs the `vigil` binary with `arguments` and only the given `VIGIL_*` variables; waits without blocking a thread.
func runVigil(
    _ arguments: [String], environment extra: [String: String], timeout: TimeInterval = 60
) async throws -> (status: Int32, stdout: String, stderr: String) {
    let directory = try temporaryDirectory()
    let outURL = directory.appendingPathComponent("stdout")
    let errURL = directory.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    let process = Process()
    process.executableURL = try ServerProcess.binary()
    process.arguments = arguments
    process.currentDirectoryURL = directory
    var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("VIGIL_") }
    environment.merge(extra) { $1 }
    process.environment = environment
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning {
        if Date() > deadline {
            process.terminate()
            throw ServerProcess.ServerError.message("vigil \(arguments.joined(separator: " ")) did not finish")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
    try out.close()
    try err.close()
    return (
        process.terminationStatus, try String(contentsOf: outURL, encoding: .utf8),
        try String(contentsOf: errURL, encoding: .utf8)
    )
}
