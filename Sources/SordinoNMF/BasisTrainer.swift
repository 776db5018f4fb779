// SPDX-License-Identifier: GPL-3.0-or-later
// One entry for every training method: learns the speech and noise bases and joins them for the engine.

import SordinoDSP

/// How `BasisTrainer` learns the two bases.
public enum TrainingMethod: String, Sendable, Hashable, CaseIterable {
    /// β-divergence NMF (`BetaNMF`), each basis on its own source.
    case nmf
    /// KL-NMF with a per-atom exponential prior on activations (`PriorNMF`); the rates become the live penalties.
    case nmfExponential = "nmf-exp"
    /// KL-NMF with a per-atom gamma prior (`PriorNMF`); the rates become the live penalties.
    case nmfGamma = "nmf-gamma"
    /// Adversarially generated NMF (`AdversarialNMF`): the speech basis against noise frames and the reverse.
    case anmf
}

/// Learns Ws on speech frames and Wn on noise frames with one `TrainingMethod` and joins them into the
/// engine's `Basis`, speech atoms first, every atom scaled to unit sum (the scale the live KL solve and
/// its relative activation floor expect; ANMF's unit-L2 atoms are rescaled at the end, which changes no
/// fit). The two runs take seeds derived from `seed` by SplitMix64 (first and second output), as
/// `SupervisedTrainer` does, so `nmf` starts from the same factors as `SupervisedTrainer`. Cost: that of the
/// two runs. Memory: both V (given) plus each method's own. Allocates; offline only.
public struct BasisTrainer: Sendable {
    public struct Options: Sendable, Hashable {
        public var method: TrainingMethod
        public var speechRank: Int
        public var noiseRank: Int
        /// β of `nmf`'s divergence (any real). The prior methods are KL (β = 1); ANMF is Euclidean.
        public var beta: BetaDivergence
        /// Passes over the data (all of them, warm-up included, for the prior methods).
        public var epochs: Int
        /// Plain KL passes before the prior is estimated (prior methods); default half the epochs.
        public var warmUpEpochs: Int?
        /// Frames per mini-batch (ANMF) or per chunk (prior methods).
        public var batchSize: Int
        /// τ_A of ANMF.
        public var adversarialWeight: Float
        /// α of the prior methods.
        public var priorWeight: Float
        /// `nmf`'s L1 penalty λ during training (`BetaNMF.Options.sparsity`).
        public var sparsity: Float
        public var seed: UInt64
        /// Every run (and each stage of the prior methods) stops early once a pass lowers its
        /// objective by less than this fraction of its initial value (`StoppingRule`); nil: all epochs.
        public var tolerance: Double?

        public init(method: TrainingMethod = .nmf, speechRank: Int = 64, noiseRank: Int = 64, beta: BetaDivergence = 1,
                    epochs: Int = 200, warmUpEpochs: Int? = nil, batchSize: Int = 1000, adversarialWeight: Float = 0.3,
                    priorWeight: Float = 0.005, sparsity: Float = 0, seed: UInt64 = 0x534F_5244_494E_4F00,
                    tolerance: Double? = nil) {
            self.tolerance = tolerance
            self.method = method
            self.speechRank = speechRank
            self.noiseRank = noiseRank
            self.beta = beta
            self.epochs = epochs
            self.warmUpEpochs = warmUpEpochs
            self.batchSize = batchSize
            self.adversarialWeight = adversarialWeight
            self.priorWeight = priorWeight
            self.sparsity = sparsity
            self.seed = seed
        }
    }

    public typealias Part = SupervisedTrainer.Part

    /// One learning curve: the objective of one stage of one part, after each pass.
    public struct Curve: Sendable, Equatable {
        public var part: Part
        /// "kl", "beta", "prior" or "anmf".
        public var stage: String
        /// What the values are, e.g. "D_KL(V | WH)" — for the loss file.
        public var objective: String
        public var values: [Double]
        /// Why the stage stopped.
        public var stop: StopReason
    }

    public struct Result: Sendable {
        /// [Ws Wn] with per-atom penalties for the prior methods.
        public var basis: Basis
        public var curves: [Curve]
        /// The training H of each part (atoms × frames), for the atoms as learned (before the
        /// unit-sum rescaling of `basis`).
        public var speechActivations: Matrix
        public var noiseActivations: Matrix
    }

    /// Progress: part, pass number within the part (1-based), passes per part, objective.
    public typealias Progress = (_ part: Part, _ epoch: Int, _ epochs: Int, _ objective: Double) -> Void

    public let options: Options

    public init(_ options: Options) throws(NMFError) {
        try NMFError.check(options.speechRank >= 1 && options.noiseRank >= 1, "atoms",
                  "\(options.speechRank) + \(options.noiseRank)", "at least 1 speech and 1 noise atom")
        try NMFError.check(options.epochs >= 1, "epochs", options.epochs, "at least 1")
        if options.method == .nmfExponential || options.method == .nmfGamma {
            try NMFError.check(options.beta == 1, "beta", options.beta.beta, "1 (the prior methods are KL-NMF)")
            let warmUp = options.warmUpEpochs ?? options.epochs / 2
            try NMFError.check(warmUp >= 1 && warmUp <= options.epochs, "warm-up epochs", warmUp, "1…\(options.epochs)")
        }
        self.options = options
    }

