// SPDX-License-Identifier: GPL-3.0-or-later
// The learned gain's hold against falling: its release time is a setting, 0 takes the network's gain as it is, 10 ms is the stage as before.

import Foundation
@testable import SordinoDSP
import Testing

struct GainReleaseTests {
    static let sampleRate = 16_000, fftLength = 512, hop = 128   // 8 ms hops
    static let bands = GainBands(sampleRate: sampleRate, fftLength: fftLength)

    /// A network whose gain is a step of the input level: every band's gain is σ(±20) (≈ 1 or 2e-9)
    /// as band 0's log energy (feature 0) is above or below −5. One input unit u = tanh(x₀ + 5),
    /// one GRU unit with its update gate shut (z = σ(−30)) so h = n = tanh(5u), g = σ(20h).
    static func stepModel() throws -> GainModel {
        let b = bands.bandCount, f = GainRefinement.featureCount(bandCount: b)
        var values: [Float] = []
        values += [Float](repeating: 0, count: f)                               // mean
        values += [1] + [Float](repeating: 0, count: f - 1)                     // scale: feature 0 only
        values += [1] + [Float](repeating: 0, count: f - 1)                     // input weights (1 × F)
        values += [5]                                                           // input bias
        values += [0, 0, 5]                                                     // GRU input weights: r, z, n
        values += [0, -30, 0]                                                   // GRU input bias
        values += [0, 0, 0]                                                     // recurrent weights
        values += [0, 0, 0]                                                     // recurrent bias
        values += [Float](repeating: 20, count: b)                              // output weights (B × 1)
        values += [Float](repeating: 0, count: b)                               // output bias
        return try GainModel(featureCount: f, inputUnits: 1, hiddenUnits: 1, bandCount: b, values: values)
    }

    /// The stage with `release` ms (nil: the initialiser's default).
    static func stage(releaseMilliseconds release: Float?) throws -> GainRefinement {
        let hopSeconds = Float(hop) / Float(sampleRate)
        if let release {
            return try GainRefinement(mode: .multiply, model: stepModel(), absentFloorDecibels: nil, sampleRate: sampleRate,
                                      fftLength: fftLength, spectrumExponent: 1, streams: 1, hopSeconds: hopSeconds,
                                      releaseSeconds: release / 1000)
        }
        return try GainRefinement(mode: .multiply, model: stepModel(), absentFloorDecibels: nil, sampleRate: sampleRate,
                                  fftLength: fftLength, spectrumExponent: 1, streams: 1, hopSeconds: hopSeconds)
    }

    /// Runs `levels` (one spectrum magnitude per frame, every bin) through `stage`; band 5's gain per frame.
    static func gains(_ stage: borrowing GainRefinement, levels: [Float]) -> [Float] {
        let n = bands.binCount
        var v = [Float](repeating: 0, count: n), speech = v, noise = v, mask = v
        let mean = [Float](repeating: 1e-3, count: n)
        var out: [Float] = []
        for level in levels {
            for f in 0..<n { v[f] = level; speech[f] = level / 2; noise[f] = level / 2; mask[f] = 0.5 }
            stage.refine(mask: &mask, stream: 0, spectrum: v, speech: speech, noise: noise, noiseMean: mean, floor: 0.25)
            out.append(stage.lastGains(stream: 0)[5])
        }
        return out
    }

    /// Loud (the network's gain ≈ 1), quiet (≈ 0), loud again.
    static let steps = [Float](repeating: 1, count: 10) + [Float](repeating: 1e-7, count: 20) + [Float](repeating: 1, count: 5)

    @Test(arguments: [Float(5), 10, 20])
    func aFallingGainIsHeldAtThe06PowerOfHopOverRelease(_ release: Float) throws {
        let g = Self.gains(try Self.stage(releaseMilliseconds: release), levels: Self.steps)
        // As the stage computes it: 5 ms 0.44, 10 ms 0.66, 20 ms 0.81 per 8 ms hop.
        let r = Float.pow(0.6, (Float(Self.hop) / Float(Self.sampleRate)) / (release / 1000))
        #expect(g[9] > 0.999)
        for k in 10..<30 { #expect(g[k] == r * g[k - 1], "frame \(k): \(g[k]) against \(r * g[k - 1])") }
        #expect(g[30] > 0.999, "a rising gain is taken at once: \(g[30])")
    }

    @Test func withoutAHoldTheNetworksGainIsTakenAsItIs() throws {
        let g = Self.gains(try Self.stage(releaseMilliseconds: 0), levels: Self.steps)
        #expect(g[9] > 0.999)
        #expect(g[10] < 1e-6, "the step down is taken in one frame: \(g[10])")
        #expect(g[29] < 1e-6 && g[30] > 0.999)
    }

    @Test func tenMillisecondsIsTheStageAsBeforeBitForBit() throws {
        let byDefault = Self.gains(try Self.stage(releaseMilliseconds: nil), levels: Self.steps)
        let ten = Self.gains(try Self.stage(releaseMilliseconds: 10), levels: Self.steps)
        #expect(byDefault.map(\.bitPattern) == ten.map(\.bitPattern))
        #expect(EngineConfiguration().gainReleaseMilliseconds == 10)
    }

    @Test func theEngineTakesTheSettingAndChecksItsRange() throws {
        var c = EngineConfiguration()
        c.gainRefinement = .multiply
        let basis = try Basis(binCount: c.binCount, speechRank: 1, noiseRank: 1, values: [Float](repeating: 1, count: 2 * c.binCount))
        for bad: Float in [-1, 1001, .nan, .infinity] {
            c.gainReleaseMilliseconds = bad
            do {
                _ = try Engine(configuration: c, basis: basis, gainModel: Self.stepModel())
                Issue.record("\(bad) ms accepted")
            } catch {
                #expect("\(error)".contains("gainReleaseMilliseconds"), "\(error)")
                #expect("\(error)".contains("0…1000 ms"), "\(error)")
            }
        }
        c.gainReleaseMilliseconds = 0
        #expect(throws: Never.self) { _ = try Engine(configuration: c, basis: basis, gainModel: Self.stepModel()) }
    }
}
