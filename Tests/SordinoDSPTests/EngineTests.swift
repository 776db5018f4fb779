// SPDX-License-Identifier: GPL-3.0-or-later
// The streaming engine: block-length invariance, channels, wet/dry, bad samples, silence.

import SordinoDSP
import Testing
import TestSupport

struct EngineTests {
    static func noisyConfig(channels: Int = 1, linked: Bool = false) -> EngineConfiguration {
        var c = EngineConfiguration()
        c.channelCount = channels
        c.linkChannels = linked
        c.maskSmoothingMilliseconds = 30
        return c
    }
    static let basis = Signal.randomBasis(binCount: 257, speechRank: 16, noiseRank: 8, seed: 11)
    static let input = Signal.speechLike(seconds: 1.5, noiseLevel: 0.1, seed: 3)

    @Test(arguments: [1, 7, 64, 256, 1000, 4096])
    func outputDoesNotDependOnBlockLength(blockLength: Int) throws {
        let config = Self.noisyConfig()
        let whole = try EngineHarness.runMono(Self.input, configuration: config, basis: Self.basis, blockLengths: [Self.input.count])
        let blocked = try EngineHarness.runMono(Self.input, configuration: config, basis: Self.basis, blockLengths: [blockLength])
        #expect(blocked == whole)
        var g = SeededGenerator(seed: UInt64(blockLength))
        let random = (0..<64).map { _ in 1 + Int(g.next() % 4096) }
        let mixed = try EngineHarness.runMono(Self.input, configuration: config, basis: Self.basis, blockLengths: random)
        #expect(mixed == whole)
        #expect(rms(whole) > 0.01)   // it produced sound, not zeros
    }

    @Test func channelsAreIndependentUnlessLinked() throws {
        let other = Signal.whiteNoise(count: Self.input.count, amplitude: 0.1, seed: 9)
        var stereo = try Engine(configuration: Self.noisyConfig(channels: 2), basis: Self.basis)
        let out = EngineHarness.run(&stereo, [Self.input, other], blockLengths: [100])
        let left = try EngineHarness.runMono(Self.input, configuration: Self.noisyConfig(), basis: Self.basis, blockLengths: [256])
        #expect(out[0] == left)
        var linked = try Engine(configuration: Self.noisyConfig(channels: 2, linked: true), basis: Self.basis)
        let same = EngineHarness.run(&linked, [Self.input, Self.input], blockLengths: [100])
        // The linked mask is solved on the mean spectrum: for identical channels that is each one's own.
        #expect(same[0] == same[1])
        #expect(same[0] == left)
        let mixed = EngineHarness.run(&linked, [Self.input, other], blockLengths: [100])
        #expect(maxAbsDifference(mixed[0], left) > 1e-3)   // a different second channel changes the shared mask
    }

    @Test func wetZeroIsTheDelayedInputExactly() throws {
        var config = Self.noisyConfig()
        config.wet = 0
        let y = try EngineHarness.runMono(Self.input, configuration: config, basis: Self.basis, blockLengths: [333])
        let d = config.latencySamples
        #expect(Array(y[d...]) == Array(Self.input[..<(Self.input.count - d)]))
        #expect(y[..<d].allSatisfy { $0 == 0 })
    }

    @Test func bypassFadesToTheDelayedInputWithoutAStep() throws {
        var engine = try Engine(configuration: Self.noisyConfig(), basis: Self.basis)
        let half = Self.input.count / 2
        var out = EngineHarness.run(&engine, [Array(Self.input[..<half])], blockLengths: [256])[0]
        engine.controls.bypass = true
        out += EngineHarness.run(&engine, [Array(Self.input[half...])], blockLengths: [256])[0]
        let d = engine.latencySamples
        let tail = out.count - 2000
        #expect(Array(out[tail...]) == Array(Self.input[(tail - d)..<(Self.input.count - d)]))
        // No sample-to-sample jump larger than the signal itself has.
        let maxStep = zip(out.dropFirst(), out).map { abs($0 - $1) }.max() ?? 0
        let inputStep = zip(Self.input.dropFirst(), Self.input).map { abs($0 - $1) }.max() ?? 0
        #expect(maxStep <= inputStep * 1.05)
    }

    @Test func nonFiniteInputIsReplacedCountedAndForgotten() throws {
        var x = Self.input
        x[5000] = .nan; x[5001] = .infinity; x[9000] = -.infinity
        var engine = try Engine(configuration: Self.noisyConfig(), basis: Self.basis)
        let y = EngineHarness.run(&engine, [x], blockLengths: [64])[0]
        #expect(y.allSatisfy { $0.isFinite })
        #expect(engine.telemetry.nonFiniteSamples.load(ordering: .relaxed) == 3)
        #expect(engine.telemetry.nonFiniteResets.load(ordering: .relaxed) == 2)
        // Once the bad samples have left the frame, the output is what a clean run gives.
        var clean = Self.input
        clean[5000] = 0; clean[5001] = 0; clean[9000] = 0
        let reference = try EngineHarness.runMono(clean, configuration: Self.noisyConfig(), basis: Self.basis, blockLengths: [64])
        #expect(maxAbsDifference(y[..<5000], reference[..<5000]) == 0)
    }

