// SPDX-License-Identifier: GPL-3.0-or-later
// The daemon's side of learn-noise, forget-noise and save-noise: capture on the host's thread, learn on a worker, swap, write.

import Foundation
import Logging
import SordinoControl
import SordinoDSP
import SordinoJACK
import SordinoPresets
import Synchronization

/// The factory the host builds engines with, reachable from jobs: only the host's thread touches
/// `factory` (in jobs submitted through the host's link), so it needs no lock.
final class EngineFactoryBox: @unchecked Sendable {
    var factory: PresetEngineFactory

    init(_ factory: PresetEngineFactory) { self.factory = factory }
}

extension DaemonControlTarget {
    func noise(_ request: NoiseRequest, progress: @escaping @Sendable (JSONValue) -> Void,
               reply: @escaping @Sendable (Result<JSONValue, ControlFailure>) -> Void) {
        switch request {
        case let .learn(seconds, atoms): learn(seconds: seconds, atoms: atoms, progress: progress, reply: reply)
        case .forget: forget(reply: reply)
        case let .save(name): save(name: name, reply: reply)
        }
    }

    /// Captures `seconds` of input on the host's thread, learns on a worker thread, swaps the
    /// engine on the host's thread again. One learn-noise at a time.
    private func learn(seconds: Double, atoms: Int, progress: @escaping @Sendable (JSONValue) -> Void,
                       reply: @escaping @Sendable (Result<JSONValue, ControlFailure>) -> Void) {
        guard !learning.exchange(true, ordering: .acquiringAndReleasing) else {
            return reply(.failure(ControlFailure(.busy, "a learn-noise is already running; wait for its reply")))
        }
        let done: @Sendable (Result<JSONValue, ControlFailure>) -> Void = { [self] outcome in
            self.learning.store(false, ordering: .releasing)
            reply(outcome)
        }
        let (box, logger) = (factoryBox, self.logger)
        link.submit { host in
            if let reason = host.passThroughReason {
                return done(.failure(ControlFailure(.notReady, "the input passes through unprocessed (\(reason)); learn-noise needs an engine at the server's rate")))
            }
            guard let configuration = box.factory.loaded?.configuration, configuration.sampleRate == host.sampleRate else {
                return done(.failure(ControlFailure(.notReady, "no engine runs for the server's rate yet; retry in a moment")))
            }
            let rate = host.sampleRate
            logger.info("learn-noise: capturing \(seconds) s of input for \(atoms) noise atoms")
            host.captureInput(samplesPerChannel: Int((seconds * Double(rate)).rounded()), progress: { samples in
                progress(.object(["stage": .string("capturing"), "seconds": .number(Double(samples) / Double(rate)),
                                  "of": .number(seconds)]))
            }) { result in
                switch result {
                case .failure(let error):
                    logger.warning("learn-noise: \(error)")
                    done(.failure(ControlFailure(.learnFailed, "\(error)")))
                case .success(let captured):
                    progress(.object(["stage": .string("learning"), "seconds": .number(captured.seconds), "of": .number(seconds)]))
                    let worker = Thread { [self] in
                        learnAndInstall(captured, configuration: configuration, atoms: atoms, progress: progress, done: done)
                    }
                    worker.name = "sordino-learn-noise"
                    worker.start()
                }
            }
        }
    }

    /// On the worker: the factorisation; then, on the host's thread, the hand-over to an engine
    /// with the learned atoms (the running one stays if that fails).
    private func learnAndInstall(_ captured: CapturedInput, configuration: EngineConfiguration, atoms: Int,
                                 progress: @escaping @Sendable (JSONValue) -> Void,
                                 done: @escaping @Sendable (Result<JSONValue, ControlFailure>) -> Void) {
        let learned: LearnedNoise
        do throws(ControlFailure) {
            learned = try NoiseLearner.learn(captured.channels, configuration: configuration, atoms: atoms) { pass, objective in
                guard pass % 50 == 0 else { return }
                progress(.object(["stage": .string("learning"), "pass": .number(pass), "of": .number(NoiseLearner.iterations),
                                  "objective": .number(objective)]))
            }
        } catch {
            logger.warning("learn-noise: \(error.message)")
            return done(.failure(error))
        }
        let (box, logger) = (factoryBox, self.logger)
        link.submit { host in
            let factory = box.factory
            guard let running = factory.loaded?.configuration, learned.fits(running) else {
                return done(.failure(ControlFailure(.learnFailed, "the preset changed while the atoms were learned; learn again")))
            }
            let previous = factory.learnedNoise
            factory.learnedNoise = learned
            switch host.reload(using: nil) {
            case .success(let origin):
                host.publishStatus()
                logger.info("""
                    learn-noise: \(learned.atomCount) atoms from \(NoiseLearner.formatted(learned.seconds)) s \
                    (\(learned.frames) frames), objective \(learned.initialObjective) → \(learned.objective); now \(origin)
                    """)
                done(.success(Self.summary(learned, origin: origin)))
            case .failure(let error):
                factory.learnedNoise = previous
                logger.error("learn-noise: the new engine was refused, the running one keeps going: \(error)")
                done(.failure(ControlFailure(.reloadFailed, "the engine with the learned atoms was refused, the running one keeps going: \(error)")))
            }
        }
    }

