// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino run` and `sordino demo` against private jackd servers: ports, signals, reload, exit codes, the demo's report.

import Foundation
import SordinoIO
import SordinoPresets
import Testing
import TestSupport

@Suite("run and demo against a private jackd", .serialized,
       .enabled(if: CLI.shouldRun, CLI.skipReason),
       .enabled(if: JackdServer.shouldRun, Comment(rawValue: JackdServer.skipReason)))
struct JackCommandTests {
    @Test("demo: exit 0, reports latency (agreeing with the measured delay) and cost, writes the aligned 16 kHz WAV")
    func demo() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("enhanced.wav").path
        #if DEBUG
        // The unoptimised engine is far slower than real time at 48 kHz (p50 6.8 ms per 5.3 ms
        // period with even one iteration), so the debug build runs the demo at 16 kHz (speech-16k)
        // with one iteration (~4.7 ms per hop of 8 ms). Period 64, not a multiple of the hop (128),
        // so that starting on a hop boundary matters: with a plain `arm()` the output differs
        // from the offline engine (measured max |difference| 0.093). The release build runs the default.
        let arguments = ["demo", "--sample-rate", "16000", "--iterations", "1", "--period", "64"]
        let offlineArguments = ["--preset", "speech-16k", "--iterations", "1"]
        let (rate, preset, latency, period, periodText) = (16_000, "speech-16k", 640, 64, "4.00 ms")   // frame + hop: spread
        let (removedMeasured, siSDRMeasured) = (14.5, 9.5)   // speech-16k's network trained with narrowband and 16-bit mixtures (2026-12-02; before: 14.5, 10.2); κ = 0, 12- and 24-epoch weights averaged, sharpened ×1.3 (2026-12-01; the 12-epoch one 14.1, 9.9; unsharpened 13.4, 9.5; before: 12.1, 8.7; 13.3, 9.2; 12.9, 9.2; without the gain 10.4, 7.9)
        #else
        let arguments = ["demo"]
        let offlineArguments = ["--preset", "speech-48k"]
        let (rate, preset, latency, period, periodText) = (48_000, "speech-48k", 1920, 256, "5.33 ms")
        let (removedMeasured, siSDRMeasured) = (11.8, 9.8)   // speech-48k's network trained with narrowband and 16-bit mixtures (2026-12-02; before: 9.6, 9.7), transplanted from speech-16k's averaged one and trained 12 epochs at 48 kHz, sharpened ×1.3 (2026-12-01; the κ = 0 fine-tune sharpened 12.2, 10.0; unsharpened 11.4, 9.5; before 11.8, 9.4; at 5 iterations: 11.6, 9.5; floor −18 dB, absent −30 dB, activation floor 0.6; ft13 before: 10.8, 9.2; earlier 11.3, 9.2 and 12.9, 8.3; without a gain 10.2, 7.8)
        #endif
        let started = ContinuousClock.now
        let r = try CLI.run(arguments + ["--output", output])
        let elapsed = started.duration(to: .now)
        #expect(r.status == 0, "\(r.stderr)")
        print(r.stdout)
        // A guard against a hang (the demo plays about 10 s), not a speed target: a loaded CI machine
        // took 35 s.
        #expect(elapsed < .seconds(180), "took \(elapsed)")
        #expect(r.stdout.contains("private JACK server 'sordino-demo-"))
        #expect(r.stdout.contains("\(rate) Hz, period \(period) samples (\(periodText))"))
        #expect(r.stdout.contains("preset        \(preset)"))
        #expect(r.stdout.contains("latency       \(latency) samples = 40.00 ms (reported to JACK); measured delay \(latency) samples (agrees)"))
        #expect(r.stdout.contains("callback      p50 ") && r.stdout.contains(" µs period; "))
        #expect(r.stdout.contains("SI-SDR        vs the clean reference: in 4.0 dB"))
        #expect(r.stdout.contains("offline       identical to the same engine run offline"))
        // The demo is deterministic (it starts the sample on a hop boundary of an engine that has
        // seen only silence), so its numbers are pinned as measured, with room for FFTW's
        // CPU-dependent kernels; they must move when the presets change.
        let removed = Self.number(in: r.stdout, before: " dB removed")
        #expect(abs((removed ?? .nan) - removedMeasured) <= 0.3, "noise removed: \(String(describing: removed)) dB")
        let siSDR = Self.number(in: r.stdout, before: " dB (")
        #expect(abs((siSDR ?? .nan) - siSDRMeasured) <= 0.3, "SI-SDR out: \(String(describing: siSDR)) dB")

