import Foundation
import Synchronization
import VigilCore
import VigilStore

/// The model registry: immutable versions in SQLite, the `champion` that decides and the `challenger`
/// scored in shadow, swapped atomically in memory.
///
/// A request reads `active` once and uses that snapshot throughout, so a promotion never mixes two models
/// in one request and never fails one in flight.
public final class ModelRegistry: Sendable {
    /// The models in use right now.
    public struct Active: Sendable {
        public let scorer: Scorer
        public let championSHA256: String
        public let challenger: ModelRunner?
        public let challengerSHA256: String?
    }

    public let store: ModelRegistryStore
    public let extractor: FeatureExtractor
    public let policy: DecisionPolicy
    public let reasonWriter: ReasonWriter
    public let clock: any WallClock
    /// Labelled payments a version's evaluation uses at most (the most recent ones).
    public static let evaluationLimit = 50_000

    private struct State {
        var active: Active
        /// Sequence numbers of the database change each alias's in-memory value reflects.
        var championSequence: UInt64 = 0
        var challengerSequence: UInt64 = 0
        /// The versions the aliases point at in memory (to notice a change another process made).
        var championKey: ModelKey?
        var challengerKey: ModelKey?
    }

    private let state: Mutex<State>
    private let sequence = Mutex<UInt64>(0)
    private let loaded = Mutex<[ModelKey: Loaded]>([:])

    private struct Loaded: Sendable {
        let model: any ScoringModel
        let sha256: String
    }

    private init(
        store: ModelRegistryStore, extractor: FeatureExtractor, policy: DecisionPolicy, reasonWriter: ReasonWriter,
        clock: any WallClock, active: Active, keys: (champion: ModelKey, challenger: ModelKey?)
    ) {
        self.store = store
        self.extractor = extractor
        self.policy = policy
        self.reasonWriter = reasonWriter
        self.clock = clock
        self.state = Mutex(State(active: active, championKey: keys.champion, challengerKey: keys.challenger))
    }

    /// The champion and challenger to score this request with.
    public var active: Active { state.withLock { $0.active } }

    /// Opens the registry; an empty one is seeded with `seed` (the configured or embedded model) as champion.
    public static func open(
        store: ModelRegistryStore, extractor: FeatureExtractor, policy: DecisionPolicy, reasonWriter: ReasonWriter,
        clock: any WallClock, seed: (bytes: [UInt8], source: String)
    ) async throws -> ModelRegistry {
        var aliases = try await store.aliases()
        if aliases[.champion] == nil {
            let format = ModelCodec.sniff(seed.bytes)
            let decoded: ModelCodec.Decoded
            do {
                decoded = try ModelCodec.decode(seed.bytes, format: format, name: "seed", version: "0")
            } catch {
                throw ModelLoadError(source: seed.source, message: "\(error)")
            }
            let name = Self.seedName(seed.bytes, format: format)
            let stored = try await store.add(
                name: name, format: format, file: seed.bytes, sha256: sha256Hex(seed.bytes),
                featureNames: decoded.model.featureNames, details: decoded.details, uploadedBy: "vigil",
                atMicros: clock.nowMicros())
            _ = try await store.setAlias(
                .champion, to: stored.key, by: "vigil", atMicros: clock.nowMicros(), action: "model.seeded",
                prepare: { _ in () })
            aliases = try await store.aliases()
        }
        guard let champion = aliases[.champion] else {
            throw ModelLoadError(source: "registry", message: "no champion")
        }
        let load = { (key: ModelKey) async throws -> (any ScoringModel, String) in
            guard let stored = try await store.model(key), let file = try await store.file(key) else {
                throw ModelLoadError(source: "registry", message: "\(key) is missing")
            }
            let decoded = try ModelCodec.decode(
                file, format: stored.format, name: key.name, version: String(key.version))
            return (decoded.model, stored.sha256)
        }
        let (championModel, championSHA) = try await load(champion.key)
        let scorer: Scorer
        do {
            scorer = try Scorer(
                extractor: extractor, model: championModel, policy: policy, reasonWriter: reasonWriter)
        } catch {
            throw ModelLoadError(source: "champion \(champion.key)", message: error.description)
        }
        var challenger: ModelRunner?
        var challengerSHA: String?
        if let target = aliases[.challenger] {
            let (model, sha) = try await load(target.key)
            do {
                challenger = try ModelRunner(model: model, extractor: extractor)
                challengerSHA = sha
            } catch {
                throw ModelLoadError(source: "challenger \(target.key)", message: error.description)
            }
        }
        return ModelRegistry(
            store: store, extractor: extractor, policy: policy, reasonWriter: reasonWriter, clock: clock,
            active: Active(
                scorer: scorer, championSHA256: championSHA, challenger: challenger,
                challengerSHA256: challengerSHA),
            keys: (champion.key, aliases[.challenger]?.key))
    }

