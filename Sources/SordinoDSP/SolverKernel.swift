// SPDX-License-Identifier: GPL-3.0-or-later
// The activation solver's inner loops: eight rows of W against h, and the same rows added into Wᵀ·P.

/// (W·h)_f for the 8 rows of W at `rows` (each `stride` floats, a multiple of 8, zero-padded),
/// lane i the row i. One pass over the rows with h loaded once per chunk of 8 atoms and one SIMD8
/// accumulator per row (eight independent chains, enough to hide the multiply-add latency), then
/// the eight horizontal sums at once (`laneSums`). Cost: 8 × stride multiply-adds. Real-time safe.
@_noLocks @inline(__always)
func rowProducts(_ rows: UnsafePointer<Float>, stride: Int, _ h: UnsafePointer<Float>) -> SIMD8<Float> {
    var a0 = SIMD8<Float>.zero, a1 = SIMD8<Float>.zero, a2 = SIMD8<Float>.zero, a3 = SIMD8<Float>.zero
    var a4 = SIMD8<Float>.zero, a5 = SIMD8<Float>.zero, a6 = SIMD8<Float>.zero, a7 = SIMD8<Float>.zero
    let r1 = rows + stride, r2 = rows + 2 * stride, r3 = rows + 3 * stride
    let r4 = rows + 4 * stride, r5 = rows + 5 * stride, r6 = rows + 6 * stride, r7 = rows + 7 * stride
    var j = 0
    while j < stride {
        let x = load8(h + j)
        a0 = multiplyAdd(load8(rows + j), x, a0)
        a1 = multiplyAdd(load8(r1 + j), x, a1)
        a2 = multiplyAdd(load8(r2 + j), x, a2)
        a3 = multiplyAdd(load8(r3 + j), x, a3)
        a4 = multiplyAdd(load8(r4 + j), x, a4)
        a5 = multiplyAdd(load8(r5 + j), x, a5)
        a6 = multiplyAdd(load8(r6 + j), x, a6)
        a7 = multiplyAdd(load8(r7 + j), x, a7)
        j += 8
    }
    return laneSums(a0, a1, a2, a3, a4, a5, a6, a7)
}

/// Lane i = the sum of the lanes of `a_i`: a transpose-and-add tree (halves, then even/odd pairs,
/// twice), 7 vector adds for all eight sums. Real-time safe.
@_noLocks @inline(__always)
func laneSums(_ a0: SIMD8<Float>, _ a1: SIMD8<Float>, _ a2: SIMD8<Float>, _ a3: SIMD8<Float>,
              _ a4: SIMD8<Float>, _ a5: SIMD8<Float>, _ a6: SIMD8<Float>, _ a7: SIMD8<Float>) -> SIMD8<Float> {
    // Each half of b01 holds four partial sums of a0 (low) or a1 (high), and so on.
    let b01 = SIMD8(lowHalf: a0.lowHalf, highHalf: a1.lowHalf) + SIMD8(lowHalf: a0.highHalf, highHalf: a1.highHalf)
    let b23 = SIMD8(lowHalf: a2.lowHalf, highHalf: a3.lowHalf) + SIMD8(lowHalf: a2.highHalf, highHalf: a3.highHalf)
    let b45 = SIMD8(lowHalf: a4.lowHalf, highHalf: a5.lowHalf) + SIMD8(lowHalf: a4.highHalf, highHalf: a5.highHalf)
    let b67 = SIMD8(lowHalf: a6.lowHalf, highHalf: a7.lowHalf) + SIMD8(lowHalf: a6.highHalf, highHalf: a7.highHalf)
    // Two partial sums per row: lanes (a0, a0, a1, a1, a2, a2, a3, a3) and the same for a4…a7.
    let c0 = SIMD8(lowHalf: b01.evenHalf, highHalf: b23.evenHalf) + SIMD8(lowHalf: b01.oddHalf, highHalf: b23.oddHalf)
    let c1 = SIMD8(lowHalf: b45.evenHalf, highHalf: b67.evenHalf) + SIMD8(lowHalf: b45.oddHalf, highHalf: b67.oddHalf)
    return SIMD8(lowHalf: c0.evenHalf, highHalf: c1.evenHalf) + SIMD8(lowHalf: c0.oddHalf, highHalf: c1.oddHalf)
}

/// y += Σᵢ weights[i] · row i, for the 8 rows at `rows` (each `stride` floats, a multiple of 8; `y`
/// as long). Two chains per chunk (even and odd rows), joined before the store: half the
/// dependent multiply-adds of one chain. Cost: 8 × stride multiply-adds. Real-time safe.
@_noLocks @inline(__always)
func addRows(_ rows: UnsafePointer<Float>, stride: Int, weights: SIMD8<Float>, into y: UnsafeMutablePointer<Float>) {
    let w0 = SIMD8<Float>(repeating: weights[0]), w1 = SIMD8<Float>(repeating: weights[1])
    let w2 = SIMD8<Float>(repeating: weights[2]), w3 = SIMD8<Float>(repeating: weights[3])
    let w4 = SIMD8<Float>(repeating: weights[4]), w5 = SIMD8<Float>(repeating: weights[5])
    let w6 = SIMD8<Float>(repeating: weights[6]), w7 = SIMD8<Float>(repeating: weights[7])
    let r1 = rows + stride, r2 = rows + 2 * stride, r3 = rows + 3 * stride
    let r4 = rows + 4 * stride, r5 = rows + 5 * stride, r6 = rows + 6 * stride, r7 = rows + 7 * stride
    var j = 0
    while j < stride {
        var even = multiplyAdd(load8(rows + j), w0, load8(y + j))
        var odd = load8(r1 + j) * w1
        even = multiplyAdd(load8(r2 + j), w2, even)
        odd = multiplyAdd(load8(r3 + j), w3, odd)
        even = multiplyAdd(load8(r4 + j), w4, even)
        odd = multiplyAdd(load8(r5 + j), w5, odd)
        even = multiplyAdd(load8(r6 + j), w6, even)
        odd = multiplyAdd(load8(r7 + j), w7, odd)
        UnsafeMutableRawPointer(y + j).storeBytes(of: even + odd, as: SIMD8<Float>.self)
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