    /// Back to the preset's own noise atoms (nothing changes when none were learned).
    private func forget(reply: @escaping @Sendable (Result<JSONValue, ControlFailure>) -> Void) {
        let box = factoryBox
        link.submit { host in
            guard box.factory.learnedNoise != nil else {
                return reply(.success(.object(["preset": .string(host.engineOrigin), "changed": .bool(false)])))
            }
            let learned = box.factory.learnedNoise
            box.factory.learnedNoise = nil
            switch host.reload(using: nil) {
            case .success(let origin):
                host.publishStatus()
                reply(.success(.object(["preset": .string(origin), "changed": .bool(true)])))
            case .failure(let error):
                box.factory.learnedNoise = learned
                reply(.failure(ControlFailure(.reloadFailed, "the preset's own atoms could not be loaded, the learned ones stay: \(error)")))
            }
        }
    }

    /// Writes the running preset with its learned atoms as preset `name` in the user's folder.
    private func save(name: String, reply: @escaping @Sendable (Result<JSONValue, ControlFailure>) -> Void) {
        let (box, logger) = (factoryBox, self.logger)
        link.submit { host in
            guard let learned = box.factory.learnedNoise, let loaded = box.factory.loaded else {
                return reply(.failure(ControlFailure(.nothingLearned, "no learned noise atoms are in use; run `sordino ctl learn-noise 5` "
                                                     + "while only the noise plays, then save")))
            }
            do throws(ControlFailure) {
                let preset: Preset
                do throws(PresetError) { preset = try Preset.load(path: loaded.path) } catch {
                    throw ControlFailure(.ioError, "the running preset's file can no longer be read (\(error)); nothing was written")
                }
                let provenance = PresetMetadata.Provenance(
                    trainingData: "\(NoiseLearner.formatted(learned.seconds)) s of live input to '\(host.clientName)' on JACK server "
                        + "'\(host.serverDisplayName)' (noise); speech atoms of \(preset.metadata.name)",
                    command: "sordino ctl learn-noise \(NoiseLearner.formatted(learned.seconds)) --atoms \(learned.atomCount) && "
                        + "sordino ctl save-noise \(name)",
                    date: PresetMetadata.Provenance.isoDate(), seed: preset.metadata.provenance.seed,
                    method: "β-NMF (β = \(learned.beta.beta)), \(learned.atomCount) noise atoms, \(learned.iterations) passes; "
                        + "speech atoms and settings of \(preset.metadata.name)")
                let saved = try NoisePresetWriter.preset(from: preset, learned: learned, name: name, provenance: provenance)
                let folder = PresetLocator.userDirectory()
                let path = try NoisePresetWriter.write(saved, to: folder)
                logger.info("save-noise: wrote \(path)")
                reply(.success(.object(["name": .string(name), "path": .string(path),
                                        "atoms": .number(learned.atomCount), "folder": .string(folder)])))
            } catch {
                logger.warning("save-noise: \(error.message)")
                reply(.failure(error))
            }
        }
    }

    /// learn-noise's result object.
    static func summary(_ learned: LearnedNoise, origin: String) -> JSONValue {
        .object(["atoms": .number(learned.atomCount), "seconds": .number((learned.seconds * 100).rounded() / 100),
                 "frames": .number(learned.frames), "passes": .number(learned.iterations),
                 "initial_objective": .number(learned.initialObjective.rounded()), "objective": .number(learned.objective.rounded()),
                 "beta": .number(learned.beta.beta), "preset": .string(origin)])
    }
}
