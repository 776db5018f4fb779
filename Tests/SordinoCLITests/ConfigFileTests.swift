// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino run --config FILE`: every run option has a key, the command line overrides the file, mistakes name the key.

import Foundation
import SordinoControl
import Testing
import TestSupport

@Suite("run --config", .serialized, .enabled(if: CLI.shouldRun, CLI.skipReason))
struct ConfigFileTests {
    /// The options `sordino run --help` lists, without '--'.
    static func runOptions() throws -> Set<String> {
        let help = try CLI.run(["run", "--help"]).stdout
        let pattern = /\n\s+(?:-[a-z], )?--([a-z-]+)/
        return Set(help.matches(of: pattern).map { String($0.1) })
    }

    @Test("every option of `run` but --config is a key; an unknown key, a wrong type, bad TOML and a bad value are errors naming it")
    func keysAndMistakes() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        func run(_ toml: String) throws -> CLI.Result {
            let file = dir.appendingPathComponent("sordino.toml")
            try toml.write(to: file, atomically: true, encoding: .utf8)
            return try CLI.run(["run", "--config", file.path, "--server", "no-such-server-\(getpid())"])
        }
        let unknown = try run("chanels = 2\n")
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("unknown key 'chanels'"), "\(unknown.stderr)")
        let listed = unknown.stderr.components(separatedBy: "without '--': ").last?
            .trimmingCharacters(in: .whitespacesAndNewlines).dropLast().components(separatedBy: ", ") ?? []
        #expect(Set(listed) == (try Self.runOptions()).subtracting(["config", "help", "version"]), "keys vs run --help")
        for (toml, message) in [("channels = \"two\"\n", "'channels' must be an integer"),
                                ("link-channels = 1\n", "'link-channels' must be true or false"),
                                ("noise-bound-db = \"on\"\n", "'noise-bound-db' must be a number or \"off\""),
                                ("floor-db = = 3\n", "sordino.toml:1:"),
                                ("floor-db = 5\n", "--floor-db must lie in −120…0 dB (got 5.0)"),
                                ("[engine]\nwet = 1\n", "sordino.toml:1:1: a sordino configuration has no tables"),
                                // These four aborted the process inside TOMLKit (found by `make fuzz`).
                                ("[@]\nwet = 1\n", "sordino.toml:1:1: a sordino configuration has no tables"),
                                ("wet = 1\n  [[ é]\n", "sordino.toml:2:3: a sordino configuration has no tables"),
                                ("wet = 1\n[\n", "sordino.toml:2:1: a sordino configuration has no tables"),
                                // Split as Characters, "\r\n" was no line end: the table passed the check.
                                ("\r\n[[[K'K'", "sordino.toml:2:1: a sordino configuration has no tables"),
                                ("wet = 1\rfloor-db = -20\n", "sordino.toml:1:8: a carriage return that does not end a line"),
                                ("wet =[}\n", "sordino.toml:1:6: a value is one string, number or true/false"),
                                ("wet = {a = 1}\n", "sordino.toml:1:7: a value is one string, number or true/false"),
                                ("connect-in = '''\nx'''\n", "sordino.toml:1:14: a value is one line"),
                                ("\"wet\" = 1\n", "sordino.toml:1:1: expected a key"),
                                ("wet 1\n", "sordino.toml:1:5: expected '=' after the key")] {
            let r = try run(toml)
            #expect(r.status == 64 && r.stderr.contains(message), "\(toml): \(r.stderr)")
        }
        // A value starting with a combining mark joined the '=' of "--preset=…" into one character,
        // and argument-parser reported an unknown option (found by `make fuzz`): now it gets as far
        // as the server.
        let mark = try run("preset = \"\u{0655}x\"\n")
        #expect(!mark.stderr.contains("Unknown option") && mark.stderr.contains("no JACK server"), "\(mark.stderr)")
        let windows = try run("wet = 1\r\n# Windows line ends\r\nfloor-db = -20\r\n")
        #expect(windows.status != 64 && windows.stderr.contains("no JACK server"), "\(windows.stderr)")
        let missing = try CLI.run(["run", "--config", dir.appendingPathComponent("none.toml").path])
        #expect(missing.status == 66 && missing.stderr.contains("cannot read the configuration file"))
        let latin1 = dir.appendingPathComponent("latin1.toml")
        try Data([0x5B, 0x97, 0x91, 0x5D, 0x0A]).write(to: latin1)
        let notText = try CLI.run(["run", "--config", latin1.path])
        #expect(notText.status == 64 && notText.stderr.contains("latin1.toml is not UTF-8 text"), "\(notText.stderr)")
    }

    @Test("a file with every key starts the daemon; options on the command line win over the file",
          .enabled(if: JackdServer.shouldRun, Comment(rawValue: JackdServer.skipReason)))
    func overrides() throws {
        let server = try JackdServer.start(sampleRate: 16_000, period: 256)
        defer { server.stop() }
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let socket = dir.appendingPathComponent("c.sock").path
        let toml = """
            # every key of `sordino run`
            server = "\(server.name)"
            name = "configured"
            channels = 2
            connect-in = "^system:capture_1$"
            connect-out = "^system:playback_1$"
            no-reconnect = false
            wait-for-server = false
            report-interval = 0
            log-level = "info"
            control = "\(socket)"
            no-control = false
            preset = "speech-16k"
            floor-db = -18
            wet = 0.9
            iterations = 1
            activation-floor = 0.5
            noise-bound-db = "off"
            absent-floor-db = "off"
            adaptive-noise-atoms = 2
            adaptive-noise-memory-ms = 3000
            mask-exponent = 2
            link-channels = true
            """
        let file = dir.appendingPathComponent("sordino.toml")
        try toml.write(to: file, atomically: true, encoding: .utf8)
        let daemon = try CLI.Background(["run", "--config", file.path, "--floor-db", "-30", "--wet=1"])
        #expect(daemon.waitUntil(timeout: .seconds(10)) { FileManager.default.fileExists(atPath: socket) }, "\(daemon.stderr)")
        let log = daemon.stderr
        #expect(log.contains("JACK client 'configured' on server '\(server.name)': ports configured:in_1, configured:in_2"), "\(log)")
        #expect(log.contains("floor -30.0 dB (command line), wet 1.0 (command line), mask exponent 2 (command line), iterations 1 (command line)"), "\(log)")
        #expect(log.contains("connected system:capture_1 → configured:in_1"))
        let values = try ControlClient(path: socket).request(.get)["values"]
        #expect(values?["floor-db"] == .number(-30) && values?["noise-bound-db"] == .string("off"), "\(values?.text ?? "")")
        daemon.send(SIGTERM)
        #expect(daemon.waitForExit(timeout: .seconds(3)) == 0)
    }
}
