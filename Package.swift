// swift-tools-version: 6.1
// SPDX-License-Identifier: GPL-3.0-or-later
// Sordino: real-time NMF speech enhancement for JACK, and the offline tools around it.

import Foundation
import PackageDescription

/// `SORDINO_NO_HTTP=1 swift build …` leaves the status page out: no SordinoHTTP target, no
/// SordinoHTTPTests, and `sordino run --http` says that this build has none. SwiftNIO and
/// Hummingbird are then not compiled (minutes on two cores); `make sanitize` sets it, so that its
/// two sanitizer builds do not compile them again (the HTTP code has no real-time path and no state
/// shared with the audio thread of its own; its tests run in `make test`'s debug build).
let withHTTP = Context.environment["SORDINO_NO_HTTP"] != "1"

/// The `sordino` binary carries the Swift runtime and Foundation (`-static-stdlib`) and is linked at
/// a fixed address (`-no-pie`), exporting no symbols (`--no-export-dynamic` undoes the runtime's
/// `-export-dynamic`: 626 dynamic symbols instead of 25,903 for the loader and `dladdr` to search):
/// the dynamic loader then binds a dozen C libraries instead of thirty and relocates nothing of
/// Swift's metadata, and a short `sordino process` starts in about half the CPU time
/// (docs/PERFORMANCE.md, "The Swift runtime inside the binary"); the installed binary needs no Swift
/// toolchain on the machine. `SORDINO_SHARED_RUNTIME=1` links it against the toolchain's shared
/// runtime as before: `make sanitize` sets it (the sanitizers' runtimes expect the shared one).
let staticRuntime = Context.environment["SORDINO_SHARED_RUNTIME"] != "1"

