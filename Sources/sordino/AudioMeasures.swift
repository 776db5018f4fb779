// SPDX-License-Identifier: GPL-3.0-or-later
// Before/after numbers for `sordino demo`: levels, noise in quiet frames, SI-SDR, and the measured delay.

import Foundation

enum AudioMeasures {
    /// RMS level in dBFS (full scale = 1.0); −∞ for silence or an empty signal.
    static func rmsDecibels<C: Collection>(_ x: C) -> Double where C.Element == Float {
        var sum = 0.0
        for v in x { sum += Double(v) * Double(v) }
        guard !x.isEmpty, sum > 0 else { return -.infinity }
        return 10 * log10(sum / Double(x.count))
    }

    /// RMS level in dBFS of the samples in `frames` (frame indices of `frameLength` samples).
    static func rmsDecibels(_ x: [Float], frames: [Int], frameLength: Int) -> Double {
        var sum = 0.0, n = 0
        for f in frames {
            for v in x[(f * frameLength)..<min((f + 1) * frameLength, x.count)] { sum += Double(v) * Double(v); n += 1 }
        }
        guard n > 0, sum > 0 else { return -.infinity }
        return 10 * log10(sum / Double(n))
    }

    /// Frames (of `frameLength` samples) to measure residual noise in: where the clean `reference`
    /// is more than 50 dB below full scale (pauses and lead-in), or, without a reference, the
    /// quietest tenth of the frames of `input`.
    static func quietFrames(input: [Float], reference: [Float]?, frameLength: Int) -> [Int] {
        let count = input.count / frameLength
        func level(_ x: [Float], _ f: Int) -> Double {
            rmsDecibels(x[(f * frameLength)..<min((f + 1) * frameLength, x.count)])
        }
        if let reference, reference.count >= count * frameLength {
            return (0..<count).filter { level(reference, $0) < -50 }
        }
        let levels = (0..<count).map { level(input, $0) }
        let sorted = (0..<count).sorted { levels[$0] < levels[$1] }
        return Array(sorted.prefix(max(1, count / 10))).sorted()
    }

    /// Scale-invariant signal-to-distortion ratio of `estimate` against `reference` in dB
    /// (Le Roux et al. 2019): the reference scaled to best fit, against everything else.
    static func siSDR(reference: [Float], estimate: [Float]) -> Double {
        let n = min(reference.count, estimate.count)
        var dot = 0.0, energy = 0.0
        for i in 0..<n {
            dot += Double(reference[i]) * Double(estimate[i])
            energy += Double(reference[i]) * Double(reference[i])
        }
        guard energy > 0 else { return -.infinity }
        let alpha = dot / energy
        var target = 0.0, residual = 0.0
        for i in 0..<n {
            let t = alpha * Double(reference[i])
            target += t * t
            residual += (Double(estimate[i]) - t) * (Double(estimate[i]) - t)
        }
        guard residual > 0 else { return .infinity }
        return 10 * log10(target / residual)
    }

    /// The lag in 0…`maximumLag` (samples) at which `output` best matches `input` (peak of the
    /// cross-correlation Σ input[n]·output[n + lag]). Cost: (maximumLag + 1) × count multiply-adds,
    /// in SIMD8 lanes.
    static func delay(input: [Float], output: [Float], maximumLag: Int) -> Int {
        let count = min(input.count, max(0, output.count - maximumLag)) / 8 * 8
        guard count > 0 else { return 0 }
        var best = (lag: 0, value: -Float.infinity)
        input.withUnsafeBufferPointer { a in
            output.withUnsafeBufferPointer { b in
                guard let x = a.baseAddress, let y = b.baseAddress else { return }
                let rx = UnsafeRawPointer(x), ry = UnsafeRawPointer(y)
                for lag in 0...maximumLag {
                    var acc = SIMD8<Float>.zero
                    for i in stride(from: 0, to: count, by: 8) {
                        acc += rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                            * ry.loadUnaligned(fromByteOffset: (i + lag) * 4, as: SIMD8<Float>.self)
                    }
                    let value = acc.sum()
                    if value > best.value { best = (lag, value) }
                }
            }
        }
        return best.lag
    }
}
