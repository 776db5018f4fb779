// SPDX-License-Identifier: GPL-3.0-or-later
// The one multiplicative update of SordinoNMF: weights from the model, then MU, MM or ME steps, for any β.

import RealModule
import SordinoDSP

/// Which multiplicative update `Decomposer` applies (Févotte & Idier 2011, Neural Computation 23(9)).
/// All three first form, for every entry x of the factor being updated, the ratio r = num / den of
/// the gradient's negative and positive parts; they differ only in how r becomes the factor x'/x:
public enum UpdateAlgorithm: String, Sendable, CaseIterable, Hashable {
    /// Heuristic multiplicative update: x' = x · r. Monotone for β ∈ [1, 2]; outside it usually
    /// descends in practice but nothing guarantees it.
    case mu
    /// Majorisation-minimisation: x' = x · r^γ(β) (γ = 1/(2−β) below 1, 1 on [1, 2], 1/(β−1) above 2),
    /// the minimiser of the auxiliary function; the objective never increases. Identical to `mu` for
    /// β ∈ [1, 2]. scikit-learn's solver 'mu' is this rule.
    case mm
    /// Majorisation-equalisation: the other point x' where the auxiliary function equals its value at
    /// x, beyond the MM minimiser: a longer step that still never increases the objective. For β = 0 it
    /// equals `mu`; for β = 2 it is x' = x · max(2r − 1, 0); otherwise a scalar root is solved. For
    /// β ≥ 2 a decreasing entry (MM factor m < 1) goes no lower than x · m², the MM point mirrored
    /// about x in logarithms (`UpdateRule.factor`).
    case me
}

/// The multiplicative update every factorisation in SordinoNMF applies (`BetaNMF`, `Decomposer`),
/// for any real β (Févotte & Idier 2011), in two element-wise halves around the GEMMs the driver
/// forms itself:
///
/// 1. `weigh`: with Λ = model + ε, P = V ⊙ Λ^(β−2) and Q = Λ^(β−1) (for compressed IS, c ≠ 1:
///    P = (V/Λ)^c / Λ, Q = 1/Λ), so that the gradient in a factor is Aᵀ·Q − Aᵀ·P; for β = 1 Q ≡ 1
///    (nothing is written, the denominator is a row or column sum), for β = 2 P is V and Q is Λ;
/// 2. `step`: every entry x of the factor becomes max(x · factor(num / (den + λ + ε)), floor),
///    `factor` being MU's r, MM's r^γ(β) or ME's equalising point (`UpdateAlgorithm`).
///
/// For β ∈ {0, 1, 2} with MM the arithmetic is `SordinoDSP.BetaUpdate`'s, the live solver's kernel.
/// For IS-NMF in domain p (objective D_IS(V^c | (WH)^c), c = 2/p) the auxiliary function per entry
/// has the same shape as the β-divergence's with β_eff = 1 − c, so MM and ME use β_eff; c = 1 gives
/// β_eff = β = 0. Cost: O(count) per call (`pow` per entry outside the closed forms).
struct UpdateRule: Sendable {
    /// Which closed form `weigh` uses.
    enum Weighting: Sendable, Equatable { case itakuraSaito, compressedItakuraSaito, kullbackLeibler, euclidean, general }

    let algorithm: UpdateAlgorithm
    /// β of the objective.
    let objectiveBeta: Double
    /// c of compressed IS (1 otherwise).
    let compression: Double
    /// β_eff, the shape MM and ME step on.
    let beta: Double
    let exponent: Float
    /// θ of the relaxed ME step x_MM + θ·(x_ME − x_MM), in (0, 1]; 1 is the plain ME point.
    let relaxation: Float
    let weighting: Weighting

    init(algorithm: UpdateAlgorithm = .mm, beta: Double, compression: Double = 1, relaxation: Float = 1) {
        self.algorithm = algorithm
        objectiveBeta = beta
        self.compression = compression
        self.beta = beta == 0 ? 1 - compression : beta
        self.relaxation = relaxation
        exponent = Float(BetaDivergence(self.beta).updateExponent)
        switch beta {
        case 0: weighting = compression == 1 ? .itakuraSaito : .compressedItakuraSaito
        case 1: weighting = .kullbackLeibler
        case 2: weighting = .euclidean
        default: weighting = .general
        }
    }

    /// The rule whose MM/ME shape is `effectiveBeta` itself (for tests of `factor`).
    init(algorithm: UpdateAlgorithm, effectiveBeta: Double, relaxation: Float = 1) {
        self.init(algorithm: algorithm, beta: effectiveBeta, relaxation: relaxation)
    }

    /// Whether Q ≡ 1 (β = 1): the denominator is a row or column sum and no Q is written.
    var denominatorIsOne: Bool { weighting == .kullbackLeibler }
    /// Whether P is V and Q is Λ (β = 2): nothing is written but Λ.
    var numeratorIsData: Bool { weighting == .euclidean }

