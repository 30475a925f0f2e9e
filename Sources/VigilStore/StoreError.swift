import Foundation
import GRDB

/// Failures of the store that callers map to answers (503, 404, 409) in one place.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    /// The database refused a write (disk full, I/O error, locked); nothing of the batch was kept.
    case writeFailed(String)
    /// The writer is stopping or stopped and takes no more work.
    case closed

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "cannot open database \(path): \(reason)"
        case .writeFailed(let reason): "write failed: \(reason)"
        case .closed: "the store is closed"
        }
    }
}

extension StoreError {
    /// `error` itself, unless SQLite said the database is locked: then a `cannotOpen` that says another process
    /// holds it (for start-up, where a bare "database is locked" leaves the operator guessing).
    public static func explainingLock(_ error: any Error, path: String, waitedSeconds: Int = 5) -> any Error {
        guard let database = error as? DatabaseError,
            let reason = VigilDatabase.lockedReason(database, TimeInterval(waitedSeconds))
        else { return error }
        return StoreError.cannotOpen(path: path, reason: reason)
    }
}
