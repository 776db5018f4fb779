// SPDX-License-Identifier: GPL-3.0-or-later
// The few file-system operations presets need, with failures turned into PresetError.

import Foundation
import Glibc
import SystemReason

enum FileAccess {
    /// Largest preset JSON read, in bytes; real ones are about 1 KiB.
    static let maximumJSONBytes = 16 << 20
    /// Largest basis file read, in bytes (1 GiB); a 4097-bin, 512-atom basis is 8 MiB.
    static let maximumBasisBytes = 1 << 30

    static func isRegularFile(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && !directory.boolValue
    }

    static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    /// `directory/name`; `name` alone when `directory` is empty.
    static func join(_ directory: String, _ name: String) -> String {
        if directory.isEmpty { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// The directory part of `path`, "." when it has none.
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `path` with `.` and `..` removed and made absolute against the working directory.
    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// The bytes of a regular file of at most `limit` bytes.
    static func read(_ path: String, limit: Int) throws(PresetError) -> [UInt8] {
        // stat(2), not FileManager's attributes: those also look up the owner's and group's names
        // (the password and group databases) and the extended attributes, for every file.
        var status = stat()
        guard stat(path, &status) == 0 else { throw .unreadable(path: path, reason: "no such file") }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw .unreadable(path: path, reason: "not a regular file")
        }
        if Int(status.st_size) > limit {
            throw .unreadable(path: path, reason: "\(status.st_size) bytes, more than the \(limit) a preset file may have")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path: path, reason: "permission denied or I/O error")
        }
        guard data.count <= limit else {
            throw .unreadable(path: path, reason: "more than the \(limit) bytes a preset file may have")
        }
        return [UInt8](data)
    }

    /// Makes `directory` (and its parents) if missing, and checks that files can be made in it.
    static func makeWritableDirectory(_ directory: String) throws(PresetError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .writeFailed(path: directory, reason: "the folder cannot be made: \(systemReason(error))")
        }
        guard FileManager.default.isWritableFile(atPath: directory) else {
            throw .writeFailed(path: directory, reason: "the folder is not writable")
        }
    }

    /// Writes `bytes` to `path` through a temporary file and a rename, so readers never see half a file.
    static func write(_ bytes: [UInt8], to path: String) throws(PresetError) {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .writeFailed(path: path, reason: systemReason(error))
        }
    }
}