    /// Whether the factor is simply r (no per-entry transcendental call).
    var isPlainRatio: Bool {
        algorithm == .mu || (algorithm == .mm && exponent == 1) || (algorithm == .me && beta == 0 && relaxation == 1)
    }

    /// x'/x for the ratio r ≥ 0 (NaN or negative maps to 0; the caller floors the product).
    /// `.me` at β ≥ 2 with MM factor m < 1: max(ME factor, m²) before the relaxation. For β > 1 the ME
    /// point reaches 0 when φ(0) ≥ φ(1) (at β = 2 for every r ≤ 1/2), and floored entries barely
    /// recover under multiplicative steps; m² lies between the ME and MM points, so by convexity of φ
    /// the step still never raises the objective (β = 2: φ(r²) − φ(1) = (r − 1)³(r + 1)/2 < 0;
    /// checked numerically for β ∈ (0, 10], r ∈ [1e-8, 1); it fails for β < 0). Measured on 30 s of
    /// 44.1 kHz speech in noise (rank 8, seed 1, θ = 0.95), ME passes to reach MU's 200-iteration
    /// objective without → with this bound: β = 2: never (1.008×) → 71, β = 3: never (1.0006×) → 197,
    /// but β = 1.5: 97 → never (1.0006×) and β = 1: 40 → 117, hence β ≥ 2 only.
    @inline(__always) func factor(_ r: Float) -> Float {
        guard r > 0, r.isFinite else { return 0 }
        switch algorithm {
        case .mu: return r
        case .mm:
            if exponent == 1 { return r }
            if exponent == 0.5 { return r.squareRoot() }
            return Float.pow(r, exponent)
        case .me:
            let minimiser = exponent == 1 ? r : Float.pow(r, exponent)
            var far = equalisingFactor(r)
            if beta >= 2 && minimiser < 1 { far = max(far, minimiser * minimiser) }
            if relaxation == 1 { return far }
            return minimiser + relaxation * (far - minimiser)
        }
    }

    /// ME: the root x ≠ 1 of φ(x) = φ(1) on the far side of the MM minimiser, with φ the auxiliary
    /// function of one entry divided by its positive constant:
    /// β < 1: x − r·x^(β−1)/(β−1); β = 1: x − r·log x; 1 < β ≤ 2: x^β/β − r·x^(β−1)/(β−1); β > 2: x^β/β − r·x.
    /// Closed forms for β ∈ {−1, 0, 1/2, 2, 3}; otherwise 26 bisection steps in double precision
    /// (≈ 50 `log`/`pow` calls per entry: at β = 1 an iteration costs ≈ 3× an MU iteration on 8 × 3600 entries).
    func equalisingFactor(_ r: Float) -> Float {
        let rd = Double(r)
        switch beta {
        case 0: return r
        case 2: return max(2 * r - 1, 0)
        case -1: return Float((rd + (rd * rd + 8 * rd).squareRoot()) / 4)
        case 0.5:
            let s = (1 + 8 * rd).squareRoot() - 1
            return Float(s * s / 4)
        case 3:
            let d = 12 * rd - 3
            return d > 0 ? Float(max((d.squareRoot() - 1) / 2, 0)) : 0
        default: break
        }
        let b = beta
        func phi(_ x: Double) -> Double {
            if b < 1 { return x - rd * Double.pow(x, b - 1) / (b - 1) }
            if b == 1 { return x - rd * Double.log(x) }
            if b <= 2 { return Double.pow(x, b) / b - rd * Double.pow(x, b - 1) / (b - 1) }
            return Double.pow(x, b) / b - rd * x
        }
        let minimiser = Double.pow(rd, BetaDivergence(b).updateExponent)
        guard abs(minimiser - 1) > 1e-9 else { return Float(minimiser) }
        let target = phi(1)
        var lo: Double, hi: Double
        if minimiser > 1 {
            lo = minimiser
            hi = 2 * minimiser
            var grow = 0
            while phi(hi) < target && grow < 60 { lo = hi; hi *= 2; grow += 1 }
        } else {
            lo = 0
            hi = minimiser
            // φ(0⁺) is +∞ for β ≤ 1; for β > 1 it is 0 and may not reach φ(1): then the step goes to 0.
            if b > 1 && 0 <= target { return 0 }
        }
        // Invariant: φ(hi) ≥ target on the far side, φ ≤ target towards the minimiser (or vice versa).
        let increasingAwayFromMinimiser = minimiser > 1
        // 26 halvings leave the bracket below 2^-26 of its start: finer than the Float result.
        for _ in 0..<26 {
            let mid = 0.5 * (lo + hi)
            let above = mid > 0 ? phi(mid) >= target : true
            if increasingAwayFromMinimiser == above { hi = mid } else { lo = mid }
        }
        return Float(0.5 * (lo + hi))
    }

    // MARK: - The two halves

