// SPDX-License-Identifier: GPL-3.0-or-later
// Fixed-basis activation solver: a bounded number of β-divergence multiplicative updates per frame.

import CEngineKernels

/// Solves h ≥ 0 for V ≈ W·h with W = [Ws Wn] fixed, by multiplicative updates under the
/// β-divergence for β ∈ {0, 1, 2} with an L1 penalty λₖ per atom (Lee & Seung 2001; Févotte &
/// Idier 2011). For β = 0 the update takes the majorisation-minimisation exponent 1/2, so every
/// update is non-increasing in D_β(V | W·h) + Σₖ λₖ·hₖ.
///
/// Cost per iteration: 2 × binCount × rank multiply-adds (3 × for β = 0), whatever the signal, in
/// one pass over W per iteration: for eight bins at a time, the rows' products with h give the
/// model Λ, then the weights P (and Q) of those bins, and the same rows, still in the L1 cache, are
/// added into Wᵀ·P (and Wᵀ·Q) with 8-lane multiply-adds (the C pass of `CEngineKernels`: fused, with
/// AVX2, where the CPU has FMA, `passIsFused`). β = 2 forms Wᵀ·V once per frame. Owns W, bin-major
/// and zero-padded to multiples of 8 (one copy only: the estimates, Wᵀ·V and `copyAtom` read it
/// too, so the solve's working set stays small), and its scratch; activations live with
/// the caller (one vector per channel, warm-started). With `streams` > 1, `iterate(streams:…)`
/// updates several channels' activations in one pass over W per iteration: each group of rows,
/// read once, serves every stream while it sits in the L1 cache, and every stream's arithmetic is
/// that of a solve of its own (bit for bit below `lanesFrom` streams, up to rounding from there on,
/// where eight streams share each multiply-add's lanes, or, where the CPU has AVX-512, each
/// sixteen-float multiply-add serves sixteen bins or atoms of one stream: `passesSixteenLanes`).
/// Real-time: `solve`, `initialise` and `estimate` (ActivationEstimates.swift) are allocation-free;
/// eight streams in lanes: ActivationLanes.swift.
public struct ActivationSolver: ~Copyable {
    public let binCount: Int
    public let speechRank: Int
    public let noiseRank: Int
    /// β of the updates: 0, 1 or 2.
    public let beta: BetaDivergence
    /// Floats per spectrum buffer (binCount rounded up to 8); `v` passed to `solve` must be this
    /// long, with zeros after `binCount`.
    public let binStride: Int
    let speechStride: Int
    let noiseStride: Int
    /// Floats per activation vector: speech atoms at 0…, noise atoms at `noiseOffset`…, zero padding between.
    public let activationStride: Int
    /// Index of the first noise activation in an activation vector.
    public var noiseOffset: Int { speechStride }
    /// Streams (channels) `iterate(streams:…)` may update together; each has its own Wᵀ·P and Wᵀ·Q.
    public let streamCapacity: Int

