// SPDX-License-Identifier: GPL-3.0-or-later
// Supervised dictionary training: a speech basis and a noise basis learned apart, joined for the engine.

import SordinoDSP

/// Learns Ws on speech frames and Wn on noise frames with `BetaNMF` (separately, as in supervised
/// NMF enhancement, e.g. Smaragdis 2007) and joins them into the engine's `Basis`, speech atoms first.
/// The two runs take seeds derived from `seed` by SplitMix64 (first and second output), so one seed
/// fixes the whole basis. Cost: that of the two factorisations. Allocates; offline only.
public struct SupervisedTrainer: Sendable {
    public struct Options: Sendable, Hashable {
        public var speechRank: Int
        public var noiseRank: Int
        /// β of the training divergence; the engine solves with 0, 1 or 2.
        public var beta: BetaDivergence
        public var iterations: Int
        /// λ for both runs; the engine's `sparsity` is set separately by the preset.
        public var sparsity: Float
        public var seed: UInt64
        public var atomNormalisation: AtomNormalisation
        public var activationKernel: ActivationKernel

        public init(speechRank: Int = 32, noiseRank: Int = 32, beta: BetaDivergence = 1, iterations: Int = 200,
                    sparsity: Float = 0, seed: UInt64 = 0x534F_5244_494E_4F00,
                    atomNormalisation: AtomNormalisation = .automatic, activationKernel: ActivationKernel = .automatic) {
            self.speechRank = speechRank
            self.noiseRank = noiseRank
            self.beta = beta
            self.iterations = iterations
            self.sparsity = sparsity
            self.seed = seed
            self.atomNormalisation = atomNormalisation
            self.activationKernel = activationKernel
        }
    }

    /// Which of the two runs a progress report belongs to.
    public enum Part: String, Sendable { case speech, noise }

    public struct Result: Sendable {
        /// [Ws Wn], bins × (speechRank + noiseRank), ready for `ActivationSolver` / `Engine`.
        public var basis: Basis
        /// Objective per iteration of each run (see `BetaNMF.Factorisation.objective`).
        public var speechObjective: [Double]
        public var noiseObjective: [Double]
    }

    public let options: Options
    let speech: BetaNMF
    let noise: BetaNMF

    public init(_ options: Options) throws(NMFError) {
        var generator = SplitMix64(seed: options.seed)
        func run(rank: Int, seed: UInt64) throws(NMFError) -> BetaNMF {
            try BetaNMF(.init(rank: rank, beta: options.beta, iterations: options.iterations,
                              sparsity: options.sparsity, seed: seed, atomNormalisation: options.atomNormalisation,
                              activationKernel: options.activationKernel))
        }
        speech = try run(rank: options.speechRank, seed: generator.next())
        noise = try run(rank: options.noiseRank, seed: generator.next())
        self.options = options
    }

    /// Trains on V_speech and V_noise (bins × frames each, same bins), e.g. two `TrainingSet`s.
    public func train(speech vs: Matrix, noise vn: Matrix,
                      progress: ((Part, _ iteration: Int, _ objective: Double) -> Void)? = nil) throws(NMFError) -> Result {
        guard vs.rows == vn.rows else {
            throw .shapeMismatch(what: "noise V", expected: "\(vs.rows) bins like the speech V", actual: "\(vn.rows) bins")
        }
        let s = try speech.factorise(vs) { progress?(.speech, $0, $1) }
        let n = try noise.factorise(vn) { progress?(.noise, $0, $1) }
        let bins = vs.rows, ks = options.speechRank, kn = options.noiseRank, rank = ks + kn
        var values = [Float](repeating: 0, count: bins * rank)
        for f in 0..<bins {
            for k in 0..<ks { values[f * rank + k] = s.basis[f, k] }
            for k in 0..<kn { values[f * rank + ks + k] = n.basis[f, k] }
        }
        do throws(EngineError) {
            let basis = try Basis(binCount: bins, speechRank: ks, noiseRank: kn, values: values)
            return Result(basis: basis, speechObjective: s.objective, noiseObjective: n.objective)
        } catch { throw .engine(error) }
    }
}
