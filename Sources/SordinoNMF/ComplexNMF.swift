// SPDX-License-Identifier: GPL-3.0-or-later
// Complex NMF (Kameoka et al. 2009): X ≈ Σ_k W_fk H_kt e^(jφ_kft), by auxiliary-function updates.

import RealModule
import SordinoDSP

/// Complex NMF: minimises Σ_ft |X_ft − Σ_k W_fk H_kt e^(jφ_kft)|² + λ·ΣH over W, H ≥ 0 and a
/// phase per component and time–frequency point (Kameoka, Ono, Kashino & Sagayama, ICASSP 2009,
/// with the sparsity exponent p = 1). Each iteration builds the auxiliary variables
/// Ȳ_k = Y_k + β_k (X − Σ_j Y_j) with β_k = W_fk H_kt / Σ_j W_fj H_jt, then minimises the auxiliary
/// function in closed form: φ_k = arg Ȳ_k, H_kt = (Σ_f |Ȳ_k| S − λ·H_kt/2) / Σ_f W_fk S
/// (S = Σ_j W_fj H_jt, old values), then — unless the basis is fixed — W with the new H. The
/// objective never increases, with a fixed basis too (each step minimises the same auxiliary
/// function). Memory: the phases, 2 · rank · bins · frames floats (cos, sin): 30 s at 44.1 kHz
/// (1025 bins × 2587 frames, hop 512) costs 21 MB per component, 170 MB for 8; runs needing more
/// than `maximumPhaseBytes` are refused. Cost per iteration: two passes of O(rank · bins · frames).
/// Allocates; offline only.
public struct ComplexNMF: Sendable {
    /// The cap on passes and the optional tolerance (`StoppingRule`).
    public let stopping: StoppingRule
    /// false: W stays as given (`decompose --method complex --basis`), only H and the phases move.
    public let updateBasis: Bool
    /// λ ≥ 0, the L1 weight on activations, in units of |X|.
    public let sparsity: Float
    /// The most memory the phases may take: 2 GiB.
    public static let maximumPhaseBytes = 2 << 30

    public init(iterations: Int, tolerance: Double? = nil, updateBasis: Bool = true, sparsity: Float = 0) throws(NMFError) {
        guard iterations >= 0 else { throw .invalidOption(name: "iterations", value: "\(iterations)", allowed: "0 or more") }
        stopping = StoppingRule(passes: iterations, tolerance: tolerance)
        try stopping.check()
        try NMFError.check(sparsity.isFinite && sparsity >= 0, "sparsity", sparsity, "a finite λ ≥ 0")
        self.updateBasis = updateBasis
        self.sparsity = sparsity
    }

    /// Bytes of phase storage for `rank` components on `bins` × `frames`.
    public static func phaseBytes(bins: Int, frames: Int, rank: Int) -> Int { 2 * 4 * rank * bins * frames }

    /// The outcome: W, H, per-component phases and the curve.
    public struct Result: Sendable {
        public var basis: Matrix
        public var activations: Matrix
        /// cos φ and sin φ, rank × bins × frames each (`[k * bins * frames + f * frames + t]`).
        public var phaseCos: [Float]
        public var phaseSin: [Float]
        /// Σ|X − model|² + λ·ΣH for the initial factors, then after each iteration.
        public var objective: [Double]
        public var elapsedSeconds: [Double]
        /// Why the run stopped.
        public var stop: StopReason

        /// Ȳ_k, the auxiliary estimate of component k at the final parameters; Σ_k Ȳ_k = X exactly.
        public func auxiliaryComponent(_ k: Int, of x: ComplexSpectrogram) -> ComplexSpectrogram {
            let bins = x.binCount, frames = x.frameCount, rank = basis.columns
            var re = [Float](repeating: 0, count: bins * frames), im = re
            for f in 0..<bins {
                for t in 0..<frames {
                    let i = f * frames + t
                    var sumRe: Float = 0, sumIm: Float = 0, s: Float = 0
                    for j in 0..<rank {
                        let a = basis[f, j] * activations[j, t], p = j * bins * frames + i
                        sumRe += a * phaseCos[p]; sumIm += a * phaseSin[p]; s += a
                    }
                    let a = basis[f, k] * activations[k, t], p = k * bins * frames + i
                    let share = s > 0 ? a / s : 1 / Float(rank)
                    re[i] = a * phaseCos[p] + share * (x.re[i] - sumRe)
                    im[i] = a * phaseSin[p] + share * (x.im[i] - sumIm)
                }
            }
            return ComplexSpectrogram(binCount: bins, frameCount: frames, re: re, im: im)
        }

        /// W_fk H_kt e^(jφ_kft), component k with its own phase.
        public func component(_ k: Int, bins: Int, frames: Int) -> ComplexSpectrogram {
            var re = [Float](repeating: 0, count: bins * frames), im = re
            for f in 0..<bins {
                for t in 0..<frames {
                    let a = basis[f, k] * activations[k, t], i = f * frames + t, p = k * bins * frames + i
                    re[i] = a * phaseCos[p]; im[i] = a * phaseSin[p]
                }
            }
            return ComplexSpectrogram(binCount: bins, frameCount: frames, re: re, im: im)
        }
    }

