// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino service` units (checked by systemd-analyze) and the daemon's Type=notify messages on a real datagram socket.

import Foundation
import Glibc
import Testing
import TestSupport

/// `systemd-analyze`, or nil. `SORDINO_REQUIRE_SYSTEMD=1` (set by `make test`) makes its absence a failure.
enum SystemdAnalyze {
    static let path = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let required = ProcessInfo.processInfo.environment["SORDINO_REQUIRE_SYSTEMD"] == "1"
    static var shouldRun: Bool { path != nil || required }

    /// Runs `systemd-analyze [--user] verify UNIT`; returns the exit status and what it printed on stderr.
    static func verify(_ unit: String, user: Bool, runtime: String) throws -> (Int32, String) {
        guard let path else { throw CocoaError(.fileNoSuchFile) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = (user ? ["--user"] : []) + ["verify", unit]
        p.environment = ProcessInfo.processInfo.environment.merging(["XDG_RUNTIME_DIR": runtime]) { $1 }
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }
}

/// A Unix datagram socket standing in for systemd's NOTIFY_SOCKET.
final class NotifyListener {
    let path: String
    private let fd: Int32

    init(path: String) {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        var limit = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd); unlink(path) }

    /// The next message, or nil after 10 s.
    func next() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
    }
}

@Suite("service units and readiness", .serialized, .enabled(if: CLI.shouldRun, CLI.skipReason))
struct ServiceTests {
    @Test("service install writes units systemd-analyze verify accepts (user and system); uninstall removes only its own",
          .enabled(if: SystemdAnalyze.shouldRun, "systemd-analyze not found: apt-get install systemd (SORDINO_REQUIRE_SYSTEMD=1 makes this a failure)"))
    func units() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let runtime = dir.appendingPathComponent("runtime").path
        try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        let units = dir.appendingPathComponent("units").path
        let user = try CLI.run(["service", "install", "--user", "--unit-dir", units, "--config", "/etc/sordino/my room.toml"])
        #expect(user.status == 0, "\(user.stderr)")
        let unitPath = "\(units)/sordino.service"
        let text = try String(contentsOfFile: unitPath, encoding: .utf8)
        let binary = try #require(CLI.binary).resolvingSymlinksInPath().path
        #expect(text.contains("ExecStart=\(binary) run --wait-for-server --name sordino --config \"/etc/sordino/my room.toml\"\n"), "\(text)")
        for line in ["Type=notify", "Restart=on-failure", "WantedBy=default.target", "After=jack.service"] {
            #expect(text.contains(line), "\(line) missing")
        }
        #expect(!text.contains("ExecStartPre") && !text.contains("/bin/sleep"), "no start-up delay: the daemon waits for the server itself")
        let (status, complaints) = try SystemdAnalyze.verify(unitPath, user: true, runtime: runtime)
        #expect(status == 0 && complaints.isEmpty, "systemd-analyze --user verify: \(complaints)")

        let system = try CLI.run(["service", "install", "--unit-dir", units, "--name", "room-2", "--run-as", "daemon"])
        #expect(system.status == 0, "\(system.stderr)")
        let (systemStatus, systemComplaints) = try SystemdAnalyze.verify("\(units)/room-2.service", user: false, runtime: runtime)
        #expect(systemStatus == 0 && systemComplaints.isEmpty, "systemd-analyze verify: \(systemComplaints)")
        #expect(try String(contentsOfFile: "\(units)/room-2.service", encoding: .utf8).contains("--control /run/room-2/room-2.sock"))

        #expect(try CLI.run(["service", "uninstall", "--user", "--unit-dir", units]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: unitPath))
        try "[Service]\nExecStart=/bin/true\n".write(toFile: unitPath, atomically: true, encoding: .utf8)
        let foreign = try CLI.run(["service", "uninstall", "--user", "--unit-dir", units])
        #expect(foreign.status == 65 && FileManager.default.fileExists(atPath: unitPath), "\(foreign.stderr)")
        #expect(try CLI.run(["service", "uninstall", "--unit-dir", units, "--name", "absent"]).status == 66)
        // Found by hand: a 70-byte name made a unit whose `sordino run --name` refuses it at every start.
        let long = try CLI.run(["service", "install", "--unit-dir", units, "--name", String(repeating: "z", count: 64), "--print"])
        #expect(long.status == 64 && long.stderr.contains("--name is 64 bytes; JACK client names hold at most 63."), "\(long.stderr)")
    }

    @Test("Type=notify: READY=1 while waiting for the server, STATUS= once connected, STOPPING=1 at SIGTERM",
          .enabled(if: JackdServer.shouldRun, Comment(rawValue: JackdServer.skipReason)))
    func readiness() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let listener = NotifyListener(path: dir.appendingPathComponent("notify").path)
        let server = try JackdServer.start(sampleRate: 16_000, period: 256)
        defer { server.stop() }
        server.stop()   // the name is known; the daemon starts before its server
        let daemon = try CLI.Background(["run", "--server", server.name, "--wait-for-server", "--no-control"] + ControlledDaemon.engineArguments,
                                        environment: ["NOTIFY_SOCKET": listener.path])
        let waiting = listener.next()
        #expect(waiting == "READY=1\nSTATUS=waiting for JACK server '\(server.name)'", "\(waiting ?? "nothing"); \(daemon.stderr)")
        try server.launch()
        let running = listener.next()
        #expect(running == "READY=1\nSTATUS=running on JACK server '\(server.name)' as 'sordino'", "\(running ?? "nothing"); \(daemon.stderr)")
        let status = listener.next()
        #expect(status?.hasPrefix("STATUS=running on JACK server '\(server.name)' as 'sordino', 16000 Hz, speech-16k") == true, "\(status ?? "nothing")")
        daemon.send(SIGTERM)
        #expect(listener.next() == "STOPPING=1")
        #expect(daemon.waitForExit(timeout: .seconds(3)) == 0, "\(daemon.stderr)")
    }
}