    /// Owns every buffer below.
    private let arena: FloatArena
    let basisRows: UnsafeMutablePointer<Float>        // binStride × activationStride, rows past binCount zero
    let atomSums: UnsafeMutablePointer<Float>         // Σ_f W[f,k], activationStride
    let penalties: UnsafeMutablePointer<Float>        // λ_k, activationStride
    /// Per stream, Wᵀ·P and Wᵀ·Q, activationStride each, after 4 × activationStride of partial
    /// sums (stream s at s × 4 × activationStride).
    let numerator: UnsafeMutablePointer<Float>
    let denominator: UnsafeMutablePointer<Float>
    /// Ŝ = Ws·hs after `estimate`, binStride floats per stream (stream s at s × binStride).
    public let speechEstimate: UnsafeMutablePointer<Float>
    /// N̂ = Wn·hn after `estimate`, binStride floats per stream (stream s at s × binStride).
    public let noiseEstimate: UnsafeMutablePointer<Float>
    /// The activations the estimates were taken from, activationStride floats per stream (stream s
    /// at s × activationStride): h before the last update when `iterate(streams:…, estimating: true)`
    /// kept them.
    let estimatedActivations: UnsafeMutablePointer<Float>
    /// totals[0] = ΣW over all atoms and bins (changes when noise adaptation rewrites its atoms).
    private let totals: UnsafeMutablePointer<Float>
    /// `spectralEpsilon` and `activationFloor`, held as stored values so the real-time path reads
    /// them without a call (unoptimised builds do not inline float literals).
    let epsilon: Float
    private let floor: Float
    /// Per-frame activation floor as a fraction of the cold-start value ΣV / ΣW: keeps every atom
    /// within reach of a few warm-started updates when it is needed again. 0 disables it.
    public let relativeFloor: Float
    /// β as 0, 1 or 2, for the kernel's switch.
    let betaKind: Int
    /// The pass over W built for this CPU (`sordino_solver_pass`).
    private let pass: SordinoSolverPass
    /// True when `pass` runs row by row for this basis (`sordino_solver_pass_by_rows`): several
    /// streams then go to it one after another, each with all its bins.
    let passByRows: Bool
    /// Ŝ and N̂ from W's rows, built for this CPU (`sordino_estimate`), and for eight streams in
    /// lanes (`sordino_estimate_lanes`).
    let estimateKernel: SordinoEstimate
    let estimateLanes: SordinoEstimate
    /// The pass with a stream in each of eight lanes (`sordino_solver_pass_lanes`), for
    /// `iterate(streams:…)` from `lanesFrom` streams on.
    let passLanes: SordinoSolverPass
    /// Eight streams' activations and partial sums interleaved for `passLanes` (activationStride × 8,
    /// 4 × activationStride × 8 twice), their spectra (binCount × 8) and their Ŝ and N̂ (binCount × 8 each);
    /// empty below `lanesFrom`, and the spectra and sums empty with `passWide`.
    let laneActivations: UnsafeMutablePointer<Float>
    let laneEstimates: UnsafeMutablePointer<Float>
    /// `lanesFrom`, held as a stored value so that real-time code in other files reads it without a
    /// call (an unoptimised build reaches a static of another file through an accessor).
    let streamsInLanesFrom: Int
    let laneSpectra: UnsafeMutablePointer<Float>
    let laneNumerator: UnsafeMutablePointer<Float>
    let laneDenominator: UnsafeMutablePointer<Float>
    /// Eight streams' vectors (nil: a lane of zeros, or none to write back), for `sordino_to_lanes`
    /// and `sordino_from_lanes`.
    let laneColumns: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    /// The pass of eight streams with sixteen-float vectors (`sordino_solver_pass_wide`), where the
    /// CPU has AVX-512 and from `lanesFrom` streams on; nil otherwise (`passLanes` then).
    let passWide: SordinoWidePass?
    /// W transposed for `passWide`: `columnStride` floats per slot (binCount rounded up to 16, zeros
    /// after), kept equal to `basisRows` (`updateAtomSums`); empty without `passWide`.
    let basisColumns: UnsafeMutablePointer<Float>
    let columnStride: Int
    /// `passWide`'s per-stream arguments: eight spectra, numerators, denominators, Ŝ and N̂.
    let wideArguments: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>

    /// From this many streams on, `iterate(streams:…)` solves eight at a time in the lanes of one
    /// pass (each atom's weight at a bin multiplies all eight streams' values in one multiply-add)
    /// instead of stream after stream: fewer instructions per multiply-add and no horizontal sums,
    /// at the cost of idle lanes when fewer than eight streams remain. Each stream's result is its
    /// own solve's up to rounding.
    public static let lanesFrom = 6

