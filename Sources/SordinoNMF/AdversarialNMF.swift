// SPDX-License-Identifier: GPL-3.0-or-later
// Adversarially generated NMF (Ludvigsen & Grasmair): a basis that fits its own source and fits the other one badly.

import SordinoDSP

/// Adversarially generated NMF (ANMF; M. Ludvigsen and M. Grasmair, "Adversarially Generated NMF
/// for Single Channel Source Separation", 2023, arXiv:2305.01758). With true data U (bins × N,
/// e.g. speech frames) and adversarial data Û (bins × N̂, e.g. noise frames) it learns W ≥ 0 for
///
///     min_{W ≥ 0}  (1/N)·‖U − W·H(U, W)‖²_F − (τ_A/N̂)·‖Û − W·H(Û, W)‖²_F,
///     H(X, W) = argmin_{H ≥ 0} ‖X − W·H‖²_F            (the non-negative least-squares fit),
///
/// so W represents U well *and* represents Û poorly: a speech basis that cannot explain noise
/// leaves the noise to the noise basis, which is what a Wiener mask needs. τ_A = 0 is plain
/// Euclidean NMF (the original's `fit_std`).
///
/// **Updates** (the original's `fit_adv` with `update_H = False`, `normalize = True`). Per epoch:
/// 1. H ← H ⊙ (Wᵀ·U) / (WᵀW·H + ε) and Ĥ ← Ĥ ⊙ (Wᵀ·Û) / (WᵀW·Ĥ + ε): one multiplicative NNLS
///    step on all frames, warm-started, which tracks H(U, W) and H(Û, W) as W moves;
/// 2. the frames of U are shuffled and cut into mini-batches of B (the remainder waits for the next
///    shuffle); each batch b pairs with B frames of Û (taken cyclically from its own shuffle), its
///    H_b and Ĥ_b take one more NNLS step against the current W (the original's `update_H = True`;
///    without it the adversarial term diverges, see `BatchWorkspace.basisStep`), then W takes one
///    multiplicative step, from the gradient split of the objective into positive and negative parts:
///
///        W ← W ⊙ (W·Ĝ_b + A_b) / (W·G_b + Â_b + ε),
///        A_b = U_b·H_bᵀ/B,  G_b = H_b·H_bᵀ/B,  Â_b = τ_A·Û_b·Ĥ_bᵀ/B,  Ĝ_b = τ_A·Ĥ_b·Ĥ_bᵀ/B;
///    After each W step the atoms are put back to unit Euclidean norm *without* rescaling H (only the
///    change of shape is kept; the objective with H = H(·, W) is scale-free). This departs from the
///    original, which normalises once per epoch: on the corpus its steps let W·H run away (see
///    `BatchWorkspace.basisStep`);
/// 3. every atom is scaled to unit Euclidean norm, H and Ĥ rows by the inverse (W·H unchanged).
///
/// The original scales Û by √τ_A before fitting; since H(√τ·Û, W) = √τ·H(Û, W), that is the same
/// as weighting the adversarial products by τ_A, which is what is done here (Û is not copied).
/// The original's regularisers μ_W = μ_H = 10⁻⁶ are replaced by the shared `spectralEpsilon`.
/// Initialisation: W = B distinct frames of U drawn by the seed (exemplars), unit-norm; H and Ĥ by
/// `fitIterations` NNLS steps from a seeded uniform start (the original's `transform`).
///
/// The objective is not monotone (mini-batch steps on a difference of two fits); `fit` records
/// it per epoch. It is computed for free from the H step's products:
/// ‖U − W·H‖² = ‖U‖² − 2⟨Wᵀ·U, H⟩ + ⟨WᵀW·H, H⟩, in double precision.
///
/// Cost per epoch: bins·rank·(3N + N̂) multiply-adds for the H steps (GEMMs through OpenBLAS),
/// 2·bins·rank·N for the W steps, plus O(rank²·(N + N̂)); ≈ 0.3 s for 257 bins, rank 64,
/// 75 000 + 60 000 frames on one core. Memory: U and Û (given), H and Ĥ (rank × frames), W, and
/// O((bins + rank)·B + bins·rank) of batch scratch. Deterministic for a seed (one OpenBLAS build
/// and thread count). Allocates; offline only.
public struct AdversarialNMF: Sendable {
    public struct Options: Sendable, Hashable {
        /// Atoms K (columns of W).
        public var rank: Int
        /// Passes over U (each: one H step, then ⌊N/B⌋ mini-batch W steps, then normalisation).
        public var epochs: Int
        /// Frames per mini-batch B, of U and of Û alike; clamped to N.
        public var batchSize: Int
        /// τ_A ≥ 0, the weight of the adversarial term; 0 gives plain Euclidean NMF.
        public var adversarialWeight: Float
        /// NNLS steps of the initial fit of H and Ĥ (the original's `test_epochs`).
        public var fitIterations: Int
        public var seed: UInt64
        /// Stops before `epochs` once an epoch lowers the objective by less than this fraction of |J_0|
        /// (`StoppingRule`; the objective is not monotone, so a rise stops it too); nil: fixed work.
        public var tolerance: Double?

