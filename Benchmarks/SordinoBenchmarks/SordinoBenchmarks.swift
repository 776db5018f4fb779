// SPDX-License-Identifier: GPL-3.0-or-later
// Regression benchmarks run by hand (`SORDINO_BENCHMARKS=1 swift package benchmark`): the engine per shipped preset, the solver kernel, the FFT pair.

import Benchmark
import Foundation
import MallocInterposerSwift
import SordinoDSP
import SordinoPresets

/// One measured iteration is one hop (engine), one frame's solve (solver) or one forward plus
/// inverse FFT; wall-clock µs per iteration. `allocations` counts the heap allocations plus frees
/// made by the iterations alone (the framework's own `mallocCountTotal` adds its bookkeeping);
/// `Benchmarks/Thresholds` sets it to 0 for every benchmark with no tolerance, so
/// `swift package benchmark thresholds check --path Benchmarks/Thresholds` fails on any
/// allocation. "Allocation counter" allocates and frees once per iteration (`countedAllocations`
/// = 2, prefers larger): the check fails there too if the counter stops counting.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, allocations],
        timeUnits: .microseconds,
        warmupIterations: 200,
        scalingFactor: .one,
        maxDuration: .seconds(3),
        maxIterations: 20_000,
        thresholds: [allocations: exact]
    )

    for name in ["speech-16k", "speech-48k", "lowlatency-48k", "speech-44k1"] {
        let hop = HopRunner(preset: name)
        timed("Engine \(name) per hop") { hop.run() }
    }
    let solver = SolverRunner()
    timed("Solver speech-48k shapes per frame") { solver.run() }
    for length in [512, 1536] {
        let fft = FFTRunner(length: length)
        timed("FFT pair \(length)") { fft.run() }
    }
    Benchmark("Allocation counter", configuration: .init(metrics: [.mallocCountTotal, countedAllocations],
                                                         thresholds: [countedAllocations: exact])) { benchmark in
        let before = MallocInterposerSwift.getStatistics()
        for _ in benchmark.scaledIterations {
            let block = malloc(64)
            blackHole(block)
            free(block)
        }
        benchmark.measurement(countedAllocations, allocationsSince(before))
    }
}

/// Heap allocations plus frees made by the timed iterations.
let allocations = BenchmarkMetric.custom("allocations", polarity: .prefersSmaller, useScalingFactor: false)
/// The same count for the benchmark that allocates on purpose.
let countedAllocations = BenchmarkMetric.custom("countedAllocations", polarity: .prefersLarger, useScalingFactor: false)

/// No tolerance: a static threshold of 0 allocations means 0.
var exact: BenchmarkThresholds { BenchmarkThresholds(relative: [.p90: 0], absolute: [.p90: 0]) }

/// Registers a benchmark timing `iteration` and counting its allocations.
func timed(_ name: String, _ iteration: @escaping @Sendable () -> Void) {
    Benchmark(name) { benchmark in
        let before = MallocInterposerSwift.getStatistics()
        for _ in benchmark.scaledIterations { iteration() }
        benchmark.measurement(allocations, allocationsSince(before))
    }
}

/// Allocations plus frees counted by the malloc interposer since `before`.
func allocationsSince(_ before: MallocInterposerSwift.Statistics) -> Int {
    let now = MallocInterposerSwift.getStatistics()
    return now.mallocCount - before.mallocCount + now.freeCount - before.freeCount
}

/// The repository's `presets/` folder, found from this file's path.
let presetFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("presets")

/// A shipped preset's engine (mono) fed one hop of a seeded speech-like signal per `run`; every
/// buffer allocated up front.
final class HopRunner: @unchecked Sendable {
    private var engine: Engine
    private let hopLength: Int
    private let signalLength: Int
    private let signal: UnsafeMutablePointer<Float>
    private let inputs = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: 1)
    private let outputs = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: 1)
    private var position = 0

    init(preset name: String) {
        let path = presetFolder.appendingPathComponent("\(name).json").path
        let samples: [Float]
        do {
            let preset = try Preset.load(path: path)
            let config = preset.engineConfiguration(channelCount: 1)
            engine = try Engine(configuration: config, basis: preset.basis, gainModel: preset.gainModel)
            hopLength = config.hopLength
            samples = speechLike(count: 4 * config.sampleRate, sampleRate: config.sampleRate)
        } catch {
            fatalError("cannot build the engine of \(path): \(error); run from the repository's checkout")
        }
        signalLength = samples.count
        signal = .allocate(capacity: signalLength)
        signal.initialize(from: samples, count: signalLength)
        outputs[0] = .allocate(capacity: hopLength)
        for _ in 0..<(signalLength / hopLength) { run() }   // warm-up: one pass over the signal
    }

    deinit {
        signal.deallocate()
        outputs[0].deallocate()
        inputs.deallocate()
        outputs.deallocate()
    }

    /// One hop through `Engine.process`, cycling over the signal.
    func run() {
        if position + hopLength > signalLength { position = 0 }
        inputs[0] = UnsafePointer(signal + position)
        engine.process(inputs: inputs, outputs: outputs, blockLength: hopLength)
        position += hopLength
        blackHole(outputs[0][0])
    }
}

