// SPDX-License-Identifier: GPL-3.0-or-later
// Issue 16 through the binary: the rough edges, stopping rules, complex NMF on a basis, spectrogram input, reports.

import Foundation
import SordinoIO
import Testing

@Suite(.enabled(if: CLI.shouldRun, CLI.skipReason))
struct ToolboxCompletionCLITests {
    static func loss(_ folder: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/loss.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// IS-NMF in the magnitude domain: MU diverged (6e6 → 1e22) and exited 0; the default is now mm.
    @Test func isNMFInTheMagnitudeDomainDefaultsToAMonotoneRule() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in.wav").path, out = dir.appendingPathComponent("out").path
        _ = try DecomposeCommandTests.writeStereo(to: input)
        let result = try CLI.run(["decompose", input, "--beta", "0", "--domain", "1", "--components", "3",
                                  "--iterations", "60", "--out", out, "-q"])
        #expect(result.status == 0, "\(result.stderr)")
        let loss = try Self.loss(out)
        #expect(loss["algorithm"] as? String == "mm")
        let objective = loss["objective"] as? [Double] ?? []
        #expect(objective.count == 61)
        #expect(zip(objective.dropFirst(), objective).allSatisfy { $0 <= $1 * (1 + 1e-5) }, "\(objective)")
    }

