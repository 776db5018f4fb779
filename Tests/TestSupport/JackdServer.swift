// SPDX-License-Identifier: GPL-3.0-or-later
// A private jackd (dummy driver, no real-time) per test, started and stopped as a subprocess (JACK and CLI tests).

import Foundation
import Synchronization

/// `jackd --no-realtime -S -n sordino-test-<pid>-<n> -d dummy -r RATE -p PERIOD` (or `-R` for a
/// test that measures timing), ready when `jack_lsp -s NAME` answers. Without `jackd` the suites are skipped, unless
/// `SORDINO_REQUIRE_JACKD=1`, in which case starting one fails the test.
public final class JackdServer {
    public enum Failure: Error, CustomStringConvertible {
        case jackdMissing
        case notReady(name: String, log: String)
        public var description: String {
            switch self {
            case .jackdMissing: "jackd not found but SORDINO_REQUIRE_JACKD=1: apt-get install jackd2"
            case let .notReady(name, log) where log.contains("Too many servers already active"):
                "jackd '\(name)' did not start: jack's shared-memory registry is full (8 servers), with entries of "
                    + "servers that were killed and never restarted under their names. With no jackd running, "
                    + "remove them: rm -f /dev/shm/jack*"
            case let .notReady(name, log): "jackd '\(name)' did not answer within 10 s. Its log:\n\(log)"
            }
        }
    }

    public static let jackdPath = executable("jackd")
    public static let jackLspPath = executable("jack_lsp")
    /// util-linux's `setpriv`, to give jackd a parent-death signal.
    static let setprivPath = executable("setpriv")
    public static let required = ProcessInfo.processInfo.environment["SORDINO_REQUIRE_JACKD"] == "1"
    /// Run the JACK suites: jackd is installed, or it is required (and its absence fails them).
    public static let shouldRun = (jackdPath != nil && jackLspPath != nil) || required
    public static let skipReason = "jackd not found: apt-get install jackd2 (SORDINO_REQUIRE_JACKD=1 makes this a failure)"

    private static let counter = Atomic<Int>(0)

    public let name: String
    public private(set) var sampleRate: Int
    public let period: Int
    /// Asked for real-time scheduling (`-R`): jackd and its clients' process threads run SCHED_FIFO
    /// where the system allows it (see `isRealtime`).
    public let realtimeRequested: Bool
    public private(set) var process: Process?
    private let logURL: URL

    private init(sampleRate: Int, period: Int, realtime: Bool) {
        let n = Self.counter.wrappingAdd(1, ordering: .relaxed).newValue
        name = "sordino-test-\(getpid())-\(n)"
        self.sampleRate = sampleRate
        self.period = period
        realtimeRequested = realtime
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("\(name).log")
    }

    /// Starts a server and waits until it answers. `realtime`: ask for SCHED_FIFO (priority 10), so
    /// the graph's timing does not depend on the rest of the suite's load where the system grants it.
    public static func start(sampleRate: Int = 48_000, period: Int = 256, realtime: Bool = false) throws -> JackdServer {
        let server = JackdServer(sampleRate: sampleRate, period: period, realtime: realtime)
        try server.launch()
        return server
    }

    /// (Re)starts jackd under the same name, at `rate` Hz if given, and waits until it answers.
    public func launch(sampleRate rate: Int? = nil) throws {
        if let rate { sampleRate = rate }
        guard let jackd = Self.jackdPath else { throw Failure.jackdMissing }
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        let p = Process()
        // -S (synchronous): the server waits for the graph before starting the next cycle. The
        // test build runs the engine unoptimised (~2 ms of a 5.3 ms period), and on a loaded
        // machine a late cycle in the default asynchronous mode lets the next cycle's upstream
        // client overwrite buffers the late client is still reading; sync mode keeps every
        // sample, so the comparisons below can demand exact equality.
        let arguments = (realtimeRequested ? ["-R", "-P", "10"] : ["--no-realtime"]) + ["-S", "-n", name, "-d", "dummy", "-r", "\(sampleRate)", "-p", "\(period)"]
        // Tied to this process: if the test process dies (a sanitizer abort, a timeout's SIGKILL),
        // jackd gets SIGTERM and leaves jack's shared-memory registry clean instead of living on
        // as an orphan that holds one of its 8 slots. (setpriv execs jackd: same pid.)
        if let setpriv = Self.setprivPath {
            p.executableURL = URL(fileURLWithPath: setpriv)
            p.arguments = ["--pdeathsig", "TERM", jackd] + arguments
        } else {
            p.executableURL = URL(fileURLWithPath: jackd)
            p.arguments = arguments
        }
        var environment = ProcessInfo.processInfo.environment
        environment["JACK_NO_AUDIO_RESERVATION"] = "1"
        p.environment = environment
        p.standardOutput = log
        p.standardError = log
        p.standardInput = FileHandle.nullDevice
        try p.run()
        process = p
        try waitUntilReady()
    }

