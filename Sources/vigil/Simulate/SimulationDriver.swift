import Foundation
import Synchronization
import VigilCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How the driver talks to the server.
struct DriverOptions: Sendable {
    var rate: Double = 200
    var concurrency = 8
    var review = false
    var reviewerCapacity = 200
    var chargebackDays = 30
}

/// Sends the generated stream to a running server, and, with `review`, plays the review team and the card issuers:
/// works the queue every simulated day and sends chargebacks for fraud that got through.
///
/// The stream is posted in time order, `concurrency` requests at a time, paced to `rate` per second. At every
/// simulated midnight the driver lets the requests in flight finish, then the team claims up to `reviewerCapacity`
/// cases (`GET /v1/cases/next`) and labels each from the ground truth, then every chargeback due by then is sent.
final class SimulationDriver: Sendable {
    let settings: SimulationSettings
    let options: DriverOptions
    let scoring: APIClient
    let reviewKey: String?
    let ledger: Mutex<Ledger>
    /// The wall clock when the run started (labels are never dated after it).
    let now: Int64

    init(settings: SimulationSettings, options: DriverOptions, url: String, scoringKey: String, reviewKey: String?) {
        self.settings = settings
        self.options = options
        self.scoring = APIClient(
            baseURL: url, key: scoringKey, maxConnections: max(1, options.concurrency), timeoutSeconds: 30)
        self.reviewKey = reviewKey
        self.ledger = Mutex(Ledger(payments: settings.payments))
        self.now = Int64(Date().timeIntervalSince1970)
    }

    // MARK: - Preflight

    /// Checks the address and the keys before anything is sent; a message for the user when something is wrong.
    func preflight() async -> String? {
        do {
            _ = try await scoring.send("GET", "/healthz", retries: 2)
            let probe = Data(
                #"{"transaction_id":"vigil-simulate-preflight","occurred_at":"2026-01-01T00:00:00Z","amount":1,"currency":"EUR"}"#
                    .utf8)
            let explained = try await scoring.send("POST", "/v1/explain", json: probe, retries: 2)
            if [401, 403].contains(explained.status) {
                return "the scoring key was refused: "
                    + ProblemText.render(
                        status: explained.status, body: explained.body, request: "POST /v1/explain",
                        keyHint: "set VIGIL_SCORING_KEY or pass --scoring-key; a scoring key")
            }
            if let reviewKey {
                let cases = try await scoring.send(
                    "GET", "/v1/cases", query: [("limit", "1")], key: reviewKey, retries: 2)
                if !cases.isSuccess {
                    return "the review key was refused: "
                        + ProblemText.render(
                            status: cases.status, body: cases.body, request: "GET /v1/cases",
                            keyHint: "set VIGIL_REVIEW_KEY or pass --review-key; a review key")
                }
            }
            return nil
        } catch {
            return "\(error)"
        }
    }

    // MARK: - The run

    func run(progress: ProgressBar) async {
        var generator = PaymentGenerator(settings: settings)
        let clock = ContinuousClock()
        var origin = clock.now
        var day = 0
        progress.start { [self] in self.ledger.withLock { ProgressBar.Snapshot($0) } }
        await withTaskGroup(of: Void.self) { group in
            var inFlight = 0
            var index = 0
            while let payment = generator.next() {
                if ledger.withLock({ $0.abort }) != nil { break }
                let paymentDay = Int((payment.occurredAt - settings.start) / 86_400)
                if options.review, paymentDay > day {
                    while inFlight > 0 {
                        await group.next()
                        inFlight -= 1
                    }
                    let paused = clock.now
                    while day < paymentDay {
                        await endOfDay(day)
                        day += 1
                    }
                    origin = origin.advanced(by: paused.duration(to: clock.now))
                }
                progress.day = paymentDay + 1
                if options.rate > 0 {
                    let due = origin.advanced(by: .seconds(Double(index) / options.rate))
                    if due > clock.now { try? await Task.sleep(until: due, clock: clock) }
                }
                if inFlight >= options.concurrency {
                    await group.next()
                    inFlight -= 1
                }
                ledger.withLock {
                    $0.truth[payment.index] = payment.truth
                    $0.occurredAt[payment.index] = payment.occurredAt
                    $0.channel[payment.index] = payment.channel
                    $0.sent += 1
                }
                group.addTask { await self.post(payment) }
                inFlight += 1
                index += 1
            }
            await group.waitForAll()
        }
        if options.review, ledger.withLock({ $0.abort }) == nil {
            while day < settings.days {
                await endOfDay(day)
                day += 1
            }
            await sendChargebacks(dueBy: Int64.max)
            await releaseForeignCases()
        }
        progress.stop()
    }

