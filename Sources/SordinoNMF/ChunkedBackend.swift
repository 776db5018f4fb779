// SPDX-License-Identifier: GPL-3.0-or-later
// The chunked β-NMF back-end of `BetaNMF`: H step then W step over chunks of frames, scratch O(bins × chunk).

import SordinoDSP

/// `BetaNMF`'s back-end (training and fixed-basis solves). A sweep computes, chunk by chunk,
/// Λ = W·H (the objective of the current iterate, free), the H step, and for W the sums P·Hᵀ and
/// Q·Hᵀ with the new H; then W is updated once and its atoms normalised. The H step is two GEMMs
/// around `UpdateRule` (`.blas`) or the live engine's `ActivationSolver` (`.engineSolver`, rebuilt
/// from W each sweep). The objective is Σ d_β in double precision with `BetaDivergence.value`
/// plus λ·ΣH. Works on the caller's V, W and H in place; the pointers must outlive it.
struct ChunkedBackend: FactorisationBackend {
    let v: UnsafePointer<Float>, w: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>
    let bins: Int, frames: Int, rank: Int
    let divergence: BetaDivergence
    let rule: UpdateRule
    let lambda: Float
    let normalisation: AtomNormalisation
    let kernel: ActivationKernel
    let learnBasis: Bool
    let ws: Workspace

    init(data v: UnsafePointer<Float>, basis w: UnsafeMutablePointer<Float>, activations h: UnsafeMutablePointer<Float>,
         bins: Int, frames: Int, rank: Int, options: BetaNMF.Options, kernel: ActivationKernel, learnBasis: Bool) {
        self.v = v
        self.w = w
        self.h = h
        self.bins = bins
        self.frames = frames
        self.rank = rank
        divergence = options.beta
        rule = UpdateRule(beta: options.beta.beta)
        lambda = options.sparsity
        normalisation = options.atomNormalisation.resolved(beta: options.beta, sparsity: options.sparsity)
        self.kernel = kernel
        self.learnBasis = learnBasis
        ws = Workspace(bins: bins, rank: rank, chunk: min(BetaNMF.chunkFrames, frames),
                       solverBinStride: kernel == .engineSolver ? paddedToLanes(bins) : 0)
    }

    func sweep(update updating: Bool) throws(NMFError) -> Double {
        let pv = v, pw = w, ph = h
        var solver: SolverBox?
        if updating && kernel == .engineSolver {
            do throws(EngineError) {
                let split = BetaNMF.solverSplit(rank: rank)
                let basis = try Basis(binCount: bins, speechRank: split.0, noiseRank: split.1,
                                      values: Array(UnsafeBufferPointer(start: pw, count: bins * rank)))
                solver = SolverBox(try ActivationSolver(basis: basis, beta: divergence, sparsity: lambda))
            } catch { throw .engine(error) }
        }
        if updating && rule.denominatorIsOne {         // Σ_f W[f,k], the KL H denominator
            for k in 0..<rank { ws.atomSums[k] = 0 }
            for f in 0..<bins { for k in 0..<rank { ws.atomSums[k] += pw[f * rank + k] } }
            for k in 0..<rank { ws.activationSums[k] = 0 }
        }
        var objective = 0.0
        var t0 = 0
        while t0 < frames {
            let c = min(ws.chunk, frames - t0)
            let vc = pv + t0, hc = ph + t0
            // Λ = W·H_c: objective of the current iterate, and the H step's model.
            gemm(false, false, m: bins, n: c, k: rank, alpha: 1, pw, lda: rank, hc, ldb: frames,
                 beta: 0, ws.model, ldc: c)
            objective += Self.objective(divergence, vc, ldv: frames, ws.model, bins: bins, count: c)
            if lambda > 0 {
                var sum = 0.0
                for k in 0..<rank { for j in 0..<c { sum += Double(hc[k * frames + j]) } }
                objective += Double(lambda) * sum
            }
            if updating {
                if let solver {
                    solver.step(vc, hc, ldv: frames, bins: bins, rank: rank, count: c, workspace: ws)
                } else {
                    blasActivationStep(rule, vc, hc, pw, bins: bins, rank: rank, frames: frames,
                                       count: c, lambda: lambda, ws)
                }
                if learnBasis {
                    accumulateBasisStep(rule, vc, hc, pw, bins: bins, rank: rank, frames: frames,
                                        count: c, first: t0 == 0, ws)
                }
            }
            t0 += c
        }
        if updating && learnBasis {
            for f in 0..<bins {
                if rule.denominatorIsOne {
                    rule.step(pw + f * rank, numerator: ws.basisNumerator + f * rank,
                              denominator: ws.activationSums, penalty: 0, count: rank)
                } else {
                    rule.step(pw + f * rank, numerator: ws.basisNumerator + f * rank,
                              denominator: ws.basisDenominator + f * rank, penalty: 0, count: rank)
                }
            }
            normalise(pw, ph, bins: bins, rank: rank, frames: frames, normalisation)
        }
        return objective
    }