/// The core and the real-time host are built with strict memory-safety-free
/// performance checking: `@_noLocks` is enforced by the optimiser in release builds.
let package = Package(
    name: "sordino",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sordino", targets: ["sordino"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-numerics.git", from: "1.1.1"),
        .package(url: "https://github.com/ordo-one/malloc-interposer.git", from: "1.6.1"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        // The status page and metrics (SordinoHTTP). Hummingbird's default traits (swift-configuration,
        // full Foundation) are not needed and are left out to shorten the build.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // Stops the status page's server gracefully (a ServiceGroup around Hummingbird's application).
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
    ],
    targets: [
        // MARK: - System libraries and C shims
        .systemLibrary(name: "CFFTW", pkgConfig: "fftw3f", providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "CSndfile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CSoxr", pkgConfig: "soxr", providers: [.apt(["libsoxr-dev"])]),
        /// OpenBLAS's `cblas_sgemm`, loaded with dlopen on the first product (training, decomposition,
        /// learn-noise), so that the commands without products start without it.
        .target(name: "CLazyBLAS", linkerSettings: [.linkedLibrary("dl")]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        /// libjack's functions, loaded with dlopen when a command first talks to a JACK server, so that
        /// the commands on files start without it and run where no JACK is installed.
        .target(name: "CJACK", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CRealtime"),
        /// The activation solver's pass over W and the multiply-add peak loop, built for the
        /// baseline and for AVX2 with FMA; the CPU picks at run time.
        .target(name: "CEngineKernels", cSettings: [.unsafeFlags(["-O2", "-fno-math-errno"])]),

        // MARK: - Libraries
        /// A value behind a POSIX mutex, for state shared between threads off the audio thread.
        .target(name: "SordinoLock"),
        /// The system's reason for a failed file operation, for error messages.
        .target(name: "SystemReason"),
        .target(name: "SordinoDSP", dependencies: [
            "CFFTW", "CEngineKernels", "SordinoLock", .product(name: "RealModule", package: "swift-numerics"),
        ]),
        .target(name: "SordinoNMF", dependencies: [
            "SordinoDSP", "CLazyBLAS", .product(name: "RealModule", package: "swift-numerics"),
        ]),
        .target(name: "SordinoIO", dependencies: ["CSndfile", "CSoxr", "SystemReason"]),
        .target(name: "SordinoPresets", dependencies: ["SordinoDSP", "CZlib", "SystemReason"]),
        .target(name: "SordinoReport", dependencies: ["CPNG", "SystemReason"]),
        .target(name: "SordinoJACK", dependencies: [
            "CJACK", "CRealtime", "SordinoDSP", "SordinoLock",
            .product(name: "Logging", package: "swift-log"),
        ]),

        /// The control protocol: the daemon's socket server, the `ctl` client, the settings file, learn-noise.
        .target(name: "SordinoControl", dependencies: ["SordinoDSP", "SordinoLock", "SordinoNMF", "SordinoPresets", "SordinoIO", "SystemReason",
                                                       .product(name: "TOMLKit", package: "TOMLKit")]),

        /// The status page, `/metrics` and `/status` over HTTP (`sordino run --http PORT`), through the control protocol.
        .target(name: "SordinoHTTP", dependencies: [
            "SordinoControl", "SordinoDSP", "SordinoLock",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        /// The loopback player and recorder `demo`, the allocation probe and the tests drive the host with.
        .target(name: "SordinoJACKRig", dependencies: ["SordinoJACK", "SordinoDSP"]),

        // MARK: - Executables
        .executableTarget(name: "sordino", dependencies: [
            "SordinoDSP", "SordinoNMF", "SordinoIO", "SordinoPresets", "SordinoJACK", "SordinoJACKRig", "SordinoReport", "SordinoControl", "CRealtime", "CEngineKernels", "SystemReason",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ] + (withHTTP ? ["SordinoHTTP"] : []), swiftSettings: (withHTTP ? [.define("SORDINO_HTTP")] : []) + (staticRuntime ? [.unsafeFlags(["-static-stdlib"])] : []),
        linkerSettings: staticRuntime ? [.unsafeFlags(["-static-stdlib", "-Xlinker", "-no-pie", "-Xlinker", "--no-export-dynamic"])] : []),
        /// The parsers of outside input as functions of bytes: fuzzed by SordinoFuzz, replayed by the tests.
        .target(name: "FuzzTargets", dependencies: ["SordinoDSP", "SordinoIO", "SordinoPresets", "SordinoControl"]),
        /// libFuzzer's entry point when built by `make fuzz` (-DSORDINO_FUZZING), else a replayer.
        .executableTarget(name: "SordinoFuzz", dependencies: ["FuzzTargets", "CFuzzer"]),
        .target(name: "CFuzzer"),
        /// Runs the engine with every heap allocation counted; the allocation test starts it.
        .executableTarget(name: "AllocationProbe", dependencies: [
            "SordinoDSP", "SordinoJACK", "SordinoJACKRig", "TestSupport", .product(name: "Logging", package: "swift-log"),
            .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
        ]),

        // MARK: - Tests
        .target(name: "TestSupport", dependencies: [
            "SordinoDSP", .product(name: "RealModule", package: "swift-numerics"),
        ], path: "Tests/TestSupport"),
        .testTarget(name: "SordinoDSPTests", dependencies: ["SordinoDSP", "SordinoLock", "SordinoPresets", "TestSupport", "CEngineKernels"]),
        .testTarget(name: "SordinoNMFTests", dependencies: ["SordinoNMF", "SordinoDSP", "SordinoIO", "TestSupport"]),
        .testTarget(name: "SordinoIOTests", dependencies: ["SordinoIO", "TestSupport"]),
        .testTarget(name: "SordinoPresetsTests", dependencies: ["SordinoPresets", "SordinoDSP", "TestSupport", "FuzzTargets"]),
        .testTarget(name: "SordinoJACKTests", dependencies: ["SordinoJACK", "SordinoJACKRig", "SordinoDSP", "TestSupport"]),
        .testTarget(name: "SordinoCLITests", dependencies: ["TestSupport", "SordinoIO", "SordinoPresets", "SordinoDSP", "SordinoReport",
                                                            "SordinoControl", "SordinoJACKRig"]),
        .testTarget(name: "SordinoHTTPTests", dependencies: ["SordinoHTTP", "SordinoControl"]),
        .testTarget(name: "SordinoControlTests", dependencies: ["SordinoControl", "SordinoDSP", "SordinoPresets", "SordinoIO",
                                                                "TestSupport"]),
    ]
)

if !withHTTP {
    package.targets.removeAll { $0.name == "SordinoHTTP" || $0.name == "SordinoHTTPTests" }
}

/// `SORDINO_BENCHMARKS=1 swift package benchmark` adds ordo-one/benchmark and the regression
/// benchmarks in `Benchmarks/SordinoBenchmarks` (docs/PERFORMANCE.md). Unset (the default, and
/// CI), the package neither fetches nor builds them. The `MallocInterposer` trait alone: the
/// default traits would also pull in a runtime interposer that is not needed here.
if Context.environment["SORDINO_BENCHMARKS"] == "1" {
    package.dependencies.append(.package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1",
                                         traits: ["MallocInterposer"]))
    package.targets.append(.executableTarget(
        name: "SordinoBenchmarks",
        dependencies: ["SordinoDSP", "SordinoPresets", .product(name: "Benchmark", package: "benchmark"),
                       .product(name: "MallocInterposerSwift", package: "malloc-interposer")],
        path: "Benchmarks/SordinoBenchmarks",
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]))
}

/// Every Swift target calls generic types' metadata accessors directly instead of instantiating
/// them from mangled names at run time: a mangled name's generic requirements are checked by a
/// protocol-conformance lookup, which scans every conformance record of every loaded image
/// (8,000 here) the first time, and ArgumentParser's property wrappers and JSONDecoder's
/// containers need dozens. `sordino process` on a 0.1 s file: 72.5 → 68.1 M instructions, the
/// output unchanged (docs/PERFORMANCE.md, after "Side by side"). Slightly larger code; nothing else changes.
for target in package.targets where target.type != .system && target.type != .binary {
    target.swiftSettings = (target.swiftSettings ?? [])
        + [.unsafeFlags(["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"])]
}

/// The CPU every Swift target is compiled for, so that the engine's stages written in Swift
/// (features, masks, noise tracking, overlap-add) use its vector width: `SORDINO_TARGET_CPU` when
/// set (a `swiftc -target-cpu` name; `x86-64`, or empty, for a binary that runs on any x86-64),
/// else `haswell` when the building machine has what that name assumes (AVX2, FMA, BMI1/2, LZCNT,
/// F16C, MOVBE, POPCNT), as `-march=native` would: the build is for the machine it is made on, and
/// its output is bit for bit that of a baseline build (Swift fuses no multiply-add unasked;
/// docs/PERFORMANCE.md, "The Swift stages built for the machine"). Else nothing: the baseline. The
/// dense kernels (`CEngineKernels`) use AVX2 with FMA wherever the CPU has them, whatever this
/// says: they are built both ways and choose at run time.
let targetCPU: String? = {
    if let cpu = Context.environment["SORDINO_TARGET_CPU"] { return cpu.isEmpty ? nil : cpu }
    #if os(Linux) && arch(x86_64)
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
    let flags = Set(line.split(whereSeparator: { $0 == " " || $0 == "\t" }))
    let haswell: [Substring] = ["avx2", "fma", "bmi1", "bmi2", "abm", "f16c", "movbe", "popcnt"]
    return haswell.allSatisfy(flags.contains) ? "haswell" : nil
    #else
    return nil
    #endif
}()
if let cpu = targetCPU, cpu != "x86-64" {
    for target in package.targets where target.type != .system && target.type != .binary {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-target-cpu", cpu])]
    }
}
