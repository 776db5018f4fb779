// SPDX-License-Identifier: GPL-3.0-or-later
// The control socket's file-system and peer-credential guards, checked directly.

import Foundation
import Glibc
import SordinoDSP
@testable import SordinoControl
import Testing

/// A target with a real control block and a fixed status; reload and save-settings answer at once.
final class FixedTarget: ControlTarget {
    let controls = ControlBlock(ControlValues(floorDecibels: -12, wet: 1, maskExponent: 2, iterations: 4))
    func status() -> DaemonStatus? { nil }
    func reload(preset: String?, reply: @escaping @Sendable (Result<String, ControlFailure>) -> Void) {
        reply(.failure(ControlFailure(.reloadFailed, "no daemon")))
    }
    func saveSettings() throws(ControlFailure) -> String { throw ControlFailure(.ioError, "no daemon") }
    func noise(_ request: NoiseRequest, progress: @escaping @Sendable (JSONValue) -> Void,
               reply: @escaping @Sendable (Result<JSONValue, ControlFailure>) -> Void) {
        reply(.failure(ControlFailure(.notReady, "no daemon")))
    }
}

func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "sordino-control-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    return path
}

@Suite("control socket security")
struct SocketSecurityTests {
    @Test("the private directory is made 0700 and the socket 0600")
    func modes() throws {
        let base = try temporaryDirectory(); defer { try? FileManager.default.removeItem(atPath: base) }
        let path = "\(base)/sordino/test.sock"
        let server = try ControlServer(path: path, privateDirectory: true, target: FixedTarget())
        server.start()
        defer { server.stop() }
        var info = stat()
        #expect(lstat("\(base)/sordino", &info) == 0 && info.st_mode & 0o777 == 0o700)
        #expect(lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFSOCK && info.st_mode & 0o777 == 0o600)
    }

