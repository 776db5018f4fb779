// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino run` on PipeWire's JACK: it keeps processing across PipeWire restarts.

import Foundation
import SordinoControl
import Testing
import TestSupport

@Suite("run on PipeWire's JACK", .serialized,
       .enabled(if: CLI.binary != nil, "the sordino binary is not built next to the tests"),
       .enabled(if: PipeWireSession.shouldRun, Comment(rawValue: PipeWireSession.skipReason)))
struct PipeWireTests {
    @Test("PipeWire killed and restarted 3 times: the daemon reconnects each time and processes again")
    func survivesRestarts() throws {
        let pipewire = try PipeWireSession()
        let daemon = try CLI.Background(["run", "--report-interval", "0.5"], environment: pipewire.environment)
        #expect(daemon.waitUntil(timeout: .seconds(10)) { daemon.stderr.contains("JACK client 'sordino' on server") },
                "\(daemon.stderr)")
        #expect(daemon.waitUntil(timeout: .seconds(5)) { Self.processedSamples(daemon.stderr).last ?? 0 > 0 },
                "no cycles under PipeWire: \(daemon.stderr)")
        for round in 1...3 {
            pipewire.stop()
            #expect(daemon.waitUntil(timeout: .seconds(7)) { Self.count("lost (", in: daemon.stderr) == round },
                    "round \(round): loss not noticed: \(daemon.stderr.suffix(800))")
            try pipewire.start()
            #expect(daemon.waitUntil(timeout: .seconds(8)) { Self.count("reconnected to JACK server", in: daemon.stderr) == round },
                    "round \(round): \(daemon.stderr.suffix(800))")
            let before = Self.processedSamples(daemon.stderr).last ?? 0
            #expect(daemon.waitUntil(timeout: .seconds(4)) { (Self.processedSamples(daemon.stderr).last ?? 0) > before },
                    "round \(round): not processing after the restart")
        }
        #expect(daemon.isRunning)
        daemon.send(SIGTERM)
        #expect(daemon.waitForExit(timeout: .seconds(3)) == 0, "\(daemon.stderr.suffix(800))")
    }

    /// Found by hand: `pw-metadata -n settings 0 clock.force-rate 96000` moved the graph to a rate
    /// no shipped preset served then, and the 48 kHz engine went on filtering at the wrong rate
    /// (96 kHz has speech-96k since; 88.2 kHz has none).
    @Test("PipeWire moved to 88.2 kHz: the input passes through unprocessed, status says why; back at 44.1 kHz it processes again")
    func followsARateChangeItCannotServe() throws {
        let pipewire = try PipeWireSession()
        try pipewire.setSetting("clock.allowed-rates", "[ 44100 48000 88200 ]")
        let socket = pipewire.runtimeDirectory.appendingPathComponent("ctl.sock").path
        let daemon = try CLI.Background(["run", "--control", socket], environment: pipewire.environment)
        #expect(daemon.waitUntil(timeout: .seconds(10)) { daemon.stderr.contains("JACK client 'sordino' on server") },
                "\(daemon.stderr)")
        func status() -> JSONValue? {
            guard let r = try? CLI.run(["ctl", "status", "--json", "--control", socket]), r.status == 0 else { return nil }
            return try? JSONDecoder().decode(JSONValue.self, from: Data(r.stdout.utf8))
        }
        try pipewire.setSetting("clock.force-rate", "88200")
        #expect(daemon.waitUntil(timeout: .seconds(5)) { daemon.stderr.contains("no engine for 88200 Hz, so the input passes through unprocessed") },
                "\(daemon.stderr.suffix(800))")
        let passing = status()
        #expect(passing?["sample_rate"]?.intValue == 88_200)
        #expect(passing?["pass_through"]?.stringValue?.contains("has no preset for 88200 Hz") == true, "\(String(describing: passing))")
        let human = try CLI.run(["ctl", "status", "--control", socket])
        #expect(human.stdout.contains("running, passing the input through unprocessed"), "\(human.stdout)")
        let learn = try CLI.run(["ctl", "learn-noise", "2", "--control", socket], timeout: 30)
        #expect(learn.status != 0 && learn.stderr.contains("learn-noise needs an engine at the server's rate"), "\(learn.stderr)")
        let reload = try CLI.run(["ctl", "reload", "--control", socket], timeout: 30)
        #expect(reload.status == 65 && reload.stderr.contains("reload refused, the input keeps passing through unprocessed"),
                "\(reload.stderr)")
        try pipewire.setSetting("clock.force-rate", "44100")
        #expect(daemon.waitUntil(timeout: .seconds(5)) { daemon.stderr.contains("processing again at 44100 Hz") },
                "\(daemon.stderr.suffix(800))")
        let served = status()
        #expect(served?["pass_through"] == .null && served?["preset"]?.stringValue?.hasPrefix("speech-44k1") == true,
                "\(String(describing: served))")
        #expect(daemon.isRunning)
        daemon.send(SIGTERM)
        #expect(daemon.waitForExit(timeout: .seconds(3)) == 0, "\(daemon.stderr.suffix(800))")
    }

    static func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    /// The "N samples processed" figures of the status lines, in order.
    static func processedSamples(_ log: String) -> [Int] {
        log.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: " samples processed") else { return nil }
            return Int(line[..<range.lowerBound].split(separator: " ").last ?? "")
        }
    }
}
