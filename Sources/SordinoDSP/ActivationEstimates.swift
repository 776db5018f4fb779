// SPDX-License-Identifier: GPL-3.0-or-later
// The speech and noise estimates Ŝ = Ws·hs and N̂ = Wn·hn from the solved activations: of one stream, or of many with W read once (eight in lanes).

import CEngineKernels

extension ActivationSolver {
    /// Ŝ = Ws·hs and N̂ = Wn·hn of `stream`'s activations h into its `estimates(stream:)`
    /// (`sordino_estimate`: four of W's rows at a time), h kept with them. Real-time safe.
    @_noLocks public func estimate(_ h: UnsafePointer<Float>, stream: Int = 0) {
        let kept = estimates(stream: stream)
        keepEstimatedActivations(h, stream: stream)
        run(.estimate(estimateKernel, rows: basisRows, bins: binCount, stride: activationStride, speech: speechStride,
                      h: h, speechEstimate: kept.speech, noiseEstimate: kept.noise))
    }

    /// Ŝ and N̂ of every stream s < `streams` (≤ `streamCapacity`) whose `inputs[s]` is not nil, from
    /// `activations[s]`, into its part of `speechEstimate` and `noiseEstimate` (`estimates(stream:)`):
    /// stream by stream as `estimate` computes them, or from `lanesFrom` streams on eight at a time in
    /// lanes (W read once for them; each stream's estimates its own up to rounding). Real-time safe.
    /// (After a solve, the last update's `iterate(streams:…, estimating: true)` has kept them
    /// without a reading of W of their own.)
    @_noLocks public func estimate(streams: Int, inputs: UnsafePointer<UnsafePointer<Float>?>,
                                   activations: UnsafePointer<UnsafeMutablePointer<Float>>) {
        guard streams >= streamsInLanesFrom else {
            for s in 0..<streams where inputs[s] != nil { estimate(activations[s], stream: s) }
            return
        }
        let a = activationStride, laneSpeech = laneEstimates, laneNoise = laneEstimates + 8 * binCount
        var first = 0
        while first < streams {
            let count = min(8, streams - first)
            interleaveActivations(first, count: count, inputs: inputs, activations: activations)
            run(.estimate(estimateLanes, rows: basisRows, bins: binCount, stride: a, speech: speechStride,
                          h: laneActivations, speechEstimate: laneSpeech, noiseEstimate: laneNoise))
            gatherEstimates(first, count: count, inputs: inputs)
            for lane in 0..<count where inputs[first + lane] != nil {
                keepEstimatedActivations(activations[first + lane], stream: first + lane)
            }
            first += 8
        }
    }

    /// Stream `s`'s Ŝ and N̂ (binStride floats each) and the activations they were taken from
    /// (activationStride floats), after `estimate` or an `iterate(streams:…, estimating: true)`.
    @_noLocks @inline(__always)
    public func estimates(stream s: Int) -> (speech: UnsafeMutablePointer<Float>, noise: UnsafeMutablePointer<Float>,
                                             activations: UnsafeMutablePointer<Float>) {
        (speechEstimate + s * binStride, noiseEstimate + s * binStride, estimatedActivations + s * activationStride)
    }

    /// Copies h into stream `s`'s `estimates(stream:).activations`. Real-time safe.
    @_noLocks @inline(__always)
    func keepEstimatedActivations(_ h: UnsafePointer<Float>, stream s: Int) {
        let kept = estimatedActivations + s * activationStride
        for k in 0..<activationStride { kept[k] = h[k] }
    }

    /// The lanes of `laneEstimates` (eight streams' Ŝ and N̂ bin by bin) into the estimates of the
    /// streams `first ..< first + count` that have input. Real-time safe.
    @_noLocks @inline(__always)
    func gatherEstimates(_ first: Int, count: Int, inputs: UnsafePointer<UnsafePointer<Float>?>) {
        for lane in 0..<8 {
            laneColumns[lane] = lane < count && inputs[first + lane] != nil ? estimates(stream: first + lane).speech : nil
        }
        run(.fromLanes(lanes: laneEstimates, laneStride: 8, count: binCount, columns: laneColumns))
        for lane in 0..<8 where laneColumns[lane] != nil { laneColumns[lane] = estimates(stream: first + lane).noise }
        run(.fromLanes(lanes: laneEstimates + 8 * binCount, laneStride: 8, count: binCount, columns: laneColumns))
    }
}
