// SPDX-License-Identifier: GPL-3.0-or-later
// SQUAREM for `Decomposer`: squared extrapolation over two monotone update passes, kept only if it beats them.

import SordinoDSP

/// How `Decomposer` spends its update passes. A pass is one evaluation of the fixed-point map F of
/// the update algorithm: θ = (W, H) ↦ (W', H') by a W step (when learning it) then an H step, the
/// work of one plain iteration.
public enum Acceleration: String, Sendable, CaseIterable, Hashable {
    /// θ ← F(θ) at every pass.
    case none
    /// SQUAREM (Varadhan & Roland 2008, Scand. J. Statist. 35(2), scheme S3) on F of `.mm` or `.me`,
    /// three passes per cycle: from θ₀, θ₁ = F(θ₀), θ₂ = F(θ₁), r = θ₁ − θ₀, v = θ₂ − θ₁ − r,
    /// α = −‖r‖/‖v‖ clamped to [−s_max, −1] (α = −1 gives θ₂), θ' = max(θ₀ − 2α·r + α²·v, floor),
    /// then the stabilising pass θ'' = F(θ'). θ'' is kept if D(θ'') ≤ D(θ₂), otherwise θ₂ is (the
    /// safeguard), so a cycle never ends above two plain passes and the objective never increases.
    /// s_max starts at 1 and is multiplied by 4 whenever a step at the bound is kept (the R package
    /// SQUAREM's step.max0 = 1, mstep = 4); a rejected step s sets s_max = max(1, s/4). (The package
    /// shrinks s_max only when the rejected step was at the bound; on 2 s of speech, rank 8, that took
    /// 114, 81 and 144 passes to reach MU's 200-iteration objective at β = 0, 1, 2, this 84, 63, 144.)
    /// Fewer than three passes left: plain passes. A rejected cycle costs one more Λ = W·H and weight
    /// pass (to return to θ₂) on top of its three passes.
    case squarem
}

/// The iterates of one SQUAREM cycle (W's entries, then H's) and the step bound carried between
/// cycles. Memory: 3 × (bins·rank + rank·frames) floats, small beside V.
final class SquaremCycle {
    enum Slot { case start, first, second }

    /// s_max, the bound on the step length s = −α ≥ 1.
    private(set) var stepBound: Double = 1
    /// s of the last extrapolation.
    private(set) var step: Double = 1
    private let basisCount: Int, activationCount: Int
    private let start: UnsafeMutablePointer<Float>, first: UnsafeMutablePointer<Float>, second: UnsafeMutablePointer<Float>
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

    private func pointer(_ slot: Slot) -> UnsafeMutablePointer<Float> {
        switch slot {
        case .start: start
        case .first: first
        case .second: second
        }
    }

    /// Copies the current W and H into `slot`.
    func save(_ slot: Slot, basis w: UnsafePointer<Float>, activations h: UnsafePointer<Float>) {
        let p = pointer(slot)
        p.update(from: w, count: basisCount)
        (p + basisCount).update(from: h, count: activationCount)
    }

    /// Puts θ₂ back into W and H (the safeguard rejected the extrapolation).
    func restoreSecond(basis w: UnsafeMutablePointer<Float>, activations h: UnsafeMutablePointer<Float>) {
        w.update(from: second, count: basisCount)
        h.update(from: second + basisCount, count: activationCount)
    }

    /// Writes θ' = max(θ₀ + 2s·r + s²·v, `activationFloor`) into W and H, with s = ‖r‖/‖v‖ clamped to
    /// [1, s_max] (1 when ‖v‖ = 0), norms over all entries of W and H together, in double precision.
    func extrapolate(basis w: UnsafeMutablePointer<Float>, activations h: UnsafeMutablePointer<Float>) {
        let n = basisCount + activationCount
        var rr = 0.0, vv = 0.0
        for i in 0..<n {
            let r = Double(first[i]) - Double(start[i]), v = Double(second[i]) - Double(first[i]) - r
            rr += r * r
            vv += v * v
        }
        let ratio = vv > 0 ? (rr / vv).squareRoot() : 1
        step = ratio.isFinite ? min(max(ratio, 1), stepBound) : 1
        let s = step, floor = Double(activationFloor)
        for i in 0..<n {
            let r = Double(first[i]) - Double(start[i]), v = Double(second[i]) - Double(first[i]) - r
            let x = Float(max(Double(start[i]) + 2 * s * r + s * s * v, floor))
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
