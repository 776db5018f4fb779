// SPDX-License-Identifier: GPL-3.0-or-later
// Audio files (or stdin/stdout, named "-") read and written a chunk at a time through libsndfile.

import Foundation
internal import CSndfile

/// The path that names standard input (reading) or standard output (writing).
public let standardStreamPath = "-"

// MARK: - Reading

/// An audio file open for reading, delivered in planar chunks so memory does not grow with the
/// file. Integer samples map to ±1 (libsndfile's normalisation: a 16-bit sample s becomes
/// s / 32768); NaN and ±Inf become 0 and are counted. `-` reads standard input (WAV, FLAC, … as
/// libsndfile can parse from a pipe). Not thread-safe; one reader per file.
public final class AudioInputStream {
    /// The path given, or `-` for standard input.
    public let path: String
    public let channelCount: Int
    /// In Hz.
    public let sampleRate: Int
    /// Container, e.g. "WAV", "FLAC".
    public let container: String
    /// Sample encoding, e.g. "PCM 16-bit".
    public let encoding: String
    /// Samples per channel the header promises; nil when unknown (a stream without a length).
    public let declaredSampleCount: Int?
    /// Samples per channel delivered so far.
    public private(set) var samplesRead = 0
    /// NaN and ±Inf samples (over all channels) replaced by 0 so far.
    public private(set) var nonFiniteSamples = 0

    private let file: OpaquePointer
    /// Samples per channel the header's data chunk declares when it is longer than the file
    /// (libsndfile then shortens `frames` to what is present and logs "should be").
    private let headerSampleCount: Int?
    /// MP3: libsndfile's length is estimated from the bit rate unless a Xing/Info tag gives it.
    private let lengthIsEstimate: Bool
    /// Not a regular file (standard input, a pipe, a FIFO): its header was written before its
    /// length was known, so that length is the writer's guess (sox writes 2³¹ − 4096 bytes).
    private let isStream: Bool
    private var scratch: [Float] = []

