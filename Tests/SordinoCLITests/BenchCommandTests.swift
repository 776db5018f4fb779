// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino bench --json`: the fields a regression script reads, allocations counted and 0. No timing is asserted.

import Foundation
import Testing
import TestSupport

@Suite(.enabled(if: CLI.shouldRun, CLI.skipReason))
struct BenchCommandTests {
    /// lowlatency-48k on 2 channels with --full-band: one record with its shapes, every time
    /// positive and ordered (p50 ≤ p99 ≤ max), the channel and full-band figures present, and 0
    /// allocations counted (the interposer library is built next to the binary).
    @Test func jsonReportsShapesSpreadAndZeroAllocations() throws {
        let preset = CLI.repository.appendingPathComponent("presets/lowlatency-48k.json").path
        let r = try CLI.run(["bench", "--seconds", "0.3", "--channels", "2", "--full-band", "--json", preset])
        #expect(r.status == 0, "\(r.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect((document["multiplyAddPeakGFLOPs"] as? Double ?? 0) > 0)
        #expect(document["allocationsCounted"] as? Bool == true, "libMallocInterposerSwift.so is not next to the binary")
        let records = try #require(document["presets"] as? [[String: Any]])
        let record = try #require(records.first)
        #expect(records.count == 1 && record["preset"] as? String == "lowlatency-48k")
        #expect(record["solvedBinCount"] as? Int == 84 && record["binCount"] as? Int == 257 && record["atoms"] as? Int == 136)
        #expect(record["channels"] as? Int == 2 && record["blockLength"] as? Int == 128)
        #expect(record["allocations"] as? Int == 0)
        let p50 = record["p50"] as? Double ?? -1, p99 = record["p99"] as? Double ?? -1, max = record["max"] as? Double ?? -1
        #expect(p50 > 0 && p50 <= p99 && p99 <= max)
        for key in ["microsecondsPerHop", "baselineMicrosecondsPerHop", "fftShare",
                    "channelScaling", "oneChannelMicrosecondsPerHop", "fullBandMicrosecondsPerHop", "bandLimitSpeedup"] {
            #expect((record[key] as? Double ?? 0) > 0, "\(key)")
        }
        // The solver's figures are there exactly when the solve (hop − baseline) is at least a tenth
        // of the hop: which side of that a 0.3 s run falls on is the machine's load, not the code's.
        let hop = record["microsecondsPerHop"] as? Double ?? 0, base = record["baselineMicrosecondsPerHop"] as? Double ?? 0
        let resolvable = hop - base >= 0.1 * hop
        for key in ["solverGFLOPs", "peakShare"] {
            #expect(resolvable ? (record[key] as? Double ?? 0) > 0 : record[key] == nil, "\(key): \(record)")
        }
        #expect(record["peakLanes"] as? Int == 8, "two channels are solved stream by stream")
        // The flops timed by difference (β = 1: W·h and Wᵀ·P per iteration) less the one W·h the
        // baseline takes for Ŝ and N̂, which the last iteration's gives on the way (the count
        // without that − 1 put every share a fifth to a third too high).
        if let gflops = record["solverGFLOPs"] as? Double {
            let iterations = try #require(record["iterations"] as? Int), atoms = try #require(record["atoms"] as? Int)
            let flops = 2.0 * Double((2 * iterations - 1) * 84 * atoms * 2)
            #expect(abs(gflops * (hop - base) * 1e3 - flops) <= 1e-6 * flops, "\(record)")
        }
    }

    /// Eight channels are solved by the sixteen-lane pass where the CPU has AVX-512: their solver's
    /// share is then of the sixteen-lane peak (measured and reported beside the eight-lane one), which
    /// the eight-lane peak would overstate (speech-44k1 once printed 130 %).
    @Test func eightChannelsTakeTheirShareOfThePeakTheyRunAt() throws {
        let preset = CLI.repository.appendingPathComponent("presets/lowlatency-48k.json").path
        let r = try CLI.run(["bench", "--seconds", "0.3", "--channels", "8", "--json", preset])
        #expect(r.status == 0, "\(r.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let record = try #require((document["presets"] as? [[String: Any]])?.first)
        let wide = document["multiplyAddPeakWideGFLOPs"] as? Double
        #expect(wide.map { $0 > 0 } ?? true)
        #expect(record["peakLanes"] as? Int == (wide == nil ? 8 : 16), "\(document)")
        if let gflops = record["solverGFLOPs"] as? Double, let share = record["peakShare"] as? Double {
            let peak = wide ?? (document["multiplyAddPeakGFLOPs"] as? Double ?? 0)
            #expect(abs(share - gflops / peak) <= 1e-9 * share, "\(record)")
        }
    }

    /// A solve too small to time by difference reports no GFLOP/s instead of a number made of
    /// noise (speech-192k's hop once printed 195 GFLOP/s, 241 % of the peak): with 0 iterations
    /// the hop and its baseline are the same work.
    @Test func noSolverFiguresWithoutASolve() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        for ext in ["basis", "gain"] {
            try FileManager.default.copyItem(at: CLI.repository.appendingPathComponent("presets/lowlatency-48k.\(ext)"),
                                             to: dir.appendingPathComponent("lowlatency-48k.\(ext)"))
        }
        let source = try String(contentsOf: CLI.repository.appendingPathComponent("presets/lowlatency-48k.json"), encoding: .utf8)
        let preset = dir.appendingPathComponent("lowlatency-48k.json")
        try source.replacingOccurrences(of: #""iterations" : 5"#, with: #""iterations" : 0"#)
            .write(to: preset, atomically: true, encoding: .utf8)
        let r = try CLI.run(["bench", "--seconds", "0.3", "--json", preset.path])
        #expect(r.status == 0, "\(r.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let record = try #require((document["presets"] as? [[String: Any]])?.first)
        #expect(record["iterations"] as? Int == 0)
        #expect(record["solverGFLOPs"] == nil && record["peakShare"] == nil, "\(record)")
        let text = try CLI.run(["bench", "--seconds", "0.3", preset.path])
        #expect(text.status == 0 && text.stdout.contains("     —     —"), "\(text.stdout)")
    }

    /// A run too short to time is refused, not timed: 0.001 s (16 samples at 16 kHz, no whole hop)
    /// printed 1.4 µs a hop and 343 % of the machine's peak (found by hand).
    @Test(arguments: ["0.001", "0.09", "0", "3601"])
    func tooShortOrTooLongIsRefused(seconds: String) throws {
        let r = try CLI.run(["bench", "--seconds", seconds, "speech-16k"])
        #expect(r.status == 64 && r.stderr.contains("--seconds must lie in 0.1…3600"), "\(r.stderr)")
    }
}