    /// Registry names: lower-case letters, digits, `.`, `_` and `-`, starting with a letter or digit, ≤ 64;
    /// `aliases` is taken by `/v1/models/aliases/…`.
    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count), name != "aliases" else { return false }
        return bytes.enumerated().allSatisfy { position, byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
            case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"): position > 0
            default: false
            }
        }
    }

    /// A seeded logistic model keeps its document's name (the embedded one is `default-logistic`, as decisions
    /// made before the registry existed record); any other seed is called `default`.
    private static func seedName(_ bytes: [UInt8], format: ModelFormat) -> String {
        guard format == .vigilLogistic,
            let document = try? ModelLoader.logisticDocument(json: Data(bytes), source: "seed"),
            isValidName(document.name)
        else { return "default" }
        return document.name
    }

    // MARK: - Changes

    /// Stores an uploaded file as the next version of `name`, after checking it decodes and that every feature it
    /// reads is produced by the configured extractor.
    public func upload(
        name: String, format: ModelFormat, file: [UInt8], by actor: String
    ) async throws(ServiceError) -> StoredModel {
        guard Self.isValidName(name) else {
            throw .validation([
                FieldError(
                    path: "$.query.name",
                    message:
                        "must be 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit, "
                        + "and not \"aliases\""
                )
            ])
        }
        let decoded = try ModelCodec.decode(file, format: format, name: name, version: "new")
        do {
            _ = try ModelRunner(model: decoded.model, extractor: extractor)
        } catch {
            throw .invalidModel(error.description)
        }
        do {
            return try await store.add(
                name: name, format: format, file: file, sha256: sha256Hex(file),
                featureNames: decoded.model.featureNames, details: decoded.details, uploadedBy: actor,
                atMicros: clock.nowMicros())
        } catch {
            throw .unavailable("the model could not be stored: \(error)")
        }
    }

    /// Points `alias` at a version and swaps it in: the next request scores with it.
    public func promote(_ key: ModelKey, to alias: ModelAlias, by actor: String) async throws(ServiceError) {
        let model = try await loadModel(key)
        try await swap(alias, to: (key, model), by: actor, action: "model.promoted")
    }

    /// Points `alias` back at what it pointed at before its last change.
    public func rollback(_ alias: ModelAlias, by actor: String) async throws(ServiceError) {
        let previous: (known: Bool, key: ModelKey?)
        do {
            previous = try await store.previousTarget(of: alias)
        } catch {
            throw .unavailable("the registry could not be read: \(error)")
        }
        guard previous.known, previous.key != nil || alias == .challenger else {
            throw .conflict("\(alias.rawValue) has no earlier version to roll back to")
        }
        if let key = previous.key {
            let model = try await loadModel(key)
            try await swap(alias, to: (key, model), by: actor, action: "model.rolled_back")
        } else {
            try await swap(alias, to: nil, by: actor, action: "model.rolled_back")
        }
    }

    /// Stops shadow scoring.
    public func clearChallenger(by actor: String) async throws(ServiceError) {
        try await swap(.challenger, to: nil, by: actor, action: "model.challenger_cleared")
    }

    private func swap(
        _ alias: ModelAlias, to target: (key: ModelKey, loaded: Loaded)?, by actor: String, action: String
    ) async throws(ServiceError) {
        // Build the replacement before touching the database, so a model that cannot run changes nothing.
        var newScorer: Scorer?
        var newRunner: ModelRunner?
        do {
            if let target {
                switch alias {
                case .champion: newScorer = try active.scorer.replacingModel(target.loaded.model)
                case .challenger: newRunner = try ModelRunner(model: target.loaded.model, extractor: extractor)
                }
            } else if alias == .champion {
                throw ServiceError.conflict("the champion cannot be cleared")
            }
        } catch let error as ModelError {
            throw .invalidModel(error.description)
        } catch let error as ServiceError {
            throw error
        } catch {
            throw .invalidModel("\(error)")
        }
        let number: UInt64
        do {
            number = try await store.setAlias(
                alias, to: target?.key, by: actor, atMicros: clock.nowMicros(), action: action,
                prepare: { [self] _ in
                    // Runs inside the serialised write: numbers follow the order of the database changes.
                    self.sequence.withLock { value in
                        value += 1
                        return value
                    }
                }
            ).result
        } catch {
            throw .unavailable("the change could not be stored: \(error)")
        }
        state.withLock { state in
            switch alias {
            case .champion:
                guard number > state.championSequence, let newScorer, let target else { return }
                state.championSequence = number
                state.championKey = target.key
                state.active = Active(
                    scorer: newScorer, championSHA256: target.loaded.sha256, challenger: state.active.challenger,
                    challengerSHA256: state.active.challengerSHA256)
            case .challenger:
                guard number > state.challengerSequence else { return }
                state.challengerSequence = number
                state.challengerKey = target?.key
                state.active = Active(
                    scorer: state.active.scorer, championSHA256: state.active.championSHA256, challenger: newRunner,
                    challengerSHA256: target?.loaded.sha256)
            }
        }
    }

    /// Follows alias changes another process made (`vigil worker` registering a challenger, or another server on
    /// the same database): when an alias points elsewhere in the database than in memory, the model it points at
    /// is loaded and swapped in. A change this process made meanwhile wins. Returns the aliases it followed.
    @discardableResult
    public func followStore() async throws(ServiceError) -> [ModelAlias] {
        let before = state.withLock { ($0.championSequence, $0.challengerSequence, $0.championKey, $0.challengerKey) }
        let aliases: [ModelAlias: AliasTarget]
        do {
            aliases = try await store.aliases()
        } catch {
            throw .unavailable("the registry could not be read: \(error)")
        }
        var followed: [ModelAlias] = []
        if let champion = aliases[.champion]?.key, champion != before.2 {
            let loaded = try await loadModel(champion)
            let scorer: Scorer
            do {
                scorer = try active.scorer.replacingModel(loaded.model)
            } catch {
                throw .invalidModel("\(error)")
            }
            let applied = state.withLock { state -> Bool in
                guard state.championSequence == before.0 else { return false }
                state.championKey = champion
                state.active = Active(
                    scorer: scorer, championSHA256: loaded.sha256, challenger: state.active.challenger,
                    challengerSHA256: state.active.challengerSHA256)
                return true
            }
            if applied { followed.append(.champion) }
        }
        let challenger = aliases[.challenger]?.key
        if challenger != before.3 {
            var runner: ModelRunner?
            var sha: String?
            if let challenger {
                let loaded = try await loadModel(challenger)
                do {
                    runner = try ModelRunner(model: loaded.model, extractor: extractor)
                } catch {
                    throw .invalidModel("\(error)")
                }
                sha = loaded.sha256
            }
            let applied = state.withLock { state -> Bool in
                guard state.challengerSequence == before.1 else { return false }
                state.challengerKey = challenger
                state.active = Active(
                    scorer: state.active.scorer, championSHA256: state.active.championSHA256, challenger: runner,
                    challengerSHA256: sha)
                return true
            }
            if applied { followed.append(.challenger) }
        }
        return followed
    }

    // MARK: - Reading

    /// A stored version as a scoring model, decoded once and then kept (explanations use old versions too).
    public func model(_ key: ModelKey) async throws(ServiceError) -> (model: any ScoringModel, sha256: String) {
        let loaded = try await loadModel(key)
        return (loaded.model, loaded.sha256)
    }

    private func loadModel(_ key: ModelKey) async throws(ServiceError) -> Loaded {
        if let cached = loaded.withLock({ $0[key] }) { return cached }
        let stored: StoredModel?
        let file: [UInt8]?
        do {
            stored = try await store.model(key)
            file = try await store.file(key)
        } catch {
            throw .unavailable("the registry could not be read: \(error)")
        }
        guard let stored, let file else { throw .notFound("no model \(key.name) version \(key.version)") }
        let decoded = try ModelCodec.decode(file, format: stored.format, name: key.name, version: String(key.version))
        let result = Loaded(model: decoded.model, sha256: stored.sha256)
        loaded.withLock { cache in
            if cache.count >= 16 { cache.removeAll() }
            cache[key] = result
        }
        return result
    }
}
