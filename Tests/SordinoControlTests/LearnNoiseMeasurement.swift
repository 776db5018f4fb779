// SPDX-License-Identifier: GPL-3.0-or-later
// Opt-in measurement behind docs/PROTOCOL.md's learn-noise tables: offline SI-SDR of the shipped, learned and adversarially learned atoms.

import Foundation
import SordinoDSP
import SordinoIO
import SordinoNMF
import SordinoPresets
@testable import SordinoControl
import Testing
import TestSupport

/// Not a test: prints numbers, asserts nothing about them. Run with SORDINO_MEASURE_LEARN_NOISE=1
/// and the settings below in the environment (the commands are in docs/PROTOCOL.md):
/// - `PRESET` (a preset's JSON; default the shipped speech-16k), `FLOOR_DB`, `MASK_EXPONENT`,
///   `ITERATIONS` (of the solve) and `ATOMS` (learned atoms; defaults the preset's and learn-noise's),
///   `SNR_DB` (default 0), `LEAD_S` (seconds of noise alone before the speech, default 3);
/// - `SPEECH` (a 16 kHz WAV; default the bundled clean speech);
/// - `NOISE`: `whine` (a steady 930 Hz whine with band noise, the default), `pulsed` (the live
///   test's 240 Hz one) or a 16 kHz WAV: 5 s from `CAPTURE_S` (default 0) are learned, the
///   mixture's noise starts at `MIX_S` (default 7);
/// - `GAIN_MODES`: with a preset that has a learned gain, also score the preset's and the learned
///   atoms with the gain in each of these modes (`multiply`, `lift`, `replace`, `shape`, `off`),
///   on the mixture and on the clean speech alone (how much of the speech the mask keeps), e.g. `shape,multiply`;
/// - `TAUS`: adversarial weights τ_A to also learn atoms with (`AdversarialNMF` against
///   speech-like frames made of the preset's speech atoms), e.g. `0,0.3,1`.
@Suite("learn-noise measurement (opt-in)", .enabled(if: ProcessInfo.processInfo.environment["SORDINO_MEASURE_LEARN_NOISE"] == "1"))
struct LearnNoiseMeasurement {
    static let environment = ProcessInfo.processInfo.environment

    static func wav(_ path: String) throws -> [Float] { try AudioFileReader.read(path: path).0.channels[0] }
    static func number(_ name: String) -> Double? { environment[name].flatMap(Double.init) }

