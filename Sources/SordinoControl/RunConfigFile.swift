// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino run --config FILE`: a TOML file of run options, turned into the arguments they stand for.

import Foundation
import TOMLKit

/// A configuration file for `sordino run`: one TOML key per option, spelled as the option without
/// its leading `--` (`floor-db = -18`, `connect-in = "system:capture_1"`, `link-channels = true`).
/// Its values become arguments placed before the command line's, so that an option given on the
/// command line wins (argument-parser keeps the last value). A flag set to true in the file cannot
/// be turned off on the command line; `false` in the file is the same as leaving the key out.
public enum RunConfigFile {
    /// Why a configuration file was refused; the description names the file (and line or key) and
    /// says what to do.
    public enum Failure: Error, CustomStringConvertible, Equatable {
        /// The file cannot be read (missing, a directory, no permission).
        case unreadable(path: String)
        /// The file is not UTF-8 text.
        case notText(path: String)
        /// The TOML does not parse.
        case syntax(path: String, line: Int, column: Int, reason: String)
        /// A key that is no option of `sordino run`.
        case unknownKey(path: String, key: String)
        /// A key whose value has the wrong TOML type.
        case wrongType(path: String, key: String, expected: String, got: String)

        public var description: String {
            switch self {
            case .unreadable(let path):
                "cannot read the configuration file \(path). Check the path and its permissions."
            case .notText(let path):
                "\(path) is not UTF-8 text. Save the configuration file as UTF-8 (TOML requires it)."
            case .syntax(let path, let line, let column, let reason):
                "\(path):\(line):\(column): \(reason). Fix the TOML syntax (https://toml.io)."
            case .unknownKey(let path, let key):
                "\(path): unknown key '\(key)'. The keys are `sordino run`'s options without '--': "
                    + "\(RunConfigFile.keys.keys.sorted().joined(separator: ", "))."
            case .wrongType(let path, let key, let expected, let got):
                "\(path): '\(key)' must be \(expected) (got \(got))."
            }
        }
    }

    /// The TOML type an option takes.
    public enum Kind: Sendable {
        case text, integer, number, numberOrOff, flag
    }

    /// Every option of `sordino run` but `--config` itself, with the TOML type it takes.
    public static let keys: [String: Kind] = [
        "server": .text, "name": .text, "channels": .integer, "connect-in": .text, "connect-out": .text,
        "no-reconnect": .flag, "wait-for-server": .flag, "report-interval": .number, "log-level": .text, "control": .text, "no-control": .flag,
        "preset": .text, "floor-db": .number, "wet": .number, "iterations": .integer, "activation-floor": .number,
        "noise-bound-db": .numberOrOff, "absent-floor-db": .numberOrOff, "adaptive-noise-atoms": .integer,
        "adaptive-noise-memory-ms": .number, "mask-exponent": .integer, "link-channels": .flag, "gain-refinement": .text,
        "hop-work": .text, "http": .integer, "http-bind": .text, "http-token": .text, "http-origin": .text,
    ]

    /// The arguments the file at `path` stands for, in key order (sorted; each key appears once).
    public static func arguments(path: String) throws(Failure) -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path: path) }
        guard let text = String(data: data, encoding: .utf8) else { throw .notText(path: path) }
        return try arguments(text: text, path: path)
    }

    /// The arguments the TOML `text` stands for; `path` names it in errors.
    public static func arguments(text: String, path: String) throws(Failure) -> [String] {
        try checkLines(text, path: path)
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw .syntax(path: path, line: error.source.begin.line, column: error.source.begin.column, reason: error.description)
        } catch {
            throw .syntax(path: path, line: 1, column: 1, reason: "\(error)")
        }
        var arguments: [String] = []
        for key in table.keys.sorted() {
            guard let kind = keys[key], let value = table[key] else { throw .unknownKey(path: path, key: key) }
            arguments += try Self.arguments(key: key, kind: kind, value: value, path: path)
        }
        return arguments
    }

    /// Refuses any line that is not blank, a comment, or one `key = value` with a bare key and a
    /// single-line value that opens no array, inline table or multi-line string. A sordino
    /// configuration needs nothing else, and TOMLKit's parser (toml++ 3) stops the whole process
    /// with a failed assertion on some malformed tables and arrays (`[@]`, `[é]`, a lone `[`,
    /// `wet = [}`) instead of reporting an error; those never reach it.
    static func checkLines(_ text: String, path: String) throws(Failure) {
        func isBareKey(_ c: Unicode.Scalar) -> Bool {
            c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "_" || c == "-")
        }
        // Lines split on scalars: as a Character, "\r\n" is one grapheme and never equals "\n".
        for (index, line) in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let scalars = line.last == "\r" ? line.dropLast() : line
            var rest = scalars.drop { $0 == " " || $0 == "\t" }
            func refuse(_ reason: String) -> Failure {
                .syntax(path: path, line: index + 1, column: scalars.count - rest.count + 1, reason: reason)
            }
            if let cr = scalars.firstIndex(of: "\r") {
                rest = scalars[cr...]
                throw refuse("a carriage return that does not end a line: save the file with Unix (LF) or Windows (CRLF) line ends")
            }
            if rest.isEmpty || rest.first == "#" { continue }
            if rest.first == "[" {
                throw refuse("a sordino configuration has no tables: write one `key = value` per line")
            }
            guard let first = rest.first, isBareKey(first) else {
                throw refuse("expected a key (letters, digits, '_' and '-', as `sordino run`'s options without '--')")
            }
            rest = rest.drop(while: isBareKey).drop { $0 == " " || $0 == "\t" }
            guard rest.first == "=" else {
                throw refuse("expected '=' after the key: write one `key = value` per line")
            }
            rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
            if rest.first == "[" || rest.first == "{" {
                throw refuse("a value is one string, number or true/false: no arrays or inline tables")
            }
            if rest.starts(with: "\"\"\"".unicodeScalars) || rest.starts(with: "\'\'\'".unicodeScalars) {
                throw refuse("a value is one line: no multi-line strings")
            }
        }
    }

    private static func arguments(key: String, kind: Kind, value: TOMLValueConvertible, path: String) throws(Failure) -> [String] {
        func wrongType(_ expected: String) -> Failure {
            .wrongType(path: path, key: key, expected: expected, got: value.debugDescription)
        }
        switch kind {
        case .text:
            guard let text = value.string else { throw wrongType("a string, e.g. \(key) = \"…\"") }
            // Two arguments, so a value that starts with a combining mark does not join the '='
            // into one character (argument-parser then sees no '='); `=` for a leading '-'.
            return text.hasPrefix("-") ? ["--\(key)=\(text)"] : ["--\(key)", text]
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
    public static func commandLineArguments(_ all: [String] = CommandLine.arguments) -> [String] {
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
