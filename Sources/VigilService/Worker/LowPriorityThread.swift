import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs CPU-heavy work (mining, training, scans) on a thread of its own at the lowest scheduling priority, so that
/// on a busy machine scoring's threads always run first and the worker takes only the time left over.
///
/// On Linux each thread has its own nice value, and `setpriority(PRIO_PROCESS, 0, 19)` lowers the calling thread
/// only (NPTL; see setpriority(2), Notes).
enum LowPriorityThread {
    /// The nice value the worker's threads run at.
    static let niceness: Int32 = 19

    /// Runs `work` on a new low-priority thread and returns its result.
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let thread = Thread {
                lowerPriority()
                do {
                    continuation.resume(returning: try work())
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.name = "vigil-worker"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// The calling thread's nice value (for tests).
    static func currentNiceness() -> Int32 {
        #if os(Linux)
            errno = 0
            return getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        #else
            return getpriority(PRIO_PROCESS, 0)
        #endif
    }

    private static func lowerPriority() {
        #if os(Linux)
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
        #endif
    }
}
