// SPDX-License-Identifier: GPL-3.0-or-later
// SQUAREM for `Decomposer`: squared extrapolation over two monotone update passes, kept only if it beats them.

import RealModule
import SordinoDSP

/// How `Decomposer` spends its update passes. A pass is one evaluation of the fixed-point map F of
/// the update algorithm: θ = (W, H) ↦ (W', H') by a W step (when learning it) then an H step, the
/// work of one plain iteration.
public enum Acceleration: String, Sendable, CaseIterable, Hashable {
    /// θ ← F(θ) at every pass.
    case none
    /// SQUAREM (Varadhan & Roland 2008, Scand. J. Statist. 35(2), scheme S3) on F of `.mm` or `.me`,
    /// three passes per cycle: from θ₀, θ₁ = F(θ₀), θ₂ = F(θ₁), then r = θ₁ − θ₀, v = θ₂ − θ₁ − r,
    /// α = −‖r‖/‖v‖ clamped to [−s_max, −1] (α = −1 gives θ₂), θ' = θ₀ − 2α·r + α²·v floored at
    /// `activationFloor`, and the stabilising pass θ'' = F(θ'). θ'' is kept if D(θ'') ≤ D(θ₂), else θ₂
    /// (the safeguard), so a cycle never ends above two plain passes and the objective never rises.
    /// θ is taken entry-wise in logarithms (log W, log H): the updates are multiplicative, so the
    /// extrapolation stays positive and follows their geometry. Measured on 2 s of speech (257 bins,
    /// rank 8), passes of MM to reach MU's 200-iteration objective at β = 0, 1, 2: 69, 78, 78 in
    /// logarithms, 84, 63, 144 on W and H themselves (with the projection max(θ', floor)); on 30 s
    /// at 44.1 kHz, β = 1, 2: 87, 102 in logarithms, 114, 132 without (`DecompositionOptions.acceleration`).
    /// s_max starts at 1 and is multiplied by 4 whenever a step at the bound is kept (the R package
    /// SQUAREM's step.max0 = 1, mstep = 4); a rejected step s sets s_max = max(1, s/4). The package
    /// shrinks s_max only when the rejected step was at the bound: 77, 75, 98 passes in the
    /// measurement above. Fewer than three passes left: plain passes. A rejected cycle costs one more
    /// Λ = W·H and weight pass (to return to θ₂) on top of its three passes; a cycle also takes
    /// 3 `log` and 1 `exp` per entry of W and H (one more `exp` when rejected).
    case squarem
}

/// The iterates of one SQUAREM cycle, as logarithms of W's entries then H's, and the step bound
/// carried between cycles. Memory: 3 × (bins·rank + rank·frames) doubles, small beside V.
final class SquaremCycle {
    enum Slot { case start, first, second }

    /// s_max, the bound on the step length s = −α ≥ 1.
    private(set) var stepBound: Double = 1
    /// s of the last extrapolation.
    private(set) var step: Double = 1
    private let basisCount: Int, activationCount: Int
    private let start: UnsafeMutablePointer<Double>, first: UnsafeMutablePointer<Double>, second: UnsafeMutablePointer<Double>
    static let boundFactor = 4.0

    init(basisCount: Int, activationCount: Int) {
        self.basisCount = basisCount
        self.activationCount = activationCount
        let n = basisCount + activationCount
        start = .allocate(capacity: 3 * n)
        start.initialize(repeating: 0, count: 3 * n)
        first = start + n
        second = first + n
    }

    deinit { start.deallocate() }

    /// Stores log W and log H of the current factors in `slot` (entries below `activationFloor`, only
    /// possible in the initial factors, count as the floor).
    func save(_ slot: Slot, basis w: UnsafePointer<Float>, activations h: UnsafePointer<Float>) {
        let p = switch slot {
        case .start: start
        case .first: first
        case .second: second
        }
        let floor = activationFloor
        for i in 0..<basisCount { p[i] = Double.log(Double(max(w[i], floor))) }
        for i in 0..<activationCount { p[basisCount + i] = Double.log(Double(max(h[i], floor))) }
    }

    /// Puts θ₂ back into W and H (the safeguard rejected the extrapolation). exp∘log in double precision
    /// returns each float exactly.
    func restoreSecond(basis w: UnsafeMutablePointer<Float>, activations h: UnsafeMutablePointer<Float>) {
        for i in 0..<basisCount { w[i] = Float(Double.exp(second[i])) }
        for i in 0..<activationCount { h[i] = Float(Double.exp(second[basisCount + i])) }
    }

    /// Writes θ' = max(exp(log θ₀ + 2s·r + s²·v), `activationFloor`) into W and H, with r and v the
    /// differences of log θ, s = ‖r‖/‖v‖ clamped to [1, s_max] (1 when ‖v‖ = 0), norms over all
    /// entries of W and H together.
    func extrapolate(basis w: UnsafeMutablePointer<Float>, activations h: UnsafeMutablePointer<Float>) {
        let n = basisCount + activationCount
        var rr = 0.0, vv = 0.0
        for i in 0..<n {
            let r = first[i] - start[i], v = second[i] - first[i] - r
            rr += r * r
            vv += v * v
        }
        let ratio = vv > 0 ? (rr / vv).squareRoot() : 1
        step = ratio.isFinite ? min(max(ratio, 1), stepBound) : 1
        let s = step, floor = activationFloor
        for i in 0..<n {
            let r = first[i] - start[i], v = second[i] - first[i] - r
            let x = max(Float(Double.exp(start[i] + 2 * s * r + s * s * v)), floor)
            if i < basisCount { w[i] = x } else { h[i - basisCount] = x }
        }
    }

    /// Updates s_max after the safeguard kept (`true`) or rejected θ''.
    func settle(kept: Bool) {
        if !kept {
            stepBound = max(1, step / Self.boundFactor)
        } else if step == stepBound {
            stepBound *= Self.boundFactor
        }
    }
}
