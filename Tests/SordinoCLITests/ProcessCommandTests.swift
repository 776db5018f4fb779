// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino process`: output properties, exit codes and one-line errors for bad input.

import Foundation
import Glibc
import SordinoIO
import Testing
import TestSupport

@Suite(.enabled(if: CLI.shouldRun, CLI.skipReason))
struct ProcessCommandTests {
    static let preset = CLI.repository.appendingPathComponent("presets/speech-16k.json").path

    /// Writes a mono or multi-channel WAV of the speech-like test signal.
    static func writeInput(_ directory: URL, name: String = "in.wav", channels: Int = 1, rate: Int = 16_000,
                           encoding: AudioFileFormat.Encoding = .pcm16, seconds: Double = 2,
                           edit: (inout [Float]) -> Void = { _ in }) throws -> String {
        var signal = Signal.speechLike(seconds: seconds, sampleRate: rate, noiseLevel: 0.05, seed: 4)
        edit(&signal)
        let buffer = AudioBuffer(sampleRate: rate, channels: (0..<channels).map { c in signal.map { $0 * (1 - 0.2 * Float(c)) } })
        let path = directory.appendingPathComponent(name).path
        let container: AudioFileFormat.Container = name.hasSuffix(".flac") ? .flac : .wav
        try AudioFileWriter.write(buffer, to: path, format: AudioFileFormat(container: container, encoding: encoding))
        return path
    }

