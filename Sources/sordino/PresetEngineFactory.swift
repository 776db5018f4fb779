// SPDX-License-Identifier: GPL-3.0-or-later
// The engine factory `run` and `demo` give the JACK host: the preset for the server's rate, with the command line's overrides.

import Logging
import SordinoControl
import SordinoDSP
import SordinoJACK
import SordinoPresets

/// Builds engines for `JackHost` from the command line's `EngineOptions`. Every call re-reads the
/// preset files (so SIGHUP picks up an edited or re-trained preset) and picks the preset for the
/// server's rate when `--preset` is a folder (the default). The live controls' values (floor, wet,
/// mask exponent, iterations) go to the host as defaults, the command line's on top of the
/// preset's; the host's control block keeps values set live above both.
///
/// Main thread only (the host calls it from `init`, `service()` and `reload()`).
final class PresetEngineFactory {
    let options: EngineOptions
    let channelCount: Int
    private let logger: Logger
    /// What the last engine was built from: the preset's name and path, the settings, basis and gain model.
    private(set) var loaded: (name: String, path: String, configuration: EngineConfiguration, basis: Basis,
                               gainModel: GainModel?)?
    /// Noise atoms learned live (`sordino ctl learn-noise`): they join the preset's noise atoms in
    /// every engine built while they fit its analysis; a preset they do not fit drops them.
    var learnedNoise: LearnedNoise?

    init(options: EngineOptions, channelCount: Int, logger: Logger) {
        self.options = options
        self.channelCount = channelCount
        self.logger = logger
    }

    /// For `JackHost(options:logger:controls:makeEngine:)`.
    var factory: EngineFactory {
        { [self] sampleRate, controls throws(EngineBuildError) in try make(sampleRate: sampleRate, controls: controls) }
    }

    func make(sampleRate: Int, controls: ControlBlock) throws(EngineBuildError) -> EngineBuild {
        let preset: Preset, path: String, skipped: [SkippedPreset]
        do {
            (preset, path, skipped) = try options.loadPreset(sampleRate: sampleRate)
        } catch {
            throw EngineBuildError(error)
        }
        for file in skipped { logger.warning("\(file)") }
        guard preset.metadata.sampleRate == sampleRate else {
            throw EngineBuildError(JackHostError.sampleRateMismatch(presetHz: preset.metadata.sampleRate, serverHz: sampleRate))
        }
        var configuration = options.configuration(of: preset, channelCount: channelCount, maximumBlockLength: 8192,
                                                  spreadByDefault: true)
        var basis = preset.basis, origin = "\(preset.metadata.name) (\(path))"
        if let learned = learnedNoise {
            if learned.fits(configuration) {
                do { basis = try learned.basis(extending: preset.basis) } catch { throw EngineBuildError(error) }
                origin += " with \(learned.atomCount) learned noise atoms"
                if options.activationFloor == nil { configuration.activationFloor = NoiseLearner.activationFloor }
            } else {
                logger.warning("the learned noise atoms do not fit preset \(preset.metadata.name) (another rate or STFT): back to its own atoms")
                learnedNoise = nil
            }
        }
        do {
            let engine = try Engine(configuration: configuration, basis: basis, gainModel: preset.gainModel,
                                    controls: controls)
            loaded = (preset.metadata.name, path, configuration, preset.basis, preset.gainModel)
            logger.info("""
                preset \(preset.metadata.name) (\(path)): \(sampleRate) Hz, frame \(configuration.frameLength), \
                hop \(configuration.hopLength), \(basis.speechRank)+\(basis.noiseRank) atoms
                """)
            return EngineBuild(engine: engine, defaults: ControlValues(configuration),
                               commandLine: options.liveOverrides, origin: origin)
        } catch {
            throw EngineBuildError(error)
        }
    }
}
