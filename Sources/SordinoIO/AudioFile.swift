// SPDX-License-Identifier: GPL-3.0-or-later
// Reads and writes audio files through libsndfile as planar Float buffers.

import Foundation
internal import CSndfile

// MARK: - Buffers and metadata

/// Planar audio: one array of samples per channel, all of the same length.
public struct AudioBuffer: Sendable, Equatable {
    /// Samples per second per channel, in Hz.
    public var sampleRate: Int
    /// One array per channel; full scale is ±1.
    public var channels: [[Float]]

    public init(sampleRate: Int, channels: [[Float]]) {
        self.sampleRate = sampleRate
        self.channels = channels
    }

    /// Samples per channel (the length of the first channel; 0 without channels).
    public var sampleCount: Int { channels.first?.count ?? 0 }

    /// Number of channels.
    public var channelCount: Int { channels.count }

    /// Length in seconds.
    public var durationSeconds: Double {
        sampleRate > 0 ? Double(sampleCount) / Double(sampleRate) : 0
    }
}

/// What a file held before it became an `AudioBuffer`.
public struct AudioFileInfo: Sendable, Equatable {
    /// Container, e.g. "WAV", "FLAC", "AIFF"; libsndfile's own name for the rarer ones.
    public var container: String
    /// Sample encoding, e.g. "PCM 16-bit", "float 32-bit".
    public var encoding: String
    public var channelCount: Int
    /// In Hz.
    public var sampleRate: Int
    /// Samples per channel actually read.
    public var sampleCount: Int
    /// NaN and ±Inf samples (over all channels) that were replaced by 0.
    public var nonFiniteSamples: Int
}

/// The most channels a file may have; more is almost certainly a corrupt header.
public let maximumChannelCount = 64

// MARK: - Errors

/// Why an audio file could not be read or written. Each description names the file and ends with
/// what to do.
public enum AudioFileError: Error, CustomStringConvertible, Equatable {
    /// Nothing exists at the path (the CLI exits 66, `EX_NOINPUT`).
    case notFound(String)
    /// libsndfile could not open or decode the file; `reason` is its `sf_strerror` text.
    case unreadable(String, reason: String)
    /// The path names a folder.
    case isDirectory(String)
    /// The file has no samples (0 bytes, or a header without data).
    case empty(String)
    /// FLAC arriving through a pipe: libsndfile reads FLAC only from files (its format probe
    /// consumes the stream's first bytes, and the decoder then "lost sync").
    case flacFromPipe(String)
    /// The header claims more than `maximumChannelCount` channels.
    case tooManyChannels(String, count: Int)
    /// The file could not be created or written; `reason` is the system or libsndfile text.
    case cannotWrite(String, reason: String)
    /// The requested container and encoding cannot be combined (e.g. FLAC with float samples).
    case unsupportedFormat(String, format: String)
    /// The path's extension names no container this writer knows.
    case unknownExtension(String)
    /// The buffer cannot be written as it is (no channels, unequal channel lengths, bad rate).
    case invalidBuffer(String, reason: String)

    public var description: String {
        switch self {
        case let .notFound(path):
            "\(path): no such file. Check the path and its spelling."
        case let .unreadable(path, reason):
            "\(path): cannot read it as audio (libsndfile: \(reason)). If it is audio in another "
                + "format, convert it with `sox \(path) out.wav` (or `ffmpeg -i \(path) out.wav`)."
        case let .flacFromPipe(path):
            "\(path): FLAC through a pipe, which libsndfile cannot read (it reads FLAC from files only). "
                + "Give the file's path, or decode it into the pipe as WAV (`flac -dc in.flac | …`, `sox in.flac -t wav - | …`)."
        case let .isDirectory(path):
            "\(path): is a folder, not an audio file. Name a file; for every file in it, "
                + "`sordino process \(path)/*.wav --out-dir OUT`."
        case let .empty(path):
            "\(path): contains no samples. Record or export the audio again."
        case let .tooManyChannels(path, count):
            "\(path): has \(count) channels, more than the \(maximumChannelCount) supported; the "
                + "header may be damaged. Mix it down, e.g. `sox \(path) -c 2 out.wav`."
        case let .cannotWrite(path, reason):
            "\(path): cannot write it (\(reason)). Check that the directory exists, that you may "
                + "write there, and that the disk is not full."
        case let .unsupportedFormat(path, format):
            "\(path): \(format) is not a combination libsndfile can write. For FLAC choose 16- or "
                + "24-bit; for float or 32-bit samples use a .wav file."
        case let .unknownExtension(path):
            "\(path): the extension names no supported container. End the name in .wav or .flac."
        case let .invalidBuffer(path, reason):
            "\(path): nothing written, \(reason). Fix the audio passed to the writer."
        }
    }
}

