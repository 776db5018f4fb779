// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino run` under a burst of signals sent without pause: each is taken by the daemon, none ends it.

import Foundation
import Testing
import TestSupport

@Suite("signals in a burst against sordino run on a private jackd", .serialized,
       .enabled(if: CLI.shouldRun, CLI.skipReason),
       .enabled(if: JackdServer.shouldRun, Comment(rawValue: JackdServer.skipReason)))
struct SignalBurstTests {
    /// Threads of `pid` that do not block `signal` (from /proc/PID/task/TID/status, SigBlk).
    private func threadsTaking(_ signal: Int32, pid: Int32) -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.filter { tid in
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigBlk:") }),
                  let mask = UInt64(line.dropFirst("SigBlk:".count).trimmingCharacters(in: .whitespaces), radix: 16)
            else { return false }
            return mask & (1 << UInt64(signal - 1)) == 0
        }
    }

    /// The daemon's main thread waits for these signals in sigtimedwait. Threads a library starts
    /// before main (OpenBLAS's pool) do not block them; a signal the kernel hands to one of those
    /// while the main thread is busy with the previous one used to end the daemon (its default
    /// action: seen once in three `make faults` runs on SIGHUP). Without the forwarding handler
    /// this test ended the daemon in 3 of 3 runs (measured with the handler's installation
    /// commented out, 2026-11-30).
    @Test("run: 300 SIGUSR1, SIGUSR2 and SIGHUP sent without pause are all taken by the daemon; it keeps running and exits 0 on SIGTERM")
    func burstOfSignals() throws {
        let server = try JackdServer.start(sampleRate: 16_000, period: 256)
        defer { server.stop() }
        let folder = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let daemon = try CLI.Background(["run", "--server", server.name, "--no-control", "--iterations", "1"],
                                        environment: ["XDG_STATE_HOME": folder.path])
        #expect(daemon.waitUntil(timeout: .seconds(10)) { server.ports().contains("sordino:out_1") }, "\(daemon.stderr)")
        let pid = daemon.process.processIdentifier
        // What makes the burst a test: threads other than the main one that would take the signal.
        let others = threadsTaking(SIGHUP, pid: pid).filter { $0 != String(pid) }
        print("threads of the daemon not blocking SIGHUP, besides the main thread's wait: \(others.count)")
        for i in 0..<300 {
            daemon.send([SIGUSR1, SIGUSR2, SIGHUP][i % 3])
            if !daemon.isRunning { break }
        }
        Thread.sleep(forTimeInterval: 1)
        #expect(daemon.isRunning, "the daemon ended on a signal: status \(daemon.isRunning ? 0 : daemon.process.terminationStatus), \(daemon.stderr.suffix(2000))")
        #expect(daemon.waitUntil(timeout: .seconds(10)) { daemon.stderr.contains("engine reloaded from speech-16k") }, "\(daemon.stderr.suffix(2000))")
        #expect(daemon.stderr.contains("SIGUSR1 status: running: xruns "), "\(daemon.stderr.suffix(2000))")
        #expect(server.ports().contains("sordino:out_1"))
        daemon.send(SIGTERM)
        #expect(daemon.waitForExit(timeout: .seconds(5)) == 0, "\(daemon.stderr.suffix(2000))")
    }
}
