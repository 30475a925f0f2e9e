// swift-tools-version:6.1
// Benchmarks of Vigil's tree ensembles, apart from the root package so that CI and the server never build the
// benchmark framework. Run them with `swift package --package-path Benchmarks benchmark` (ordo-one/benchmark) or
// through `scripts/bench-trees`, which also measures xgboost and shap on the same model and rows.
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its directory, which is whatever the checkout is called.
let rootIdentity = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent.lowercased()

let package = Package(
    name: "VigilBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .target(
            name: "TreeBenchSupport",
            dependencies: [.product(name: "VigilCore", package: rootIdentity)],
            path: "Sources/TreeBenchSupport"
        ),
        .executableTarget(
            name: "TreeBenchmarks",
            dependencies: [
                "TreeBenchSupport",
                .product(name: "VigilCore", package: rootIdentity),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/TreeBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "tree-timing",
            dependencies: ["TreeBenchSupport", .product(name: "VigilCore", package: rootIdentity)],
            path: "Sources/tree-timing"
        ),
        .executableTarget(
            name: "rule-timing",
            dependencies: [.product(name: "VigilCore", package: rootIdentity)],
            path: "Sources/rule-timing"
        ),
        .executableTarget(
            name: "velocity-timing",
            dependencies: [.product(name: "VigilCore", package: rootIdentity)],
            path: "Sources/velocity-timing"
        ),
        .executableTarget(
            name: "mining-timing",
            dependencies: [.product(name: "VigilCore", package: rootIdentity)],
            path: "Sources/mining-timing"
        ),
        .executableTarget(
            name: "train-timing",
            dependencies: [.product(name: "VigilCore", package: rootIdentity)],
            path: "Sources/train-timing"
        ),
    ]
)
