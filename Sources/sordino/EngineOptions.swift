// SPDX-License-Identifier: GPL-3.0-or-later
// Options shared by every command that builds an engine: preset and live-tunable mask settings.

import ArgumentParser
import Foundation
import SordinoDSP
import SordinoPresets

struct EngineOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Preset: a name (e.g. speech-16k), a path to NAME.json, or a folder of presets (the one for the audio's rate is chosen). "
            + "Default: the presets folder, so the rate picks the preset (process, separate: the file's rate, or the nearest shipped rate below it; run, demo: the server's).",
        valueName: "preset"))
    var preset: String?

    @Option(name: .customLong("floor-db"), parsing: .unconditional,
            help: "Attenuation limit in dB (−120…0): the mask never removes more than this. Default: the preset's.")
    var floorDecibels: Float?

    @Option(parsing: .unconditional, help: "Wet/dry mix 0…1: 0 passes the (delayed) input through, 1 is fully processed. Default: the preset's.")
    var wet: Float?

    @Option(parsing: .unconditional, help: "Solver iterations per frame (0…64; more is slower and slightly cleaner). Default: the preset's.")
    var iterations: Int?

    @Option(name: .customLong("activation-floor"),
            parsing: .unconditional, help: "Lower bound on activations as a fraction (0…1) of each frame's cold-start value. Default: the preset's.")
    var activationFloor: Float?

    @Option(name: .customLong("noise-bound-db"), parsing: .unconditional,
            help: "Lower bound on the noise estimate in dB (−120…20) relative to each bin's mean over noise-only frames, or 'off'; higher removes more steady noise. Default: the preset's.")
    var noiseBound: NoiseBound?

    @Option(name: .customLong("absent-floor-db"), parsing: .unconditional,
            help: "Speech presence: mask floor in dB (−120…0) where speech is absent, the mask lifted where it is present; or 'off'. Default: the preset's.")
    var absentFloor: AbsentFloor?

    @Option(name: .customLong("gain-refinement"),
            help: "Learned gain after the mask, when the preset has a model: multiply, lift, replace, shape or off. Default: the preset's.")
    var gainRefinement: GainRefinementChoice?

    @Option(name: .customLong("adaptive-noise-atoms"),
            parsing: .unconditional, help: "Extra noise atoms learned online from noise-only frames (0…32; 0 = off). Default: the preset's.")
    var adaptiveNoiseRank: Int?

    @Option(name: .customLong("adaptive-noise-memory-ms"),
            parsing: .unconditional, help: "Memory of the adaptive noise atoms, ms of noise-only audio (10…600000). Default: the preset's.")
    var adaptiveNoiseMemory: Float?

    @Option(name: .customLong("mask-exponent"),
            parsing: .unconditional, help: "p in G = Ŝᵖ/(Ŝᵖ + N̂ᵖ): 1 (gentler) or 2 (Wiener). Default: the preset's.")
    var maskExponent: Int?

    @Flag(name: .customLong("link-channels"), help: "One mask for all channels (solved on their mean spectrum).")
    var linkChannels = false

    @Option(name: .customLong("hop-work"), help: ArgumentHelp(
        "When and where each hop's work is done: 'spread' over the periods until the next hop (no period carries a "
            + "whole solve; latency one hop longer: the frame plus the hop, e.g. 40 ms for speech-48k), 'whole' in the "
            + "period that completes the hop (latency the frame), or (run only) on a 'worker' thread one real-time "
            + "priority below JACK's, so that the JACK cycle only copies audio and never waits for a solve (latency the "
            + "frame plus the smallest whole number of periods that covers the hop and 2 ms: 40 ms for speech-48k at 64 "
            + "frames as when spread, 42.7 ms at 256; a period whose output is not ready in time plays silence and is "
            + "counted; it needs a real-time JACK server to keep time). Spreading pays "
            + "when the JACK period is shorter than the hop (speech-48k's hop is 384 samples). Default: spread for run "
            + "and demo, whole for process and separate.",
        valueName: "spread|whole|worker"))
    var hopWork: HopWork?

    /// When and where a hop's work is done (`--hop-work`).
    enum HopWork: String, ExpressibleByArgument, CaseIterable {
        case spread, whole, worker
    }

    /// For the commands other than run: the worker is the daemon's thread. Offline there is none;
    /// the demo compares its live output with the offline engine sample for sample from a hop
    /// boundary it finds through the JACK cycle, which the worker's lag would move.
    func refuseHopWorker(command: String) throws {
        if hopWork == .worker {
            let why = command == "demo" ? "the demo checks its output against the offline engine sample for sample, from a hop boundary the worker's lag would hide"
                                        : "\(command) works offline"
            throw ValidationError("--hop-work worker applies to run (it moves the work off JACK's thread); \(why): use spread or whole.")
        }
    }

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

    /// Loads the preset for `sampleRate`: `--preset` as given (a folder picks by rate; a single
    /// preset is returned whatever its rate, so the caller can convert or refuse), or the presets
    /// folder's preset at that rate. Reads the files anew on every call. `skipped`: files of the
    /// folder that do not load and were passed over (log each as a warning); one that is or may be
    /// the preset for the rate throws `PresetError.unloadableChoice` instead.
    func loadPreset(sampleRate: Int?) throws -> (preset: Preset, path: String, skipped: [SkippedPreset]) {
        let locator = PresetLocator()
        let choice = try locator.resolve(try preset ?? Self.presetsFolder(locator), sampleRate: sampleRate)
        return (try Preset.load(path: choice.path), choice.path, choice.skipped)
    }

    /// `process`'s preset for a file at `fileRate` Hz: `--preset` as given (a folder picks by rate), or
    /// without it the shipped preset at that rate, else at the nearest rate below it (the lowest
    /// for rates below every preset). `choice` says which was picked when `--preset` was absent;
    /// `skipped` lists the broken files of the folder that were passed over (warn about each).
    func loadPreset(forFileRate fileRate: Int) throws
        -> (preset: Preset, path: String, choice: String?, skipped: [SkippedPreset])
    {
        if preset != nil {
            let (loaded, path, skipped) = try loadPreset(sampleRate: fileRate)
            return (loaded, path, nil, skipped)
        }
        let folder = try Self.presetsFolder(PresetLocator())
        let (found, rate) = try PresetLocator.chooseNearest(in: folder, sampleRate: fileRate)
        let path = found.path
        let loaded = try Preset.load(path: path)
        let name = loaded.metadata.name
        let choice = rate == fileRate
            ? "preset \(name) for the file's \(fileRate) Hz (no --preset given)"
            : "no preset at \(fileRate) Hz: using \(name) at \(rate) Hz, the nearest shipped rate "
                + (rate < fileRate ? "below" : "above") + " (no --preset given)"
        return (loaded, path, choice, found.skipped)
    }

    /// The first search directory (the user's own excepted) holding at least one NAME.json, as an absolute path (so that the
    /// locator treats it as a folder of presets).
    static func presetsFolder(_ locator: PresetLocator) throws(PresetError) -> String {
        // The user's folder holds presets saved by name (`ctl save-noise`), never the default set.
        let user = URL(fileURLWithPath: PresetLocator.userDirectory()).standardizedFileURL.path
        for directory in locator.searchDirectories where URL(fileURLWithPath: directory).standardizedFileURL.path != user {
            let url = URL(fileURLWithPath: directory).standardizedFileURL
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            if entries.contains(where: { $0.hasSuffix(".json") && !$0.hasPrefix(".") }) { return url.path }
        }
        throw .notFound(argument: "presets", searched: locator.searchDirectories)
    }

    /// The live controls this command line sets (the others keep the preset's values).
    var liveOverrides: Set<ControlParameter> {
        var set: Set<ControlParameter> = []
        if floorDecibels != nil { set.insert(.floorDecibels) }
        if wet != nil { set.insert(.wet) }
        if maskExponent != nil { set.insert(.maskExponent) }
        if iterations != nil { set.insert(.iterations) }
        return set
    }

    /// The preset's engine settings with this command line's overrides. `spreadByDefault`: the
    /// command's default for `--hop-work` (spread for the live host, whole offline).
    func configuration(of preset: Preset, channelCount: Int, maximumBlockLength: Int,
                       spreadByDefault: Bool = false) -> EngineConfiguration {
        var c = preset.engineConfiguration(channelCount: channelCount, maximumBlockLength: maximumBlockLength,
                                           linkChannels: linkChannels)
        c.spreadsHopWork = hopWork.map { $0 == .spread } ?? spreadByDefault
        if let floorDecibels { c.floorDecibels = floorDecibels }
        if let wet { c.wet = wet }
        if let iterations { c.iterations = iterations; c.maximumIterations = max(c.maximumIterations, iterations) }
        if let maskExponent { c.maskExponent = maskExponent }
        if let activationFloor { c.activationFloor = activationFloor }
        if let adaptiveNoiseRank { c.adaptiveNoiseRank = adaptiveNoiseRank }
        if let noiseBound { c.noiseBoundDecibels = noiseBound.decibels }
        if let absentFloor { c.absentFloorDecibels = absentFloor.decibels }
        if let gainRefinement, preset.gainModel != nil { c.gainRefinement = gainRefinement.mode }
        if let adaptiveNoiseMemory { c.adaptiveNoiseMemoryMilliseconds = adaptiveNoiseMemory }
        return c
    }
}

