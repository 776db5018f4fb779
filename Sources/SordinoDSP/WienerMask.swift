// SPDX-License-Identifier: GPL-3.0-or-later
// Wiener-style mask from the speech and noise estimates, with a floor and smoothing over time.

/// G = Ŝ^p / (Ŝ^p + N̂^p) per bin (0 where both are 0), then one-pole smoothing over frames (G ← α·G_prev + (1−α)·G,
/// kept in `previous`), then max(G, floor). p ∈ {1, 2}; the result lies in [floor, 1] and is finite
/// for any finite non-negative estimates, zeros included. Cost: a few flops per bin. Real-time safe.
@_noLocks @inline(__always)
public func wienerMask(speech: UnsafePointer<Float>, noise: UnsafePointer<Float>, binCount: Int,
                       exponent: Int, floor: Float, smoothing alpha: Float,
                       previous: UnsafeMutablePointer<Float>, into mask: UnsafeMutablePointer<Float>) {
    for f in 0..<binCount {
        var s = speech[f], n = noise[f]
        if exponent == 2 { s *= s; n *= n }
        let total = s + n
        var g = total > 0 ? s / total : 0      // both estimates zero: nothing speech-like here
        g = alpha * previous[f] + (1 - alpha) * g
        if !(g >= 0) { g = 1 }    // NaN guard: a diverged estimate passes the frame through
        previous[f] = min(g, 1)
        mask[f] = min(max(g, floor), 1)
    }
}