    @Test("offline SI-SDR of speech in a noise: the preset's atoms, learned atoms, adversarially learned atoms")
    func measure() throws {
        let presetPath = Self.environment["PRESET"] ?? Shipped.repository.appendingPathComponent("presets/speech-16k.json").path
        let preset = try Preset.load(path: presetPath)
        var configuration = preset.engineConfiguration(channelCount: 1)
        if let floor = Self.number("FLOOR_DB") { configuration.floorDecibels = Float(floor) }
        if let exponent = Self.number("MASK_EXPONENT") { configuration.maskExponent = Int(exponent) }
        if let iterations = Self.number("ITERATIONS") { configuration.iterations = Int(iterations) }
        let atoms = Int(Self.number("ATOMS") ?? Double(NoiseLearner.defaultAtoms))
        let snr = Self.number("SNR_DB") ?? 0
        let speech = try Self.environment["SPEECH"].map(Self.wav) ?? Shipped.cleanSpeech()
        let lead = Int((Self.number("LEAD_S") ?? 3) * 16_000), length = Double(lead + speech.count) / 16_000
        let capture: [Float], background: [Float]
        switch Self.environment["NOISE"] ?? "whine" {
        case "whine": (capture, background) = (Signal.whineNoise(seconds: 5, seed: 11), Signal.whineNoise(seconds: length, seed: 12))
        case "pulsed": (capture, background) = (Shipped.machine(seconds: 5, seed: 11), Shipped.machine(seconds: length, seed: 12))
        case let path:
            let noise = try Self.wav(path)
            let c0 = Int((Self.number("CAPTURE_S") ?? 0) * 16_000), m0 = Int((Self.number("MIX_S") ?? 7) * 16_000)
            try #require(noise.count >= max(c0 + 5 * 16_000, m0 + lead + speech.count), "\(path) is too short")
            (capture, background) = (Array(noise[c0..<(c0 + 5 * 16_000)]), Array(noise[m0..<(m0 + lead + speech.count)]))
        }
        let scale = rms(speech) / rms(background[lead...]) / Float(pow(10, snr / 20))
        var input = background.map { $0 * scale }
        for n in speech.indices { input[lead + n] += speech[n] }
        let captured = capture.map { $0 * scale }
        let learned = try NoiseLearner.learn([captured], configuration: configuration, atoms: atoms)

        func score(_ basis: Basis, activationFloor: Float, online: Bool = true, mode: String? = nil,
                   clean: Bool = false) throws -> Double {
            var c = configuration
            c.activationFloor = activationFloor
            if !online { c.adaptiveNoiseRank = 0 }
            if let mode { c.gainRefinement = GainRefinementMode(rawValue: mode) }
            var engine = try Engine(configuration: c, basis: basis, gainModel: preset.gainModel)
            let start = clean ? 0 : lead
            let output = EngineHarness.run(&engine, [clean ? speech : input], blockLengths: [256])[0]
            return siSDR(reference: speech[..<(speech.count - c.latencySamples)], estimate: output[(start + c.latencySamples)...])
        }
        let extended = try learned.basis(extending: preset.basis), floor = NoiseLearner.activationFloor
        var lines = ["input \(siSDR(reference: speech, estimate: input[lead...]))",
                     "preset's atoms, online atoms on \(try score(preset.basis, activationFloor: configuration.activationFloor))",
                     "preset's atoms, online atoms off \(try score(preset.basis, activationFloor: configuration.activationFloor, online: false))",
                     "\(learned.atomCount) learned atoms, online atoms on \(try score(extended, activationFloor: floor))",
                     "\(learned.atomCount) learned atoms, online atoms off \(try score(extended, activationFloor: floor, online: false))"]
        for mode in (Self.environment["GAIN_MODES"] ?? "").split(separator: ",").map(String.init) {
            for (name, basis, floor) in [("preset's atoms", preset.basis, configuration.activationFloor),
                                         ("\(learned.atomCount) learned atoms", extended, floor)] {
                lines.append("\(name), gain \(mode): \(try score(basis, activationFloor: floor, mode: mode)); "
                             + "clean speech alone \(try score(basis, activationFloor: floor, mode: mode, clean: true))")
            }
        }
        for tau in (Self.environment["TAUS"] ?? "").split(separator: ",").compactMap({ Float($0) }) {
            let adversarial = try Self.adversarialAtoms(captured, preset: preset, configuration: configuration, weight: tau, atoms: atoms)
            lines.append("\(atoms) atoms learned with τ_A \(tau) against the speech atoms, online atoms on "
                         + "\(try score(try adversarial.basis(extending: preset.basis), activationFloor: floor))")
        }
        print("MEASURED \(presetPath), noise \(Self.environment["NOISE"] ?? "whine"), \(snr) dB SNR, floor "
              + "\(configuration.floorDecibels) dB, mask exponent \(configuration.maskExponent), \(configuration.iterations) iterations, SI-SDR:\n  " + lines.joined(separator: "\n  "))
    }

    /// Noise atoms that fit the capture and, with weight `weight`, fit speech badly (`AdversarialNMF`,
    /// Euclidean): the speech is 1 to 3 of the preset's speech atoms a frame with exponential gains,
    /// scaled to the capture's mean frame, as many frames as the capture has. Unit-sum atoms.
    static func adversarialAtoms(_ capture: [Float], preset: Preset, configuration: EngineConfiguration,
                                 weight: Float, atoms: Int) throws -> LearnedNoise {
        let set = try TrainingSet(signals: [capture], configuration: configuration, relativeFloorDecibels: 60)
        let bins = set.binCount, frames = set.frameCount
        let meanFrame = set.spectrogram.values.reduce(0, +) / Float(frames)
        var generator = SplitMix64(seed: 5), speech = [Float](repeating: 0, count: bins * frames)
        for t in 0..<frames {
            for _ in 0..<(1 + Int(generator.next() % 3)) {
                let k = Int(generator.next() % UInt64(preset.basis.speechRank))
                let gain = -Float.log(max(Float(generator.next() % 1_000_000) / 1_000_000, 1e-6)) * meanFrame
                for f in 0..<bins { speech[f * frames + t] += gain * preset.basis[bin: f, atom: k] }
            }
        }
        let nmf = try AdversarialNMF(.init(rank: atoms, epochs: 100, batchSize: 256, adversarialWeight: weight, seed: 3))
        var w = try nmf.fit(true: set.spectrogram, adversarial: Matrix(rows: bins, columns: frames, values: speech)).basis.values
        for k in 0..<atoms {
            let sum = (0..<bins).reduce(Float(0)) { $0 + w[$1 * atoms + k] }
            for f in 0..<bins { w[f * atoms + k] /= max(sum, 1e-12) }
        }
        return LearnedNoise(binCount: bins, atomCount: atoms, atoms: w, seconds: Double(capture.count) / 16_000, frames: frames,
                            initialObjective: 0, objective: 0, iterations: 100, configuration: configuration)
    }
}
