import CVigilSQLite
import ServiceLifecycle

/// Keeps the process's resident memory near what it actually uses.
///
/// Measured with `scripts/soak` (2026-11-22): the live heap stayed under 60 MiB (heaptrack), yet anonymous
/// resident memory climbed from 187 to 584 MiB over ten minutes. That was glibc's allocator, not Vigil: NIO's
/// event loops, the Swift pool and GRDB's dispatch queues each got their own malloc arena, and memory freed in
/// an arena stays mapped until the arena's top is free. Fewer arenas (`limitArenas`, at start) and a periodic
/// `malloc_trim`, which gives free pages inside the arenas back to the kernel, keep it flat.
///
/// Every 5 s rather than 30 (2026-12-04, `scripts/soak` sampling every second): right after a trim the process
/// sat at the same 54 MiB minute after minute, but between trims work that allocates a lot at once (the jumps
/// came about as often as the soak's backtests) left up to 25 MiB free and still mapped, so memory was a saw
/// between 54 and 77 MiB and a minute's median depended on where the samples fell. With 5 s the median stays
/// within a few MiB of the floor; p99 and the maximum rate did not move (a trim walks the free lists of at most
/// four arenas).
public struct MemoryTrimmer: Service {
    let interval: Duration

    public init(interval: Duration = .seconds(5)) {
        self.interval = interval
    }

    /// At most two malloc arenas per core; call before the server starts its threads.
    public static func limitArenas(cores: Int) {
        _ = vigil_malloc_limit_arenas(Int32(max(2, 2 * cores)))
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            _ = vigil_malloc_trim()
        }
    }
}
