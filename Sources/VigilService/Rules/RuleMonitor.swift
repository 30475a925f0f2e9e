import Logging
import ServiceLifecycle
import VigilCore
import VigilStore

extension RuleService {
    /// Carries out what the blast-radius guard decided: reverts and their alerts. Returns the trips handled.
    @discardableResult
    public func enforceGuard() async -> [BlastRadiusGuard.Trip] {
        let now = clock.nowMicros()
        let trips = rateGuard.check(nowMicros: now)
        for trip in trips {
            let watch = trip.watch
            var details = JSONWriter()
            details.objectStart()
            details.key("change")
            details.string(watch.description)
            details.key("started_at")
            details.string(formatRFC3339(micros: watch.startedAtMicros))
            details.key("baseline")
            BlastRadiusGuard.write(watch.baseline, into: &details)
            details.key("after")
            BlastRadiusGuard.write(trip.after, into: &details)
            details.key("factor")
            details.number(rateGuard.settings.factor)
            details.objectEnd()
            let subjectType: String
            let subjectID: String
            var reverted = "reverted"
            switch watch.subject {
            case .rule(let ruleID):
                subjectType = "rule"
                subjectID = ruleID
                do {
                    let previous = try await watch.revertToVersion.asyncMap {
                        try await store.version(ruleID: ruleID, version: $0)
                    }
                    _ = try await store.update(
                        ruleID: ruleID, expectedVersion: watch.changedVersion, actor: "guard", nowMicros: now,
                        change: "rule.reverted"
                    ) { current in
                        if let previous = previous ?? nil { return previous.draft }
                        var draft = current.draft
                        draft.status = .disabled
                        return draft
                    }
                    try await engine.reload()
                } catch {
                    reverted = "could not be reverted (\(error))"
                }
            case .champion:
                subjectType = "model"
                subjectID = "champion"
                do throws(ServiceError) {
                    try await registry.rollback(.champion, by: "guard")
                } catch {
                    reverted = "could not be rolled back (\(error))"
                }
            }
            let alert = NewAlert(
                alertID: IdentifierGenerator().make(prefix: "al_", nowMicros: now), kind: "blast_radius_revert",
                subjectType: subjectType, subjectID: subjectID,
                message: "\(watch.description) \(reverted) by the blast-radius guard: \(trip.reason)",
                details: String(decoding: details.bytes, as: UTF8.self),
                dedupeKey: "guard:\(subjectID):\(watch.startedAtMicros)")
            _ = try? await alerts.raise(alert, nowMicros: now)
        }
        return trips
    }

    /// Disables live rules past their `expires_at` (they stopped acting at that instant already) and raises an
    /// alert for each active rule whose precision on fresh labels is below `rules.precision_floor`.
    public func runChecks() async throws(ServiceError) {
        let now = clock.nowMicros()
        let live = try await storeRead { try await store.live() }
        var changed = false
        for rule in live {
            if let expires = rule.expiresAtMicros, expires <= now {
                _ = try? await store.update(
                    ruleID: rule.ruleID, expectedVersion: rule.version, actor: "vigil", nowMicros: now,
                    change: "rule.expired"
                ) { current in
                    var draft = current.draft
                    draft.status = .disabled
                    return draft
                }
                changed = true
                continue
            }
            guard rule.status == .active else { continue }
            let freshSince = now - Int64(settings.precisionWindowDays) * 86_400_000_000
            let stats = try await storeRead {
                try await store.hitStats(
                    ruleID: rule.ruleID, sinceMicros: rule.statusSinceMicros, labelledSinceMicros: freshSince)
            }
            guard stats.freshLabelledHits >= settings.precisionMinLabels else { continue }
            let precision = Double(stats.freshFraudHits) / Double(stats.freshLabelledHits)
            guard precision < settings.precisionFloor else { continue }
            var details = JSONWriter()
            details.objectStart()
            details.key("version")
            details.int(rule.version)
            details.key("precision")
            details.number(precision)
            details.key("floor")
            details.number(settings.precisionFloor)
            details.key("labelled_hits")
            details.int(stats.freshLabelledHits)
            details.key("fraud_hits")
            details.int(stats.freshFraudHits)
            details.key("labelled_since")
            details.string(formatRFC3339(micros: freshSince))
            details.objectEnd()
            let alert = NewAlert(
                alertID: IdentifierGenerator().make(prefix: "al_", nowMicros: now), kind: "rule_precision_floor",
                subjectType: "rule", subjectID: rule.ruleID,
                message:
                    "rule \(rule.ruleID) (\(rule.name)) version \(rule.version): precision \(BlastRadiusGuard.percent(precision)) "
                    + "on \(stats.freshLabelledHits) freshly labelled hits is below the floor "
                    + "\(BlastRadiusGuard.percent(settings.precisionFloor))",
                details: String(decoding: details.bytes, as: UTF8.self),
                dedupeKey: "precision:\(rule.ruleID):\(rule.version)")
            _ = try await storeWrite { try await alerts.raise(alert, nowMicros: now) }
        }
        if changed { try await reload() }
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}

/// Runs the rule checks in `vigil serve`: the blast-radius guard every few seconds (and follows model aliases
/// another process changed, such as a challenger `vigil worker` registered), expiry and precision every
/// `rules.check_interval_seconds`.
public struct RuleMonitor: Service {
    public let rules: RuleService
    public let guardInterval: Duration
    public let logger: Logger

    public init(rules: RuleService, guardInterval: Duration = .seconds(5), logger: Logger) {
        self.rules = rules
        self.guardInterval = guardInterval
        self.logger = logger
    }

    public func run() async throws {
        var sinceChecks = Duration.zero
        let checkInterval = Duration.seconds(rules.settings.checkIntervalSeconds)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await Task.sleep(for: guardInterval)
            } catch {
                return
            }
            do throws(ServiceError) {
                for alias in try await rules.registry.followStore() {
                    logger.info(
                        "model alias changed in the database; now scoring with it",
                        metadata: ["alias": "\(alias.rawValue)"])
                }
            } catch {
                logger.warning("could not follow the model registry", metadata: ["error": "\(error)"])
            }
            for trip in await rules.enforceGuard() {
                logger.warning(
                    "blast-radius guard reverted a change",
                    metadata: ["change": "\(trip.watch.description)", "reason": "\(trip.reason)"])
            }
            sinceChecks += guardInterval
            if sinceChecks >= checkInterval {
                sinceChecks = .zero
                do throws(ServiceError) {
                    try await rules.runChecks()
                } catch {
                    logger.error("rule checks failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
