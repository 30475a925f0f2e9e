import Logging
import ServiceLifecycle
import Synchronization
import VigilStore

/// Checks API keys against an in-memory copy of the active keys, refreshed from the store.
///
/// A key is looked up by its SHA-256, so the work per request is the same whether the key exists or not
/// (one hash, one dictionary probe on a digest the caller cannot choose). Revocations made by
/// `vigil keys revoke` in another process take effect within `auth.key_refresh_seconds`.
public final class Authenticator: Service, Sendable {
    private let keys: APIKeyStore
    private let byHash = Mutex<[String: Principal]>([:])
    private let refreshInterval: Duration
    private let logger: Logger

    public init(keys: APIKeyStore, refreshInterval: Duration = .seconds(2), logger: Logger) {
        self.keys = keys
        self.refreshInterval = refreshInterval
        self.logger = logger
    }

    /// The principal for a presented key, or nil when it is unknown or revoked.
    public func principal(forKey key: some StringProtocol) -> Principal? {
        let hash = APIKeyStore.hash(String(key))
        return byHash.withLock { $0[hash] }
    }

    /// Reloads the active keys from the store.
    public func refresh() async throws {
        let active = try await keys.active()
        var map: [String: Principal] = [:]
        for record in active {
            guard let role = Role(rawValue: record.role) else { continue }
            map[record.keyHash] = Principal(keyID: record.keyID, name: record.name, role: role)
        }
        byHash.withLock { $0 = map }
    }

    /// Refreshes on an interval until shutdown.
    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.refreshInterval) }
            } catch {
                return
            }
            do {
                try await refresh()
            } catch {
                logger.warning("could not refresh API keys", metadata: ["error": "\(error)"])
            }
        }
    }
}
