// SPDX-License-Identifier: GPL-3.0-or-later
// The control socket's file: where it lives, a private directory made without following links, bind, peer credentials.

import Foundation
import Glibc

/// Why the control socket could not be set up, with what to do.
public enum ControlSocketError: Error, CustomStringConvertible, Equatable {
    case unsafeDirectory(path: String, reason: String)
    case pathTooLong(path: String)
    case inUse(path: String)
    case notASocket(path: String)
    case system(call: String, path: String, errno: Int32)
    /// `--control PATH` in a folder that does not exist (Sordino makes only its default folder).
    case missingFolder(path: String)

    public var description: String {
        switch self {
        case let .unsafeDirectory(path, reason):
            "control socket directory \(path) is unsafe: \(reason). Remove it (Sordino recreates it with mode 0700), or pass --control PATH."
        case let .pathTooLong(path):
            "control socket path \(path) is longer than a Unix socket address allows (107 bytes). Pass a shorter --control PATH."
        case let .inUse(path):
            "another daemon already listens on \(path). Give this one another --name, or another --control PATH."
        case let .notASocket(path):
            "\(path) exists and is not a socket; Sordino will not replace it. Remove it or pass another --control PATH."
        case let .missingFolder(path):
            "control socket \(path): the folder \((path as NSString).deletingLastPathComponent) does not exist. Create it, or pass "
                + "another --control PATH."
        case let .system(call, path, code):
            "\(call) \(path): \(String(cString: strerror(code))). Check the directory's permissions, or pass --control PATH."
        }
    }
}

/// Where a daemon's control socket lives.
public enum ControlSocketPath {
    /// `$XDG_RUNTIME_DIR/sordino/NAME.sock`; without `XDG_RUNTIME_DIR` (a system service, a root
    /// shell), `/tmp/sordino-UID/NAME.sock`. The directory is made private by `ControlListener`.
    public static func defaultPath(name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") {
            return "\(runtime)/sordino/\(name).sock"
        }
        return "/tmp/sordino-\(geteuid())/\(name).sock"
    }

    /// Refuses a path where another daemon already answers, so a second daemon of one name stops
    /// before it opens its JACK client (binding checks again: two may start at once).
    public static func checkNotInUse(_ path: String) throws(ControlSocketError) {
        if ControlListener.answers(path) { throw .inUse(path: path) }
    }

    /// Makes `directory` if missing (mode 0700), or checks an existing one without following a
    /// symbolic link: a real directory, owned by this user, with no access for group or others.
    public static func makePrivateDirectory(_ directory: String) throws(ControlSocketError) {
        if mkdir(directory, 0o700) != 0, errno != EEXIST {
            throw .system(call: "mkdir", path: directory, errno: errno)
        }
        var info = stat()
        guard lstat(directory, &info) == 0 else { throw .system(call: "lstat", path: directory, errno: errno) }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw .unsafeDirectory(path: directory, reason: "it is not a directory (a symbolic link or a file)")
        }
        guard info.st_uid == geteuid() else {
            throw .unsafeDirectory(path: directory, reason: "it belongs to uid \(info.st_uid), not to this user (uid \(geteuid()))")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw .unsafeDirectory(path: directory, reason: "its mode is \(String(info.st_mode & 0o777, radix: 8)), not 700")
        }
    }
}

/// A listening Unix stream socket at a path, mode 0600; removed on `close()`.
struct ControlListener {
    let path: String
    let descriptor: Int32

    /// Binds `path`. A stale socket (nobody listening) is replaced; a live one or any other file is
    /// refused. `makeDirectory`: create and check the parent as a private directory (the default path).
    /// The socket is bound and listening under a temporary name beside `path` first, then linked to
    /// `path`: a client that sees the file can connect (bound but not yet listening, a connect is
    /// refused, which a client polling for the file met in `make test`).
    init(path: String, makeDirectory: Bool) throws(ControlSocketError) {
        if makeDirectory { try ControlSocketPath.makePrivateDirectory((path as NSString).deletingLastPathComponent) }
        guard path.utf8.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path) else { throw .pathTooLong(path: path) }
        var info = stat()
        if lstat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFSOCK else { throw .notASocket(path: path) }
            if Self.answers(path) { throw .inUse(path: path) }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw .system(call: "socket", path: path, errno: errno) }
        let folder = (path as NSString).deletingLastPathComponent
        let staging = "\(folder.isEmpty ? "." : folder)/.\((path as NSString).lastPathComponent).\(getpid())"
        let fits = staging.utf8.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path)
        let bindPath = fits ? staging : path   // a path too long to stage is bound where it is
        if fits { unlink(staging) }
        var address = Self.address(bindPath)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            let code = errno
            Glibc.close(fd)
            // Found by hand: "bind /nonexistent/dir/.x.sock.21314: No such file or directory" named
            // the staging file, not the path the user gave.
            if code == ENOENT { throw .missingFolder(path: path) }
            throw .system(call: "bind", path: path, errno: code)
        }
        // The socket inode gets its mode from the umask at bind; narrow it at once. Inside the
        // private directory nobody else can reach it meanwhile, and SO_PEERCRED guards any path.
        guard chmod(bindPath, 0o600) == 0, listen(fd, 16) == 0 else {
            let code = errno
            Glibc.close(fd)
            unlink(bindPath)
            throw .system(call: "chmod/listen", path: bindPath, errno: code)
        }
        if fits {
            // link(2) fails if `path` appeared meanwhile: another daemon's socket is never replaced.
            let linked = link(staging, path) == 0 ? 0 : errno
            unlink(staging)
            guard linked == 0 else {
                Glibc.close(fd)
                if linked == EEXIST { throw .inUse(path: path) }
                throw .system(call: "link", path: path, errno: linked)
            }
        }
        self.path = path
        descriptor = fd
    }

    func close() {
        Glibc.close(descriptor)
        unlink(path)
    }

    static func address(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
        }
        return address
    }

    /// Whether something accepts connections at `path`.
    static func answers(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        var address = address(path)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        } == 0
    }
}

/// The peer-credential check every accepted connection passes before it is read.
public enum PeerCredentials {
    /// `struct ucred` of <sys/socket.h>, which Glibc's module hides behind _GNU_SOURCE: three
    /// 32-bit fields, so Swift lays this out exactly as C does (12 bytes, checked below).
    private struct Credentials {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    /// The uid of the process at the other end of a connected Unix socket (SO_PEERCRED), or nil.
    public static func uid(of descriptor: Int32) -> uid_t? {
        var credentials = Credentials()
        var length = socklen_t(MemoryLayout<Credentials>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0, length == 12 else { return nil }
        return credentials.uid
    }

    /// Only a peer running as `allowed` (the daemon's own effective uid) may talk to the daemon.
    public static func isAllowed(_ descriptor: Int32, allowed: uid_t = geteuid()) -> Bool {
        uid(of: descriptor) == allowed
    }
}