// MARK: - Reading

/// Reads any file libsndfile opens (WAV, FLAC, AIFF, Ogg, …; integer or float samples).
public enum AudioFileReader {
    /// Samples per channel read per `sf_readf_float` call: bounds the interleaved scratch buffer.
    public static let chunkSamples = 65_536

    /// Reads the whole file into planar floats (see `AudioInputStream` for the conversion and the
    /// NaN/Inf replacement). Cost: one pass, memory ≈ 4 bytes per sample.
    public static func read(path: String) throws(AudioFileError) -> (AudioBuffer, AudioFileInfo) {
        let stream = try AudioInputStream(path: path)
        var channels = [[Float]](repeating: [], count: stream.channelCount)
        // The header's length is only a hint (pipes and damaged files lie), so read to the end,
        // and reserve at most 2²⁶ samples (256 MB) up front lest a bad header exhaust memory.
        let expected = min(stream.declaredSampleCount ?? 0, (1 << 26) / stream.channelCount)
        for c in channels.indices { channels[c].reserveCapacity(expected) }
        var chunk = [[Float]](repeating: [], count: stream.channelCount)
        while try stream.read(into: &chunk, maximumCount: chunkSamples) > 0 {
            for c in channels.indices { channels[c].append(contentsOf: chunk[c]) }
        }
        guard stream.samplesRead > 0 else { throw .empty(path) }
        return (AudioBuffer(sampleRate: stream.sampleRate, channels: channels), stream.info)
    }

    static func containerName(_ format: Int32) -> String {
        switch format & Int32(SF_FORMAT_TYPEMASK) {
        case Int32(SF_FORMAT_WAV), Int32(SF_FORMAT_WAVEX): "WAV"
        case Int32(SF_FORMAT_RF64): "RF64"
        case Int32(SF_FORMAT_W64): "W64"
        case Int32(SF_FORMAT_FLAC): "FLAC"
        case Int32(SF_FORMAT_AIFF): "AIFF"
        case Int32(SF_FORMAT_CAF): "CAF"
        case Int32(SF_FORMAT_OGG): "Ogg"
        case Int32(SF_FORMAT_AU): "AU"
        case Int32(SF_FORMAT_MPEG): "MPEG"
        default: libsndfileName(format & Int32(SF_FORMAT_TYPEMASK))
        }
    }

    static func encodingName(_ format: Int32) -> String {
        switch format & Int32(SF_FORMAT_SUBMASK) {
        case Int32(SF_FORMAT_PCM_S8): "PCM 8-bit"
        case Int32(SF_FORMAT_PCM_U8): "PCM 8-bit unsigned"
        case Int32(SF_FORMAT_PCM_16): "PCM 16-bit"
        case Int32(SF_FORMAT_PCM_24): "PCM 24-bit"
        case Int32(SF_FORMAT_PCM_32): "PCM 32-bit"
        case Int32(SF_FORMAT_FLOAT): "float 32-bit"
        case Int32(SF_FORMAT_DOUBLE): "float 64-bit"
        case Int32(SF_FORMAT_VORBIS): "Vorbis"
        case Int32(SF_FORMAT_OPUS): "Opus"
        case Int32(SF_FORMAT_ULAW): "μ-law"
        case Int32(SF_FORMAT_ALAW): "A-law"
        default: libsndfileName(format & Int32(SF_FORMAT_SUBMASK))
        }
    }

