// SPDX-License-Identifier: GPL-3.0-or-later
// KL-NMF with an exponential or gamma prior on the activations, per-atom parameters estimated from training (Kwon, Shin & Kim 2016).

import RealModule
import SordinoDSP

/// The prior on an atom's activation h ≥ 0 (Kwon, Shin & Kim, "NMF-based speech enhancement using
/// bases update" line of work; ICASSP 2016: NMF with statistical priors on the activations).
public enum ActivationPrior: String, Sendable, Hashable, CaseIterable {
    /// p(h) = θ·e^(−θh): −log p = θ·h, an L1 penalty with rate θ.
    case exponential
    /// p(h) ∝ h^(a−1)·e^(−θh): −log p = θ·h − (a − 1)·log h.
    case gamma
}

/// Per-atom prior parameters as penalties, already multiplied by the prior weight α:
/// the prior adds Σ_k Σ_t [rate_k·m_kt − shapeTerm_k·log m_kt] to the objective, where m_kt =
/// ‖w_k‖₁·h_kt is atom k's mass in frame t (h_kt itself for unit-sum atoms).
public struct PriorParameters: Sendable, Equatable {
    /// α·θ̂_k, in 1/(units of V); what the live solver uses as `Basis.atomPenalties`.
    public var rates: [Float]
    /// α·(â_k − 1); all 0 for the exponential prior.
    public var shapeTerms: [Float]

    public init(rates: [Float], shapeTerms: [Float]) {
        self.rates = rates
        self.shapeTerms = shapeTerms
    }

    /// Maximum-likelihood / moment estimates from activations H (rank × frames), times `weight` α:
    /// exponential θ̂_k = 1/mean_t h_kt; gamma (moments) â_k = mean²/var clamped to [1, 10³], θ̂_k =
    /// â_k/mean. Shapes below 1 (typical of sparse speech atoms) are raised to 1 because the MAP
    /// problem then has no minimum: −(a − 1)·log h → −∞ as h → 0 (measured on test data: the
    /// objective fell to −4600 by driving activations to the floor). So the gamma prior differs from
    /// the exponential one only for atoms whose activations are denser than exponential (a > 1).
    /// An atom that is never active gets the largest rate of the others.
    public static func estimate(from h: Matrix, prior: ActivationPrior, weight: Float) -> PriorParameters {
        let rank = h.rows, frames = max(h.columns, 1)
        var rates = [Float](repeating: 0, count: rank), shapes = [Float](repeating: 0, count: rank)
        for k in 0..<rank {
            var sum = 0.0, squares = 0.0
            for t in 0..<h.columns {
                let x = Double(h[k, t])
                sum += x
                squares += x * x
            }
            let mean = sum / Double(frames), variance = max(squares / Double(frames) - mean * mean, 0)
            guard mean > Double(activationFloor) else { rates[k] = .nan; continue }
            switch prior {
            case .exponential:
                rates[k] = weight * Float(1 / mean)
            case .gamma:
                let shape = variance > 0 ? min(max(mean * mean / variance, 1), 1e3) : 1e3
                rates[k] = weight * Float(shape / mean)
                shapes[k] = weight * Float(shape - 1)
            }
        }
        let largest = rates.filter { $0.isFinite }.max() ?? 0
        for k in 0..<rank where !rates[k].isFinite { rates[k] = largest }
        return PriorParameters(rates: rates, shapeTerms: shapes)
    }
}

