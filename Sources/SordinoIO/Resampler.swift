// SPDX-License-Identifier: GPL-3.0-or-later
// Sample-rate conversion with libsoxr, of whole buffers or of a stream a chunk at a time.

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

/// Sample-rate conversion with libsoxr (whole buffers here; `ResamplingStream` for chunks).
///
/// Delay: libsoxr compensates its own filter delay and the end is flushed, so output sample j
/// corresponds to input time j / outRate seconds (no added latency, no lost tail). The first and
/// last few milliseconds show the filter's ringing against the implicit silence outside the buffer.
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
        if inputRate == outputRate && inputRate > 0 { return samples }
        let stream = try ResamplingStream(channelCount: 1, from: inputRate, to: outputRate, quality: quality)
        var output = try stream.process([samples], count: samples.count)
        let tail = try stream.finish()
        output[0].append(contentsOf: tail[0])
        return output[0]
    }
}

/// Converts a planar stream from one rate to another a chunk at a time, one libsoxr resampler per
/// channel, so memory does not depend on the stream's length. The output is the same sequence, to
/// the bit, whatever the chunk sizes; after `finish` it holds exactly
/// `Resampler.outputCount(for: samplesIn, …)` samples per channel. Allocates; not real-time.
public final class ResamplingStream {
    public let channelCount: Int
    public let inputRate: Int
    public let outputRate: Int
    /// Samples per channel fed so far.
    public private(set) var samplesIn = 0
    /// Samples per channel delivered so far.
    public private(set) var samplesOut = 0
    private let resamplers: [soxr_t]
    private var scratch: [Float] = []

    public init(channelCount: Int, from inputRate: Int, to outputRate: Int, quality: Resampler.Quality = .veryHigh)
        throws(ResamplerError)
    {
        guard inputRate > 0, outputRate > 0 else { throw .invalidRate(from: inputRate, to: outputRate) }
        var ioSpec = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I)
        var qualitySpec = soxr_quality_spec(quality.recipe, 0)
        var made: [soxr_t] = []
        for _ in 0..<channelCount {
            var error: soxr_error_t?
            guard let r = soxr_create(Double(inputRate), Double(outputRate), 1, &error, &ioSpec, &qualitySpec, nil),
                  error == nil else {
                made.forEach { soxr_delete($0) }
                throw .soxr(reason: error.map { String(cString: $0) } ?? "soxr_create failed")
            }
            made.append(r)
        }
        resamplers = made
        self.channelCount = channelCount
        self.inputRate = inputRate
        self.outputRate = outputRate
    }

    deinit { resamplers.forEach { soxr_delete($0) } }

    /// Feeds `count` samples of every channel (`channels[c][0 ..< count]`) and returns what libsoxr
    /// delivers for them so far (the same count for every channel; less than the input's share
    /// at first, as the filter fills).
    public func process(_ channels: [[Float]], count: Int) throws(ResamplerError) -> [[Float]] {
        precondition(channels.count == channelCount && channels.allSatisfy { $0.count >= count }, "chunk shape")
        samplesIn += count
        var output = [[Float]](repeating: [], count: channelCount)
        guard count > 0 else { return output }   // an empty buffer's nil address would mean "flush"
        for c in 0..<channelCount {
            try channels[c].withUnsafeBufferPointer { (input) throws(ResamplerError) in
                try drain(c, input: input.baseAddress, count: count, into: &output[c])
            }
        }
        samplesOut += output.first?.count ?? 0
        return output
    }

    /// Flushes the filters: returns the rest of the output, so that the total per channel is
    /// `Resampler.outputCount(for: samplesIn, from: inputRate, to: outputRate)` (zeros make up any
    /// shortfall; nothing beyond it is delivered).
    public func finish() throws(ResamplerError) -> [[Float]] {
        let total = Resampler.outputCount(for: samplesIn, from: inputRate, to: outputRate)
        var output = [[Float]](repeating: [], count: channelCount)
        for c in 0..<channelCount {
            try drain(c, input: nil, count: 0, into: &output[c])
            let wanted = max(total - samplesOut, 0)
            if output[c].count > wanted { output[c].removeLast(output[c].count - wanted) }
            if output[c].count < wanted { output[c].append(contentsOf: repeatElement(0, count: wanted - output[c].count)) }
        }
        samplesOut += output.first?.count ?? 0
        return output
    }

    /// Runs channel `c`'s resampler on `count` samples at `input` (nil: flush) until it has taken them
    /// all and has nothing more to give, appending to `output`.
    private func drain(_ c: Int, input: UnsafePointer<Float>?, count: Int, into output: inout [Float])
        throws(ResamplerError)
    {
        let room = 16_384
        if scratch.count < room { scratch = [Float](repeating: 0, count: room) }
        var consumed = 0
        while true {
            var used = 0, produced = 0
            let error = scratch.withUnsafeMutableBufferPointer { out in
                soxr_process(resamplers[c], input.map { UnsafeRawPointer($0 + consumed) }, count - consumed, &used,
                             UnsafeMutableRawPointer(out.baseAddress), room, &produced)
            }
            if let error { throw .soxr(reason: String(cString: error)) }
            consumed += used
            output.append(contentsOf: scratch[0..<produced])
            // Done when all input is taken and a call gives nothing more.
            if consumed >= count && produced == 0 { break }
        }
    }
}
