// SPDX-License-Identifier: GPL-3.0-or-later
// Multiply-adds on eight lanes: x·a + b (fused where the build targets a CPU with FMA), and a matrix stored by columns times a vector.

/// x·a + b lane by lane. Fused (one rounding, one `vfmadd` per 8 lanes with AVX2) when the build
/// targets a CPU with FMA: always on aarch64, and on x86-64 when built with
/// `SORDINO_TARGET_CPU=haswell` (or newer; Package.swift then defines `SORDINO_FMA`). Elsewhere a
/// multiply then an add: Swift's `addingProduct` would call libm's `fmaf` once per lane there.
/// Real-time safe.
@_noLocks @inlinable @inline(__always)
public func multiplyAdd(_ x: SIMD8<Float>, _ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
    #if arch(arm64) || SORDINO_FMA
    b.addingProduct(x, a)
    #else
    var sum = b
    sum += x * a
    return sum
    #endif
}

/// y = Σ_c x[c] · column c, for a matrix stored column by column (`columns` columns of `stride`
/// floats each, `stride` a multiple of 8, the padding rows 0): y (stride floats) is M·x with the
/// rows in SIMD lanes, so no horizontal sum is needed. Each y[r] is summed over c in order, one
/// accumulator per row; four chunks of 8 rows at a time keep four independent chains per column.
/// Cost: columns × stride multiply-adds. Real-time safe.
@_noLocks @inline(__always)
public func multiplyColumns(_ m: UnsafePointer<Float>, columns: Int, stride: Int, _ x: UnsafePointer<Float>,
                            into y: UnsafeMutablePointer<Float>) {
    var r = 0
    while r + 32 <= stride {
        var acc0 = SIMD8<Float>.zero, acc1 = SIMD8<Float>.zero, acc2 = SIMD8<Float>.zero, acc3 = SIMD8<Float>.zero
        for c in 0..<columns {
            let column = m + c * stride + r, xc = SIMD8<Float>(repeating: x[c])
            acc0 = multiplyAdd(load8(column), xc, acc0)
            acc1 = multiplyAdd(load8(column + 8), xc, acc1)
            acc2 = multiplyAdd(load8(column + 16), xc, acc2)
            acc3 = multiplyAdd(load8(column + 24), xc, acc3)
        }
        store8(acc0, y + r); store8(acc1, y + r + 8); store8(acc2, y + r + 16); store8(acc3, y + r + 24)
        r += 32
    }
    while r < stride {
        var acc = SIMD8<Float>.zero
        for c in 0..<columns { acc = multiplyAdd(load8(m + c * stride + r), SIMD8<Float>(repeating: x[c]), acc) }
        store8(acc, y + r)
        r += 8
    }
}

/// Stores eight floats at `p`, any alignment. Real-time safe.
@_noLocks @inline(__always)
func store8(_ value: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: value, as: SIMD8<Float>.self)
}
