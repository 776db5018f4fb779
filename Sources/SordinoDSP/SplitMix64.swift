// SPDX-License-Identifier: GPL-3.0-or-later
// A seeded SplitMix64 generator: training, decomposition and tests are reproducible from a seed.

/// SplitMix64 (Steele, Lea & Flood 2014): a 64-bit state advanced by the golden-ratio increment
/// and mixed. Same seed ⇒ same sequence on every platform; not cryptographic.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform Float in [0, 1) from the top 24 bits of `next()`: spelled out here rather than
    /// `Float.random(in:using:)` so the mapping from seed to values is fixed by this file alone.
    public mutating func nextUnitFloat() -> Float { Float(next() >> 40) * 0x1p-24 }
}
