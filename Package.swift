// swift-tools-version:6.1
import PackageDescription

// One set of Swift settings for every Swift target (swift-subprocess, hummingbird).
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "assay",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "assay", targets: ["AssayCLI"]),
        .executable(name: "assay-box-init", targets: ["assay-box-init"]),
        // Loaded by the Python zygote (ctypes), from its own read-only /app: libassay-zygote.so.
        .library(name: "assay-zygote", type: .dynamic, targets: ["ZygoteEngine"]),
        .library(name: "Sandboxing", targets: ["Sandboxing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
    ],
    targets: [
        // MARK: - Executor
        // C: the only code that clones, mounts, sets rlimits, loads seccomp and drops capabilities.
        .target(
            name: "CSandbox",
            cSettings: [.define("_GNU_SOURCE")],
            linkerSettings: [.linkedLibrary("seccomp"), .linkedLibrary("cap")]
        ),
        // pid 1 of every box: static, and entered at `assay_init_start`, which skips libc and
        // runtime start-up (raw syscalls only; see Sources/BoxInit/main.c).
        .executableTarget(
            name: "assay-box-init", path: "Sources/BoxInit",
            linkerSettings: [.unsafeFlags(["-static-executable", "-Xlinker", "-e", "-Xlinker", "assay_init_start"])]),
        // The Python zygote's loop and box entry (Sources/ZygoteEngine/serve.c), loaded into the
        // zygote, whose root has /usr but no Swift runtime: no Swift start-up object
        // (-nostartfiles), and the Swift runtime linked statically (-static-stdlib), where nothing
        // of it is referenced, so none of it is linked (libc and the C++ runtime stay dynamic).
        .target(
            name: "ZygoteEngine", cSettings: [.define("_GNU_SOURCE")],
            linkerSettings: [.unsafeFlags(["-nostartfiles", "-static-stdlib"])]),
        .target(name: "Sandboxing", dependencies: ["CSandbox"], swiftSettings: swiftSettings),
        .target(name: "Rewards", dependencies: ["Sandboxing"], exclude: ["README.md"], swiftSettings: swiftSettings),
        // Dataset pipeline: verify reference solutions, filter, dedup, decontaminate, report.
        .target(name: "Curation", dependencies: ["Rewards", "Sandboxing"], swiftSettings: swiftSettings),
        // MARK: - Service
        .target(
            name: "GradingServer",
            dependencies: [
                "Sandboxing",
                "Rewards",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - TensorEngine (begin)
        // OpenBLAS through pkg-config: the engine's matmuls run in cblas_sgemm (150-180 GFLOP/s on 2 cores).
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .target(name: "TensorEngine", dependencies: ["COpenBLAS"], swiftSettings: swiftSettings),
        .testTarget(name: "TensorEngineTests", dependencies: ["TensorEngine"], swiftSettings: swiftSettings),
        // MARK: - TensorEngine (end)

        // MARK: - Trainer
        // GRPO+ on the TensorEngine, rewarded by the Rewards grader (never the server or the CLI).
        .target(name: "Training", dependencies: ["TensorEngine", "Rewards"], swiftSettings: swiftSettings),
        // The tests grade in the real sandbox, so they build one (the target itself never does).
        .testTarget(name: "TrainingTests", dependencies: ["Training", "TensorEngine", "Rewards", "Sandboxing"], swiftSettings: swiftSettings),

        // MARK: - CLI
        .executableTarget(
            name: "AssayCLI",
            dependencies: [
                "Sandboxing",
                "Rewards",
                "Curation",
                "GradingServer",
                "TensorEngine",
                "Training",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - Tests
        // What the host-checking tests of several targets share (reading /proc whole).
        .target(name: "HostFiles", path: "Tests/HostFiles", swiftSettings: swiftSettings),
        .testTarget(name: "SandboxingTests", dependencies: ["Sandboxing", "HostFiles"], swiftSettings: swiftSettings),
        // Black-box: runs the built `assay` binary (so it must be built first); GradingServer only
        // for its loopback HTTP client and JSONValue (via Rewards), to talk to `assay serve`;
        // Training for the trainer's own remote-grading client.
        .testTarget(name: "AssayCLITests", dependencies: ["GradingServer", "Rewards", "Sandboxing", "Training", "HostFiles"], swiftSettings: swiftSettings),
        .testTarget(name: "RewardsTests", dependencies: ["Rewards"], swiftSettings: swiftSettings),
        .testTarget(name: "CurationTests", dependencies: ["Curation", "Rewards", "Sandboxing"], swiftSettings: swiftSettings),
        .testTarget(
            name: "GradingServerTests",
            dependencies: [
                "GradingServer", "Sandboxing", "Rewards", "HostFiles",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
