// SPDX-License-Identifier: GPL-3.0-or-later
// What each command does: status, get, set, reload, subscribe, save-settings, the noise commands, against a `ControlTarget`.

import Foundation

/// Answers one request. Synchronous commands return their reply line; `reload` and the noise
/// commands answer later through `later` (from the daemon's threads; learn-noise sends progress
/// events first); `subscribe` also sets `subscription`.
struct RequestHandler {
    let target: any ControlTarget
    /// Sends a reply line that is ready only later.
    let later: @Sendable (String) -> Void
    /// After `subscribe`: `.some(seconds between events)`, `.some(nil)` to stop; nil: unchanged.
    private(set) var subscription: Double??

    init(target: any ControlTarget, later: @escaping @Sendable (String) -> Void) {
        self.target = target
        self.later = later
    }

    /// The reply line, or nil when it comes later.
    mutating func handle(_ request: ControlRequest) -> String? {
        let id = request.id
        switch result(request) {
        case .success(let value?): return ControlReply.success(id: id, value)
        case .success(nil): return nil
        case .failure(let failure): return ControlReply.failure(id: id, failure)
        }
    }

    private mutating func result(_ request: ControlRequest) -> Result<JSONValue?, ControlFailure> {
        switch request.command {
        case .status:
            guard let status = Self.statusResult(target) else {
                return .failure(ControlFailure(.notReady, "the daemon has not published a status yet; retry in a moment"))
            }
            return .success(status)
        case .get:
            return get(request.fields["name"])
        case .set:
            return set(request.fields)
        case .reload:
            let preset = request.fields["preset"]
            guard preset == nil || preset == .null || preset?.stringValue != nil else {
                return .failure(ControlFailure(.badRequest, "\"preset\" must be a string (a preset name or a path inside the preset folders)"))
            }
            let later = self.later, id = request.id
            target.reload(preset: preset?.stringValue) { outcome in
                switch outcome {
                case .success(let origin): later(ControlReply.success(id: id, .object(["preset": .string(origin)])))
                case .failure(let failure): later(ControlReply.failure(id: id, failure))
                }
            }
            return .success(nil)
        case .subscribe:
            guard let hz = request.fields["hz"]?.doubleValue, hz.isFinite,
                  hz == 0 || (ControlProtocol.minimumSubscribeHertz...ControlProtocol.maximumSubscribeHertz).contains(hz) else {
                return .failure(ControlFailure(.outOfRange, "\"hz\" must be a number in \(ControlProtocol.minimumSubscribeHertz)…\(ControlProtocol.maximumSubscribeHertz) (events per second), or 0 to stop"))
            }
            subscription = .some(hz == 0 ? nil : 1 / hz)
            return .success(.object(["hz": .number(hz)]))
        case .learnNoise, .forgetNoise, .saveNoise:
            return noise(request)
        case .saveSettings:
            do throws(ControlFailure) {
                return .success(.object(["path": .string(try target.saveSettings())]))
            } catch {
                return .failure(error)
            }
        }
    }

    private func noise(_ request: ControlRequest) -> Result<JSONValue?, ControlFailure> {
        let noiseRequest: NoiseRequest
        switch request.command {
        case .learnNoise:
            let range = NoiseLearner.secondsRange, atoms = NoiseLearner.atomRange
            guard let seconds = request.fields["seconds"]?.doubleValue, seconds.isFinite, range.contains(seconds) else {
                return .failure(ControlFailure(.outOfRange, "\"seconds\" must be a number in \(Int(range.lowerBound))…\(Int(range.upperBound)) "
                                               + "(seconds of input to learn from); got \(request.fields["seconds"]?.text ?? "nothing")"))
            }
            let count = request.fields["atoms"] ?? .null
            guard count == .null || count.intValue.map(atoms.contains) == true else {
                return .failure(ControlFailure(.outOfRange, "\"atoms\" must be an integer in \(atoms.lowerBound)…\(atoms.upperBound) "
                                               + "(default \(NoiseLearner.defaultAtoms)); got \(count.text)"))
            }
            noiseRequest = .learn(seconds: seconds, atoms: count.intValue ?? NoiseLearner.defaultAtoms)
        case .saveNoise:
            guard let name = request.fields["name"]?.stringValue, NoisePresetWriter.isSafeName(name) else {
                return .failure(ControlFailure(.badRequest, "\"name\" must be 1 to 64 letters, digits, '-' or '_', starting with a "
                                               + "letter or digit (it names NAME.json in the user's preset folder); got \(request.fields["name"]?.text ?? "nothing")"))
            }
            noiseRequest = .save(name: name)
        default:
            noiseRequest = .forget
        }
        let later = self.later, id = request.id
        target.noise(noiseRequest, progress: { later(ControlReply.progress(id: id, $0)) }) { outcome in
            switch outcome {
            case .success(let value): later(ControlReply.success(id: id, value))
            case .failure(let failure): later(ControlReply.failure(id: id, failure))
            }
        }
        return .success(nil)
    }