    /// True when this CPU's pass over W fuses its multiply-adds (AVX2 with FMA, or aarch64): its
    /// output then differs from the baseline build's by rounding.
    public static let passIsFused: Bool = {
        var fused: Int32 = 0
        _ = sordino_solver_pass(&fused)
        return fused != 0
    }()

    /// True when `iterate(streams:…)` runs `sordino_solver_pass_wide` from `lanesFrom` streams on.
    public var passesSixteenLanes: Bool { passWide != nil }

    /// Copies `basis` into the padded layouts, with scratch for `streams` (≥ 1) streams solved
    /// together; `sixteenLanes` false keeps the eight-lane pass where the CPU has AVX-512 (to compare
    /// the two). Not real-time safe.
    public init(basis: Basis, beta: BetaDivergence, sparsity: Float, relativeFloor: Float = 0,
                streams: Int = 1, sixteenLanes: Bool = true) throws(EngineError) {
        guard beta.isLiveSolvable else { throw .invalidSetting(.beta, value: "\(beta.beta)", allowed: "0, 1 or 2") }
        binCount = basis.binCount
        speechRank = basis.speechRank
        noiseRank = basis.noiseRank
        self.beta = beta
        binStride = paddedToLanes(binCount)
        speechStride = paddedToLanes(speechRank)
        noiseStride = paddedToLanes(noiseRank)
        activationStride = speechStride + noiseStride
        streamCapacity = max(streams, 1)
        let a = activationStride, b = binStride
        let lanes = streamCapacity >= Self.lanesFrom ? 8 : 0
        let wide = lanes > 0 && sixteenLanes ? sordino_solver_pass_wide() : nil
        let lanePass = wide == nil ? lanes : 0   // the eight-lane pass's spectra and sums
        columnStride = (binCount + 15) / 16 * 16
        let total = b * a + (2 + 9 * streamCapacity) * a + 2 * b * streamCapacity + 8
            + lanes * (a + 2 * binCount) + lanePass * (8 * a + binCount) + (wide == nil ? 0 : a * columnStride)
        var arena = FloatArena(capacity: total)
        basisRows = arena.take(b * a)   // rows past binCount stay zero: the pass reads whole groups of 8
        atomSums = arena.take(a)
        penalties = arena.take(a)
        numerator = arena.take(4 * a * streamCapacity)
        denominator = arena.take(4 * a * streamCapacity)
        speechEstimate = arena.take(b * streamCapacity)
        noiseEstimate = arena.take(b * streamCapacity)
        estimatedActivations = arena.take(a * streamCapacity)
        totals = arena.take(8)
        laneActivations = arena.take(lanes * a)
        laneSpectra = arena.take(lanePass * binCount)
        laneNumerator = arena.take(lanePass * 4 * a)
        laneDenominator = arena.take(lanePass * 4 * a)
        laneEstimates = arena.take(lanes * 2 * binCount)
        basisColumns = arena.take(wide == nil ? 0 : a * columnStride)
        passWide = wide
        self.arena = arena
        laneColumns = .allocate(capacity: 8)
        laneColumns.initialize(repeating: nil, count: 8)
        wideArguments = .allocate(capacity: 40)
        wideArguments.initialize(repeating: nil, count: 40)
        var sum: Float = 0
        for k in 0..<basis.rank {
            let slot = k < speechRank ? k : speechStride + (k - speechRank)
            penalties[slot] = basis.atomPenalties?[k] ?? sparsity
            for f in 0..<binCount {
                let w = basis[bin: f, atom: k]
                basisRows[f * a + slot] = w
                if wide != nil { basisColumns[slot * columnStride + f] = w }
                atomSums[slot] += w
            }
            sum += atomSums[slot]
        }
        totals[0] = sum
        epsilon = spectralEpsilon
        floor = activationFloor
        self.relativeFloor = relativeFloor
        betaKind = beta.beta == 0 ? 0 : (beta.beta == 1 ? 1 : 2)
        var fused: Int32 = 0
        guard let pass = sordino_solver_pass(&fused) else { preconditionFailure("CEngineKernels chose no pass") }
        self.pass = pass
        passByRows = sordino_solver_pass_by_rows(Int32(activationStride), Int32(speechStride)) != 0
        guard let estimateKernel = sordino_estimate() else { preconditionFailure("CEngineKernels chose no estimate") }
        self.estimateKernel = estimateKernel
        guard let estimateLanes = sordino_estimate_lanes() else { preconditionFailure("CEngineKernels chose no estimate") }
        self.estimateLanes = estimateLanes
        streamsInLanesFrom = Self.lanesFrom
        guard let passLanes = sordino_solver_pass_lanes() else { preconditionFailure("CEngineKernels chose no pass") }
        self.passLanes = passLanes
    }

