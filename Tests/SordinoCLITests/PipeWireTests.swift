// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino run` on PipeWire's JACK: it keeps processing across PipeWire restarts.

import Foundation
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

    static func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    /// The "N samples processed" figures of the status lines, in order.
    static func processedSamples(_ log: String) -> [Int] {
        log.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: " samples processed") else { return nil }
            return Int(line[..<range.lowerBound].split(separator: " ").last ?? "")
        }
    }
}
