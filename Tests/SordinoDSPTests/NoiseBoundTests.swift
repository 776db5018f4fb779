// SPDX-License-Identifier: GPL-3.0-or-later
// The noise-estimate bound: its two kernels, and what it does inside the engine.

import Foundation
import SordinoDSP
import Testing
import TestSupport

struct NoiseBoundTests {
    @Test func boundRaisesOnlyWhatLiesBelowIt() {
        let noise = Signal.randomSpectrum(binCount: 300, seed: 4) + [0, 0, 1e30]
        let mean = Signal.randomSpectrum(binCount: 300, seed: 5) + [0, 1, 1]
        var bounded = noise
        boundNoiseEstimate(&bounded, mean: mean, factor: 2, binCount: noise.count)
        for f in noise.indices {
            #expect(bounded[f] == max(noise[f], 2 * mean[f]), "bin \(f)")
        }
        #expect(bounded[300] == 0 && bounded[301] == 2 && bounded[302] == 1e30)
    }

    @Test func averageConvergesToASteadySpectrum() {
        let v = Signal.randomSpectrum(binCount: 64, seed: 6)
        var mean = [Float](repeating: 0, count: v.count)
        let a: Float = 0.9
        for _ in 0..<200 { averageNoiseSpectrum(v, into: &mean, binCount: v.count, memory: a) }
        // After n steps from 0 the remaining error is aⁿ·V = 0.9²⁰⁰·V ≈ 7e-10·V (plus float rounding).
        for f in v.indices { #expect(abs(mean[f] - v[f]) <= 1e-5 * v[f] + 1e-12, "bin \(f)") }
    }

    static func configuration(bound: Float?) -> EngineConfiguration {
        var c = EngineConfiguration()
        c.noiseBoundDecibels = bound
        c.floorDecibels = -20
        c.activationFloor = 0.7
        return c
    }
    static let basis = Signal.randomBasis(binCount: 257, speechRank: 16, noiseRank: 8, seed: 11)

    /// On steady white noise every frame is noise-only, so the bound at +6 dB makes N̂ at least twice
    /// the mean noise magnitude and the mask at most about V/(V + 2·mean): the output must drop.
    @Test func boundRemovesMoreSteadyNoiseButStaysAboveTheFloor() throws {
        let noise = Signal.whiteNoise(count: 48_000, amplitude: 0.1, seed: 21)
        let tail = 32_000..<48_000   // after the mean has settled (500 ms memory)
        func level(_ bound: Float?) throws -> Float {
            let out = try EngineHarness.runMono(noise, configuration: Self.configuration(bound: bound), basis: Self.basis,
                                                blockLengths: [256])
            return Float(20 * log10(Double(rms(Array(out[tail])) / rms(Array(noise[tail])))))
        }
        let without = try level(nil), with = try level(6)
        print("steady white noise, output/input: no bound \(without) dB, bound +6 dB \(with) dB")
        #expect(with < without - 10, "measured −1.9 → −18.5 dB; the bound removes at least 10 dB more: \(without) → \(with) dB")
        #expect(with >= -20.5, "never below the −20 dB floor: \(with) dB")
    }

    @Test(arguments: [1, 7, 1000])
    func boundKeepsBlockLengthInvariance(blockLength: Int) throws {
        let input = Signal.speechLike(seconds: 1.5, noiseLevel: 0.1, seed: 3)
        let config = Self.configuration(bound: 6)
        let whole = try EngineHarness.runMono(input, configuration: config, basis: Self.basis, blockLengths: [input.count])
        let blocked = try EngineHarness.runMono(input, configuration: config, basis: Self.basis, blockLengths: [blockLength])
        #expect(blocked == whole)
    }
}
