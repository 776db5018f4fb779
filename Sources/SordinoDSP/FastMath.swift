// SPDX-License-Identifier: GPL-3.0-or-later
// The logarithm on eight lanes in plain Swift arithmetic, for the real-time path (the checker rejects libm calls).

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
