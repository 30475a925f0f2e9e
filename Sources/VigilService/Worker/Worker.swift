import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import VigilCore
import VigilStore

/// The background jobs.
public enum WorkerJob: String, Sendable, CaseIterable {
    /// Mines labelled payments for fraud patterns and proposes them as rules.
    case mine
    /// Trains a gradient-boosted model and a logistic regression and registers the better as challenger.
    case train
    /// Watches segments for departures from their baseline; an onset raises an alert and mines the segment.
    case onset
}

/// Runs the background jobs, records every run in `worker_runs`, and answers `GET /v1/worker`.
///
/// The CPU-heavy part of each job (scans, mining, training, bucket queries) runs on a thread of its own at the
/// lowest priority (`LowPriorityThread`); only the short writes that follow (proposing rules, raising alerts,
/// registering a model) run on the shared pool. A job never runs twice at once.
public final class Worker: Sendable {
    public let settings: WorkerSettings
    public let store: WorkerStore
    public let rules: RuleService
    public let registry: ModelRegistry
    public let clock: any WallClock
    let logger: Logger
    let identifiers = IdentifierGenerator()
    private let running = Mutex<[WorkerJob: String]>([:])
    private let counters = Mutex<[WorkerJob: JobCounters]>([:])

    /// What `/metrics` shows per job.
    public struct JobCounters: Sendable, Equatable {
        public var runs: [WorkerRunStatus: Int] = [:]
        public var lastDurationSeconds: Double?
        public var lastSuccessMicros: Int64?

        public init() {}
    }

    public init(
        settings: WorkerSettings, store: WorkerStore, rules: RuleService, registry: ModelRegistry,
        clock: any WallClock, logger: Logger
    ) {
        self.settings = settings
        self.store = store
        self.rules = rules
        self.registry = registry
        self.clock = clock
        self.logger = logger
    }

    /// Per-job counters for `/metrics`.
    public var jobCounters: [WorkerJob: JobCounters] { counters.withLock { $0 } }

    public func interval(_ job: WorkerJob) -> Duration {
        switch job {
        case .mine: .seconds(settings.miningIntervalMinutes * 60)
        case .train: .seconds(settings.trainingIntervalMinutes * 60)
        case .onset: .seconds(settings.onsetIntervalMinutes * 60)
        }
    }

    // MARK: - Running

    /// Records a run of `job` and starts it; `wait` returns when it has finished, otherwise at once (the run
    /// continues in the background). A job already running is a conflict.
    public func run(_ job: WorkerJob, trigger: String, wait: Bool, force: Bool = false) async throws(ServiceError)
        -> WorkerRun
    {
        let now = clock.nowMicros()
        let runID = identifiers.make(prefix: "wr_", nowMicros: now)
        let busy = running.withLock { running -> String? in
            if let current = running[job] { return current }
            running[job] = runID
            return nil
        }
        if let busy { throw .conflict("\(job.rawValue) is already running (run \(busy))") }
        do {
            try await store.start(runID: runID, job: job.rawValue, trigger: trigger, nowMicros: now)
        } catch {
            _ = running.withLock { $0.removeValue(forKey: job) }
            throw .unavailable("the run could not be recorded: \(error)")
        }
        let started = WorkerRun(
            runID: runID, job: job.rawValue, trigger: trigger, status: .running, startedAtMicros: now,
            finishedAtMicros: nil, result: nil, error: nil)
        let task = Task { await self.execute(job, runID: runID, trigger: trigger, force: force, startedAt: now) }
        guard wait else { return started }
        // A waiting caller that is cancelled (the schedule at shutdown) cancels the run: it ends as failed.
        return await withTaskCancellationHandler {
            await task.value
        } onCancel: {
            task.cancel()
        }
    }