/// KL-NMF (β = 1) with a per-atom activation prior: learns W and H for
///
///     J(W, H) = D_KL(V | W·H + ε) + Σ_k Σ_t [θ_k·m_kt − c_k·log m_kt],   m_kt = ‖w_k‖₁·h_kt,
///
/// with θ_k the rates and c_k = α(a_k − 1) the shape terms of `PriorParameters`. The prior is put
/// on the atom's *mass* m_kt rather than on h_kt so that J does not depend on how atoms are scaled:
/// the unit-sum normalisation after each W step leaves J unchanged (with a prior on h, growing W
/// and shrinking H would dodge any penalty). For unit-sum atoms m = h, so the live solver, whose
/// update is h ← h·(Wᵀ(V/Λ))/(Σ_f W + λ_k), applies the same exponential penalty λ_k = θ_k.
///
/// Training runs in two stages: `warmUpIterations` plain KL passes (`BetaNMF`, unit-sum atoms), the
/// prior parameters estimated from their H (`PriorParameters.estimate`), then `iterations` passes of
/// the updates below with those parameters fixed. Each update is a majorisation–minimisation step
/// (the Jensen auxiliary of KL-NMF plus the prior's own majoriser: tangent for the concave part,
/// Jensen over bins for the convex one), so J never increases within the second stage:
///
///     H:  h ← (h·(Wᵀ(V/Λ)) + c⁺) / (‖w‖₁·(1 + θ) + c⁻/h)
///     W:  w_fk ← w_fk·(Σ_t (V/Λ)_ft h_kt + c_k⁺·T) / (Σ_t h_kt·(1 + θ_k) + c_k⁻·T),  then unit sum,
///
/// where c⁺ = max(c, 0), c⁻ = max(−c, 0) and T the number of frames (the W rule assumes unit-sum
/// atoms at the start of the step, which the normalisation guarantees).
///
/// The live solve keeps the rate only: `Basis.atomPenalties` = θ_k. The gamma shape term needs
/// (a−1)/h in the live update, which `BetaUpdate` does not express; with the relative activation
/// floor of the presets, which already keeps every h away from 0, it is left out live.
///
/// Cost per pass: 4 GEMMs of bins × rank × frames multiply-adds (like KL `BetaNMF`), plus one
/// log per activation for the gamma objective. Memory: V, W, H, plus `Workspace` scratch for
/// `chunkFrames` frames. Deterministic for a seed. Allocates; offline only.
public struct PriorNMF: Sendable {
    public struct Options: Sendable, Hashable {
        public var rank: Int
        /// Plain KL passes before the parameters are estimated (≥ 1).
        public var warmUpIterations: Int
        /// Passes with the prior.
        public var iterations: Int
        public var prior: ActivationPrior
        /// α ≥ 0, the weight of the prior relative to the KL data term.
        public var weight: Float
        /// Frames per chunk of each pass (bounds scratch memory; the result does not depend on it
        /// beyond float rounding).
        public var chunkFrames: Int
        public var seed: UInt64
        /// Each stage stops early once a pass lowers its objective by less than this fraction of
        /// the stage's initial one (`StoppingRule`); nil: fixed work.
        public var tolerance: Double?

        public init(rank: Int, warmUpIterations: Int = 100, iterations: Int = 100, prior: ActivationPrior = .exponential,
                    weight: Float = 0.005, chunkFrames: Int = BetaNMF.chunkFrames, seed: UInt64 = 0x534F_5244_494E_4F00,
                    tolerance: Double? = nil) {
            self.tolerance = tolerance
            self.rank = rank
            self.warmUpIterations = warmUpIterations
            self.iterations = iterations
            self.prior = prior
            self.weight = weight
            self.chunkFrames = chunkFrames
            self.seed = seed
        }
    }

    public struct Result: Sendable {
        /// W, bins × rank, unit-sum atoms.
        public var basis: Matrix
        public var activations: Matrix
        /// The parameters used in the prior stage (and for the live solve).
        public var parameters: PriorParameters
        /// KL objective after each warm-up pass.
        public var warmUpObjective: [Double]
        /// Why the warm-up and the prior stage stopped.
        public var warmUpStop: StopReason
        public var stop: StopReason
        /// J of the warm-up's result with the estimated parameters, then after each prior pass.
        public var objective: [Double]
    }

    public typealias Progress = (_ iteration: Int, _ objective: Double) -> Void

    public let options: Options

