import Benchmark
import TreeBenchSupport
import VigilCore

/// Single-row margin and TreeSHAP of the model in `VIGIL_BENCH_MODEL` over the rows in `VIGIL_BENCH_ROWS`; each
/// scaled iteration is one row, so the reported times are per row.
let benchmarks: @Sendable () -> Void = {
    let input: TreeBenchInput
    do {
        input = try TreeBenchInput.fromEnvironment()
    } catch {
        print("TreeBenchmarks: \(error)")
        return
    }
    let model = input.model
    let rows = input.rows
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput], timeUnits: .nanoseconds,
        warmupIterations: 3, maxDuration: .seconds(2))

    Benchmark("margin (one row)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        var index = 0
        for _ in benchmark.scaledIterations {
            blackHole(model.margin(rows[index]))
            index = index + 1 == rows.count ? 0 : index + 1
        }
    }

    Benchmark("TreeSHAP explain (one row)", configuration: .init(scalingFactor: .one)) { benchmark in
        var index = 0
        for _ in benchmark.scaledIterations {
            blackHole(model.explain(rows[index]))
            index = index + 1 == rows.count ? 0 : index + 1
        }
    }
}