    @Test func usageErrorsExit64AndForeignFlagsAreRefused() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in.wav").path
        _ = try DecomposeCommandTests.writeStereo(to: input)
        let complexME = try CLI.run(["decompose", input, "--method", "complex", "--algorithm", "me", "--out", dir.path])
        #expect(complexME.status == 64 && complexME.stderr.contains("--algorithm does not apply to --method complex"),
                "\(complexME.status) \(complexME.stderr)")
        let sparseNMF = try CLI.run(["decompose", input, "--sparsity", "1", "--out", dir.path])
        #expect(sparseNMF.status == 64, "\(sparseNMF.stderr)")
        let priorIS = try CLI.run(["train", "--speech", dir.path, "--noise", dir.path, "--method", "nmf-exp", "--beta", "0",
                                   "-o", dir.appendingPathComponent("p").path])
        #expect(priorIS.status == 64 && priorIS.stderr.contains("--beta 0.0 does not apply"), "\(priorIS.status) \(priorIS.stderr)")
        let anmfBeta = try CLI.run(["train", "--speech", dir.path, "--noise", dir.path, "--method", "anmf", "--beta", "0",
                                    "-o", dir.appendingPathComponent("a").path])
        #expect(anmfBeta.status == 64 && anmfBeta.stderr.contains("--solve-beta"), "\(anmfBeta.status) \(anmfBeta.stderr)")
        let nmfAdversarial = try CLI.run(["train", "--speech", dir.path, "--noise", dir.path, "--method", "nmf",
                                          "--adversarial-weight", "0.5", "-o", dir.appendingPathComponent("n").path])
        #expect(nmfAdversarial.status == 64, "\(nmfAdversarial.stderr)")
    }

    @Test func quietIsQuietAndTheReportNamesTheResynthesis() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in.wav").path, report = dir.appendingPathComponent("r.html").path
        _ = try DecomposeCommandTests.writeStereo(to: input)
        let result = try CLI.run(["decompose", input, "--components", "2", "--iterations", "5", "--resynthesis", "magnitude",
                                  "--out", dir.appendingPathComponent("o").path, "--report", report, "-q"])
        #expect(result.status == 0 && result.stderr.isEmpty, "stderr with --quiet: \(result.stderr)")
        let html = try String(contentsOfFile: report, encoding: .utf8)
        #expect(html.contains("magnitude: (W_k·H_k)^(1/p) under the mixture&#39;s phase")
                || html.contains("magnitude: (W_k·H_k)^(1/p) under the mixture's phase"))
        #expect(!html.contains("mask · V") && !html.contains("mask W_k·H_k / W·H (linear"))
    }

    @Test func mismatchedBasisMessageIsOneSentenceAndDefaultsAgreeWithTheDocs() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in.wav").path
        _ = try DecomposeCommandTests.writeStereo(to: input)
        try Npy.write(NpyArray(shape: [513, 2], values: [Float](repeating: 0.01, count: 1026)), to: dir.appendingPathComponent("w.npy").path)
        let result = try CLI.run(["decompose", input, "--basis", dir.appendingPathComponent("w.npy").path,
                                  "--frame-length", "2048", "--out", dir.path])
        #expect(result.status == 65)
        #expect(result.stderr.contains("the basis is 513 × 2 (bins × atoms) but frame length 2048 gives 1025 bins: "
            + "use --frame-length 1024"), "\(result.stderr)")
        #expect(!result.stderr.contains("but must be"))
        let train = try CLI.run(["train", "--help"])
        #expect(train.stdout.contains("(default: anmf)"), "\(train.stdout)")
        let training = try String(contentsOfFile: CLI.repository.appendingPathComponent("docs/TRAINING.md").path, encoding: .utf8)
        #expect(training.contains("`anmf` is the default"))
        let help = try CLI.run(["decompose", "--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(help.contains("periodic sqrt-hann, the default") && help.contains("hann and hamming need a hop"), "\(help)")
    }

    /// Complex NMF with a fixed basis from the binary: runs, writes phases and spectra, sums to the input.
    @Test func complexNMFWithAFixedBasisWritesPhasesAndSumsToTheInput() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in.wav").path, first = dir.appendingPathComponent("nmf").path
        let out = dir.appendingPathComponent("complex").path
        let audio = try DecomposeCommandTests.writeStereo(to: input)
        #expect(try CLI.run(["decompose", input, "--components", "2", "--iterations", "20", "--out", first, "-q"]).status == 0)
        let result = try CLI.run(["decompose", input, "--method", "complex", "--basis", "\(first)/basis.npy",
                                  "--iterations", "15", "--tolerance", "1e-6", "--out", out, "-q"])
        #expect(result.status == 0, "\(result.stderr)")
        let phase = try Npy.read(path: "\(out)/component-01.phase.npy"), spectrum = try Npy.read(path: "\(out)/component-02.spectrum.npy")
        #expect(phase.shape.count == 2 && phase.shape[0] == 513)
        #expect(phase.values.allSatisfy { abs($0) <= Float.pi + 1e-6 })
        #expect(spectrum.shape == [513, phase.shape[1], 2])
        var sum = [Float](repeating: 0, count: audio.sampleCount)
        for k in 1...2 {
            let (component, _) = try AudioFileReader.read(path: "\(out)/component-0\(k).wav")
            for i in sum.indices { sum[i] += component.channels[0][i] }
        }
        let error = zip(sum, audio.channels[0]).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }.squareRoot()
        let energy = audio.channels[0].reduce(0.0) { $0 + Double($1 * $1) }.squareRoot()
        #expect(error / energy < 1e-4, "relative error \(error / energy)")
        let loss = try Self.loss(out)
        let objective = loss["objective"] as? [Double] ?? []
        #expect(zip(objective.dropFirst(), objective).allSatisfy { $0 <= $1 * (1 + 1e-6) })
        #expect(["passes", "tolerance"].contains(loss["stopped"] as? String ?? ""))
        #expect(loss["init"] as? String == "fixed basis")
    }

    @Test func spectrogramInputWritesComponentMatrices() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        var state: UInt64 = 5
        let values = (0..<(40 * 30)).map { _ -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24)
        }
        let path = dir.appendingPathComponent("V.npy").path, out = dir.appendingPathComponent("o").path
        try Npy.write(NpyArray(shape: [40, 30], values: values), to: path)
        let result = try CLI.run(["decompose", "--spectrogram", path, "--components", "3", "--iterations", "30",
                                  "--tolerance", "1e-3", "--out", out, "-q"])
        #expect(result.status == 0, "\(result.stderr)")
        var sum = [Float](repeating: 0, count: values.count)
        for k in 1...3 {
            let c = try Npy.read(path: "\(out)/component-0\(k).npy")
            #expect(c.shape == [40, 30])
            for i in sum.indices { sum[i] += c.values[i] }
        }
        #expect(zip(sum, values).allSatisfy { abs($0 - $1) <= 1e-4 * max($1, 1e-2) })
        let loss = try Self.loss(out)
        #expect(loss["stopped"] as? String != nil && loss["stopped_because"] as? String != nil)
        let complex = try CLI.run(["decompose", "--spectrogram", path, "--method", "complex", "--out", out])
        #expect(complex.status == 64)
        let both = try CLI.run(["decompose", path, "--spectrogram", path, "--out", out])
        #expect(both.status == 64)
    }

    /// anmf (now the default) with --tolerance and --export-activations; its report shows every epoch
    /// although the objective is negative.
    @Test func anmfTrainingExportsActivationsAndItsReportShowsEveryEpoch() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let (speech, noise) = try TrainSeparateTests.writeFolders(dir)
        let report = dir.appendingPathComponent("train.html").path
        let r = try CLI.run(["train", "--speech", speech, "--noise", noise, "--atoms-speech", "5", "--atoms-noise", "3",
                             "--epochs", "12", "--export-activations", "--report", report, "-o", dir.appendingPathComponent("t").path])
        #expect(r.status == 0, "\(r.stderr)")
        let h = try Npy.read(path: dir.appendingPathComponent("t.speech-activations.npy").path)
        #expect(h.shape.first == 5 && (h.shape.last ?? 0) > 100)
        #expect(try Npy.read(path: dir.appendingPathComponent("t.noise-activations.npy").path).shape.first == 3)
        let loss = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("t.loss.json"))) as? [String: Any]
        #expect(loss?["method"] as? String == "anmf")
        let curves = loss?["curves"] as? [[String: Any]] ?? []
        #expect(curves.count == 2 && curves.allSatisfy { $0["stopped"] as? String == "passes" && $0["passes"] as? Int == 12 })
        let html = try String(contentsOfFile: report, encoding: .utf8)
        #expect(html.contains("linear scale: some values ≤ 0"))
        // The first polyline is the speech curve: all 13 values (start + 12 epochs) drawn.
        let points = html.components(separatedBy: "<polyline").dropFirst().first?
            .components(separatedBy: "points=\"").dropFirst().first?.prefix { $0 != "\"" }
            .split(separator: " ").count ?? 0
        #expect(points == 13, "speech curve drawn with \(points) points")

        let tolerant = try CLI.run(["train", "--speech", speech, "--noise", noise, "--method", "nmf", "--atoms-speech", "5",
                                    "--atoms-noise", "3", "--epochs", "400", "--tolerance", "1e-3",
                                    "-o", dir.appendingPathComponent("n").path])
        #expect(tolerant.status == 0, "\(tolerant.stderr)")
        let nmfLoss = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("n.loss.json"))) as? [String: Any]
        let nmfCurves = nmfLoss?["curves"] as? [[String: Any]] ?? []
        #expect(nmfCurves.count == 2 && nmfCurves.allSatisfy { $0["stopped"] as? String == "tolerance" && ($0["passes"] as? Int ?? 400) < 400 },
                "\(nmfCurves.map { ($0["stopped"] ?? "", $0["passes"] ?? "") })")
    }
}
