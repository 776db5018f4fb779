// SPDX-License-Identifier: GPL-3.0-or-later
// The speech-presence stage: band presence, speech dominance above the activation floor, lift and floor, and the stage in the engine.

import Foundation
import SordinoDSP
import Testing
import TestSupport

struct SpeechPresenceTests {
    static let binCount = 257
    /// One speech and one noise atom, both flat with unit sum: row sums 1/257 per bin, ΣW = 2.
    static let flatBasis = try! Basis(binCount: binCount, speechRank: 1, noiseRank: 1,
                                      values: [Float](repeating: 1 / Float(binCount), count: 2 * binCount))
    static let floor: Float = 0.25                              // −12 dB where speech is present
    static let absentFloor = Float(pow(10.0, -25.0 / 20))       // −25 dB where it is absent

    /// Runs the stage on one frame: V = `level` × the noise-only mean (1 in every bin), Ŝ and N̂
    /// splitting V by `speechShare`, raw mask `raw`. Returns the mask of bin 10.
    static func mask(level: Float, speechShare: Float, raw: Float, relativeFloor: Float = 0,
                     speechOverride: [Float]? = nil, noiseOverride: [Float]? = nil) -> [Float] {
        let stage = SpeechPresence(absentFloorDecibels: -25, basis: flatBasis, relativeFloor: relativeFloor,
                                   sampleRate: 16_000, spectrumExponent: 1)
        let v = [Float](repeating: level, count: binCount)
        let speech = speechOverride ?? v.map { $0 * speechShare }
        let noise = noiseOverride ?? v.map { $0 * (1 - speechShare) }
        let mean = [Float](repeating: 1, count: binCount)
        var mask = [Float](repeating: raw, count: binCount)
        stage.apply(to: &mask, spectrum: v, speech: speech, noise: noise, noiseMean: mean, floor: floor)
        return mask
    }

