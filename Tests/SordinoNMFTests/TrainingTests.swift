// SPDX-License-Identifier: GPL-3.0-or-later
// TrainingSet frame selection and SupervisedTrainer's basis layout and determinism.

import SordinoDSP
import SordinoNMF
import Testing
import TestSupport

@Suite struct TrainingTests {
    let configuration = EngineConfiguration()   // 16 kHz, frame 512, hop 128, 257 bins

    @Test func dropsDigitalSilenceAndFramesSixtyDecibelsDown() throws {
        let loud = Fixture.harmonicPlusNoise(seconds: 0.5, seed: 1)
        let quiet = loud.map { $0 * 1e-4 }                      // −80 dB
        let silence = [Float](repeating: 0, count: 8000)
        let signal = silence + loud + quiet + silence
        let all = try Spectrogram(samples: signal, configuration: configuration).frameCount
        let set = try TrainingSet(signals: [signal], configuration: configuration)
        let keepQuiet = try TrainingSet(signals: [signal], configuration: configuration, relativeFloorDecibels: nil)
        #expect(set.analysedFrames == [all])
        // Frames touching the loud 8000 samples (which start mid-hop, at 62.5 hops): 8000/128 + 512/128 − 1
        // rounded up = 66; the quiet part adds the 63 that touch only it. Silence and the −80 dB part go.
        #expect(set.frameCount == 66)
        #expect(keepQuiet.frameCount == 66 + 63)
        #expect(set.spectrogram.rows == 257)
        for t in 0..<set.frameCount {
            #expect((0..<257).contains { set.spectrogram[$0, t] != 0 })
        }
    }

    @Test func concatenatesSignalsInOrderAndMatchesSpectrogram() throws {
        let a = Fixture.harmonicPlusNoise(seconds: 0.25, seed: 2), b = Fixture.whiteNoise(count: 3000, amplitude: 0.1, seed: 3)
        let set = try TrainingSet(signals: [a, b], configuration: configuration, relativeFloorDecibels: nil)
        let sa = try Spectrogram(samples: a, configuration: configuration)
        let sb = try Spectrogram(samples: b, configuration: configuration)
        #expect(set.keptFrames == [sa.frameCount, sb.frameCount])
        #expect(set.frameCount == sa.frameCount + sb.frameCount)
        for f in [0, 40, 256] {
            #expect(set.spectrogram[f, 3] == sa.values[3 * 257 + f])
            #expect(set.spectrogram[f, sa.frameCount + 5] == sb.values[5 * 257 + f])
        }
        #expect(throws: NMFError.self) {
            try TrainingSet(signals: [[Float](repeating: 0, count: 4000)], configuration: configuration)
        }
    }

    @Test func supervisedTrainerPutsSpeechFirstAndIsDeterministic() throws {
        let speech = try TrainingSet(signals: [Fixture.harmonicPlusNoise(seconds: 1, seed: 4)], configuration: configuration)
        let noise = try TrainingSet(signals: [Fixture.whiteNoise(count: 16_000, amplitude: 0.05, seed: 5)],
                                    configuration: configuration)
        let options = SupervisedTrainer.Options(speechRank: 6, noiseRank: 3, iterations: 20, seed: 77)
        let result = try SupervisedTrainer(options).train(speech: speech.spectrogram, noise: noise.spectrogram)
        #expect(result.basis.binCount == 257 && result.basis.speechRank == 6 && result.basis.noiseRank == 3)
        #expect(result.speechObjective.count == 20 && result.noiseObjective.count == 20)
        // The speech atoms are the speech run's: the one trained with the first derived seed.
        var generator = SplitMix64(seed: 77)
        let speechSeed = generator.next()
        let alone = try BetaNMF(.init(rank: 6, iterations: 20, seed: speechSeed)).factorise(speech.spectrogram).basis
        for f in [0, 10, 100, 256] { for k in 0..<6 { #expect(result.basis[bin: f, atom: k] == alone[f, k]) } }
        // Speech atoms peak at low harmonics, white-noise atoms are flat: mean bin of the atoms' mass.
        func centroid(_ k: Int) -> Float {
            (0..<257).reduce(0) { $0 + Float($1) * result.basis[bin: $1, atom: k] }
        }
        #expect((0..<6).map(centroid).max()! < (6..<9).map(centroid).min()!)
        #expect(try SupervisedTrainer(options).train(speech: speech.spectrogram, noise: noise.spectrogram).basis
            == result.basis)
        var other = options
        other.seed = 78
        #expect(try SupervisedTrainer(other).train(speech: speech.spectrogram, noise: noise.spectrogram).basis
            != result.basis)
        // The engine runs it and tells the two apart: it keeps the speech and removes the noise.
        var config = configuration
        config.floorDecibels = -40
        func gainDecibels(_ x: [Float]) throws -> Float {
            let y = try EngineHarness.runMono(x, configuration: config, basis: result.basis, blockLengths: [256])
            let d = config.latencySamples
            return 20 * Float.log10(rms(Array(y[d...])) / rms(Array(x[..<(x.count - d)])))
        }
        let speechGain = try gainDecibels(Fixture.harmonicPlusNoise(seconds: 1, seed: 14))
        let noiseGain = try gainDecibels(Fixture.whiteNoise(count: 16_000, amplitude: 0.05, seed: 15))
        // Measured: speech −0.002 dB, noise −37.3 dB (floor −40 dB).
        #expect(speechGain > -0.5 && noiseGain < -30, "speech \(speechGain) dB, noise \(noiseGain) dB")
    }
}
