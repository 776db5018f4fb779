// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino process IN… --out-dir DIR --jobs N`: every file as alone, failures counted in the exit status.

import Foundation
import SordinoIO
import Testing
import TestSupport

@Suite(.enabled(if: CLI.shouldRun, CLI.skipReason))
struct ProcessBatchTests {
    static let preset = ProcessCommandTests.preset

    /// Five files of different rates and channel counts, one unreadable and one missing: with 1 and
    /// 3 jobs every good file is enhanced exactly as `process IN OUT` enhances it alone, and the
    /// exit status is the number of failures (2).
    @Test func everyFileIsEnhancedAsAloneAndFailuresAreCounted() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let inputs = try [
            ProcessCommandTests.writeInput(dir, name: "a.wav", seconds: 1),
            ProcessCommandTests.writeInput(dir, name: "b.wav", channels: 2, seconds: 1.5),
            ProcessCommandTests.writeInput(dir, name: "c.flac", rate: 22_050, seconds: 0.7),
        ]
        let junk = dir.appendingPathComponent("junk.wav").path
        try Data("not audio".utf8).write(to: URL(fileURLWithPath: junk))
        let missing = dir.appendingPathComponent("missing.wav").path
        var alone: [[[Float]]] = []
        for input in inputs {
            let out = dir.appendingPathComponent("alone-" + URL(fileURLWithPath: input).lastPathComponent).path
            #expect(try CLI.run(["process", "--quiet", "--preset", Self.preset, input, out]).status == 0)
            alone.append(try AudioFileReader.read(path: out).0.channels)
        }
        for jobs in [1, 3] {
            let out = dir.appendingPathComponent("out-\(jobs)")
            let r = try CLI.run(["process", "--quiet", "--preset", Self.preset, "--jobs", "\(jobs)", "--out-dir", out.path,
                                 inputs[0], junk, inputs[1], missing, inputs[2]])
            #expect(r.status == 2, "\(r.stderr)")
            #expect(r.stderr.contains("junk.wav") && r.stderr.contains("missing.wav"), "\(r.stderr)")
            #expect(r.stderr.contains("3 of 5 files enhanced"), "\(r.stderr)")
            for (i, input) in inputs.enumerated() {
                let name = URL(fileURLWithPath: input).lastPathComponent
                #expect(try AudioFileReader.read(path: out.appendingPathComponent(name).path).0.channels == alone[i])
            }
            #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("junk.wav").path))
        }
    }

    @Test(arguments: [
        (["a.wav", "b.wav", "c.wav"], "process takes IN OUT"),
        // Found by hand: a misspelt option's value was taken for a path ("got 3 paths").
        (["--rank", "2", "a.wav", "b.wav"], "Unknown option '--rank'"),
        (["a.wav", "b.wav", "--jobs", "2"], "--jobs works with --out-dir only"),
        (["-", "--out-dir", "x"], "cannot be used with --out-dir"),
        (["a.wav", "--out-dir", "x", "--jobs", "0"], "--jobs must lie in 1…256"),
        // Found by hand: a negative number after a numeric option was "Missing value for '--jobs'".
        (["a.wav", "--out-dir", "x", "--jobs", "-2"], "--jobs must lie in 1…256"),
        (["--wet", "-0.5", "a.wav", "b.wav"], "--wet must lie in 0…1 (got -0.5)"),
        (["a.wav", "--out-dir", "x", "--report", "r.html"], "--report works on one file"),
    ])
    func misuseIsAUsageError(arguments: [String], message: String) throws {
        let r = try CLI.run(["process"] + arguments)
        #expect(r.status == 64 && r.stderr.contains(message), "\(r.stderr)")
    }

    /// The hop worker is the daemon's thread: the offline commands and the demo refuse it, saying why.
    @Test(arguments: [
        (["process", "a.wav", "b.wav"], "process works offline: use spread or whole"),
        (["separate", "a.wav", "--out", "out"], "separate works offline: use spread or whole"),
        (["demo"], "the demo checks its output against the offline engine sample for sample"),
    ])
    func hopWorkerIsForRunOnly(arguments: [String], message: String) throws {
        let r = try CLI.run(arguments + ["--hop-work", "worker"])
        #expect(r.status == 64 && r.stderr.contains("--hop-work worker applies to run") && r.stderr.contains(message), "\(r.stderr)")
    }

    @Test func namesThatCollideOrOverwriteTheirInputAreRefusedBeforeAnythingRuns() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let sub = dir.appendingPathComponent("sub")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        let a = try ProcessCommandTests.writeInput(dir, name: "a.wav", seconds: 0.3)
        let b = try ProcessCommandTests.writeInput(sub, name: "a.wav", seconds: 0.3)
        let collide = try CLI.run(["process", "--preset", Self.preset, "--out-dir", dir.appendingPathComponent("o").path, a, b])
        #expect(collide.status == 64 && collide.stderr.contains("would both be written"), "\(collide.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("o").path))
        let overwrite = try CLI.run(["process", "--preset", Self.preset, "--out-dir", dir.path, a])
        #expect(overwrite.status == 64 && overwrite.stderr.contains("overwritten by its own output"), "\(overwrite.stderr)")
    }
}
