import Prometheus
import Synchronization
import VigilCore
import VigilService
import VigilStore

/// Vigil's Prometheus metrics, created once; per-route handles are cached so recording is cheap.
public final class VigilMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let decisions: [Decision: Counter]
    private let casesOpened: Counter
    private let replays: Counter
    private let queueOpen: Gauge
    private let queueUnassigned: Gauge
    private let oldestOpenAge: Gauge
    private let verdicts24h: Gauge
    private let reviewedFraudShare: Gauge
    private let sampleMissRate: Gauge
    private let sampleMissRateLow: Gauge
    private let sampleMissRateHigh: Gauge
    private let timeToVerdictMedian: Gauge
    private let timeToVerdictP90: Gauge
    private let labelMaturity: Gauge
    /// When label maturity was last computed (it scans every payment).
    private let maturityComputedAt = Mutex<Int64>(.min)
    /// Review verdicts per hour over the last day, per reviewer; created on first sight of a reviewer.
    private let reviewerRates = Mutex<[String: Gauge]>([:])
    private let workerGauges = Mutex<[String: Gauge]>([:])
    /// Challenger shadow decisions: [agreed with the champion, disagreed].
    private let shadow: [Counter]
    private let commitBatchSize: ValueHistogram
    private let commitDuration: DurationHistogram
    private let commitFailures: Counter
    private let requestHandles = Mutex<[RouteKey: RouteHandles]>([:])

    private struct RouteKey: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    private struct RouteHandles {
        var requests: Counter
        var latency: DurationHistogram
    }

    static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
    ]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var decisions: [Decision: Counter] = [:]
        for decision in Decision.allCases {
            decisions[decision] = registry.makeCounter(
                descriptor: Self.descriptor(
                    "vigil_decisions_total", "Decisions made, by outcome (replays of a stored decision not counted)"),
                labels: [("decision", decision.rawValue)])
        }
        self.decisions = decisions
        casesOpened = registry.makeCounter(
            descriptor: Self.descriptor("vigil_cases_opened_total", "Review cases opened"))
        replays = registry.makeCounter(
            descriptor: Self.descriptor("vigil_score_replays_total", "Score requests answered from a stored decision"))
        shadow = ["true", "false"].map { agree in
            registry.makeCounter(
                descriptor: Self.descriptor(
                    "vigil_challenger_decisions_total",
                    "Payments the challenger scored in shadow, by whether its decision agreed with the champion's"),
                labels: [("agree", agree)])
        }
        queueOpen = registry.makeGauge(
            descriptor: Self.descriptor("vigil_review_queue_open_cases", "Open review cases"))
        queueUnassigned = registry.makeGauge(
            descriptor: Self.descriptor("vigil_review_queue_unassigned_cases", "Open review cases nobody holds"))
        oldestOpenAge = registry.makeGauge(
            descriptor: Self.descriptor("vigil_review_oldest_open_case_age_seconds", "Age of the oldest open case"))
        verdicts24h = registry.makeGauge(
            descriptor: Self.descriptor("vigil_review_verdicts_last_day_count", "Review verdicts in the last 24 hours"))
        reviewedFraudShare = registry.makeGauge(
            descriptor: Self.descriptor(
                "vigil_review_confirmed_fraud_ratio", "Share of reviewed cases the reviewer confirmed as fraud"))
        sampleMissRate = registry.makeGauge(
            descriptor: Self.descriptor(
                "vigil_sample_miss_rate_ratio", "Share of labelled exploration-sample approvals that were fraud"))
        sampleMissRateLow = registry.makeGauge(
            descriptor: Self.descriptor(
                "vigil_sample_miss_rate_low_ratio", "Lower end of the 95 % Wilson interval of the sample miss rate"))
        sampleMissRateHigh = registry.makeGauge(
            descriptor: Self.descriptor(
                "vigil_sample_miss_rate_high_ratio", "Upper end of the 95 % Wilson interval of the sample miss rate"))
        timeToVerdictMedian = registry.makeGauge(
            descriptor: Self.descriptor(
                "vigil_review_time_to_verdict_median_seconds", "Median time from a case opening to its verdict"))
        timeToVerdictP90 = registry.makeGauge(
            descriptor: Self.descriptor(
                "vigil_review_time_to_verdict_p90_seconds",
                "90th percentile of the time from a case opening to its verdict"
            ))
        labelMaturity = registry.makeGauge(
            descriptor: Self.descriptor(
                "vigil_label_maturity_ratio",
                "Share of payments older than 30 days that have a label (recomputed at most once a minute)"))
        commitBatchSize = registry.makeValueHistogram(
            descriptor: Self.descriptor("vigil_commit_batch_size", "Scored payments per group commit"),
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512])
        commitDuration = registry.makeDurationHistogram(
            descriptor: Self.descriptor(
                "vigil_commit_duration_seconds", "Time to write and commit one group of scored payments"),
            buckets: Self.latencyBuckets)
        commitFailures = registry.makeCounter(
            descriptor: Self.descriptor("vigil_commit_failures_total", "Group commits that failed"))
    }

    /// A descriptor whose exposed name is `fullName` (its last `_` part is the unit).
    static func descriptor(_ fullName: String, _ help: String) -> MetricNameDescriptor {
        let cut = fullName.lastIndex(of: "_")!
        return MetricNameDescriptor(
            metricName: String(fullName[..<cut]), unitName: String(fullName[fullName.index(after: cut)...]),
            helpText: help)
    }

    /// Counts one answered request under its route template (never the raw path).
    public func recordRequest(route: String, method: String, status: Int, latency: Duration) {
        let key = RouteKey(route: route, method: method, status: status)
        let handles = requestHandles.withLock { cache -> RouteHandles in
            if let handles = cache[key] { return handles }
            let handles = RouteHandles(
                requests: registry.makeCounter(
                    descriptor: Self.descriptor(
                        "vigil_http_requests_total", "HTTP requests by route template, method and status"),
                    labels: [("route", route), ("method", method), ("status", String(status))]),
                latency: registry.makeDurationHistogram(
                    descriptor: Self.descriptor(
                        "vigil_http_request_duration_seconds", "HTTP request latency by route template"),
                    labels: [("route", route), ("method", method), ("status", String(status))],
                    buckets: Self.latencyBuckets))
            cache[key] = handles
            return handles
        }
        handles.requests.increment()
        handles.latency.record(latency)
    }

    public func recordDecision(_ decision: Decision, openedCase: Bool) {
        decisions[decision]?.increment()
        if openedCase { casesOpened.increment() }
    }

    public func recordReplay() { replays.increment() }

    public func recordShadow(agreed: Bool) { shadow[agreed ? 0 : 1].increment() }

    /// Whether label maturity should be recomputed for this scrape (at most once a minute).
    public func isMaturityDue(nowMicros: Int64) -> Bool {
        maturityComputedAt.withLock { last in
            guard last == .min || nowMicros - last >= 60_000_000 else { return false }
            last = nowMicros
            return true
        }
    }

    /// Sets the review gauges from a fresh reading, just before `/metrics` renders.
    /// The worker's per-job counts since start, last duration and last success, set when scraped.
    public func recordWorker(_ counters: [WorkerJob: Worker.JobCounters]) {
        workerGauges.withLock { gauges in
            func gauge(_ name: String, _ help: String, _ labels: [(String, String)]) -> Gauge {
                let key = name + labels.map { "|\($0.1)" }.joined()
                if let existing = gauges[key] { return existing }
                let made = registry.makeGauge(descriptor: Self.descriptor(name, help), labels: labels)
                gauges[key] = made
                return made
            }
            for job in WorkerJob.allCases {
                let counts = counters[job] ?? Worker.JobCounters()
                for status in WorkerRunStatus.allCases where status != .running {
                    gauge(
                        "vigil_worker_runs", "Background job runs since the process started, by job and outcome",
                        [("job", job.rawValue), ("status", status.rawValue)]
                    ).set(Double(counts.runs[status] ?? 0))
                }
                gauge(
                    "vigil_worker_last_duration_seconds", "How long the job's last run took", [("job", job.rawValue)]
                ).set(counts.lastDurationSeconds ?? 0)
                gauge(
                    "vigil_worker_last_success_timestamp_seconds", "When the job last succeeded (Unix time, 0: never)",
                    [("job", job.rawValue)]
                ).set(Double(counts.lastSuccessMicros ?? 0) / 1e6)
            }
        }
    }

    public func recordReview(_ stats: ReviewStats) {
        queueOpen.set(Double(stats.openCases))
        queueUnassigned.set(Double(stats.openUnassigned))
        oldestOpenAge.set(stats.oldestOpenAgeSeconds ?? 0)
        verdicts24h.set(Double(stats.reviewVerdictsLast24h))
        reviewedFraudShare.set(
            stats.reviewedCases > 0 ? Double(stats.confirmedFraud) / Double(stats.reviewedCases) : 0)
        sampleMissRate.set(stats.sampleLabelled > 0 ? Double(stats.sampleFraud) / Double(stats.sampleLabelled) : 0)
        let interval = ReviewStats.wilson(successes: stats.sampleFraud, trials: stats.sampleLabelled)
        sampleMissRateLow.set(interval?.low ?? 0)
        sampleMissRateHigh.set(interval?.high ?? 0)
        timeToVerdictMedian.set(stats.medianTimeToVerdictSeconds ?? 0)
        timeToVerdictP90.set(stats.p90TimeToVerdictSeconds ?? 0)
        if stats.matureTransactions > 0 {
            labelMaturity.set(Double(stats.matureLabelled) / Double(stats.matureTransactions))
        }
        reviewerRates.withLock { gauges in
            for (reviewer, gauge) in gauges where stats.verdictsByReviewer[reviewer] == nil { gauge.set(0.0) }
            for (reviewer, count) in stats.verdictsByReviewer {
                let gauge =
                    gauges[reviewer]
                    ?? registry.makeGauge(
                        descriptor: Self.descriptor(
                            "vigil_review_verdicts_per_hour_ratio",
                            "Review verdicts per hour over the last 24 hours, by reviewer"),
                        labels: [("reviewer", reviewer)])
                gauges[reviewer] = gauge
                gauge.set(Double(count) / 24)
            }
        }
    }

    public func recordCommit(batchSize: Int, seconds: Double, succeeded: Bool) {
        commitBatchSize.record(Double(batchSize))
        commitDuration.record(.nanoseconds(Int64(seconds * 1e9)))
        if !succeeded { commitFailures.increment() }
    }

    /// The Prometheus text exposition.
    public func render() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16_384)
        registry.emit(into: &buffer)
        return buffer
    }
}