    private func get(_ name: JSONValue?) -> Result<JSONValue?, ControlFailure> {
        let limits = target.status()?.limits
        guard let name, name != .null else {
            return .success(Self.settings(target, limits: limits))
        }
        guard let text = name.stringValue, let parameter = LiveParameter(rawValue: text) else {
            return .failure(ControlFailure(.badRequest, "\"name\" must be one of \(LiveParameter.names); got \(name.text)"))
        }
        return .success(.object(["name": .string(parameter.rawValue),
                                 "value": parameter.value(in: target.controls, engine: limits),
                                 "source": .string(parameter.source(in: target.controls))]))
    }

    private func set(_ fields: [String: JSONValue]) -> Result<JSONValue?, ControlFailure> {
        guard let text = fields["name"]?.stringValue, let parameter = LiveParameter(rawValue: text) else {
            return .failure(ControlFailure(.badRequest, "\"name\" must be one of \(LiveParameter.names); got \(fields["name"]?.text ?? "nothing")"))
        }
        guard let value = fields["value"] else {
            return .failure(ControlFailure(.badRequest, "\"value\" is missing: \(parameter.rawValue) takes \(parameter.accepted), or null for the default"))
        }
        if let failure = parameter.set(value, in: target.controls) { return .failure(failure) }
        return get(.string(parameter.rawValue))
    }

    /// Every live parameter: its value in force and whether it was set live.
    static func settings(_ target: any ControlTarget, limits: EngineLimits?) -> JSONValue {
        var values: [String: JSONValue] = [:]
        for parameter in LiveParameter.allCases { values[parameter.rawValue] = parameter.value(in: target.controls, engine: limits) }
        let live = LiveParameter.allCases.filter { $0.source(in: target.controls) == "live" }.map { JSONValue.string($0.rawValue) }
        return .object(["values": .object(values), "live": .array(live)])
    }

    /// The `status` result: the daemon's status and its settings; nil before the first status.
    static func statusResult(_ target: any ControlTarget) -> JSONValue? {
        guard let status = target.status(), case .object(var fields) = status.json else { return nil }
        fields["settings"] = settings(target, limits: status.limits)
        return .object(fields)
    }
}

extension ControlProtocol {
    /// Serves one request line against `target` as the socket's thread does: the reply line (nil
    /// when it comes later, through `later`) and, after `subscribe`, the new subscription.
    static func serve(_ line: Data, target: any ControlTarget,
                      later: @escaping @Sendable (String) -> Void) -> (reply: String?, subscription: Double??) {
        switch ControlRequest.parse(line) {
        case .failure(let refusal):
            return (ControlReply.failure(id: refusal.id, refusal.failure), nil)
        case .success(let request):
            var handler = RequestHandler(target: target, later: later)
            return (handler.handle(request), handler.subscription)
        }
    }

    /// The reply line to one request line, as a client would read it (nil when it comes later, as
    /// `reload`'s does, through `later`). For the fuzzer and tests.
    public static func reply(to line: Data, target: any ControlTarget,
                             later: @escaping @Sendable (String) -> Void = { _ in }) -> String? {
        serve(line, target: target, later: later).reply
    }
}

extension ControlProtocol {
    /// The `status` result as the socket answers it (the daemon's status and its settings); nil
    /// before the daemon published its first status. For the HTTP server's `/status` and `/metrics`.
    public static func statusResult(of target: any ControlTarget) -> JSONValue? { RequestHandler.statusResult(target) }

    /// The event line `subscribe` sends (`{"v":1,"event":"status","status":{…}}`); nil before the first status.
    public static func statusEvent(of target: any ControlTarget) -> String? {
        RequestHandler.statusResult(target).map { ControlReply.event("status", $0) }
    }

    /// The commands answered at once (no later reply, no subscription): what a transport without
    /// the socket's connection state (HTTP) serves.
    public static var immediateCommands: Set<ControlCommand> { [.status, .get, .set] }

    /// The reply line to one request line, serving only `commands` (a subset of `immediateCommands`);
    /// any other command is refused with `forbidden`, naming `transport` and the socket as the way to it.
    public static func reply(to line: Data, target: any ControlTarget, only commands: Set<ControlCommand>,
                             transport: String) -> String {
        switch ControlRequest.parse(line) {
        case .failure(let refusal):
            return ControlReply.failure(id: refusal.id, refusal.failure)
        case .success(let request):
            guard commands.contains(request.command), immediateCommands.contains(request.command) else {
                let served = ControlCommand.allCases.filter(commands.contains).map(\.rawValue).joined(separator: ", ")
                return ControlReply.failure(id: request.id, ControlFailure(
                    .forbidden, "\(transport) serves only \(served); use the control socket (`sordino ctl \(request.command.rawValue)`) for the rest"))
            }
            var handler = RequestHandler(target: target, later: { _ in })
            return handler.handle(request) ?? ControlReply.failure(id: request.id, ControlFailure(.notReady, "no reply; retry"))
        }
    }
}