    public init(_ options: Options) throws(NMFError) {
        try NMFError.check(options.rank >= 1, "rank", options.rank, "at least 1 atom")
        try NMFError.check(options.warmUpIterations >= 1, "warm-up iterations", options.warmUpIterations,
                  "at least 1 (the prior is estimated from its activations)")
        try NMFError.check(options.iterations >= 0, "iterations", options.iterations, "0 or more")
        try NMFError.check(options.weight.isFinite && options.weight >= 0, "prior weight", options.weight, "a finite α ≥ 0")
        try NMFError.check(options.chunkFrames >= 1, "chunk", options.chunkFrames, "at least 1 frame")
        self.options = options
    }

    /// Both stages on V (bins × frames, finite, ≥ 0). `progress` counts warm-up passes then prior passes.
    public func factorise(_ v: Matrix, progress: Progress? = nil) throws(NMFError) -> Result {
        let plain = try BetaNMF(.init(rank: options.rank, beta: 1, iterations: options.warmUpIterations,
                                      seed: options.seed, atomNormalisation: .unitSum, activationKernel: .blas,
                                      tolerance: options.tolerance))
        let warm = try plain.factorise(v) { progress?($0, $1) }
        let parameters = PriorParameters.estimate(from: warm.activations, prior: options.prior, weight: options.weight)
        var w = warm.basis, h = warm.activations
        let curve = try refine(v, basis: &w, activations: &h, parameters: parameters) {
            progress?(options.warmUpIterations + $0, $1)
        }
        return Result(basis: w, activations: h, parameters: parameters, warmUpObjective: warm.objective,
                      warmUpStop: warm.stop, stop: curve.stop, objective: curve.values)
    }