    @Test func silenceInSilenceOut() throws {
        let zeros = [Float](repeating: 0, count: 8000)
        var engine = try Engine(configuration: Self.noisyConfig(), basis: Self.basis)
        let y = EngineHarness.run(&engine, [zeros], blockLengths: [128])[0]
        #expect(y.allSatisfy { $0 == 0 })
        #expect(engine.telemetry.silentFrames.load(ordering: .relaxed) == 8000 / 128)
    }

    @Test func hugeInputIsClampedNotPropagated() throws {
        let loud = Self.input.map { $0 * 1e6 }
        var engine = try Engine(configuration: Self.noisyConfig(), basis: Self.basis)
        let y = EngineHarness.run(&engine, [loud], blockLengths: [256])[0]
        #expect(y.allSatisfy { $0.isFinite && abs($0) <= Engine.outputLimit })
    }

    @Test func settingsOutsideTheirRangeAreRejectedByName() {
        var c = EngineConfiguration()
        c.floorDecibels = 3
        #expect(throws: EngineError.invalidSetting(name: "floorDecibels", value: "3.0", allowed: "−120…0 dB")) {
            _ = try Engine(configuration: c, basis: Self.basis)
        }
        c = EngineConfiguration()
        c.fftLength = 1024
        #expect(throws: EngineError.basisShape(expectedBins: 513, basisBins: 257)) {
            _ = try Engine(configuration: c, basis: Self.basis)
        }
    }
}

struct NoiseAdaptationTests {
    /// Noise whose energy lies in bins 40…80 only (1.25–2.5 kHz at 16 kHz), made by masking white noise's spectrum.
    static func bandNoise(seconds: Double) throws -> [Float] {
        var config = EngineConfiguration()
        config.floorDecibels = 0
        let white = Signal.whiteNoise(count: Int(seconds * 16_000), amplitude: 0.3, seed: 12)
        // A crude band-pass: difference of two moving averages (lengths 4 and 8 samples).
        return white.indices.map { n in
            let a = (0..<4).reduce(Float(0)) { $0 + (n - $1 >= 0 ? white[n - $1] : 0) } / 4
            let b = (0..<8).reduce(Float(0)) { $0 + (n - $1 >= 0 ? white[n - $1] : 0) } / 8
            return a - b
        }
    }

    @Test func adaptiveAtomsMoveTowardsTheNoiseHeard() throws {
        var config = EngineConfiguration()
        config.adaptiveNoiseRank = 4
        config.activationFloor = 1
        let basis = Signal.randomBasis(binCount: 257, speechRank: 8, noiseRank: 8, seed: 5)
        var engine = try Engine(configuration: config, basis: basis)
        let band = 40..<80
        let before = engine.adaptiveNoiseAtom(0)[band].reduce(0, +)
        let noise = try Self.bandNoise(seconds: 3)
        _ = EngineHarness.run(&engine, [noise], blockLengths: [256])
        let after = engine.adaptiveNoiseAtom(0)[band].reduce(0, +)
        #expect(engine.telemetry.adaptedFrames.load(ordering: .relaxed) > 200)   // most of 375 frames
        #expect(abs(engine.adaptiveNoiseAtom(0).reduce(0, +) - 1) < 1e-4)
        // Initially about 40/257 of the mass sits in the band; the noise pulls it there.
        #expect(before < 0.25 && after > 1.5 * before, "band share \(before) → \(after)")
    }

    @Test func adaptationStartsAfterDigitalSilence() throws {
        var config = EngineConfiguration()
        config.adaptiveNoiseRank = 2
        let basis = Signal.randomBasis(binCount: 257, speechRank: 8, noiseRank: 8, seed: 5)
        var engine = try Engine(configuration: config, basis: basis)
        // A second of zeros first (a JACK client before the microphone is connected) must not pin
        // the noise-floor tracker at 0: measured 0 adapted frames before the fix.
        let input = [Float](repeating: 0, count: 16_000) + (try Self.bandNoise(seconds: 2))
        _ = EngineHarness.run(&engine, [input], blockLengths: [256])
        #expect(engine.telemetry.adaptedFrames.load(ordering: .relaxed) > 80)   // measured 113 of 250
    }

    @Test func adaptationKeepsBlockLengthInvariance() throws {
        var config = EngineTests.noisyConfig()
        config.adaptiveNoiseRank = 6
        let whole = try EngineHarness.runMono(EngineTests.input, configuration: config, basis: EngineTests.basis,
                                              blockLengths: [EngineTests.input.count])
        for block in [1, 100, 4096] {
            #expect(try EngineHarness.runMono(EngineTests.input, configuration: config, basis: EngineTests.basis,
                                              blockLengths: [block]) == whole)
        }
    }
}