    @Test func outputIsIdenticalForEveryBlockSize() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let input = try Self.writeInput(dir)
        var outputs: [[Float]] = []
        for block in [1, 7, 256, 4096] {
            let out = dir.appendingPathComponent("out-\(block).wav").path
            let r = try CLI.run(["process", "--quiet", "--preset", Self.preset, "--block-size", "\(block)", input, out])
            #expect(r.status == 0, "\(r.stderr)")
            outputs.append(try AudioFileReader.read(path: out).0.channels[0])
        }
        #expect(outputs.allSatisfy { $0 == outputs[0] })
        #expect(outputs[0].count == 32_000 + 512)   // delayed stream: input length + latency
    }

    @Test func compensatedOutputIsAlignedAndAsLongAsTheInput() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let input = try Self.writeInput(dir, channels: 3, encoding: .pcm24)
        let out = dir.appendingPathComponent("out.flac").path
        let r = try CLI.run(["process", "--preset", Self.preset, "--compensate-delay", "--wet", "0", input, out])
        #expect(r.status == 0, "\(r.stderr)")
        let (original, _) = try AudioFileReader.read(path: input)
        let (processed, info) = try AudioFileReader.read(path: out)
        #expect(processed.channelCount == 3 && processed.sampleCount == original.sampleCount && info.container == "FLAC")
        // wet 0 is the delayed input exactly; compensated, it is the input (to 24-bit quantisation).
        for c in 0..<3 { #expect(maxAbsDifference(processed.channels[c], original.channels[c]) < 2e-7) }
        #expect(r.stderr.contains("latency 512 samples (32.0 ms), compensated"))
    }

    /// At another rate the audio goes through libsoxr and back: with --wet 0 and the delay
    /// compensated, only the two conversions separate output from input.
    @Test func otherRatesAreConvertedAndSaidSo() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        // Speech-like audio made at 16 kHz and brought to 44.1 kHz, so nothing lies above 8 kHz.
        let narrow = try Resampler.resample(Signal.speechLike(seconds: 1, sampleRate: 16_000, noiseLevel: 0.05, seed: 4),
                                            from: 16_000, to: 44_100)
        let input = dir.appendingPathComponent("in.wav").path
        try AudioFileWriter.write(AudioBuffer(sampleRate: 44_100, channels: [narrow]), to: input,
                                  format: AudioFileFormat(container: .wav, encoding: .float32))
        let out = dir.appendingPathComponent("out.wav").path
        let r = try CLI.run(["process", "--preset", Self.preset, "--compensate-delay", "--wet", "0", input, out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("converting 44100 Hz → 16000 Hz"))
        let (processed, _) = try AudioFileReader.read(path: out)
        let (original, _) = try AudioFileReader.read(path: input)
        #expect(processed.sampleRate == 44_100 && processed.sampleCount == 44_100)
        // Only the two libsoxr conversions separate output from input: what lies in their transition
        // band (7.3–8 kHz) is attenuated twice. Measured SNR over the middle 0.8 s: 36.1 dB.
        let middle = 4410..<39_690
        let reference = Array(original.channels[0][middle]), estimate = Array(processed.channels[0][middle])
        let residual = zip(reference, estimate).map { $0 - $1 }
        let snr = 20 * log10(rms(reference) / rms(residual))
        #expect(snr > 33)
    }

    /// speech-96k and speech-192k are speech-48k at twice and four times the rate, the same bins
    /// below its band limit (`training/derive_rate.py`): a 48 kHz file through them (converted up
    /// and back) comes out as through speech-48k, up to the two conversions and float rounding.
    /// Measured by hand on the bundled noisy sample at 48 kHz with white noise added: 40.3 and
    /// 38.8 dB SI-SDR against speech-48k's output (31.8 dB for speech-96k without the derived
    /// energy features' shifted means).
    @Test(arguments: ["speech-96k", "speech-192k"])
    func derivedPresetEnhancesAsSpeech48kDoes(derived: String) throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let speech = try Resampler.resample(Signal.speechLike(seconds: 2, sampleRate: 16_000, noiseLevel: 0, seed: 6),
                                            from: 16_000, to: 48_000)
        let noise = Signal.whiteNoise(count: speech.count, amplitude: 0.03, seed: 8)
        let input = dir.appendingPathComponent("in.wav").path
        try AudioFileWriter.write(AudioBuffer(sampleRate: 48_000, channels: [zip(speech, noise).map { $0 + $1 }]),
                                  to: input, format: AudioFileFormat(container: .wav, encoding: .float32))
        var outputs: [[Float]] = []
        for preset in ["speech-48k", derived] {
            let out = dir.appendingPathComponent("\(preset).wav").path
            let r = try CLI.run(["process", "--quiet", "--compensate-delay", "--preset", preset, input, out])
            #expect(r.status == 0, "\(r.stderr)")
            outputs.append(try AudioFileReader.read(path: out).0.channels[0])
        }
        let (a, b) = (outputs[0], outputs[1])
        try #require(a.count == b.count && a.count == speech.count)
        // Both remove most of the noise (against the input), and agree with each other.
        let agreement = siSDR(reference: a, estimate: b)
        #expect(agreement > 30, "\(derived) against speech-48k: \(agreement) dB")
        let zipped = zip(speech, noise).map { $0 + $1 }
        #expect(siSDR(reference: a, estimate: zipped) < 20, "speech-48k changed the input")
    }

    @Test func withoutAPresetTheFileRatePicksIt() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        for (rate, expected) in [(48_000, "preset speech-48k for the file's 48000 Hz"),
                                 (96_000, "preset speech-96k for the file's 96000 Hz"),
                                 (192_000, "preset speech-192k for the file's 192000 Hz"),
                                 (88_200, "no preset at 88200 Hz: using speech-48k at 48000 Hz"),
                                 (22_050, "no preset at 22050 Hz: using speech-16k at 16000 Hz")] {
            let input = try Self.writeInput(dir, name: "in-\(rate).wav", rate: rate, seconds: 0.5)
            let r = try CLI.run(["process", input, dir.appendingPathComponent("out-\(rate).wav").path])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr.contains(expected), "\(r.stderr)")
        }
    }

    /// `-` reads stdin and writes stdout: the same samples as files, in a pipe.
    @Test func dashIsStandardInputAndOutput() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let input = try Self.writeInput(dir)
        let file = dir.appendingPathComponent("file.wav").path, piped = dir.appendingPathComponent("piped.wav").path
        #expect(try CLI.run(["process", "--quiet", "--preset", Self.preset, input, file]).status == 0)
        let r = try CLI.run(["process", "--quiet", "--preset", Self.preset, "-", "-"],
                            standardInput: URL(fileURLWithPath: input), standardOutput: URL(fileURLWithPath: piped))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try AudioFileReader.read(path: piped).0.channels == AudioFileReader.read(path: file).0.channels)
    }

    /// Found by hand: `sordino process in.wav - | …` failed with "this file format does not support
    /// pipe write" (libsndfile writes WAV only where it can go back to the header; the test above
    /// gives stdout a file), and a WAV read from a pipe whose header carries a stream's guessed
    /// length (sox's 2³¹ − 4096 bytes) was called truncated. Through real pipes both ways now: the
    /// same samples as through files, and not a word on stderr.
    @Test(arguments: ["float", "16"])
    func wavThroughRealPipesBothWays(encoding: String) throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let input = try Self.writeInput(dir)
        let file = dir.appendingPathComponent("file.wav").path
        #expect(try CLI.run(["process", "--quiet", "--preset", Self.preset, "--encoding", encoding, input, file]).status == 0)
        var stream = [UInt8](try Data(contentsOf: URL(fileURLWithPath: input)))
        let data = try #require((0..<(stream.count - 8)).first { stream[$0..<($0 + 4)] == [0x64, 0x61, 0x74, 0x61] })
        for (offset, value) in [(4, UInt32(0x7FFF_F000 + 36)), (data + 4, 0x7FFF_F000)] {
            stream.replaceSubrange(offset..<(offset + 4), with: withUnsafeBytes(of: value.littleEndian, Array.init))
        }
        let r = try CLI.run(["process", "--quiet", "--preset", Self.preset, "--encoding", encoding, "-", "-"],
                            standardInputData: Data(stream))
        #expect(r.status == 0 && r.stderr.isEmpty, "\(r.stderr)")
        #expect(r.stdoutData.prefix(4) == Data("RIFF".utf8))
        let piped = dir.appendingPathComponent("piped.wav")
        try r.stdoutData.write(to: piped)
        #expect(try AudioFileReader.read(path: piped.path).0.channels == AudioFileReader.read(path: file).0.channels)
    }

    /// Found by hand: FLAC through a pipe (`sox in.wav -t flac - | sordino process - out.wav`) was
    /// refused as "cannot read it as audio (libsndfile: Error : flac decoder lost sync.). If it is
    /// audio in another format, convert it…": libsndfile reads FLAC from files only. It is said so.
    @Test func flacThroughAPipeIsNamed() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let flac = try Self.writeInput(dir, name: "in.flac")
        let r = try CLI.run(["process", "--quiet", "--preset", Self.preset, "-", dir.appendingPathComponent("out.wav").path],
                            standardInputData: try Data(contentsOf: URL(fileURLWithPath: flac)))
        #expect(r.status == 65 && r.stderr.contains("-: FLAC through a pipe, which libsndfile cannot read"), "\(r.stderr)")
        let fromFile = try CLI.run(["process", "--quiet", "--preset", Self.preset, flac, dir.appendingPathComponent("f.wav").path])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
    }

    /// With WAV to a pipe written by Sordino itself, `-` on a terminal would have filled it with
    /// binary (libsndfile used to refuse it, for want of seeking): refused, saying what to do, with
    /// nothing written there.
    @Test func terminalIsRefusedAsStandardOutput() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let input = try Self.writeInput(dir)
        // script(1) (util-linux) runs the command on a pseudo-terminal and copies what reaches it.
        let binary = try #require(CLI.binary).path
        let process = Foundation.Process(), out = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", "'\(binary)' process --quiet --preset '\(Self.preset)' '\(input)' -", "/dev/null"]
        process.currentDirectoryURL = CLI.repository
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let shown = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: shown, as: UTF8.self)
        #expect(process.terminationStatus == 64 && text.contains("standard output is a terminal"), "\(text)")
        #expect(!text.contains("RIFF"), "audio reached the terminal")
    }

    /// A named pipe (what `process <(sox in.mp3 -t wav -) out.wav` passes: /dev/fd/63) reports a
    /// size of 0; it was refused as "contains no samples" and is now read as a stream.
    @Test func namedPipeIsReadAsAStream() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let input = try Self.writeInput(dir)
        let pipe = dir.appendingPathComponent("pipe.wav").path
        #expect(mkfifo(pipe, 0o600) == 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: input))
        let writer = Thread {   // blocks in open until `process` opens the other end
            guard let handle = FileHandle(forWritingAtPath: pipe) else { return }
            handle.write(bytes)
            try? handle.close()
        }
        writer.start()
        let fromPipe = dir.appendingPathComponent("pipe-out.wav").path, fromFile = dir.appendingPathComponent("file-out.wav").path
        let r = try CLI.run(["process", "--quiet", "--preset", Self.preset, pipe, fromPipe], timeout: 60)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try CLI.run(["process", "--quiet", "--preset", Self.preset, input, fromFile]).status == 0)
        #expect(try AudioFileReader.read(path: fromPipe).0.channels == AudioFileReader.read(path: fromFile).0.channels)
    }

    @Test func truncatedInputIsProcessedWithAWarning() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let whole = try Self.writeInput(dir, seconds: 3)
        let cut = dir.appendingPathComponent("cut.wav").path
        let bytes = try Data(contentsOf: URL(fileURLWithPath: whole))
        try bytes.prefix(44 + 2 * 15_040).write(to: URL(fileURLWithPath: cut))   // 0.94 s of 3 s, 16-bit mono
        let out = dir.appendingPathComponent("out.wav").path
        let r = try CLI.run(["process", "--quiet", "--preset", Self.preset, cut, out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("is truncated: its header declares 48000 samples per channel (3.00 s), only 15040 (0.94 s)"),
                "\(r.stderr)")
        #expect(try AudioFileReader.read(path: out).0.sampleCount == 15_040 + 512)
    }

    /// A whole MP3 at 44.1 kHz without a Xing/Info tag (`sox -n -r 44100 -c 1 -C 64 … synth 1.5
    /// pinknoise`): libsndfile's length is the bit rate's estimate, 68,283 samples for 67,968 decoded,
    /// which was reported as a truncated file.
    @Test func wholeMP3IsNotCalledTruncated() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out.wav").path
        let r = try CLI.run(["process", "--quiet", "--preset", Self.preset, "--compensate-delay",
                             "Tests/Fixtures/mp3/pink-44k1.mp3", out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stderr.contains("truncated"), "\(r.stderr)")
        #expect(try AudioFileReader.read(path: out).0.sampleCount == 67_968)
    }

    /// Hot input within the engine's ±8 (+12 dBFS here) is enhanced as it is; an integer encoding
    /// then clips the output beyond full scale, and says how many samples and what to do.
    @Test func samplesBeyondFullScaleAreCountedByTheEncoding() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let input = try Self.writeInput(dir, encoding: .float32) { s in for i in s.indices { s[i] *= 4 } }
        let out = dir.appendingPathComponent("out.wav").path
        let r = try CLI.run(["process", "--preset", Self.preset, "--encoding", "16", input, out])
        #expect(r.status == 0, "\(r.stderr)")
        let (output, _) = try AudioFileReader.read(path: out)
        let full = output.channels[0].filter { abs($0) >= 32_767 / 32_768 }.count
        #expect(r.stderr.contains("\(full) output samples beyond full scale were clipped by the PCM 16-bit encoding"), "\(r.stderr)")
        #expect(full > 100)
        #expect(!r.stderr.contains("input samples were beyond") && !r.stderr.contains("were clamped"), "\(r.stderr)")
    }

    /// Six channels: the adapted count is per solved frame, never more than channels × hops.
    @Test func adaptedFramesAreCountedPerSolvedFrame() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let input = try Self.writeInput(dir, channels: 6)
        let r = try CLI.run(["process", "--preset", Self.preset, "--adaptive-noise-atoms", "2", input,
                             dir.appendingPathComponent("out.wav").path])
        #expect(r.status == 0, "\(r.stderr)")
        // 32 000 + 512 samples → 254 hops of 128, × 6 channels.
        let line = try #require(r.stderr.split(separator: "\n").first { $0.contains("noise atoms adapted on") })
        let numbers = line.split(separator: ";").last?.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) } ?? []
        #expect(numbers.count == 2 && numbers[1] == 254 * 6 && numbers[0] <= numbers[1], "\(line)")
    }

    @Test func nonFiniteSamplesAreReplacedAndCounted() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let input = try Self.writeInput(dir, encoding: .float32) { s in s[100] = .nan; s[2000] = .infinity; s[3000] = -.infinity }
        let out = dir.appendingPathComponent("out.wav").path
        let r = try CLI.run(["process", "--preset", Self.preset, input, out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("3 NaN/Inf samples"))
        #expect(try AudioFileReader.read(path: out).0.channels[0].allSatisfy { $0.isFinite })
    }

    /// A float file with samples far beyond full scale: clamped to ±8 before processing, said on
    /// stderr, and not smeared (found by hand: one 1e5 sample left 855 output samples at ±8).
    @Test func wildSamplesAreClampedAndCounted() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let input = try Self.writeInput(dir, encoding: .float32) { s in s[1000] = 1e5; s[5000] = -1e30 }
        let out = dir.appendingPathComponent("out.wav").path
        let r = try CLI.run(["process", "--preset", Self.preset, input, out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("2 input samples were beyond ±8 (+18 dBFS) and were clamped"), "\(r.stderr)")
        #expect(!r.stderr.contains("output samples were non-finite or beyond"), "\(r.stderr)")
        #expect(try AudioFileReader.read(path: out).0.channels[0].allSatisfy { abs($0) <= 8 })
    }

    /// Found by hand: SIGTERM during `process` left a WAV whose header claimed no data (libsndfile
    /// writes the sizes when it closes the file). Now the first SIGINT or SIGTERM stops the reading
    /// at the next chunk, the engine's tail is written and the file closed, and the exit status is
    /// 128 + the signal. The partial output is then exactly the output of the input cut where the
    /// reading stopped (its length less the latency), and its header states its length.
    @Test(arguments: [SIGINT, SIGTERM])
    func interruptedOutputIsClosedWhole(signal: Int32) throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let rate = 16_000, noise = Signal.whiteNoise(count: 600 * rate, amplitude: 0.05, seed: 12)
        let input = dir.appendingPathComponent("long.wav").path
        try AudioFileWriter.write(AudioBuffer(sampleRate: rate, channels: [noise]), to: input,
                                  format: AudioFileFormat(container: .wav, encoding: .pcm16))
        let partial = dir.appendingPathComponent("partial.wav").path
        let background = try CLI.Background(["process", "--quiet", "--preset", Self.preset, input, partial])
        // A few chunks in (a megabyte of float output, about 16 s), then the signal.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, background.process.isRunning,
              ((try? FileManager.default.attributesOfItem(atPath: partial)[.size] as? Int) ?? 0) ?? 0 < 1 << 20 {
            usleep(2_000)
        }
        kill(background.process.processIdentifier, signal)
        background.process.waitUntilExit()
        let log = try String(contentsOf: background.stderrURL, encoding: .utf8)
        #expect(background.process.terminationStatus == 128 + signal, "\(log)")
        #expect(log.contains("interrupted by \(signal == SIGINT ? "SIGINT" : "SIGTERM"); \(partial) holds the first "), "\(log)")
        // The header's data size is the samples there (it read 0 before).
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: partial)))
        let data = try #require((0..<(bytes.count - 8)).first { bytes[$0..<($0 + 4)] == [0x64, 0x61, 0x74, 0x61] })
        let stated = bytes[(data + 4)..<(data + 8)].reversed().reduce(0) { $0 << 8 | Int($1) }
        #expect(stated == bytes.count - data - 8 && stated > 0, "data chunk states \(stated) bytes")
        let got = try AudioFileReader.read(path: partial).0.channels[0]
        let fed = got.count - 512   // speech-16k's latency, not compensated
        #expect(fed > 0 && fed < noise.count, "\(fed) samples fed")
        let cut = dir.appendingPathComponent("cut.wav").path, heard = try AudioFileReader.read(path: input).0.channels[0]
        try AudioFileWriter.write(AudioBuffer(sampleRate: rate, channels: [Array(heard[..<fed])]), to: cut,
                                  format: AudioFileFormat(container: .wav, encoding: .float32))
        let whole = dir.appendingPathComponent("whole.wav").path
        let r = try CLI.run(["process", "--quiet", "--preset", Self.preset, cut, whole])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try AudioFileReader.read(path: whole).0.channels[0] == got)
    }

    /// Bad input: a non-zero sysexits code and exactly one line that says what to do.
    @Test(arguments: [
        ("missing", 66, "no such file"), ("empty", 65, "no samples"), ("garbage", 65, "sox"),
        ("header-only", 65, "no samples"), ("folder", 66, "is a folder, not an audio file"),
    ])
    func badInputFilesGiveOneActionableLine(kind: String, status: Int32, phrase: String) throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("\(kind).wav").path
        switch kind {
        case "empty": _ = FileManager.default.createFile(atPath: path, contents: Data())
        case "folder": try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        case "garbage":
            var g = SeededGenerator(seed: 3)
            _ = FileManager.default.createFile(atPath: path, contents: Data((0..<4096).map { _ in UInt8(truncatingIfNeeded: g.next()) }))
        case "header-only":
            try AudioFileWriter.write(AudioBuffer(sampleRate: 16_000, channels: [[]]), to: path,
                                      format: AudioFileFormat(container: .wav, encoding: .pcm16))
        default: break
        }
        let r = try CLI.run(["process", "--preset", Self.preset, path, dir.appendingPathComponent("out.wav").path])
        #expect(r.status == status, "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stderr.lowercased().contains(phrase), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.wav").path))
    }

    @Test func unwritableOutputExits73() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let input = try Self.writeInput(dir, seconds: 0.5)
        let r = try CLI.run(["process", "--preset", Self.preset, input, "/nonexistent-dir/out.wav"])
        #expect(r.status == 73, "\(r.stderr)")
    }

    @Test(arguments: [["--block-size", "0"], ["--floor-db", "3"], ["--wet", "2"], ["--mask-exponent", "3"]])
    func outOfRangeOptionsAreUsageErrors(option: [String]) throws {
        let r = try CLI.run(["process"] + option + ["a.wav", "b.wav"])
        #expect(r.status == 64, "\(r.stderr)")
    }
}
