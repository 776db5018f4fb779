// SPDX-License-Identifier: GPL-3.0-or-later
// The daemon's side of `sordino ctl`: the JACK host as a control target (status, reload through the host's thread, settings; noise in CtlDaemonNoise).

import Foundation
import Logging
import SordinoControl
import SordinoDSP
import SordinoJACK
import SordinoPresets
import Synchronization

/// Connects the control server to a running `JackHost` through its `JackHostLink`: status from
/// what the host publishes, controls straight into its control block (atomics), reloads as jobs on
/// the host's thread (which builds the engine off the audio thread, as SIGHUP does).
final class DaemonControlTarget: ControlTarget {
    let link: JackHostLink
    let settings: SettingsFile
    let engineOptions: EngineOptions
    let channelCount: Int
    let logger: Logger
    /// The factory the host builds with (a named reload replaces it); the host's thread only.
    let factoryBox: EngineFactoryBox
    /// True while a learn-noise runs.
    let learning = Atomic<Bool>(false)

    init(link: JackHostLink, factory: PresetEngineFactory, settings: SettingsFile, engineOptions: EngineOptions,
         channelCount: Int, logger: Logger) {
        self.link = link
        factoryBox = EngineFactoryBox(factory)
        self.settings = settings
        self.engineOptions = engineOptions
        self.channelCount = channelCount
        self.logger = logger
    }

    var controls: ControlBlock { link.controls }

    func status() -> DaemonStatus? { link.latestStatus.map(Self.daemonStatus) }

    func reload(preset: String?, reply: @escaping @Sendable (Result<String, ControlFailure>) -> Void) {
        var options = engineOptions
        if let preset {
            do throws(ControlFailure) {
                options.preset = try Self.presetInSearchPath(preset, locator: PresetLocator())
            } catch {
                reply(.failure(error))
                return
            }
        }
        let (channelCount, logger, named, chosen, box) = (self.channelCount, self.logger, preset != nil, options, factoryBox)
        link.submit { host in
            logger.info("reload requested over the control socket\(named ? chosen.preset.map { " (preset \($0))" } ?? "" : "")")
            // A named preset starts from its own noise atoms: its new factory has none learned.
            let factory = named ? PresetEngineFactory(options: chosen, channelCount: channelCount, logger: logger) : nil
            let outcome = host.reload(using: factory?.factory)
            host.publishStatus()
            switch outcome {
            case .success(let origin):
                if let factory { box.factory = factory }
                reply(.success(origin))
            case .failure(let error):
                logger.error("reload refused, \(host.afterRefusal): \(error)")
                reply(.failure(ControlFailure(.reloadFailed, "reload refused, \(host.afterRefusal): \(error)")))
            }
        }
    }

    func saveSettings() throws(ControlFailure) -> String {
        try settings.save(controls)
        logger.info("live settings saved to \(settings.path) (\(controls.liveParameters.map(\.description).joined(separator: ", ")))")
        return settings.path
    }

    /// Over the socket a preset is a name found in the preset search path, or a path that lies
    /// inside one of its folders (after resolving links); anything else is refused, so a client
    /// cannot make the daemon read arbitrary files. Returns the preset's absolute path.
    static func presetInSearchPath(_ argument: String, locator: PresetLocator) throws(ControlFailure) -> String {
        let folders = locator.searchDirectories.compactMap { realPath($0) }
        let isName = !argument.contains("/") && !argument.hasPrefix(".") && !argument.isEmpty
        if isName {
            let bare = argument.hasSuffix(".json") ? String(argument.dropLast(5)) : argument
            for folder in folders {
                for candidate in ["\(folder)/\(bare).json", "\(folder)/\(bare)"] {
                    if let path = realPath(candidate), folders.contains(where: { path.hasPrefix($0 + "/") }) { return path }
                }
            }
            throw ControlFailure(.presetNotAllowed, "no preset \"\(argument)\" in the preset folders (\(folders.joined(separator: ", "))). "
                                 + "Install it into one of them, or name one that is there (`sordino inspect` lists a preset).")
        }
        guard let path = realPath(argument), folders.contains(where: { path.hasPrefix($0 + "/") }) else {
            throw ControlFailure(.presetNotAllowed, "\(argument) is not inside the preset folders (\(folders.joined(separator: ", "))); "
                                 + "over the control socket only presets there can be loaded. Copy it into one of them.")
        }
        return path
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func daemonStatus(_ s: HostStatus) -> DaemonStatus {
        func level(_ v: Float) -> Float? { v.isFinite ? v : nil }
        return DaemonStatus(
            connected: s.connected, server: s.serverName, client: s.clientName, preset: s.engineOrigin,
            passThrough: s.passThroughReason,
            sampleRate: s.sampleRate, blockLength: s.blockLength, latencySamples: s.latencySamples,
            latencyMilliseconds: s.latencyMilliseconds,
            channels: s.channels.map { c in
                DaemonStatus.Channel(inputPeakDecibels: level(c.inputPeakDecibels), inputRMSDecibels: level(c.inputRMSDecibels),
                                     outputPeakDecibels: level(c.outputPeakDecibels), outputRMSDecibels: level(c.outputRMSDecibels),
                                     attenuationDecibels: level(c.attenuationDecibels))
            },
            speechToNoiseDecibels: s.speechToNoiseDecibels.flatMap(level),
            xruns: s.xruns, overruns: s.overruns, callbackP50Microseconds: s.callback.p50Microseconds, callbackP99Microseconds: s.callback.p99Microseconds,
            callbackMaximumMicroseconds: s.callback.maximumMicroseconds, dspLoadPercent: Double(s.dspLoadPercent),
            nonFiniteSamples: s.nonFiniteSamples, clippedSamples: s.clippedSamples,
            clampedInputSamples: s.clampedInputSamples, framesProcessed: s.framesProcessed,
            uptimeSeconds: s.uptimeSeconds, reconnects: s.reconnects, engineSwaps: s.engineRebuilds,
            limits: EngineLimits(maximumIterations: s.maximumIterations, configuredNoiseBoundDecibels: s.configuredNoiseBoundDecibels))
    }
}
