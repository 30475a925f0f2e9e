import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif
#if canImport(CoreFoundation)
    import CoreFoundation
#endif

/// Runs CPU-heavy work (mining, training, scans) on a thread of its own at the lowest scheduling priority, so that
/// on a busy machine scoring's threads always run first and the worker takes only the time left over.
///
/// On Linux each thread has its own nice value, and `setpriority(PRIO_PROCESS, 0, 19)` lowers the calling thread
/// only (NPTL; see setpriority(2), Notes).
enum LowPriorityThread {
    /// The nice value the worker's threads run at.
    static let niceness: Int32 = 19

    /// Runs `work` on a new low-priority thread and returns its result. Cancelling the calling task returns at once
    /// with `CancellationError` (so a shutdown never waits for a job); the thread finishes its work unobserved.
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        let slot = ContinuationSlot<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                slot.set(continuation)
                if Task.isCancelled {
                    slot.resume(with: .failure(CancellationError()))
                    return
                }
                let thread = Thread {
                    lowerPriority()
                    slot.resume(with: Result { try work() })
                }
                thread.name = "vigil-worker"
                thread.stackSize = 8 << 20
                thread.start()
            }
        } onCancel: {
            slot.resume(with: .failure(CancellationError()))
        }
    }

    /// A continuation resumed exactly once, by whichever comes first: the thread's result or a cancellation.
    private final class ContinuationSlot<T: Sendable>: Sendable {
        private let continuation = Mutex<CheckedContinuation<T, any Error>?>(nil)

        func set(_ value: CheckedContinuation<T, any Error>) {
            continuation.withLock { $0 = value }
        }

        func resume(with result: Result<T, any Error>) {
            continuation.withLock { slot in
                let taken = slot
                slot = nil
                return taken
            }?.resume(with: result)
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

/// Keeps the worker's thread to a share of one core: after each slice of CPU time it sleeps long enough that
/// work ÷ (work + sleep) is the share. Lowering the thread's priority is not enough on its own: on a machine whose
/// cores are hyperthreads, a busy worker thread slows scoring on the sibling thread however low its priority, and
/// whenever scoring waits (for a commit, for the network) the worker runs. Used by one thread only.
struct WorkerPacer {
    /// Share of one core, (0, 1]; 1 does not pace.
    let share: Double
    /// CPU time worked between sleeps.
    static let slice: Int64 = 10_000_000
    private var mark: Int64

    init(share: Double) {
        self.share = min(max(share, 0.01), 1)
        self.mark = Self.threadCPUNanos()
    }

    /// Sleeps if the thread has used a slice of CPU since the last sleep.
    mutating func pace() {
        guard share < 1 else { return }
        let now = Self.threadCPUNanos()
        let used = now - mark
        guard used >= Self.slice else { return }
        let sleep = Int64(Double(used) * (1 - share) / share)
        var request = timespec(tv_sec: Int(sleep / 1_000_000_000), tv_nsec: Int(sleep % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
        mark = Self.threadCPUNanos()
    }

    /// CPU time the calling thread has used.
    static func threadCPUNanos() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
