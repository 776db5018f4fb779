// SPDX-License-Identifier: GPL-3.0-or-later
// The parsers of outside input, each as one function of bytes, for libFuzzer and for replaying its findings in tests.

import Foundation
import SordinoControl
import SordinoDSP
import SordinoIO
import SordinoPresets

/// One parser of outside input. `run` must return (accepting or refusing the bytes with a typed
/// error) for every input: a crash, a hang or a sanitizer report is a bug.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A preset's JSON: decoded, validated, and, when valid, an engine built from it with a basis of
    /// the stated shape and one hop processed.
    case preset
    /// A `.basis` file: decoded and checked; when valid, its basis solves one frame.
    case basis
    /// A `.npy` array: decoded; when valid, encoded again and decoded to the same array.
    case npy
    /// A control-socket request line: parsed and served against a daemon stand-in (live controls
    /// of a real `ControlBlock`; no status yet; reload and save-settings refused); the reply must
    /// be one line holding one JSON object.
    case control
    /// A `sordino run --config` TOML file: parsed into the run options it stands for; when accepted,
    /// every argument is one known option, each at most once.
    case config

    /// Presets whose engine would need more than this many floats of basis are refused before an
    /// engine is built (validation allows real presets far larger; the fuzzer must stay fast).
    static let largestFuzzedBasis = 1 << 20

    public func run(_ bytes: [UInt8]) {
        switch self {
        case .preset: Self.preset(bytes)
        case .basis: Self.basis(bytes)
        case .npy: Self.npy(bytes)
        case .control: Self.serveControl(bytes)
        case .config: Self.config(bytes)
        }
    }

    /// True when `bytes` get through the parser to an engine, or (control) to a successful reply:
    /// for checking that seeds are useful.
    public func reachesEngine(_ bytes: [UInt8]) -> Bool {
        switch self {
        case .preset: Self.presetEngineInput(bytes) != nil
        case .basis: (try? BasisFile.decode(bytes, path: "fuzz.basis")) != nil
        case .npy: (try? Npy.decode(Data(bytes), path: "fuzz.npy")) != nil
        case .control: Self.controlReply(bytes).map { $0.contains("\"ok\":true") } ?? false
        case .config: Self.configArguments(bytes).map { !$0.isEmpty } ?? false
        }
    }

    private static func preset(_ bytes: [UInt8]) {
        guard let (configuration, basis) = presetEngineInput(bytes) else { return }
        process(configuration: configuration, basis: basis)
    }

    /// The configuration and a basis of the stated shape, when the JSON decodes and validates.
    private static func presetEngineInput(_ bytes: [UInt8]) -> (EngineConfiguration, Basis)? {
        guard let metadata = try? PresetMetadata.decode(Data(bytes), path: "fuzz.json"),
              (try? metadata.validate(path: "fuzz.json")) != nil else { return nil }
        let b = metadata.basis
        let size = b.binCount.multipliedReportingOverflow(by: b.speechRank + b.noiseRank)
        guard !size.overflow, size.partialValue <= largestFuzzedBasis, b.speechRank > 0, b.noiseRank > 0,
              let basis = try? Basis(binCount: b.binCount, speechRank: b.speechRank, noiseRank: b.noiseRank,
                                     values: (0..<size.partialValue).map { Float($0 % 7 + 1) })
        else { return nil }
        return (metadata.engineConfiguration(), basis)
    }

    private static func basis(_ bytes: [UInt8]) {
        guard let (_, basis) = try? BasisFile.decode(bytes, path: "fuzz.basis"),
              basis.values.count <= largestFuzzedBasis else { return }
        var configuration = EngineConfiguration()
        configuration.fftLength = 2 * (basis.binCount - 1)
        configuration.frameLength = configuration.fftLength
        configuration.hopLength = max(1, configuration.frameLength / 4)
        process(configuration: configuration, basis: basis)
    }

    private static func npy(_ bytes: [UInt8]) {
        guard let array = try? Npy.decode(Data(bytes), path: "fuzz.npy") else { return }
        guard let again = try? Npy.decode(Npy.encode(array)) else {
            fatalError("a decoded .npy array does not encode and decode again")
        }
        precondition(again.shape == array.shape && again.values.count == array.values.count,
                     "a .npy array changed shape on its way through encode and decode")
        for (a, b) in zip(again.values, array.values) where a.bitPattern != b.bitPattern && !(a.isNaN && b.isNaN) {
            fatalError("a .npy value changed on its way through encode and decode: \(b) → \(a)")
        }
    }

    private static func serveControl(_ bytes: [UInt8]) {
        guard let reply = controlReply(bytes) else { return }
        precondition(!reply.contains("\n"), "a control reply spans several lines")
        precondition((try? JSONSerialization.jsonObject(with: Data(reply.utf8))) is [String: Any],
                     "a control reply is not a JSON object: \(reply)")
    }

    private static func config(_ bytes: [UInt8]) {
        guard let arguments = configArguments(bytes) else { return }
        var seen: Set<String> = []
        var expectsValue = false
        for argument in arguments {
            if expectsValue { expectsValue = false; continue }
            precondition(argument.hasPrefix("--"), "a configuration argument is no option: \(argument)")
            let name = argument.unicodeScalars.dropFirst(2)
            let key = String(String.UnicodeScalarView(name.prefix { $0 != "=" }))
            expectsValue = !name.contains("=") && RunConfigFile.keys[key] == .text
            precondition(RunConfigFile.keys[key] != nil, "a configuration argument is no run option: \(argument)")
            precondition(seen.insert(key).inserted, "a configuration option appears twice: \(key)")
        }
        precondition(!expectsValue, "a configuration option lacks its value")
    }

    private static func configArguments(_ bytes: [UInt8]) -> [String]? {
        try? RunConfigFile.arguments(text: String(decoding: bytes, as: UTF8.self), path: "fuzz.toml")
    }

    private static func controlReply(_ bytes: [UInt8]) -> String? {
        ControlProtocol.reply(to: Data(bytes), target: StandInDaemon.shared)
    }

    /// A daemon with live controls and nothing else.
    private final class StandInDaemon: ControlTarget {
        static let shared = StandInDaemon()
        let controls = ControlBlock(EngineConfiguration())
        func status() -> DaemonStatus? { nil }
        func reload(preset: String?, reply: @escaping @Sendable (Result<String, ControlFailure>) -> Void) {
            reply(.failure(ControlFailure(.reloadFailed, "the fuzzer's stand-in does not reload")))
        }
        func saveSettings() throws(ControlFailure) -> String {
            throw ControlFailure(.ioError, "the fuzzer's stand-in does not save")
        }
        func noise(_ request: NoiseRequest, progress: @escaping @Sendable (JSONValue) -> Void,
                   reply: @escaping @Sendable (Result<JSONValue, ControlFailure>) -> Void) {
            reply(.failure(ControlFailure(.notReady, "the fuzzer's stand-in has no input to learn from")))
        }
    }

    /// Builds an engine (refusals are fine) and processes a frame and a hop of a fixed noise through
    /// it, in blocks of 64: the output must be finite.
    private static func process(configuration: EngineConfiguration, basis: Basis) {
        guard var engine = try? Engine(configuration: configuration, basis: basis) else { return }
        let length = configuration.frameLength + configuration.hopLength
        let x = (0..<length).map { Float(($0 * 7919) % 2001) / 1000 - 1 }
        var driver = EngineBlockDriver(channelCount: configuration.channelCount, blockLengths: [64])
        let y = driver.run(&engine, Array(repeating: x, count: configuration.channelCount))
        precondition(y.allSatisfy { $0.allSatisfy(\.isFinite) },
                     "an engine built from fuzzed input produced non-finite output")
    }
}
