// SPDX-License-Identifier: GPL-3.0-or-later
// Eight streams solved in one pass over W: a stream in each of eight lanes, or with AVX-512 sixteen bins or atoms of a stream a vector; their activations interleaved, each stream's update.

import CEngineKernels

extension ActivationSolver {
    /// One update of streams `first ..< first + count` (count ≤ 8, `first` a multiple of 8) with
    /// `passLanes`: their activations interleaved beside the spectra `prepare` interleaved (absent
    /// streams and idle lanes zero), one pass over W (keeping the estimates, `estimating`), then
    /// every stream's update in its lane (`updateInLanes`). Real-time safe.
    @_noLocks
    func iterateInLanes(_ first: Int, count: Int, inputs: UnsafePointer<UnsafePointer<Float>?>,
                        activations: UnsafePointer<UnsafeMutablePointer<Float>>, floors: UnsafePointer<Float>,
                        estimating: Bool) {
        let a = activationStride, kind = betaKind, spectra = laneSpectra
        interleaveActivations(first, count: count, inputs: inputs, activations: activations)
        for lane in 0..<8 {   // a stream without input this frame: its spectrum lane zero too
            laneColumns[lane] = lane < count ? UnsafeMutablePointer(mutating: inputs[first + lane]) : nil
        }
        run(.toLanes(columns: laneColumns, count: binCount, lanes: spectra))
        if kind != 2 { for i in 0..<(32 * a) { laneNumerator[i] = 0 } }
        if kind != 1 { for i in 0..<(32 * a) { laneDenominator[i] = 0 } }
        let laneSpeech = laneEstimates, laneNoise = laneEstimates + 8 * binCount
        run(.pass(passLanes, rows: basisRows, first: 0, end: binCount, stride: a, h: laneActivations, v: spectra,
                  epsilon: epsilon, beta: Int32(kind), numerator: laneNumerator, denominator: laneDenominator,
                  speech: speechStride, speechEstimate: estimating ? laneSpeech : nil,
                  noiseEstimate: estimating ? laneNoise : nil))
        if estimating { gatherEstimates(first, count: count, inputs: inputs) }
        updateInLanes(first, count: count, inputs: inputs, activations: activations, floors: floors)
    }

    /// One update of streams `first ..< first + count` (count ≤ 8, `first` a multiple of 8) with
    /// `passWide`: their activations interleaved, one pass over W and Wᵀ for all of them with
    /// sixteen-float vectors, each stream's Wᵀ·P and Wᵀ·Q (and, `estimating`, its Ŝ and N̂) into its
    /// own buffers, then each stream's update as a stream alone is updated. Real-time safe.
    @_noLocks
    func iterateWide(_ kernel: SordinoWidePass, _ first: Int, count: Int, inputs: UnsafePointer<UnsafePointer<Float>?>,
                     activations: UnsafePointer<UnsafeMutablePointer<Float>>, floors: UnsafePointer<Float>,
                     estimating: Bool) {
        let a = activationStride, kind = betaKind
        interleaveActivations(first, count: count, inputs: inputs, activations: activations)
        let spectra = wideArguments, numerators = wideArguments + 8, denominators = wideArguments + 16
        let speech = wideArguments + 24, noise = wideArguments + 32
        for lane in 0..<8 {
            let s = first + lane, present = lane < count && inputs[s] != nil, offset = 4 * a * s
            spectra[lane] = present ? UnsafeMutablePointer(mutating: inputs[s]) : nil
            numerators[lane] = present && kind != 2 ? numerator + offset : nil
            denominators[lane] = present && kind != 1 ? denominator + offset : nil
            speech[lane] = present ? estimates(stream: s).speech : nil
            noise[lane] = present ? estimates(stream: s).noise : nil
            if let sums = numerators[lane] { for k in 0..<a { sums[k] = 0 } }
            if let sums = denominators[lane] { for k in 0..<a { sums[k] = 0 } }
        }
        run(.widePass(kernel, columns: basisColumns, columnStride: columnStride, rows: basisRows, stride: a,
                      bins: binCount, h: laneActivations, v: spectra, epsilon: epsilon, beta: Int32(kind),
                      numerator: numerators, denominator: denominators, speech: speechStride,
                      speechEstimate: estimating ? UnsafePointer(speech) : nil,
                      noiseEstimate: estimating ? UnsafePointer(noise) : nil))
        for lane in 0..<count where inputs[first + lane] != nil {
            update(activations[first + lane], stream: first + lane, floor: floors[first + lane])
        }
    }

