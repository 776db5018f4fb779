// SPDX-License-Identifier: GPL-3.0-or-later
// Shared numeric constants and the few vector kernels every real-time loop uses.


/// Added to every NMF and mask denominator: about 1e-10 of a full-scale bin's magnitude, far
/// below audibility, yet digital silence gives a finite ratio instead of 0/0.
@_transparent public var spectralEpsilon: Float { 1e-10 }

/// Activations never fall below this after an update: a zero activation would stay zero for
/// ever under multiplicative updates, so a warm-started atom could never come back.
@_transparent public var activationFloor: Float { 1e-12 }

/// Rounds `count` up to a multiple of 8 floats (one `SIMD8<Float>`), the padding of every arena slice.
@inline(__always) public func paddedToLanes(_ count: Int) -> Int { (count + 7) & ~7 }

/// Element-wise square root of `count` floats (≥ 0) in place (`sordino_square_root`: eight lanes at
/// a time with AVX2). Real-time safe.
@_noLocks @inline(__always)
public func squareRootInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
    run(.squareRoot(x, count: count))
}

/// Copies `count` floats from `source` to `destination`; the ranges may overlap (memmove). Real-time safe.
@_noLocks @inline(__always)
public func copyFloats(_ destination: UnsafeMutablePointer<Float>, from source: UnsafePointer<Float>, count: Int) {
    UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * MemoryLayout<Float>.stride)
}
