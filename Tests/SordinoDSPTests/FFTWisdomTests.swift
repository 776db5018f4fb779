// SPDX-License-Identifier: GPL-3.0-or-later
// The shipped FFTW wisdom: it covers the shipped lengths, its plans are exact and deterministic.

import SordinoDSP
import Testing
import TestSupport

struct FFTWisdomTests {
    /// The FFT lengths of the shipped presets (512: speech-16k, lowlatency-48k, kwon2016-16k;
    /// 1408: speech-44k1; 1536: speech-48k; 3072: speech-96k; 6144: speech-192k); `PresetWisdomTests` checks the
    /// presets still use them.
    static let shippedLengths = [512, 1408, 1536, 3072, 6144]

    @Test(arguments: shippedLengths)
    func shippedLengthsArePlannedFromWisdom(length: Int) {
        #expect(RealFFT.plannedFromWisdom(length: length) == FFTWisdomProbe.cpuCanUseWisdom)
    }

    /// A length the wisdom was not made for is estimated, even after a plan of it exists.
    @Test func otherLengthsAreEstimated() throws {
        _ = try RealFFT(length: 1024)
        #expect(!RealFFT.plannedFromWisdom(length: 1024))
    }

    /// Forward then inverse returns the input scaled by the length, and two instances agree to the bit.
    @Test(arguments: shippedLengths)
    func wisdomPlansAreExactAndDeterministic(length: Int) throws {
        let first = try RealFFT(length: length), second = try RealFFT(length: length)
        let x = Signal.whiteNoise(count: length, seed: UInt64(length))
        for n in 0..<length { first.time[n] = x[n]; second.time[n] = x[n] }
        first.forward(); second.forward()
        let spectrumFloats = 2 * first.binCount
        let identical = (0..<spectrumFloats).allSatisfy { first.spectrum[$0].bitPattern == second.spectrum[$0].bitPattern }
        #expect(identical)
        // Parseval: Σ|X[k]|² over the full spectrum = N·Σx².
        var energy: Double = 0, spectralEnergy: Double = 0
        for n in 0..<length { energy += Double(x[n] * x[n]) }
        for k in 0..<first.binCount {
            let weight: Double = (k == 0 || k == first.binCount - 1) ? 1 : 2
            let re = Double(first.spectrum[2 * k]), im = Double(first.spectrum[2 * k + 1])
            spectralEnergy += weight * (re * re + im * im)
        }
        #expect(abs(spectralEnergy / (Double(length) * energy) - 1) < 1e-5)
        first.inverse()
        var largest: Float = 0
        for n in 0..<length { largest = max(largest, abs(first.time[n] / Float(length) - x[n])) }
        #expect(largest < 1e-6, "round-trip error \(largest)")
    }
}