    /// Scores one payment; 503 and lost connections are retried (the same `transaction_id` is idempotent).
    private func post(_ payment: SimulatedPayment) async {
        let body = Data(payment.body())
        do {
            let response = try await scoring.send(
                "POST", "/v1/score", json: body, retries: 5, retryUnreachable: true)
            if response.status == 200, let outcome = Self.decision(in: response.body) {
                record(payment, outcome)
            } else {
                let message = ProblemText.render(
                    status: response.status, body: response.body, request: "POST /v1/score",
                    keyHint: "set VIGIL_SCORING_KEY or pass --scoring-key; a scoring key")
                fail(payment, message, abort: [401, 403].contains(response.status))
            }
        } catch {
            fail(payment, "\(error)", abort: false)
        }
    }

    private func record(_ payment: SimulatedPayment, _ outcome: Ledger.Outcome) {
        let delay = chargebackDelay(payment.index)
        ledger.withLock { ledger in
            ledger.outcome[payment.index] = outcome
            ledger.acknowledged += 1
            ledger.consecutiveFailures = 0
            ledger.decisions[outcome, default: 0] += 1
            ledger.byScenario[payment.truth.scenario, default: [:]][outcome, default: 0] += 1
            // Fraud that went through (approved, or sent to review and perhaps never looked at) comes back as a
            // chargeback unless the team stops it first.
            if options.review, payment.truth.isFraud, outcome == .approve || outcome == .review {
                ledger.pendingChargebacks.append(.init(due: payment.occurredAt + delay, index: payment.index))
            }
        }
    }

    private func fail(_ payment: SimulatedPayment, _ message: String, abort: Bool) {
        ledger.withLock { ledger in
            ledger.outcome[payment.index] = .failed
            ledger.failed += 1
            ledger.consecutiveFailures += 1
            ledger.error(message)
            if abort {
                ledger.abort = message
            } else if ledger.consecutiveFailures >= 50 {
                ledger.abort = "50 payments in a row failed; the last: \(message)"
            }
        }
    }

    /// Seconds from a missed payment to its chargeback: uniform over 5 to `chargebackDays` days (fewer when
    /// `chargebackDays` is below 5), drawn from the seed and the payment's position, so a rerun dates them the same.
    func chargebackDelay(_ index: Int) -> Int64 {
        var random = SeededRandom(seed: settings.seed, stream: 1_000 + UInt64(index))
        let longest = Double(max(1, options.chargebackDays)) * 86_400
        let shortest = min(5 * 86_400, longest)
        return Int64(random.uniform(shortest, longest))
    }

