// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino bench`: cost per frame, real-time factor and GFLOP/s of the engine for each preset.

import ArgumentParser
import Foundation
import SordinoDSP
import SordinoPresets

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the engine's cost per frame and real-time factor for presets.",
        discussion: """
        Processes a seeded speech-like signal in blocks of --block-size on one thread and reports, \
        per preset: µs of CPU per hop (one frame per channel), the real-time factor (audio seconds \
        per CPU second; higher is faster), the solver's GFLOP/s, and the ratio to a baseline measured \
        in the same run: the same engine with 0 iterations (STFT, mask and overlap-add only). Ratios \
        are comparable across machines; absolute times are not.
        """)

    @Argument(help: "Presets to measure (names, paths or folders). Default: every preset found.")
    var presets: [String] = []

    @Option(help: "Seconds of audio per measurement.") var seconds: Double = 20
    @Option(name: .customLong("block-size"), help: "Samples per engine call (1…8192).") var blockSize: Int = 256
    @Option(help: "Channels (1…64).") var channels: Int = 1

    mutating func validate() throws {
        guard seconds > 0 && seconds <= 3600 else { throw ValidationError("--seconds must lie in (0, 3600].") }
        guard (1...8192).contains(blockSize) else { throw ValidationError("--block-size must lie in 1…8192.") }
        guard (1...64).contains(channels) else { throw ValidationError("--channels must lie in 1…64.") }
    }

    func run() throws {
        do {
            let locator = PresetLocator()
            let paths = try presets.isEmpty ? locator.list().presets.map(\.path)
                : presets.map { try locator.resolve($0, sampleRate: nil).path }
            guard !paths.isEmpty else { throw CommandError("no presets found; pass a preset path.", exitCode: .noInput) }
            print("preset              rate    N/H/bins     rank  iter  µs/hop  base µs  ratio   RTF     GFLOP/s")
            for path in paths {
                let preset = try Preset.load(path: path)
                var config = preset.engineConfiguration(channelCount: channels, maximumBlockLength: blockSize)
                let solve = try measure(config, basis: preset.basis, gainModel: preset.gainModel)
                config.iterations = 0
                let base = try measure(config, basis: preset.basis, gainModel: preset.gainModel)
                let c = preset.engineConfiguration(channelCount: channels)
                let rank = preset.basis.rank
                // Multiply-adds per iteration: W·h and Wᵀ·r, plus Wᵀ·Λ (β = 2) or Wᵀ·(1/Λ) (β = 0).
                let products = c.beta == 1 ? 2 : 3
                let flops = 2.0 * Double(products * c.binCount * rank * c.iterations * channels)
                let gflops = flops / max(solve.microsecondsPerHop - base.microsecondsPerHop, 1e-3) / 1e3
                let name = preset.metadata.name.padding(toLength: 18, withPad: " ", startingAt: 0)
                print(name + String(format: "  %-6d  %4d/%3d/%-4d  %4d  %4d  %6.1f  %7.1f  %5.2f×  %6.1f  %6.2f",
                             c.sampleRate, c.frameLength, c.hopLength, c.binCount,
                             rank, c.iterations, solve.microsecondsPerHop, base.microsecondsPerHop,
                             solve.microsecondsPerHop / base.microsecondsPerHop, solve.realTimeFactor, gflops))
            }
        } catch {
            throw report(error, command: "bench")
        }
    }

    struct Measurement { let microsecondsPerHop: Double; let realTimeFactor: Double }

    /// CPU time of processing `seconds` of a speech-like signal, after 1 s of warm-up.
    func measure(_ config: EngineConfiguration, basis: Basis, gainModel: GainModel?) throws -> Measurement {
        var engine = try Engine(configuration: config, basis: basis, gainModel: gainModel)
        let rate = config.sampleRate
        let signal = Self.testSignal(count: Int(seconds * Double(rate)) + rate, sampleRate: rate)
        let planar = [[Float]](repeating: signal, count: channels)
        let warmUp = planar.map { Array($0[..<rate]) }
        var driver = EngineBlockDriver(channelCount: channels, blockLengths: [blockSize])
        _ = driver.run(&engine, warmUp)
        let hopsBefore = engine.telemetry.hops.load(ordering: .relaxed)
        let measured = planar.map { Array($0[rate...]) }
        let start = cpuSeconds()
        _ = driver.run(&engine, measured)
        let cpu = cpuSeconds() - start
        let hops = engine.telemetry.hops.load(ordering: .relaxed) - hopsBefore
        return Measurement(microsecondsPerHop: cpu * 1e6 / Double(max(hops, 1)), realTimeFactor: seconds / cpu)
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

/// CPU time consumed by this process, in seconds (excludes time other processes took).
func cpuSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}
