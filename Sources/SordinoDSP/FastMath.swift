// SPDX-License-Identifier: GPL-3.0-or-later
// exp, log, sigmoid and tanh in plain Swift arithmetic, for the real-time path (the checker rejects libm calls).

/// e^x to about 2e-7 relative error for x in −87…88 (clamped outside): x = k·ln 2 + r with
/// |r| ≤ ½ ln 2, e^r by its degree-7 Taylor polynomial, 2^k from the exponent bits. Real-time safe.
@_noLocks @inline(__always)
public func fastExp(_ x: Float) -> Float {
    let clamped = min(max(x, -87), 88)
    let t = clamped * 1.442_695_04
    let k = Int(t + (t >= 0 ? 0.5 : -0.5))
    let r = (clamped - Float(k) * 0.693_145_75) - Float(k) * 1.428_606_8e-6   // ln 2, split for accuracy
    var p: Float = 1.0 / 5040
    p = p * r + 1.0 / 720
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    return p * Float(bitPattern: UInt32(truncatingIfNeeded: k + 127) << 23)
}

/// Natural logarithm of max(x, 1e-30) to about 1e-6 absolute error: x = m·2^e with m in [1, 2),
/// log m = 2·atanh((m − 1)/(m + 1)) by its series to s⁹. Real-time safe.
@_noLocks @inline(__always)
public func fastLog(_ x: Float) -> Float {
    let bits = max(x, 1e-30).bitPattern
    let e = Int((bits >> 23) & 0xff) - 127
    let m = Float(bitPattern: (bits & 0x007f_ffff) | 0x3f80_0000)
    let s = (m - 1) / (m + 1), s2 = s * s
    var p: Float = 1.0 / 9
    p = p * s2 + 1.0 / 7
    p = p * s2 + 1.0 / 5
    p = p * s2 + 1.0 / 3
    p = p * s2 + 1
    return 2 * s * p + Float(e) * 0.693_147_18
}

/// 1/(1 + e^−x). Real-time safe.
@_noLocks @inline(__always)
public func fastSigmoid(_ x: Float) -> Float { 1 / (1 + fastExp(-x)) }

/// tanh x = 2·σ(2x) − 1 (absolute error below 1e-6). Real-time safe.
@_noLocks @inline(__always)
public func fastTanh(_ x: Float) -> Float { 2 / (1 + fastExp(-2 * x)) - 1 }
