// SPDX-License-Identifier: GPL-3.0-or-later
// Round trips, non-finite samples and error cases of the libsndfile reader and writer.

import Foundation
import Testing
import SordinoIO

extension AudioFileFormat: CustomTestStringConvertible {
    public var testDescription: String { description }
}

@Suite struct AudioFileTests {
    static let formats: [AudioFileFormat] = [
        .init(container: .wav, encoding: .pcm16), .init(container: .wav, encoding: .pcm24),
        .init(container: .wav, encoding: .pcm32), .init(container: .wav, encoding: .float32),
        .init(container: .flac, encoding: .pcm16), .init(container: .flac, encoding: .pcm24),
    ]

    /// The edge values -1, +1 and just below +1, then loud and quiet noise, one seed per channel.
    /// `Float.random(in: -1...1)` lies on a 2⁻²³ grid that 24-bit codes hold exactly, so the noise
    /// is scaled by odd gains to exercise rounding in every format.
    static func testBuffer(channels: Int, sampleRate: Int = 44_100) -> AudioBuffer {
        AudioBuffer(sampleRate: sampleRate, channels: (0..<channels).map { c in
            [-1, 1, 0.999_99, 0, 1e-6]
                + uniformNoise(count: 3_000, seed: UInt64(c + 1)).map { $0 * 0.987_654_3 }
                + uniformNoise(count: 1_000, seed: UInt64(c + 100)).map { $0 * 1.234_5e-3 }
        })
    }

    @Test(arguments: formats, [1, 2, 6])
    func roundTripStaysWithinOneQuantisationStep(format: AudioFileFormat, channels: Int) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let ext = format.container == .wav ? "wav" : "flac"
        let path = scratch.path("round-trip.\(ext)")
        let original = Self.testBuffer(channels: channels, sampleRate: 22_050)

        try AudioFileWriter.write(original, to: path, format: format)
        let (read, info) = try AudioFileReader.read(path: path)

