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
/// The trainer's H-step and W-step both call these functions. For β ∈ {0, 1, 2} they delegate to
/// `SordinoDSP.BetaUpdate`, the very kernel `ActivationSolver` runs live; β ∉ {0, 1, 2} uses one
/// `pow` per entry here. Cost: O(count) per call; the GEMMs around it dominate.
struct MultiplicativeUpdate: Sendable {
    enum Kind: Sendable { case itakuraSaito, kullbackLeibler, euclidean, general }

    let kind: Kind
    /// γ(β), the MM exponent: 1/(2−β) below 1, 1 on [1, 2], 1/(β−1) above 2.
    let exponent: Float
    let betaMinusTwo: Float
    /// β as 0, 1 or 2 for the kinds `BetaUpdate` implements.
    let integerBeta: Int

    init(beta: Double) {
        switch beta {
        case 0: kind = .itakuraSaito
        case 1: kind = .kullbackLeibler
        case 2: kind = .euclidean
        default: kind = .general
        }
        exponent = Float(BetaDivergence(beta).updateExponent)
        betaMinusTwo = Float(beta - 2)
        integerBeta = kind == .itakuraSaito ? 0 : (kind == .kullbackLeibler ? 1 : 2)
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
        case .itakuraSaito, .kullbackLeibler, .euclidean:
            BetaUpdate.weigh(beta: integerBeta, data: v, model: model, numeratorWeights: p, denominatorWeights: q,
                             count: count, epsilon: spectralEpsilon)
        case .general:
            for i in 0..<count {
                let lambda = model[i] + spectralEpsilon
                let power = Float.pow(lambda, betaMinusTwo)
                p[i] = v[i] * power
                q[i] = lambda * power
            }
        }
    }

    /// x ← max(x · (num / (den + penalty + ε))^γ, activationFloor) for `count` entries; `denominator`
    /// is scratch for β = 0 (overwritten).
    @inline(__always)
    func step(_ x: UnsafeMutablePointer<Float>, numerator: UnsafePointer<Float>,
              denominator: UnsafeMutablePointer<Float>, penalty: Float, count: Int) {
        if kind != .general {
            BetaUpdate.step(beta: integerBeta, x, numerator: numerator, denominator: denominator, penalty: penalty,
                            count: count, epsilon: spectralEpsilon, floor: activationFloor)
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
        // Only β = 1 has a shared denominator (Q ≡ 1), and its exponent is 1: BetaUpdate's rule.
        let scale = denominator + penalty + spectralEpsilon
        for i in 0..<count { x[i] = floored(x[i] * numerator[i] / scale) }
    }

    /// max(x, activationFloor), with NaN mapped to the floor too, so a 0/0 cannot poison a factor.
    @inline(__always) func floored(_ x: Float) -> Float { BetaUpdate.floored(x, activationFloor) }
}
