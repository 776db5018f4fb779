// SPDX-License-Identifier: GPL-3.0-or-later
// Length, delay and accuracy of the libsoxr resampler.

import Foundation
import Testing
import SordinoIO

@Suite struct ResamplerTests {
    @Test(arguments: [(16_000, 48_000, 16_000), (44_100, 48_000, 44_100), (48_000, 44_100, 12_345),
                      (48_000, 16_000, 1_001), (22_050, 44_100, 7)])
    func lengthIsTheRoundedRatio(from: Int, to: Int, count: Int) throws {
        let input = AudioBuffer(sampleRate: from, channels: [uniformNoise(count: count, seed: 4),
                                                             uniformNoise(count: count, seed: 5)])
        let output = try Resampler.resample(input, to: to)
        let expected = Int((Double(count) * Double(to) / Double(from)).rounded())
        #expect(output.sampleRate == to && output.channels.count == 2)
        #expect(output.channels.allSatisfy { $0.count == expected })
    }

    /// Upsampling adds no delay: the output matches the sine evaluated at the new rate.
    @Test func upsamplingIsDelayCompensated() throws {
        let input = sine(frequency: 1_000, sampleRate: 16_000, count: 16_000)
        let output = try Resampler.resample(input, from: 16_000, to: 48_000)
        let ideal = sine(frequency: 1_000, sampleRate: 48_000, count: 48_000)
        let middle = 4_800..<43_200   // skip 100 ms at each end, where the filter rings
        #expect(errorDecibels(output[middle], reference: ideal[middle]) < -100)
    }

    @Test(arguments: [(16_000, 48_000), (44_100, 48_000), (48_000, 44_100)])
    func roundTripOfASineIsTransparent(rate: Int, via other: Int) throws {
        let count = rate   // 1 s
        let original = AudioBuffer(sampleRate: rate,
                                   channels: [sine(frequency: 1_000, sampleRate: rate, count: count)])
        let there = try Resampler.resample(original, to: other)
        let back = try Resampler.resample(there, to: rate)
        #expect(back.sampleCount == count)
        let middle = count / 10..<count - count / 10
        #expect(errorDecibels(back.channels[0][middle], reference: original.channels[0][middle]) < -100)
    }

    @Test func sameRateIsACopyAndBadRatesThrow() throws {
        let input = AudioBuffer(sampleRate: 48_000, channels: [[0.5, -0.25]])
        #expect(try Resampler.resample(input, to: 48_000) == input)
        #expect(throws: ResamplerError.invalidRate(from: 48_000, to: 0)) {
            try Resampler.resample(input, to: 0)
        }
    }
}
