// SPDX-License-Identifier: GPL-3.0-or-later
// A private headless PipeWire (with its JACK library) per test, in its own runtime directory, that can be restarted.

import Foundation

/// `dbus-run-session -- sh -c 'pipewire & wireplumber & wait'` with `XDG_RUNTIME_DIR` set to a
/// fresh directory, so nothing else on the machine is touched. JACK clients reach it through
/// PipeWire's libjack (`environment`: the runtime directory and `LD_LIBRARY_PATH`, as `pw-jack`
/// sets). Without PipeWire the suites are skipped, unless `SORDINO_REQUIRE_PIPEWIRE=1`.
public final class PipeWireSession {
    public enum Failure: Error, CustomStringConvertible {
        case missing(String)
        case notReady
        public var description: String {
            switch self {
            case let .missing(what):
                "\(what) not found but SORDINO_REQUIRE_PIPEWIRE=1: apt-get install pipewire pipewire-jack wireplumber dbus"
            case .notReady: "PipeWire did not start within 10 s"
            }
        }
    }

    public static let jackLibraryDirectory = "/usr/lib/\(multiarch)/pipewire-0.3/jack"
    public static let required = ProcessInfo.processInfo.environment["SORDINO_REQUIRE_PIPEWIRE"] == "1"
    static let installed = JackdServer.executable("pipewire") != nil && JackdServer.executable("dbus-run-session") != nil
        && FileManager.default.fileExists(atPath: jackLibraryDirectory + "/libjack.so.0")
    /// Run the PipeWire suites: PipeWire is installed, or it is required (and its absence fails them).
    public static let shouldRun = installed || required
    public static let skipReason = "PipeWire not installed: apt-get install pipewire pipewire-jack wireplumber dbus "
        + "(SORDINO_REQUIRE_PIPEWIRE=1 makes this a failure)"

    private static var multiarch: String {
        #if arch(arm64)
        "aarch64-linux-gnu"
        #else
        "x86_64-linux-gnu"
        #endif
    }

    public let runtimeDirectory: URL
    private var session: Process?

    public init() throws {
        guard Self.installed else { throw Failure.missing("pipewire, pipewire-jack or dbus-run-session") }
        runtimeDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("sordino-pw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: runtimeDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        try start()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: runtimeDirectory)
    }

    /// What a JACK client needs to reach this PipeWire.
    public var environment: [String: String] {
        ["XDG_RUNTIME_DIR": runtimeDirectory.path, "LD_LIBRARY_PATH": Self.jackLibraryDirectory, "PIPEWIRE_LOG_SYSTEMD": "false"]
    }

    /// Starts PipeWire (and WirePlumber when installed) and waits for its socket.
    public func start() throws {
        let manager = JackdServer.executable("wireplumber") != nil ? "wireplumber & echo $! >> \"$PIDS\"; " : ""
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["dbus-run-session", "--", "sh", "-c", "pipewire & echo $! > \"$PIDS\"; \(manager)wait"]
        var environment = ProcessInfo.processInfo.environment.merging(self.environment) { $1 }
        environment["LD_LIBRARY_PATH"] = nil
        environment["PIDS"] = pidFile.path
        p.environment = environment
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        session = p
        let socket = runtimeDirectory.appendingPathComponent("pipewire-0").path
        let deadline = ContinuousClock.now + .seconds(10)
        while !FileManager.default.fileExists(atPath: socket) {
            guard ContinuousClock.now < deadline else { throw Failure.notReady }
            Thread.sleep(forTimeInterval: 0.05)
        }
        Thread.sleep(forTimeInterval: 0.5)   // let the session manager set up the graph
    }

    /// Sets a key of PipeWire's "settings" metadata, as `pw-metadata -n settings 0 KEY VALUE` (e.g.
    /// `clock.force-rate`, which changes the graph's sample rate under every JACK client).
    public func setSetting(_ key: String, _ value: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["pw-metadata", "-n", "settings", "0", key, value]
        var environment = ProcessInfo.processInfo.environment.merging(self.environment) { $1 }
        environment["LD_LIBRARY_PATH"] = nil
        p.environment = environment
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw Failure.missing("a working pw-metadata (it exited \(p.terminationStatus))") }
    }

    /// Kills PipeWire, WirePlumber and their D-Bus session with SIGKILL, as a crash would.
    public func stop() {
        guard let p = session else { return }
        let pids = ((try? String(contentsOf: pidFile, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int32($0) }
        for pid in pids { kill(pid, SIGKILL) }
        // The shell and the D-Bus daemon (children of dbus-run-session), then the session itself.
        let children = Process()
        children.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        children.arguments = ["pkill", "-KILL", "-P", "\(p.processIdentifier)"]
        if (try? children.run()) != nil { children.waitUntilExit() }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        session = nil
        for leftover in ["pipewire-0", "pipewire-0.lock", "pipewire-0-manager", "pipewire-0-manager.lock"] {
            try? FileManager.default.removeItem(at: runtimeDirectory.appendingPathComponent(leftover))
        }
    }

    private var pidFile: URL { runtimeDirectory.appendingPathComponent("pids") }
}