        let (audio, info) = try AudioFileReader.read(path: output)
        let (noisy, _) = try AudioFileReader.read(path: CLI.repository.appendingPathComponent("presets/samples/noisy-speech-16k.wav").path)
        #expect(info.sampleRate == 16_000 && audio.channelCount == 1)
        #expect(audio.sampleCount == noisy.sampleCount, "aligned output has the input's length (91956)")
        #expect(audio.channels[0].allSatisfy { $0.isFinite })
        // Delay-compensated: the enhanced speech lines up with the noisy input (correlation peaks at lag 0).
        let lags = (-64...64).map { lag in
            (lag, zip(noisy.channels[0].dropFirst(max(lag, 0)), audio.channels[0].dropFirst(max(-lag, 0))).reduce(0.0) { $0 + Double($1.0 * $1.1) })
        }
        #expect(lags.max { $0.1 < $1.1 }?.0 == 0)
        // …and it is what `sordino process --compensate-delay` makes of the sample, sample for sample.
        let offlinePath = dir.appendingPathComponent("offline.wav").path
        let offline = try CLI.run(["process", "--quiet", "--compensate-delay"] + offlineArguments
                                  + ["presets/samples/noisy-speech-16k.wav", offlinePath])
        #expect(offline.status == 0, "\(offline.stderr)")
        #expect(try AudioFileReader.read(path: offlinePath).0.channels == audio.channels)
        #expect(Self.jackdProcesses(named: "sordino-demo-").isEmpty, "the private jackd was stopped")
    }

    @Test("run: ports appear, patterns connect, the start-up line has rate, block and latency; SIGTERM exits 0 within 1 s")
    func runAndStop() throws {
        let server = try JackdServer.start()
        defer { server.stop() }
        let daemon = try CLI.Background(["run", "--server", server.name, "--connect-in", "^system:capture_1$",
                                         "--connect-out", "^system:playback_1$"])
        let up = daemon.waitUntil(timeout: .seconds(10)) {
            let ports = server.ports()
            return ports.contains("sordino:in_1") && ports.contains("sordino:out_1")
        }
        #expect(up, "ports: \(server.ports()); log: \(daemon.stderr)")
        #expect(daemon.waitUntil(timeout: .seconds(2)) { daemon.stderr.contains("connected sordino:out_1 → system:playback_1") })
        let log = daemon.stderr
        #expect(log.contains("ports sordino:in_1, sordino:out_1; 48000 Hz, block 256 samples, latency 1920 samples (40.0 ms)"), "\(log)")
        #expect(log.contains("preset speech-48k"))
        #expect(log.contains("connected system:capture_1 → sordino:in_1"))
        let sent = ContinuousClock.now
        daemon.send(SIGTERM)
        let status = daemon.waitForExit(timeout: .seconds(1))
        print("sordino run stopped \(sent.duration(to: .now)) after SIGTERM")
        #expect(status == 0, "\(daemon.stderr)")
        #expect(daemon.stderr.contains("SIGTERM: stopping") && daemon.stderr.contains("JACK client 'sordino' closed"))
        #expect(!server.ports().contains("sordino:in_1"))
    }

    @Test("run: SIGHUP re-reads the preset files and keeps running; a broken preset on reload keeps the old engine")
    func reload() throws {
        let server = try JackdServer.start()
        defer { server.stop() }
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let presets = CLI.repository.appendingPathComponent("presets")
        for file in ["speech-48k.json", "speech-48k.basis", "speech-48k.gain"]
        where FileManager.default.fileExists(atPath: presets.appendingPathComponent(file).path) {
            try FileManager.default.copyItem(at: presets.appendingPathComponent(file), to: dir.appendingPathComponent(file))
        }
        let json = dir.appendingPathComponent("speech-48k.json")
        let daemon = try CLI.Background(["run", "--server", server.name, "--preset", json.path])
        #expect(daemon.waitUntil(timeout: .seconds(10)) { daemon.stderr.contains("JACK client 'sordino' on server") }, "\(daemon.stderr)")
        let floor = try Preset.load(path: json.path).metadata.mask.floorDecibels
        try #require(floor == floor.rounded() && floor != -20, "the edit below needs a whole-dB floor other than −20")
        #expect(daemon.stderr.contains("engine built from speech-48k (\(json.path)): floor \(Int(floor)).0 dB (preset)"), "\(daemon.stderr)")

        let original = try String(contentsOf: json, encoding: .utf8)
        let edited = original.replacingOccurrences(of: "\"floorDecibels\" : \(Int(floor))", with: "\"floorDecibels\" : -20")
        try #require(edited != original)
        try edited.write(to: json, atomically: true, encoding: .utf8)
        daemon.send(SIGHUP)
        #expect(daemon.waitUntil(timeout: .seconds(5)) {
            daemon.stderr.contains("engine reloaded from speech-48k (\(json.path)): floor -20.0 dB (preset)")
        }, "\(daemon.stderr)")
        #expect(daemon.stderr.contains("SIGHUP: reloading the preset"))

        try "{ not json".write(to: json, atomically: true, encoding: .utf8)
        daemon.send(SIGHUP)
        #expect(daemon.waitUntil(timeout: .seconds(5)) { daemon.stderr.contains("reload refused, the running engine keeps going") })
        Thread.sleep(forTimeInterval: 0.3)
        #expect(daemon.isRunning && server.ports().contains("sordino:out_1"), "still running after the reloads")
        daemon.send(SIGINT)
        #expect(daemon.waitForExit(timeout: .seconds(1)) == 0, "\(daemon.stderr)")
    }

    @Test("run: a 32 kHz server (no shipped preset at that rate) exits 65 and lists the rates")
    func noPresetForTheServersRate() throws {
        let server = try JackdServer.start(sampleRate: 32_000)
        defer { server.stop() }
        let r = try CLI.run(["run", "--server", server.name])
        #expect(r.status == 65, "\(r.stderr)")
        #expect(r.stderr.contains("has no preset for 32000 Hz; it holds presets for 16000, 44100, 48000, 96000, 192000 Hz"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        let single = try CLI.run(["run", "--server", server.name, "--preset", "speech-16k"])
        #expect(single.status == 65)
        #expect(single.stderr.contains("preset trained at 16000 Hz, JACK server runs at 32000 Hz. Restart jackd with `-r 16000`"))
    }

    @Test("run: SIGUSR1 logs a status line even at --log-level warning, SIGUSR2 is logged, SIGPIPE is ignored; --wet on the command line survives SIGHUP")
    func signalsDoNotKill() throws {
        let server = try JackdServer.start()
        defer { server.stop() }
        let daemon = try CLI.Background(["run", "--server", server.name, "--log-level", "warning", "--wet", "0.9"])
        #expect(daemon.waitUntil(timeout: .seconds(10)) { server.ports().contains("sordino:out_1") }, "\(daemon.stderr)")
        daemon.send(SIGUSR1)
        #expect(daemon.waitUntil(timeout: .seconds(3)) { daemon.stderr.contains("SIGUSR1 status: running: xruns ") }, "\(daemon.stderr)")
        #expect(daemon.stderr.contains("peak dBFS 1: in "))
        daemon.send(SIGUSR2)
        daemon.send(SIGPIPE)
        Thread.sleep(forTimeInterval: 0.5)
        #expect(daemon.isRunning, "exit status \(daemon.isRunning ? 0 : daemon.process.terminationStatus)")
        daemon.send(SIGTERM)
        #expect(daemon.waitForExit(timeout: .seconds(2)) == 0, "\(daemon.stderr)")

        // At info level, SIGUSR2's line and the sources of the control values after a reload.
        let verbose = try CLI.Background(["run", "--server", server.name, "--wet", "0.9"])
        #expect(verbose.waitUntil(timeout: .seconds(10)) { verbose.stderr.contains("JACK client 'sordino' on server") }, "\(verbose.stderr)")
        verbose.send(SIGUSR2)
        verbose.send(SIGHUP)
        // SIGHUP (1) is taken before SIGUSR2 (12) when both are pending: wait for both lines.
        #expect(verbose.waitUntil(timeout: .seconds(5)) {
            verbose.stderr.contains("engine reloaded from speech-48k") && verbose.stderr.contains("SIGUSR2: no action")
        }, "\(verbose.stderr)")
        #expect(verbose.stderr.contains("wet 0.9 (command line)"), "\(verbose.stderr)")
        verbose.send(SIGTERM)
        #expect(verbose.waitForExit(timeout: .seconds(2)) == 0)
    }

    @Test("run: a corrupt preset in the folder is named, never chosen around: start-up exits 65, a reload is refused")
    func corruptPresetInFolder() throws {
        let server = try JackdServer.start()
        defer { server.stop() }
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let presets = CLI.repository.appendingPathComponent("presets")
        for name in ["speech-48k", "lowlatency-48k"] {
            for file in ["json", "basis", "gain"].map({ "\(name).\($0)" })
            where FileManager.default.fileExists(atPath: presets.appendingPathComponent(file).path) {
                try FileManager.default.copyItem(at: presets.appendingPathComponent(file), to: dir.appendingPathComponent(file))
            }
        }
        let json = dir.appendingPathComponent("speech-48k.json")
        let good = try Data(contentsOf: json)
        try Data(good.prefix(good.count / 2)).write(to: json)   // truncated: it would be the 48 kHz choice
        let refused = try CLI.run(["run", "--server", server.name, "--preset", dir.path])
        #expect(refused.status == 65, "\(refused.stderr)")
        #expect(refused.stderr.contains("speech-48k.json") && refused.stderr.contains("not valid JSON (line "), "\(refused.stderr)")
        #expect(!refused.stderr.contains("lowlatency-48k"), "not silently replaced: \(refused.stderr)")

        try good.write(to: json)
        let daemon = try CLI.Background(["run", "--server", server.name, "--preset", dir.path])
        #expect(daemon.waitUntil(timeout: .seconds(10)) { daemon.stderr.contains("JACK client 'sordino' on server") }, "\(daemon.stderr)")
        try Data(good.prefix(good.count / 2)).write(to: json)
        daemon.send(SIGHUP)
        #expect(daemon.waitUntil(timeout: .seconds(5)) { daemon.stderr.contains("reload refused, the running engine keeps going") },
                "\(daemon.stderr)")
        #expect(daemon.stderr.contains("speech-48k.json"))
        #expect(!daemon.stderr.contains("engine reloaded from lowlatency-48k"))
        #expect(daemon.isRunning && server.ports().contains("sordino:out_1"))
        daemon.send(SIGTERM)
        #expect(daemon.waitForExit(timeout: .seconds(2)) == 0)
    }

    // MARK: - Helpers

    /// The number just before `suffix` in `text` ("2.3 dB removed" → 2.3).
    static func number(in text: String, before suffix: String) -> Double? {
        guard let range = text.range(of: suffix) else { return nil }
        let head = text[..<range.lowerBound]
        let digits = head.reversed().prefix { "0123456789.-".contains($0) }
        return Double(String(digits.reversed()))
    }

    /// PIDs of running jackd processes whose command line contains `name`.
    static func jackdProcesses(named name: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return arguments.first?.hasSuffix("jackd") == true && arguments.contains { $0.hasPrefix(name) }
        }
    }
}

