// SPDX-License-Identifier: GPL-3.0-or-later
// What `sordino bench` reports: one record per preset, as a table line or JSON, and the machine it ran on.

import Foundation

/// The figures of one preset (times in CPU µs; shares and ratios as fractions).
struct BenchRecord: Codable {
    let preset: String
    let sampleRate, frameLength, hopLength, binCount: Int
    /// Bins the activation solve covers (`binCount` without a band limit).
    let solvedBinCount: Int
    /// Atoms in the solve (the high-band atoms of a band-limited basis left out, the online ones in).
    let atoms: Int
    let iterations, channels, blockLength: Int
    /// Mean per hop; p50, p99 and max of one engine call.
    let microsecondsPerHop, p50, p99, max: Double
    /// The same engine with 0 iterations, and the ratio of the two.
    let baselineMicrosecondsPerHop, ratio: Double
    let realTimeFactor: Double
    /// One forward and one inverse FFT per channel (and the gain stage's inverse), and its share of a hop.
    let fftMicrosecondsPerHop, fftShare: Double
    /// Whether the FFTs' plans came from the shipped FFTW wisdom (else FFTW estimated them).
    let fftFromWisdom: Bool
    /// Solver flops over (hop − baseline), and that over the multiply-add peak of the lanes it runs
    /// in (`peakLanes`); nil (JSON: absent) when the solve took less than
    /// `BenchRecord.resolvableSolverShare` of the hop, too little of it for the difference of two
    /// timings to say anything (a speech-192k hop is mostly FFTs).
    let solverGFLOPs, peakShare: Double?
    /// 16 when the solve runs the sixteen-lane pass (from `ActivationSolver.lanesFrom` channels, on a
    /// CPU with AVX-512), its share then of the sixteen-lane peak; else 8.
    let peakLanes: Int

    /// The least share of a hop the solve must take for its GFLOP/s to be reported.
    static let resolvableSolverShare = 0.1
    /// Allocations plus frees during every timed call; nil when not counted.
    let allocations: Int?
    /// With --channels N > 1: one channel's cost, and N channels' over it (`ChannelScaling`: medians
    /// of alternating rounds).
    let oneChannelMicrosecondsPerHop, channelScaling: Double?
    /// With --full-band on a band-limited preset: every bin solved, and its cost over the band-limited one.
    let fullBandMicrosecondsPerHop, bandLimitSpeedup: Double?

    static func header(peak: (gflops: Double, fused: Bool, wide: Double?), counted: Bool) -> String {
        String(format: "multiply-add peak %.1f GFLOP/s (%@, one core)%@; allocations %@\n", peak.gflops,
               peak.fused ? "fused, as the solver's pass" : "multiply then add: this CPU has no FMA",
               peak.wide.map { String(format: ", %.1f with sixteen lanes (peak%% of the sixteen-lane pass)", $0) } ?? "",
               counted ? "counted" : "not counted")
            + "preset              rate   bins     atoms it  µs/hop   p50    p99     max   base  ratio    RTF  FFT%  "
            + "GFLOP/s peak%  allocs"
    }

    var line: String {
        let name = preset.padding(toLength: 18, withPad: " ", startingAt: 0)
        let solver = solverGFLOPs.map { String(format: "%6.2f", $0) } ?? "     —"
        let peak = peakShare.map { String(format: "%4.0f%%", 100 * $0) } ?? "    —"
        var text = name + String(format: "  %-6d %3d/%-4d  %4d %2d  %6.1f %6.1f %6.1f %7.1f %6.1f %5.2f× %6.1f %4.0f%%  %@ %@  %@",
                                  sampleRate, solvedBinCount, binCount, atoms, iterations, microsecondsPerHop, p50, p99,
                                  max, baselineMicrosecondsPerHop, ratio, realTimeFactor, 100 * fftShare, solver,
                                  peak, allocations.map { "\($0)" } ?? "-")
        if !fftFromWisdom {
            text += "\n    FFTs estimated by FFTW: the shipped wisdom has no plan of this length for this CPU"
        }
        if let oneChannelMicrosecondsPerHop, let channelScaling {
            text += String(format: "\n    %d channels cost %.2f× one channel (%.1f µs/hop)", channels, channelScaling,
                           oneChannelMicrosecondsPerHop)
        }
        if let fullBandMicrosecondsPerHop, let bandLimitSpeedup {
            text += String(format: "\n    solving every bin: %.1f µs/hop, %.2f× the band-limited solve",
                           fullBandMicrosecondsPerHop, bandLimitSpeedup)
        }
        return text
    }
}

/// `sordino bench --json`.
struct BenchReport: Codable {
    let machine: String
    let multiplyAddPeakGFLOPs: Double
    /// The sixteen-lane rate where the CPU runs the sixteen-lane pass; absent otherwise.
    let multiplyAddPeakWideGFLOPs: Double?
    let multiplyAddFused: Bool
    let allocationsCounted: Bool
    let seconds: Double
    let presets: [BenchRecord]

    /// "CPU model, N cores" from /proc/cpuinfo.
    static func machine() -> String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = info.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" }
        return "\(model ?? "unknown CPU"), \(ProcessInfo.processInfo.activeProcessorCount) cores"
    }
}
