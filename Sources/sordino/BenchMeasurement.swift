// SPDX-License-Identifier: GPL-3.0-or-later
// What `sordino bench` times: the engine call by call, the FFTs alone, the machine's multiply-add peak, and heap allocations.

import Foundation
import CEngineKernels
import SordinoDSP

/// Per-call CPU times of one engine over a seeded signal, and the allocations made meanwhile.
struct EngineTiming {
    /// Mean CPU µs per hop (all channels): this thread's CPU time over the timed calls, over hops.
    /// (Not the process's: another thread of the process, busy for tens of ms after start-up,
    /// doubled the mean of a short run's first preset.)
    let microsecondsPerHop: Double
    /// Percentiles and maximum of the CPU µs of one `Engine.process` call.
    let p50: Double, p99: Double, max: Double
    /// Audio seconds per CPU second.
    let realTimeFactor: Double
    /// Heap allocations during the timed calls; nil when no counter is loaded.
    let allocations: Int?

    /// Warms up (`warmUp`), then processes `seconds` of `Bench.testSignal` in calls of `blockLength`
    /// samples twice, with the thread's CPU clock (preemption by other processes is not counted):
    /// the first run timed as a whole (the mean and RTF), the second call by call (the percentiles;
    /// each call's time then includes part of the clock's own reads, ≈ 0.4 µs). Allocates its
    /// buffers before the timed part; counts allocations over both runs.
    init(_ config: EngineConfiguration, basis: Basis, gainModel: GainModel?, seconds: Double, blockLength: Int,
         counter: AllocationCounter?) throws {
        var engine = try Engine(configuration: config, basis: basis, gainModel: gainModel)
        let rate = config.sampleRate, channels = config.channelCount
        let signal = Bench.testSignal(count: Int(seconds * Double(rate)) + rate, sampleRate: rate)
        warmUp(&engine, [[Float]](repeating: Array(signal[..<rate]), count: channels), blockLength: blockLength)
        let count = signal.count - rate
        let input = UnsafeMutablePointer<Float>.allocate(capacity: count)
        input.initialize(from: Array(signal[rate...]), count: count)
        let output = UnsafeMutablePointer<Float>.allocate(capacity: count * channels)
        let inputs = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: channels)
        let outputs = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: channels)
        let calls = (count + blockLength - 1) / blockLength
        let times = UnsafeMutablePointer<Double>.allocate(capacity: calls)
        defer { input.deallocate(); output.deallocate(); inputs.deallocate(); outputs.deallocate(); times.deallocate() }
        /// Feeds the input to the engine in calls of `blockLength`; `each(call, body)` wraps each call.
        func run(_ each: (Int, () -> Void) -> Void) {
            for call in 0..<calls {
                let offset = call * blockLength, n = Swift.min(blockLength, count - offset)
                for c in 0..<channels {
                    inputs[c] = UnsafePointer(input + offset)
                    outputs[c] = output + c * count + offset
                }
                each(call) { engine.process(inputs: inputs, outputs: outputs, blockLength: n) }
            }
        }
        counter?.start()
        // The mean from a run without a clock read per call: a read is a system call of ≈ 0.4 µs,
        // and two a hop made a tenth of a speech-16k hop.
        let hopsBefore = engine.telemetry.hops.load(ordering: .relaxed)
        let started = threadCPUSeconds()
        run { _, call in call() }
        let cpu = threadCPUSeconds() - started
        let hops = engine.telemetry.hops.load(ordering: .relaxed) - hopsBefore
        // The percentiles from a second run over the same signal, a clock read around each call.
        run { index, call in
            let t0 = threadCPUSeconds()
            call()
            times[index] = threadCPUSeconds() - t0
        }
        allocations = counter?.stop()
        let sorted = UnsafeMutableBufferPointer(start: times, count: calls).sorted()
        func percentile(_ p: Double) -> Double { sorted[Swift.min(calls - 1, Int(p * Double(calls)))] * 1e6 }
        microsecondsPerHop = cpu * 1e6 / Double(Swift.max(hops, 1))
        p50 = percentile(0.5)
        p99 = percentile(0.99)
        max = (sorted.last ?? 0) * 1e6
        realTimeFactor = seconds / cpu
    }
}