@Suite("run without a server", .enabled(if: CLI.shouldRun, CLI.skipReason))
struct RunWithoutServerTests {
    @Test("no server → exit 69 and one line saying how to start one")
    func noServer() throws {
        let name = "sordino-absent-\(getpid())"
        let r = try CLI.run(["run", "--server", name])
        #expect(r.status == 69, "\(r.stderr)")
        #expect(r.stderr == "sordino run: error: no JACK server '\(name)' is running. Start one, e.g. `jackd -d alsa -r 48000`, "
                + "or `jackd -d dummy -r 48000` without a sound card. To try Sordino without one: `sordino demo`.\n")
    }

    @Test("no server named by $JACK_DEFAULT_SERVER → the error names that server")
    func defaultServerFromEnvironment() throws {
        let name = "sordino-absent-env-\(getpid())"
        let r = try CLI.run(["run"], environment: ["JACK_DEFAULT_SERVER": name])
        #expect(r.status == 69, "\(r.stderr)")
        #expect(r.stderr.contains("no JACK server '\(name)' is running"), "\(r.stderr)")
    }

    @Test("run locks its memory, and says so when the memlock limit refuses")
    func memoryLockRefused() throws {
        let binary = try #require(CLI.binary)
        // A 64 KiB memlock limit; root is exempt from it, so root runs the command as nobody.
        let command = "ulimit -l 64; exec \(binary.path) run --server sordino-absent-\(getpid()) --preset presets/speech-48k.json"
        let process = Foundation.Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = getuid() == 0
            ? ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "sh", "-c", command]
            : ["sh", "-c", command]
        process.currentDirectoryURL = CLI.repository
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 69, "\(text)")
        #expect(text.contains("could not lock memory (mlockall: Cannot allocate memory)") && text.contains("ulimit -l"), "\(text)")
    }

    @Test("help: units, defaults, freewheel, signals and exit codes; run is the default subcommand")
    func help() throws {
        let run = try CLI.run(["help", "run"])
        #expect(run.status == 0)
        let text = run.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")   // undo the wrapping
        for phrase in ["SIGUSR1", "(default: sordino)", "(default: 1)", "Freewheeling keeps processing", "SIGHUP",
                       "latency", "65 preset rejected", "69 no JACK", "--floor-db"] {
            #expect(text.contains(phrase), "help run lacks '\(phrase)'")
        }
        let root = try CLI.run(["--help"])
        #expect(root.status == 0 && root.stdout.contains("run (default)") && root.stdout.contains("demo"))
        let demo = try CLI.run(["help", "demo"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(demo.contains("(default: enhanced.wav)") && demo.contains("130 interrupted"))
        let usage = try CLI.run(["run", "--channels", "0"])
        #expect(usage.status == 64)
        // Found by hand: as root, `demo --output /proc/x.wav` passed the writability check (the
        // permission bits) and failed only after the whole run; a file made there first says so.
        let proc = try CLI.run(["demo", "--output", "/proc/x.wav"], timeout: 30)
        #expect(proc.status == 73 && proc.stderr.contains("cannot write /proc/x.wav") && !proc.stderr.contains("callback"),
                "\(proc.stderr)")
        // Found by hand: an 80-byte --name reached the server, which refused it after the retries
        // as "server error (0x21)"; JACK's client names hold 63 bytes.
        let long = try CLI.run(["run", "--server", "sordino-nowhere", "--name", String(repeating: "x", count: 64)])
        #expect(long.status == 64 && long.stderr.contains("--name is 64 bytes; JACK client names hold at most 63."), "\(long.stderr)")
    }
}