    /// Opens `path` (or `-`) and checks its header. Throws `notFound`, `isDirectory`, `empty`, `unreadable` or
    /// `tooManyChannels`.
    public init(path: String) throws(AudioFileError) {
        self.path = path
        var sfInfo = SF_INFO()
        let opened: OpaquePointer?
        if path == standardStreamPath {
            opened = sf_open_fd(STDIN_FILENO, Int32(SFM_READ), &sfInfo, 0)
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw .notFound(path)
            }
            if isDirectory.boolValue { throw .isDirectory(path) }
            // stat(2): FileManager's attributes would also look up owner names. Only a regular file's
            // size says it is empty: a pipe (`<(sox … -t wav -)`, a FIFO) reports 0 and is read as a stream.
            var status = stat()
            if stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_size == 0 { throw .empty(path) }
            opened = sf_open(path, Int32(SFM_READ), &sfInfo)
        }
        let stream = Self.isStream(path)
        guard let file = opened else {
            let reason = String(cString: sf_strerror(nil))
            throw stream && reason.lowercased().contains("flac") ? .flacFromPipe(path) : .unreadable(path, reason: reason)
        }
        self.file = file
        isStream = stream
        channelCount = Int(sfInfo.channels)
        sampleRate = Int(sfInfo.samplerate)
        container = AudioFileReader.containerName(sfInfo.format)
        lengthIsEstimate = sfInfo.format & Int32(SF_FORMAT_TYPEMASK) == Int32(SF_FORMAT_MPEG)
        encoding = AudioFileReader.encodingName(sfInfo.format)
        // A stream without a length (a pipe) reports 0 frames or SF_COUNT_MAX.
        let frames = sfInfo.frames
        declaredSampleCount = frames > 0 && frames < sf_count_t.max ? Int(frames) : nil
        headerSampleCount = declaredSampleCount.flatMap { Self.headerLength(of: file, present: $0) }
        guard channelCount >= 1 else {
            sf_close(file)
            throw .unreadable(path, reason: "header declares \(channelCount) channels")
        }
        guard channelCount <= maximumChannelCount else {
            sf_close(file)
            throw .tooManyChannels(path, count: channelCount)
        }
        guard sampleRate > 0 else {
            sf_close(file)
            throw .unreadable(path, reason: "header declares a sample rate of \(sampleRate) Hz")
        }
        // Explicit, though it is libsndfile's default: integer samples are scaled to ±1.
        sf_command(file, Int32(SFC_SET_NORM_FLOAT), nil, Int32(SF_TRUE))
    }

    deinit { sf_close(file) }

    /// Replaces `channels` (resized to `channelCount` arrays) with the next ≤ `maximumCount` samples of
    /// every channel; returns how many, 0 at the end. Cost: one pass over the chunk.
    public func read(into channels: inout [[Float]], maximumCount: Int) throws(AudioFileError) -> Int {
        let count = max(1, maximumCount)
        if scratch.count < count * channelCount { scratch = [Float](repeating: 0, count: count * channelCount) }
        let got = scratch.withUnsafeMutableBufferPointer { pointer in
            Int(sf_readf_float(file, pointer.baseAddress, sf_count_t(count)))
        }
        if channels.count != channelCount { channels = [[Float]](repeating: [], count: channelCount) }
        guard got > 0 else {
            let status = sf_error(file)
            if status != 0 { throw .unreadable(path, reason: String(cString: sf_strerror(file))) }
            for c in channels.indices { channels[c].removeAll(keepingCapacity: true) }
            return 0
        }
        var nonFinite = 0
        let stride = channelCount
        scratch.withUnsafeBufferPointer { interleaved in
            for c in 0..<stride {
                channels[c].removeAll(keepingCapacity: true)
                channels[c].append(contentsOf: repeatElement(0, count: got))
                channels[c].withUnsafeMutableBufferPointer { channel in   // no checks per sample
                    for i in 0..<got {
                        let x = interleaved[i * stride + c]
                        if x.isFinite { channel[i] = x } else { nonFinite += 1 }
                    }
                }
            }
        }
        nonFiniteSamples += nonFinite
        samplesRead += got
        return got
    }

    /// What the file held so far (its whole content once `read` has returned 0).
    public var info: AudioFileInfo {
        AudioFileInfo(container: container, encoding: encoding, channelCount: channelCount, sampleRate: sampleRate,
                      sampleCount: samplesRead, nonFiniteSamples: nonFiniteSamples)
    }

    /// Whether `path` (standard input for `-`) is not a regular file: a pipe, a FIFO, a terminal.
    private static func isStream(_ path: String) -> Bool {
        var status = stat()
        let statted = path == standardStreamPath ? fstat(STDIN_FILENO, &status) : stat(path, &status)
        return statted != 0 || status.st_mode & S_IFMT != S_IFREG
    }

    /// Once the end is reached: the samples per channel the header promised, when more than were
    /// read (a file cut short, e.g. by an interrupted copy); nil when the file is whole or its
    /// length was unknown. Nil for MP3: without a Xing/Info tag its length is an estimate from the
    /// bit rate (at 44.1 kHz a whole file "declares" 0.2–0.5 % more than it holds), and a file cut
    /// short shrinks that estimate with it. Nil for a stream (standard input, a pipe): a tool that
    /// writes WAV to a pipe before it knows the length puts a guess there (`sox … -t wav -` from raw
    /// input declares 2³¹ − 4096 bytes), which said "truncated" of every such stream.
    public var missingFromDeclaredLength: (declared: Int, read: Int)? {
        guard !lengthIsEstimate, !isStream else { return nil }
        let declared = headerSampleCount ?? declaredSampleCount ?? 0
        return declared > samplesRead ? (declared, samplesRead) : nil
    }

    /// The data length the header declares, in samples per channel, when libsndfile logged it as
    /// longer than the file ("data : 96000 (should be 30080)", in bytes); nil otherwise.
    private static func headerLength(of file: OpaquePointer, present frames: Int) -> Int? {
        var log = [CChar](repeating: 0, count: 8192)
        _ = sf_command(file, Int32(SFC_GET_LOG_INFO), &log, Int32(log.count))
        let text = String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix("data") && line.contains("(should be") {
            let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Double($0) }
            guard numbers.count >= 2, numbers[1] > 0 else { return nil }
            return Int((Double(frames) * numbers[0] / numbers[1]).rounded())
        }
        return nil
    }
}

// MARK: - Writing

