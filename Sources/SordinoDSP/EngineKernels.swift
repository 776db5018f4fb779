// SPDX-License-Identifier: GPL-3.0-or-later
// Eight-lane helpers of the engine's kernels: the solver's partial sums added together, unaligned loads and stores.

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

/// Stores eight floats at `p`, any alignment. Real-time safe.
@_noLocks @inline(__always)
func store8(_ value: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: value, as: SIMD8<Float>.self)
}

/// Σ x[i] for i < `count`, in eight partial sums (a sum's four-cycle latency does not bound the loop),
/// then the rest one by one. Real-time safe.
@_noLocks @inline(__always)
func sumOfFloats(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = SIMD8<Float>.zero, i = 0
    while i + 8 <= count {
        lanes += load8(x + i)
        i += 8
    }
    var total = lanes.sum()
    while i < count {
        total += x[i]
        i += 1
    }
    return total
}

/// Σ x[i]² for i < `count`, summed as `sumOfFloats` sums. Real-time safe.
@_noLocks @inline(__always)
func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = SIMD8<Float>.zero, i = 0
    while i + 8 <= count {
        let chunk = load8(x + i)
        lanes += chunk * chunk
        i += 8
    }
    var total = lanes.sum()
    while i < count {
        total += x[i] * x[i]
        i += 1
    }
    return total
}
