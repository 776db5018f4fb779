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
    /// The adaptive slots in groups of eight lanes: group g covers slots `firstLane + 8g …`, from
    /// `firstSlot` rounded down to a multiple of 8 (W's rows are padded to whole groups), lanes
    /// outside `firstSlot ..< firstSlot + count` left as they are.
    private let firstLane: Int
    private let groups: Int
    private let storage: FloatArena
    private let numerators: UnsafeMutablePointer<Float>     // groups × binStride × 8: A per bin, slots in lanes
    private let ratios: UnsafeMutablePointer<Float>         // V/Λ, binStride
    private let sums: UnsafeMutablePointer<Float>           // groups × 8: Σ_f of the new atoms
    private let epsilon: Float

    init(firstSlot: Int, count: Int, binCount: Int, binStride: Int, forgetting: Float) {
        self.firstSlot = firstSlot
        self.count = count
        self.binCount = binCount
        self.binStride = binStride
        self.forgetting = forgetting
        firstLane = firstSlot & ~7
        groups = count > 0 ? (firstSlot + count - firstLane + 7) / 8 : 0
        var arena = FloatArena(capacity: groups * binStride * 8 + binStride + groups * 8)
        numerators = arena.take(groups * binStride * 8)
        ratios = arena.take(binStride)
        sums = arena.take(groups * 8)
        storage = arena
        epsilon = spectralEpsilon
    }

    /// One online step of every adaptive atom from frame `v` with activations `h` and the estimates
    /// `speech`, `noise` taken from them (Ŝ, N̂ of the solve's last update), written into `solver`'s rows in place: for each
    /// group of eight slots, A ← γ·A + w·h·V/Λ bin by bin and Σ_f A in the lanes, then w ← A / Σ_f A
    /// where that sum is positive (an atom whose sum is not keeps its weights). Real-time safe.
    @_noLocks func adapt(_ solver: borrowing ActivationSolver, v: UnsafePointer<Float>, activations h: UnsafePointer<Float>,
                         speech: UnsafePointer<Float>, noise: UnsafePointer<Float>) {
        for f in 0..<binCount { ratios[f] = v[f] / (speech[f] + noise[f] + epsilon) }
        let gamma = SIMD8<Float>(repeating: forgetting)
        for g in 0..<groups {
            let base = firstLane + 8 * g, a = numerators + g * binStride * 8
            var adaptive = SIMDMask<SIMD8<Int32>>()
            for lane in 0..<8 { adaptive[lane] = base + lane >= firstSlot && base + lane < firstSlot + count }
            let weight = load8(h + base)
            var total = SIMD8<Float>.zero
            for f in 0..<binCount {
                let numerator = gamma * load8(a + 8 * f) + load8(solver.row(f) + base) * weight * ratios[f]
                store8(numerator, a + 8 * f)
                total += numerator
            }
            let renew = adaptive .& (total .> 0)
            let scale = 1 / total
            var newSums = SIMD8<Float>.zero
            for f in 0..<binCount {
                let row = solver.row(f) + base
                let atom = load8(row).replacing(with: load8(a + 8 * f) * scale, where: renew)
                store8(atom, row)
                newSums += atom
            }
            store8(newSums, sums + 8 * g)
        }
        solver.updateAtomSums(first: firstSlot, count: count, sums: sums + (firstSlot - firstLane))
    }
}
