// SPDX-License-Identifier: GPL-3.0-or-later
// The live parameters `get` reads and `set` writes: names, ranges, JSON values, and where each value comes from.

import SordinoDSP

/// One live parameter, spelled as the `sordino run` option that sets its start value.
public enum LiveParameter: String, Sendable, CaseIterable {
    case floorDecibels = "floor-db", wet, maskExponent = "mask-exponent", iterations
    case noiseBoundDecibels = "noise-bound-db", bypass

    /// The control block's name for it.
    var control: ControlParameter {
        switch self {
        case .floorDecibels: .floorDecibels
        case .wet: .wet
        case .maskExponent: .maskExponent
        case .iterations: .iterations
        case .noiseBoundDecibels: .noiseBound
        case .bypass: .bypass
        }
    }

    /// What `set` accepts, for error messages and `sordino ctl --help`.
    public var accepted: String {
        switch self {
        case .floorDecibels: "a number of dB in −120…0"
        case .wet: "a number in 0…1"
        case .maskExponent: "1 or 2"
        case .iterations: "an integer in 0…64 (the engine caps it at the preset's maximum)"
        case .noiseBoundDecibels: "a number of dB in −120…20, or \"off\""
        case .bypass: "true or false"
        }
    }

    static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// The value in force. `engine`: the running engine's limits (nil before the daemon's first status).
    func value(in controls: ControlBlock, engine: EngineLimits?) -> JSONValue {
        switch self {
        case .floorDecibels: .number((Double(controls.floorDecibels) * 100).rounded() / 100)
        case .wet: .number((Double(controls.wet) * 10_000).rounded() / 10_000)
        case .maskExponent: .number(controls.maskExponent)
        case .iterations: .number(min(controls.iterations, engine?.maximumIterations ?? .max))
        case .noiseBoundDecibels:
            switch controls.noiseBoundDecibels {
            case .some(nil): .string("off")
            case .some(let decibels?): .number((Double(decibels) * 100).rounded() / 100)
            case nil: (engine?.configuredNoiseBoundDecibels).map { JSONValue.number((Double($0) * 100).rounded() / 100) } ?? .string("off")
            }
        case .bypass: .bool(controls.bypass)
        }
    }

    /// "live" when set live, else "default" (the preset's value with the command line's override).
    func source(in controls: ControlBlock) -> String {
        controls.liveParameters.contains(control) ? "live" : "default"
    }

    /// Checks `value` and sets the live value; `null` drops the live value (the default applies again).
    func set(_ value: JSONValue, in controls: ControlBlock) -> ControlFailure? {
        if value == .null {
            controls.clearLive(control)
            return nil
        }
        func number(in range: ClosedRange<Double>) -> Double? {
            guard let v = value.doubleValue, v.isFinite, range.contains(v) else { return nil }
            return v
        }
        switch self {
        case .floorDecibels:
            guard let v = number(in: -120...0) else { return refusal(value) }
            controls.floorDecibels = Float(v)
        case .wet:
            guard let v = number(in: 0...1) else { return refusal(value) }
            controls.wet = Float(v)
        case .maskExponent:
            guard let p = value.intValue, p == 1 || p == 2 else { return refusal(value) }
            controls.maskExponent = p
        case .iterations:
            guard let i = value.intValue, (0...64).contains(i) else { return refusal(value) }
            controls.iterations = i
        case .noiseBoundDecibels:
            if value.stringValue == "off" {
                controls.noiseBoundDecibels = .some(nil)
            } else {
                guard let v = number(in: -120...20) else { return refusal(value) }
                controls.noiseBoundDecibels = .some(Float(v))
            }
        case .bypass:
            guard let on = value.boolValue else { return refusal(value) }
            controls.bypass = on
        }
        return nil
    }

    private func refusal(_ value: JSONValue) -> ControlFailure {
        let kind: ControlFailure.Code = switch value {
        case .number: .outOfRange
        case .string where self == .noiseBoundDecibels: .outOfRange
        default: .badRequest
        }
        return ControlFailure(kind, "\(rawValue) takes \(accepted) (or null for the default); got \(value.text)")
    }
}

/// What `get` needs to know of the running engine.
public struct EngineLimits: Sendable, Equatable {
    public var maximumIterations: Int
    public var configuredNoiseBoundDecibels: Float?

    public init(maximumIterations: Int, configuredNoiseBoundDecibels: Float?) {
        self.maximumIterations = maximumIterations
        self.configuredNoiseBoundDecibels = configuredNoiseBoundDecibels
    }
}
