// SPDX-License-Identifier: GPL-3.0-or-later
// Hostile input (NaN, ±Inf, denormals, DC, full-scale squares, clipping, silence, 60 dB steps): finite, bounded, counted, forgotten.

import Foundation
import SordinoDSP
import SordinoPresets
import Testing
import TestSupport

struct HostileAudioTests {
    /// What a stretch of input is replaced by.
    enum Hostile: CaseIterable, Sendable {
        case nan, infinity, denormal, dc, square, clipped, silence, stepDown

        /// Overwrites `x[range]` (speech) with this kind of trouble.
        func render(into x: inout [Float], _ range: Range<Int>, sampleRate: Int, _ g: inout SeededGenerator) {
            switch self {
            case .nan:   // a few bad samples among good ones
                x[range.lowerBound] = .nan
                for i in range where g.unit() < 0.02 { x[i] = .nan }
            case .infinity:
                for i in range { x[i] = i % 2 == 0 ? .infinity : -.infinity }
            case .denormal:
                for i in range { x[i] = Float.leastNormalMagnitude * (2 * g.unit() - 1) }
            case .dc:
                let level: Float = (g.unit() < 0.5 ? -1 : 1) * (0.5 + 0.5 * g.unit())
                for i in range { x[i] = level }
            case .square:
                let period = Float(sampleRate) / (50 + 4000 * g.unit())
                for i in range { x[i] = Float(i - range.lowerBound).truncatingRemainder(dividingBy: period) < period / 2 ? 1 : -1 }
            case .clipped:
                for i in range { x[i] = max(-1, min(1, 20 * x[i])) }
            case .silence:
                for i in range { x[i] = 0 }
            case .stepDown:   // −60 dB, then +60 dB at the end
                for i in range { x[i] *= 1e-3 }
            }
        }
    }

    /// An engine set-up: the random-basis test configuration or a shipped preset's basis and settings.
    struct Setup {
        let configuration: EngineConfiguration
        let basis: Basis
        var gainModel: GainModel? = nil
        var sampleRate: Int { configuration.sampleRate }

        static func named(_ name: String) throws -> Setup {
            guard name != "random basis" else {
                return Setup(configuration: EngineTests.noisyConfig(), basis: EngineTests.basis)
            }
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
            let preset = try Preset.load(path: root.appendingPathComponent("presets/\(name).json").path)
            return Setup(configuration: preset.engineConfiguration, basis: preset.basis, gainModel: preset.gainModel)
        }

        /// speechLike at this rate (peak 0.72, so within [−1, 1]).
        func speech(seconds: Double) -> [Float] {
            Signal.speechLike(seconds: seconds, sampleRate: sampleRate, noiseLevel: 0.1, seed: 3)
        }

        func run(_ x: [Float]) throws -> (output: [Float], telemetry: Telemetry) {
            var engine = try Engine(configuration: configuration, basis: basis, gainModel: gainModel)
            let y = EngineHarness.run(&engine, [x], blockLengths: [64, 256, 1000])[0]
            return (y, engine.telemetry)
        }
    }

    static let setups = ["random basis", "speech-16k", "lowlatency-48k"]

    /// The counters the input implies. Non-finite: every bad sample, and one reset per hop holding
    /// one. Silent frames: at least the frames that are all zeros (bad samples count as 0), at most
    /// those below 1e-30 (a denormal frame's power underflows to 0).
    struct Expected {
        var nonFiniteSamples = 0, nonFiniteResets = 0, silentAtLeast = 0, silentAtMost = 0

        init(_ x: [Float], _ configuration: EngineConfiguration) {
            let hop = configuration.hopLength, frame = configuration.frameLength
            nonFiniteSamples = x.filter { !$0.isFinite }.count
            for h in 0..<(x.count / hop) {
                let end = (h + 1) * hop
                if x[(end - hop)..<end].contains(where: { !$0.isFinite }) { nonFiniteResets += 1 }
                let history = x[max(0, end - frame)..<end]
                if history.allSatisfy({ $0 == 0 || !$0.isFinite }) { silentAtLeast += 1 }
                // The analysis window's first value is 0: that sample is never heard.
                if history.dropFirst().allSatisfy({ !$0.isFinite || abs($0) < 1e-30 }) { silentAtMost += 1 }
            }
        }
    }

