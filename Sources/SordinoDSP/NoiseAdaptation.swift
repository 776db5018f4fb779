// SPDX-License-Identifier: GPL-3.0-or-later
// Online noise atoms: a few extra noise atoms re-learned from the frames that hold noise only.

/// Keeps `count` noise atoms (slots `firstSlot…`) learning the noise actually present, so a
/// generic noise basis is completed by what this room sounds like. On each noise-only frame
/// (see `Engine`) the atoms take one online multiplicative KL step with exponential forgetting
/// (the sufficient-statistics form of online NMF, Lefèvre, Bach & Févotte 2011):
///
///     Aₖ[f] ← γ·Aₖ[f] + wₖ[f]·hₖ·V[f]/Λ[f],   wₖ ← Aₖ / Σ_f Aₖ[f],
///
/// i.e. an hₖ-weighted, exponentially forgetting average of per-frame multiplicative updates,
/// with Λ = Ŝ + N̂ the frame's model after the solve. γ = exp(−hop/memory) per adapted frame.
/// Cost per adapted frame: about 4 × binCount × count flops. Real-time safe.
struct NoiseAdaptation: ~Copyable {
    let firstSlot: Int
    let count: Int
    let binCount: Int
    let binStride: Int
    /// γ, the weight of the past statistics per adapted frame.
    let forgetting: Float
    private let storage: UnsafeMutablePointer<Float>
    private let numerators: UnsafeMutablePointer<Float>     // count × binStride
    private let ratios: UnsafeMutablePointer<Float>         // V/Λ, binStride
    private let atoms: UnsafeMutablePointer<Float>          // count × binStride: the atoms, updated here
    private let epsilon: Float

    init(firstSlot: Int, count: Int, binCount: Int, binStride: Int, forgetting: Float) {
        self.firstSlot = firstSlot
        self.count = count
        self.binCount = binCount
        self.binStride = binStride
        self.forgetting = forgetting
        let total = 2 * count * binStride + binStride
        storage = .allocate(capacity: total)
        storage.initialize(repeating: 0, count: total)
        numerators = storage
        ratios = storage + count * binStride
        atoms = ratios + binStride
        epsilon = spectralEpsilon
    }

    deinit { storage.deallocate() }

    /// One online step of every adaptive atom from frame `v` with activations `h` and estimates
    /// `speech`, `noise` (Ŝ, N̂ after the solve). Writes the new atoms into `solver`.
    @_noLocks func adapt(_ solver: borrowing ActivationSolver, v: UnsafePointer<Float>, activations h: UnsafePointer<Float>,
                         speech: UnsafePointer<Float>, noise: UnsafePointer<Float>) {
        for f in 0..<binCount { ratios[f] = v[f] / (speech[f] + noise[f] + epsilon) }
        solver.copyAtoms(first: firstSlot, count: count, into: atoms, stride: binStride)
        for j in 0..<count {
            let weight = h[firstSlot + j]
            let a = numerators + j * binStride, w = atoms + j * binStride
            for f in 0..<binCount { a[f] = forgetting * a[f] + w[f] * weight * ratios[f] }
            let sum = sumOfFloats(a, count: binCount)
            guard sum > 0 else { continue }   // the atom stays as it is
            let scale = 1 / sum
            for f in 0..<binCount { w[f] = a[f] * scale }
        }
        solver.replaceAtoms(first: firstSlot, count: count, with: atoms, stride: binStride)
    }
}
