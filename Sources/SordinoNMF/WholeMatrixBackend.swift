// SPDX-License-Identifier: GPL-3.0-or-later
// The whole-matrix β-NMF back-end of `Decomposer`: W step then H step on all frames at once.

import SordinoDSP

/// `Decomposer`'s back-end: one pass is a W step (when learning it) then an H step, each on the
/// whole bins × frames matrix (scikit-learn's order), by `UpdateRule` around two or three GEMMs.
/// Scratch: three bins × frames matrices plus the products (`Scratch`). Works on the caller's V,
/// W and H in place; the pointers must outlive it.
struct WholeMatrixBackend: ExtrapolatableBackend {
    let basis: UnsafeMutablePointer<Float>
    let activations: UnsafeMutablePointer<Float>
    let bins: Int, frames: Int, rank: Int
    let learnBasis: Bool
    let rule: UpdateRule
    let weights: Weights
    let scratch: Scratch

    /// V (bins × frames), V^β (general β only, else nil), W and H.
    init(data v: UnsafePointer<Float>, dataPowBeta: UnsafePointer<Float>?, basis: UnsafeMutablePointer<Float>,
         activations: UnsafeMutablePointer<Float>, bins: Int, frames: Int, rank: Int, rule: UpdateRule,
         learnBasis: Bool) {
        self.basis = basis
        self.activations = activations
        self.bins = bins
        self.frames = frames
        self.rank = rank
        self.rule = rule
        self.learnBasis = learnBasis
        scratch = Scratch(bins: bins, frames: frames, rank: rank)
        weights = Weights(rule: rule, v: v, vPowBeta: dataPowBeta, count: bins * frames, scratch: scratch)
    }

    /// Λ = W·H of the current iterate and the weights of its first step; its objective if asked.
    func prepare(measure: Bool) -> Double {
        gemm(false, false, m: bins, n: frames, k: rank, alpha: 1, basis, lda: rank, activations, ldb: frames,
             beta: 0, scratch.model, ldc: frames)
        return weights.compute(objective: measure)
    }

    /// F: one update pass from the weights `prepare` left for the current iterate.
    func update() {
        if learnBasis {
            basisStep()
            _ = prepare(measure: false)
        }
        activationStep()
    }

    /// W ← W ⊙ factor((P·Hᵀ) / (Q·Hᵀ + ε)), with Q·Hᵀ = 1·Hᵀ (row sums of H) for β = 1.
    private func basisStep() {
        let pw = basis, ph = UnsafePointer(activations), s = scratch
        gemm(false, true, m: bins, n: rank, k: frames, alpha: 1, weights.numerator, lda: frames, ph, ldb: frames,
             beta: 0, s.basisNumerator, ldc: rank)
        if rule.denominatorIsOne {
            for k in 0..<rank {
                var sum: Float = 0
                for t in 0..<frames { sum += ph[k * frames + t] }
                for f in 0..<bins { s.basisDenominator[f * rank + k] = sum }
            }
        } else {
            gemm(false, true, m: bins, n: rank, k: frames, alpha: 1, weights.denominator, lda: frames, ph, ldb: frames,
                 beta: 0, s.basisDenominator, ldc: rank)
        }
        rule.step(pw, numerator: s.basisNumerator, denominator: s.basisDenominator, penalty: 0, count: bins * rank)
    }

    /// H ← H ⊙ factor((Wᵀ·P) / (Wᵀ·Q + ε)), with Wᵀ·1 (column sums of W) for β = 1.
    private func activationStep() {
        let pw = UnsafePointer(basis), ph = activations, s = scratch
        gemm(true, false, m: rank, n: frames, k: bins, alpha: 1, pw, lda: rank, weights.numerator, ldb: frames,
             beta: 0, s.activationNumerator, ldc: frames)
        if rule.denominatorIsOne {
            for k in 0..<rank {
                var sum: Float = 0
                for f in 0..<bins { sum += pw[f * rank + k] }
                for t in 0..<frames { s.activationDenominator[k * frames + t] = sum }
            }
        } else {
            gemm(true, false, m: rank, n: frames, k: bins, alpha: 1, pw, lda: rank, weights.denominator, ldb: frames,
                 beta: 0, s.activationDenominator, ldc: frames)
        }
        rule.step(ph, numerator: s.activationNumerator, denominator: s.activationDenominator, penalty: 0,
                  count: rank * frames)
    }
}

// MARK: - Scratch

/// Scratch matrices of one run; freed when the run ends.
final class Scratch {
    /// W·H + ε after `Weights.compute`, bins × frames.
    let model: UnsafeMutablePointer<Float>
    let numeratorWeights: UnsafeMutablePointer<Float>
    let denominatorWeights: UnsafeMutablePointer<Float>
    let basisNumerator: UnsafeMutablePointer<Float>, basisDenominator: UnsafeMutablePointer<Float>
    let activationNumerator: UnsafeMutablePointer<Float>, activationDenominator: UnsafeMutablePointer<Float>
    /// Owns every buffer below.
    private let arena: FloatArena

    init(bins: Int, frames: Int, rank: Int) {
        let block = bins * frames, total = 3 * block + 2 * bins * rank + 2 * rank * frames
        var arena = FloatArena(capacity: total)
        model = arena.take(block)
        numeratorWeights = arena.take(block)
        denominatorWeights = arena.take(block)
        basisNumerator = arena.take(bins * rank)
        basisDenominator = arena.take(bins * rank)
        activationNumerator = arena.take(rank * frames)
        activationDenominator = arena.take(rank * frames)
        self.arena = arena
    }
}

/// P and Q of the current iterate for the steps: P is V itself and Q is Λ for β = 2 (no copies).
struct Weights {
    let rule: UpdateRule
    let v: UnsafePointer<Float>
    let vPowBeta: UnsafePointer<Float>?
    let count: Int
    let model: UnsafeMutablePointer<Float>
    let p: UnsafeMutablePointer<Float>
    let q: UnsafeMutablePointer<Float>

    init(rule: UpdateRule, v: UnsafePointer<Float>, vPowBeta: UnsafePointer<Float>?, count: Int, scratch: Scratch) {
        self.rule = rule
        self.v = v
        self.vPowBeta = vPowBeta
        self.count = count
        model = scratch.model
        p = scratch.numeratorWeights
        q = scratch.denominatorWeights
    }

    var numerator: UnsafePointer<Float> { rule.numeratorIsData ? v : UnsafePointer(p) }
    var denominator: UnsafePointer<Float> { rule.numeratorIsData ? UnsafePointer(model) : UnsafePointer(q) }

    /// `UpdateRule.weigh` over the whole matrix; returns the objective when asked (else 0).
    func compute(objective wanted: Bool) -> Double {
        rule.weigh(data: v, dataPowBeta: vPowBeta, model: model, numeratorWeights: p, denominatorWeights: q,
                   count: count, objective: wanted)
    }
}