    @Test("a symbolic link, a group-readable folder or a foreign owner in the socket's place is refused")
    func unsafeDirectories() throws {
        let base = try temporaryDirectory(); defer { try? FileManager.default.removeItem(atPath: base) }
        let elsewhere = "\(base)/elsewhere"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: false)
        chmod(elsewhere, 0o700)
        symlink(elsewhere, "\(base)/linked")
        #expect(throws: ControlSocketError.unsafeDirectory(path: "\(base)/linked", reason: "it is not a directory (a symbolic link or a file)")) {
            try ControlServer(path: "\(base)/linked/x.sock", privateDirectory: true, target: FixedTarget())
        }
        #expect(!FileManager.default.fileExists(atPath: "\(elsewhere)/x.sock"), "nothing was created through the link")
        let open = "\(base)/open"
        mkdir(open, 0o755)
        chmod(open, 0o755)
        #expect(throws: ControlSocketError.unsafeDirectory(path: open, reason: "its mode is 755, not 700")) {
            try ControlServer(path: "\(open)/x.sock", privateDirectory: true, target: FixedTarget())
        }
        if geteuid() == 0 {
            let foreign = "\(base)/foreign"
            mkdir(foreign, 0o700)
            chown(foreign, 65_534, 65_534)
            #expect(throws: ControlSocketError.unsafeDirectory(path: foreign, reason: "it belongs to uid 65534, not to this user (uid 0)")) {
                try ControlServer(path: "\(foreign)/x.sock", privateDirectory: true, target: FixedTarget())
            }
        }
    }

    /// Found by hand: `--control /nonexistent/dir/x.sock` said "bind /nonexistent/dir/.x.sock.21314:
    /// No such file or directory", naming the staging file instead of the path given.
    @Test("--control in a folder that does not exist names the folder and the path given")
    func missingFolder() throws {
        let base = try temporaryDirectory(); defer { try? FileManager.default.removeItem(atPath: base) }
        let path = "\(base)/absent/x.sock"
        #expect(throws: ControlSocketError.missingFolder(path: path)) {
            try ControlServer(path: path, privateDirectory: false, target: FixedTarget())
        }
        #expect(ControlSocketError.missingFolder(path: path).description
            == "control socket \(path): the folder \(base)/absent does not exist. Create it, or pass another --control PATH.")
    }

    @Test("a regular file in the socket's place is kept; a live socket is not taken over; a stale one is replaced")
    func existingFiles() throws {
        let base = try temporaryDirectory(); defer { try? FileManager.default.removeItem(atPath: base) }
        let file = "\(base)/file.sock"
        FileManager.default.createFile(atPath: file, contents: Data("keep".utf8))
        #expect(throws: ControlSocketError.notASocket(path: file)) {
            try ControlServer(path: file, privateDirectory: false, target: FixedTarget())
        }
        #expect(FileManager.default.contents(atPath: file) == Data("keep".utf8))
        let path = "\(base)/live.sock"
        let first = try ControlServer(path: path, privateDirectory: false, target: FixedTarget())
        first.start()
        #expect(throws: ControlSocketError.inUse(path: path)) {
            try ControlServer(path: path, privateDirectory: false, target: FixedTarget())
        }
        first.stop()
        #expect(!FileManager.default.fileExists(atPath: path), "stop() removes the socket file")
        let neverStarted = try ControlServer(path: path, privateDirectory: false, target: FixedTarget())
        neverStarted.stop()
        #expect(!FileManager.default.fileExists(atPath: path), "also when it never served")
        // A stale socket (bound, never served: its process died) is replaced.
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = ControlListener.address(path)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(stale, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        close(stale)
        let second = try ControlServer(path: path, privateDirectory: false, target: FixedTarget())
        second.start()
        defer { second.stop() }
        let client = try ControlClient(path: path)
        #expect(try client.request(.get, ["name": .string("floor-db")])["value"] == .number(-12))
    }

    @Test("SO_PEERCRED: the peer's uid is read, and a peer of another uid is refused")
    func peerCredentials() throws {
        var pair: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        defer { close(pair[0]); close(pair[1]) }
        #expect(PeerCredentials.uid(of: pair[0]) == geteuid())
        #expect(PeerCredentials.isAllowed(pair[0]))
        #expect(!PeerCredentials.isAllowed(pair[0], allowed: geteuid() &+ 1))
        #expect(PeerCredentials.uid(of: -1) == nil)

        // Through the server: a daemon that answers only uid+1 refuses this process.
        let base = try temporaryDirectory(); defer { try? FileManager.default.removeItem(atPath: base) }
        let path = "\(base)/peer.sock"
        let server = try ControlServer(path: path, privateDirectory: false, target: FixedTarget(), allowedUID: geteuid() &+ 1)
        server.start()
        defer { server.stop() }
        let client = try ControlClient(path: path)
        let reply = try client.readMessage()
        #expect(reply["error"]?["code"] == .string("forbidden"))
        #expect(throws: ControlFailure.self) { _ = try client.readLine() }
        #expect(server.refusedPeers.load(ordering: .relaxed) == 1)
        #expect(server.requestsAnswered.load(ordering: .relaxed) == 0, "nothing from a refused peer is read")
    }

    @Test("as root: a process running as another user (nobody) is refused by the real check",
          .enabled(if: geteuid() == 0, "only root can start a peer as another user; the check itself is tested above"))
    func otherUserProcess() throws {
        let base = try temporaryDirectory(); defer { try? FileManager.default.removeItem(atPath: base) }
        chmod(base, 0o755)
        let path = "\(base)/root.sock"
        let server = try ControlServer(path: path, privateDirectory: false, target: FixedTarget())
        server.start()
        defer { server.stop() }
        chmod(path, 0o666)   // let the file system through, so that only SO_PEERCRED stands in the way
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        probe.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c",
                           "import socket; s = socket.socket(socket.AF_UNIX); s.connect('\(path)'); "
                               + "print(s.makefile().readline().strip())"]   // the refusal comes unasked
        let out = Pipe(), err = Pipe()
        probe.standardOutput = out
        probe.standardError = err
        try probe.run()
        let line = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problem = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        probe.waitUntilExit()
        #expect(probe.terminationStatus == 0, "\(problem)")
        #expect(line.contains("\"code\":\"forbidden\""), "reply to uid 65534: \(line)")
        #expect(server.refusedPeers.load(ordering: .relaxed) == 1)
    }
}
