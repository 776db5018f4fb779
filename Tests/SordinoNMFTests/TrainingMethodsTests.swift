// SPDX-License-Identifier: GPL-3.0-or-later
// The training methods behave as their theory says: prior NMF descends, ANMF repels the other source, seeds fix results.

import SordinoDSP
import SordinoNMF
import Testing

@Suite struct TrainingMethodsTests {
    /// Speech-like V (harmonics, 1 s) and white-noise V, 257 bins each.
    static func data() throws -> (speech: Matrix, noise: Matrix) {
        let speech = try Fixture.harmonicSpectrogram(seconds: 1, seed: 7)
        let s = try Spectrogram(samples: Fixture.whiteNoise(count: 16_000, amplitude: 0.05, seed: 8),
                                configuration: EngineConfiguration())
        let noise = Matrix(rows: s.frameCount, columns: s.binCount, values: s.values).transposed()
        return (speech, noise)
    }

    @Test(arguments: [ActivationPrior.exponential, .gamma])
    func priorObjectiveNeverIncreases(prior: ActivationPrior) throws {
        let v = try Self.data().speech
        // A large α so that the prior matters (mean penalty ≈ 0.5 against Σ_f w = 1).
        let nmf = try PriorNMF(.init(rank: 8, warmUpIterations: 20, iterations: 60, prior: prior, weight: 0.5,
                                     chunkFrames: 37, seed: 3))
        let result = try nmf.factorise(v)
        for (a, b) in zip(result.warmUpObjective, result.warmUpObjective.dropFirst()) { #expect(b <= a * (1 + 1e-6)) }
        #expect(result.objective.count == 61)
        for (a, b) in zip(result.objective, result.objective.dropFirst()) {
            #expect(b <= a + 1e-6 * abs(a), "prior stage rose from \(a) to \(b)")
        }
        // It really moves: measured first → last 1781.6 → 1610.7 (exp), 1779.2 → 1602.0 (gamma).
        let first = try #require(result.objective.first), last = try #require(result.objective.last)
        #expect(last < 0.93 * first)
        // Per-atom parameters: not one λ for all atoms (the rates span more than a factor 2).
        let rates = result.parameters.rates
        #expect(rates.count == 8 && rates.allSatisfy { $0.isFinite && $0 > 0 })
        #expect((rates.max() ?? 0) > 2 * (rates.min() ?? 0))
        if prior == .exponential { #expect(result.parameters.shapeTerms.allSatisfy { $0 == 0 }) }
        // Atoms leave with unit sum, so the live solver's denominator Σ_f w + λ_k matches training.
        for k in 0..<8 {
            var sum: Float = 0
            for f in 0..<257 { sum += result.basis[f, k] }
            #expect(abs(sum - 1) < 1e-4)
        }
    }

    @Test func exponentialRatesAreInverseMeanActivations() throws {
        let h = Matrix(rows: 3, columns: 4, values: [1, 1, 1, 1, 0, 2, 0, 2, 4, 4, 4, 4])
        let p = PriorParameters.estimate(from: h, prior: .exponential, weight: 0.5)
        #expect(p.rates == [0.5, 0.5, 0.125])
        let g = PriorParameters.estimate(from: h, prior: .gamma, weight: 1)
        // Atom 1: mean 1, variance 1 → shape 1, rate 1; constant atoms get the largest shape (10³).
        #expect(abs(g.rates[1] - 1) < 1e-6 && abs(g.shapeTerms[1]) < 1e-6)
        #expect(g.shapeTerms[0] == 999)
        // Shapes below 1 are raised to 1 (the MAP problem has no minimum otherwise): mean 1, variance 3.
        let sparse = PriorParameters.estimate(from: Matrix(rows: 1, columns: 4, values: [0, 0, 0, 4]), prior: .gamma, weight: 1)
        #expect(sparse.shapeTerms == [0] && sparse.rates == [1])
    }

    @Test func adversarialTermRepelsTheOtherSource() throws {
        let (speech, noise) = try Self.data()
        func fits(tau: Float) throws -> (speech: Double, noise: Double) {
            let anmf = try AdversarialNMF(.init(rank: 6, epochs: 40, batchSize: 32, adversarialWeight: tau, seed: 11))
            let w = try anmf.fit(true: speech, adversarial: noise).basis
            let hs = AdversarialNMF.fitActivations(of: speech, basis: w, iterations: 200)
            let hn = AdversarialNMF.fitActivations(of: noise, basis: w, iterations: 200)
            return (AdversarialNMF.meanSquaredResidual(speech, basis: w, activations: hs),
                    AdversarialNMF.meanSquaredResidual(noise, basis: w, activations: hn))
        }
        var noiseEnergy = 0.0
        for x in noise.values { noiseEnergy += Double(x) * Double(x) }
        noiseEnergy /= Double(noise.columns)                       // 53.8 per frame
        let plain = try fits(tau: 0), adversarial = try fits(tau: 0.3)
        // Measured (mean squared residual per frame): noise 46.44 → 47.62, so the noise energy the
        // speech basis explains falls from 7.36 to 6.18 (−16 %); speech 10.968 → 10.992 (+0.2 %).
        let explainedPlain = noiseEnergy - plain.noise, explainedAdversarial = noiseEnergy - adversarial.noise
        #expect(explainedAdversarial < 0.9 * explainedPlain, "\(plain) \(adversarial)")
        #expect(adversarial.speech < 1.01 * plain.speech, "\(plain) \(adversarial)")
    }

    @Test(arguments: [TrainingMethod.nmf, .nmfExponential, .nmfGamma, .anmf])
    func trainingIsDeterministicForASeed(method: TrainingMethod) throws {
        let (speech, noise) = try Self.data()
        func train(seed: UInt64) throws -> Basis {
            try BasisTrainer(.init(method: method, speechRank: 4, noiseRank: 3, epochs: 6, batchSize: 40,
                                        seed: seed)).train(speech: speech, noise: noise).basis
        }
        let a = try train(seed: 5), b = try train(seed: 5), c = try train(seed: 6)
        #expect(a == b)
        #expect(a.values != c.values)
        #expect(a.speechRank == 4 && a.noiseRank == 3)
        #expect((a.atomPenalties != nil) == (method == .nmfExponential || method == .nmfGamma))
    }

    @Test func bandLimitedBasisSeparatesTheHighBand() throws {
        let (speech, noise) = try Self.data()
        let basis = try BasisTrainer(.init(method: .nmfExponential, speechRank: 3, noiseRank: 2, epochs: 4))
            .train(speech: speech, noise: noise).basis
        let limited = try basis.bandLimited(cutoffBin: 200)
        #expect(limited.noiseRank == 3 && limited.atomPenalties?.count == 6 && limited.atomPenalties?.last == 0)
        for f in [0, 100, 199] { #expect(limited[bin: f, atom: 5] == 0) }
        for f in [200, 256] {
            #expect(abs(limited[bin: f, atom: 5] - 1 / 57) < 1e-7)
            for k in 0..<5 { #expect(limited[bin: f, atom: k] == 0) }
        }
        #expect(throws: NMFError.self) { try basis.bandLimited(cutoffBin: 257) }
    }
}