/// An audio file (or `-`, standard output) open for writing, fed planar chunks. For an integer
/// encoding of b bits a sample x becomes round(x · 2^(b−1)) (ties to even), clipped to the code
/// range (counted in `clippedSamples` when |x| > 1), so reading it back errs by at most half a step
/// below full scale and one step at +1; NaN and ±Inf become 0. Float encodings store samples
/// unchanged. A file not closed successfully is removed.
public final class AudioOutputStream {
    public let path: String
    public let format: AudioFileFormat
    public let channelCount: Int
    /// Samples per channel written so far.
    public private(set) var samplesWritten = 0
    /// Integer encodings: samples beyond full scale (|x| > 1) clipped to the code range so far.
    public private(set) var clippedSamples = 0

    private let file: OpaquePointer
    private var isOpen = true
    private var floats: [Float] = []
    private var ints: [Int32] = []

    /// Creates (or replaces) `path`, or writes to standard output for `-`. Throws `unsupportedFormat`,
    /// `invalidBuffer` (channel count, rate) or `cannotWrite`.
    public init(path: String, format: AudioFileFormat, sampleRate: Int, channelCount: Int) throws(AudioFileError) {
        guard format.isWritable else { throw .unsupportedFormat(path, format: format.description) }
        guard (1...maximumChannelCount).contains(channelCount) else {
            throw .invalidBuffer(path, reason: "it has \(channelCount) channels "
                + "(1 to \(maximumChannelCount) are supported)")
        }
        guard sampleRate > 0, sampleRate <= Int(Int32.max) else {
            throw .invalidBuffer(path, reason: "its sample rate is \(sampleRate) Hz")
        }
        var sfInfo = SF_INFO()
        sfInfo.samplerate = Int32(sampleRate)
        sfInfo.channels = Int32(channelCount)
        sfInfo.format = format.libsndfileFormat
        guard sf_format_check(&sfInfo) != 0 else {
            throw .unsupportedFormat(path, format: "\(format) at \(sampleRate) Hz with \(channelCount) channels")
        }
        let opened: OpaquePointer?
        if path != standardStreamPath {
            opened = sf_open(path, Int32(SFM_WRITE), &sfInfo)
        } else if format.container == .wav && lseek(STDOUT_FILENO, 0, SEEK_CUR) < 0 {
            // A pipe: libsndfile writes WAV only where it can go back to the header ("this file
            // format does not support pipe write"), so the header is written here, with the length
            // sox gives a stream it cannot measure, and the samples after it as raw little-endian data.
            try Self.writeStreamHeader(format: format, sampleRate: sampleRate, channelCount: channelCount, path: path)
            sfInfo.format = Int32(SF_FORMAT_RAW) | (format.libsndfileFormat & Int32(SF_FORMAT_SUBMASK)) | Int32(SF_ENDIAN_LITTLE)
            opened = sf_open_fd(STDOUT_FILENO, Int32(SFM_WRITE), &sfInfo, 0)
        } else {
            opened = sf_open_fd(STDOUT_FILENO, Int32(SFM_WRITE), &sfInfo, 0)
        }
        guard let file = opened else { throw .cannotWrite(path, reason: String(cString: sf_strerror(nil))) }
        self.file = file
        self.path = path
        self.format = format
        self.channelCount = channelCount
        // Integer samples are quantised here (see `quantise`); these only govern float input.
        sf_command(file, Int32(SFC_SET_NORM_FLOAT), nil, Int32(SF_TRUE))
        sf_command(file, Int32(SFC_SET_CLIPPING), nil, Int32(SF_TRUE))
    }

