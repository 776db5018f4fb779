// SPDX-License-Identifier: GPL-3.0-or-later
// The activation solver's inner loops: up to four rows of W against h, and the same rows added into Wᵀ·P.

/// (W·h)_f for the `count` (1…4) rows of W at `rows` (each `stride` floats, a multiple of 8,
/// zero-padded), lanes `count`… of the result 0. One pass over the rows with h loaded once per
/// chunk of 8, one SIMD8 accumulator per row. Cost: count × stride multiply-adds. Real-time safe.
@_noLocks @inline(__always)
func rowProducts(_ rows: UnsafePointer<Float>, count: Int, stride: Int, _ h: UnsafePointer<Float>) -> SIMD4<Float> {
    var acc0 = SIMD8<Float>.zero, acc1 = SIMD8<Float>.zero, acc2 = SIMD8<Float>.zero, acc3 = SIMD8<Float>.zero
    let r1 = rows + (count > 1 ? stride : 0), r2 = rows + (count > 2 ? 2 * stride : 0)
    let r3 = rows + (count > 3 ? 3 * stride : 0)
    var j = 0
    while j < stride {
        let x = load8(h + j)
        acc0 = multiplyAdd(load8(rows + j), x, acc0)
        acc1 = multiplyAdd(load8(r1 + j), x, acc1)
        acc2 = multiplyAdd(load8(r2 + j), x, acc2)
        acc3 = multiplyAdd(load8(r3 + j), x, acc3)
        j += 8
    }
    let sums = SIMD4<Float>(acc0.sum(), acc1.sum(), acc2.sum(), acc3.sum())
    return SIMD4<Float>(sums[0], count > 1 ? sums[1] : 0, count > 2 ? sums[2] : 0, count > 3 ? sums[3] : 0)
}

/// y += Σᵢ weights[i] · row i, for the `count` (1…4) rows at `rows` (each `stride` floats, a
/// multiple of 8; `y` as long). Rows beyond `count` get weight 0. Cost: 4 × stride multiply-adds.
/// Real-time safe.
@_noLocks @inline(__always)
func addRows(_ rows: UnsafePointer<Float>, count: Int, stride: Int, weights: SIMD4<Float>,
             into y: UnsafeMutablePointer<Float>) {
    let w0 = SIMD8<Float>(repeating: weights[0]), w1 = SIMD8<Float>(repeating: count > 1 ? weights[1] : 0)
    let w2 = SIMD8<Float>(repeating: count > 2 ? weights[2] : 0), w3 = SIMD8<Float>(repeating: count > 3 ? weights[3] : 0)
    let r1 = rows + (count > 1 ? stride : 0), r2 = rows + (count > 2 ? 2 * stride : 0)
    let r3 = rows + (count > 3 ? 3 * stride : 0)
    var j = 0
    while j < stride {
        var sum = load8(y + j)
        sum = multiplyAdd(load8(rows + j), w0, sum)
        sum = multiplyAdd(load8(r1 + j), w1, sum)
        sum = multiplyAdd(load8(r2 + j), w2, sum)
        sum = multiplyAdd(load8(r3 + j), w3, sum)
        UnsafeMutableRawPointer(y + j).storeBytes(of: sum, as: SIMD8<Float>.self)
        j += 8
    }
}

/// x[i] ← (x[i] + x[count + i]) + (x[2·count + i] + x[3·count + i]) for i < `count` (a multiple
/// of 8): four partial sums into the first. Real-time safe.
@_noLocks @inline(__always)
func addPartialSums(_ x: UnsafeMutablePointer<Float>, count: Int) {
    var j = 0
    while j < count {
        let sum = (load8(x + j) + load8(x + count + j)) + (load8(x + 2 * count + j) + load8(x + 3 * count + j))
        UnsafeMutableRawPointer(x + j).storeBytes(of: sum, as: SIMD8<Float>.self)
        j += 8
    }
}

/// Eight floats from `p`, any alignment.
@_noLocks @inline(__always)
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