        public init(rank: Int, epochs: Int = 50, batchSize: Int = 1000, adversarialWeight: Float = 0.3,
                    fitIterations: Int = 50, seed: UInt64 = 0x534F_5244_494E_4F00, tolerance: Double? = nil) {
            self.tolerance = tolerance
            self.rank = rank
            self.epochs = epochs
            self.batchSize = batchSize
            self.adversarialWeight = adversarialWeight
            self.fitIterations = fitIterations
            self.seed = seed
        }
    }

    public struct Result: Sendable {
        /// W, bins × rank, unit Euclidean norm columns.
        public var basis: Matrix
        /// The ANMF objective (1/N)‖U − WH‖² − (τ_A/N̂)‖Û − WĤ‖² of the initial factors, then after each epoch.
        public var objective: [Double]
        /// Its two parts, (1/N)‖U − WH‖² and (1/N̂)‖Û − WĤ‖² (without τ_A), same indexing.
        public var trueFit: [Double]
        public var adversarialFit: [Double]
        /// H of the true data (rank × N) for the returned W, as the original returns it.
        public var activations: Matrix
        /// Why the run stopped.
        public var stop: StopReason
    }

    /// Called after each epoch with its number (1-based) and objective, on the caller's thread.
    public typealias Progress = (_ epoch: Int, _ objective: Double) -> Void

    public let options: Options

    public init(_ options: Options) throws(NMFError) {
        try NMFError.check(options.rank >= 1, "rank", options.rank, "at least 1 atom")
        try NMFError.check(options.epochs >= 0, "epochs", options.epochs, "0 or more")
        try NMFError.check(options.batchSize >= 1, "batch size", options.batchSize, "at least 1 frame")
        try NMFError.check(options.adversarialWeight.isFinite && options.adversarialWeight >= 0, "adversarial weight",
                  options.adversarialWeight, "a finite τ_A ≥ 0 (0.3 is the measured default)")
        try NMFError.check(options.fitIterations >= 1, "fit iterations", options.fitIterations, "at least 1")
        try StoppingRule(passes: options.epochs, tolerance: options.tolerance).check()
        self.options = options
    }

