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
