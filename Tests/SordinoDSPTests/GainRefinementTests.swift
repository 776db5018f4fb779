// SPDX-License-Identifier: GPL-3.0-or-later
// The learned gain: the network's step against the trainer's outputs, its math, its bands, and the stage in the engine.

import CEngineKernels
import Foundation
@testable import SordinoDSP
import Testing
import TestSupport

struct GainRefinementTests {
    /// Written by `python training/train_gain.py --fixture Tests/Fixtures/gain-gru/fixture.json --seed 7`.
    struct Fixture: Decodable {
        var featureCount: Int, inputUnits: Int, hiddenUnits: Int, bandCount: Int
        var values: [Float], inputs: [[Float]], outputs: [[Float]]
    }

    @Test func swiftInferenceMatchesTheTrainerWithin1e4() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: "Tests/Fixtures/gain-gru/fixture.json"))
        let fixture = try JSONDecoder().decode(Fixture.self, from: data)
        let model = try GainModel(featureCount: fixture.featureCount, inputUnits: fixture.inputUnits,
                                  hiddenUnits: fixture.hiddenUnits, bandCount: fixture.bandCount, values: fixture.values)
        let network = GainNetwork(model)
        var hidden = [Float](repeating: 0, count: network.stateLength)
        var gains = [Float](repeating: 0, count: fixture.bandCount)
        var worst: Float = 0
        for (x, expected) in zip(fixture.inputs, fixture.outputs) {
            network.step(features: x, hidden: &hidden, gains: &gains)
            for b in 0..<fixture.bandCount { worst = max(worst, abs(gains[b] - expected[b])) }
        }
        #expect(fixture.inputs.count == 20)
        #expect(worst < 1e-4, "largest difference \(worst)")
        // The outputs vary (a constant network would pass trivially).
        let flat = fixture.outputs.flatMap { $0 }
        #expect((flat.max() ?? 0) - (flat.min() ?? 0) > 0.2)
    }

    @Test("sharpened(by:pivot:): each band gain g becomes σ(a·(logit g − logit p) + logit p) of the same network's (within 2e-4 over the fixture's 20 steps), a = 1 changes no weight, and out-of-range settings are refused")
    func sharpenedGains() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: "Tests/Fixtures/gain-gru/fixture.json"))
        let fixture = try JSONDecoder().decode(Fixture.self, from: data)
        let model = try GainModel(featureCount: fixture.featureCount, inputUnits: fixture.inputUnits,
                                  hiddenUnits: fixture.hiddenUnits, bandCount: fixture.bandCount, values: fixture.values)
        #expect(try model.sharpened(by: 1, pivot: 0.3) == model)
        func logit(_ g: Double) -> Double { log(g / (1 - g)) }
        for (a, p) in [(1.5, 0.5), (2.0, 0.2)] {
            let plain = GainNetwork(model), sharp = GainNetwork(try model.sharpened(by: Float(a), pivot: Float(p)))
            var h1 = [Float](repeating: 0, count: plain.stateLength), h2 = h1
            var g1 = [Float](repeating: 0, count: fixture.bandCount), g2 = g1
            var worst = 0.0, moved = 0.0
            for x in fixture.inputs {
                plain.step(features: x, hidden: &h1, gains: &g1)
                sharp.step(features: x, hidden: &h2, gains: &g2)
                #expect(h1 == h2, "the hidden state changed: only the output layer may")
                for b in 0..<fixture.bandCount {
                    let g = min(max(Double(g1[b]), 1e-6), 1 - 1e-6)
                    let expected = 1 / (1 + exp(-(a * (logit(g) - logit(p)) + logit(p))))
                    worst = max(worst, abs(Double(g2[b]) - expected)); moved = max(moved, abs(Double(g2[b] - g1[b])))
                }
            }
            #expect(worst < 2e-4, "a \(a), pivot \(p): largest difference \(worst)")
            #expect(moved > 0.01, "a \(a), pivot \(p): the gains did not move")
        }
        for (a, p) in [(Float(0.5), Float(0.5)), (5, 0.5), (.nan, 0.5), (1.5, 0), (1.5, 1)] {
            #expect(throws: EngineError.self) { try model.sharpened(by: a, pivot: p) }
        }
    }

    @Test func fastMathIsAccurate() {
        var worstExp: Double = 0, worstLog: Double = 0, worstTanh: Double = 0
        for i in stride(from: -2000, through: 2000, by: 8) {
            let x = SIMD8<Float>((0..<8).map { Float(i + $0) * 0.04 })                      // −80 … 80
            let y = SIMD8<Float>((0..<8).map { Float(pow(10.0, Double(i + $0) / 100)) })   // 1e-20 … 1e20
            var e = [Float](repeating: 0, count: 8), t = e
            let xs = (0..<8).map { x[$0] }, eighths = xs.map { $0 / 8 }
            sordino_fast_exp(xs, &e, 8)         // the gain network's step (CEngineKernels)
            sordino_fast_tanh(eighths, &t, 8)
            let l = fastLog(y)
            for lane in 0..<8 {
                worstExp = max(worstExp, abs(Double(e[lane]) / exp(Double(x[lane])) - 1))
                worstTanh = max(worstTanh, abs(Double(t[lane]) - tanh(Double(x[lane] / 8))))
                worstLog = max(worstLog, abs(Double(l[lane]) - log(Double(y[lane]))))
                #expect(fastLog(y[lane]) == l[lane])   // the one-lane form is the same arithmetic
            }
        }
        #expect(worstExp < 1e-6)
        #expect(worstLog < 1e-5)
        #expect(worstTanh < 1e-6)
        #expect(fastLog(0) == fastLog(1e-30))
    }

    @Test func bandsAreTheCriticalBandsAtEveryRate() {
        let b16 = GainBands(sampleRate: 16_000, fftLength: 512)
        #expect(b16.edges == [0, 3, 6, 10, 13, 16, 20, 25, 29, 35, 41, 47, 55, 64, 74, 86, 101, 118, 141, 170, 205, 246, 257])
        let b48 = GainBands(sampleRate: 48_000, fftLength: 1536)
        #expect(b48.bandCount == 26)
        #expect(Array(b48.edges.prefix(22)) == Array(b16.edges.prefix(22)))   // the same 31.25 Hz bins
        let low = GainBands(sampleRate: 48_000, fftLength: 512)             // 93.75 Hz bins
        #expect(low.binCount == 257)
        #expect(zip(low.edges, low.edges.dropFirst()).allSatisfy { $0 < $1 })
        // Interpolation: a bin at a band centre takes that band's gain, weight 0.
        let interpolation = BandInterpolation(b16)
        #expect(interpolation.lower[1] == 0 && interpolation.weight[1] == 0)   // centre of band 0 is bin 1
        #expect(abs(interpolation.weight[3] - Float((3 - 1.0) / (4 - 1.0))) < 1e-6)
    }

    static let basis = Signal.randomBasis(binCount: 257, speechRank: 16, noiseRank: 8, seed: 11)
    static let input = Signal.speechLike(seconds: 1.5, noiseLevel: 0.1, seed: 3)

    static func config(_ mode: GainRefinementMode?) -> EngineConfiguration {
        var c = EngineConfiguration()
        c.floorDecibels = -12
        c.gainRefinement = mode
        return c
    }

    /// A model of the 16 kHz sizes whose every weight is 0 but the output bias: g = σ(bias) in every band.
    static func constantModel(bias: Float) throws -> GainModel {
        let bands = GainBands(sampleRate: 16_000, fftLength: 512).bandCount
        let f = GainRefinement.featureCount(bandCount: bands), d = 4, h = 3
        var values = [Float](repeating: 0, count: GainModel.parameterCount(featureCount: f, inputUnits: d,
                                                                             hiddenUnits: h, bandCount: bands))
        for i in f..<(2 * f) { values[i] = 1 }                                  // scale
        for i in (values.count - bands)..<values.count { values[i] = bias }    // output bias
        return try GainModel(featureCount: f, inputUnits: d, hiddenUnits: h, bandCount: bands, values: values)
    }

    @Test func observingChangesNoSample() throws {
        let plain = try EngineHarness.runMono(Self.input, configuration: Self.config(nil), basis: Self.basis, blockLengths: [100])
        var engine = try Engine(configuration: Self.config(.observe), basis: Self.basis)
        let observed = EngineHarness.run(&engine, [Self.input], blockLengths: [100])[0]
        #expect(observed == plain)
        let count = engine.gainFeatureCount
        #expect(count == 135)
        let last = engine.lastGainFeatures(channel: 0)
        let features = try #require(last)
        #expect((0..<135).allSatisfy { features[$0].isFinite })
        #expect(features[134 - 2] > 0 && features[134 - 2] <= 1.0001)           // periodicity of a harmonic signal
    }

    /// At 48 kHz the periodicity is taken below about 8 kHz: a 200 Hz harmonic tone reads as
    /// periodic with or without loud noise above 10 kHz, and white noise does not.
    @Test(arguments: [(false, false, 0.8, 1.0001), (true, false, 0.8, 1.0001), (false, true, 0, 0.35)])
    func periodicityAt48kHzListensBelow8kHz(highNoise: Bool, noiseOnly: Bool, low: Float, high: Float) throws {
        var c = Self.config(.observe)
        c.sampleRate = 48_000; c.frameLength = 1536; c.hopLength = 384; c.fftLength = 1536
        let basis = Signal.randomBasis(binCount: 769, speechRank: 16, noiseRank: 8, seed: 11)
        let count = 48_000
        var x = [Float](repeating: 0, count: count)
        if !noiseOnly {
            for n in 0..<count {
                for h in 1...15 { x[n] += 0.05 / Float(h) * sin(2 * .pi * 200 * Float(h) * Float(n) / 48_000) }
            }
        }
        if highNoise || noiseOnly {
            // White noise, high-passed above 10 kHz for the tone's case by differencing four times.
            var noise = Signal.whiteNoise(count: count, amplitude: 0.3, seed: 5)
            if highNoise {
                for _ in 0..<4 { for n in stride(from: count - 1, to: 0, by: -1) { noise[n] -= noise[n - 1] } }
                for n in 0..<count { noise[n] *= 0.1 }
            }
            for n in 0..<count { x[n] += noise[n] }
        }
        var engine = try Engine(configuration: c, basis: basis)
        _ = EngineHarness.run(&engine, [x], blockLengths: [384])
        let last = engine.lastGainFeatures(channel: 0), index = engine.gainFeatureCount - 3
        let features = try #require(last)
        let periodicity = features[index]
        #expect(periodicity >= low && periodicity <= high, "periodicity \(periodicity)")
    }

    @Test func liftAtGainOnePassesTheInputAndMultiplyAtZeroLeavesTheFloor() throws {
        let d = Self.config(nil).latencySamples, n = Self.input.count
        let delayed = Array(Self.input[..<(n - d)])
        var lift = try Engine(configuration: Self.config(.lift), basis: Self.basis, gainModel: Self.constantModel(bias: 30))
        let lifted = Array(EngineHarness.run(&lift, [Self.input], blockLengths: [256])[0][d...])
        // σ(30) = 1 − 1e-13: every bin's mask is 1, so the output is the delayed input (STFT round trip).
        #expect(maxAbsDifference(lifted, delayed) < 1e-4)
        var cut = try Engine(configuration: Self.config(.multiply), basis: Self.basis, gainModel: Self.constantModel(bias: -30))
        let floored = Array(EngineHarness.run(&cut, [Self.input], blockLengths: [256])[0][d...])
        // g ≈ 0: the mask is the −12 dB floor everywhere, so the output is the input × 0.251.
        let expected = delayed.map { $0 * Float(pow(10.0, -12.0 / 20)) }
        #expect(maxAbsDifference(Array(floored[2000...]), Array(expected[2000...])) < 1e-4)
    }

    /// A model of the 16 kHz sizes with seeded random weights (±`scale`), normalisation 0 and 1:
    /// its gains vary with the features.
    static func randomModel(inputUnits d: Int, hiddenUnits h: Int, scale: Float, seed: UInt64) throws -> GainModel {
        let bands = GainBands(sampleRate: 16_000, fftLength: 512).bandCount
        let f = GainRefinement.featureCount(bandCount: bands)
        var g = SeededGenerator(seed: seed)
        var values = (0..<GainModel.parameterCount(featureCount: f, inputUnits: d, hiddenUnits: h, bandCount: bands)).map { _ in
            scale * (2 * Float(g.next() % 1_000_001) / 1_000_000 - 1)
        }
        for i in 0..<f { values[i] = 0; values[f + i] = 1 }   // mean 0, scale 1
        return try GainModel(featureCount: f, inputUnits: d, hiddenUnits: h, bandCount: bands, values: values)
    }

    /// Several streams stepped at once (weights loaded once for four of them) give each stream its
    /// own step's gains and hidden state, over 30 steps of random features: 2 and 3 streams (one
    /// group of that size), 5 (a group of four and one of one), 8; hidden sizes whose gate rows end in a block of eight (20 units:
    /// 72 rows) and in blocks of sixteen (64). Measured: largest differences 1.5e-7 (gains) and
    /// 5.5e-7 (hidden state); with each stream read from its neighbour's features, 0.22–0.47 and 0.35–1.4.
    @Test(arguments: [(2, 20), (3, 64), (5, 64), (8, 20), (8, 64)])
    func streamsSteppedTogetherAsEachAlone(count: Int, hiddenUnits: Int) throws {
        let model = try Self.randomModel(inputUnits: 12, hiddenUnits: hiddenUnits, scale: 0.3, seed: 4)
        let together = GainNetwork(model, streams: count), alone = GainNetwork(model)
        let f = model.featureCount, b = model.bandCount, stride = together.stateLength
        let features = UnsafeMutablePointer<Float>.allocate(capacity: count * f)
        let hidden = UnsafeMutablePointer<Float>.allocate(capacity: count * stride)
        let gains = UnsafeMutablePointer<Float>.allocate(capacity: count * b)
        let pointers = UnsafeMutablePointer<UnsafePointer<Float>?>.allocate(capacity: count)
        let states = UnsafeMutablePointer<UnsafeMutablePointer<Float>?>.allocate(capacity: count)
        let outputs = UnsafeMutablePointer<UnsafeMutablePointer<Float>?>.allocate(capacity: count)
        defer { features.deallocate(); hidden.deallocate(); gains.deallocate(); pointers.deallocate(); states.deallocate(); outputs.deallocate() }
        hidden.initialize(repeating: 0, count: count * stride)
        for s in 0..<count {
            pointers[s] = UnsafePointer(features + s * f); states[s] = hidden + s * stride; outputs[s] = gains + s * b
        }
        var referenceHidden = [[Float]](repeating: [Float](repeating: 0, count: stride), count: count)
        var referenceGains = [Float](repeating: 0, count: b)
        var g = SeededGenerator(seed: 9)
        var worstGain: Float = 0, worstHidden: Float = 0, spread: Float = 0
        for _ in 0..<30 {
            for i in 0..<(count * f) { features[i] = 4 * Float(g.next() % 1001) / 1000 - 2 }
            together.step(count: count, features: pointers, hidden: states, gains: outputs)
            for s in 0..<count {
                let x = Array(UnsafeBufferPointer(start: features + s * f, count: f))
                alone.step(features: x, hidden: &referenceHidden[s], gains: &referenceGains)
                for k in 0..<b {
                    worstGain = max(worstGain, abs(gains[s * b + k] - referenceGains[k]))
                    spread = max(spread, abs(gains[s * b + k] - gains[k]))
                }
                for k in 0..<stride { worstHidden = max(worstHidden, abs(hidden[s * stride + k] - referenceHidden[s][k])) }
            }
        }
        #expect(worstGain < 2e-6 && worstHidden < 2e-6, "gains \(worstGain), hidden state \(worstHidden)")
        #expect(spread > 0.05)   // the streams' gains differ, so a stream read from another's would show
    }

    /// An engine of eight channels (its solve, estimates and learned gain eight streams at a time)
    /// gives every channel what a one-channel engine gives it, to float rounding: the channels'
    /// arithmetic is shared, never mixed. Without online noise atoms (they are shared by the
    /// channels, so each channel's would differ from a one-channel engine's). Measured: 2.1e-7 of the
    /// peak; with each stream's estimates and network inputs taken from its neighbour's, 0.91.
    @Test func eightChannelsGiveEachWhatOneGivesIt() throws {
        var c = Self.config(.shape)
        c.channelCount = 8
        c.iterations = 3
        let model = try Self.randomModel(inputUnits: 12, hiddenUnits: 20, scale: 0.3, seed: 5)
        let inputs = (0..<8).map { Signal.speechLike(seconds: 1, noiseLevel: 0.02 + 0.03 * Float($0), seed: UInt64(40 + $0)) }
        var engine = try Engine(configuration: c, basis: Self.basis, gainModel: model)
        let together = EngineHarness.run(&engine, inputs, blockLengths: [256])
        var mono = c
        mono.channelCount = 1
        var worst: Float = 0, peak: Float = 0
        for (channel, input) in inputs.enumerated() {
            var alone = try Engine(configuration: mono, basis: Self.basis, gainModel: model)
            let reference = EngineHarness.run(&alone, [input], blockLengths: [256])[0]
            worst = max(worst, maxAbsDifference(together[channel], reference))
            peak = max(peak, reference.map(abs).max() ?? 0)
        }
        #expect(peak > 0.01)
        #expect(worst <= 1e-5 * peak, "largest difference \(worst / peak) of the peak")
    }

    /// Identical channels come out identical, bit for bit, with online noise atoms (shared by the
    /// channels, one step a hop from every channel that heard noise only) and the learned gain:
    /// every channel's estimates are taken from the atoms as the last hop left them (3 channels:
    /// stream by stream; 8: in lanes).
    @Test(arguments: [3, 8])
    func identicalChannelsComeOutIdentical(channels: Int) throws {
        var c = Self.config(.shape)
        c.channelCount = channels
        c.adaptiveNoiseRank = 4
        let model = try Self.randomModel(inputUnits: 12, hiddenUnits: 20, scale: 0.3, seed: 5)
        var engine = try Engine(configuration: c, basis: Self.basis, gainModel: model)
        let output = EngineHarness.run(&engine, [[Float]](repeating: Self.input, count: channels), blockLengths: [256])
        #expect(rms(output[0]) > 0.01)
        for channel in 1..<channels { #expect(output[channel] == output[0], "channel \(channel)") }
    }

    @Test func aModelOfOtherSizesIsRejected() throws {
        let model = try GainModel(featureCount: 10, inputUnits: 2, hiddenUnits: 2, bandCount: 3,
                                  values: [Float](repeating: 0, count: GainModel.parameterCount(
                                      featureCount: 10, inputUnits: 2, hiddenUnits: 2, bandCount: 3)))
        #expect(throws: EngineError.self) { _ = try Engine(configuration: Self.config(.lift), basis: Self.basis, gainModel: model) }
        #expect(throws: EngineError.self) { _ = try Engine(configuration: Self.config(.lift), basis: Self.basis) }
    }
}
