// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino run`'s control socket against a private jackd: every command, a malformed-request barrage while audio flows, set and reload during playback.

import Foundation
import SordinoControl
import SordinoJACKRig
import Testing
import TestSupport

/// A daemon on a private 16 kHz jackd with its control socket in a temporary folder.
final class ControlledDaemon {
    let server: JackdServer
    let folder: URL
    let socket: String
    let daemon: CLI.Background
    #if DEBUG
    /// The unoptimised engine keeps up at 16 kHz with one iteration (p50 ≈ 0.2 ms per 16 ms period);
    /// a binary named by $SORDINO_TEST_BINARY is taken as optimised (the preset's iterations).
    static let engineArguments = ProcessInfo.processInfo.environment["SORDINO_TEST_BINARY"] == nil ? ["--iterations", "1"] : []
    #else
    static let engineArguments: [String] = []
    #endif

    /// `engineArguments`: the engine's options (default: the debug build's single iteration).
    init(extraArguments: [String] = [], engineArguments: [String] = ControlledDaemon.engineArguments,
         folder existing: URL? = nil, server existingServer: JackdServer? = nil) throws {
        server = try existingServer ?? JackdServer.start(sampleRate: 16_000, period: 256)
        folder = try existing ?? CLI.temporaryDirectory()
        socket = folder.appendingPathComponent("control.sock").path
        daemon = try CLI.Background(["run", "--server", server.name, "--control", socket] + engineArguments + extraArguments,
                                    environment: ["XDG_STATE_HOME": folder.appendingPathComponent("state").path,
                                                  "XDG_DATA_HOME": folder.appendingPathComponent("data").path])
        let up = daemon.waitUntil(timeout: .seconds(10)) { FileManager.default.fileExists(atPath: socket) }
        try #require(up, "no control socket: \(daemon.stderr)")
    }

    func client() throws -> ControlClient { try ControlClient(path: socket) }

    /// Stops the daemon (SIGTERM), checks it exits 0, and stops the server unless `keepServer`.
    func stop(keepServer: Bool = false) {
        daemon.send(SIGTERM)
        #expect(daemon.waitForExit(timeout: .seconds(3)) == 0, "\(daemon.stderr)")
        #expect(!FileManager.default.fileExists(atPath: socket), "the socket file is removed at exit")
        if !keepServer { server.stop() }
    }
}

