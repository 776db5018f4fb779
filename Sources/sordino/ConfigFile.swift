// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino run --config FILE`: a TOML file of run options, turned into the arguments they stand for.

import Foundation
import TOMLKit

/// A configuration file for `sordino run`: one TOML key per option, spelled as the option without
/// its leading `--` (`floor-db = -18`, `connect-in = "system:capture_1"`, `link-channels = true`).
/// Its values become arguments placed before the command line's, so that an option given on the
/// command line wins (argument-parser keeps the last value). A flag set to true in the file cannot
/// be turned off on the command line; `false` in the file is the same as leaving the key out.
enum RunConfigFile {
    enum Kind {
        case text, integer, number, numberOrOff, flag
    }

    /// Every option of `sordino run` but `--config` itself, with the TOML type it takes.
    static let keys: [String: Kind] = [
        "server": .text, "name": .text, "channels": .integer, "connect-in": .text, "connect-out": .text,
        "no-reconnect": .flag, "wait-for-server": .flag, "report-interval": .number, "log-level": .text, "control": .text, "no-control": .flag,
        "preset": .text, "floor-db": .number, "wet": .number, "iterations": .integer, "activation-floor": .number,
        "noise-bound-db": .numberOrOff, "absent-floor-db": .numberOrOff, "adaptive-noise-atoms": .integer,
        "adaptive-noise-memory-ms": .number, "mask-exponent": .integer, "link-channels": .flag, "gain-refinement": .text,
    ]

    /// The arguments `path` stands for, in the file's key order (sorted; each key appears once).
    static func arguments(path: String) throws -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CommandError("cannot read the configuration file \(path). Check the path and its permissions.", exitCode: .noInput)
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw CommandError("\(path):\(error.source.begin.line):\(error.source.begin.column): \(error.description). "
                               + "Fix the TOML syntax (https://toml.io).", exitCode: .usage)
        }
        var arguments: [String] = []
        for key in table.keys.sorted() {
            guard let kind = keys[key], let value = table[key] else {
                throw CommandError("\(path): unknown key '\(key)'. The keys are `sordino run`'s options without '--': "
                                   + "\(keys.keys.sorted().joined(separator: ", ")).", exitCode: .usage)
            }
            arguments += try Self.arguments(key: key, kind: kind, value: value, path: path)
        }
        return arguments
    }

    private static func arguments(key: String, kind: Kind, value: TOMLValueConvertible, path: String) throws -> [String] {
        func wrongType(_ expected: String) -> CommandError {
            CommandError("\(path): '\(key)' must be \(expected) (got \(value.debugDescription)).", exitCode: .usage)
        }
        switch kind {
        case .text:
            guard let text = value.string else { throw wrongType("a string, e.g. \(key) = \"…\"") }
            return ["--\(key)=\(text)"]
        case .integer:
            guard let number = value.int else { throw wrongType("an integer") }
            return ["--\(key)=\(number)"]
        case .number:
            guard let number = value.double ?? value.int.map(Double.init) else { throw wrongType("a number") }
            return ["--\(key)=\(number)"]
        case .numberOrOff:
            if value.string == "off" { return ["--\(key)=off"] }
            guard let number = value.double ?? value.int.map(Double.init) else { throw wrongType("a number or \"off\"") }
            return ["--\(key)=\(number)"]
        case .flag:
            guard let on = value.bool else { throw wrongType("true or false") }
            return on ? ["--\(key)"] : []
        }
    }

    /// The arguments `run` was given on the command line, without `--config FILE` (so that the
    /// file is read once): the process's arguments after the program name and the optional `run`.
    static func commandLineArguments(_ all: [String] = CommandLine.arguments) -> [String] {
        var rest = Array(all.dropFirst())
        if rest.first == "run" { rest.removeFirst() }
        var kept: [String] = []
        var index = 0
        while index < rest.count {
            let word = rest[index]
            if word == "--" { kept += rest[index...]; break }
            if word == "--config" { index += 2; continue }
            if !word.hasPrefix("--config=") { kept.append(word) }
            index += 1
        }
        return kept
    }
}
