// SPDX-License-Identifier: GPL-3.0-or-later
// Eight-lane helpers of the engine's kernels: the solver's partial sums added together, unaligned loads.

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