    private func execute(
        _ job: WorkerJob, runID: String, trigger: String, force: Bool, startedAt: Int64
    ) async -> WorkerRun {
        let clockStart = ContinuousClock.now
        var status = WorkerRunStatus.succeeded
        var result: String?
        var failure: String?
        do {
            switch job {
            case .mine:
                result = try await mine(runID: runID, request: nil).json
            case .train:
                let outcome = try await train(runID: runID, force: force || trigger == "manual")
                result = outcome.json
                if outcome.skipped { status = .skipped }
            case .onset:
                result = try await onset(runID: runID)
            }
        } catch {
            status = .failed
            failure = "\(error)"
            logger.error("worker job failed", metadata: ["job": "\(job.rawValue)", "run_id": "\(runID)"])
        }
        let finished = clock.nowMicros()
        do {
            try await store.finish(runID: runID, status: status, result: result, error: failure, nowMicros: finished)
        } catch {
            logger.error("worker run could not be recorded", metadata: ["run_id": "\(runID)"])
        }
        let elapsed = ContinuousClock.now - clockStart
        let seconds = elapsed.milliseconds / 1000
        counters.withLock { counters in
            counters[job, default: JobCounters()].runs[status, default: 0] += 1
            counters[job, default: JobCounters()].lastDurationSeconds = seconds
            if status == .succeeded { counters[job, default: JobCounters()].lastSuccessMicros = finished }
        }
        _ = running.withLock { $0.removeValue(forKey: job) }
        logger.info(
            "worker job finished",
            metadata: [
                "job": "\(job.rawValue)", "run_id": "\(runID)", "status": "\(status.rawValue)",
                "seconds": "\(String(format: "%.3f", seconds))",
            ])
        return WorkerRun(
            runID: runID, job: job.rawValue, trigger: trigger, status: status, startedAtMicros: startedAt,
            finishedAtMicros: finished, result: result, error: failure)
    }

    // MARK: - Mining

    /// What a mining run did: its result JSON and the fraud its proposals single out.
    struct MiningReport: Sendable {
        var json: String
        var coveredFraud: [Int64]
    }