    /// Output finite, within ±2 (every finite input sample is within ±1), counters as the input
    /// implies, no sample clamped. Returns the largest output magnitude.
    @discardableResult
    static func checkBoundsAndCounters(_ x: [Float], _ y: [Float], _ telemetry: Telemetry, _ setup: Setup,
                                       _ label: String) -> Float {
        #expect(x.allSatisfy { !$0.isFinite || abs($0) <= 1 })
        #expect(y.allSatisfy { $0.isFinite }, "\(label): non-finite output")
        let peak = y.map(abs).max() ?? 0
        #expect(peak <= 2, "\(label): output peak \(peak)")
        let expected = Expected(x, setup.configuration)
        #expect(telemetry.nonFiniteSamples.load(ordering: .relaxed) == expected.nonFiniteSamples, "\(label)")
        #expect(telemetry.nonFiniteResets.load(ordering: .relaxed) == expected.nonFiniteResets, "\(label)")
        let silent = telemetry.silentFrames.load(ordering: .relaxed)
        #expect(silent >= expected.silentAtLeast && silent <= expected.silentAtMost,
                "\(label): \(silent) silent frames, expected \(expected.silentAtLeast)…\(expected.silentAtMost)")
        #expect(telemetry.clippedSamples.load(ordering: .relaxed) == 0, "\(label)")
        return peak
    }

    /// max |y − reference| from `start` on, relative to the reference's peak.
    static func difference(_ y: [Float], _ reference: [Float], from start: Int) -> Float {
        maxAbsDifference(y[min(start, y.count)...], reference[min(start, y.count)...]) / (reference.map(abs).max() ?? 1)
    }

    /// The random-basis output for 6 s of speech, shared by the eight cases below.
    static let randomBasisReference = Result { () throws -> [Float] in
        let setup = try Setup.named("random basis")
        return try setup.run(setup.speech(seconds: 6)).output
    }

    /// Each kind alone, 1 s of it from 0.5 s into 6 s of speech (random basis): bounds and
    /// counters, and recovery against the same speech without it, relative to that output's peak.
    /// EngineTests documents about 4 s to −60 dB after isolated bad samples; asserted here: < 1e-3
    /// from 4 s after the stretch. Measured from 1 s / 4 s: NaN, ±Inf, denormals, silence and DC
    /// 3.0e-2 / 1.1e-4; clipped 2.2e-2 / 1.0e-4; square 1.8e-2 / 3.4e-5; −60 dB 4.3e-3 / 7.3e-5.
    /// The same stretches at 1 s into 7 s gave the same order except the square: 7.3e-2 / 2.3e-3.
    @Test(arguments: Hostile.allCases)
    func eachKindAloneIsBoundedCountedAndForgotten(kind: Hostile) throws {
        let setup = try Setup.named("random basis")
        let rate = setup.sampleRate
        let base = setup.speech(seconds: 6)
        let reference = try Self.randomBasisReference.get()
        let fault = (rate / 2)..<(3 * rate / 2)
        var g = SeededGenerator(seed: 17)
        var x = base
        kind.render(into: &x, fault, sampleRate: rate, &g)
        let (y, telemetry) = try setup.run(x)
        Self.checkBoundsAndCounters(x, y, telemetry, setup, "\(kind)")
        let after4 = Self.difference(y, reference, from: fault.upperBound + 4 * rate)
        #expect(after4 < 1e-3, "\(kind): \(after4) of the peak 4 s after")
    }

    /// Finite samples far beyond full scale (an uninitialised buffer upstream, a float file in the
    /// wrong scale) are clamped to ±`Engine.outputLimit` before the analysis and counted, not spread:
    /// before, the synthesis smeared a single 1e5 sample over a frame at the output's limit (a dev
    /// mixture through speech-16k: 855 output samples at ±8, 53 ms, found by hand), and 1e30's
    /// power overflowed to infinity. Here: sparse samples at 1e5, −1e30 and 3e38 and a 20-sample
    /// burst of ±1e6 in 3 s of speech: all 23 counted, nothing clamped at the output, at most two
    /// output samples beyond ±1 for each (measured: the random basis passes the 23 clamped samples
    /// at ±8 and nothing else beyond ±1, speech-16k none; without the clamp 1,779 and 2,479 clamped
    /// at the output).
    @Test(arguments: ["random basis", "speech-16k"])
    func wildSamplesAreClampedNotSpread(setupName: String) throws {
        let setup = try Setup.named(setupName)
        let rate = setup.sampleRate
        var x = setup.speech(seconds: 3)
        for (i, value) in [(rate / 2, Float(1e5)), (rate, -1e30), (3 * rate / 2, 3e38)] { x[i] = value }
        for i in 0..<20 { x[2 * rate + i] = i % 2 == 0 ? 1e6 : -1e6 }
        let (y, telemetry) = try setup.run(x)
        #expect(y.allSatisfy { $0.isFinite })
        let loud = y.filter { abs($0) > 1 }.count
        #expect(loud <= 46, "\(setupName): \(loud) output samples beyond ±1")
        #expect(telemetry.clampedInputSamples.load(ordering: .relaxed) == 23)
        #expect(telemetry.clippedSamples.load(ordering: .relaxed) == 0)
        #expect(telemetry.nonFiniteSamples.load(ordering: .relaxed) == 0)
    }

    /// The shipped presets forget a stretch of digital silence, sparse NaN (replaced by zeros) and
    /// a 60 dB dip: 1 s of it from 0.5 s into 6 s of speech, against the same speech without it.
    /// Their online noise atoms and speech-16k's learned gain (a GRU) keep a memory of what they
    /// saw, so the output rejoins the fault-free one in level, not bit for bit: from 4 s after the
    /// stretch, every 100 ms within 2 dB of it and the difference 25 dB below it. Measured: without
    /// the learned gain within 0.5 dB and −28 to −30 dB; with it, sparse NaN (a cold restart of the
    /// solve at every hop for a second) leaves one block 1.43 dB off. Before the noise-floor tracker
    /// ignored frames overlapping silence and forgot a dip after its 2 s window, silence and the dip
    /// stalled (speech-16k: 0.17 of the peak off for tens of seconds). dev mixtures joined (20 s, 1 s
    /// fault at 0.5 s), 4 s after, with the learned gain: within 0.22 dB (silence) and 0.56 dB (dip),
    /// difference −32 / −28 dB.
    @Test(arguments: [("speech-16k", [Hostile.silence, .stepDown, .nan]), ("lowlatency-48k", [.stepDown])])
    func presetsForgetSilenceAndADip(preset: String, kinds: [Hostile]) throws {
        let setup = try Setup.named(preset)
        let rate = setup.sampleRate
        let base = setup.speech(seconds: 6)
        let reference = try setup.run(base).output
        let fault = (rate / 2)..<(3 * rate / 2)
        for kind in kinds {
            var g = SeededGenerator(seed: 17)
            var x = base
            kind.render(into: &x, fault, sampleRate: rate, &g)
            let (y, telemetry) = try setup.run(x)
            Self.checkBoundsAndCounters(x, y, telemetry, setup, "\(preset), \(kind)")
            let from = fault.upperBound + 4 * rate, block = rate / 10
            var worstLevel: Float = 0, error: Float = 0, energy: Float = 0
            for start in stride(from: from, to: y.count - block + 1, by: block) {
                let a = y[start..<(start + block)], b = reference[start..<(start + block)]
                let ea = a.reduce(0) { $0 + $1 * $1 }, eb = b.reduce(0) { $0 + $1 * $1 }
                worstLevel = max(worstLevel, abs(10 * Float.log10((ea + 1e-12) / (eb + 1e-12))))
                error += zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
                energy += eb
            }
            let errorDecibels = 10 * Float.log10(error / energy)
            #expect(worstLevel < 2, "\(preset), \(kind): a 100 ms block \(worstLevel) dB off 4 s after")
            #expect(errorDecibels < -25, "\(preset), \(kind): difference \(errorDecibels) dB 4 s after")
        }
    }

    /// Before its first sound a resampled file or a filtered source holds no zeros but the
    /// resampler's ringing, 10⁻¹⁵ and less: that is digital silence too. Noisy speech after half a
    /// second of white noise at −120 dBFS comes out as after half a second of zeros (the ringing passes
    /// at its own level; from the first sound within 10⁻⁵), and none of the lead's frames is taken
    /// for sound (`silentFrames`). At −80 dBFS, 20 dB above the training mixtures' floor, the lead is
    /// sound: no silent frame. Without the −100 dBFS threshold the outputs differed by 0.32
    /// (speech-16k) and 0.14 (lowlatency-48k) after the lead. Found by hand: a 16 kHz file with a second of zeros first, through
    /// lowlatency-48k, lost its first second of speech by 21–25 dB (docs/QUALITY.md, "speech after
    /// digital silence"); the noise-only mean had started on the ringing.
    @Test(arguments: ["speech-16k", "lowlatency-48k"])
    func ringingBeforeTheFirstSoundIsSilence(preset: String) throws {
        let setup = try Setup.named(preset)
        let rate = setup.sampleRate, lead = rate / 2, frame = setup.configuration.frameLength
        let speech = setup.speech(seconds: 3)
        var g = SeededGenerator(seed: 41)
        func noise(rms: Float) -> [Float] { (0..<lead).map { _ in rms * 1.732 * (2 * g.unit() - 1) } }
        let (reference, zeros) = try setup.run([Float](repeating: 0, count: lead) + speech)
        let (ringing, quiet) = try setup.run(noise(rms: 1e-6) + speech)
        let difference = zip(reference[lead...], ringing[lead...]).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference < 1e-5, "\(preset): after a −120 dBFS lead the output differs by \(difference)")
        let silent = quiet.silentFrames.load(ordering: .relaxed), expected = zeros.silentFrames.load(ordering: .relaxed)
        #expect(silent == expected && silent >= (lead - frame) / setup.configuration.hopLength,
                "\(preset): \(silent) silent frames in the −120 dBFS lead, \(expected) in zeros")
        let (_, audible) = try setup.run(noise(rms: 1e-4) + speech)
        #expect(audible.silentFrames.load(ordering: .relaxed) == 0, "\(preset): a −80 dBFS lead taken for silence")
    }

    /// Random mixtures: 30 seeded cases of 0.6 s speech, ten per set-up (random basis, speech-16k,
    /// lowlatency-48k), with 1–4 stretches (5…300 ms) of random kinds: output finite and within
    /// ±2, counters exactly as the input implies, nothing clamped.
    @Test(arguments: setups)
    func randomMixturesAreBoundedAndCounted(setup name: String) throws {
        let setup = try Setup.named(name)
        let rate = setup.sampleRate
        let base = setup.speech(seconds: 0.6)
        var g = SeededGenerator(seed: 2026)
        for trial in 0..<10 {
            var x = base
            var kinds: [Hostile] = []
            for _ in 0...Int(g.next() % 4) {
                let kind = Hostile.allCases[Int(g.next() % UInt64(Hostile.allCases.count))]
                let length = Int(Float(rate) * (0.005 + 0.295 * g.unit()))
                let start = Int(Float(base.count - length) * g.unit())
                kind.render(into: &x, start..<(start + length), sampleRate: rate, &g)
                kinds.append(kind)
            }
            let (y, telemetry) = try setup.run(x)
            Self.checkBoundsAndCounters(x, y, telemetry, setup, "\(name), case \(trial) \(kinds)")
        }
    }
}