    /// Abandoned without `close()` (an error on the way): the partial file is removed.
    deinit {
        guard isOpen else { return }
        sf_close(file)
        if path != standardStreamPath { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Appends `count` samples of every channel, `channels[c][start ..< start + count]`.
    public func write(_ channels: [[Float]], from start: Int, count: Int) throws(AudioFileError) {
        guard channels.count == channelCount, channels.allSatisfy({ $0.count >= start + count }) else {
            throw .invalidBuffer(path, reason: "a chunk of \(channels.count) channels does not hold samples "
                + "\(start)..<\(start + count)")
        }
        var done = 0
        while done < count {
            let n = min(AudioFileReader.chunkSamples, count - done)
            let written: Int
            let stride = channelCount, first = start + done
            if let bits = format.bitDepth {
                if ints.count < n * channelCount { ints = [Int32](repeating: 0, count: AudioFileReader.chunkSamples * channelCount) }
                var clipped = 0
                ints.withUnsafeMutableBufferPointer { interleaved in   // no checks per sample
                    for c in 0..<stride {
                        channels[c].withUnsafeBufferPointer { channel in
                            for i in 0..<n {
                                let x = channel[first + i]
                                if abs(x) > 1 { clipped += 1 }
                                interleaved[i * stride + c] = Self.quantise(x, bits: bits)
                            }
                        }
                    }
                }
                clippedSamples += clipped
                written = ints.withUnsafeBufferPointer { Int(sf_writef_int(file, $0.baseAddress, sf_count_t(n))) }
            } else {
                if floats.count < n * channelCount { floats = [Float](repeating: 0, count: AudioFileReader.chunkSamples * channelCount) }
                floats.withUnsafeMutableBufferPointer { interleaved in
                    for c in 0..<stride {
                        channels[c].withUnsafeBufferPointer { channel in
                            for i in 0..<n { interleaved[i * stride + c] = channel[first + i] }
                        }
                    }
                }
                written = floats.withUnsafeBufferPointer { Int(sf_writef_float(file, $0.baseAddress, sf_count_t(n))) }
            }
            guard written == n else {
                throw .cannotWrite(path, reason: "wrote \(samplesWritten + written) samples, then: "
                    + String(cString: sf_strerror(file)))
            }
            samplesWritten += n
            done += n
        }
    }

    /// Data bytes a WAV header written to a pipe declares: sox's length for a stream it cannot
    /// measure (2³¹ − 4096), which readers take as "up to the end"; the RIFF size is 36 more.
    static let streamDataBytes: UInt32 = 0x7FFF_F000

    /// The 44-byte header of a WAV stream of `format` (WAVE_FORMAT_PCM or WAVE_FORMAT_IEEE_FLOAT,
    /// little-endian) on standard output, its lengths `streamDataBytes`.
    private static func writeStreamHeader(format: AudioFileFormat, sampleRate: Int, channelCount: Int,
                                          path: String) throws(AudioFileError) {
        let bytesPerSample = (format.bitDepth ?? 32) / 8, blockAlign = channelCount * bytesPerSample
        var header: [UInt8] = []
        func word(_ x: UInt32) { header += withUnsafeBytes(of: x.littleEndian, Array.init) }
        func half(_ x: UInt16) { header += withUnsafeBytes(of: x.littleEndian, Array.init) }
        header += Array("RIFF".utf8); word(streamDataBytes + 36); header += Array("WAVEfmt ".utf8)
        word(16); half(format.bitDepth == nil ? 3 : 1); half(UInt16(channelCount)); word(UInt32(sampleRate))
        word(UInt32(sampleRate * blockAlign)); half(UInt16(blockAlign)); half(UInt16(bytesPerSample * 8))
        header += Array("data".utf8); word(streamDataBytes)
        var written = 0
        while written < header.count {
            let n = header[written...].withUnsafeBytes { Glibc.write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .cannotWrite(path, reason: String(cString: strerror(errno))) }
            written += n
        }
    }

    /// Finishes the header and closes the file. Throws `cannotWrite` when libsndfile cannot.
    public func close() throws(AudioFileError) {
        guard isOpen else { return }
        isOpen = false
        let status = sf_close(file)
        guard status == 0 else {
            if path != standardStreamPath { try? FileManager.default.removeItem(atPath: path) }
            throw .cannotWrite(path, reason: String(cString: sf_error_number(status)))
        }
    }

    /// `x` as a `bits`-bit integer code, left-justified in an Int32 as `sf_writef_int` expects.
    /// libsndfile's own float path with clipping on truncates 16- and 24-bit samples towards −∞
    /// (it rounds at 32 bits, then shifts), a −½ LSB bias; rounding here avoids it.
    static func quantise(_ x: Float, bits: Int) -> Int32 {
        guard x.isFinite else { return 0 }
        let scale = Double(sign: .plus, exponent: bits - 1, significand: 1)
        let code = min(max((Double(x) * scale).rounded(.toNearestOrEven), -scale), scale - 1)
        return Int32(code) << (32 - bits)
    }
}
