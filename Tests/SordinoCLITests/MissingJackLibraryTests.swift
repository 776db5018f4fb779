// SPDX-License-Identifier: GPL-3.0-or-later
// Where libjack cannot be loaded: the JACK commands say how to get it, the commands on files run without it.

import Foundation
import SordinoIO
import Testing

@Suite(.enabled(if: CLI.shouldRun, CLI.skipReason))
struct MissingJackLibraryTests {
    /// An environment whose library search path finds a `libjack.so.0` that is not a library
    /// (before the library was loaded on first use, the loader refused to start any command).
    static func brokenJack(_ directory: URL) throws -> [String: String] {
        try Data("not a shared object\n".utf8).write(to: directory.appendingPathComponent("libjack.so.0"))
        let inherited = ProcessInfo.processInfo.environment["LD_LIBRARY_PATH"].map { ":" + $0 } ?? ""
        return ["LD_LIBRARY_PATH": directory.path + inherited]
    }

    @Test("run and demo exit 69 naming the library and how to install it; nothing is left running")
    func jackCommandsSayWhatIsMissing() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let environment = try Self.brokenJack(dir)
        let run = try CLI.run(["run", "--server", "sordino-nowhere", "--no-control"], environment: environment, timeout: 30)
        #expect(run.status == 69, "\(run.stderr)")
        #expect(run.stderr.contains("JACK's client library cannot be loaded"), "\(run.stderr)")
        #expect(run.stderr.contains("libjack.so.0") && run.stderr.contains("libjack-jackd2-0") && run.stderr.contains("pw-jack"))
        // --wait-for-server waits for a server, not for a library: it stops at once as well.
        let waiting = try CLI.run(["run", "--server", "sordino-nowhere", "--no-control", "--wait-for-server"],
                                  environment: environment, timeout: 30)
        #expect(waiting.status == 69, "\(waiting.stderr)")
        #expect(waiting.stderr.contains("JACK's client library cannot be loaded"), "\(waiting.stderr)")
    }

    @Test("process, inspect, --help and --version run without libjack, process's output unchanged")
    func fileCommandsRunWithoutIt() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let environment = try Self.brokenJack(dir)
        let input = "presets/samples/noisy-speech-16k.wav"
        let without = dir.appendingPathComponent("without.wav").path, with = dir.appendingPathComponent("with.wav").path
        let r = try CLI.run(["process", "--quiet", "--preset", "presets/speech-16k.json", input, without], environment: environment)
        #expect(r.status == 0, "\(r.stderr)")
        let reference = try CLI.run(["process", "--quiet", "--preset", "presets/speech-16k.json", input, with])
        #expect(reference.status == 0, "\(reference.stderr)")
        #expect(try AudioFileReader.read(path: without).0.channels == AudioFileReader.read(path: with).0.channels)
        for arguments in [["inspect", "presets/speech-16k.json"], ["--help"], ["--version"]] {
            let other = try CLI.run(arguments, environment: environment)
            #expect(other.status == 0, "\(arguments): \(other.stderr)")
        }
    }
}
