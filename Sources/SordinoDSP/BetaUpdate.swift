// SPDX-License-Identifier: GPL-3.0-or-later
// The element-wise halves of the β ∈ {0, 1, 2} multiplicative update, as the live solver runs it.

/// One multiplicative update of a non-negative factor x under the β-divergence (Févotte & Idier
/// 2011), split around the matrix products the caller forms itself:
///
/// 1. `weigh`: with Λ = model + ε, P = V ⊙ Λ^(β−2) (numerator weights) and Q = Λ^(β−1)
///    (denominator weights; Q ≡ 1 for β = 1, so nothing is written);
/// 2. the caller forms num = Aᵀ·P and den = Aᵀ·Q for the other factor A (for β = 1, den = Σ A);
/// 3. `step`: x ← max(x · (num / (den + λ + ε))^γ, floor), γ = ½ for β = 0 (the MM exponent,
///    which keeps the update non-increasing) and 1 for β ∈ {1, 2}; NaN becomes the floor.
///
/// This is the real-time specialisation of `SordinoNMF.UpdateRule` (the MM rule for these three β,
/// same formulas; the offline rule rounds x · (num/den) where this rounds (x · num)/den), called by
/// `ActivationSolver` once per frame. Cost: O(count). Real-time safe.
public enum BetaUpdate {
    /// P and Q for `count` entries. `model` is W·H without ε. `q` is untouched for β = 1.
    @_noLocks @inline(__always)
    public static func weigh(beta: BetaDivergence, data v: UnsafePointer<Float>, model: UnsafePointer<Float>,
                             numeratorWeights p: UnsafeMutablePointer<Float>,
                             denominatorWeights q: UnsafeMutablePointer<Float>, count: Int, epsilon: Float) {
        switch beta.beta {
        case 0:
            for i in 0..<count {
                let inverse = 1 / (model[i] + epsilon)
                q[i] = inverse
                p[i] = v[i] * inverse * inverse
            }
        case 1:
            for i in 0..<count { p[i] = v[i] / (model[i] + epsilon) }
        default:
            for i in 0..<count {
                p[i] = v[i]
                q[i] = model[i] + epsilon
            }
        }
    }

    /// The update with a penalty λᵢ per entry. `denominator` is used as scratch (overwritten) for β = 0.
    @_noLocks @inline(__always)
    public static func step(beta: BetaDivergence, _ x: UnsafeMutablePointer<Float>, numerator: UnsafePointer<Float>,
                            denominator: UnsafeMutablePointer<Float>, penalties: UnsafePointer<Float>,
                            count: Int, epsilon: Float, floor: Float) {
        if beta.beta == 0 {
            for i in 0..<count { denominator[i] = numerator[i] / (denominator[i] + penalties[i] + epsilon) }
            squareRootInPlace(denominator, count: count)
            for i in 0..<count { x[i] = floored(x[i] * denominator[i], floor) }
        } else {
            for i in 0..<count { x[i] = floored(x[i] * numerator[i] / (denominator[i] + penalties[i] + epsilon), floor) }
        }
    }

    /// The update with one penalty λ for every entry. `denominator` is overwritten for β = 0.
    @_noLocks @inline(__always)
    public static func step(beta: BetaDivergence, _ x: UnsafeMutablePointer<Float>, numerator: UnsafePointer<Float>,
                            denominator: UnsafeMutablePointer<Float>, penalty: Float,
                            count: Int, epsilon: Float, floor: Float) {
        if beta.beta == 0 {
            for i in 0..<count { denominator[i] = numerator[i] / (denominator[i] + penalty + epsilon) }
            squareRootInPlace(denominator, count: count)
            for i in 0..<count { x[i] = floored(x[i] * denominator[i], floor) }
        } else {
            for i in 0..<count { x[i] = floored(x[i] * numerator[i] / (denominator[i] + penalty + epsilon), floor) }
        }
    }

    /// max(x, floor); NaN maps to the floor too, so a 0/0 cannot poison a factor.
    @_noLocks @inline(__always)
    public static func floored(_ x: Float, _ floor: Float) -> Float { x > floor ? x : floor }
}