        #expect(read.sampleRate == 22_050 && info.sampleRate == 22_050)
        #expect(read.channels.count == channels && info.channelCount == channels)
        #expect(read.sampleCount == original.sampleCount && info.sampleCount == original.sampleCount)
        #expect(info.container == format.container.rawValue)
        #expect(info.encoding == format.encoding.rawValue)
        #expect(info.nonFiniteSamples == 0)
        // A step at most (reached only at +1, which clips to the largest code), plus the rounding
        // of Float32 near full scale (6e-8).
        let tolerance = format.encoding.quantisationStep + 1e-7
        let step = format.encoding.quantisationStep
        for (a, b) in zip(read.channels, original.channels) {
            #expect(maxAbsDifference(a, b) <= tolerance)
            // Below the largest code, 1 − step, rounding errs by half a step, plus half a Float32
            // ulp where 32-bit codes are read back. libsndfile's own float path is worse: it
            // truncates 16/24-bit samples, or scales by 0x7FFF when clipping is off.
            let worst = b.indices.filter { b[$0] <= 1 - step }
                .map { Double(abs(a[$0] - b[$0])) / Double(step / 2 + b[$0].ulp / 2) }.max() ?? 0
            #expect(worst <= 1)
        }
    }

    @Test func integerWritesClipInsteadOfWrappingAround() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.path("clip.wav")
        let loud = AudioBuffer(sampleRate: 8_000, channels: [[1.5, -2, 0.5, 100]])
        try AudioFileWriter.write(loud, to: path, format: .init(container: .wav, encoding: .pcm16))
        let (read, _) = try AudioFileReader.read(path: path)
        let largest: Float = 32_767 / 32_768
        #expect(read.channels[0] == [largest, -1, 0.5, largest])
    }

    @Test func nonFiniteFloatSamplesAreZeroedAndCounted() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        // Stereo, interleaved; written by hand so the reader is checked without the writer.
        let interleaved: [Float] = [0.25, .nan, .infinity, -0.5, -.infinity, 0.75,
                                    .signalingNaN, -.nan, 0.125, .greatestFiniteMagnitude]
        let data = interleaved.flatMap { littleEndian($0.bitPattern) }
        let path = try scratch.write(wavFile(formatTag: 3, bitsPerSample: 32, channels: 2,
                                             sampleRate: 16_000, dataBytes: data), to: "nan.wav")
        let (buffer, info) = try AudioFileReader.read(path: path)
        #expect(info.nonFiniteSamples == 5)
        #expect(info.encoding == "float 32-bit" && info.container == "WAV")
        #expect(buffer.channels[0] == [0.25, 0, 0, 0, 0.125])
        #expect(buffer.channels[1] == [0, -0.5, 0.75, 0, .greatestFiniteMagnitude])
    }

    @Test func floatWriterKeepsNonFiniteSamplesIntegerWriterZeroesThem() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let buffer = AudioBuffer(sampleRate: 8_000, channels: [[.nan, 0.5, .infinity]])
        let floatPath = scratch.path("f.wav"), intPath = scratch.path("i.wav")
        try AudioFileWriter.write(buffer, to: floatPath, format: .init(container: .wav, encoding: .float32))
        try AudioFileWriter.write(buffer, to: intPath, format: .init(container: .wav, encoding: .pcm24))
        let (fromFloat, floatInfo) = try AudioFileReader.read(path: floatPath)
        let (fromInt, intInfo) = try AudioFileReader.read(path: intPath)
        #expect(floatInfo.nonFiniteSamples == 2 && fromFloat.channels[0] == [0, 0.5, 0])
        #expect(intInfo.nonFiniteSamples == 0 && fromInt.channels[0] == [0, 0.5, 0])
    }

    // MARK: - Errors

    @Test func missingFileIsNotFound() {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("sordino-missing-\(UUID().uuidString).wav").path
        #expect(throws: AudioFileError.notFound(path)) { try AudioFileReader.read(path: path) }
        #expect(AudioFileError.notFound(path).description.hasPrefix(path))
    }

    @Test func zeroByteFileIsEmpty() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = try scratch.write([], to: "zero.wav")
        #expect(throws: AudioFileError.empty(path)) { try AudioFileReader.read(path: path) }
    }

    @Test(arguments: [(UInt16(1), UInt16(16)), (3, 32)])
    func headerWithoutSamplesIsEmpty(formatTag: UInt16, bits: UInt16) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = try scratch.write(wavFile(formatTag: formatTag, bitsPerSample: bits, channels: 1,
                                             sampleRate: 48_000, dataBytes: []), to: "header-only.wav")
        #expect(throws: AudioFileError.empty(path)) { try AudioFileReader.read(path: path) }
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func randomBytesAreUnreadable(seed: UInt64) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = try scratch.write(randomBytes(count: 4_096, seed: seed), to: "noise.wav")
        let error = #expect(throws: AudioFileError.self) { try AudioFileReader.read(path: path) }
        guard case let .unreadable(errorPath, reason) = error else {
            Issue.record("expected .unreadable, got \(String(describing: error))")
            return
        }
        #expect(errorPath == path && !reason.isEmpty)
        #expect(error?.description.contains("sox") == true)
    }

    /// A header promising 1000 stereo samples over 10 present ones (a cut-off download): libsndfile
    /// trusts the file size, so the 10 samples are read and nothing crashes.
    @Test func truncatedWavReadsWhatIsThere() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let samples = (0..<20).map { Int16($0 * 1_000 - 9_000) }
        var file = wavFile(formatTag: 1, bitsPerSample: 16, channels: 2, sampleRate: 8_000,
                           dataBytes: samples.flatMap { littleEndian($0) })
        file.replaceSubrange(40..<44, with: littleEndian(UInt32(4_000)))   // data chunk size
        file += [0x12]   // and half a sample
        let path = try scratch.write(file, to: "cut.wav")
        let (buffer, info) = try AudioFileReader.read(path: path)
        #expect(info.sampleCount == 10 && buffer.channels.count == 2)
        #expect(buffer.channels[0] == stride(from: 0, to: 20, by: 2).map { Float(samples[$0]) / 32_768 })
    }

    @Test func directoryIsNamedAsSuch() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        #expect(throws: AudioFileError.isDirectory(scratch.url.path)) {
            try AudioFileReader.read(path: scratch.url.path)
        }
    }

    @Test func moreThan64ChannelsIsRejected() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = try scratch.write(
            wavFile(formatTag: 1, bitsPerSample: 16, channels: 65, sampleRate: 8_000,
                    dataBytes: [UInt8](repeating: 0, count: 65 * 2 * 10)), to: "many.wav")
        #expect(throws: AudioFileError.tooManyChannels(path, count: 65)) {
            try AudioFileReader.read(path: path)
        }
    }

    @Test func unwritableDirectoryIsCannotWrite() throws {
        let path = "/nonexistent-sordino-dir-\(UUID().uuidString)/out.wav"
        let error = #expect(throws: AudioFileError.self) {
            try AudioFileWriter.write(Self.testBuffer(channels: 1), to: path,
                                      format: .init(container: .wav, encoding: .pcm16))
        }
        guard case let .cannotWrite(errorPath, reason) = error else {
            Issue.record("expected .cannotWrite, got \(String(describing: error))")
            return
        }
        #expect(errorPath == path && !reason.isEmpty)
    }

    @Test func flacCannotHoldFloatOr32Bit() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        for encoding in [AudioFileFormat.Encoding.float32, .pcm32] {
            let path = scratch.path("x.flac"), format = AudioFileFormat(container: .flac, encoding: encoding)
            #expect(throws: AudioFileError.unsupportedFormat(path, format: format.description)) {
                try AudioFileWriter.write(Self.testBuffer(channels: 1), to: path, format: format)
            }
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test func raggedBufferIsRejected() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.path("ragged.wav")
        let error = #expect(throws: AudioFileError.self) {
            try AudioFileWriter.write(AudioBuffer(sampleRate: 8_000, channels: [[0, 0], [0]]),
                                      to: path, format: .init(container: .wav, encoding: .pcm16))
        }
        guard case .invalidBuffer = error else {
            Issue.record("expected .invalidBuffer, got \(String(describing: error))")
            return
        }
    }

    @Test func containerIsInferredFromTheExtension() throws {
        #expect(try AudioFileFormat.inferred(fromPath: "a/b.WAV") == .init(container: .wav, encoding: .float32))
        #expect(try AudioFileFormat.inferred(fromPath: "b.flac") == .init(container: .flac, encoding: .pcm24))
        #expect(try AudioFileFormat.inferred(fromPath: "b.wav", encoding: .pcm16)
                == .init(container: .wav, encoding: .pcm16))
        #expect(throws: AudioFileError.unknownExtension("song.mp3")) {
            try AudioFileFormat.inferred(fromPath: "song.mp3")
        }
    }
}