    /// libsndfile's own name for a major or subtype format, or its hex code if it has none.
    static func libsndfileName(_ format: Int32) -> String {
        var formatInfo = SF_FORMAT_INFO()
        formatInfo.format = format
        let status = sf_command(nil, Int32(SFC_GET_FORMAT_INFO), &formatInfo,
                                Int32(MemoryLayout<SF_FORMAT_INFO>.size))
        if status == 0, let name = formatInfo.name { return String(cString: name) }
        return "format 0x" + String(format, radix: 16)
    }
}

// MARK: - Writing

/// A container and sample encoding the writer supports.
public struct AudioFileFormat: Sendable, Equatable, CustomStringConvertible {
    public enum Container: String, Sendable, CaseIterable {
        case wav = "WAV", flac = "FLAC"
    }

    public enum Encoding: String, Sendable, CaseIterable {
        case pcm16 = "PCM 16-bit", pcm24 = "PCM 24-bit", pcm32 = "PCM 32-bit"
        case float32 = "float 32-bit"

        /// Largest error a write→read round trip may add to a sample in [-1, 1]: half a
        /// quantisation step, or a whole one at +1, which clips to the largest code (plus
        /// Float32 rounding).
        public var quantisationStep: Float {
            switch self {
            case .pcm16: 1 / 32_768
            case .pcm24: 1 / 8_388_608
            case .pcm32: 1 / 2_147_483_648
            case .float32: 0
            }
        }
    }

    public var container: Container
    public var encoding: Encoding

    public init(container: Container, encoding: Encoding) {
        self.container = container
        self.encoding = encoding
    }

    /// Whether libsndfile can write this combination: FLAC holds only 16- and 24-bit integers.
    public var isWritable: Bool {
        container == .wav || encoding == .pcm16 || encoding == .pcm24
    }

    public var description: String { "\(container.rawValue) \(encoding.rawValue)" }

    /// The container named by the path's extension (`.wav`/`.wave`, `.flac`; case-insensitive)
    /// with `encoding`, or by default float 32-bit for WAV and 24-bit for FLAC.
    public static func inferred(fromPath path: String, encoding: Encoding? = nil)
        throws(AudioFileError) -> AudioFileFormat
    {
        switch (path as NSString).pathExtension.lowercased() {
        case "wav", "wave": AudioFileFormat(container: .wav, encoding: encoding ?? .float32)
        case "flac": AudioFileFormat(container: .flac, encoding: encoding ?? .pcm24)
        default: throw .unknownExtension(path)
        }
    }

    /// Bits per integer sample; nil for float.
    var bitDepth: Int? {
        switch encoding {
        case .pcm16: 16
        case .pcm24: 24
        case .pcm32: 32
        case .float32: nil
        }
    }

    var libsndfileFormat: Int32 {
        let major = switch container {
        case .wav: Int32(SF_FORMAT_WAV)
        case .flac: Int32(SF_FORMAT_FLAC)
        }
        let minor = switch encoding {
        case .pcm16: Int32(SF_FORMAT_PCM_16)
        case .pcm24: Int32(SF_FORMAT_PCM_24)
        case .pcm32: Int32(SF_FORMAT_PCM_32)
        case .float32: Int32(SF_FORMAT_FLOAT)
        }
        return major | minor
    }
}

/// Writes planar buffers with libsndfile.
public enum AudioFileWriter {
    /// Writes `buffer` to `path`, replacing any file there; see `AudioOutputStream` for how samples
    /// are encoded. On failure the partly written file is removed.
    public static func write(_ buffer: AudioBuffer, to path: String, format: AudioFileFormat)
        throws(AudioFileError)
    {
        let sampleCount = buffer.sampleCount
        guard buffer.channels.allSatisfy({ $0.count == sampleCount }) else {
            throw .invalidBuffer(path, reason: "its channels differ in length "
                + "(\(buffer.channels.map(\.count)) samples)")
        }
        let stream = try AudioOutputStream(path: path, format: format, sampleRate: buffer.sampleRate,
                                           channelCount: buffer.channels.count)
        try stream.write(buffer.channels, from: 0, count: sampleCount)
        try stream.close()
    }
}
