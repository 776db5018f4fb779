// SPDX-License-Identifier: GPL-3.0-or-later
// The mean noise spectrum of noise-only frames, and the lower bound it puts on the NMF noise estimate.

/// Averages the spectrum of a noise-only frame into `mean`, bin by bin: M ← a·M + (1 − a)·V, in
/// the units of V. Call it on noise-only frames only. Real-time safe.
@_noLocks @inline(__always)
public func averageNoiseSpectrum(_ v: UnsafePointer<Float>, into mean: UnsafeMutablePointer<Float>,
                                 binCount: Int, memory a: Float) {
    for f in 0..<binCount { mean[f] = a * mean[f] + (1 - a) * v[f] }
}

/// Raises the noise estimate N̂ to at least `factor`·M in every bin (M the mean noise spectrum of
/// noise-only frames). Where the speech dictionary explains part of the noise during speech (babble,
/// broadband noise under high harmonics), N̂ falls below what the noise was just measured to be; the
/// bound puts it back, so the mask removes that noise too. Bins louder than the bound are untouched.
/// Real-time safe.
@_noLocks @inline(__always)
public func boundNoiseEstimate(_ noise: UnsafeMutablePointer<Float>, mean: UnsafePointer<Float>,
                               factor: Float, binCount: Int) {
    for f in 0..<binCount {
        let bound = factor * mean[f]
        noise[f] = noise[f] > bound ? noise[f] : bound
    }
}
