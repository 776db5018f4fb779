// SPDX-License-Identifier: GPL-3.0-or-later
// The control protocol's requests, replies and errors (newline-delimited JSON, version 1; docs/PROTOCOL.md).

import Foundation

/// Protocol constants.
public enum ControlProtocol {
    /// The version every request may state (`"v"`) and every reply states.
    public static var version: Int { 1 }
    /// Longest request line in bytes, newline excluded; a longer one is answered with
    /// `line-too-long` and the connection is closed.
    public static var maximumLineBytes: Int { 4096 }
    /// Highest `subscribe` rate: the daemon refreshes its status every 100 ms.
    public static var maximumSubscribeHertz: Double { 10 }
    public static var minimumSubscribeHertz: Double { 0.1 }
}

/// Why a request failed: a stable `code` for programs and a `message` for people, ending with what to do.
public struct ControlFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case badJSON = "bad-json", badRequest = "bad-request", unknownCommand = "unknown-command"
        case unsupportedVersion = "unsupported-version", outOfRange = "out-of-range", lineTooLong = "line-too-long"
        case tooManyClients = "too-many-clients", forbidden, notReady = "not-ready"
        case reloadFailed = "reload-failed", presetNotAllowed = "preset-not-allowed", ioError = "io-error"
        /// learn-noise, forget-noise, save-noise.
        case busy, learnFailed = "learn-failed", nothingLearned = "nothing-learned"
        /// A reply from the daemon that is not a protocol line (client side only).
        case badReply = "bad-reply"
        /// Nothing listens at the socket (client side only).
        case unreachable
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    var json: JSONValue { .object(["code": .string(code.rawValue), "message": .string(message)]) }
}

/// The commands, as spelled on the wire (and by `sordino ctl`).
public enum ControlCommand: String, Sendable, CaseIterable {
    case status, get, set, reload, subscribe, saveSettings = "save-settings"
    case learnNoise = "learn-noise", forgetNoise = "forget-noise", saveNoise = "save-noise"
}

/// One parsed request.
struct ControlRequest {
    var id: JSONValue?
    var command: ControlCommand
    var fields: [String: JSONValue]

    /// A request that cannot be served, with its `id` when one could be read.
    struct Refusal: Error {
        var id: JSONValue?
        var failure: ControlFailure

        init(_ id: JSONValue?, _ failure: ControlFailure) {
            self.id = id
            self.failure = failure
        }
    }

    /// Parses one line.
    static func parse(_ line: Data) -> Result<ControlRequest, Refusal> {
        guard let value = JSONValue.parse(line) else {
            return .failure(Refusal(nil, ControlFailure(.badJSON, "the request is not JSON; send one JSON object per line, e.g. {\"v\":1,\"cmd\":\"status\"}")))
        }
        guard let fields = value.objectValue else {
            return .failure(Refusal(nil, ControlFailure(.badRequest, "the request must be a JSON object, e.g. {\"v\":1,\"cmd\":\"status\"}")))
        }
        let id = fields["id"]
        if let version = fields["v"], version.intValue != ControlProtocol.version {
            return .failure(Refusal(id, ControlFailure(.unsupportedVersion, "protocol version \(version.text) is not supported; this daemon speaks \"v\":\(ControlProtocol.version)")))
        }
        guard let name = fields["cmd"]?.stringValue else {
            return .failure(Refusal(id, ControlFailure(.badRequest, "\"cmd\" is missing or not a string; commands: \(Self.commandList)")))
        }
        guard let command = ControlCommand(rawValue: name) else {
            return .failure(Refusal(id, ControlFailure(.unknownCommand, "unknown command \(JSONValue.string(name).text); commands: \(Self.commandList)")))
        }
        return .success(ControlRequest(id: id, command: command, fields: fields))
    }

    static var commandList: String { ControlCommand.allCases.map(\.rawValue).joined(separator: ", ") }
}

/// Reply lines.
enum ControlReply {
    static func success(id: JSONValue?, _ result: JSONValue) -> String {
        var fields: [String: JSONValue] = ["v": .number(ControlProtocol.version), "ok": .bool(true), "result": result]
        if let id { fields["id"] = id }
        return JSONValue.object(fields).text
    }

    static func failure(id: JSONValue?, _ failure: ControlFailure) -> String {
        var fields: [String: JSONValue] = ["v": .number(ControlProtocol.version), "ok": .bool(false), "error": failure.json]
        if let id { fields["id"] = id }
        return JSONValue.object(fields).text
    }

    /// An interim line of a request still under way (learn-noise): `{"v":1,"id":…,"event":"progress","progress":{…}}`.
    static func progress(id: JSONValue?, _ body: JSONValue) -> String {
        var fields: [String: JSONValue] = ["v": .number(ControlProtocol.version), "event": .string("progress"), "progress": body]
        if let id { fields["id"] = id }
        return JSONValue.object(fields).text
    }

    static func event(_ name: String, _ body: JSONValue) -> String {
        JSONValue.object(["v": .number(ControlProtocol.version), "event": .string(name), name: body]).text
    }
}