    /// Runs from W₀ (bins × rank) and H₀ (rank × frames), both > 0; every phase starts at X's.
    public func run(_ x: ComplexSpectrogram, basis w0: Matrix, activations h0: Matrix,
                    progress: ((Int, Double) -> Void)? = nil) throws(NMFError) -> Result {
        let bins = x.binCount, frames = x.frameCount, rank = w0.columns
        guard w0.rows == bins, h0.rows == rank, h0.columns == frames, rank >= 1 else {
            throw .shapeMismatch(what: "complex NMF factors", expected: "\(bins) × K and K × \(frames)",
                                 actual: "\(w0.rows) × \(w0.columns) and \(h0.rows) × \(h0.columns)")
        }
        let bytes = Self.phaseBytes(bins: bins, frames: frames, rank: rank)
        guard bytes <= Self.maximumPhaseBytes else {
            throw .invalidOption(name: "complex NMF size", value: "\(rank) components × \(bins) bins × \(frames) frames "
                                    + "(\(bytes >> 20) MiB of phases)",
                                 allowed: "at most \(Self.maximumPhaseBytes >> 20) MiB: fewer components, a shorter excerpt or a longer hop")
        }
        let plane = bins * frames
        var cosines = [Float](repeating: 1, count: rank * plane), sines = [Float](repeating: 0, count: rank * plane)
        for i in 0..<plane {
            let magnitude = (x.re[i] * x.re[i] + x.im[i] * x.im[i]).squareRoot()
            let (c, s): (Float, Float) = magnitude > 0 ? (x.re[i] / magnitude, x.im[i] / magnitude) : (1, 0)
            for k in 0..<rank { cosines[k * plane + i] = c; sines[k * plane + i] = s }
        }
        var w = w0, h = h0
        var objective: [Double] = [], elapsed: [Double] = []
        let clock = ContinuousClock(), start = clock.now
        var numerator = [Float](repeating: 0, count: max(rank * frames, bins * rank))
        var denominator = numerator
        var yRe = [Float](repeating: 0, count: rank), yIm = yRe, a = yRe
        let iterations = stopping.passes, lambda = sparsity
        var stop = StopReason.passes(iterations)
        for iteration in 0...iterations {
            let d = start.duration(to: clock.now)
            elapsed.append(Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
            // Pass 1: objective of the current iterate, and the H step.
            for i in 0..<(rank * frames) { numerator[i] = 0; denominator[i] = 0 }
            var total = 0.0
            for f in 0..<bins {
                var rowTotal: Float = 0
                for t in 0..<frames {
                    let i = f * frames + t
                    var sumRe: Float = 0, sumIm: Float = 0, s: Float = 0
                    for k in 0..<rank {
                        a[k] = w[f, k] * h[k, t]
                        yRe[k] = a[k] * cosines[k * plane + i]; yIm[k] = a[k] * sines[k * plane + i]
                        sumRe += yRe[k]; sumIm += yIm[k]; s += a[k]
                    }
                    let rRe = x.re[i] - sumRe, rIm = x.im[i] - sumIm
                    rowTotal += rRe * rRe + rIm * rIm
                    guard iteration < iterations, s > 0 else { continue }
                    for k in 0..<rank {
                        let share = a[k] / s
                        let bRe = yRe[k] + share * rRe, bIm = yIm[k] + share * rIm
                        numerator[k * frames + t] += (bRe * bRe + bIm * bIm).squareRoot() * s
                        denominator[k * frames + t] += w[f, k] * s
                    }
                }
                total += Double(rowTotal)
            }
            if lambda > 0 { total += Double(lambda) * h.values.reduce(0.0) { $0 + Double($1) } }
            objective.append(total)
            if iteration > 0 { progress?(iteration, total) }
            guard total.isFinite else { throw .diverged(pass: iteration, objective: total) }
            if iteration == iterations { break }
            if let reason = stopping.verdict(objective) { stop = reason; break }
            let oldH = h
            for k in 0..<rank {
                for t in 0..<frames where denominator[k * frames + t] > 0 {
                    let shrunk = numerator[k * frames + t] - 0.5 * lambda * oldH[k, t]
                    h[k, t] = max(shrunk / denominator[k * frames + t], activationFloor)
                }
            }
            // Pass 2: Ȳ again from the old parameters; new phases; the W step with the new H.
            for i in 0..<(bins * rank) { numerator[i] = 0; denominator[i] = 0 }
            for f in 0..<bins {
                for t in 0..<frames {
                    let i = f * frames + t
                    var sumRe: Float = 0, sumIm: Float = 0, s: Float = 0
                    for k in 0..<rank {
                        a[k] = w[f, k] * oldH[k, t]
                        yRe[k] = a[k] * cosines[k * plane + i]; yIm[k] = a[k] * sines[k * plane + i]
                        sumRe += yRe[k]; sumIm += yIm[k]; s += a[k]
                    }
                    guard s > 0 else { continue }
                    let rRe = x.re[i] - sumRe, rIm = x.im[i] - sumIm
                    for k in 0..<rank {
                        let share = a[k] / s
                        let bRe = yRe[k] + share * rRe, bIm = yIm[k] + share * rIm
                        let magnitude = (bRe * bRe + bIm * bIm).squareRoot()
                        if magnitude > 0 { cosines[k * plane + i] = bRe / magnitude; sines[k * plane + i] = bIm / magnitude }
                        guard updateBasis else { continue }
                        let ratio = h[k, t] / oldH[k, t]
                        numerator[f * rank + k] += ratio * magnitude * s
                        denominator[f * rank + k] += ratio * h[k, t] * s
                    }
                }
            }
            guard updateBasis else { continue }
            for f in 0..<bins {
                for k in 0..<rank where denominator[f * rank + k] > 0 {
                    w[f, k] = max(numerator[f * rank + k] / denominator[f * rank + k], activationFloor)
                }
            }
        }
        return Result(basis: w, activations: h, phaseCos: cosines, phaseSin: sines, objective: objective,
                      elapsedSeconds: elapsed, stop: stop)
    }
}
