// SPDX-License-Identifier: GPL-3.0-or-later
// The element-wise half of a β-divergence multiplicative update, one implementation for H and W.

import RealModule
import SordinoDSP

/// The element-wise part of the multiplicative update for any real β (Févotte & Idier 2011):
/// first the data are weighted by the model Λ = model + ε,
///
///     P = V ⊙ Λ^(β−2)   (numerator weights),     Q = Λ^(β−1)   (denominator weights),
///
/// then, once a GEMM has formed num = Aᵀ·P and den = Aᵀ·Q for the other factor A, every entry x of
/// the factor being updated becomes
///
///     x ← max(x · (num / (den + λ + ε))^γ(β), activationFloor), NaN → activationFloor.
///
/// The trainer's H-step and W-step both call these two functions; they reproduce, operation for
/// operation, the three arms of `ActivationSolver.solve` (β = 0: P = v·(1/Λ)², Q = 1/Λ, γ = ½;
/// β = 1: P = v/Λ, Q ≡ 1 so den = Σ of the other factor; β = 2: P = v, Q = Λ). β ∉ {0, 1, 2} uses
/// one `pow` per entry. Cost: O(count) per call; the GEMMs around it dominate.
struct MultiplicativeUpdate: Sendable {
    enum Kind: Sendable { case itakuraSaito, kullbackLeibler, euclidean, general }

    let kind: Kind
    /// γ(β), the MM exponent: 1/(2−β) below 1, 1 on [1, 2], 1/(β−1) above 2.
    let exponent: Float
    let betaMinusTwo: Float

    init(beta: Double) {
        switch beta {
        case 0: kind = .itakuraSaito
        case 1: kind = .kullbackLeibler
        case 2: kind = .euclidean
        default: kind = .general
        }
        exponent = Float(BetaDivergence(beta).updateExponent)
        betaMinusTwo = Float(beta - 2)
    }

    /// Whether Q ≡ 1 (β = 1), so the denominator is a row or column sum and no Q is written.
    var denominatorIsOne: Bool { kind == .kullbackLeibler }

    /// P = v ⊙ Λ^(β−2) into `p` and Q = Λ^(β−1) into `q` (left untouched for β = 1), with
    /// Λ = model + `spectralEpsilon`. `model` is W·H without ε. `count` entries of each.
    @inline(__always)
    func weigh(data v: UnsafePointer<Float>, model: UnsafePointer<Float>,
               numeratorWeights p: UnsafeMutablePointer<Float>, denominatorWeights q: UnsafeMutablePointer<Float>,
               count: Int) {
        switch kind {
        case .itakuraSaito:
            for i in 0..<count {
                let inverse = 1 / (model[i] + spectralEpsilon)
                q[i] = inverse
                p[i] = v[i] * inverse * inverse
            }
        case .kullbackLeibler:
            for i in 0..<count { p[i] = v[i] / (model[i] + spectralEpsilon) }
        case .euclidean:
            for i in 0..<count {
                p[i] = v[i]
                q[i] = model[i] + spectralEpsilon
            }
        case .general:
            for i in 0..<count {
                let lambda = model[i] + spectralEpsilon
                let power = Float.pow(lambda, betaMinusTwo)
                p[i] = v[i] * power
                q[i] = lambda * power
            }
        }
    }

    /// x ← max(x · (num / (den + penalty + ε))^γ, activationFloor) for `count` entries.
    @inline(__always)
    func step(_ x: UnsafeMutablePointer<Float>, numerator: UnsafePointer<Float>,
              denominator: UnsafePointer<Float>, penalty: Float, count: Int) {
        // Summed as (den + λ) + ε, the order `ActivationSolver` uses, so both round alike.
        if exponent == 1 {
            for i in 0..<count { x[i] = floored(x[i] * numerator[i] / (denominator[i] + penalty + spectralEpsilon)) }
        } else if exponent == 0.5 {
            for i in 0..<count {
                x[i] = floored(x[i] * (numerator[i] / (denominator[i] + penalty + spectralEpsilon)).squareRoot())
            }
        } else {
            for i in 0..<count {
                x[i] = floored(x[i] * Float.pow(numerator[i] / (denominator[i] + penalty + spectralEpsilon), exponent))
            }
        }
    }

    /// The same step with one denominator for all `count` entries (β = 1, a row of H).
    @inline(__always)
    func step(_ x: UnsafeMutablePointer<Float>, numerator: UnsafePointer<Float>,
              denominator: Float, penalty: Float, count: Int) {
        let scale = denominator + penalty + spectralEpsilon
        if exponent == 1 {
            for i in 0..<count { x[i] = floored(x[i] * numerator[i] / scale) }
        } else {
            for i in 0..<count {
                x[i] = floored(x[i] * Float.pow(numerator[i] / scale, exponent))
            }
        }
    }

    /// max(x, activationFloor), with NaN mapped to the floor too, so a 0/0 cannot poison a factor.
    @inline(__always) func floored(_ x: Float) -> Float { x > activationFloor ? x : activationFloor }
}
