// SPDX-License-Identifier: GPL-3.0-or-later
// β-NMF for `sordino decompose`: MU, MM or ME updates of W then H, with the objective and time per iteration.

import RealModule
import SordinoDSP

/// Settings of one `Decomposer` run.
public struct DecompositionOptions: Sendable, Hashable {
    /// β of the divergence, any finite real: 0 Itakura–Saito, 1 Kullback–Leibler, 2 Euclidean.
    public var beta: BetaDivergence
    public var algorithm: UpdateAlgorithm
    /// Update passes (each a W step, when learning it, then an H step; with `.squarem` three make a
    /// cycle); the cap when `tolerance` is set.
    public var iterations: Int
    /// Stops before `iterations` once a pass lowers the objective by less than this fraction of the
    /// initial one (`StoppingRule`); nil: fixed work.
    public var tolerance: Double?
    /// c in the Itakura–Saito objective D_IS(V^c | (WH)^c) (β = 0 only, c > 0; 1 elsewhere). With
    /// V = |X|^p and c = 2/p the model (WH)^(2/p) approximates the power spectrogram: `--domain p`.
    public var compression: Double
    /// false: W stays as given and only H is solved (`--basis`, the live engine's solve offline).
    public var updateBasis: Bool
    /// θ ∈ (0, 1] of `.me`: the step goes to x_MM + θ·(x_ME − x_MM). Any θ keeps the objective
    /// non-increasing (the auxiliary function is convex in x and x_ME is at the level of the start).
    /// nil: 0.95 for β_eff ≥ 1 and 1 below. Measured on 2 s of the bundled noisy speech (257 bins,
    /// rank 8, iterations to reach MU's 200-iteration objective): β = 1: θ = 1 never (ME's full
    /// reflections drive entries to the floor and they stay there), θ = 0.95 in 63; β = 2: never vs
    /// 101; β = 0.5: 131 (θ = 1) vs 137; β = 3: 189 vs 194; β = 0 (ME = MU): 200 vs never (before
    /// the m² bound of `UpdateRule.factor` at β ≥ 2; with it, θ = 0.95: β = 2: 94, β = 3: 194; on
    /// 30 s at 44.1 kHz, β = 2: θ = 1: 75, 0.95: 71, 0.9: 74).
    public var relaxation: Float?
    /// `.squarem` extrapolates over the passes of `.mm` or `.me` (not `.mu`, whose passes need not
    /// descend); `iterations` still counts passes, so runs with and without it do the same work.
    /// Measured on 30 s of 44.1 kHz speech in noise (mono, 1025 bins × 2587 frames, rank 8, seed 1,
    /// one core): passes and seconds to reach MU's objective after 200 iterations (MU's time for 200):
    ///
    ///     β (domain)   MU 200   MM            ME            MM + SQUAREM       ME + SQUAREM
    ///     0 (p = 2)    1.7 s    never         200, 1.7 s    never (1.015×)     96, 0.9 s
    ///     1            1.2 s    200, 1.2 s    40, 0.8 s     87, 0.6 s          40, 0.8 s
    ///     2            0.9 s    200, 0.9 s    71, 0.35 s    102, 0.5 s         73, 0.4 s
    ///
    /// (ME at β = 2 was "never (1.008×)" with and without SQUAREM before the m² bound of
    /// `UpdateRule.factor`. β = 0: ME is MU; MM + SQUAREM stays at 1.0135× even after 400 passes,
    /// and a larger initial step bound (s_max 4 or 16), mstep 16, or s = 2‖r‖/‖v‖ or 4‖r‖/‖v‖ left it
    /// at 1.012–1.023× after 200; plain MM sits near 1.013× from about pass 350 to 650, then falls to
    /// 1.0078× by 800: a plateau, not a minimum. β = 0 with p = 1, where MU diverges: MM's 200-pass
    /// objective in 3.6 s is reached by MM + SQUAREM in 75 passes, 1.5 s, by ME in 59 and by
    /// ME + SQUAREM in 43, 0.8 s.)
    public var acceleration: Acceleration

    public init(beta: BetaDivergence = 1, algorithm: UpdateAlgorithm = .mu, iterations: Int = 200,
                compression: Double = 1, updateBasis: Bool = true, acceleration: Acceleration = .none) {
        self.beta = beta
        self.algorithm = algorithm
        self.iterations = iterations
        self.compression = compression
        self.updateBasis = updateBasis
        self.acceleration = acceleration
    }
}

/// W, H and the learning curve of a `Decomposer` run.
public struct DecompositionResult: Sendable {
    /// W, bins × rank.
    public var basis: Matrix
    /// H, rank × frames.
    public var activations: Matrix
    /// The objective of the initial factors, then of the iterate held after each pass: `iterations + 1`
    /// values, non-increasing for `.mm` and `.me`. With `.squarem` the first two passes of a cycle give
    /// the plain iterates θ₁, θ₂ and the third the one the safeguard keeps (θ'' or θ₂ again); the last
    /// value is always the objective of the returned W and H.
    public var objective: [Double]
    /// Wall-clock seconds from the start until each entry of `objective` was reached (0 first).
    public var elapsedSeconds: [Double]
    /// Why the run stopped.
    public var stop: StopReason
}

