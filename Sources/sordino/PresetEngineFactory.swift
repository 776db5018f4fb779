// SPDX-License-Identifier: GPL-3.0-or-later
// The engine factory `run` and `demo` give the JACK host: the preset for the server's rate, with the command line's overrides.

import Logging
import SordinoDSP
import SordinoJACK
import SordinoPresets

/// Builds engines for `JackHost` from the command line's `EngineOptions`. Every call re-reads the
/// preset files (so SIGHUP picks up an edited or re-trained preset), picks the preset for the
/// server's rate when `--preset` is a folder (the default), and throws
/// `JackHostError.sampleRateMismatch` when a single preset's rate differs from the server's.
///
/// Main thread only (the host calls it from `init`, `service()` and `reload()`).
final class PresetEngineFactory {
    let options: EngineOptions
    let channelCount: Int
    private let logger: Logger
    /// What the factory last threw; `JackHost` wraps foreign errors in `.engineUnavailable`, and
    /// the command reports this one instead so that its exit code follows its type.
    private(set) var lastFailure: (any Error)?
    /// What the last engine was built from: the preset's name and path, the settings and the basis.
    private(set) var loaded: (name: String, path: String, configuration: EngineConfiguration, basis: Basis)?

    init(options: EngineOptions, channelCount: Int, logger: Logger) {
        self.options = options
        self.channelCount = channelCount
        self.logger = logger
    }

    /// For `JackHost(options:logger:makeEngine:)`.
    var factory: EngineFactory { { [self] sampleRate, maximumBlockLength in try make(sampleRate: sampleRate, maximumBlockLength: maximumBlockLength) } }

    func make(sampleRate: Int, maximumBlockLength: Int) throws -> Engine {
        do {
            let (preset, path) = try options.loadPreset(sampleRate: sampleRate, default: .folder)
            guard preset.metadata.sampleRate == sampleRate else {
                throw JackHostError.sampleRateMismatch(presetHz: preset.metadata.sampleRate, serverHz: sampleRate)
            }
            let configuration = options.configuration(of: preset, channelCount: channelCount,
                                                      maximumBlockLength: maximumBlockLength)
            let engine = try Engine(configuration: configuration, basis: preset.basis)
            loaded = (preset.metadata.name, path, configuration, preset.basis)
            lastFailure = nil
            logger.info("""
                preset \(preset.metadata.name) (\(path)): \(sampleRate) Hz, frame \(configuration.frameLength), \
                hop \(configuration.hopLength), \(preset.basis.speechRank)+\(preset.basis.noiseRank) atoms, \
                \(configuration.iterations) iterations, floor \(configuration.floorDecibels) dB, wet \(configuration.wet)
                """)
            return engine
        } catch {
            lastFailure = error
            throw error
        }
    }

    /// The error to report for `error` from the host: the factory's own when the host wrapped it.
    func underlying(_ error: any Error) -> any Error {
        if case .engineUnavailable? = error as? JackHostError, let lastFailure { return lastFailure }
        return error
    }
}
