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
    public let scoring: ScoringService
    public let reader: RecordReader

    /// Opens the database (creating and migrating it), loads the model and checks it against the features.
    public static func open(
        config: VigilConfig, logger: Logger, clock: any WallClock = SystemWallClock(),
        commitObserver: GroupCommitWriter.CommitObserver? = nil
    ) async throws -> VigilRuntime {
        let extractor = try FeatureExtractor(
            names: config.features, highRiskMerchantCategories: Set(config.highRiskMerchantCategories))
        let model = try ModelLoader.load(path: config.modelPath)
        let scorer = try Scorer(
            extractor: extractor, model: model,
            policy: DecisionPolicy(reviewAt: config.reviewAt, declineAt: config.declineAt),
            reasonWriter: ReasonWriter(count: config.reasonCount))
        let database = try VigilDatabase(path: config.databasePath, synchronous: config.synchronous)
        let writer = GroupCommitWriter(
            database: database, minimumInterval: .microseconds(config.commitWindowMicros), observer: commitObserver)
        let store = SQLiteDecisionStore(database: database, writer: writer)
        let keys = APIKeyStore(database: database)
        let authenticator = Authenticator(
            keys: keys, refreshInterval: .seconds(config.keyRefreshSeconds), logger: logger)
        try await authenticator.refresh()
        return VigilRuntime(
            config: config, database: database, writer: writer, store: store, keys: keys,
            authenticator: authenticator, scoring: ScoringService(scorer: scorer, store: store, clock: clock),
            reader: RecordReader(store: store))
    }

    /// Commits everything accepted and stops taking writes.
    public func close() async {
        await writer.close()
    }
}
