// SPDX-License-Identifier: GPL-3.0-or-later
// The speech and noise estimates Ŝ = Ws·hs and N̂ = Wn·hn from the solved activations: of one stream, or of many with W read once (eight in lanes).

import CEngineKernels

extension ActivationSolver {
    /// Ŝ = Ws·hs and N̂ = Wn·hn into stream 0's `speechEstimate` and `noiseEstimate`
    /// (`sordino_estimate`: four of W's rows at a time). Real-time safe.
    @_noLocks public func estimate(_ h: UnsafePointer<Float>) {
        run(.estimate(estimateKernel, rows: basisRows, bins: binCount, stride: activationStride, speech: speechStride,
                      h: h, speechEstimate: speechEstimate, noiseEstimate: noiseEstimate))
    }

    /// Ŝ and N̂ of every stream s < `streams` (≤ `streamCapacity`) whose `inputs[s]` is not nil, from
    /// `activations[s]`, into its part of `speechEstimate` and `noiseEstimate` (`estimates(stream:)`):
    /// stream by stream as `estimate` computes them, or from `lanesFrom` streams on eight at a time in
    /// lanes (W read once for them; each stream's estimates its own up to rounding). Real-time safe.
    @_noLocks public func estimate(streams: Int, inputs: UnsafePointer<UnsafePointer<Float>?>,
                                   activations: UnsafePointer<UnsafeMutablePointer<Float>>) {
        let b = binStride
        guard streams >= streamsInLanesFrom else {
            for s in 0..<streams where inputs[s] != nil {
                run(.estimate(estimateKernel, rows: basisRows, bins: binCount, stride: activationStride,
                              speech: speechStride, h: activations[s], speechEstimate: speechEstimate + s * b,
                              noiseEstimate: noiseEstimate + s * b))
            }
            return
        }
        let a = activationStride, laneSpeech = laneEstimates, laneNoise = laneEstimates + 8 * binCount
        var first = 0
        while first < streams {
            let count = min(8, streams - first)
            interleaveActivations(first, count: count, inputs: inputs, activations: activations)
            run(.estimate(estimateLanes, rows: basisRows, bins: binCount, stride: a, speech: speechStride,
                          h: laneActivations, speechEstimate: laneSpeech, noiseEstimate: laneNoise))
            for lane in 0..<count where inputs[first + lane] != nil {
                let speech = speechEstimate + (first + lane) * b, noise = noiseEstimate + (first + lane) * b
                for f in 0..<binCount {
                    speech[f] = laneSpeech[8 * f + lane]
                    noise[f] = laneNoise[8 * f + lane]
                }
            }
            first += 8
        }
    }

    /// Stream `s`'s Ŝ and N̂ after `estimate(streams:…)` (binStride floats each).
    @_noLocks @inline(__always)
    public func estimates(stream s: Int) -> (speech: UnsafeMutablePointer<Float>, noise: UnsafeMutablePointer<Float>) {
        (speechEstimate + s * binStride, noiseEstimate + s * binStride)
    }
}