    /// Learns W for true data `u` and adversarial data `adversarial` (bins × frames each, same bins,
    /// finite, ≥ 0). Needs at least `rank` frames of U (the exemplars).
    public func fit(true u: Matrix, adversarial a: Matrix, progress: Progress? = nil) throws(NMFError) -> Result {
        try u.checkData()
        try a.checkData()
        guard u.rows == a.rows else {
            throw .shapeMismatch(what: "adversarial data", expected: "\(u.rows) bins like the true data", actual: "\(a.rows) bins")
        }
        guard u.columns >= options.rank else {
            throw .invalidOption(name: "rank", value: "\(options.rank)",
                                 allowed: "at most the \(u.columns) training frames (atoms start as distinct frames)")
        }
        let bins = u.rows, rank = options.rank, n = u.columns, m = a.columns
        let batch = min(options.batchSize, n), tau = options.adversarialWeight
        var generator = SplitMix64(seed: options.seed)

        // Exemplar initialisation: `rank` distinct frames of U, unit norm.
        var order = Array(0..<n)
        shuffle(&order, &generator)
        var w = Matrix(rows: bins, columns: rank)
        for k in 0..<rank { for f in 0..<bins { w[f, k] = max(u[f, order[k]], activationFloor) } }
        w.values.withUnsafeMutableBufferPointer { pw in
            _ = Self.normaliseColumns(pw.baseAddress!, bins: bins, rank: rank)
        }
        var h = Self.initialActivations(rank: rank, frames: n, data: u, basis: w, generator: &generator)
        var hAdversarial = Self.initialActivations(rank: rank, frames: m, data: a, basis: w, generator: &generator)
        for _ in 0..<options.fitIterations {
            _ = Self.activationStep(u, w, &h)
            _ = Self.activationStep(a, w, &hAdversarial)
        }

        let normU = Self.squaredNorm(u), normA = Self.squaredNorm(a)
        var objective: [Double] = [], trueFit: [Double] = [], adversarialFit: [Double] = []
        func record(_ fitU: Double, _ fitA: Double) {
            let t = (normU + fitU) / Double(n), s = (normA + fitA) / Double(m)
            trueFit.append(t)
            adversarialFit.append(s)
            objective.append(t - Double(tau) * s)
        }

        let workspace = BatchWorkspace(bins: bins, rank: rank, batch: batch)
        var adversarialOrder = Array(0..<m)
        let stopping = StoppingRule(passes: options.epochs, tolerance: options.tolerance)
        var stop = StopReason.passes(options.epochs)
        for epoch in 0...options.epochs {
            // H step on all frames; its products give the objective of the iterate it starts from.
            let fitU = Self.activationStep(u, w, &h)
            let fitA = Self.activationStep(a, w, &hAdversarial)
            record(fitU, fitA)
            if epoch > 0 { progress?(epoch, objective[epoch]) }
            guard objective[epoch].isFinite else { throw .diverged(pass: epoch, objective: objective[epoch]) }
            guard epoch < options.epochs else { break }
            if let reason = stopping.verdict(objective) { stop = reason; break }
            shuffle(&order, &generator)
            shuffle(&adversarialOrder, &generator)
            u.values.withUnsafeBufferPointer { pu in
                a.values.withUnsafeBufferPointer { pa in
                    h.values.withUnsafeMutableBufferPointer { ph in
                        hAdversarial.values.withUnsafeMutableBufferPointer { pha in
                            w.values.withUnsafeMutableBufferPointer { pw in
                                for b in 0..<(n / batch) {
                                    workspace.basisStep(pw.baseAddress!, u: pu.baseAddress!, h: ph.baseAddress!,
                                                        frames: n, ids: order, from: b * batch,
                                                        a: pa.baseAddress!, ha: pha.baseAddress!,
                                                        adversarialFrames: m, adversarialIds: adversarialOrder,
                                                        tau: tau)
                                }
                            }
                        }
                    }
                }
            }
            // Unit-norm atoms (W already is, after every step: this settles rounding); H and Ĥ absorb
            // the norms, so W·H is unchanged.
            let norms = w.values.withUnsafeMutableBufferPointer { pw in
                Self.normaliseColumns(pw.baseAddress!, bins: bins, rank: rank)
            }
            for k in 0..<rank {
                for t in 0..<n { h.values[k * n + t] *= norms[k] }
                for t in 0..<m { hAdversarial.values[k * m + t] *= norms[k] }
            }
        }
        return Result(basis: w, objective: objective, trueFit: trueFit, adversarialFit: adversarialFit,
                      activations: h, stop: stop)
    }