/// NMF V ≈ W·H minimising D_β(V | W·H + ε) (for β = 0 with compression c: D_IS(V^c | (WH + ε)^c))
/// by the updates of `UpdateAlgorithm`, W first then H in each iteration (scikit-learn's order, so
/// its 'mu' solver is reproduced from the same initial factors). Whole matrices, no chunks: memory
/// is V plus three bins × frames scratch matrices (≈ 32 MB for 1025 × 2600). Per iteration: 4 GEMMs
/// of bins × frames × rank multiply-adds for β = 1, 6 otherwise (through cblas_sgemm), and two
/// element-wise passes; the objective comes free with the first pass (a SIMD logarithm for β ∈
/// {0, 1}, `pow` for other β). Entries are floored at `activationFloor` after every step. No atom
/// normalisation during the run (the updates are scale-equivariant, so it would not change W·H).
/// `.squarem` (`Acceleration`) adds per cycle of three passes one weight pass without update, one
/// more when the safeguard rejects, and 4 `log`/`exp` calls per entry of W and H.
/// Deterministic for given inputs and OpenBLAS thread count. Allocates; offline only.
public struct Decomposer: Sendable {
    public let options: DecompositionOptions

    public init(_ options: DecompositionOptions) throws(NMFError) {
        try NMFError.check(options.beta.beta.isFinite, "beta", options.beta.beta, "a finite real (0 IS, 1 KL, 2 Euclidean)")
        try NMFError.check(options.iterations >= 0, "iterations", options.iterations, "0 or more")
        try StoppingRule(passes: options.iterations, tolerance: options.tolerance).check()
        try NMFError.check(options.compression.isFinite && options.compression > 0, "compression", options.compression,
                           "a finite c > 0")
        if let theta = options.relaxation {
            try NMFError.check(theta > 0 && theta <= 1, "me-relaxation", theta, "θ in (0, 1]")
        }
        try NMFError.check(options.acceleration != .squarem || options.algorithm != .mu, "acceleration",
                           "squarem with algorithm mu", "algorithm mm or me (monotone passes; mm equals mu for β in [1, 2])")
        try NMFError.check(options.compression == 1 || options.beta == 0, "domain", "2/\(options.compression)",
                           "the default with β ≠ 0 (the power-domain model is Itakura–Saito only)")
        self.options = options
    }

    /// β whose auxiliary-function shape the MM and ME steps use (`UpdateRule.effectiveBeta`).
    var effectiveBeta: Double { options.beta == 0 ? 1 - options.compression : options.beta.beta }

    /// Runs `options.iterations` iterations from W₀ (bins × rank) and H₀ (rank × frames), both > 0.
    public func run(_ v: Matrix, basis w0: Matrix, activations h0: Matrix,
                    progress: ((_ iteration: Int, _ objective: Double) -> Void)? = nil) throws(NMFError) -> DecompositionResult {
        try v.checkData()
        let rank = w0.columns
        try NMFError.check(rank >= 1, "rank", rank, "at least 1 atom")
        try w0.checkFactor("basis", rows: v.rows, columns: rank)
        try h0.checkFactor("activations", rows: rank, columns: v.columns)
        var w = w0, h = h0
        let rule = UpdateRule(algorithm: options.algorithm, beta: options.beta.beta, compression: options.compression,
                              relaxation: options.relaxation ?? (effectiveBeta >= 1 ? 0.95 : 1))
        let vPowBeta: [Float] = rule.weighting == .general ? v.values.map { Float.pow($0, Float(options.beta.beta)) } : []
        let bins = v.rows, frames = v.columns
        let driver = FactorisationDriver(StoppingRule(passes: options.iterations, tolerance: options.tolerance),
                                         progress: progress)
        var outcome: Result<LearningCurve, NMFError> = .success(LearningCurve())
        v.values.withUnsafeBufferPointer { vb in
            vPowBeta.withUnsafeBufferPointer { vpb in
                w.values.withUnsafeMutableBufferPointer { wb in
                    h.values.withUnsafeMutableBufferPointer { hb in
                        guard let pv = vb.baseAddress, let pw = wb.baseAddress, let ph = hb.baseAddress else { return }
                        var backend = WholeMatrixBackend(data: pv, dataPowBeta: vpb.baseAddress, basis: pw, activations: ph,
                                                         bins: bins, frames: frames, rank: rank, rule: rule,
                                                         learnBasis: options.updateBasis)
                        outcome = Result { () throws(NMFError) in
                            guard options.acceleration == .squarem else { return try driver.run(&backend) }
                            let cycle = SquaremCycle(basisCount: bins * rank, activationCount: rank * frames)
                            return try driver.runAccelerated(&backend, cycle: cycle)
                        }
                    }
                }
            }
        }
        let curve = try outcome.get()
        return DecompositionResult(basis: w, activations: h, objective: curve.objective,
                                   elapsedSeconds: curve.elapsedSeconds, stop: curve.stop)
    }
}
