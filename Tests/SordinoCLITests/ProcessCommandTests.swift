// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino process`: output properties, exit codes and one-line errors for bad input.

import Foundation
import SordinoIO
import Testing
import TestSupport

@Suite(.enabled(if: CLI.binary != nil, "the sordino binary is not built next to the tests"))
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

    @Test func otherRatesAreConvertedAndSaidSo() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let input = try Self.writeInput(dir, rate: 44_100, seconds: 1)
        let out = dir.appendingPathComponent("out.wav").path
        let r = try CLI.run(["process", "--preset", Self.preset, "--compensate-delay", input, out])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("converting 44100 Hz → 16000 Hz"))
        let (processed, _) = try AudioFileReader.read(path: out)
        #expect(processed.sampleRate == 44_100 && processed.sampleCount == 44_100)
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

    /// Bad input: a non-zero sysexits code and exactly one line that says what to do.
    @Test(arguments: [
        ("missing", 66, "no such file"), ("empty", 65, "no samples"), ("garbage", 65, "sox"),
        ("header-only", 65, "no samples"),
    ])
    func badInputFilesGiveOneActionableLine(kind: String, status: Int32, phrase: String) throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("\(kind).wav").path
        switch kind {
        case "empty": _ = FileManager.default.createFile(atPath: path, contents: Data())
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
