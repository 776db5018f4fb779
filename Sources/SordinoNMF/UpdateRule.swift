// SPDX-License-Identifier: GPL-3.0-or-later
// The scalar step of the heuristic (MU), majorisation-minimisation (MM) and majorisation-equalisation (ME) updates.

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

/// The map r ↦ x'/x of one algorithm at one effective β. For IS-NMF in domain p (objective
/// D_IS(V^c | (WH)^c), c = 2/p) the auxiliary function per entry has the same shape as the
/// β-divergence's with β_eff = 1 − c, so MM and ME use β_eff; c = 1 gives β_eff = β = 0.
struct UpdateRule: Sendable {
    let algorithm: UpdateAlgorithm
    let beta: Double
    let exponent: Float
    /// θ of the relaxed ME step x_MM + θ·(x_ME − x_MM), in (0, 1]; 1 is the plain ME point.
    let relaxation: Float

    init(algorithm: UpdateAlgorithm, effectiveBeta beta: Double, relaxation: Float = 1) {
        self.algorithm = algorithm
        self.beta = beta
        self.relaxation = relaxation
        exponent = Float(BetaDivergence(beta).updateExponent)
    }

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
}