/// An option that takes a level in dB within `range`, or `off`.
protocol DecibelsOrOff: ExpressibleByArgument {
    /// Accepted values in dB.
    static var range: ClosedRange<Float> { get }
    /// nil: off.
    var decibels: Float? { get }
    init(decibels: Float?)
}

extension DecibelsOrOff {
    init?(argument: String) {
        if argument == "off" { self.init(decibels: nil); return }
        guard let value = Float(argument), value.isFinite, Self.range.contains(value) else { return nil }
        self.init(decibels: value)
    }

    var defaultValueDescription: String { decibels.map { "\($0) dB" } ?? "off" }

    static var defaultCompletionKind: CompletionKind { .list(["off"]) }
}

/// `--noise-bound-db`: dB in −120…20, or `off` (no bound).
struct NoiseBound: DecibelsOrOff {
    static var range: ClosedRange<Float> { -120...20 }
    let decibels: Float?
}

/// `--absent-floor-db`: dB in −120…0, or `off` (no speech-presence stage).
struct AbsentFloor: DecibelsOrOff {
    static var range: ClosedRange<Float> { -120...0 }
    let decibels: Float?
}

/// `--gain-refinement`: how the preset's learned gain meets the mask, or `off`.
struct GainRefinementChoice: ExpressibleByArgument {
    let mode: GainRefinementMode?

    init?(argument: String) {
        switch argument {
        case "off": mode = nil
        case "multiply": mode = .multiply
        case "lift": mode = .lift
        case "replace": mode = .replace
        case "shape": mode = .shape
        default: return nil
        }
    }
}
