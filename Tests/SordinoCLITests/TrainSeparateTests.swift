// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino train --method …` and `sordino separate`: presets with per-atom penalties, loss curves, exact sums.

import Foundation
import SordinoIO
import SordinoPresets
import Testing
import TestSupport

@Suite(.enabled(if: CLI.shouldRun, CLI.skipReason))
struct TrainSeparateTests {
    /// Two folders of 2 s WAVs: speech-like signals and white noise.
    static func writeFolders(_ dir: URL) throws -> (speech: String, noise: String) {
        let speech = dir.appendingPathComponent("speech"), noise = dir.appendingPathComponent("noise")
        try FileManager.default.createDirectory(at: speech, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: noise, withIntermediateDirectories: true)
        let format = AudioFileFormat(container: .wav, encoding: .float32)
        for i in 0..<2 {
            let s = Signal.speechLike(seconds: 2, sampleRate: 16_000, noiseLevel: 0, seed: UInt64(10 + i))
            try AudioFileWriter.write(AudioBuffer(sampleRate: 16_000, channels: [s]),
                                      to: speech.appendingPathComponent("s\(i).wav").path, format: format)
            let n = Signal.whiteNoise(count: 32_000, amplitude: 0.05, seed: UInt64(20 + i))
            try AudioFileWriter.write(AudioBuffer(sampleRate: 16_000, channels: [n]),
                                      to: noise.appendingPathComponent("n\(i).wav").path, format: format)
        }
        return (speech.path, noise.path)
    }

