import Foundation

/// Where the service reads the time; tests pass a fixed one so results are exact.
public protocol WallClock: Sendable {
    /// Microseconds since the Unix epoch, UTC.
    func nowMicros() -> Int64
}

/// The system's real-time clock.
public struct SystemWallClock: WallClock {
    public init() {}
    public func nowMicros() -> Int64 { Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()) }
}
