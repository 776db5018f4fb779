// SPDX-License-Identifier: GPL-3.0-or-later
// exp, log, sigmoid and tanh on eight lanes in plain Swift arithmetic, for the real-time path (the checker rejects libm calls).

/// e^x lane by lane, to about 2e-7 relative error for x in −87…88 (clamped outside): x = k·ln 2 + r
/// with |r| ≤ ½ ln 2, e^r by its degree-7 Taylor polynomial, 2^k from the exponent bits. k is
/// x/ln 2 rounded to nearest by adding and subtracting 1.5·2²³ (the sum's low mantissa bits are
/// then k + 2²², so no lane is converted on its own). Real-time safe.
@_noLocks @inlinable @inline(__always)
public func fastExp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let clamped = x.clamped(lowerBound: SIMD8(repeating: -87), upperBound: SIMD8(repeating: 88))
    let shifter = SIMD8<Float>(repeating: 12_582_912)   // 1.5·2²³
    let shifted = clamped * 1.442_695_04 + shifter
    let kf = shifted - shifter
    let k = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) & 0x007F_FFFF) &- 0x0040_0000
    let r = (clamped - kf * 0.693_145_75) - kf * 1.428_606_8e-6   // ln 2, split for accuracy
    var p = SIMD8<Float>(repeating: 1.0 / 5040)
    p = p * r + 1.0 / 720
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    let scale = unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: k &+ 127) &<< 23, to: SIMD8<Float>.self)
    return p * scale
}

/// 1/(1 + e^−x) lane by lane. Real-time safe.
@_noLocks @inlinable @inline(__always)
public func fastSigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> { 1 / (1 + fastExp(-x)) }

/// tanh x = 2·σ(2x) − 1 lane by lane (absolute error below 1e-6). Real-time safe.
@_noLocks @inlinable @inline(__always)
public func fastTanh(_ x: SIMD8<Float>) -> SIMD8<Float> { 2 / (1 + fastExp(-2 * x)) - 1 }

/// Natural logarithm lane by lane of positive normal floats, to about 2 ulp: x = m·2^e with m in
/// [√½, √2), log m = 2·atanh(s), s = (m−1)/(m+1), by its odd series to s⁹ (|s| ≤ 0.172, so the next
/// term is < 4e-10). Zero gives a large negative finite value. Real-time safe.
@_noLocks @inlinable @inline(__always)
public func fastLog(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let bits = unsafeBitCast(x, to: SIMD8<Int32>.self)
    var exponent = (bits &>> 23) &- 127
    var m = unsafeBitCast((bits & 0x007F_FFFF) | 0x3F80_0000, to: SIMD8<Float>.self)
    let high = m .> 1.414_213_56
    m.replace(with: m * 0.5, where: high)
    exponent.replace(with: exponent &+ 1, where: high)
    let s = (m - 1) / (m + 1), s2 = s * s
    let series = s * (2 + s2 * (0.666_666_667 + s2 * (0.4 + s2 * (0.285_714_286 + s2 * 0.222_222_222))))
    return SIMD8<Float>(exponent) * 0.693_147_181 + series
}

/// Natural logarithm of max(x, 1e-30): `fastLog` on one lane. Real-time safe.
@_noLocks @inlinable @inline(__always)
public func fastLog(_ x: Float) -> Float { fastLog(SIMD8(repeating: max(x, 1e-30)))[0] }