    @Test func priorMethodStoresPerAtomPenaltiesAndIsDeterministic() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let (speech, noise) = try Self.writeFolders(dir)
        var bases: [[UInt8]] = []
        for name in ["a", "b"] {
            let r = try CLI.run(["train", "--speech", speech, "--noise", noise, "--method", "nmf-exp", "--atoms-speech", "6",
                                 "--atoms-noise", "4", "--epochs", "20", "--prior-weight", "0.05", "--seed", "9",
                                 "-o", dir.appendingPathComponent(name).path])
            #expect(r.status == 0, "\(r.stderr)")
            bases.append([UInt8](try Data(contentsOf: dir.appendingPathComponent("\(name).basis"))))
        }
        #expect(bases[0] == bases[1])
        let preset = try Preset.load(path: dir.appendingPathComponent("a.json").path)
        let penalties = try #require(preset.basis.atomPenalties)
        #expect(penalties.count == 10 && penalties.allSatisfy { $0 > 0 && $0.isFinite })
        #expect(Set(penalties).count > 5)                       // per atom, not one λ
        #expect(preset.metadata.provenance.command.contains("--method nmf-exp"))
        let loss = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("a.loss.json")))
        let curves = try #require((loss as? [String: Any])?["curves"] as? [[String: Any]])
        #expect(curves.count == 4)                              // speech and noise × (warm-up, prior)
        #expect((curves[1]["values"] as? [Double])?.count == 11)   // 10 prior passes + the start
    }

    /// Found by hand: `-o` into a folder that did not exist trained to the end, then could not
    /// write the preset and lost it. The folder is made first; one that cannot be made fails at once.
    @Test func outputFolderIsMadeBeforeTrainingOrRefusedAtOnce() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let (speech, noise) = try Self.writeFolders(dir)
        let arguments = ["train", "--speech", speech, "--noise", noise, "--atoms-speech", "4", "--atoms-noise", "4", "--epochs", "3"]
        let nested = dir.appendingPathComponent("new/folder/p").path
        let made = try CLI.run(arguments + ["-o", nested])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(try Preset.load(path: nested + ".json").basis.rank == 8)
        let blocker = dir.appendingPathComponent("a-file")
        try Data("not a folder".utf8).write(to: blocker)
        let refused = try CLI.run(arguments + ["-o", blocker.appendingPathComponent("p").path])
        #expect(refused.status != 0 && refused.stderr.contains("\(blocker.path): could not be written (the folder cannot be made"),
                "\(refused.stderr)")
        #expect(!refused.stderr.contains("frames:"), "refused before the audio was read: \(refused.stderr)")
        // Every writer of presets (gain-attach, save-noise) goes through `Preset.write`, which makes the folder too.
        let copy = dir.appendingPathComponent("other/folder").path
        try Preset.load(path: nested + ".json").write(directory: copy, name: "q")
        #expect(FileManager.default.fileExists(atPath: copy + "/q.basis"))
    }

    /// Found by hand: a float training file with one sample at 1e30 stopped the training after the
    /// STFT with "V[0, 375] = inf: NMF data must be finite and ≥ 0. Build V with `Spectrogram`…",
    /// naming neither file nor remedy; and NaN samples were replaced by 0 without a word.
    @Test func wildOrNonFiniteTrainingSamplesAreNamed() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let (speech, noise) = try Self.writeFolders(dir)
        let format = AudioFileFormat(container: .wav, encoding: .float32)
        var n = Signal.whiteNoise(count: 32_000, amplitude: 0.05, seed: 30)
        n[100] = .nan
        try AudioFileWriter.write(AudioBuffer(sampleRate: 16_000, channels: [n]), to: noise + "/n2.wav", format: format)
        let arguments = ["train", "--speech", speech, "--noise", noise, "--atoms-speech", "4", "--atoms-noise", "4", "--epochs", "3"]
        let warned = try CLI.run(arguments + ["-o", dir.appendingPathComponent("p").path])
        #expect(warned.status == 0 && warned.stderr.contains("warning: 1 NaN/Inf sample in \(noise)/n2.wav was replaced by 0."),
                "\(warned.stderr)")
        n[8_000] = 1e30
        try AudioFileWriter.write(AudioBuffer(sampleRate: 16_000, channels: [n]), to: noise + "/n2.wav", format: format)
        let refused = try CLI.run(arguments + ["-o", dir.appendingPathComponent("q").path])
        #expect(refused.status == 65 && refused.stderr.contains("\(noise)/n2.wav: 1 sample beyond ±8 (+18 dBFS), the first 1e+30 at 0.500 s. "
                                                                + "Training audio must lie within ±8; repair or rescale the file, or leave it out of the folder."),
                "\(refused.stderr)")
    }

    /// Found by hand: 0.01 s of speech for 4 anmf atoms stopped with "rank = 4 is not allowed: use
    /// at most the 2 training frames", naming neither the folder nor the option; the other methods
    /// trained dependent atoms without a word.
    @Test func fewerFramesThanAtomsAreNamed() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let noise = try Self.writeFolders(dir).noise
        let short = dir.appendingPathComponent("short")
        try FileManager.default.createDirectory(at: short, withIntermediateDirectories: true)
        try AudioFileWriter.write(AudioBuffer(sampleRate: 16_000, channels: [Signal.whiteNoise(count: 160, amplitude: 0.1, seed: 3)]),
                                  to: short.appendingPathComponent("s.wav").path, format: AudioFileFormat(container: .wav, encoding: .float32))
        let arguments = ["train", "--speech", short.path, "--noise", noise, "--atoms-speech", "4", "--atoms-noise", "4", "--epochs", "2"]
        let refused = try CLI.run(arguments + ["--method", "anmf", "-o", dir.appendingPathComponent("a").path])
        #expect(refused.status == 65 && refused.stderr.contains(
            "the speech audio gives 2 frames for 4 atoms (--atoms-speech): --method anmf starts each atom from a distinct frame. "
                + "Add speech audio or lower --atoms-speech."), "\(refused.stderr)")
        let warned = try CLI.run(arguments + ["--method", "nmf", "-o", dir.appendingPathComponent("n").path])
        #expect(warned.status == 0 && warned.stderr.contains("warning: the speech audio gives 2 frames for 4 atoms (--atoms-speech)"),
                "\(warned.stderr)")
        let enough = try CLI.run(arguments + ["--atoms-speech", "1", "--method", "anmf", "-o", dir.appendingPathComponent("e").path])
        #expect(enough.status == 0 && !enough.stderr.contains("warning"), "\(enough.stderr)")
    }

    /// Found by hand: `separate … --out /proc/sep` ran the separation, then said "cannot create folder
    /// /proc/sep: The operation could not be completed. The file doesn’t exist.."; the folder is made
    /// first now, and the reason names the part of the path at fault.
    @Test func outputFolderThatCannotBeMadeIsNamedFirst() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let blocker = dir.appendingPathComponent("a-file").path
        #expect(FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8)))
        let input = dir.appendingPathComponent("in.wav").path
        try AudioFileWriter.write(AudioBuffer(sampleRate: 16_000, channels: [Signal.whiteNoise(count: 16_000, amplitude: 0.1, seed: 4)]),
                                  to: input, format: AudioFileFormat(container: .wav, encoding: .float32))
        let separate = try CLI.run(["separate", input, "--out", blocker + "/sub", "--preset", "speech-16k"])
        #expect(separate.status == 73 && separate.stderr.contains(
            "cannot create folder \(blocker)/sub: it exists and is not a folder (\(blocker)). Check the path and permissions."),
                "\(separate.stderr)")
        let batch = try CLI.run(["process", input, "--out-dir", blocker + "/sub", "--preset", "speech-16k"])
        #expect(batch.status == 73 && batch.stderr.contains("cannot create --out-dir \(blocker)/sub: it exists and is not a folder"),
                "\(batch.stderr)")
    }

    @Test func unknownMethodIsAUsageError() throws {
        let r = try CLI.run(["train", "--speech", "x", "--noise", "y", "--method", "pca", "-o", "/tmp/never"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("--method must be one of nmf, nmf-exp, nmf-gamma, anmf"))
    }

    @Test(arguments: [16_000, 44_100])
    func separatedEstimatesSumToTheInput(rate: Int) throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let input = try ProcessCommandTests.writeInput(dir, channels: 2, rate: rate)
        let preset = ProcessCommandTests.preset
        let r = try CLI.run(["separate", "--quiet", "--preset", preset, input, "--out", dir.appendingPathComponent("out").path])
        #expect(r.status == 0, "\(r.stderr)")
        let x = try AudioFileReader.read(path: input).0
        let s = try AudioFileReader.read(path: dir.appendingPathComponent("out/in.speech.wav").path).0
        let n = try AudioFileReader.read(path: dir.appendingPathComponent("out/in.noise.wav").path).0
        #expect(s.sampleRate == rate && n.sampleRate == rate && s.channelCount == 2 && s.sampleCount == x.sampleCount)
        var worst: Float = 0, speechEnergy = 0.0, noiseEnergy = 0.0
        for c in 0..<2 {
            for i in 0..<x.sampleCount {
                worst = max(worst, abs(s.channels[c][i] + n.channels[c][i] - x.channels[c][i]))
                speechEnergy += Double(s.channels[c][i] * s.channels[c][i])
                noiseEnergy += Double(n.channels[c][i] * n.channels[c][i])
            }
        }
        #expect(worst < 1e-4)
        // Both estimates carry signal: neither is a copy of the input nor silence.
        #expect(speechEnergy > 0.05 * noiseEnergy && noiseEnergy > 0.001 * speechEnergy)
    }

    /// A sample beyond ±8 is clamped where the engine hears it, said on stderr, and what lies
    /// beyond lands in the noise estimate: the two still sum to the input.
    @Test func wildSampleGoesToTheNoiseEstimate() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let input = try ProcessCommandTests.writeInput(dir, encoding: .float32) { s in s[10_000] = 1e5 }
        let r = try CLI.run(["separate", "--preset", ProcessCommandTests.preset, input, "--out", dir.appendingPathComponent("out").path])
        #expect(r.status == 0 && r.stderr.contains("warning: 1 input samples were beyond ±8 (+18 dBFS)"), "\(r.stderr)")
        let s = try AudioFileReader.read(path: dir.appendingPathComponent("out/in.speech.wav").path).0.channels[0]
        let n = try AudioFileReader.read(path: dir.appendingPathComponent("out/in.noise.wav").path).0.channels[0]
        #expect(s.allSatisfy { abs($0) <= 8 })
        #expect(abs(s[10_000] + n[10_000] - 1e5) <= 1e5 * 1e-6)
    }

    /// Found by hand: `separate -` wrote "-.speech.wav" and "-.noise.wav", names a shell takes for
    /// options (`rm -.speech.wav`). Standard input's estimates are stdin.speech.wav and stdin.noise.wav.
    @Test func standardInputGivesStdinNames() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let input = try ProcessCommandTests.writeInput(dir)
        let out = dir.appendingPathComponent("out")
        let r = try CLI.run(["separate", "--quiet", "--preset", ProcessCommandTests.preset, "-", "--out", out.path],
                            standardInputData: try Data(contentsOf: URL(fileURLWithPath: input)))
        #expect(r.status == 0, "\(r.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(names == ["stdin.noise.wav", "stdin.speech.wav"])
    }
}
