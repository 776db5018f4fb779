// SPDX-License-Identifier: GPL-3.0-or-later
// Writes a file whole or not at all: a temporary file beside it, every byte written, fsync, rename.

import Glibc

/// Why `AtomicFile.write` failed: the step, the file and the system's reason. The target is untouched.
public struct AtomicFileError: Error, CustomStringConvertible, Equatable {
    public let step: String
    public let path: String
    public let code: Int32

    /// What failed, without advice: "write /x/.a.npy.12.0.tmp: No space left on device".
    public var reason: String { "\(step) \(path): \(String(cString: strerror(code)))" }

    public var description: String {
        "cannot \(reason). Check that the folder exists, is writable and has space."
    }
}

/// Replaces a file as one step, so readers never see half of it and a failure leaves the old one.
public enum AtomicFile {
    /// One `write(2)` call: the file descriptor, the bytes and their count; returns what the system
    /// call returns. Tests pass one that writes less, as Linux does past 2 GiB (0x7ffff000 bytes at most).
    public typealias Writer = (Int32, UnsafeRawPointer, Int) -> Int

    /// Writes `parts` one after the other to `path` with `permissions`: into `.NAME.PID.N.tmp` in
    /// the same folder (created exclusively, never through a symbolic link), looping until every byte
    /// is written (a short write continues where it stopped; EINTR retries), then fsync, rename over
    /// `path`, and fsync of the folder. On any failure the temporary file is removed.
    public static func write(_ parts: [UnsafeRawBufferPointer], to path: String, permissions: mode_t = 0o644,
                             writer: Writer = { Glibc.write($0, $1, $2) }) throws(AtomicFileError) {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var temporary = "", fd: Int32 = -1
        for attempt in 0..<100 {
            temporary = "\(folder.isEmpty ? "" : folder)/.\(name).\(getpid()).\(attempt).tmp"
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, permissions)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { throw AtomicFileError(step: "create", path: temporary, code: errno) }
        func fail(_ step: String, _ code: Int32) -> AtomicFileError {
            close(fd)
            unlink(temporary)
            return AtomicFileError(step: step, path: step == "rename" ? path : temporary, code: code)
        }
        for part in parts {
            guard let base = part.baseAddress else { continue }
            var offset = 0
            while offset < part.count {
                let n = writer(fd, base + offset, part.count - offset)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { throw fail("write", n < 0 ? errno : EIO) }
                offset += n
            }
        }
        guard fsync(fd) == 0 else { throw fail("fsync", errno) }
        guard rename(temporary, path) == 0 else { throw fail("rename", errno) }
        close(fd)
        let directory = open(folder.isEmpty ? "/" : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
    }
}
