// SPDX-License-Identifier: GPL-3.0-or-later
// One zero-filled allocation of floats handed out as consecutive slices: the scratch of every kernel.

/// A single allocation of `capacity` floats, zero-filled, carved into slices by `take` in the order
/// the owner declares its buffers, and freed when the arena goes away. The engine's solver, the
/// trainer's and the decomposer's workspaces all allocate this way, so their scratch is one block
/// (one `malloc`, contiguous, easy to size). The block starts on a 64-byte boundary (a cache line,
/// two AVX registers), so slices whose sizes are multiples of 8 floats start 32-byte aligned.
/// Allocates in `init` only; `take` is pointer arithmetic.
public struct FloatArena: ~Copyable {
    /// The first float of the allocation.
    public let base: UnsafeMutablePointer<Float>
    /// Floats in the allocation.
    public let capacity: Int
    private var used = 0

    /// Allocates `capacity` floats (≥ 0) and sets them to 0.
    public init(capacity: Int) {
        precondition(capacity >= 0, "arena capacity \(capacity) is negative")
        let count = max(capacity, 1)
        base = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
        base.initialize(repeating: 0, count: count)
        self.capacity = capacity
    }

    /// The next `count` floats. Traps when the arena would overflow: the owner sized it wrongly.
    public mutating func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        precondition(count >= 0 && used + count <= capacity, "arena of \(capacity) floats overflows (\(used) + \(count))")
        defer { used += count }
        return base + used
    }

    deinit { UnsafeMutableRawPointer(base).deallocate() }
}