    /// Every stream's update in its lane of `laneActivations`, after `passLanes`: the four partial
    /// sums added (as `addPartialSums` adds a stream's own), then per atom, eight streams at a
    /// time, each lane's arithmetic that of `update` (`BetaUpdate.step`) for its stream: its own
    /// solve's up to the rounding of the pass. The streams with input get their lanes back.
    /// Real-time safe.
    @_noLocks @inline(__always)
    func updateInLanes(_ first: Int, count: Int, inputs: UnsafePointer<UnsafePointer<Float>?>,
                       activations: UnsafePointer<UnsafeMutablePointer<Float>>, floors: UnsafePointer<Float>) {
        let a = activationStride, kind = betaKind
        var floor = SIMD8<Float>.zero
        for lane in 0..<count where inputs[first + lane] != nil { floor[lane] = floors[first + lane] }
        if kind == 2 {   // each stream's Wᵀ·V, kept by `prepare`, into its lane
            for lane in 0..<8 {
                let s = first + lane
                laneColumns[lane] = lane < count && inputs[s] != nil ? numerator + 4 * a * s : nil
            }
            run(.toLanes(columns: laneColumns, count: a, lanes: laneNumerator))
        } else {
            addPartialSums(laneNumerator, count: 8 * a)
        }
        if kind != 1 { addPartialSums(laneDenominator, count: 8 * a) }
        let eps = SIMD8<Float>(repeating: epsilon)
        if kind == 0 {   // the ratio's square root (the MM exponent ½), in place of the denominators
            for k in 0..<a {
                let i = 8 * k, penalty = SIMD8<Float>(repeating: penalties[k])
                store8(load8(laneNumerator + i) / (load8(laneDenominator + i) + penalty + eps), laneDenominator + i)
            }
            squareRootInPlace(laneDenominator, count: 8 * a)
        }
        for k in 0..<a {
            let i = 8 * k, x = load8(laneActivations + i), penalty = SIMD8<Float>(repeating: penalties[k])
            let sums = kind == 1 ? SIMD8<Float>(repeating: atomSums[k]) : load8(laneDenominator + i)
            var y = kind == 0 ? x * sums : x * load8(laneNumerator + i) / (sums + penalty + eps)
            y.replace(with: floor, where: .!(y .> floor))   // NaN, too, becomes the floor
            store8(y, laneActivations + i)
        }
        for lane in 0..<8 { laneColumns[lane] = lane < count && inputs[first + lane] != nil ? activations[first + lane] : nil }
        run(.fromLanes(lanes: laneActivations, laneStride: 8, count: a, columns: laneColumns))
    }

    /// The activations of streams `first ..< first + count` (count ≤ 8) into `laneActivations`,
    /// atom k of lane l at 8·k + l; a stream without input this frame and the lanes past the last
    /// stream get zeros. Real-time safe.
    @_noLocks @inline(__always)
    func interleaveActivations(_ first: Int, count: Int, inputs: UnsafePointer<UnsafePointer<Float>?>,
                               activations: UnsafePointer<UnsafeMutablePointer<Float>>) {
        for lane in 0..<8 { laneColumns[lane] = lane < count && inputs[first + lane] != nil ? activations[first + lane] : nil }
        run(.toLanes(columns: laneColumns, count: activationStride, lanes: laneActivations))
    }
}