    deinit {
        laneColumns.deallocate()
        wideArguments.deallocate()
    }

    /// Copies atom `slot`'s weights over bins into `atom` (binCount floats). Real-time safe: O(binCount).
    @_noLocks public func copyAtom(slot: Int, into atom: UnsafeMutablePointer<Float>) {
        for f in 0..<binCount { atom[f] = basisRows[f * activationStride + slot] }
    }

    /// W's row of bin `f` (`activationStride` floats, the slots' weights at that bin), to change in
    /// place between frames: `NoiseAdaptation` rewrites its slots there, then calls
    /// `updateAtomSums`. Real-time safe.
    @_noLocks func row(_ f: Int) -> UnsafeMutablePointer<Float> { basisRows + f * activationStride }

    /// Sets Σ_f W[f, slot] to `sums[slot − first]` for the slots `first ..< first + count`, whose
    /// weights were changed in place through `row(_:)`, and the total with them. Real-time safe.
    @_noLocks func updateAtomSums(first: Int, count: Int, sums: UnsafePointer<Float>) {
        for j in 0..<count {
            totals[0] += sums[j] - atomSums[first + j]
            atomSums[first + j] = sums[j]
        }
        if passWide != nil {   // Wᵀ's columns of those slots follow W's rows, eight slots at a time
            var j = first
            while j < first + count {
                let start = min(j, activationStride - 8), shift = j - start   // eight slots within a row
                for lane in 0..<8 {
                    let slot = start + lane
                    laneColumns[lane] = lane >= shift && slot < first + count ? basisColumns + slot * columnStride : nil
                }
                run(.fromLanes(lanes: basisRows + start, laneStride: activationStride, count: binCount, columns: laneColumns))
                j = start + 8
            }
        }
    }

    /// Maps atom k (0 ..< rank, speech first) to its slot in an activation vector.
    public func slot(ofAtom k: Int) -> Int { k < speechRank ? k : speechStride + (k - speechRank) }

    /// Cold start: every activation set so that Σ_f (W·h)_f = Σ_f v_f. Real-time safe.
    @_noLocks public func initialise(_ h: UnsafeMutablePointer<Float>, from v: UnsafePointer<Float>) {
        var energy: Float = 0
        for f in 0..<binCount { energy += v[f] }
        let value = BetaUpdate.floored(energy / (totals[0] + epsilon), floor)
        for i in 0..<activationStride { h[i] = 0 }
        for k in 0..<speechRank { h[k] = value }
        for k in 0..<noiseRank { h[speechStride + k] = value }
    }

    /// Runs `iterations` multiplicative updates of h for the frame v (binStride floats, zero-padded).
    /// Real-time safe; cost is fixed by `iterations`. The same as `prepare` then `iterate`.
    @_noLocks public func solve(_ v: UnsafePointer<Float>, activations h: UnsafeMutablePointer<Float>, iterations: Int) {
        iterate(v, activations: h, iterations: iterations, floor: prepare(v))
    }

