// SPDX-License-Identifier: GPL-3.0-or-later
// Before/after numbers for `sordino demo`: levels, noise in quiet frames, SI-SDR, and the measured delay.

import Foundation
import SordinoDSP

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

    /// The lag in 0…`maximumLag` (samples) at which `output` best matches `input`: the peak of
    /// the cross-correlation r[lag] = Σₙ input[n]·output[n + lag], computed with one real FFT
    /// (FFTW) of the next power of two ≥ both lengths + `maximumLag`, so the correlation does not
    /// wrap. Cost: three transforms of that length (~0.1 s for 6 s at 48 kHz, also in debug builds).
    static func delay(input: [Float], output: [Float], maximumLag: Int) throws -> Int {
        var length = 4
        while length < max(input.count, output.count) + maximumLag + 1 { length *= 2 }
        let fft = try RealFFT(length: length)
        let bins = fft.binCount
        fft.time.update(repeating: 0, count: length)
        input.withUnsafeBufferPointer { if let base = $0.baseAddress { fft.time.update(from: base, count: $0.count) } }
        fft.forward()
        let inputSpectrum = UnsafeMutablePointer<Float>.allocate(capacity: 2 * bins)
        defer { inputSpectrum.deallocate() }
        inputSpectrum.update(from: fft.spectrum, count: 2 * bins)
        fft.time.update(repeating: 0, count: length)
        output.withUnsafeBufferPointer { if let base = $0.baseAddress { fft.time.update(from: base, count: $0.count) } }
        fft.forward()
        for k in 0..<bins {   // conj(X)·Y
            let xr = inputSpectrum[2 * k], xi = inputSpectrum[2 * k + 1]
            let yr = fft.spectrum[2 * k], yi = fft.spectrum[2 * k + 1]
            fft.spectrum[2 * k] = xr * yr + xi * yi
            fft.spectrum[2 * k + 1] = xr * yi - xi * yr
        }
        fft.inverse()
        var best = 0
        for lag in 0...min(maximumLag, length - 1) where fft.time[lag] > fft.time[best] { best = lag }
        return best
    }
}