    /// H(X, W) by `iterations` multiplicative NNLS steps from a seeded start (the original's
    /// `transform`), for measuring how well a basis explains data. Cost: iterations × (2·bins + rank) × rank × frames.
    public static func fitActivations(of x: Matrix, basis w: Matrix, iterations: Int, seed: UInt64 = 1) -> Matrix {
        var generator = SplitMix64(seed: seed)
        var h = initialActivations(rank: w.columns, frames: x.columns, data: x, basis: w, generator: &generator)
        for _ in 0..<max(iterations, 0) { _ = activationStep(x, w, &h) }
        return h
    }

    /// (1/frames)·‖X − W·H‖²_F in double precision.
    public static func meanSquaredResidual(_ x: Matrix, basis w: Matrix, activations h: Matrix) -> Double {
        let model = w * h
        var total = 0.0
        for i in x.values.indices {
            let d = Double(x.values[i]) - Double(model.values[i])
            total += d * d
        }
        return total / Double(max(x.columns, 1))
    }

    // MARK: - Steps

    /// Uniform [0.5, 1.5) activations scaled so mean(W·H) ≈ mean(X).
    static func initialActivations(rank: Int, frames: Int, data x: Matrix, basis w: Matrix,
                                   generator: inout SplitMix64) -> Matrix {
        var dataSum = 0.0, basisSum = 0.0
        for v in x.values { dataSum += Double(v) }
        for v in w.values { basisSum += Double(v) }
        let scale = Float(dataSum / max(Double(frames) * basisSum, Double(spectralEpsilon)))
        var h = Matrix(rows: rank, columns: frames)
        for i in h.values.indices { h.values[i] = (0.5 + generator.nextUnitFloat()) * max(scale, activationFloor) }
        return h
    }

    /// One NNLS step H ← H ⊙ WᵀX / (WᵀW·H + ε) over all frames in chunks of `BetaNMF.chunkFrames`.
    /// Returns −2⟨WᵀX, H⟩ + ⟨WᵀW·H, H⟩ of the H it started from, so ‖X − WH‖² = ‖X‖² + that.
    static func activationStep(_ x: Matrix, _ w: Matrix, _ h: inout Matrix) -> Double {
        let bins = x.rows, frames = x.columns, rank = w.columns
        let chunk = min(BetaNMF.chunkFrames, frames)
        let gram = UnsafeMutablePointer<Float>.allocate(capacity: rank * rank)
        let numerator = UnsafeMutablePointer<Float>.allocate(capacity: rank * chunk)
        let denominator = UnsafeMutablePointer<Float>.allocate(capacity: rank * chunk)
        defer { gram.deallocate(); numerator.deallocate(); denominator.deallocate() }
        var fit = 0.0
        x.values.withUnsafeBufferPointer { px in
            w.values.withUnsafeBufferPointer { pw in
                h.values.withUnsafeMutableBufferPointer { ph in
                    let px = px.baseAddress!, pw = pw.baseAddress!, ph = ph.baseAddress!
                    gemm(true, false, m: rank, n: rank, k: bins, alpha: 1, pw, lda: rank, pw, ldb: rank,
                         beta: 0, gram, ldc: rank)
                    var t0 = 0
                    while t0 < frames {
                        let c = min(chunk, frames - t0)
                        gemm(true, false, m: rank, n: c, k: bins, alpha: 1, pw, lda: rank, px + t0, ldb: frames,
                             beta: 0, numerator, ldc: c)
                        gemm(false, false, m: rank, n: c, k: rank, alpha: 1, gram, lda: rank, ph + t0, ldb: frames,
                             beta: 0, denominator, ldc: c)
                        for k in 0..<rank {
                            let row = ph + k * frames + t0, num = numerator + k * c, den = denominator + k * c
                            var part = 0.0
                            for j in 0..<c {
                                let value = row[j]
                                part += Double(value) * (Double(den[j]) - 2 * Double(num[j]))
                                row[j] = BetaUpdate.floored(value * num[j] / (den[j] + spectralEpsilon), activationFloor)
                            }
                            fit += part
                        }
                        t0 += c
                    }
                }
            }
        }
        return fit
    }