    /// What the updates of one frame share: returns the frame's activation floor and, for β = 2,
    /// keeps Wᵀ·v for `stream`'s `iterate` calls that follow, which must be on the same v with no
    /// other frame's `prepare` or `solve` for that stream in between. Real-time safe: O(binCount),
    /// O(binCount · atoms) for β = 2.
    @_noLocks public func prepare(_ v: UnsafePointer<Float>, stream: Int = 0) -> Float {
        let energy = sumOfFloats(v, count: binCount)
        let scaled = relativeFloor * energy / (totals[0] + epsilon)
        if beta.beta == 2 {   // Wᵀ·V is fixed per frame
            let a = activationStride, product = numerator + 4 * a * stream   // Wᵀ·V, row by row of W
            for k in 0..<a { product[k] = 0 }
            for f in 0..<binCount {
                let row = basisRows + f * a, value = v[f]
                for k in 0..<a { product[k] += row[k] * value }
            }
        }
        return scaled > self.floor ? scaled : self.floor
    }

    /// Runs `iterations` multiplicative updates of h for the frame v, after `prepare(v)` gave
    /// `floor`. Split calls run the same arithmetic as one: `iterate(…, 2, …)` then `iterate(…, 3, …)`
    /// equals `iterate(…, 5, …)` bit for bit. Real-time safe; cost fixed by `iterations`.
    @_noLocks public func iterate(_ v: UnsafePointer<Float>, activations h: UnsafeMutablePointer<Float>,
                                  iterations: Int, floor: Float) {
        for _ in 0..<iterations {
            accumulateProducts(h, v, stream: 0)
            update(h, stream: 0, floor: floor)
        }
    }

    /// One multiplicative update of the activations of every stream s < `streams` (≤
    /// `streamCapacity`) whose `inputs[s]` is not nil, each after `prepare(inputs[s], stream: s)`
    /// gave `floors[s]`: the same arithmetic as `iterate(inputs[s], activations: activations[s],
    /// iterations: 1, floor: floors[s])` stream by stream, with W read once for all of them.
    /// `estimating` (the frame's last update): each stream's Ŝ and N̂ of h before the update are kept
    /// on the way, from the same reading of W (`estimates(stream:)`, as `estimate(streams:…)` would
    /// give them for that h), and the update's Λ is then Ŝ + N̂ + ε (rounding apart, the same).
    /// Real-time safe; cost fixed by the streams that have input.
    @_noLocks public func iterate(streams: Int, inputs: UnsafePointer<UnsafePointer<Float>?>,
                                  activations: UnsafePointer<UnsafeMutablePointer<Float>>, floors: UnsafePointer<Float>,
                                  estimating: Bool = false) {
        if estimating {
            for s in 0..<streams where inputs[s] != nil { keepEstimatedActivations(activations[s], stream: s) }
        }
        if streams == 1 {
            if let v = inputs[0] {
                clearProducts(stream: 0)
                accumulateBins(0, to: binCount, activations[0], v, stream: 0, estimating: estimating)
                finishProducts(stream: 0)
                update(activations[0], stream: 0, floor: floors[0])
            }
            return
        }
        if streams >= Self.lanesFrom {
            var first = 0
            while first < streams {
                if let passWide {
                    iterateWide(passWide, first, count: min(8, streams - first), inputs: inputs, activations: activations,
                                floors: floors, estimating: estimating)
                } else {
                    iterateInLanes(first, count: min(8, streams - first), inputs: inputs, activations: activations,
                                   floors: floors, estimating: estimating)
                }
                first += 8
            }
            return
        }
        for s in 0..<streams where inputs[s] != nil { clearProducts(stream: s) }
        if passByRows {   // each stream's bins in one call (the row-by-row pass sums them in registers)
            for s in 0..<streams {
                if let v = inputs[s] { accumulateBins(0, to: binCount, activations[s], v, stream: s, estimating: estimating) }
            }
        } else {   // the C pass's groups of eight, each read once for all streams
            var f = 0
            while f < binCount {
                let group = min(8, binCount - f)
                for s in 0..<streams {
                    if let v = inputs[s] {
                        accumulateBins(f, to: f + group, activations[s], v, stream: s, estimating: estimating)
                    }
                }
                f += group
            }
        }
        for s in 0..<streams where inputs[s] != nil {
            finishProducts(stream: s)
            update(activations[s], stream: s, floor: floors[s])
        }
    }