    /// `"decision":"review"` without decoding the whole answer.
    static func decision(in body: Data) -> Ledger.Outcome? {
        let marker = Array(#""decision":""#.utf8)
        let bytes = [UInt8](body)
        guard bytes.count > marker.count else { return nil }
        for start in 0...(bytes.count - marker.count) where bytes[start] == marker[0] {
            if Array(bytes[start..<(start + marker.count)]) == marker {
                let from = start + marker.count
                guard let end = bytes[from...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
                return Ledger.Outcome(decision: String(decoding: bytes[from..<end], as: UTF8.self))
            }
        }
        return nil
    }

    // MARK: - The review team

    /// The work done when simulated day `day` ends: the team works the queue, then due chargebacks are sent.
    private func endOfDay(_ day: Int) async {
        let boundary = settings.start + Int64(day + 1) * 86_400
        await workQueue(boundary: boundary)
        await sendChargebacks(dueBy: boundary)
    }

    /// Claims and labels up to `reviewerCapacity` cases with a few reviewers working side by side. The verdicts are
    /// dated in the next morning's office hours (09:00–18:00 UTC), never before the payment nor after the wall clock.
    private func workQueue(boundary: Int64) async {
        guard let reviewKey, options.reviewerCapacity > 0 else { return }
        ledger.withLock { $0.reviewSlotsUsed = 0 }
        let reviewers = max(1, min(4, options.concurrency))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<reviewers {
                group.addTask {
                    while await self.reviewOne(boundary: boundary, key: reviewKey) {}
                }
            }
        }
    }

    /// One claim and its label; false when the day's work is over (capacity used, queue empty, or failing).
    private func reviewOne(boundary: Int64, key: String) async -> Bool {
        let slot: Int? = ledger.withLock { ledger in
            guard ledger.reviewSlotsUsed < options.reviewerCapacity else { return nil }
            ledger.reviewSlotsUsed += 1
            return ledger.reviewSlotsUsed - 1
        }
        guard let slot else { return false }
        let claimed: APIResponse
        do {
            claimed = try await scoring.send("GET", "/v1/cases/next", key: key, retries: 4)
        } catch {
            ledger.withLock {
                $0.labelErrors += 1
                $0.error("GET /v1/cases/next: \(error)")
            }
            return false
        }
        if claimed.status == 204 { return false }
        guard claimed.status == 200, let item = claimed.json, let caseID = item["case_id"]?.string,
            let transactionID = item["transaction_id"]?.string
        else {
            ledger.withLock {
                $0.labelErrors += 1
                $0.error(
                    ProblemText.render(status: claimed.status, body: claimed.body, request: "GET /v1/cases/next"))
            }
            return false
        }
        guard let index = ownIndex(transactionID) else {
            // Not from this run: no ground truth. It stays claimed (so the next claim moves on) and is released at
            // the end for the people who own it.
            ledger.withLock {
                $0.casesClaimed += 1
                $0.foreignCases.append(caseID)
            }
            return true
        }
        let (truth, occurredAt) = ledger.withLock { ($0.truth[index], $0.occurredAt[index]) }
        let spacing = max(1, 9 * 3_600 / max(1, options.reviewerCapacity))
        let labeledAt = min(now, max(occurredAt + 60, boundary + 9 * 3_600 + Int64(slot * spacing)))
        let verdict: Ledger.LabelValue = truth.isFraud ? .fraud : .legit
        let body = Self.labelBody(label: verdict.rawValue, source: "review", reasonCode: nil, labeledAt: labeledAt)
        do {
            let response = try await scoring.send(
                "POST", "/v1/transactions/\(APIClient.segment(transactionID))/labels", json: body,
                headers: ["Idempotency-Key": "sim-\(settings.runID)-review-\(index)"], key: key, retries: 4,
                retryUnreachable: true)
            guard response.isSuccess else {
                ledger.withLock {
                    $0.casesClaimed += 1
                    $0.labelErrors += 1
                    $0.error(
                        ProblemText.render(status: response.status, body: response.body, request: "POST …/labels"))
                }
                return true
            }
            let closed = response.json?["closed_case_id"]?.string != nil
            ledger.withLock { ledger in
                ledger.casesClaimed += 1
                ledger.casesWorked += 1
                if closed { ledger.casesClosed += 1 }
                ledger.teamVerdict[index] = verdict
                if verdict == .fraud { ledger.teamFraud += 1 } else { ledger.teamLegit += 1 }
            }
        } catch {
            ledger.withLock {
                $0.casesClaimed += 1
                $0.labelErrors += 1
                $0.error("POST …/labels: \(error)")
            }
        }
        return true
    }

    func ownIndex(_ transactionID: String) -> Int? { settings.index(ofTransaction: transactionID) }

    static func labelBody(label: String, source: String, reasonCode: String?, labeledAt: Int64) -> Data {
        var writer = JSONWriter(reservingCapacity: 160)
        writer.objectStart()
        writer.key("label")
        writer.string(label)
        writer.key("source")
        writer.string(source)
        if let reasonCode {
            writer.key("reason_code")
            writer.string(reasonCode)
        }
        writer.key("labeled_at")
        let text = formatRFC3339(micros: labeledAt * 1_000_000)
        writer.string(text.hasSuffix(".000000Z") ? String(text.dropLast(8)) + "Z" : text)
        writer.objectEnd()
        return Data(writer.bytes)
    }

    // MARK: - Chargebacks

    /// Sends every pending chargeback due by `dueBy` (all of them for `Int64.max`, dated no later than the wall
    /// clock), skipping payments the team already labelled fraud: those were stopped in time.
    private func sendChargebacks(dueBy: Int64) async {
        guard let reviewKey else { return }
        let due: [Ledger.PendingChargeback] = ledger.withLock { ledger in
            let ready = ledger.pendingChargebacks.filter { $0.due <= dueBy }
            ledger.pendingChargebacks.removeAll { $0.due <= dueBy }
            return ready.sorted { ($0.due, $0.index) < ($1.due, $1.index) }
        }
        guard !due.isEmpty else { return }
        await withTaskGroup(of: Void.self) { group in
            var inFlight = 0
            for chargeback in due {
                if inFlight >= max(1, options.concurrency) {
                    await group.next()
                    inFlight -= 1
                }
                group.addTask { await self.sendChargeback(chargeback, key: reviewKey) }
                inFlight += 1
            }
        }
    }

    private func sendChargeback(_ chargeback: Ledger.PendingChargeback, key: String) async {
        let index = chargeback.index
        let (verdict, truth, channel) = ledger.withLock { ($0.teamVerdict[index], $0.truth[index], $0.channel[index]) }
        if verdict == .fraud {
            ledger.withLock { $0.chargebacksSkipped += 1 }
            return
        }
        // Visa's fraud reason codes: 10.4 card absent, 10.3 card present.
        let reasonCode = channel == .ecommerce ? "10.4" : "10.3"
        let labeledAt = min(chargeback.due, now)
        let body = Self.labelBody(label: "fraud", source: "chargeback", reasonCode: reasonCode, labeledAt: labeledAt)
        let transactionID = settings.transactionID(index)
        do {
            let response = try await scoring.send(
                "POST", "/v1/transactions/\(APIClient.segment(transactionID))/labels", json: body,
                headers: ["Idempotency-Key": "sim-\(settings.runID)-chargeback-\(index)"], key: key, retries: 4,
                retryUnreachable: true)
            ledger.withLock { ledger in
                if response.isSuccess {
                    if labeledAt == chargeback.due {
                        ledger.chargebacksInside += 1
                    } else {
                        ledger.chargebacksAtEnd += 1
                    }
                    if let scenario = truth.scenario { ledger.chargebacksByScenario[scenario, default: 0] += 1 }
                } else {
                    ledger.labelErrors += 1
                    ledger.error(
                        ProblemText.render(status: response.status, body: response.body, request: "POST …/labels"))
                }
            }
        } catch {
            ledger.withLock {
                $0.labelErrors += 1
                $0.error("POST …/labels: \(error)")
            }
        }
    }

    /// Cases from elsewhere that the team claimed while looking for its own go back to the queue.
    private func releaseForeignCases() async {
        guard let reviewKey else { return }
        let cases = ledger.withLock { $0.foreignCases }
        for caseID in cases {
            _ = try? await scoring.send(
                "POST", "/v1/cases/\(APIClient.segment(caseID))/release", key: reviewKey, retries: 2)
        }
    }
}
