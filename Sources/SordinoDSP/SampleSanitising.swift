// SPDX-License-Identifier: GPL-3.0-or-later
// Input samples no analysis can use as they are: NaN and ±Inf replaced by 0, finite samples beyond a limit clamped to it.

/// Replaces NaN and ±Inf among `x[0 ..< count]` by 0 and clamps finite samples beyond ±`limit` to
/// it; returns how many of each it changed. The engine runs it on a hop whose energy says a sample
/// may be out of bounds, the noise learner on what it captured. Real-time safe.
@_noLocks
public func sanitiseSamples(_ x: UnsafeMutablePointer<Float>, count: Int, limit: Float) -> (nonFinite: Int, clamped: Int) {
    var nonFinite = 0, clamped = 0
    for i in 0..<count {
        let value = x[i]
        if !value.isFinite {
            x[i] = 0
            nonFinite += 1
        } else if abs(value) > limit {
            x[i] = value > 0 ? limit : -limit
            clamped += 1
        }
    }
    return (nonFinite, clamped)
}