    /// h ← the β update of h from `stream`'s Wᵀ·P and Wᵀ·Q.
    @_noLocks @inline(__always)
    func update(_ h: UnsafeMutablePointer<Float>, stream: Int, floor: Float) {
        let a = activationStride, offset = 4 * a * stream
        BetaUpdate.step(beta: beta, h, numerator: numerator + offset,
                        denominator: beta.beta == 1 ? atomSums : denominator + offset,
                        penalties: penalties, count: a, epsilon: epsilon, floor: floor)
    }

    /// One pass over W: Λ = W·h + ε bin by bin, then P = V ⊙ Λ^(β−2) added into `numerator` as Wᵀ·P
    /// (unless β = 2, whose Wᵀ·V is fixed per frame) and Q = Λ^(β−1) into `denominator` as Wᵀ·Q
    /// (unless β = 1, whose Wᵀ·1 is `atomSums`); eight bins at a time, each group of rows read from
    /// memory once (`CEngineKernels`), or row by row where `passByRows`. Successive groups go to four
    /// partial sums in turn, added pairwise at the end: a sum over bins then rounds like one over a
    /// quarter of them. No `pow`: the three β have their own arithmetic.
    @_noLocks @inline(__always)
    private func accumulateProducts(_ h: UnsafePointer<Float>, _ v: UnsafePointer<Float>, stream: Int) {
        clearProducts(stream: stream)
        accumulateBins(0, to: binCount, h, v, stream: stream, estimating: false)
        finishProducts(stream: stream)
    }

    /// Zeroes `stream`'s partial sums of Wᵀ·P (unless β = 2) and Wᵀ·Q (unless β = 1).
    @_noLocks @inline(__always)
    private func clearProducts(stream: Int) {
        let a = activationStride, kind = betaKind, offset = 4 * a * stream
        if kind != 2 { for k in 0..<(4 * a) { numerator[offset + k] = 0 } }
        if kind != 1 { for k in 0..<(4 * a) { denominator[offset + k] = 0 } }
    }

    /// Adds the bins `first ..< end` (`first` a multiple of 8) into `stream`'s partial sums (see
    /// `accumulateProducts`), keeping those bins' Ŝ and N̂ of h in `stream`'s estimates when `estimating`.
    @_noLocks @inline(__always)
    private func accumulateBins(_ first: Int, to end: Int, _ h: UnsafePointer<Float>, _ v: UnsafePointer<Float>,
                                stream: Int, estimating: Bool) {
        let a = activationStride, offset = 4 * a * stream, kept = estimates(stream: stream)
        let rows = UnsafePointer(basisRows), numerator = self.numerator + offset, denominator = self.denominator + offset
        run(.pass(pass, rows: rows, first: first, end: end, stride: a, h: h, v: v, epsilon: epsilon,
                  beta: Int32(betaKind), numerator: numerator, denominator: denominator, speech: speechStride,
                  speechEstimate: estimating ? kept.speech : nil, noiseEstimate: estimating ? kept.noise : nil))
    }

    /// Adds `stream`'s four partial sums into its Wᵀ·P and Wᵀ·Q.
    @_noLocks @inline(__always)
    private func finishProducts(stream: Int) {
        let a = activationStride, kind = betaKind, offset = 4 * a * stream
        if kind != 2 { addPartialSums(numerator + offset, count: a) }
        if kind != 1 { addPartialSums(denominator + offset, count: a) }
    }
}
