// SPDX-License-Identifier: GPL-3.0-or-later
// x·a + b on eight lanes: fused where the build targets a CPU with FMA, a multiply then an add elsewhere.

/// x·a + b lane by lane. Fused (one rounding, one `vfmadd` per 8 lanes with AVX2) when the build
/// targets a CPU with FMA: always on aarch64, and on x86-64 when built with
/// `SORDINO_TARGET_CPU=haswell` (or newer; Package.swift then defines `SORDINO_FMA`). Elsewhere a
/// multiply then an add: Swift's `addingProduct` would call libm's `fmaf` once per lane there.
/// Real-time safe.
@_transparent
public func multiplyAdd(_ x: SIMD8<Float>, _ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
    #if arch(arm64) || SORDINO_FMA
    b.addingProduct(x, a)
    #else
    x * a + b
    #endif
}

/// True when `multiplyAdd` is fused in this build.
public var multiplyAddIsFused: Bool {
    #if arch(arm64) || SORDINO_FMA
    true
    #else
    false
    #endif
}