    /// Mines the default window (or `request`'s) and proposes the best patterns.
    func mine(runID: String, request given: MiningRequest?) async throws -> MiningReport {
        let request: MiningRequest
        if let given {
            request = given
        } else {
            let store = self.store
            guard let now = try await LowPriorityThread.run({ try store.eventNow() }) else {
                return MiningReport(json: #"{"window":null,"note":"no payments stored yet"}"#, coveredFraud: [])
            }
            let width = Int64(settings.miningWindowDays) * 86_400_000_000
            request = MiningRequest(
                fromMicros: now + 1 - width, toMicros: now + 1, previousFromMicros: now + 1 - 2 * width, segment: nil,
                alertID: nil)
        }
        let computation = MiningComputation(
            scan: rules.scan, store: store, book: rules.engine.book, schema: rules.engine.schema,
            featureNames: rules.engine.featureNames, policy: registry.policy, settings: settings)
        let started = ContinuousClock.now
        let outcome = try await LowPriorityThread.run { try computation.run(request) }
        var proposed: [(rule: StoredRule, proposal: MinedProposal)] = []
        for proposal in outcome.proposals {
            do {
                let rule = try await rules.propose(
                    draft: draft(for: proposal, request: request, runID: runID), actor: "worker")
                proposed.append((rule, proposal))
            } catch {
                logger.warning(
                    "a mined pattern could not be proposed", metadata: ["expression": "\(proposal.expression)"])
            }
        }
        let elapsed = ContinuousClock.now - started
        var writer = JSONWriter(reservingCapacity: 2048)
        writer.objectStart()
        Self.writeWindow(request, into: &writer)
        writer.key("segment")
        Self.writeSegment(request.segment, into: &writer)
        writer.key("alert_id")
        writer.optionalString(request.alertID)
        writer.key("rows")
        writer.int(outcome.rows)
        writer.key("mined")
        writer.int(outcome.mined)
        writer.key("labelled")
        writer.int(outcome.labelled)
        writer.key("fraud")
        writer.int(outcome.fraud)
        writer.key("proposed")
        writer.arrayStart()
        for (rule, proposal) in proposed {
            writer.objectStart()
            writer.key("rule_id")
            writer.string(rule.ruleID)
            writer.key("expression")
            writer.string(proposal.expression)
            writer.key("precision")
            writer.number(proposal.pattern.precision)
            writer.key("precision_lower_bound")
            writer.number(proposal.pattern.precisionLowerBound)
            writer.objectEnd()
        }
        writer.arrayEnd()
        writer.key("skipped")
        writer.arrayStart()
        for skipped in outcome.skipped.prefix(50) {
            writer.objectStart()
            writer.key("expression")
            writer.string(skipped.expression)
            writer.key("reason")
            writer.string(skipped.reason)
            writer.objectEnd()
        }
        writer.arrayEnd()
        writer.key("elapsed_ms")
        writer.number(elapsed.milliseconds)
        writer.objectEnd()
        return MiningReport(
            json: String(decoding: writer.bytes, as: UTF8.self),
            coveredFraud: proposed.flatMap(\.proposal.fraudRows))
    }

    private func draft(for proposal: MinedProposal, request: MiningRequest, runID: String) -> RuleDraft {
        let pattern = proposal.pattern
        var writer = JSONWriter(reservingCapacity: 2048)
        writer.objectStart()
        writer.key("kind")
        writer.string("mined")
        writer.key("signature")
        writer.string(proposal.signature)
        writer.key("run_id")
        writer.string(runID)
        writer.key("alert_id")
        writer.optionalString(request.alertID)
        writer.key("segment")
        Self.writeSegment(request.segment, into: &writer)
        Self.writeWindow(request, into: &writer)
        writer.key("pattern")
        writer.objectStart()
        writer.key("support")
        writer.int(pattern.support)
        writer.key("fraud")
        writer.int(pattern.fraud)
        writer.key("precision")
        writer.number(pattern.precision)
        writer.key("recall")
        writer.number(pattern.recall)
        writer.key("lift")
        writer.number(pattern.lift)
        writer.key("precision_lower_bound")
        writer.number(pattern.precisionLowerBound)
        writer.objectEnd()
        writer.key("evidence")
        writer.objectStart()
        writer.key("window")
        RuleService.writeTallySummary(proposal.window, into: &writer)
        writer.key("previous_window")
        RuleService.writeTallySummary(proposal.previous, into: &writer)
        writer.objectEnd()
        writer.key("previously_rejected")
        writer.optionalString(proposal.previouslyRejected)
        writer.objectEnd()
        let percent = String(format: "%.0f%%", pattern.precision * 100)
        let description =
            "Mined by the worker: matches \(pattern.support) payments of the window, \(pattern.fraud) of them "
            + "labelled fraud (precision \(percent), lower bound \(String(format: "%.2f", pattern.precisionLowerBound)), "
            + "recall \(String(format: "%.2f", pattern.recall)), lift \(String(format: "%.1f", pattern.lift)))"
            + (request.alertID.map { ", after alert \($0)" } ?? "") + "."
        let name = String(("mined: " + proposal.expression).utf8.prefix(RuleService.maxNameBytes)) ?? "mined pattern"
        return RuleDraft(
            name: name, expression: proposal.expression, action: settings.ruleAction, points: nil, status: .proposed,
            expiresAtMicros: clock.nowMicros() + Int64(settings.ruleExpiryDays) * 86_400_000_000, owner: "worker",
            provenance: String(decoding: writer.bytes, as: UTF8.self), description: description)
    }

    static func writeWindow(_ request: MiningRequest, into writer: inout JSONWriter) {
        writer.key("window")
        writeSpan(from: request.fromMicros, to: request.toMicros, into: &writer)
        writer.key("previous_window")
        writeSpan(from: request.previousFromMicros, to: request.fromMicros, into: &writer)
    }

    /// `{"from": …, "to": …}` in RFC 3339.
    static func writeSpan(from: Int64, to: Int64, into writer: inout JSONWriter) {
        writer.objectStart()
        writer.key("from")
        writer.string(formatRFC3339(micros: from))
        writer.key("to")
        writer.string(formatRFC3339(micros: to))
        writer.objectEnd()
    }

    static func writeSegment(_ segment: MiningSegment?, into writer: inout JSONWriter) {
        guard let segment else {
            writer.null()
            return
        }
        writer.objectStart()
        writer.key("kind")
        writer.string(segment.kind.rawValue)
        writer.key("value")
        writer.string(segment.value)
        writer.objectEnd()
    }
}

// MARK: - Status

extension Worker {
    /// `GET /v1/worker`: each job's schedule, whether it is running, and its last runs with their results.
    public func status(recent: Int = 5) async throws(ServiceError) -> [UInt8] {
        var runsByJob: [WorkerJob: [WorkerRun]] = [:]
        for job in WorkerJob.allCases {
            runsByJob[job] = try await storeRead { try await store.runs(job: job.rawValue, limit: recent) }
        }
        let current = running.withLock { $0 }
        var writer = JSONWriter(reservingCapacity: 8192)
        writer.objectStart()
        writer.key("scheduled")
        writer.bool(settings.enabled)
        writer.key("jobs")
        writer.arrayStart()
        for job in WorkerJob.allCases {
            writer.objectStart()
            writer.key("job")
            writer.string(job.rawValue)
            writer.key("interval_seconds")
            writer.int(Int(interval(job).components.seconds))
            writer.key("running_run_id")
            writer.optionalString(current[job])
            writer.key("runs")
            writer.arrayStart()
            for run in runsByJob[job] ?? [] { Self.writeRun(run, into: &writer) }
            writer.arrayEnd()
            writer.objectEnd()
        }
        writer.arrayEnd()
        writer.objectEnd()
        return writer.bytes
    }

