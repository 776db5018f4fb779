// SPDX-License-Identifier: GPL-3.0-or-later
// The host's engines: build one with the factory, set the control defaults it brings, hand it over, say where each value came from.

import SordinoDSP

extension JackHost {
    // MARK: - Engines

    /// Builds an engine for `rate` with the factory, sets the control defaults it brings and hands
    /// it to the audio thread (or installs it at once while no client runs). `reason` nil: the first.
    func installEngine(for rate: Int, reason: String?) throws(JackHostError) {
        var build: EngineBuild
        do { build = try makeEngine(rate, controls) } catch { throw .engineUnavailable(error) }
        guard build.engine.configuration.sampleRate == rate else {
            throw .sampleRateMismatch(presetHz: build.engine.configuration.sampleRate, serverHz: rate)
        }
        guard build.engine.configuration.channelCount == options.channelCount else {
            throw .channelCountMismatch(engineChannels: build.engine.configuration.channelCount, ports: options.channelCount)
        }
        let defaults = build.defaults, commandLine = build.commandLine, origin = build.origin
        let oldLatency = latencySamples
        controls.setDefaults(defaults)
        build.engine.settleControls()
        engines.install(build.engine, context, session: session != nil)
        if session != nil { updateHopWorkerDelay(blockLength: blockLength) }   // a new hop may need another delay
        engineOrigin = origin
        if reason != nil { engineRebuilds += 1 }
        context.pointee.latencySamples.store(latencySamples, ordering: .releasing)
        if oldLatency != latencySamples { session?.client.recomputeTotalLatencies() }
        logger.info("engine \(reason ?? "built") from \(origin): \(describeControls(commandLine: commandLine))")
        endPassThrough(at: rate)
    }

    /// The engine fits the server's rate again: it processes (after a fade from the delayed input).
    func endPassThrough(at rate: Int) {
        guard passThroughReason != nil else { return }
        passThroughReason = nil
        controls.passThrough = false
        logger.info("processing again at \(rate) Hz (the input no longer passes through unprocessed)")
    }

    /// "floor −12.0 dB (preset), wet 1.0 (command line), …": each control with where it comes from.
    func describeControls(commandLine: Set<ControlParameter>) -> String {
        let live = Set(controls.liveParameters)
        func source(_ p: ControlParameter) -> String {
            live.contains(p) ? "live" : commandLine.contains(p) ? "command line" : "preset"
        }
        let v = controls.values
        var parts = ["floor \(v.floorDecibels) dB (\(source(.floorDecibels)))", "wet \(v.wet) (\(source(.wet)))",
                     "mask exponent \(v.maskExponent) (\(source(.maskExponent)))",
                     "iterations \(v.iterations) (\(source(.iterations)))"]
        if live.contains(.bypass) { parts.append("bypass \(controls.bypass ? "on" : "off") (live)") }
        return parts.joined(separator: ", ")
    }
}