/// The cost of N channels over one, in rounds that alternate between the two engines (each round
/// a stretch of `Bench.testSignal` through one, then the same stretch through the other), so a
/// change in the machine's speed during the run (other guests of a virtual machine, the clock)
/// falls on both: the ratio is the median of the rounds' ratios, one channel's cost the median of
/// its rounds.
struct ChannelScaling {
    /// Median over rounds of one channel's mean CPU µs per hop.
    let oneChannelMicrosecondsPerHop: Double
    /// Median over rounds of (N channels' µs per hop) / (one channel's).
    let ratio: Double
    /// Heap allocations during the timed calls; nil when no counter is loaded.
    let allocations: Int?

    /// `seconds` of the signal through each engine, in eight rounds, or fewer so that each round is
    /// at least 16 hops (one round for less); each engine warmed up first (`warmUp`).
    init(_ config: EngineConfiguration, basis: Basis, gainModel: GainModel?, seconds: Double,
         blockLength: Int, counter: AllocationCounter?) throws {
        var one = config
        one.channelCount = 1
        var many = try Engine(configuration: config, basis: basis, gainModel: gainModel)
        var single = try Engine(configuration: one, basis: basis, gainModel: gainModel)
        let rate = config.sampleRate, channels = config.channelCount
        let signal = Bench.testSignal(count: Int(seconds * Double(rate)) + rate, sampleRate: rate)
        warmUp(&many, [[Float]](repeating: Array(signal[..<rate]), count: channels), blockLength: blockLength)
        warmUp(&single, [Array(signal[..<rate])], blockLength: blockLength)
        let count = signal.count - rate, rounds = Swift.max(1, Swift.min(8, count / (16 * config.hopLength)))
        let stretch = count / rounds
        let input = UnsafeMutablePointer<Float>.allocate(capacity: count)
        input.initialize(from: Array(signal[rate...]), count: count)
        let output = UnsafeMutablePointer<Float>.allocate(capacity: blockLength * channels)
        let inputs = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: channels)
        let outputs = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: channels)
        defer { input.deallocate(); output.deallocate(); inputs.deallocate(); outputs.deallocate() }
        for c in 0..<channels { outputs[c] = output + c * blockLength }
        /// CPU µs per hop of `engine` over samples `from ..< from + stretch` of the input.
        func time(_ engine: inout Engine, channels: Int, from: Int) -> Double {
            let hopsBefore = engine.telemetry.hops.load(ordering: .relaxed), started = threadCPUSeconds()
            var offset = from
            while offset < from + stretch {
                let n = Swift.min(blockLength, from + stretch - offset)
                for c in 0..<channels { inputs[c] = UnsafePointer(input + offset) }
                engine.process(inputs: inputs, outputs: outputs, blockLength: n)
                offset += n
            }
            let hops = engine.telemetry.hops.load(ordering: .relaxed) - hopsBefore
            return (threadCPUSeconds() - started) * 1e6 / Double(Swift.max(hops, 1))
        }
        var singles: [Double] = [], ratios: [Double] = []
        singles.reserveCapacity(rounds)
        ratios.reserveCapacity(rounds)
        counter?.start()
        for round in 0..<rounds {
            let a = time(&single, channels: 1, from: round * stretch)
            let b = time(&many, channels: channels, from: round * stretch)
            singles.append(a)
            ratios.append(b / a)
        }
        allocations = counter?.stop()
        func median(_ x: [Double]) -> Double {
            let sorted = x.sorted(), n = sorted.count
            return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        }
        oneChannelMicrosecondsPerHop = median(singles)
        ratio = median(ratios)
    }
}

/// CPU µs of one forward plus one inverse real FFT of `length`, the median of 9 runs of 200 pairs.
func fftPairMicroseconds(length: Int) throws -> Double {
    let fft = try RealFFT(length: length)
    for n in 0..<length { fft.time[n] = Float(n % 17) * 0.01 }
    var runs: [Double] = []
    for _ in 0..<9 {
        let t0 = threadCPUSeconds()
        for _ in 0..<200 {
            fft.forward()
            fft.inverse()
            for n in 0..<length { fft.time[n] *= 1 / Float(length) }   // keep the values bounded
        }
        runs.append((threadCPUSeconds() - t0) / 200 * 1e6)
    }
    return runs.sorted()[4]
}