    /// A run as JSON (`POST /v1/worker/run` answers one).
    public static func runJSON(_ run: WorkerRun) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 2048)
        writeRun(run, into: &writer)
        return writer.bytes
    }

    static func writeRun(_ run: WorkerRun, into writer: inout JSONWriter) {
        writer.objectStart()
        writer.key("run_id")
        writer.string(run.runID)
        writer.key("job")
        writer.string(run.job)
        writer.key("trigger")
        writer.string(run.trigger)
        writer.key("status")
        writer.string(run.status.rawValue)
        writer.key("started_at")
        writer.string(formatRFC3339(micros: run.startedAtMicros))
        writer.key("finished_at")
        writer.optionalString(run.finishedAtMicros.map { formatRFC3339(micros: $0) })
        writer.key("result")
        if let result = run.result { writer.raw(Array(result.utf8)) } else { writer.null() }
        writer.key("error")
        writer.optionalString(run.error)
        writer.objectEnd()
    }
}

/// The worker's schedule as a swift-service-lifecycle Service: in `vigil serve` (unless `worker.enabled` is false)
/// and in `vigil worker`. Each job runs every its interval, the first time one interval after start; runs a killed
/// process left unfinished are marked failed at start.
public struct WorkerService: Service {
    public let worker: Worker

    public init(worker: Worker) {
        self.worker = worker
    }

    public func run() async throws {
        // At graceful shutdown the loop is cancelled, and with it a job in progress: stopping never waits for one.
        try await cancelWhenGracefulShutdown { await schedule() }
    }

    private func schedule() async {
        _ = try? await worker.store.failInterrupted(nowMicros: worker.clock.nowMicros())
        let clock = ContinuousClock()
        var next: [WorkerJob: ContinuousClock.Instant] = [:]
        for job in WorkerJob.allCases { next[job] = clock.now + worker.interval(job) }
        while !Task.isCancelled {
            let due = next.values.min() ?? clock.now
            do {
                try await Task.sleep(until: min(due, clock.now + .seconds(1)), clock: clock)
            } catch {
                return
            }
            for job in WorkerJob.allCases where next[job].map({ $0 <= clock.now }) ?? false {
                if Task.isCancelled { return }
                do throws(ServiceError) {
                    _ = try await worker.run(job, trigger: "schedule", wait: true)
                } catch {
                    worker.logger.warning(
                        "scheduled worker run not started", metadata: ["job": "\(job.rawValue)", "error": "\(error)"])
                }
                next[job] = clock.now + worker.interval(job)
            }
        }
    }
}

extension Worker {
    /// `POST /v1/worker/run`: `{"job": "mine" | "train" | "onset", "wait": false}`. A manual training run trains
    /// whatever the number of new labels. Returns the run and whether it has finished.
    public func runRequest(body: [UInt8]) async throws(ServiceError) -> WorkerRun {
        var reader = try JSONObjectReader(JSONInput.parse(body), known: ["job", "wait"])
        let job = reader.choice("job", required: true, WorkerJob.self)
        let wait = reader.bool("wait") ?? false
        try reader.check()
        guard let job else { throw .validation(reader.errors) }
        return try await run(job, trigger: "manual", wait: wait)
    }
}