    /// Adds ε to `model` in place, writes P and Q for `count` entries (none for β = 2, no Q for
    /// β = 1), and returns the objective Σ d(v | λ) in double precision (sums of 8-lane float
    /// blocks) when asked (else 0; `dataPowBeta`, V^β, is needed then for general β only).
    func weigh(data v: UnsafePointer<Float>, dataPowBeta vPowBeta: UnsafePointer<Float>?,
               model: UnsafeMutablePointer<Float>, numeratorWeights p: UnsafeMutablePointer<Float>,
               denominatorWeights q: UnsafeMutablePointer<Float>, count: Int, objective wanted: Bool) -> Double {
        let epsilon = spectralEpsilon
        var total = 0.0
        let block = 4096
        var start = 0
        while start < count {
            let end = min(start + block, count)
            var acc = SIMD8<Float>.zero
            var i = start
            switch weighting {
            case .kullbackLeibler:
                while i + 8 <= end {
                    let x = load(v + i), l = load(model + i) + epsilon, r = x / l
                    store(r, p + i)
                    store(l, model + i)
                    if wanted { acc += x * fastLog(r) - x + l }
                    i += 8
                }
                while i < end {
                    let x = v[i], l = model[i] + epsilon, r = x / l
                    p[i] = r; model[i] = l
                    if wanted && x > 0 { total += Double(x * Float.log(r) - x + l) } else if wanted { total += Double(l) }
                    i += 1
                }
            case .itakuraSaito:
                while i + 8 <= end {
                    let x = load(v + i), l = load(model + i) + epsilon, inverse = 1 / l
                    store(inverse, q + i)
                    store(x * inverse * inverse, p + i)
                    store(l, model + i)
                    if wanted { let r = (x + epsilon) * inverse; acc += r - fastLog(r) - 1 }
                    i += 8
                }
                while i < end {
                    let x = v[i], l = model[i] + epsilon, inverse = 1 / l
                    q[i] = inverse; p[i] = x * inverse * inverse; model[i] = l
                    if wanted { let r = (x + epsilon) * inverse; total += Double(r - Float.log(r) - 1) }
                    i += 1
                }
            case .euclidean:
                while i + 8 <= end {
                    let x = load(v + i), l = load(model + i) + epsilon
                    store(l, model + i)
                    if wanted { let d = x - l; acc += 0.5 * d * d }
                    i += 8
                }
                while i < end {
                    let x = v[i], l = model[i] + epsilon
                    model[i] = l
                    if wanted { let d = x - l; total += Double(0.5 * d * d) }
                    i += 1
                }
            case .compressedItakuraSaito:
                let c = Float(compression)
                while i < end {
                    let x = v[i], l = model[i] + epsilon, inverse = 1 / l
                    let r = (x + epsilon) * inverse
                    let rc = c == 2 ? r * r : Float.pow(r, c)
                    q[i] = inverse
                    p[i] = x == 0 ? 0 : rc * inverse
                    model[i] = l
                    if wanted { total += Double(rc) - Double(c) * Double(Float.log(r)) - 1 }
                    i += 1
                }
            case .general:
                let b = Float(objectiveBeta), scale = 1 / (b * (b - 1))
                while i < end {
                    let x = v[i], l = model[i] + epsilon
                    let power = Float.pow(l, b - 1)
                    q[i] = power
                    p[i] = x * power / l
                    model[i] = l
                    if wanted, let vb = vPowBeta { total += Double((vb[i] + (b - 1) * l * power - b * x * power) * scale) }
                    i += 1
                }
            }
            total += Double(acc.sum())
            start = end
        }
        return total
    }

    /// x ← max(x · factor(num / (den + penalty + ε)), floor) for `count` entries; NaN → the floor.
    @inline(__always)
    func step(_ x: UnsafeMutablePointer<Float>, numerator: UnsafePointer<Float>, denominator: UnsafePointer<Float>,
              penalty: Float, count: Int) {
        let epsilon = spectralEpsilon, floor = activationFloor
        if isPlainRatio {
            for i in 0..<count { x[i] = BetaUpdate.floored(x[i] * (numerator[i] / (denominator[i] + penalty + epsilon)), floor) }
        } else if algorithm != .me && exponent == 0.5 {
            for i in 0..<count {
                x[i] = BetaUpdate.floored(x[i] * (numerator[i] / (denominator[i] + penalty + epsilon)).squareRoot(), floor)
            }
        } else {
            for i in 0..<count {
                x[i] = BetaUpdate.floored(x[i] * factor(numerator[i] / (denominator[i] + penalty + epsilon)), floor)
            }
        }
    }

    /// The same step with one denominator for all `count` entries (β = 1: a row of H against Σ_f W).
    @inline(__always)
    func step(_ x: UnsafeMutablePointer<Float>, numerator: UnsafePointer<Float>, denominator: Float,
              penalty: Float, count: Int) {
        let scale = denominator + penalty + spectralEpsilon
        if isPlainRatio {
            for i in 0..<count { x[i] = BetaUpdate.floored(x[i] * (numerator[i] / scale), activationFloor) }
        } else {
            for i in 0..<count { x[i] = BetaUpdate.floored(x[i] * factor(numerator[i] / scale), activationFloor) }
        }
    }
}

@inline(__always) private func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) private func store(_ x: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: x, as: SIMD8<Float>.self)
}
