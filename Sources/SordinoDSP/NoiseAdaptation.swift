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
/// with Λ = Ŝ + N̂ the frame's model and h the activations it was taken from. γ = exp(−hop/memory)
/// per adapted hop. The atoms are shared by every stream (channel): a stream that heard noise only
/// leaves its V/Λ (`observe`), and one step per hop (`adapt`) adds the mean of those streams'
/// terms, so the memory is the same in seconds whatever the number of channels, and no channel's
/// noise counts for more than another's. Cost per adapted hop: about 4 × binCount × count flops,
/// and 2 × binCount × count more per further stream. Real-time safe.
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
    private let streams: Int
    private let ratios: UnsafeMutablePointer<Float>         // V/Λ, binStride per stream
    private let heard: UnsafeMutablePointer<Float>          // per stream: 1 when `observe` left its V/Λ this hop
    /// The activations and V/Λ of the streams that heard noise only, for the C step (streams each).
    private let heardActivations: UnsafeMutablePointer<UnsafePointer<Float>?>
    private let heardRatios: UnsafeMutablePointer<UnsafePointer<Float>?>
    private let sums: UnsafeMutablePointer<Float>           // groups × 8: Σ_f of the new atoms
    private let epsilon: Float

    init(firstSlot: Int, count: Int, binCount: Int, binStride: Int, forgetting: Float, streams: Int) {
        self.firstSlot = firstSlot
        self.streams = max(streams, 1)
        self.count = count
        self.binCount = binCount
        self.binStride = binStride
        self.forgetting = forgetting
        firstLane = firstSlot & ~7
        groups = count > 0 ? (firstSlot + count - firstLane + 7) / 8 : 0
        var arena = FloatArena(capacity: groups * binStride * 8 + (binStride + 1) * self.streams + groups * 8)
        numerators = arena.take(groups * binStride * 8)
        ratios = arena.take(binStride * self.streams)
        heard = arena.take(self.streams)
        heardActivations = .allocate(capacity: self.streams)
        heardActivations.initialize(repeating: nil, count: self.streams)
        heardRatios = .allocate(capacity: self.streams)
        heardRatios.initialize(repeating: nil, count: self.streams)
        sums = arena.take(groups * 8)
        storage = arena
        epsilon = spectralEpsilon
    }

    /// Stream `s` heard noise only this hop: keeps its V/Λ (`v` its solver input, `speech` and
    /// `noise` its Ŝ and N̂) for the hop's `adapt`. Real-time safe.
    @_noLocks func observe(stream s: Int, v: UnsafePointer<Float>, speech: UnsafePointer<Float>,
                           noise: UnsafePointer<Float>) {
        let ratio = ratios + s * binStride
        for f in 0..<binCount { ratio[f] = v[f] / (speech[f] + noise[f] + epsilon) }
        heard[s] = 1
    }

    deinit {
        heardActivations.deallocate()
        heardRatios.deallocate()
    }

    /// One online step of every adaptive atom from the streams `observe` was told of since the
    /// last step (none: nothing changes), with each one's activations as `solver` kept them beside
    /// its estimates, written into `solver`'s rows in place: for each group of eight slots,
    /// A ← γ·A + (1/n)·Σ_s w·h_s·V_s/Λ_s bin by bin (n streams, in order; one stream's term is
    /// taken as it is) and Σ_f A in the lanes, then w ← A / Σ_f A where that sum is positive (an
    /// atom whose sum is not keeps its weights); `sordino_adapt_atoms` (CEngineKernels), eight
    /// lanes at a time where the CPU has AVX2. Returns n. Real-time safe.
    @discardableResult
    @_noLocks func adapt(_ solver: borrowing ActivationSolver) -> Int {
        var n = 0
        for s in 0..<streams where heard[s] != 0 {
            heardActivations[n] = UnsafePointer(solver.estimates(stream: s).activations)
            heardRatios[n] = UnsafePointer(ratios + s * binStride)
            heard[s] = 0
            n += 1
        }
        guard n > 0, groups > 0 else { return n }
        run(.adaptAtoms(rows: solver.row(0), bins: binCount, stride: solver.activationStride, firstLane: firstLane,
                        groups: groups, firstSlot: firstSlot, count: count, numerators: numerators,
                        numeratorStride: binStride, streams: n, activations: heardActivations, ratios: heardRatios,
                        forgetting: forgetting, sums: sums))
        solver.updateAtomSums(first: firstSlot, count: count, sums: sums + (firstSlot - firstLane))
        return n
    }
}
