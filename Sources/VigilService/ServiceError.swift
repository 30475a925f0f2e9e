import VigilCore

/// Failures a use case reports; VigilHTTP maps each to one problem+json answer in one place.
public enum ServiceError: Error, Sendable, Equatable {
    /// The body was not JSON at all (path `$`) or fields were invalid; every bad field is listed.
    case malformed(FieldError)
    case validation([FieldError])
    case notFound(String)
    case conflict(String)
    /// An uploaded model file that cannot be used: what is wrong and where.
    case invalidModel(String)
    /// The store refused a write or is stopping; the caller may retry.
    case unavailable(String)
}

/// Runs a store read; a failure becomes `503` (the caller may retry).
func storeRead<T>(_ body: () async throws -> T) async throws(ServiceError) -> T {
    do {
        return try await body()
    } catch {
        throw .unavailable("the store could not be read: \(error)")
    }
}

/// Runs a store change; a failure becomes `503` and nothing was changed.
func storeWrite<T>(_ body: () async throws -> T) async throws(ServiceError) -> T {
    do {
        return try await body()
    } catch {
        throw .unavailable("the change could not be stored: \(error)")
    }
}