    /// The passes per part the progress callback counts to.
    public var epochsPerPart: Int { options.epochs }

    /// Trains on V_speech and V_noise (bins × frames each, same bins).
    public func train(speech vs: Matrix, noise vn: Matrix, progress: Progress? = nil) throws(NMFError) -> Result {
        guard vs.rows == vn.rows else {
            throw .shapeMismatch(what: "noise V", expected: "\(vs.rows) bins like the speech V", actual: "\(vn.rows) bins")
        }
        var generator = SplitMix64(seed: options.seed)
        let seeds = (generator.next(), generator.next())
        let epochs = options.epochs
        var curves: [Curve] = []
        var speechBasis: Matrix, noiseBasis: Matrix
        var activations: [Matrix] = []
        var penalties: [Float]?
        switch options.method {
        case .nmf:
            func run(_ v: Matrix, rank: Int, seed: UInt64, part: Part) throws(NMFError) -> Matrix {
                let nmf = try BetaNMF(.init(rank: rank, beta: options.beta, iterations: epochs,
                                              sparsity: options.sparsity, seed: seed, tolerance: options.tolerance))
                let result = try nmf.factorise(v) { progress?(part, $0, epochs, $1) }
                curves.append(Curve(part: part, stage: options.beta == 1 ? "kl" : "beta",
                                    objective: "D_beta(V | WH + eps), beta = \(options.beta.beta)",
                                    values: [result.initialObjective] + result.objective, stop: result.stop))
                activations.append(result.activations)
                return result.basis
            }
            speechBasis = try run(vs, rank: options.speechRank, seed: seeds.0, part: .speech)
            noiseBasis = try run(vn, rank: options.noiseRank, seed: seeds.1, part: .noise)
        case .nmfExponential, .nmfGamma:
            let prior: ActivationPrior = options.method == .nmfGamma ? .gamma : .exponential
            let warmUp = options.warmUpEpochs ?? epochs / 2
            func run(_ v: Matrix, rank: Int, seed: UInt64, part: Part) throws(NMFError) -> (Matrix, [Float]) {
                let nmf = try PriorNMF(.init(rank: rank, warmUpIterations: warmUp, iterations: epochs - warmUp,
                                             prior: prior, weight: options.priorWeight,
                                             chunkFrames: options.batchSize, seed: seed, tolerance: options.tolerance))
                let result = try nmf.factorise(v) { progress?(part, $0, epochs, $1) }
                curves.append(Curve(part: part, stage: "kl", objective: "D_KL(V | WH + eps) (warm-up)",
                                    values: result.warmUpObjective, stop: result.warmUpStop))
                curves.append(Curve(part: part, stage: "prior",
                                    objective: "D_KL(V | WH + eps) + sum_k sum_t [rate_k m_kt - shape_k log m_kt]",
                                    values: result.objective, stop: result.stop))
                activations.append(result.activations)
                return (result.basis, result.parameters.rates)
            }
            let (ws, rs) = try run(vs, rank: options.speechRank, seed: seeds.0, part: .speech)
            let (wn, rn) = try run(vn, rank: options.noiseRank, seed: seeds.1, part: .noise)
            speechBasis = ws
            noiseBasis = wn
            penalties = rs + rn
        case .anmf:
            func run(_ u: Matrix, _ adversarial: Matrix, rank: Int, seed: UInt64, part: Part) throws(NMFError) -> Matrix {
                let nmf = try AdversarialNMF(.init(rank: rank, epochs: epochs, batchSize: options.batchSize,
                                                   adversarialWeight: options.adversarialWeight, seed: seed,
                                                   tolerance: options.tolerance))
                let result = try nmf.fit(true: u, adversarial: adversarial) { progress?(part, $0, epochs, $1) }
                curves.append(Curve(part: part, stage: "anmf",
                                    objective: "(1/N)|U - WH|^2 - (tau/N^)|U^ - WH^|^2, tau = \(options.adversarialWeight)",
                                    values: result.objective, stop: result.stop))
                activations.append(result.activations)
                return result.basis
            }
            speechBasis = try run(vs, vn, rank: options.speechRank, seed: seeds.0, part: .speech)
            noiseBasis = try run(vn, vs, rank: options.noiseRank, seed: seeds.1, part: .noise)
        }
        let bins = vs.rows, ks = options.speechRank, kn = options.noiseRank, rank = ks + kn
        var values = [Float](repeating: 0, count: bins * rank)
        for (source, offset, count) in [(speechBasis, 0, ks), (noiseBasis, ks, kn)] {
            for k in 0..<count {
                var sum = 0.0
                for f in 0..<bins { sum += Double(source[f, k]) }
                let scale = sum > 0 && sum.isFinite ? 1 / sum : 1
                for f in 0..<bins { values[f * rank + offset + k] = Float(Double(source[f, k]) * scale) }
            }
        }
        do throws(EngineError) {
            let basis = try Basis(binCount: bins, speechRank: ks, noiseRank: kn, values: values, atomPenalties: penalties)
            return Result(basis: basis, curves: curves, speechActivations: activations[0], noiseActivations: activations[1])
        } catch { throw .engine(error) }
    }
}
