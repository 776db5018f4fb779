// SPDX-License-Identifier: GPL-3.0-or-later
// Options shared by every command that builds an engine: preset and live-tunable mask settings.

import ArgumentParser
import SordinoDSP
import SordinoPresets

struct EngineOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Preset: a name (e.g. speech-16k), a path to NAME.json, or a folder of presets (the one for the audio's rate is chosen).",
        valueName: "preset"))
    var preset: String = "speech-16k"

    @Option(name: .customLong("floor-db"), parsing: .unconditional,
            help: "Attenuation limit in dB (−120…0): the mask never removes more than this. Default: the preset's.")
    var floorDecibels: Float?

    @Option(help: "Wet/dry mix 0…1: 0 passes the (delayed) input through, 1 is fully processed. Default: the preset's.")
    var wet: Float?

    @Option(help: "Solver iterations per frame (0…64; more is slower and slightly cleaner). Default: the preset's.")
    var iterations: Int?

    @Option(name: .customLong("activation-floor"),
            help: "Lower bound on activations as a fraction (0…1) of each frame's cold-start value. Default: the preset's.")
    var activationFloor: Float?

    @Option(name: .customLong("mask-exponent"),
            help: "p in G = Ŝᵖ/(Ŝᵖ + N̂ᵖ): 1 (gentler) or 2 (Wiener). Default: the preset's.")
    var maskExponent: Int?

    @Flag(name: .customLong("link-channels"), help: "One mask for all channels (solved on their mean spectrum).")
    var linkChannels = false

    mutating func validate() throws {
        if let f = floorDecibels, !(f.isFinite && f <= 0 && f >= -120) {
            throw ValidationError("--floor-db must lie in −120…0 dB (got \(f)).")
        }
        if let w = wet, !(w.isFinite && w >= 0 && w <= 1) { throw ValidationError("--wet must lie in 0…1 (got \(w)).") }
        if let i = iterations, !(0...64).contains(i) { throw ValidationError("--iterations must lie in 0…64 (got \(i)).") }
        if let a = activationFloor, !(a.isFinite && a >= 0 && a <= 1) {
            throw ValidationError("--activation-floor must lie in 0…1 (got \(a)).")
        }
        if let p = maskExponent, p != 1 && p != 2 { throw ValidationError("--mask-exponent must be 1 or 2 (got \(p)).") }
    }

    /// Loads the preset for `sampleRate` (a folder argument picks by rate; a single preset is returned
    /// whatever its rate, so the caller can convert).
    func loadPreset(sampleRate: Int?) throws -> (preset: Preset, path: String) {
        let path = try PresetLocator().resolve(preset, sampleRate: sampleRate)
        return (try Preset.load(path: path), path)
    }

    /// The preset's engine settings with this command line's overrides.
    func configuration(of preset: Preset, channelCount: Int, maximumBlockLength: Int) -> EngineConfiguration {
        var c = preset.engineConfiguration(channelCount: channelCount, maximumBlockLength: maximumBlockLength,
                                           linkChannels: linkChannels)
        if let floorDecibels { c.floorDecibels = floorDecibels }
        if let wet { c.wet = wet }
        if let iterations { c.iterations = iterations; c.maximumIterations = max(c.maximumIterations, iterations) }
        if let maskExponent { c.maskExponent = maskExponent }
        if let activationFloor { c.activationFloor = activationFloor }
        return c
    }
}
