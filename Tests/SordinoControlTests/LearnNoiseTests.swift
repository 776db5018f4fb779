// SPDX-License-Identifier: GPL-3.0-or-later
// learn-noise's learning offline: atoms for a noise the shipped dictionaries never saw raise SI-SDR; the basis keeps the speech atoms.

import Foundation
import SordinoDSP
import SordinoIO
import SordinoPresets
@testable import SordinoControl
import Testing
import TestSupport

/// The repository's shipped preset and bundled clean speech (no corpus needed).
enum Shipped {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func preset(_ name: String = "speech-16k") throws -> Preset {
        try Preset.load(path: repository.appendingPathComponent("presets/\(name).json").path)
    }

    static func cleanSpeech() throws -> [Float] {
        try AudioFileReader.read(path: repository.appendingPathComponent("presets/samples/clean-speech-16k.wav").path).0.channels[0]
    }

    /// The tests' machine noise: a pulsed 240 Hz whine with band noise (`Signal.whineNoise`).
    static func machine(seconds: Double, seed: UInt64) -> [Float] {
        Signal.whineNoise(seconds: seconds, fundamental: 240, pulsed: true, seed: seed)
    }

    /// `lead` seconds of the machine noise alone, then `speech` in the same noise continued (seed
    /// `seed`), the noise scaled to `snr` dB against the speech. Returns the input and where the
    /// speech starts.
    static func mixture(speech: [Float], lead: Double, snr: Double, seed: UInt64) -> (input: [Float], speechStart: Int) {
        let start = Int(lead * 16_000)
        let noise = machine(seconds: Double(start + speech.count) / 16_000, seed: seed)
        let scale = Float((Double(rms(speech)) / Double(rms(noise[start...])) / pow(10, snr / 20)))
        var input = noise.map { $0 * scale }
        for n in speech.indices { input[start + n] += speech[n] }
        return (input, start)
    }
}

@Suite("learn-noise: learning noise atoms (offline)")
struct LearnNoiseTests {
    @Test("atoms learned from 5 s of a pulsed whine with band noise raise the SI-SDR of speech in that noise (speech-16k, floor −30 dB): ≥ 3 dB with the learned gain off, ≥ 0.5 dB with it on")
    func learnedAtomsRaiseSISDR() throws {
        let preset = try Shipped.preset()
        var configuration = preset.engineConfiguration(channelCount: 1)
        configuration.floorDecibels = -30
        let capture = Shipped.machine(seconds: 5, seed: 11).map { $0 * 0.5 }
        let learned = try NoiseLearner.learn([capture], configuration: configuration)
        #expect(learned.atomCount == NoiseLearner.defaultAtoms && learned.binCount == 257)
        #expect(learned.objective < 0.5 * learned.initialObjective, "\(learned.initialObjective) → \(learned.objective)")
        #expect(abs(learned.seconds - 5) < 1e-9 && learned.frames >= 600)
        let basis = try learned.basis(extending: preset.basis)
        #expect(basis.speechRank == preset.basis.speechRank && basis.noiseRank == preset.basis.noiseRank + learned.atomCount)
        for f in stride(from: 0, to: 257, by: 16) {
            for k in 0..<preset.basis.rank { #expect(basis[bin: f, atom: k] == preset.basis[bin: f, atom: k]) }
            for k in 0..<learned.atomCount { #expect(basis[bin: f, atom: preset.basis.rank + k] == learned.atoms[f * learned.atomCount + k]) }
        }

        let speech = try Shipped.cleanSpeech()
        let (input, start) = Shipped.mixture(speech: speech, lead: 3, snr: -5, seed: 12)
        // The shipped atoms with the preset's activation floor; the learned ones as the daemon runs them;
        // with the preset's learned gain (as shipped) or without it (`--gain-refinement off`).
        func enhanced(_ basis: Basis, activationFloor: Float, network: Bool) throws -> Double {
            var configuration = configuration
            configuration.activationFloor = activationFloor
            if !network { configuration.gainRefinement = nil }
            var engine = try Engine(configuration: configuration, basis: basis, gainModel: preset.gainModel)
            let output = EngineHarness.run(&engine, [input], blockLengths: [256])[0]
            let latency = configuration.latencySamples
            return siSDR(reference: speech[..<(speech.count - latency)], estimate: output[(start + latency)...])
        }
        let noisy = siSDR(reference: speech, estimate: input[start...])
        for network in [false, true] {
            let shipped = try enhanced(preset.basis, activationFloor: configuration.activationFloor, network: network)
            let withLearned = try enhanced(basis, activationFloor: NoiseLearner.activationFloor, network: network)
            print("offline SI-SDR, learned gain \(network ? "on" : "off"): input \(noisy) dB, shipped atoms \(shipped) dB, learned atoms \(withLearned) dB")
            // The dictionary's gain (issue 14's bar) with the learned gain off; with it on, the network
            // already takes much of this whine (it was trained with synthetic machine noises) and
            // learning adds less, but never nothing: docs/PROTOCOL.md.
            #expect(withLearned - shipped >= (network ? 0.5 : 3), "learned gain \(network ? "on" : "off")")
        }
    }

    @Test("NaN, ±Inf and wild samples in the capture are taken as the engine takes them: the atoms equal those of the sanitised capture")
    func hostileCaptureIsLearnedAsTheEngineHearsIt() throws {
        let configuration = try Shipped.preset().engineConfiguration(channelCount: 1)
        let clean = Shipped.machine(seconds: 2, seed: 5).map { $0 * 0.5 }
        var hostile = clean, sanitised = clean
        for (i, value) in [(1000, Float.nan), (9000, .infinity), (17_000, 1e30), (25_000, -1e5)] {
            hostile[i] = value
            sanitised[i] = value.isFinite ? (value > 0 ? 8 : -8) : 0
        }
        // Before: "learning noise atoms failed: V[…] = nan: NMF data must be finite and ≥ 0", the
        // capture holding the ports' samples as they came.
        let learned = try NoiseLearner.learn([hostile], configuration: configuration, atoms: 4)
        let reference = try NoiseLearner.learn([sanitised], configuration: configuration, atoms: 4)
        #expect(learned.atoms == reference.atoms)
        #expect(learned.atoms.allSatisfy { $0.isFinite })
    }

    @Test("digital silence teaches nothing: a learn-failed error that says to connect a source")
    func silenceIsRefused() throws {
        let configuration = try Shipped.preset().engineConfiguration(channelCount: 1)
        do {
            _ = try NoiseLearner.learn([[Float](repeating: 0, count: 16_000)], configuration: configuration)
            Issue.record("silence was learned")
        } catch {
            #expect(error.code == .learnFailed && error.message.contains("Connect a source"), "\(error.message)")
        }
    }
}
