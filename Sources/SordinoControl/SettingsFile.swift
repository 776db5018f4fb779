// SPDX-License-Identifier: GPL-3.0-or-later
// `save-settings`: the live values kept in a small state file (atomic write) and applied again at the next start.

import Foundation
import Glibc
import SordinoDSP
import SordinoIO
import SystemReason

/// The state file of one daemon: `$XDG_STATE_HOME/sordino/NAME.json` (default
/// `~/.local/state/sordino/NAME.json`), holding the values set live, e.g.
/// `{"v":1,"live":{"floor-db":-18,"bypass":false}}`.
public struct SettingsFile: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// The default path for a daemon named `name`.
    public static func defaultPath(name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let state = environment["XDG_STATE_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? "\(environment["HOME"] ?? NSHomeDirectory())/.local/state"
        return "\(state)/sordino/\(name).json"
    }

    /// Writes the live values of `controls` (a temporary file in the same folder, fsync, rename:
    /// a crash leaves the old file or the new one, never half of one).
    public func save(_ controls: ControlBlock) throws(ControlFailure) {
        var live: [String: JSONValue] = [:]
        for parameter in LiveParameter.allCases where parameter.source(in: controls) == "live" {
            live[parameter.rawValue] = parameter.value(in: controls, engine: nil)
        }
        let text = JSONValue.object(["v": .number(ControlProtocol.version), "live": .object(live)]).text + "\n"
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw ControlFailure(.ioError, "cannot create \(directory): \(systemReason(error)). Check its permissions.")
        }
        var failed: AtomicFileError?
        Array(text.utf8).withUnsafeBytes { body in
            do throws(AtomicFileError) { try AtomicFile.write([body], to: path, permissions: 0o600) } catch { failed = error }
        }
        if let failed {
            throw ControlFailure(.ioError, "\(failed.reason). Check the folder's permissions and free space.")
        }
    }

    /// Applies the file's values to `controls` as live values. Returns the names applied; nil when
    /// there is no file. Throws when the file is unreadable or a value is invalid (nothing applied).
    public func restore(into controls: ControlBlock) throws(ControlFailure) -> [String]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path), let document = JSONValue.parse(data),
              document["v"]?.intValue == ControlProtocol.version, let live = document["live"]?.objectValue else {
            throw ControlFailure(.ioError, "\(path) is not a Sordino settings file (version \(ControlProtocol.version)). Delete it, or save again with `sordino ctl save-settings`.")
        }
        var parsed: [(LiveParameter, JSONValue)] = []
        for (name, value) in live.sorted(by: { $0.key < $1.key }) {
            guard let parameter = LiveParameter(rawValue: name) else {
                throw ControlFailure(.badRequest, "\(path): unknown setting \"\(name)\" (known: \(LiveParameter.names)). Delete the line or the file.")
            }
            parsed.append((parameter, value))
        }
        // Check every value on a scratch block first, so that a bad file changes nothing.
        let scratch = ControlBlock(controls.values)
        for (parameter, value) in parsed {
            if let failure = parameter.set(value, in: scratch) {
                throw ControlFailure(failure.code, "\(path): \(failure.message)")
            }
        }
        for (parameter, value) in parsed { _ = parameter.set(value, in: controls) }
        return parsed.map { $0.0.rawValue }
    }

}