    /// Scales each column of W (bins × rank) to unit Euclidean norm; returns the norms (1 for a zero column).
    static func normaliseColumns(_ w: UnsafeMutablePointer<Float>, bins: Int, rank: Int) -> [Float] {
        var norms = [Float](repeating: 1, count: rank)
        for k in 0..<rank {
            var sum = 0.0
            for f in 0..<bins { sum += Double(w[f * rank + k]) * Double(w[f * rank + k]) }
            let norm = sum.squareRoot()
            guard norm > 0, norm.isFinite else { continue }
            for f in 0..<bins { w[f * rank + k] = Float(Double(w[f * rank + k]) / norm) }
            norms[k] = Float(norm)
        }
        return norms
    }

    static func squaredNorm(_ x: Matrix) -> Double {
        var total = 0.0
        for v in x.values { total += Double(v) * Double(v) }
        return total
    }
}

/// Fisher–Yates shuffle driven by the seeded generator (the mapping seed → order is fixed here).
func shuffle(_ values: inout [Int], _ generator: inout SplitMix64) {
    guard values.count > 1 else { return }
    for i in stride(from: values.count - 1, to: 0, by: -1) {
        let j = Int(generator.next() % UInt64(i + 1))
        values.swapAt(i, j)
    }
}

/// Scratch of ANMF's mini-batch W step: gathered frames and activations, and the four products.
final class BatchWorkspace {
    let bins: Int, rank: Int, batch: Int
    /// Owns every buffer below.
    private let arena: FloatArena
    let data, activations, adversarialData, adversarialActivations: UnsafeMutablePointer<Float>
    let numerator, denominator, gram, adversarialGram: UnsafeMutablePointer<Float>
    let basisGram, activationNumerator, activationDenominator: UnsafeMutablePointer<Float>

    init(bins: Int, rank: Int, batch: Int) {
        self.bins = bins
        self.rank = rank
        self.batch = batch
        let total = 2 * bins * batch + 4 * rank * batch + 2 * bins * rank + 3 * rank * rank
        var arena = FloatArena(capacity: total)
        data = arena.take(bins * batch)
        adversarialData = arena.take(bins * batch)
        activations = arena.take(rank * batch)
        adversarialActivations = arena.take(rank * batch)
        numerator = arena.take(bins * rank)
        denominator = arena.take(bins * rank)
        gram = arena.take(rank * rank)
        adversarialGram = arena.take(rank * rank)
        basisGram = arena.take(rank * rank)
        activationNumerator = arena.take(rank * batch)
        activationDenominator = arena.take(rank * batch)
        self.arena = arena
    }

    /// X_b's activations H_b ← H_b ⊙ WᵀX_b / (WᵀW·H_b + ε), with WᵀW in `basisGram`.
    private func activationStep(_ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ hb: UnsafeMutablePointer<Float>) {
        gemm(true, false, m: rank, n: batch, k: bins, alpha: 1, w, lda: rank, x, ldb: batch,
             beta: 0, activationNumerator, ldc: batch)
        gemm(false, false, m: rank, n: batch, k: rank, alpha: 1, basisGram, lda: rank, hb, ldb: batch,
             beta: 0, activationDenominator, ldc: batch)
        for i in 0..<(rank * batch) {
            hb[i] = BetaUpdate.floored(hb[i] * activationNumerator[i] / (activationDenominator[i] + spectralEpsilon),
                                       activationFloor)
        }
    }

