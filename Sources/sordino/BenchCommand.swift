// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino bench`: cost per hop, its spread, FFT share, solver GFLOP/s against the machine's peak, allocations, channel scaling.

import ArgumentParser
import Foundation
import SordinoDSP
import SordinoPresets

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the engine's cost per hop and real-time factor for presets.",
        discussion: """
        Processes a seeded speech-like signal on one thread and reports, per preset: CPU µs per hop \
        (one frame of every channel; mean, and the 50th/99th percentile and maximum of one engine \
        call, each call a hop at the default block size), the ratio to a baseline measured in the \
        same run (the same engine with 0 iterations: STFT, mask and overlap-add), the real-time \
        factor, the FFTs' share of a hop (a line under the preset says so when its FFT length is not \
        in the shipped FFTW wisdom and FFTW estimated the plans), the solver's GFLOP/s and its share of the machine's \
        multiply-add peak (a SIMD loop timed in the same run, of sixteen lanes where 6 or more channels are solved \
        with AVX-512's sixteen-lane pass; — with no iterations, or when the solve takes under a tenth \
        of the hop, too little to time by difference), and the heap allocations during the \
        timed calls (0 expected; counted when libMallocInterposerSwift.so sits next to the binary, \
        as after `swift build -c release`, or is preloaded). With --channels N > 1, also the cost of \
        N channels over one (in up to eight rounds of at least 16 hops, alternating between an N-channel and a one-channel \
        engine on the same stretch of signal, the median of the rounds' ratios, so that a machine \
        whose speed drifts during the run slows both alike). With --full-band, band-limited presets are also timed solving every \
        bin. Ratios are comparable across machines; absolute times are not.
        """)

    @Argument(help: "Presets to measure (names, paths or folders). Default: every preset found.")
    var presets: [String] = []

    @Option(parsing: .unconditional, help: "Seconds of audio per measurement (0.1…3600; under 0.1 s a run is too few hops to time).")
    var seconds: Double = 20
    @Option(name: .customLong("block-size"), parsing: .unconditional, help: "Samples per engine call (1…8192). Default: the preset's hop.")
    var blockSize: Int?
    @Option(parsing: .unconditional, help: "Channels (1…64).") var channels: Int = 1
    @Flag(name: .customLong("full-band"), help: "Also time band-limited presets solving every bin.")
    var fullBand = false
    @Flag(help: "Print one JSON document instead of the table.") var json = false

    mutating func validate() throws {
        guard seconds >= 0.1 && seconds <= 3600 else {
            throw ValidationError("--seconds must lie in 0.1…3600 (under 0.1 s a run is too few hops to time).")
        }
        if let blockSize, !(1...8192).contains(blockSize) { throw ValidationError("--block-size must lie in 1…8192.") }
        guard (1...64).contains(channels) else { throw ValidationError("--channels must lie in 1…64.") }
    }

    func run() throws {
        Self.restartWithAllocationCounter()
        do {
            let locator = PresetLocator()
            let paths = try presets.isEmpty ? locator.list().presets.map(\.path)
                : presets.map { try locator.resolve($0, sampleRate: nil).path }
            guard !paths.isEmpty else { throw CommandError("no presets found; pass a preset path.", exitCode: .noInput) }
            let counter = AllocationCounter.load()
            let peak = multiplyAddPeak()
            var records: [BenchRecord] = []
            if !json { print(BenchRecord.header(peak: peak, counted: counter != nil)) }
            for path in paths {
                let record = try measure(Preset.load(path: path), counter: counter, peak: peak.gflops, widePeak: peak.wide)
                if !json { print(record.line) }
                records.append(record)
            }
            if json {
                let report = BenchReport(machine: BenchReport.machine(), multiplyAddPeakGFLOPs: peak.gflops,
                                         multiplyAddPeakWideGFLOPs: peak.wide, multiplyAddFused: peak.fused, allocationsCounted: counter != nil,
                                         seconds: seconds, presets: records)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            }
        } catch {
            throw report(error, command: "bench")
        }
    }

    /// Every figure of one preset, measured in this run.
    func measure(_ preset: Preset, counter: AllocationCounter?, peak: Double, widePeak: Double?) throws -> BenchRecord {
        let config = preset.engineConfiguration(channelCount: channels)
        let block = blockSize ?? config.hopLength
        func time(_ c: EngineConfiguration) throws -> EngineTiming {
            try EngineTiming(c, basis: preset.basis, gainModel: preset.gainModel, seconds: seconds, blockLength: block,
                             counter: counter)
        }
        let solve = try time(config)
        var base = config
        base.iterations = 0
        let baseline = try time(base)
        let scaling = channels > 1
            ? try ChannelScaling(config, basis: preset.basis, gainModel: preset.gainModel, seconds: seconds,
                                 blockLength: block, counter: counter) : nil
        var full = config
        full.bandLimitHertz = nil
        let fullBand = fullBand && config.bandLimitHertz != nil ? try time(full) : nil
        // Atoms in the solve: those with weight below the band limit, plus the online ones.
        let solved = config.solvedBinCount
        let atoms = (0..<preset.basis.rank).count { k in (0..<solved).contains { preset.basis[bin: $0, atom: k] > 0 } }
            + config.adaptiveNoiseRank
        // Multiply-adds per iteration: W·h, then Wᵀ·P (β = 0, 1) and Wᵀ·Q (β = 0, 2). The baseline
        // without iterations still takes Ŝ and N̂ of h (one W·h), which the last iteration's W·h
        // gives on the way: the difference timed is one product less than the iterations'.
        let products = config.beta == 0 ? 3 : 2
        // The solve's lanes: sixteen where the channels are solved by the sixteen-lane pass.
        let wide: Double? = !config.linkChannels && channels >= ActivationSolver.lanesFrom ? widePeak : nil
        let flops = 2.0 * Double((products * config.iterations - 1) * solved * atoms * channels)
        let solverMicroseconds = solve.microsecondsPerHop - baseline.microsecondsPerHop
        // No iterations, no solve: the two runs are the same engine and their difference is noise
        // (on a loaded machine it once passed a tenth of the hop and printed 0.00 GFLOP/s).
        let gflops: Double? = flops > 0
            && solverMicroseconds >= BenchRecord.resolvableSolverShare * solve.microsecondsPerHop
            ? flops / solverMicroseconds / 1e3 : nil
        // A forward and an inverse FFT per channel, and the learned gain's periodicity: an inverse FFT
        // of at most 512 points (GainFeatures), counted as half a pair of its length.
        let periodicity = config.gainRefinement == nil ? 0 : try fftPairMicroseconds(length: min(config.fftLength, 512)) / 2
        let fft = Double(channels) * (try fftPairMicroseconds(length: config.fftLength) + periodicity)
        return BenchRecord(
            preset: preset.metadata.name, sampleRate: config.sampleRate, frameLength: config.frameLength,
            hopLength: config.hopLength, binCount: config.binCount, solvedBinCount: solved, atoms: atoms,
            iterations: config.iterations, channels: channels, blockLength: block,
            microsecondsPerHop: solve.microsecondsPerHop, p50: solve.p50, p99: solve.p99, max: solve.max,
            baselineMicrosecondsPerHop: baseline.microsecondsPerHop,
            ratio: solve.microsecondsPerHop / baseline.microsecondsPerHop, realTimeFactor: solve.realTimeFactor,
            fftMicrosecondsPerHop: fft, fftShare: fft / solve.microsecondsPerHop,
            fftFromWisdom: RealFFT.plannedFromWisdom(length: config.fftLength), solverGFLOPs: gflops,
            peakShare: gflops.map { $0 / (wide ?? peak) }, peakLanes: wide == nil ? 8 : 16,
            allocations: counter == nil ? nil : (solve.allocations ?? 0) + (baseline.allocations ?? 0)
                + (scaling?.allocations ?? 0) + (fullBand?.allocations ?? 0),
            oneChannelMicrosecondsPerHop: scaling?.oneChannelMicrosecondsPerHop, channelScaling: scaling?.ratio,
            fullBandMicrosecondsPerHop: fullBand?.microsecondsPerHop,
            bandLimitSpeedup: fullBand.map { $0.microsecondsPerHop / solve.microsecondsPerHop })
    }

    /// Runs this command again with the malloc interposer preloaded when it is not loaded yet and
    /// its library sits next to the executable; returns when it cannot (allocations then go uncounted).
    static func restartWithAllocationCounter() {
        guard AllocationCounter.load() == nil, ProcessInfo.processInfo.environment["SORDINO_BENCH_RESTARTED"] == nil,
              let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return }
        let library = URL(fileURLWithPath: executable).deletingLastPathComponent()
            .appendingPathComponent(AllocationCounter.libraryName).path
        guard FileManager.default.fileExists(atPath: library) else { return }
        setenv("SORDINO_BENCH_RESTARTED", "1", 1)
        setenv("LD_PRELOAD", library, 1)
        let arguments = CommandLine.arguments.map { strdup($0) } + [nil]
        execv(executable, arguments)   // returns only if the exec failed
    }

    /// Harmonics of a gliding f0 under a syllable envelope, plus seeded noise 20 dB down.
    static func testSignal(count: Int, sampleRate: Int) -> [Float] {
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
}