/// speech-48k's solve shapes: 250 bins × (128 speech + 8 noise) atoms, β = 1, 5 iterations per
/// frame, warm-started from the previous frame's activations, over 64 seeded frames in turn.
final class SolverRunner: @unchecked Sendable {
    private let solver: ActivationSolver
    private let frames: UnsafeMutablePointer<Float>
    private let activations: UnsafeMutablePointer<Float>
    private let frameCount = 64
    private var frame = 0

    init() {
        let basis = randomBasis(binCount: 250, speechRank: 128, noiseRank: 8)
        do {
            solver = try ActivationSolver(basis: basis, beta: BetaDivergence(1), sparsity: 0.01, relativeFloor: 0.05)
        } catch {
            fatalError("cannot build the solver: \(error)")
        }
        let stride = solver.binStride
        frames = .allocate(capacity: frameCount * stride)
        frames.initialize(repeating: 0, count: frameCount * stride)
        var state: UInt64 = 0x5EED
        for t in 0..<frameCount {
            for f in 0..<solver.binCount {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                frames[t * stride + f] = Float(state >> 40) / Float(1 << 24) / Float(1 + f / 16)
            }
        }
        activations = .allocate(capacity: solver.activationStride)
        solver.initialise(activations, from: frames)
    }

    deinit {
        frames.deallocate()
        activations.deallocate()
    }

    /// One frame's solve: 5 multiplicative updates.
    func run() {
        solver.solve(frames + frame * solver.binStride, activations: activations, iterations: 5)
        frame = (frame + 1) % frameCount
        blackHole(activations[0])
    }
}

/// One forward and one inverse real FFT of `length` points (FFTW, the engine's plans).
final class FFTRunner: @unchecked Sendable {
    private let fft: RealFFT

    init(length: Int) {
        do {
            fft = try RealFFT(length: length)
        } catch {
            fatalError("cannot plan an FFT of \(length) points: \(error)")
        }
        for n in 0..<length { fft.time[n] = Float(n % 17) * 0.01 }
    }

    func run() {
        fft.forward()
        fft.inverse()
        let scale = 1 / Float(fft.length)
        for n in 0..<fft.length { fft.time[n] *= scale }   // keep the values bounded
    }
}

/// Harmonics of a gliding f0 under a syllable envelope, plus seeded noise 20 dB down (as `sordino bench`).
func speechLike(count: Int, sampleRate: Int) -> [Float] {
    var state: UInt64 = 0x5EED
    var phase = 0.0
    return (0..<count).map { n in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        let noise = Double(state >> 11) / Double(1 << 53) * 2 - 1
        let t = Double(n) / Double(sampleRate)
        phase += 2 * .pi * (150 + 50 * sin(2 * .pi * 0.5 * t)) / Double(sampleRate)
        var voiced = 0.0
        for k in 1...10 { voiced += sin(Double(k) * phase) / Double(k) }
        return Float(0.1 * max(0, sin(2 * .pi * 3 * t)) * voiced + 0.01 * noise)
    }
}

/// A seeded basis with columns summing to 1.
func randomBasis(binCount: Int, speechRank: Int, noiseRank: Int) -> Basis {
    var state: UInt64 = 21
    let rank = speechRank + noiseRank
    var values = (0..<(binCount * rank)).map { _ -> Float in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(state >> 40) / Float(1 << 24) + 0.01
    }
    for k in 0..<rank {
        var sum: Float = 0
        for f in 0..<binCount { sum += values[f * rank + k] }
        for f in 0..<binCount { values[f * rank + k] /= sum }
    }
    do {
        return try Basis(binCount: binCount, speechRank: speechRank, noiseRank: noiseRank, values: values)
    } catch {
        fatalError("the benchmark basis is valid by construction: \(error)")
    }
}