    /// The prior stage alone: `options.iterations` passes on W (unit-sum atoms) and H in place with
    /// fixed `parameters`. Returns J of the start, then after each pass (`iterations + 1` values;
    /// fewer when the tolerance is met: at pass p it ends after pass p + 1), and why it stopped.
    public func refine(_ v: Matrix, basis w: inout Matrix, activations h: inout Matrix, parameters: PriorParameters,
                       progress: Progress? = nil) throws(NMFError) -> (values: [Double], stop: StopReason) {
        try v.checkData()
        try w.checkFactor("basis", rows: v.rows, columns: options.rank)
        try h.checkFactor("activations", rows: options.rank, columns: v.columns)
        guard parameters.rates.count == options.rank, parameters.shapeTerms.count == options.rank else {
            throw .shapeMismatch(what: "prior parameters", expected: "\(options.rank) per atom",
                                 actual: "\(parameters.rates.count)")
        }
        let bins = v.rows, frames = v.columns, rank = options.rank
        let ws = Workspace(bins: bins, rank: rank, chunk: min(options.chunkFrames, frames), solverBinStride: 0)
        let rates = parameters.rates, shapes = parameters.shapeTerms
        let divergence = BetaDivergence(1)
        let stopping = StoppingRule(passes: options.iterations, tolerance: options.tolerance)
        var curve: [Double] = []
        var stop = StopReason.passes(options.iterations)
        v.values.withUnsafeBufferPointer { vBuffer in
            w.values.withUnsafeMutableBufferPointer { wBuffer in
                h.values.withUnsafeMutableBufferPointer { hBuffer in
                    let pv = vBuffer.baseAddress!, pw = wBuffer.baseAddress!, ph = hBuffer.baseAddress!
                    var cap = options.iterations, pass = -1
                    while pass < cap {
                        pass += 1
                        let updating = pass < cap
                        for k in 0..<rank { ws.atomSums[k] = 0; ws.activationSums[k] = 0 }
                        for f in 0..<bins { for k in 0..<rank { ws.atomSums[k] += pw[f * rank + k] } }
                        var objective = 0.0
                        var t0 = 0
                        while t0 < frames {
                            let c = min(ws.chunk, frames - t0)
                            let vc = pv + t0, hc = ph + t0
                            gemm(false, false, m: bins, n: c, k: rank, alpha: 1, pw, lda: rank, hc, ldb: frames,
                                 beta: 0, ws.model, ldc: c)
                            for f in 0..<bins {
                                let row = vc + f * frames, model = ws.model + f * c
                                for j in 0..<c { objective += divergence.value(data: Double(row[j]), model: Double(model[j])) }
                            }
                            for k in 0..<rank {
                                let norm = Double(ws.atomSums[k]), rate = Double(rates[k]), shape = Double(shapes[k])
                                for j in 0..<c {
                                    let mass = norm * Double(hc[k * frames + j])
                                    objective += rate * mass - (shape != 0 ? shape * Double.log(mass) : 0)
                                }
                            }
                            if updating {
                                // H step.
                                for f in 0..<bins {
                                    BetaUpdate.weigh(beta: 1, data: vc + f * frames, model: ws.model + f * c,
                                                     numeratorWeights: ws.numeratorWeights + f * c,
                                                     denominatorWeights: ws.denominatorWeights + f * c, count: c,
                                                     epsilon: spectralEpsilon)
                                }
                                gemm(true, false, m: rank, n: c, k: bins, alpha: 1, pw, lda: rank, ws.numeratorWeights,
                                     ldb: c, beta: 0, ws.activationNumerator, ldc: c)
                                for k in 0..<rank {
                                    let row = hc + k * frames, num = ws.activationNumerator + k * c
                                    let base = ws.atomSums[k] * (1 + rates[k]) + spectralEpsilon
                                    let plus = max(shapes[k], 0), minus = max(-shapes[k], 0)
                                    for j in 0..<c {
                                        let x = row[j]
                                        row[j] = BetaUpdate.floored((x * num[j] + plus) / (base + minus / x), activationFloor)
                                    }
                                }
                                // This chunk's share of the W step, with the new H.
                                gemm(false, false, m: bins, n: c, k: rank, alpha: 1, pw, lda: rank, hc, ldb: frames,
                                     beta: 0, ws.model, ldc: c)
                                for f in 0..<bins {
                                    BetaUpdate.weigh(beta: 1, data: vc + f * frames, model: ws.model + f * c,
                                                     numeratorWeights: ws.numeratorWeights + f * c,
                                                     denominatorWeights: ws.denominatorWeights + f * c, count: c,
                                                     epsilon: spectralEpsilon)
                                }
                                gemm(false, true, m: bins, n: rank, k: c, alpha: 1, ws.numeratorWeights, lda: c, hc,
                                     ldb: frames, beta: t0 == 0 ? 0 : 1, ws.basisNumerator, ldc: rank)
                                for k in 0..<rank {
                                    var sum: Float = 0
                                    for j in 0..<c { sum += hc[k * frames + j] }
                                    ws.activationSums[k] += sum
                                }
                            }
                            t0 += c
                        }
                        curve.append(objective)
                        if pass > 0 { progress?(pass, objective) }
                        guard updating else { continue }
                        // Met at this pass: finish its W step, then one pass that only measures.
                        if let reason = stopping.verdict(curve), case .tolerance = reason {
                            stop = reason
                            cap = pass + 1
                        }
                        let count = Float(frames)
                        for k in 0..<rank {
                            let plus = max(shapes[k], 0) * count, minus = max(-shapes[k], 0) * count
                            let den = ws.activationSums[k] * (1 + rates[k]) + minus + spectralEpsilon
                            for f in 0..<bins {
                                let i = f * rank + k
                                pw[i] = BetaUpdate.floored(pw[i] * (ws.basisNumerator[i] + plus) / den, activationFloor)
                            }
                        }
                        normalise(pw, ph, bins: bins, rank: rank, frames: frames, .unitSum)
                    }
                }
            }
        }
        guard curve.allSatisfy(\.isFinite) else {
            let pass = curve.firstIndex { !$0.isFinite } ?? 0
            throw .diverged(pass: pass, objective: curve[pass])
        }
        return (curve, stop)
    }
}