    /// The server runs with real-time scheduling: asked for, and jackd did not log that the system
    /// refused it ("Cannot use real-time scheduling", e.g. without CAP_SYS_NICE or an rtprio limit).
    public var isRealtime: Bool {
        guard realtimeRequested, let log = try? String(contentsOf: logURL, encoding: .utf8) else { return false }
        return !log.contains("Cannot use real-time scheduling")
    }

    /// True when `jack_lsp -s NAME` exits successfully.
    public func answers() -> Bool {
        guard let lsp = Self.jackLspPath else { return false }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: lsp)
        p.arguments = ["-s", name]
        var environment = ProcessInfo.processInfo.environment
        environment["JACK_NO_START_SERVER"] = "1"
        p.environment = environment
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return false }
        Self.killAfter(p, seconds: 10)
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    /// `jack_lsp` waits for the server's answer as long as the server is stopped (SIGSTOP): kill it
    /// after `seconds`, so a frozen server fails the test instead of hanging the suite.
    static func killAfter(_ p: Process, seconds: Double) {
        let pid = p.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [p] in
            if p.isRunning { Foundation.kill(pid, SIGKILL) }
        }
    }

    /// Full names of the server's ports (`jack_lsp -s NAME`); empty if it does not answer.
    public func ports() -> [String] {
        guard let lsp = Self.jackLspPath else { return [] }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: lsp)
        p.arguments = ["-s", name]
        var environment = ProcessInfo.processInfo.environment
        environment["JACK_NO_START_SERVER"] = "1"
        p.environment = environment
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return [] }
        Self.killAfter(p, seconds: 10)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    public func waitUntilReady(timeout: Duration = .seconds(10)) throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if answers() { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw Failure.notReady(name: name, log: (try? String(contentsOf: logURL, encoding: .utf8)) ?? "")
    }

    /// Sends `signal` (SIGSTOP, SIGCONT…) to jackd.
    public func send(_ signal: Int32) {
        guard let p = process else { return }
        Foundation.kill(p.processIdentifier, signal)
    }

    /// SIGKILL, as a crash would: no goodbye to the clients. Start it again (`launch`) before the
    /// test ends: a killed server keeps its slot in jack's shared-memory registry (8 in all) until
    /// a server of the same name starts.
    public func kill() {
        guard let p = process else { return }
        Foundation.kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        process = nil
    }

    /// SIGTERM, then SIGKILL after 3 s.
    public func stop() {
        guard let p = process else { return }
        if p.isRunning {
            p.terminate()
            let deadline = Date().addingTimeInterval(3)
            while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            if p.isRunning { Foundation.kill(p.processIdentifier, SIGKILL) }
        }
        p.waitUntilExit()
        process = nil
        try? FileManager.default.removeItem(at: logURL)
    }

    deinit { stop() }

    public static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// libjack (jack2) keeps per-process globals: JACK clients opened in one process on two servers at
/// once break each other (a test recorded nothing, another crashed in libjack). Every suite that
/// opens JACK clients in the test process (a host, a loopback rig) runs inside this gate, one at a
/// time; the ones that only start `sordino` subprocesses need not.
public actor InProcessJackGate {
    public static let shared = InProcessJackGate()
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public func acquire() async {
        if busy {
            await withCheckedContinuation { waiting.append($0) }
        } else {
            busy = true
        }
    }

    public func release() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }
}
