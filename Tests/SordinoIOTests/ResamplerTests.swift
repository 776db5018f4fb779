// SPDX-License-Identifier: GPL-3.0-or-later
// Length, delay and accuracy of the libsoxr resampler.

import Foundation
import Testing
import SordinoIO

@Suite struct ResamplerTests {
    @Test(arguments: [(16_000, 48_000, 16_000), (44_100, 48_000, 44_101), (48_000, 44_100, 12_345),
                      (48_000, 16_000, 1_001), (22_050, 44_100, 7)])
    func lengthIsTheRoundedRatio(from: Int, to: Int, count: Int) throws {
        let input = AudioBuffer(sampleRate: from, channels: [uniformNoise(count: count, seed: 4),
                                                             uniformNoise(count: count, seed: 5)])
        let output = try Resampler.resample(input, to: to)
        let expected = Int((Double(count) * Double(to) / Double(from)).rounded())
        #expect(output.sampleRate == to && output.channels.count == 2)
        #expect(output.channels.allSatisfy { $0.count == expected })
    }

    /// The tail is soxr's output, not zero padding: a DC input still reads ≈ 0.5 at the last
    /// sample (measured 0.46 to 0.49; the filter rings against the silence after the end).
    @Test(arguments: [(48_000, 44_100, 12_345), (48_000, 16_000, 1_001), (44_100, 48_000, 44_101)])
    func outputIsFilledToTheEnd(from: Int, to: Int, count: Int) throws {
        let output = try Resampler.resample([Float](repeating: 0.5, count: count), from: from, to: to)
        #expect(abs((output.last ?? 0) - 0.5) < 0.1)
    }

    /// soxr_oneshot compensates its filter delay: output sample j is the input at time j / rate.
    /// Compared with the sine evaluated at the new rate, away from the ends (100 ms each side).
    /// Measured at veryHigh quality: −261 dB (16k→48k), −148 dB (44.1k↔48k); a one-sample delay
    /// would give −17 dB.
    @Test(arguments: [(16_000, 48_000, -200.0), (44_100, 48_000, -140.0), (48_000, 44_100, -140.0)])
    func resamplingAddsNoDelay(from: Int, to: Int, bound: Double) throws {
        let input = sine(frequency: 1_000, sampleRate: from, count: from)
        let output = try Resampler.resample(input, from: from, to: to)
        let ideal = sine(frequency: 1_000, sampleRate: to, count: to)
        let middle = to / 10..<to - to / 10
        #expect(errorDecibels(output[middle], reference: ideal[middle]) < bound)
    }

    /// There and back again at veryHigh quality; measured −257 dB (16k↔48k), −155 dB (44.1k↔48k).
    @Test(arguments: [(16_000, 48_000, -200.0), (44_100, 48_000, -150.0), (48_000, 44_100, -150.0)])
    func roundTripOfASineIsTransparent(rate: Int, via other: Int, bound: Double) throws {
        let original = AudioBuffer(sampleRate: rate,
                                   channels: [sine(frequency: 1_000, sampleRate: rate, count: rate)])
        let back = try Resampler.resample(try Resampler.resample(original, to: other), to: rate)
        #expect(back.sampleCount == rate)
        let middle = rate / 10..<rate - rate / 10
        #expect(errorDecibels(back.channels[0][middle], reference: original.channels[0][middle]) < bound)
    }

    /// The quality reaches soxr: 44.1k→48k→44.1k measured −98.5 dB quick, −155 dB veryHigh.
    @Test func qualityIsPassedToSoxr() throws {
        let x = sine(frequency: 1_000, sampleRate: 44_100, count: 44_100)
        let middle = 4_410..<39_690
        func roundTripError(_ quality: Resampler.Quality) throws -> Double {
            let there = try Resampler.resample(x, from: 44_100, to: 48_000, quality: quality)
            let back = try Resampler.resample(there, from: 48_000, to: 44_100, quality: quality)
            return errorDecibels(back[middle], reference: x[middle])
        }
        let quick = try roundTripError(.quick)
        #expect(quick > -105 && quick < -90)
        #expect(try roundTripError(.veryHigh) < -150)
    }

    @Test func sameRateIsACopyAndBadRatesThrow() throws {
        let input = AudioBuffer(sampleRate: 48_000, channels: [[0.5, -0.25]])
        #expect(try Resampler.resample(input, to: 48_000) == input)
        #expect(throws: ResamplerError.invalidRate(from: 48_000, to: 0)) {
            try Resampler.resample(input, to: 0)
        }
        #expect(try Resampler.resample([], from: 16_000, to: 48_000) == [])
    }
}