    /// H_c step with GEMMs: P, Q from Λ in `model`; num = Wᵀ·P, den = Wᵀ·Q (Σ_f W for β = 1); then the rule.
    private func blasActivationStep(_ rule: UpdateRule, _ vc: UnsafePointer<Float>,
                                    _ hc: UnsafeMutablePointer<Float>, _ pw: UnsafePointer<Float>,
                                    bins: Int, rank: Int, frames: Int, count c: Int, lambda: Float,
                                    _ ws: Workspace) {
        let (p, ldp, q) = weigh(rule, vc, frames: frames, bins: bins, count: c, ws)
        gemm(true, false, m: rank, n: c, k: bins, alpha: 1, pw, lda: rank, p, ldb: ldp,
             beta: 0, ws.activationNumerator, ldc: c)
        if rule.denominatorIsOne {
            for k in 0..<rank {
                rule.step(hc + k * frames, numerator: ws.activationNumerator + k * c,
                          denominator: ws.atomSums[k], penalty: lambda, count: c)
            }
        } else {
            gemm(true, false, m: rank, n: c, k: bins, alpha: 1, pw, lda: rank, q, ldb: c,
                 beta: 0, ws.activationDenominator, ldc: c)
            for k in 0..<rank {
                rule.step(hc + k * frames, numerator: ws.activationNumerator + k * c,
                          denominator: ws.activationDenominator + k * c, penalty: lambda, count: c)
            }
        }
    }

    /// Adds this chunk's share of the W step: num += P·H_cᵀ, den += Q·H_cᵀ (or Σ_t H for β = 1),
    /// with P, Q from the model of the updated H_c.
    private func accumulateBasisStep(_ rule: UpdateRule, _ vc: UnsafePointer<Float>,
                                     _ hc: UnsafePointer<Float>, _ pw: UnsafePointer<Float>,
                                     bins: Int, rank: Int, frames: Int, count c: Int, first: Bool,
                                     _ ws: Workspace) {
        gemm(false, false, m: bins, n: c, k: rank, alpha: 1, pw, lda: rank, hc, ldb: frames,
             beta: 0, ws.model, ldc: c)
        let (p, ldp, q) = weigh(rule, vc, frames: frames, bins: bins, count: c, ws)
        let accumulate: Float = first ? 0 : 1
        gemm(false, true, m: bins, n: rank, k: c, alpha: 1, p, lda: ldp, hc, ldb: frames,
             beta: accumulate, ws.basisNumerator, ldc: rank)
        if rule.denominatorIsOne {
            for k in 0..<rank {
                var sum: Float = 0
                for j in 0..<c { sum += hc[k * frames + j] }
                ws.activationSums[k] += sum
            }
        } else {
            gemm(false, true, m: bins, n: rank, k: c, alpha: 1, q, lda: c, hc, ldb: frames,
                 beta: accumulate, ws.basisDenominator, ldc: rank)
        }
    }

    /// `rule.weigh` row by row on the chunk (Λ in `ws.model`, bins × c); returns P with its row
    /// stride, and Q (stride c): V itself and Λ for β = 2.
    private func weigh(_ rule: UpdateRule, _ vc: UnsafePointer<Float>, frames: Int, bins: Int, count c: Int,
                       _ ws: Workspace) -> (UnsafePointer<Float>, Int, UnsafePointer<Float>) {
        for f in 0..<bins {
            _ = rule.weigh(data: vc + f * frames, dataPowBeta: nil, model: ws.model + f * c,
                           numeratorWeights: ws.numeratorWeights + f * c,
                           denominatorWeights: ws.denominatorWeights + f * c, count: c, objective: false)
        }
        return rule.numeratorIsData ? (vc, frames, UnsafePointer(ws.model))
            : (UnsafePointer(ws.numeratorWeights), c, UnsafePointer(ws.denominatorWeights))
    }

    /// Σ d_β(v | Λ) over a bins × count block, in double precision with `BetaDivergence.value`.
    private static func objective(_ divergence: BetaDivergence, _ vc: UnsafePointer<Float>, ldv: Int,
                                  _ model: UnsafePointer<Float>, bins: Int, count c: Int) -> Double {
        var total = 0.0
        for f in 0..<bins {
            let row = vc + f * ldv, lambda = model + f * c
            var rowTotal = 0.0
            for j in 0..<c { rowTotal += divergence.value(data: Double(row[j]), model: Double(lambda[j])) }
            total += rowTotal
        }
        return total
    }

}

