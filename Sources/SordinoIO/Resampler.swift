// SPDX-License-Identifier: GPL-3.0-or-later
// Offline sample-rate conversion of whole buffers with libsoxr.

internal import CSoxr

/// Why a buffer could not be resampled. Each description ends with what to do.
public enum ResamplerError: Error, CustomStringConvertible, Equatable {
    /// A rate is not a positive number of Hz.
    case invalidRate(from: Int, to: Int)
    /// libsoxr reported an error; `reason` is its text.
    case soxr(reason: String)

    public var description: String {
        switch self {
        case let .invalidRate(from, to):
            "cannot resample from \(from) Hz to \(to) Hz: both rates must be positive. "
                + "Check the file's header and the requested rate."
        case let .soxr(reason):
            "libsoxr failed to resample (\(reason)). Try another quality, or resample the file "
                + "beforehand with `sox IN -r RATE out.wav`."
        }
    }
}

/// Whole-buffer sample-rate conversion with libsoxr's `soxr_oneshot`.
///
/// Delay: `soxr_oneshot` compensates its own filter delay and flushes the filter at the end, so
/// output sample j corresponds to input time j / outRate seconds (no added latency, no lost tail).
/// The first and last few milliseconds show the filter's ringing against the implicit silence
/// outside the buffer.
public enum Resampler {
    /// libsoxr's quality recipes. Attenuation and passband are libsoxr's; cost rises with each.
    public enum Quality: Sendable, CaseIterable {
        /// Cubic interpolation.
        case quick
        /// 16-bit, large rolloff.
        case low
        /// 16-bit, medium rolloff.
        case medium
        /// 20-bit.
        case high
        /// 28-bit: transparent for Float32 audio.
        case veryHigh

        var recipe: UInt {
            switch self {
            case .quick: UInt(SOXR_QQ)
            case .low: UInt(SOXR_LQ)
            case .medium: UInt(SOXR_MQ)
            case .high: UInt(SOXR_20_BITQ)
            case .veryHigh: UInt(SOXR_28_BITQ)
            }
        }
    }

    /// Output length for `count` input samples: round(count · outputRate / inputRate).
    public static func outputCount(for count: Int, from inputRate: Int, to outputRate: Int) -> Int {
        Int((Double(count) * Double(outputRate) / Double(inputRate)).rounded())
    }

    /// Converts every channel of `buffer` to `rate` Hz, one `soxr_oneshot` call per channel.
    /// Returns a copy when the rates already match. Output length per channel:
    /// `outputCount(for: buffer.sampleCount, from: buffer.sampleRate, to: rate)`.
    /// Cost: O(sampleCount) per channel; not real-time (allocates).
    public static func resample(_ buffer: AudioBuffer, to rate: Int, quality: Quality = .veryHigh)
        throws(ResamplerError) -> AudioBuffer
    {
        guard buffer.sampleRate > 0, rate > 0 else {
            throw .invalidRate(from: buffer.sampleRate, to: rate)
        }
        if rate == buffer.sampleRate { return buffer }
        var output = AudioBuffer(sampleRate: rate, channels: [])
        output.channels.reserveCapacity(buffer.channels.count)
        for channel in buffer.channels {
            output.channels.append(
                try resample(channel, from: buffer.sampleRate, to: rate, quality: quality))
        }
        return output
    }

    /// Converts one channel from `inputRate` to `outputRate` Hz; see `resample(_:to:quality:)`.
    public static func resample(_ samples: [Float], from inputRate: Int, to outputRate: Int,
                                quality: Quality = .veryHigh) throws(ResamplerError) -> [Float]
    {
        guard inputRate > 0, outputRate > 0 else {
            throw .invalidRate(from: inputRate, to: outputRate)
        }
        if inputRate == outputRate { return samples }
        let count = outputCount(for: samples.count, from: inputRate, to: outputRate)
        guard count > 0, !samples.isEmpty else { return [] }
        var output = [Float](repeating: 0, count: count)
        var ioSpec = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I)
        var qualitySpec = soxr_quality_spec(quality.recipe, 0)
        var produced = 0
        let failure: String? = samples.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                var consumed = 0
                let error = soxr_oneshot(
                    Double(inputRate), Double(outputRate), 1,
                    UnsafeRawPointer(input.baseAddress), input.count, &consumed,
                    UnsafeMutableRawPointer(out.baseAddress), out.count, &produced,
                    &ioSpec, &qualitySpec, nil)
                return error.map { String(cString: $0) }
            }
        }
        if let failure { throw .soxr(reason: failure) }
        // oneshot flushes the filter, so it fills the rounded length (ResamplerTests checks the
        // tail); were it ever a sample short, that sample would stay 0 rather than be garbage.
        guard produced <= count else { throw .soxr(reason: "produced \(produced) of \(count) samples") }
        return output
    }
}