/// The machine's single-core multiply-add rate in GFLOP/s (2 flops per lane and step), measured by
/// `CEngineKernels`'s loop of 12 independent 8-lane chains (so latency does not limit it),
/// `x ← x·a + b`, built as the solver's pass over W is for this CPU: fused (AVX2 with FMA) where
/// the CPU has FMA, else a multiply then an add. The best of 5 runs of 2 × 10⁶ steps. `wide`: the
/// rate of sixteen-lane chains (`sordino_peak_loop_wide`, the multiply-add of the sixteen-lane pass
/// of eight or more channels), nil where the CPU does not run it.
func multiplyAddPeak() -> (gflops: Double, fused: Bool, wide: Double?) {
    guard let loop = sordino_peak_loop() else { preconditionFailure("CEngineKernels chose no peak loop") }
    return (bestRate(loop, lanes: 8), ActivationSolver.passIsFused, sordino_peak_loop_wide().map { bestRate($0, lanes: 16) })
}

/// GFLOP/s of `loop` (12 chains of `lanes` lanes), the best of 5 runs of 2 × 10⁶ steps.
private func bestRate(_ loop: SordinoPeakLoop, lanes: Int) -> Double {
    var best = 0.0
    var sink: Float = 0
    for _ in 0..<5 {
        let steps = 2_000_000
        let t0 = threadCPUSeconds()
        sink += loop(steps)
        let elapsed = threadCPUSeconds() - t0
        best = Swift.max(best, Double(steps * 12 * lanes * 2) / elapsed / 1e9)
    }
    precondition(sink.isFinite, "the peak loop diverged")
    return best
}

/// Counts heap allocations through the malloc interposer's C functions when the process runs with
/// `libMallocInterposerSwift.so` preloaded (`LD_PRELOAD`); `load()` is nil otherwise.
struct AllocationCounter {
    private typealias Void0 = @convention(c) () -> Void
    private typealias Stats = @convention(c) (UnsafeMutablePointer<Int64>, UnsafeMutablePointer<Int64>,
                                              UnsafeMutablePointer<Int64>, UnsafeMutablePointer<Int64>,
                                              UnsafeMutablePointer<Int64>, UnsafeMutablePointer<Int64>) -> Void
    private let enable: Void0, disable: Void0, reset: Void0
    private let stats: Stats

    /// The library's name, looked for next to the `sordino` executable.
    static let libraryName = "libMallocInterposerSwift.so"

    static func load() -> AllocationCounter? {
        guard let handle = dlopen(nil, RTLD_NOW),
              let enable = dlsym(handle, "malloc_interposer_enable"),
              let disable = dlsym(handle, "malloc_interposer_disable"),
              let reset = dlsym(handle, "malloc_interposer_reset"),
              let stats = dlsym(handle, "malloc_interposer_get_stats") else { return nil }
        return AllocationCounter(enable: unsafeBitCast(enable, to: Void0.self), disable: unsafeBitCast(disable, to: Void0.self),
                                 reset: unsafeBitCast(reset, to: Void0.self), stats: unsafeBitCast(stats, to: Stats.self))
    }

    func start() {
        reset()
        enable()
    }

    /// Stops counting; returns allocations plus frees since `start`.
    func stop() -> Int {
        disable()
        var values = [Int64](repeating: 0, count: 6)
        values.withUnsafeMutableBufferPointer { v in
            let p = v.baseAddress!   // six elements: never empty
            stats(p, p + 1, p + 2, p + 3, p + 4, p + 5)
        }
        return Int(values[0] + values[4])   // malloc count + free count
    }
}

/// CPU time of the calling thread in seconds (a vDSO-less system call, ≈ 0.3 µs).
/// Runs `engine` over `chunk` (1 s of every channel) again and again until it has taken 0.1 s of
/// this thread's CPU time: the timed part then starts with the caches, branch predictors and the
/// CPU's clock where a running engine has them (1 s of audio alone was 2–5 ms of CPU, and a preset
/// timed first in its process ran up to a fifth slower than the same timed after another).
func warmUp(_ engine: inout Engine, _ chunk: [[Float]], blockLength: Int) {
    let started = threadCPUSeconds()
    repeat {
        var driver = EngineBlockDriver(channelCount: chunk.count, blockLengths: [blockLength])
        _ = driver.run(&engine, chunk)
    } while threadCPUSeconds() - started < 0.1
}

func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}
