import ArgumentParser
import Foundation
import Synchronization
import VigilCore

/// `vigil simulate`: a realistic stream of card payments with fraud mixed in, sent to a running server; with
/// `--review`, also the review team and the chargebacks. See docs/simulator.md.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Send a realistic stream of card payments, fraud included, to a running server.",
        discussion: """
            Customers with their own habits pay merchants over --days simulated days (event time starts that many \
            days ago at UTC midnight); a --fraud-rate share of the payments is fraud from four scenarios (stolen \
            card, card testing, compromised merchant, account takeover; see docs/simulator.md). With --review the \
            simulator also works the review queue every simulated day from its ground truth, and sends chargebacks \
            for fraud that got through. The same --seed gives the same stream; --run-id too makes a rerun a replay.
            """)

    @Option(help: "Server address (default: VIGIL_URL, else http://127.0.0.1:8080).") var url: String?
    @Option(help: "Key with the scoring role (default: VIGIL_SCORING_KEY).") var scoringKey: String?
    @Option(help: "Key with the review role, for --review (default: VIGIL_REVIEW_KEY).") var reviewKey: String?
    @Option(help: "Payments to send.") var payments = 5_000
    @Option(help: "Payments per second; 0: as fast as the server answers.") var rate = 200.0
    @Option(help: "Simulated days the stream spans, ending at the last UTC midnight.") var days = 14
    @Option(help: "Seed of the stream (default: a new one, printed so the run can be repeated).") var seed: UInt64?
    @Option(help: "Share of fraudulent payments, 0 to 1.") var fraudRate = 0.02
    @Option(help: "Extra fraud: this many payments at one compromised merchant in the stream's last --attack-hours.")
    var attackPayments = 0
    @Option(help: "How many hours before the stream's end the --attack-payments start.") var attackHours = 6
    @Flag(help: "Act as the review team and the issuers: label cases from the ground truth, send chargebacks.")
    var review = false
    @Option(help: "Cases the review team works per simulated day.") var reviewerCapacity = 200
    @Option(help: "Missed fraud is charged back 5 to this many days after the payment.") var chargebackDays = 30
    @Option(help: "Requests in flight at once.") var concurrency = 8
    @Option(help: "Part of every transaction id (default: new for every run); reuse it with --seed to replay a run.")
    var runID: String?
    @Flag(help: "No progress line on stderr.") var noProgress = false

    func validate() throws {
        guard payments >= 1, payments <= 10_000_000 else { throw ValidationError("--payments must be 1 to 10000000") }
        guard rate >= 0, rate.isFinite else { throw ValidationError("--rate must be 0 or more") }
        guard attackPayments >= 0, attackPayments <= payments else {
            throw ValidationError("--attack-payments must be 0 to --payments")
        }
        guard (1...24 * 365).contains(attackHours) else { throw ValidationError("--attack-hours must be 1 to 8760") }
        guard (1...3_650).contains(days) else { throw ValidationError("--days must be 1 to 3650") }
        guard (0...1).contains(fraudRate) else { throw ValidationError("--fraud-rate must be between 0 and 1") }
        guard reviewerCapacity >= 0 else { throw ValidationError("--reviewer-capacity must be 0 or more") }
        guard (1...365).contains(chargebackDays) else { throw ValidationError("--chargeback-days must be 1 to 365") }
        guard (1...256).contains(concurrency) else { throw ValidationError("--concurrency must be 1 to 256") }
        if let runID {
            guard (1...24).contains(runID.count), runID.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
            else { throw ValidationError("--run-id must be 1 to 24 letters or digits") }
        }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        func setting(_ flag: String?, _ variable: String) -> String? {
            flag ?? environment[variable].flatMap { $0.isEmpty ? nil : $0 }
        }
        let address = setting(url, "VIGIL_URL") ?? APIClient.defaultURL
        guard let scoring = setting(scoringKey, "VIGIL_SCORING_KEY") else {
            Console.error("vigil simulate: no scoring key: set VIGIL_SCORING_KEY or pass --scoring-key")
            throw ExitCode(2)
        }
        let reviewing = setting(reviewKey, "VIGIL_REVIEW_KEY")
        if review, reviewing == nil {
            Console.error("vigil simulate: --review needs a review key: set VIGIL_REVIEW_KEY or pass --review-key")
            throw ExitCode(2)
        }
        let nowSeconds = Int64(Date().timeIntervalSince1970)
        let lastMidnight = nowSeconds - nowSeconds % 86_400
        var random = SeededRandom(seed: UInt64(bitPattern: Int64(Date().timeIntervalSince1970 * 1e6)))
        var settings = SimulationSettings(
            payments: payments, days: days, seed: seed ?? UInt64(random.below(1_000_000)), fraudRate: fraudRate,
            start: lastMidnight - Int64(days) * 86_400, runID: runID ?? "r" + random.hex(6))
        settings.attackPayments = attackPayments
        settings.attackHours = attackHours
        let options = DriverOptions(
            rate: rate, concurrency: concurrency, review: review, reviewerCapacity: reviewerCapacity,
            chargebackDays: chargebackDays)
        let driver = SimulationDriver(
            settings: settings, options: options, url: address, scoringKey: scoring,
            reviewKey: review ? reviewing : nil)
        if let problem = await driver.preflight() {
            Console.error("vigil simulate: \(problem)")
            throw ExitCode(1)
        }
        Console.error(
            "simulating \(settings.payments) payments over \(settings.days) days to \(address) "
                + "(seed \(settings.seed), run \(settings.runID)\(review ? ", with the review team" : ""))")
        let began = ContinuousClock.now
        let progress = ProgressBar(
            total: settings.payments, days: settings.days, enabled: !noProgress, showsReview: review)
        await driver.run(progress: progress)
        let ledger = driver.ledger.withLock { $0 }
        Console.out(
            SimulationSummary.render(
                ledger, settings: settings, options: options, seconds: began.duration(to: .now).seconds))
        if let abort = ledger.abort {
            Console.error("vigil simulate: stopped early: \(abort)")
            throw ExitCode(1)
        }
        let unacknowledged = ledger.outcome.filter { $0 == .pending || $0 == .failed }.count
        if unacknowledged > 0 {
            Console.error("vigil simulate: \(unacknowledged) payments were never acknowledged")
            throw ExitCode(1)
        }
    }
}