    @Test func presenceIsHalfTwentyDecibelsOverTheNoiseOnlyMean() {
        // |X| = 10 × mean: power ratio ρ = 100 (20 dB) = θ, so P = ρ²/(ρ² + θ²) = ½; speech-only: d = 1.
        for g in Self.mask(level: 10, speechShare: 1, raw: 0.1) { #expect(abs(g - 0.5) < 1e-5) }
        // 40 dB over the mean: P = 10⁸/(10⁸ + 10⁴), the mask lifted to it from 0.1.
        for g in Self.mask(level: 100, speechShare: 1, raw: 0.1) { #expect(abs(g - 0.9999) < 1e-4) }
        // At the noise-only mean: P = 1e-4, nothing lifted, the floor is the absent floor (−25 dB).
        for g in Self.mask(level: 1, speechShare: 1, raw: 0) {
            #expect(abs(g - (Self.absentFloor + (Self.floor - Self.absentFloor) * 1e-4)) < 1e-6)
        }
    }

    @Test func dominanceRampsFromThreeTenthsToSixTenths() {
        // 40 dB over the mean (P ≈ 1): the lift is d = (r − 0.3)/0.3 of the speech share r.
        for (share, lifted) in [(Float(0.2), Float(0)), (0.3, 0), (0.45, 0.5), (0.6, 1), (0.9, 1)] {
            let g = Self.mask(level: 100, speechShare: share, raw: 0)[10]
            let floor = Self.absentFloor + (Self.floor - Self.absentFloor) * lifted * 0.9999
            #expect(abs(g - max(lifted * 0.9999, floor)) < 1e-4, "speech share \(share): \(g)")
        }
    }

    @Test func neverRaisesAboveOneNorLowersTheNMFMask() {
        for raw in [Float(0), 0.1, 0.7, 1] {
            for share in [Float(0), 0.5, 1] {
                for level in [Float(0), 1, 10, 1000] {
                    let m = Self.mask(level: level, speechShare: share, raw: raw)
                    #expect(m.allSatisfy { $0.isFinite && $0 >= raw && $0 >= Self.absentFloor - 1e-7 && $0 <= 1 },
                            "raw \(raw), share \(share), level \(level)")
                }
            }
        }
    }

    @Test func theActivationFloorsBaselineCountsForNeither() {
        // ρ = 0.7 gives each (flat, unit-sum) atom the baseline activation 0.7·ΣV/ΣW = 0.7·257·100/2,
        // i.e. 0.7·100/2 = 35 per bin for each estimate. Ŝ at its baseline and N̂ above it: the frame is
        // noise (d = 0) although Ŝ is nearly half of Ŝ + N̂, so nothing is lifted.
        let speech = [Float](repeating: 35, count: Self.binCount)
        let noise = [Float](repeating: 65, count: Self.binCount)
        let g = Self.mask(level: 100, speechShare: 0, raw: 0, relativeFloor: 0.7,
                          speechOverride: speech, noiseOverride: noise)[10]
        #expect(abs(g - Self.absentFloor) < 1e-3, "\(g)")
        // Without the discount the same frame has r = 0.35 and would be lifted to d ≈ 0.17.
        let raw = Self.mask(level: 100, speechShare: 0, raw: 0, relativeFloor: 0,
                            speechOverride: speech, noiseOverride: noise)[10]
        #expect(abs(raw - 0.1666) < 1e-3, "\(raw)")
    }

    // MARK: - In the engine

    static func configuration(absentFloor: Float?) -> EngineConfiguration {
        var c = EngineConfiguration()
        c.noiseBoundDecibels = 6
        c.floorDecibels = -12
        c.activationFloor = 0.7
        c.maskExponent = 2
        c.absentFloorDecibels = absentFloor
        return c
    }
    static let basis = Signal.randomBasis(binCount: 257, speechRank: 16, noiseRank: 8, seed: 11)

    /// Steady white noise is noise-only in every band, so the stage moves the floor from −12 dB to the
    /// absent floor (−35 dB here): the output falls from the −12 dB floor to what the NMF mask
    /// itself says (p = 2, bound +6 dB), never below the absent floor.
    @Test func steadyNoiseGoesDownToTheAbsentFloor() throws {
        let noise = Signal.whiteNoise(count: 48_000, amplitude: 0.1, seed: 21)
        let tail = 32_000..<48_000
        func level(_ absent: Float?) throws -> Float {
            let out = try EngineHarness.runMono(noise, configuration: Self.configuration(absentFloor: absent),
                                                basis: Self.basis, blockLengths: [256])
            return Float(20 * log10(Double(rms(Array(out[tail])) / rms(Array(noise[tail])))))
        }
        let without = try level(nil), with = try level(-35)
        print("steady white noise, output/input: no stage \(without) dB, absent floor −35 dB \(with) dB")
        #expect(with < without - 6, "measured −12.0 → −19.1 dB: \(without) → \(with) dB")
        #expect(with >= -35.5, "never below the −35 dB absent floor: \(with) dB")
    }

    @Test(arguments: [1, 7, 1000])
    func stageKeepsBlockLengthInvariance(blockLength: Int) throws {
        let input = Signal.speechLike(seconds: 1.5, noiseLevel: 0.1, seed: 3)
        let config = Self.configuration(absentFloor: -25)
        let whole = try EngineHarness.runMono(input, configuration: config, basis: Self.basis, blockLengths: [input.count])
        let blocked = try EngineHarness.runMono(input, configuration: config, basis: Self.basis, blockLengths: [blockLength])
        #expect(blocked == whole)
    }

    @Test func outOfRangeAbsentFloorIsRejected() {
        var c = Self.configuration(absentFloor: 3)
        #expect(throws: EngineError.self) { try c.validate(basis: Self.basis) }
        c.absentFloorDecibels = -30
        #expect(throws: Never.self) { try c.validate(basis: Self.basis) }
    }
}
