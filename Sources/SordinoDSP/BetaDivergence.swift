// SPDX-License-Identifier: GPL-3.0-or-later
// β-divergence: the NMF cost, its multiplicative-update exponent, and its value for tests and training.

import RealModule

/// The β-divergence d_β(v | λ) between data v ≥ 0 and model λ > 0 (Févotte & Idier 2011):
/// β = 0 Itakura–Saito, β = 1 Kullback–Leibler (generalised), β = 2 half squared Euclidean.
/// The one type of β everywhere (engine configuration, presets, training and decomposition
/// options); written as a plain number in JSON, so `1` in code and in a preset reads as KL.
public struct BetaDivergence: Sendable, Hashable, Codable, CustomStringConvertible,
    ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral
{
    /// The β parameter; any real value (the live engine accepts 0, 1 and 2).
    public let beta: Double

    public init(_ beta: Double) { self.beta = beta }
    public init(integerLiteral value: Int) { beta = Double(value) }
    public init(floatLiteral value: Double) { beta = value }

    /// A number in JSON: an integer when β is one (as presets have always stored it).
    public init(from decoder: any Decoder) throws {
        beta = try decoder.singleValueContainer().decode(Double.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if beta == beta.rounded(), abs(beta) < 1e9 { try container.encode(Int(beta)) } else { try container.encode(beta) }
    }

    /// Whether the live solver (`ActivationSolver`) implements it: β ∈ {0, 1, 2}.
    public var isLiveSolvable: Bool { beta == 0 || beta == 1 || beta == 2 }

    public static let itakuraSaito = BetaDivergence(0)
    public static let kullbackLeibler = BetaDivergence(1)
    public static let euclidean = BetaDivergence(2)

    /// The majorisation-minimisation exponent γ(β) of the multiplicative update
    /// (Févotte & Idier 2011, eq. 19): 1/(2−β) for β < 1, 1 for 1 ≤ β ≤ 2, 1/(β−1) for β > 2.
    /// With it the update never increases the objective, for every β.
    public var updateExponent: Double {
        if beta < 1 { return 1 / (2 - beta) }
        if beta > 2 { return 1 / (beta - 1) }
        return 1
    }

    /// d_β(v | λ) for one pair; λ is guarded by `spectralEpsilon`. Double precision, for tests and training logs.
    public func value(data v: Double, model: Double) -> Double {
        let l = model + Double(spectralEpsilon)
        switch beta {
        case 0:
            let r = (v + Double(spectralEpsilon)) / l
            return r - Double.log(r) - 1
        case 1:
            return v > 0 ? v * Double.log(v / l) - v + l : l
        case 2:
            return 0.5 * (v - l) * (v - l)
        default:
            return (Double.pow(v, beta) + (beta - 1) * Double.pow(l, beta) - beta * v * Double.pow(l, beta - 1))
                / (beta * (beta - 1))
        }
    }

    public var description: String {
        switch beta {
        case 0: "β = 0 (Itakura–Saito)"
        case 1: "β = 1 (Kullback–Leibler)"
        case 2: "β = 2 (Euclidean)"
        default: "β = \(beta)"
        }
    }
}