/// The end-of-run report: what was sent, what the server decided for each kind of payment, what the team and the
/// chargebacks did, and the errors.
enum SimulationSummary {
    static func render(_ ledger: Ledger, settings: SimulationSettings, options: DriverOptions, seconds: Double)
        -> String
    {
        var lines: [String] = []
        let first = String(formatDay(settings.start))
        let last = String(formatDay(settings.end - 1))
        let rate = seconds > 0 ? Double(ledger.acknowledged) / seconds : 0
        lines.append(
            "Sent \(ledger.sent) of \(settings.payments) payments (\(first) to \(last), \(settings.days) days) in "
                + String(format: "%.1f s (%.0f/s)", seconds, rate) + "; seed \(settings.seed), run \(settings.runID)")
        lines.append(
            "Decisions: approve \(ledger.decisions[.approve] ?? 0), review \(ledger.decisions[.review] ?? 0), "
                + "decline \(ledger.decisions[.decline] ?? 0); not acknowledged \(ledger.failed)")
        lines.append("")
        let header = ["", "payments", "approved", "reviewed", "declined", "caught"]
        var rows: [[String]] = [header]
        func row(_ name: String, _ counts: [Ledger.Outcome: Int]) -> [String] {
            let approve = counts[.approve] ?? 0
            let reviewCount = counts[.review] ?? 0
            let decline = counts[.decline] ?? 0
            let total = approve + reviewCount + decline
            let caught =
                total > 0 ? String(format: "%.0f %%", Double(reviewCount + decline) / Double(total) * 100) : "-"
            return [name, String(total), String(approve), String(reviewCount), String(decline), caught]
        }
        rows.append(row("legit", ledger.byScenario[nil] ?? [:]))
        var allFraud: [Ledger.Outcome: Int] = [:]
        for scenario in FraudScenario.allCases {
            let counts = ledger.byScenario[scenario] ?? [:]
            for (outcome, count) in counts { allFraud[outcome, default: 0] += count }
            rows.append(row(scenario.rawValue, counts))
        }
        rows.append(row("fraud, all", allFraud))
        var widths = Array(repeating: 0, count: header.count)
        for row in rows { for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) } }
        for (number, row) in rows.enumerated() {
            let text = row.enumerated().map { column, cell in
                column == 0 ? Layout.pad(cell, widths[0]) : Layout.padLeft(cell, widths[column])
            }.joined(separator: "  ")
            lines.append(text)
            if number == 0 || number == rows.count - 2 {
                lines.append(String(repeating: "-", count: text.count))
            }
        }
        lines.append("(caught: reviewed or declined; for legit payments the same column is the false-positive rate)")
        lines.append("")
        if options.review {
            lines.append(
                "Review team (\(options.reviewerCapacity) cases a day): \(ledger.casesWorked) cases labelled "
                    + "(fraud \(ledger.teamFraud), legit \(ledger.teamLegit)), \(ledger.casesClosed) closed by the label"
                    + (ledger.foreignCases.isEmpty
                        ? "" : "; \(ledger.foreignCases.count) cases from elsewhere left alone and released"))
            let sent = ledger.chargebacksInside + ledger.chargebacksAtEnd
            let byScenario = FraudScenario.allCases.compactMap { scenario in
                ledger.chargebacksByScenario[scenario].map { "\(scenario.rawValue) \($0)" }
            }
            lines.append(
                "Chargebacks (5 to \(options.chargebackDays) days after the payment): \(sent) sent"
                    + (byScenario.isEmpty ? "" : " (" + byScenario.joined(separator: ", ") + ")")
                    + "; \(ledger.chargebacksInside) dated when due, \(ledger.chargebacksAtEnd) due after today "
                    + "dated now; \(ledger.chargebacksSkipped) not needed (the team had caught them)")
            lines.append("Labels sent: \(ledger.casesWorked + sent); label errors \(ledger.labelErrors)")
        } else {
            let missed = (allFraud[.approve] ?? 0) + (allFraud[.review] ?? 0)
            lines.append(
                "No review team (--review): \(missed) fraudulent payments went through or wait in the queue; "
                    + "no labels or chargebacks were sent")
        }
        if ledger.errors.isEmpty {
            lines.append("Errors: none")
        } else {
            lines.append("Errors: \(ledger.errorCount)")
            for (message, count) in ledger.errors.prefix(8) {
                let indented = message.replacingOccurrences(of: "\n", with: "\n      ")
                lines.append("  \(count)× \(indented)")
            }
            if ledger.errors.count > 8 { lines.append("  … and \(ledger.errors.count - 8) other kinds") }
        }
        return lines.joined(separator: "\n")
    }

    static func formatDay(_ seconds: Int64) -> Substring {
        formatRFC3339(micros: seconds * 1_000_000).prefix(10)
    }
}