/// Scales every atom to the chosen norm (computed in double precision) and its activation row by
/// the inverse, leaving W·H unchanged up to rounding. Cost: O(bins × rank + rank × frames).
func normalise(_ w: UnsafeMutablePointer<Float>, _ h: UnsafeMutablePointer<Float>, bins: Int, rank: Int,
               frames: Int, _ normalisation: AtomNormalisation) {
    guard normalisation == .unitSum || normalisation == .unitEuclideanNorm else { return }
    for k in 0..<rank {
        var norm = 0.0
        for f in 0..<bins {
            let x = Double(w[f * rank + k])
            norm += normalisation == .unitSum ? x : x * x
        }
        if normalisation == .unitEuclideanNorm { norm = norm.squareRoot() }
        guard norm > 0, norm.isFinite else { continue }
        for f in 0..<bins { w[f * rank + k] = Float(Double(w[f * rank + k]) / norm) }
        let scale = Float(norm)
        for t in 0..<frames { h[k * frames + t] *= scale }
    }
}

/// Scratch of one run, bins × chunk and bins × rank blocks; freed when the run ends.
/// Peak: (3 · bins · chunk + 2 · rank · chunk + 2 · bins · rank) floats, plus the solver kernel's
/// padded chunk copies.
final class Workspace {
    let chunk: Int
    /// W·H_c without ε, bins × chunk.
    let model: UnsafeMutablePointer<Float>
    /// P and Q, bins × chunk.
    let numeratorWeights: UnsafeMutablePointer<Float>
    let denominatorWeights: UnsafeMutablePointer<Float>
    /// Wᵀ·P and Wᵀ·Q, rank × chunk.
    let activationNumerator: UnsafeMutablePointer<Float>
    let activationDenominator: UnsafeMutablePointer<Float>
    /// Σ_c P·Hᵀ and Σ_c Q·Hᵀ, bins × rank.
    let basisNumerator: UnsafeMutablePointer<Float>
    let basisDenominator: UnsafeMutablePointer<Float>
    /// Σ_f W[f,k] and Σ_t H[k,t] (β = 1), rank each.
    let atomSums: UnsafeMutablePointer<Float>
    let activationSums: UnsafeMutablePointer<Float>
    /// Engine-solver kernel: frames of the chunk zero-padded to the solver's strides.
    let paddedFrames: UnsafeMutablePointer<Float>
    let paddedActivations: UnsafeMutablePointer<Float>
    let solverBinStride: Int
    let solverActivationStride: Int
    /// Owns every buffer below.
    private let arena: FloatArena

    init(bins: Int, rank: Int, chunk: Int, solverBinStride: Int) {
        self.chunk = chunk
        self.solverBinStride = solverBinStride
        solverActivationStride = solverBinStride > 0 ? paddedToLanes(rank) + 8 : 0
        let block = bins * chunk, activations = rank * chunk, basis = bins * rank
        let total = 3 * block + 2 * activations + 2 * basis + 2 * rank
            + chunk * solverBinStride + chunk * solverActivationStride
        var arena = FloatArena(capacity: total)
        model = arena.take(block)
        numeratorWeights = arena.take(block)
        denominatorWeights = arena.take(block)
        activationNumerator = arena.take(activations)
        activationDenominator = arena.take(activations)
        basisNumerator = arena.take(basis)
        basisDenominator = arena.take(basis)
        atomSums = arena.take(rank)
        activationSums = arena.take(rank)
        paddedFrames = arena.take(chunk * solverBinStride)
        paddedActivations = arena.take(chunk * solverActivationStride)
        self.arena = arena
    }
}

/// Holds an `ActivationSolver` (non-copyable) so a pass can keep it in an optional.
final class SolverBox {
    let solver: ActivationSolver
    init(_ solver: consuming ActivationSolver) { self.solver = solver }

    /// H_c step by the live engine's solver: each frame of the chunk is copied to the solver's padded
    /// layout, updated with one `solve` iteration, and copied back.
    func step(_ vc: UnsafePointer<Float>, _ hc: UnsafeMutablePointer<Float>, ldv: Int, bins: Int, rank: Int,
              count c: Int, workspace ws: Workspace) {
        let binStride = solver.binStride, activationStride = solver.activationStride
        precondition(binStride == ws.solverBinStride && activationStride <= ws.solverActivationStride)
        for f in 0..<bins {
            let row = vc + f * ldv
            for j in 0..<c { ws.paddedFrames[j * binStride + f] = row[j] }
        }
        for k in 0..<rank {
            let slot = solver.slot(ofAtom: k), row = hc + k * ldv
            for j in 0..<c { ws.paddedActivations[j * activationStride + slot] = row[j] }
        }
        for j in 0..<c {
            solver.solve(ws.paddedFrames + j * binStride, activations: ws.paddedActivations + j * activationStride,
                         iterations: 1)
        }
        for k in 0..<rank {
            let slot = solver.slot(ofAtom: k), row = hc + k * ldv
            for j in 0..<c { row[j] = ws.paddedActivations[j * activationStride + slot] }
        }
    }
}

