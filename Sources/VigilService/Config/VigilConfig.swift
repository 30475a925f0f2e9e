import Foundation
import VigilCore
import VigilStore

/// Everything Vigil can be configured with, and the embedded defaults it starts with.
///
/// Keys (YAML path · environment variable · default):
/// - `server.host` · `VIGIL_SERVER_HOST` · `127.0.0.1`
/// - `server.port` · `VIGIL_SERVER_PORT` · `8080`
/// - `server.max_body_bytes` · `VIGIL_SERVER_MAX_BODY_BYTES` · `65536` (request body, after gzip too)
/// - `server.shutdown_grace_seconds` · `VIGIL_SERVER_SHUTDOWN_GRACE_SECONDS` · `10`
/// - `server.idle_timeout_seconds` · `VIGIL_SERVER_IDLE_TIMEOUT_SECONDS` · `30` (a connection with no complete request
///   head for this long is closed: idle keep-alive connections and clients that send headers slowly)
/// - `server.body_timeout_seconds` · `VIGIL_SERVER_BODY_TIMEOUT_SECONDS` · `30` (a request body must arrive within
///   this long after its head, or the connection is closed: clients that send bodies slowly)
/// - `database.path` · `VIGIL_DATABASE_PATH` · `vigil.sqlite`
/// - `database.synchronous` · `VIGIL_DATABASE_SYNCHRONOUS` · `normal` (`full` also survives power loss)
/// - `database.commit_window_us` · `VIGIL_DATABASE_COMMIT_WINDOW_US` · `250` (0: commit as soon as the writer is free)
/// - `model.path` · `VIGIL_MODEL_PATH` · empty: the embedded default model. Seeds an empty model registry as the
///   champion; once the registry has a champion, the registry decides and this key is not read.
/// - `model.max_upload_bytes` · `VIGIL_MODEL_MAX_UPLOAD_BYTES` · `67108864` (`POST /v1/models`, after gzip too)
/// - `features` · `VIGIL_FEATURES` (comma-separated) · see `defaultFeatures`
/// - `high_risk_merchant_categories` · `VIGIL_HIGH_RISK_MERCHANT_CATEGORIES` · `4829,5967,6051,6211,7995`
/// - `decision.review_at` · `VIGIL_DECISION_REVIEW_AT` · `40`
/// - `decision.decline_at` · `VIGIL_DECISION_DECLINE_AT` · `80`
/// - `reasons.count` · `VIGIL_REASONS_COUNT` · `3`
/// - `review.priority` · `VIGIL_REVIEW_PRIORITY` · `expected_loss` (probability × amount; or `score`, `amount`)
/// - `review.sample_rate` · `VIGIL_REVIEW_SAMPLE_RATE` · `0.005` (share of approvals that also open a `sample` case)
/// - `review.lease_seconds` · `VIGIL_REVIEW_LEASE_SECONDS` · `900` (how long a claim holds a case)
/// - `rules.strength` · `VIGIL_RULES_STRENGTH` · `1` (α ∈ [0, 1]: how much `score` rules' points count against the
///   model; `POST /v1/score?rule_strength=` overrides it per request)
/// - `rules.max_live` · `VIGIL_RULES_MAX_LIVE` · `1000` (rules in `shadow` or `active` at once)
/// - `rules.precision_floor` · `VIGIL_RULES_PRECISION_FLOOR` · `0.5` (an active rule below it on fresh labels raises
///   an alert)
/// - `rules.precision_min_labels` · `VIGIL_RULES_PRECISION_MIN_LABELS` · `20` (labelled hits needed before it is judged)
/// - `rules.precision_window_days` · `VIGIL_RULES_PRECISION_WINDOW_DAYS` · `7` (what "fresh" labels are)
/// - `rules.check_interval_seconds` · `VIGIL_RULES_CHECK_INTERVAL_SECONDS` · `60` (precision and expiry checks)
/// - `guard.enabled` · `VIGIL_GUARD_ENABLED` · `true` (the blast-radius guard on rule changes and promotions)
/// - `guard.factor` · `VIGIL_GUARD_FACTOR` · `3` (k: revert when the decline or review rate exceeds k × baseline)
/// - `guard.window_minutes` · `VIGIL_GUARD_WINDOW_MINUTES` · `10` (N: how long after a change it is watched)
/// - `guard.baseline_minutes` · `VIGIL_GUARD_BASELINE_MINUTES` · `60` (the trailing baseline before the change)
/// - `guard.min_decisions` · `VIGIL_GUARD_MIN_DECISIONS` · `200` (decisions after the change before it is judged)
/// - `guard.min_rate` · `VIGIL_GUARD_MIN_RATE` · `0.01` (a baseline rate below this counts as this)
/// - `velocity.lateness_seconds` · `VIGIL_VELOCITY_LATENESS_SECONDS` · `3600` (how late a payment may arrive, behind
///   its entity's newest, and still be counted in history features)
/// - `velocity.max_events_per_entity` · `VIGIL_VELOCITY_MAX_EVENTS_PER_ENTITY` · `4096` (payments, and as many
///   labels, kept per card, merchant, …)
/// - `worker.enabled` · `VIGIL_WORKER_ENABLED` · `true` (`vigil serve` runs the background jobs on their schedule)
/// - `worker.cpu_share` · `0.25` (share of one core a running job may use; 1: no limit)
/// - `worker.mining_interval_minutes` · `60`, `worker.training_interval_minutes` · `60`,
///   `worker.onset_interval_minutes` · `5` (how often each job runs; `POST /v1/worker/run` runs one now)
/// - `worker.mining_window_days` · `14` (event time mined; the window before it is the second backtest)
/// - `worker.mining_top` · `5` (rules proposed per run), `worker.mining_min_fraud` · `5` (fraud a pattern covers)
/// - `worker.mining_min_precision` · `0.5` (Wilson lower bound of precision a proposal needs)
/// - `worker.mining_max_rows` · `2000000` (stored payments a mining scan reads)
/// - `worker.mining_unlabelled` · `legit` (unlabelled payments are mined as legitimate; `skip`: labelled ones only)
/// - `worker.rule_expiry_days` · `14`, `worker.rule_action` · `review` (a mined rule's expiry and action)
/// - `worker.material_change` · `0.1` (rise of the precision bound that re-proposes a rejected pattern)
/// - `worker.training_min_new_labels` · `1000` (labels since the last training before a scheduled one trains)
/// - `worker.training_unlabelled` · `legit` (train on every payment, unlabelled ones as legitimate; `skip`: labelled only)
/// - `worker.training_max_rows` · `200000`, `worker.training_trees` · `200`, `worker.training_max_depth` · `6`,
///   `worker.training_learning_rate` · `0.1`
/// - `worker.auto_promote` · `false`, `worker.promote_margin` · `0.01` (promote a challenger whose held-out AUC beats
///   the champion's by the margin; the blast-radius guard watches it)
/// - `worker.onset_bucket_minutes` · `60`, `worker.onset_baseline_buckets` · `48`, `worker.onset_min_volume` · `30`,
///   `worker.onset_threshold` · `4` (robust z), `worker.onset_merchants` · `20` (busiest merchants watched)
///   (each `worker.*` key also as `VIGIL_WORKER_…`)
/// - `auth.key_refresh_seconds` · `VIGIL_AUTH_KEY_REFRESH_SECONDS` · `2`
/// - `metrics.require_key` · `VIGIL_METRICS_REQUIRE_KEY` · `false` (true: any valid key may read it)
/// - `log.level` · `VIGIL_LOG_LEVEL` · `info`
/// - `log.requests` · `VIGIL_LOG_REQUESTS` · `true` (one JSON line per request)
public struct VigilConfig: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var maxBodyBytes = 65_536
    public var shutdownGraceSeconds = 10
    public var idleTimeoutSeconds = 30
    public var bodyTimeoutSeconds = 30
    public var databasePath = "vigil.sqlite"
    public var synchronous = VigilDatabase.SynchronousMode.normal
    public var commitWindowMicros = 250
    public var modelPath = ""
    public var maxModelUploadBytes = 67_108_864
    public var features = VigilConfig.defaultFeatures
    public var highRiskMerchantCategories = ["4829", "5967", "6051", "6211", "7995"]
    public var reviewAt = 40
    public var declineAt = 80
    public var reasonCount = 3
    public var reviewPriority = ReviewPolicy.Priority.expectedLoss
    public var sampleRate = 0.005
    public var leaseSeconds = 900
    public var ruleStrength = 1.0
    public var maxLiveRules = 1000
    public var precisionFloor = 0.5
    public var precisionMinLabels = 20
    public var precisionWindowDays = 7
    public var ruleCheckIntervalSeconds = 60
    public var guardEnabled = true
    public var guardFactor = 3.0
    public var guardWindowMinutes = 10
    public var guardBaselineMinutes = 60
    public var guardMinDecisions = 200
    public var guardMinRate = 0.01
    public var velocityLatenessSeconds = 3600
    public var velocityMaxEventsPerEntity = 4096
    public var keyRefreshSeconds = 2
    public var worker = WorkerSettings()
    public var metricsRequireKey = false
    public var logLevel = "info"
    public var logRequests = true

    public static let defaultFeatures = [
        "amount", "log_amount", "hour_of_day", "day_of_week", "is_weekend", "is_night",
        "card_merchant_country_mismatch", "ip_card_country_mismatch", "channel_pos", "channel_ecommerce",
        "channel_contactless", "channel_atm", "mcc_high_risk", "has_email", "has_device_id",
        "card_id_count_1h", "card_id_count_24h", "card_id_sum_amount_24h", "amount_to_card_id_avg_amount_30d",
        "card_id_distinct_merchant_id_24h", "card_id_first_seen_seconds", "device_id_distinct_card_id_24h",
        "email_count_24h", "ip_address_count_1h", "merchant_id_fraud_rate_7d",
    ]

    /// Every key, in documentation order; anything else in a file or `VIGIL_` variable is refused.
    public static let keys = [
        "server.host", "server.port", "server.max_body_bytes", "server.shutdown_grace_seconds",
        "server.idle_timeout_seconds", "server.body_timeout_seconds", "database.path",
        "database.synchronous", "database.commit_window_us", "model.path", "model.max_upload_bytes", "features",
        "high_risk_merchant_categories", "decision.review_at", "decision.decline_at", "reasons.count",
        "review.priority", "review.sample_rate",
        "review.lease_seconds", "rules.strength", "rules.max_live", "rules.precision_floor",
        "rules.precision_min_labels", "rules.precision_window_days", "rules.check_interval_seconds", "guard.enabled",
        "guard.factor", "guard.window_minutes", "guard.baseline_minutes", "guard.min_decisions", "guard.min_rate",
        "velocity.lateness_seconds", "velocity.max_events_per_entity", "worker.enabled", "worker.cpu_share",
        "worker.mining_interval_minutes", "worker.training_interval_minutes", "worker.onset_interval_minutes",
        "worker.mining_window_days", "worker.mining_top", "worker.mining_min_fraud", "worker.mining_min_precision",
        "worker.mining_max_rows", "worker.mining_unlabelled", "worker.rule_expiry_days", "worker.rule_action",
        "worker.material_change",
        "worker.training_min_new_labels", "worker.training_unlabelled", "worker.training_max_rows",
        "worker.training_trees",
        "worker.training_max_depth", "worker.training_learning_rate", "worker.auto_promote", "worker.promote_margin",
        "worker.onset_bucket_minutes", "worker.onset_baseline_buckets", "worker.onset_min_volume",
        "worker.onset_threshold", "worker.onset_merchants",
        "auth.key_refresh_seconds", "metrics.require_key", "log.level",
        "log.requests",
    ]

    public init() {}

    public var ruleSettings: RuleSettings {
        RuleSettings(
            strength: ruleStrength, maxLive: maxLiveRules, precisionFloor: precisionFloor,
            precisionMinLabels: precisionMinLabels, precisionWindowDays: precisionWindowDays,
            checkIntervalSeconds: ruleCheckIntervalSeconds)
    }

    public var reviewPolicy: ReviewPolicy {
        ReviewPolicy(priority: reviewPriority, sampleRate: sampleRate, leaseSeconds: leaseSeconds)
    }

    /// Applies flat `key → text` settings over the current values, refusing unknown keys and bad values.
    public mutating func apply(_ settings: [(key: String, value: String, source: String)]) throws(ConfigError) {
        for (key, value, source) in settings {
            let place = "\(key) (from \(source))"
            switch key {
            case "server.host":
                guard !value.isEmpty else { throw .invalid(place, "must not be empty") }
                host = value
            case "server.port": port = try Self.int(value, place, in: 0...65_535)
            case "server.max_body_bytes": maxBodyBytes = try Self.int(value, place, in: 1_024...16_777_216)
            case "server.shutdown_grace_seconds": shutdownGraceSeconds = try Self.int(value, place, in: 0...600)
            case "server.idle_timeout_seconds": idleTimeoutSeconds = try Self.int(value, place, in: 1...3_600)
            case "server.body_timeout_seconds": bodyTimeoutSeconds = try Self.int(value, place, in: 1...3_600)
            case "database.path":
                guard !value.isEmpty else { throw .invalid(place, "must not be empty") }
                databasePath = value
            case "database.synchronous":
                guard let mode = VigilDatabase.SynchronousMode(rawValue: value.uppercased()) else {
                    throw .invalid(place, "must be normal or full, not \(value)")
                }
                synchronous = mode
            case "database.commit_window_us": commitWindowMicros = try Self.int(value, place, in: 0...100_000)
            case "model.path": modelPath = value
            case "model.max_upload_bytes": maxModelUploadBytes = try Self.int(value, place, in: 1_024...1_073_741_824)
            case "features": features = Self.list(value)
            case "high_risk_merchant_categories": highRiskMerchantCategories = Self.list(value)
            case "decision.review_at": reviewAt = try Self.int(value, place, in: 0...101)
            case "decision.decline_at": declineAt = try Self.int(value, place, in: 0...101)
            case "reasons.count": reasonCount = try Self.int(value, place, in: 0...50)
            case "review.priority":
                guard let priority = ReviewPolicy.Priority(rawValue: value) else {
                    throw .invalid(place, "must be expected_loss, score or amount, not \(value)")
                }
                reviewPriority = priority
            case "review.sample_rate": sampleRate = try Self.double(value, place, in: 0...1)
            case "rules.strength": ruleStrength = try Self.double(value, place, in: 0...1)
            case "rules.max_live": maxLiveRules = try Self.int(value, place, in: 0...10_000)
            case "rules.precision_floor": precisionFloor = try Self.double(value, place, in: 0...1)
            case "rules.precision_min_labels": precisionMinLabels = try Self.int(value, place, in: 1...1_000_000)
            case "rules.precision_window_days": precisionWindowDays = try Self.int(value, place, in: 1...365)
            case "rules.check_interval_seconds": ruleCheckIntervalSeconds = try Self.int(value, place, in: 1...86_400)
            case "velocity.lateness_seconds": velocityLatenessSeconds = try Self.int(value, place, in: 0...604_800)
            case "velocity.max_events_per_entity":
                velocityMaxEventsPerEntity = try Self.int(value, place, in: 16...1_000_000)
            case "guard.enabled": guardEnabled = try Self.bool(value, place)
            case "guard.factor": guardFactor = try Self.double(value, place, in: 1...1_000)
            case "guard.window_minutes": guardWindowMinutes = try Self.int(value, place, in: 1...1_440)
            case "guard.baseline_minutes": guardBaselineMinutes = try Self.int(value, place, in: 1...10_080)
            case "guard.min_decisions": guardMinDecisions = try Self.int(value, place, in: 1...10_000_000)
            case "guard.min_rate": guardMinRate = try Self.double(value, place, in: 0...1)
            case "review.lease_seconds": leaseSeconds = try Self.int(value, place, in: 10...86_400)
            case "worker.enabled": worker.enabled = try Self.bool(value, place)
            case "worker.cpu_share": worker.cpuShare = try Self.double(value, place, in: 0.05...1)
            case "worker.mining_interval_minutes":
                worker.miningIntervalMinutes = try Self.int(value, place, in: 1...10_080)
            case "worker.training_interval_minutes":
                worker.trainingIntervalMinutes = try Self.int(value, place, in: 1...10_080)
            case "worker.onset_interval_minutes":
                worker.onsetIntervalMinutes = try Self.int(value, place, in: 1...1_440)
            case "worker.mining_window_days": worker.miningWindowDays = try Self.int(value, place, in: 1...365)
            case "worker.mining_top": worker.miningTop = try Self.int(value, place, in: 1...100)
            case "worker.mining_min_fraud": worker.miningMinFraud = try Self.int(value, place, in: 1...1_000_000)
            case "worker.mining_min_precision": worker.miningMinPrecision = try Self.double(value, place, in: 0...1)
            case "worker.mining_max_rows": worker.miningMaxRows = try Self.int(value, place, in: 1_000...50_000_000)
            case "worker.mining_unlabelled":
                guard value == "legit" || value == "skip" else {
                    throw .invalid(place, "must be legit or skip, not \(value)")
                }
                worker.miningUnlabelledAsLegit = value == "legit"
            case "worker.rule_expiry_days": worker.ruleExpiryDays = try Self.int(value, place, in: 1...365)
            case "worker.rule_action":
                guard let action = RuleActionKind(rawValue: value), action != .score else {
                    throw .invalid(place, "must be review, block or allow, not \(value)")
                }
                worker.ruleAction = action
            case "worker.material_change": worker.materialChange = try Self.double(value, place, in: 0...1)
            case "worker.training_min_new_labels":
                worker.trainingMinNewLabels = try Self.int(value, place, in: 1...100_000_000)
            case "worker.training_unlabelled":
                guard value == "legit" || value == "skip" else {
                    throw .invalid(place, "must be legit or skip, not \(value)")
                }
                worker.trainingUnlabelledAsLegit = value == "legit"
            case "worker.training_max_rows": worker.trainingMaxRows = try Self.int(value, place, in: 100...10_000_000)
            case "worker.training_trees": worker.trainingTrees = try Self.int(value, place, in: 1...5_000)
            case "worker.training_max_depth": worker.trainingMaxDepth = try Self.int(value, place, in: 1...12)
            case "worker.training_learning_rate":
                worker.trainingLearningRate = try Self.double(value, place, in: 0.001...1)
            case "worker.auto_promote": worker.autoPromote = try Self.bool(value, place)
            case "worker.promote_margin": worker.promoteMargin = try Self.double(value, place, in: 0...1)
            case "worker.onset_bucket_minutes": worker.onsetBucketMinutes = try Self.int(value, place, in: 1...1_440)
            case "worker.onset_baseline_buckets":
                worker.onsetBaselineBuckets = try Self.int(value, place, in: 2...10_000)
            case "worker.onset_min_volume": worker.onsetMinVolume = try Self.int(value, place, in: 1...1_000_000)
            case "worker.onset_threshold": worker.onsetThreshold = try Self.double(value, place, in: 0.5...1_000)
            case "worker.onset_merchants": worker.onsetMerchants = try Self.int(value, place, in: 0...1_000)
            case "auth.key_refresh_seconds": keyRefreshSeconds = try Self.int(value, place, in: 1...3_600)
            case "metrics.require_key": metricsRequireKey = try Self.bool(value, place)
            case "log.level":
                let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
                guard levels.contains(value) else {
                    throw .invalid(place, "must be one of \(levels.joined(separator: ", ")), not \(value)")
                }
                logLevel = value
            case "log.requests": logRequests = try Self.bool(value, place)
            default:
                throw .unknownKey(key, source: source)
            }
        }
        guard reviewAt <= declineAt else {
            throw .invalid("decision.review_at", "(\(reviewAt)) must not be above decision.decline_at (\(declineAt))")
        }
    }

    static func list(_ value: String) -> [String] {
        value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static func int(_ value: String, _ place: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let number = Int(value.trimmingCharacters(in: .whitespaces)), range.contains(number) else {
            throw .invalid(
                place, "must be a whole number from \(range.lowerBound) to \(range.upperBound), not \(value)")
        }
        return number
    }

    static func double(_ value: String, _ place: String, in range: ClosedRange<Double>) throws(ConfigError) -> Double {
        guard let number = Double(value.trimmingCharacters(in: .whitespaces)), number.isFinite, range.contains(number)
        else {
            throw .invalid(place, "must be a number from \(range.lowerBound) to \(range.upperBound), not \(value)")
        }
        return number
    }

    static func bool(_ value: String, _ place: String) throws(ConfigError) -> Bool {
        switch value.lowercased() {
        case "true", "yes", "1", "on": return true
        case "false", "no", "0", "off": return false
        default: throw .invalid(place, "must be true or false, not \(value)")
        }
    }
}

/// Why a configuration was refused.
public enum ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownKey(String, source: String)
    case invalid(String, String)
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .unknownKey(let key, let source):
            "unknown configuration key \(key) (from \(source)); known keys: \(VigilConfig.keys.joined(separator: ", "))"
        case .invalid(let place, let message): "\(place) \(message)"
        case .unreadable(let path, let reason): "cannot read configuration file \(path): \(reason)"
        }
    }
}
