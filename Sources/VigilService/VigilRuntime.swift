import Logging
import VigilCore
import VigilStore

/// Everything a running Vigil needs, opened from a configuration: database, writer, model, use cases.
///
/// `vigil serve` and the tests build it the same way; `close()` flushes the writer and the database.
public struct VigilRuntime: Sendable {
    public let config: VigilConfig
    public let database: VigilDatabase
    public let writer: GroupCommitWriter
    public let store: SQLiteDecisionStore
    public let keys: APIKeyStore
    public let authenticator: Authenticator
    public let registry: ModelRegistry
    public let scoring: ScoringService
    public let reader: RecordReader
    public let review: ReviewService
    public let labelBatch: LabelBatch
    public let explainer: Explainer
    public let models: ModelPages
    public let rules: RuleService
    public let velocity: VelocityService
    public let worker: Worker

    /// Opens the database (creating and migrating it), loads the model and checks it against the features.
    public static func open(
        config: VigilConfig, logger: Logger, clock: any WallClock = SystemWallClock(),
        commitObserver: GroupCommitWriter.CommitObserver? = nil
    ) async throws -> VigilRuntime {
        do {
            return try await make(config: config, logger: logger, clock: clock, commitObserver: commitObserver)
        } catch {
            throw StoreError.explainingLock(error, path: config.databasePath)
        }
    }

    private static func make(
        config: VigilConfig, logger: Logger, clock: any WallClock, commitObserver: GroupCommitWriter.CommitObserver?
    ) async throws -> VigilRuntime {
        let extractor = try FeatureExtractor(
            names: config.features, highRiskMerchantCategories: Set(config.highRiskMerchantCategories))
        let seed = try ModelLoader.seedFile(path: config.modelPath)
        let database = try VigilDatabase(path: config.databasePath, synchronous: config.synchronous)
        let registry = try await ModelRegistry.open(
            store: ModelRegistryStore(database: database), extractor: extractor,
            policy: DecisionPolicy(reviewAt: config.reviewAt, declineAt: config.declineAt),
            reasonWriter: ReasonWriter(count: config.reasonCount), clock: clock, seed: seed)
        let writer = GroupCommitWriter(
            database: database, minimumInterval: .microseconds(config.commitWindowMicros), observer: commitObserver)
        let store = SQLiteDecisionStore(database: database, writer: writer)
        let keys = APIKeyStore(database: database)
        let authenticator = Authenticator(
            keys: keys, refreshInterval: .seconds(config.keyRefreshSeconds), logger: logger)
        try await authenticator.refresh()
        let velocity = VelocityService(
            specs: extractor.velocitySpecs, latenessMicros: Int64(config.velocityLatenessSeconds) * 1_000_000,
            maxEventsPerEntity: config.velocityMaxEventsPerEntity, database: database)
        let replayed = try await velocity.rebuild()
        if velocity.isEnabled {
            logger.info(
                "history features rebuilt from the store",
                metadata: ["payments": "\(replayed)", "features": "\(velocity.specs.count)"])
        }
        let engine = RuleEngine(
            rules: RuleStore(database: database), lists: ListStore(database: database), featureNames: extractor.names)
        try await engine.reload()
        let rateGuard = BlastRadiusGuard(
            settings: .init(
                enabled: config.guardEnabled, factor: config.guardFactor, windowMinutes: config.guardWindowMinutes,
                baselineMinutes: config.guardBaselineMinutes, minDecisions: config.guardMinDecisions,
                minRate: config.guardMinRate),
            logger: logger)
        let rules = RuleService(
            engine: engine, store: engine.rules, lists: engine.lists, alerts: AlertStore(database: database),
            scan: BacktestScan(database: database), registry: registry, rateGuard: rateGuard, clock: clock,
            settings: config.ruleSettings)
        let worker = Worker(
            settings: config.worker, store: WorkerStore(database: database), rules: rules, registry: registry,
            clock: clock, logger: Logger(label: "vigil.worker"))
        return VigilRuntime(
            config: config, database: database, writer: writer, store: store, keys: keys,
            authenticator: authenticator, registry: registry,
            scoring: ScoringService(
                registry: registry, store: store, clock: clock, review: config.reviewPolicy, rules: engine,
                rates: rateGuard.rates, defaultStrength: config.ruleStrength, velocity: velocity),
            reader: RecordReader(store: store, clock: clock),
            review: ReviewService(
                store: ReviewStore(database: database), decisions: store, clock: clock, policy: config.reviewPolicy,
                velocity: velocity),
            labelBatch: LabelBatch(store: ReviewStore(database: database), clock: clock, velocity: velocity),
            explainer: Explainer(
                registry: registry, store: store, rules: engine, clock: clock, defaultStrength: config.ruleStrength,
                velocity: velocity),
            models: ModelPages(registry: registry), rules: rules, velocity: velocity, worker: worker)
    }

    /// Commits everything accepted and stops taking writes.
    public func close() async {
        await writer.close()
    }
}