/// Largest |y[n] − y[n−1]| over `y`.
func largestStep(_ y: ArraySlice<Float>) -> Float {
    zip(y.dropFirst(), y).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

func sine(frequency: Double, amplitude: Float, count: Int, sampleRate: Double) -> [Float] {
    (0..<count).map { amplitude * Float(sin(2 * Double.pi * frequency * Double($0) / sampleRate)) }
}

@Suite("control socket of sordino run against a private jackd", .serialized, .inProcessJack,
       .enabled(if: CLI.shouldRun, CLI.skipReason),
       .enabled(if: JackdServer.shouldRun, Comment(rawValue: JackdServer.skipReason)))
struct ControlSocketTests {
    @Test("status, get, set (ranges, applied values, default), subscribe, reload (refusals keep the engine), save-settings and restore")
    func everyCommand() throws {
        let d = try ControlledDaemon()
        defer { try? FileManager.default.removeItem(at: d.folder) }
        let c = try d.client()
        var status = try c.request(.status)
        #expect(status["sample_rate"] == .number(16_000))
        #expect(status["latency_samples"] == .number(640))   // frame 512 + hop 128: the hop's work is spread
        #expect(status["latency_ms"] == .number(40))
        #expect(status["connected"] == .bool(true))
        #expect(status["preset"]?.stringValue?.hasPrefix("speech-16k (") == true)
        #expect(DaemonStatus(json: status) != nil, "every documented field is there: \(status.text)")
        #expect(status["settings"]?["values"]?["floor-db"] == .number(-18))
        // Nothing plays: levels and the model's estimate are silence (null).
        #expect(status["channels"]?.text == "[{\"attenuation_db\":0,\"in_peak_dbfs\":null,\"in_rms_dbfs\":null,\"out_peak_dbfs\":null,\"out_rms_dbfs\":null}]")
        #expect(status["speech_to_noise_db"] == .null)

        // set: each parameter, the applied value in the reply, then back to the default.
        let cases: [(String, JSONValue, JSONValue)] = [
            ("floor-db", .number(-20.5), .number(-20.5)), ("wet", .number(0.25), .number(0.25)),
            ("mask-exponent", .number(2), .number(2)), ("iterations", .number(3), .number(3)),
            ("noise-bound-db", .string("off"), .string("off")), ("noise-bound-db", .number(3), .number(3)),
            ("bypass", .bool(true), .bool(true)),
        ]
        for (name, value, applied) in cases {
            let reply = try c.request(.set, ["name": .string(name), "value": value])
            #expect(reply["value"] == applied && reply["source"] == .string("live"), "\(name): \(reply.text)")
            #expect(try c.request(.get, ["name": .string(name)])["value"] == applied)
        }
        // More iterations than the preset allows: the engine's cap is the applied value.
        let capped = try c.request(.set, ["name": .string("iterations"), "value": .number(64)])
        #expect(capped["value"] == status["max_iterations"], "\(capped.text) vs max \(status["max_iterations"]?.text ?? "?")")
        for (name, value, code) in [("floor-db", JSONValue.number(1), "out-of-range"), ("wet", .number(-0.1), "out-of-range"),
                                    ("mask-exponent", .number(3), "out-of-range"), ("iterations", .number(2.5), "out-of-range"),
                                    ("bypass", .string("yes"), "bad-request"), ("gain", .number(1), "bad-request")] {
            #expect(throws: ControlFailure.self) { try c.request(.set, ["name": .string(name), "value": value]) }
            let raw = try d.client()
            try raw.sendLine(JSONValue.object(["cmd": .string("set"), "name": .string(name), "value": value]).text)
            #expect(try raw.readMessage()["error"]?["code"] == .string(code), "\(name) = \(value.text)")
        }
        let back = try c.request(.set, ["name": .string("wet"), "value": .null])
        #expect(back["value"] == .number(1) && back["source"] == .string("default"))

        // subscribe: status events until the client stops them.
        let s = try d.client()
        #expect(try s.request(.subscribe, ["hz": .number(10)])["hz"] == .number(10))
        for _ in 0..<3 { #expect(try s.readMessage()["status"]?["sample_rate"] == .number(16_000)) }
        #expect(throws: ControlFailure.self) { try s.request(.subscribe, ["hz": .number(100)]) }

        // reload: the running preset re-read; a preset for another rate and a file outside the
        // preset folders are refused, and the running engine keeps going.
        #expect(try c.request(.reload)["preset"]?.stringValue?.hasPrefix("speech-16k (") == true)
        for (preset, code) in [("speech-48k", ControlFailure.Code.reloadFailed), ("/etc/passwd", .presetNotAllowed),
                               ("../presets/speech-16k", .presetNotAllowed), ("no-such-preset", .presetNotAllowed)] {
            do {
                _ = try c.request(.reload, ["preset": .string(preset)])
                Issue.record("reload \(preset) was accepted")
            } catch {
                #expect(error.code == code, "\(preset): \(error.message)")
            }
        }
        #expect(try c.request(.reload, ["preset": .string("speech-16k")])["preset"]?.stringValue?.hasPrefix("speech-16k") == true)
        status = try c.request(.status)
        #expect(status["connected"] == .bool(true) && status["engine_swaps"] == .number(2))

        // save-settings, then a restart restores the live values.
        _ = try c.request(.set, ["name": .string("floor-db"), "value": .number(-30)])
        let path = try c.request(.saveSettings)["path"]?.stringValue
        #expect(path == d.folder.appendingPathComponent("state/sordino/sordino.json").path)
        let saved = try path.flatMap { try String(contentsOfFile: $0, encoding: .utf8) } ?? ""
        #expect(saved.contains("\"floor-db\":-30") && saved.contains("\"bypass\":true"), "\(saved)")
        d.stop(keepServer: true)
        let again = try ControlledDaemon(folder: d.folder, server: d.server)
        defer { again.stop() }
        #expect(again.daemon.waitUntil(timeout: .seconds(5)) { again.daemon.stderr.contains("live settings restored from") })
        let restored = try again.client().request(.get)
        #expect(restored["values"]?["floor-db"] == .number(-30) && restored["values"]?["bypass"] == .bool(true), "\(restored.text)")
    }

    @Test("4000 malformed requests, huge and partial lines and abrupt disconnects while audio flows: each answered or closed, audio unbroken")
    func malformedBarrage() throws {
        // A real-time server where the system grants it: the callbacks' timing then measures the
        // daemon, not the rest of the parallel suite (CI, 2026-11-30, without it: the starved server
        // ran 50 of the barrage's ~117 cycles, 49 of them over the period).
        let d = try ControlledDaemon(server: JackdServer.start(sampleRate: 16_000, period: 256, realtime: true))
        defer { d.stop(); try? FileManager.default.removeItem(at: d.folder) }
        let rate = 16_000.0, seconds = 6.0
        let input = sine(frequency: 440, amplitude: 0.5, count: Int(rate * seconds), sampleRate: rate)
        // First the same audio without requests: the xruns this machine gives the graph anyway.
        let quiet = try JackLoopback(serverName: d.server.name, signal: input, recordingCount: input.count)
        #expect(quiet.connect(hostInput: "sordino:in_1", hostOutput: "sordino:out_1"))
        Thread.sleep(forTimeInterval: 0.2)
        let quietStart = try d.client().request(.status)
        quiet.arm()
        #expect(quiet.waitUntilFull(timeout: .seconds(seconds * 3)))
        let quietStep = largestStep(quiet.recording[(512 + 2048)...])
        let quietEnd = try d.client().request(.status)
        let quietXruns = (quietEnd["xruns"]?.intValue ?? -1) - (quietStart["xruns"]?.intValue ?? 0)
        let quietOverruns = (quietEnd["overruns"]?.intValue ?? -1) - (quietStart["overruns"]?.intValue ?? 0)
        let quietCycles = cycles(from: quietStart, to: quietEnd)
        let rig = try JackLoopback(serverName: d.server.name, signal: input, recordingCount: input.count)
        #expect(rig.connect(hostInput: "sordino:in_1", hostOutput: "sordino:out_1"))
        Thread.sleep(forTimeInterval: 0.2)
        let before = try d.client().request(.status)
        rig.arm()

        var generator = SystemRandomNumberGenerator()
        let garbage: [[UInt8]] = [
            Array("{\"cmd\":".utf8), Array("not json".utf8), Array("[1,2,3]".utf8), Array("{\"cmd\":42}".utf8),
            Array("{\"cmd\":\"fly\"}".utf8), Array("{\"v\":2,\"cmd\":\"status\"}".utf8),
            Array("{\"cmd\":\"set\",\"name\":\"floor-db\",\"value\":\"loud\"}".utf8),
            Array("{\"cmd\":\"set\",\"name\":[],\"value\":1}".utf8), Array("{\"cmd\":\"subscribe\",\"hz\":\"fast\"}".utf8),
            Array("{\"cmd\":\"reload\",\"preset\":17}".utf8), Array("{\"cmd\":\"get\",\"name\":{}}".utf8),
            [0xFF, 0xFE, 0x00, 0x7B], Array("\"just a string\"".utf8), Array("{\"cmd\":\"set\",\"name\":\"wet\"}".utf8),
        ]
        var answered = 0, closedOnHugeLine = 0, abrupt = 0
        var during: JSONValue?   // a status taken a second into the barrage, while the sine plays
        let start = ContinuousClock.now
        while answered + closedOnHugeLine + abrupt < 4000 {
            // At most ~1,000 requests a second (50 per 50 ms): a barrage that saturates both cores
            // of a small machine measures the machine, not the daemon.
            let batchStart = ContinuousClock.now
            let c = try d.client()
            for _ in 0..<50 {
                let line = garbage[Int.random(in: 0..<garbage.count, using: &generator)]
                try c.sendRaw(line + [0x0A])
                let reply = try c.readMessage()
                #expect(reply["ok"] == .bool(false) && reply["error"]?["code"] != nil, "\(reply.text)")
                answered += 1
            }
            switch Int.random(in: 0..<3, using: &generator) {
            case 0:   // a line far over the limit: an error line, then the daemon closes
                try? c.sendRaw([UInt8](repeating: 0x61, count: 3 * ControlProtocol.maximumLineBytes))
                if let reply = try? c.readMessage() { #expect(reply["error"]?["code"] == .string("line-too-long")) }
                #expect(throws: ControlFailure.self) { _ = try c.readLine() }
                closedOnHugeLine += 1
            case 1:   // half a request, then gone
                try c.sendRaw(Array("{\"cmd\":\"sta".utf8))
                abrupt += 1
            default:  // random bytes without a newline, then gone
                try c.sendRaw((0..<Int.random(in: 1...2000, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }.filter { $0 != 0x0A })
                abrupt += 1
            }
            if during == nil && start.duration(to: .now) > .seconds(1) { during = try d.client().request(.status) }
            let rest = (batchStart + .milliseconds(50)) - ContinuousClock.now
            if rest > .zero { Thread.sleep(forTimeInterval: Double(rest.components.seconds) + Double(rest.components.attoseconds) * 1e-18) }
        }
        let barrage = start.duration(to: .now)
        // The daemon still answers, and the audio went on.
        let after = try d.client().request(.status)
        // The meters while the sine plays: amplitude 0.5 is −6.02 dBFS peak, −9.03 dBFS RMS.
        let meter = during?["channels"]
        if case .array(let channels)? = meter, let first = channels.first {
            #expect(abs((first["in_peak_dbfs"]?.doubleValue ?? 0) + 6.02) < 0.05, "\(first.text)")
            #expect(abs((first["in_rms_dbfs"]?.doubleValue ?? 0) + 9.03) < 0.1, "\(first.text)")
            #expect((first["attenuation_db"]?.doubleValue ?? 0) > 3, "the tone is mostly removed: \(first.text)")
        } else {
            Issue.record("no channels in \(during?.text ?? "no status")")
        }
        #expect(during?["speech_to_noise_db"]?.doubleValue != nil, "the model's estimate while audio flows: \(during?.text ?? "no status")")
        print("status during the barrage: \(meter?.text ?? ""), speech-to-noise \(during?["speech_to_noise_db"]?.text ?? "")")
        #expect(rig.waitUntilFull(timeout: .seconds(seconds * 3)), "recorded \(rig.recordedCount) of \(input.count)")
        #expect(!rig.misaligned)
        let latency = 640   // frame + hop: the daemon spreads the hop's work
        let output = rig.recording[(latency + 2048)...]
        let step = largestStep(output), natural = Float(2 * Double.pi * 440 / rate) * 0.5
        let xruns = (after["xruns"]?.intValue ?? -1) - (before["xruns"]?.intValue ?? 0)
        let overruns = (after["overruns"]?.intValue ?? -1) - (before["overruns"]?.intValue ?? 0)
        let barrageCycles = cycles(from: before, to: after)
        print("barrage: \(answered) error replies, \(closedOnHugeLine) closed on a huge line, \(abrupt) abrupt disconnects in \(barrage); "
              + "xruns during it \(xruns), callbacks over the period \(overruns) of \(barrageCycles); during the same audio without "
              + "requests \(quietXruns) and \(quietOverruns) of \(quietCycles); largest output step \(step), without requests "
              + "\(quietStep) (the sine's own \(natural))")
        #expect(barrage < .seconds(60))
        // A control path that made the audio thread wait would stretch many callbacks of the barrage
        // (~1,000 requests a second, 62.5 cycles a second) past the period. On a real-time server
        // nothing else does: at most a tenth, or twice the quiet share. Without real-time scheduling
        // the suite's load also preempts callbacks and gives the graph xruns that are not Sordino's
        // (CI, 2026-11-29: 32 xruns in a 2 s barrage, 7 in 6 s of quiet playback): there the bound
        // is three quarters.
        #expect(barrageCycles > 0 && overruns >= 0)
        let share = Double(overruns) / Double(max(barrageCycles, 1)), quietShare = Double(max(quietOverruns, 0)) / Double(max(quietCycles, 1))
        let allowed = max(2 * quietShare, d.server.isRealtime ? 0.1 : 0.75)
        #expect(share <= allowed, "\(overruns) of \(barrageCycles) callbacks over the period (real-time server: \(d.server.isRealtime))")
        // A gap is a step of up to the amplitude (measured alone: 0.0217 with and without requests).
        #expect(step < 1.5 * natural, "a gap or click in the output (without requests: \(quietStep))")
        // A steady tone is noise to speech-16k: its learned gain takes it towards the floor where it
        // hears no speech (−42 dB), which the mask never goes below: at least 0.125·10^(−4.2) ≈ 7.9e-6
        // of the input's mean square 0.125, half of that allowed for the edges (measured 6.8e-5,
        // −32.6 dB; with the −30 dB floor 4.1e-4); silence would be 0.
        #expect(output.map { $0 * $0 }.reduce(0, +) / Float(output.count) > 4e-6, "the sine came through")
    }

    /// JACK cycles between two `status` replies.
    private func cycles(from start: JSONValue, to end: JSONValue) -> Int {
        ((end["frames_processed"]?.intValue ?? 0) - (start["frames_processed"]?.intValue ?? 0)) / max(end["block_length"]?.intValue ?? 1, 1)
    }

    @Test("set and reload during playback: no gap, no click (largest sample step of a sine bounded)")
    func setAndReloadDuringPlayback() throws {
        let d = try ControlledDaemon()
        defer { d.stop(); try? FileManager.default.removeItem(at: d.folder) }
        let rate = 16_000.0, seconds = 8.0
        let input = sine(frequency: 440, amplitude: 0.5, count: Int(rate * seconds), sampleRate: rate)
        let rig = try JackLoopback(serverName: d.server.name, signal: input, recordingCount: input.count)
        #expect(rig.connect(hostInput: "sordino:in_1", hostOutput: "sordino:out_1"))
        Thread.sleep(forTimeInterval: 0.2)
        let c = try d.client()
        let changes: [(String, JSONValue)] = [
            ("floor-db", .number(-40)), ("mask-exponent", .number(2)), ("iterations", .number(4)), ("bypass", .bool(true)),
            ("wet", .number(0.3)), ("noise-bound-db", .string("off")), ("bypass", .bool(false)), ("floor-db", .number(0)),
            ("mask-exponent", .number(1)), ("wet", .number(1)), ("noise-bound-db", .number(6)), ("iterations", .number(1)),
            ("floor-db", .number(-12)),
        ]
        rig.arm()
        var sets = 0, reloads = 0
        while !rig.isFull {
            if sets % 5 == 4 {
                _ = try c.request(.reload)
                reloads += 1
            }
            let (name, value) = changes[sets % changes.count]
            _ = try c.request(.set, ["name": .string(name), "value": value])
            sets += 1
            Thread.sleep(forTimeInterval: 0.07)
        }
        #expect(!rig.misaligned)
        let output = rig.recording[(512 + 2048)...]
        let step = largestStep(output), natural = Float(2 * Double.pi * 440 / rate) * 0.5
        let status = try c.request(.status)
        print("during playback: \(sets) sets, \(reloads) reloads (engine swaps \(status["engine_swaps"]?.text ?? "?")); "
              + "largest output step \(step), the sine's own \(natural)")
        #expect(reloads >= 10 && status["engine_swaps"]?.intValue == reloads)
        #expect(step < 1.2 * natural, "a click or a gap in the output")
    }
}

extension JackLoopback {
    /// Waits (polling) until the recording is full; false after `timeout`.
    func waitUntilFull(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !isFull && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.02) }
        return isFull
    }
}

@Suite("sordino ctl against a daemon", .serialized,
       .enabled(if: CLI.shouldRun, CLI.skipReason),
       .enabled(if: JackdServer.shouldRun, Comment(rawValue: JackdServer.skipReason)))
struct CtlCommandTests {
    @Test("every ctl command from the shell: text and --json, negative values, exit codes for refusals and a missing daemon")
    func ctlFromTheShell() throws {
        let d = try ControlledDaemon()
        defer { d.stop(); try? FileManager.default.removeItem(at: d.folder) }
        func ctl(_ arguments: [String], timeout: Double = 30) throws -> CLI.Result {
            try CLI.run(["ctl"] + arguments + ["--control", d.socket], timeout: timeout)
        }
        let status = try ctl(["status"])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("sordino on JACK server '\(d.server.name)': running"), "\(status.stdout)")
        // The command the daemon's log suggests works as printed (it once put --control before the
        // subcommand, which `ctl` refuses).
        let suggested = try #require(d.daemon.stderr.firstMatch(of: /\(`sordino ([^`]+)`\)/).map { String($0.1) },
                                     "\(d.daemon.stderr)")
        let asLogged = try CLI.run(suggested.split(separator: " ").map(String.init))
        #expect(asLogged.status == 0 && asLogged.stdout.contains("sordino on JACK server '\(d.server.name)': running"),
                "sordino \(suggested): \(asLogged.stderr)")
        #expect(status.stdout.contains("audio      16000 Hz, block 256 samples, latency 640 samples (40.0 ms)"))
        #expect(status.stdout.contains("channel 1  in peak -inf rms -inf dBFS"))
        let json = try ctl(["status", "--json"])
        #expect(JSONValue.parse(Data(json.stdout.utf8))?["sample_rate"] == .number(16_000), "\(json.stdout)")

        let set = try ctl(["set", "floor-db", "-20"])
        #expect(set.status == 0 && set.stdout == "floor-db = -20 (live)\n", "\(set.stdout)\(set.stderr)")
        #expect(try ctl(["set", "bypass", "on"]).stdout == "bypass = on (live)\n")
        #expect(try ctl(["set", "noise-bound-db", "off", "--json"]).stdout == "{\"name\":\"noise-bound-db\",\"source\":\"live\",\"value\":\"off\"}\n")
        #expect(try ctl(["set", "bypass", "default"]).stdout == "bypass = off (default)\n")
        #expect(try ctl(["get", "floor-db"]).stdout == "floor-db = -20 (live)\n")
        let all = try ctl(["get"]).stdout
        #expect(all.hasPrefix("floor-db -20 (live), wet 1, mask-exponent "), "\(all)")
        let refused = try ctl(["set", "floor-db", "5"])
        #expect(refused.status == 64 && refused.stderr.contains("floor-db takes a number of dB in −120…0"), "\(refused.stderr)")
        #expect(try ctl(["set", "floor-db"]).status == 64)

        let reload = try ctl(["reload"])
        #expect(reload.status == 0 && reload.stdout.hasPrefix("reloaded: speech-16k ("), "\(reload.stdout)\(reload.stderr)")
        let outside = try ctl(["reload", "/etc/passwd"])
        #expect(outside.status == 65 && outside.stderr.contains("is not inside the preset folders"), "\(outside.stderr)")

        let lines = try ctl(["subscribe", "--hz", "10", "--count", "3", "--json"]).stdout.split(separator: "\n")
        #expect(lines.count == 3 && lines.allSatisfy { JSONValue.parse(Data($0.utf8))?["sample_rate"] == .number(16_000) })
        let watched = try ctl(["watch", "--hz", "10"], timeout: 1.5)   // runs until interrupted
        #expect(watched.stdout.contains("in_1  [") && watched.stdout.contains("removed "), "\(watched.stdout)")

        let saved = try ctl(["save-settings"])
        #expect(saved.status == 0 && saved.stdout.hasPrefix("saved to \(d.folder.path)/state/sordino/sordino.json"), "\(saved.stdout)")

        let missing = try CLI.run(["ctl", "status", "--control", d.folder.appendingPathComponent("none.sock").path])
        #expect(missing.status == 69 && missing.stderr.contains("Is `sordino run` running"), "\(missing.stderr)")

        // A second daemon on the same socket stops before it shows up as a JACK client (it once
        // registered `sordino-01` with its ports, then quit).
        let second = try CLI.run(["run", "--server", d.server.name, "--control", d.socket], timeout: 30)
        #expect(second.status == 73 && second.stderr.contains("another daemon already listens on \(d.socket)"), "\(second.stderr)")
        #expect(!second.stderr.contains("JACK client"), "\(second.stderr)")
    }

    @Test("at the client limit, `sordino ctl` prints the daemon's refusal (not a broken pipe) and exits 75")
    func clientLimitFromTheShell() throws {
        let d = try ControlledDaemon()
        defer { d.stop(); try? FileManager.default.removeItem(at: d.folder) }
        var clients = try (0..<ControlServer.maximumClients).map { _ in try d.client() }
        for c in clients { _ = try c.request(.get, ["name": .string("wet")]) }
        // Five tries: the refusal line may arrive before or after ctl's request is written.
        for _ in 0..<5 {
            let refused = try CLI.run(["ctl", "status", "--control", d.socket], timeout: 30)
            #expect(refused.status == 75, "\(refused.status) \(refused.stderr)")
            #expect(refused.stderr == "sordino ctl: \(ControlServer.maximumClients) clients are connected; close one and retry\n",
                    "\(refused.stderr)")
        }
        clients.removeLast()
        let served = d.daemon.waitUntil(timeout: .seconds(5)) { (try? CLI.run(["ctl", "status", "--control", d.socket]))?.status == 0 }
        #expect(served, "a freed place serves the next ctl")
    }
}