    /// One mini-batch W step: frames ids[from ..< from + B] of U (with H) and ids'[(from …) mod N̂] of Û (with Ĥ).
    func basisStep(_ w: UnsafeMutablePointer<Float>, u: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>, frames n: Int,
                   ids: [Int], from start: Int, a: UnsafePointer<Float>, ha: UnsafeMutablePointer<Float>,
                   adversarialFrames m: Int, adversarialIds: [Int], tau: Float) {
        let b = batch
        for j in 0..<b {
            let t = ids[start + j], s = adversarialIds[(start + j) % m]
            for f in 0..<bins {
                data[f * b + j] = u[f * n + t]
                adversarialData[f * b + j] = a[f * m + s]
            }
            for k in 0..<rank {
                activations[k * b + j] = h[k * n + t]
                adversarialActivations[k * b + j] = ha[k * m + s]
            }
        }
        // The batch's activations first take one NNLS step against the current W (the original's
        // `update_H = True`), so they follow W's scale: with Ĥ held fixed over a whole epoch the
        // adversarial term rewards growing W without bound (measured on the corpus: overflow
        // within 3 epochs at τ_A = 0.3), since −τ‖Û − W·Ĥ‖² falls as W·Ĥ grows past Û.
        gemm(true, false, m: rank, n: rank, k: bins, alpha: 1, w, lda: rank, w, ldb: rank, beta: 0, basisGram, ldc: rank)
        activationStep(w, data, activations)
        activationStep(w, adversarialData, adversarialActivations)
        for j in 0..<b {
            let t = ids[start + j], s = adversarialIds[(start + j) % m]
            for k in 0..<rank {
                h[k * n + t] = activations[k * b + j]
                ha[k * m + s] = adversarialActivations[k * b + j]
            }
        }
        let scale = 1 / Float(b), adversarialScale = tau / Float(b)
        // numerator = U_b·H_bᵀ/B + W·(τ·Ĥ_b·Ĥ_bᵀ/B); denominator = τ·Û_b·Ĥ_bᵀ/B + W·(H_b·H_bᵀ/B).
        gemm(false, true, m: bins, n: rank, k: b, alpha: scale, data, lda: b, activations, ldb: b,
             beta: 0, numerator, ldc: rank)
        gemm(false, true, m: rank, n: rank, k: b, alpha: scale, activations, lda: b, activations, ldb: b,
             beta: 0, gram, ldc: rank)
        gemm(false, true, m: bins, n: rank, k: b, alpha: adversarialScale, adversarialData, lda: b,
             adversarialActivations, ldb: b, beta: 0, denominator, ldc: rank)
        gemm(false, true, m: rank, n: rank, k: b, alpha: adversarialScale, adversarialActivations, lda: b,
             adversarialActivations, ldb: b, beta: 0, adversarialGram, ldc: rank)
        if tau > 0 {
            gemm(false, false, m: bins, n: rank, k: rank, alpha: 1, w, lda: rank, adversarialGram, ldb: rank,
                 beta: 1, numerator, ldc: rank)
        }
        gemm(false, false, m: bins, n: rank, k: rank, alpha: 1, w, lda: rank, gram, ldb: rank,
             beta: 1, denominator, ldc: rank)
        for i in 0..<(bins * rank) {
            w[i] = BetaUpdate.floored(w[i] * numerator[i] / (denominator[i] + spectralEpsilon), activationFloor)
        }
        // Back to unit-norm atoms after every step, H left as it is: the objective with H = H(·, W)
        // does not depend on the atoms' scale, so only the step's change of shape is kept, and the
        // NNLS steps refit H. Measured on the corpus (speech basis, τ_A = 0.3): without this, or with
        // H rescaled to keep W·H, W·H runs away within an epoch (objective 10⁴…10⁶, or overflow).
        _ = AdversarialNMF.normaliseColumns(w, bins: bins, rank: rank)
    }
}
