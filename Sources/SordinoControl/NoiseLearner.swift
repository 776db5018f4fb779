// SPDX-License-Identifier: GPL-3.0-or-later
// learn-noise off the audio thread: β-NMF noise atoms for captured input, and the basis that puts them in the noise part.

import SordinoDSP
import SordinoNMF

/// Noise atoms learned from live input, with the analysis they were learned under (they fit only
/// an engine with the same rate, STFT and spectrum exponent).
public struct LearnedNoise: Sendable, Equatable {
    /// Frequency bins and atoms; `atoms` is bins × atomCount, bin-major (as `Basis.values`),
    /// every atom summing to 1 (the scale the live solve and its activation floor expect).
    public let binCount: Int
    public let atomCount: Int
    public let atoms: [Float]
    /// Seconds of input per channel, and the frames (all channels) the atoms were learned on.
    public let seconds: Double
    public let frames: Int
    /// D_β(V | W·H + ε) at the start and at the end of the factorisation, and the passes run.
    public let initialObjective: Double
    public let objective: Double
    public let iterations: Int
    /// β of the factorisation (the preset's).
    public let beta: BetaDivergence
    private let analysis: Analysis

    /// What the atoms depend on.
    struct Analysis: Sendable, Equatable {
        var sampleRate, frameLength, hopLength, fftLength, spectrumExponent: Int
        var window: WindowShape

        init(_ c: EngineConfiguration) {
            sampleRate = c.sampleRate; frameLength = c.frameLength; hopLength = c.hopLength
            fftLength = c.fftLength; spectrumExponent = c.spectrumExponent; window = c.window
        }
    }

    init(binCount: Int, atomCount: Int, atoms: [Float], seconds: Double, frames: Int, initialObjective: Double,
         objective: Double, iterations: Int, configuration: EngineConfiguration) {
        self.binCount = binCount
        self.atomCount = atomCount
        self.atoms = atoms
        self.seconds = seconds
        self.frames = frames
        self.initialObjective = initialObjective
        self.objective = objective
        self.iterations = iterations
        beta = configuration.beta
        analysis = Analysis(configuration)
    }

    /// True when an engine with `configuration` analyses input as these atoms were learned.
    public func fits(_ configuration: EngineConfiguration) -> Bool {
        Analysis(configuration) == analysis && configuration.binCount == binCount
    }

    /// `preset`'s atoms unchanged (speech, then noise), then these atoms at the end of the noise
    /// part. Learned atoms get the mean of the preset's noise-atom penalties, if it has any.
    /// Appending keeps the preset's noise atoms for the noises the capture did not hold; measured
    /// on the whine of the tests it also beat replacing them (docs/PROTOCOL.md).
    public func basis(extending preset: Basis) throws(ControlFailure) -> Basis {
        guard preset.binCount == binCount else {
            throw ControlFailure(.learnFailed, "the learned atoms have \(binCount) bins, the preset \(preset.binCount); learn again with this preset")
        }
        let rank = preset.rank + atomCount
        var values = [Float](repeating: 0, count: binCount * rank)
        for f in 0..<binCount {
            for k in 0..<preset.rank { values[f * rank + k] = preset[bin: f, atom: k] }
            for k in 0..<atomCount { values[f * rank + preset.rank + k] = atoms[f * atomCount + k] }
        }
        let penalties = preset.atomPenalties.map { p -> [Float] in
            let noise = p[preset.speechRank...]
            let mean = noise.isEmpty ? 0 : noise.reduce(0, +) / Float(noise.count)
            return p + [Float](repeating: mean, count: atomCount)
        }
        do {
            return try Basis(binCount: binCount, speechRank: preset.speechRank, noiseRank: preset.noiseRank + atomCount,
                             values: values, atomPenalties: penalties)
        } catch {
            throw ControlFailure(.learnFailed, "the learned atoms do not form a valid basis (\(error)); learn again")
        }
    }
}

/// Learns noise atoms from captured input with the training code (`TrainingSet`, `BetaNMF`): V of
/// every channel with the engine's own STFT (frames more than 60 dB below the loudest dropped),
/// then β-NMF with the preset's β. The capture should hold the noise alone: whatever is in it
/// becomes noise to the engine. With a band limit (the 48 kHz presets) the atoms are learned on
/// the bins the solve covers and are 0 above, as `sordino train --band-limit-hz` makes them: the
/// band above belongs to the preset's high-band atom. Allocates; never on the audio thread.
public enum NoiseLearner {
    /// Atoms learned when the request names none: enough for a whine or hum with its harmonics and
    /// a broadband part, few enough that 5 s of input pin them down. Measured with
    /// `activationFloor` on the tests' pulsed 240 Hz whine (speech-16k, −5 dB SNR, floor −30 dB,
    /// offline): 16 atoms +2.5 dB SI-SDR over the shipped atoms, 32 atoms +3.2 dB; each atom adds
    /// 1/128 to the shipped presets' solve cost (32: +25 %).
    public static var defaultAtoms: Int { 32 }
    public static var atomRange: ClosedRange<Int> { 1...64 }
    /// Seconds a request may ask for.
    public static var secondsRange: ClosedRange<Double> { 1...30 }
    /// Factorisation passes (each an H step and a W step); 5 s at 16 kHz take ~0.5 s.
    public static var iterations: Int { 200 }
    /// The activation floor (a fraction of each frame's cold-start activation) of engines that use
    /// learned atoms, unless the command line sets one. The shipped presets' 0.7 keeps every
    /// atom's activation up, which steadies generic atoms but also keeps atoms that fit the noise
    /// from taking it. Measured offline with speech-16k (SI-SDR of the shipped atoms at 0.7, then
    /// of 16 or 32 learned atoms beside them at 0.7 / 0.35 / 0): on the tests' pulsed 240 Hz whine
    /// at −5 dB SNR, floor −30 dB: −1.0; 16 atoms 1.1 / 1.5 / 3.5, 32 atoms – / 2.1 / –; on a steady
    /// 930 Hz whine at 0 dB SNR, floor −12 dB: 10.2; 16 atoms 10.4 / 10.8 / 8.7, 32 atoms – / 10.8 / –.
    /// 0 wins on the pulsed noise but loses 1.5 dB on the steady one; 0.35 is never worse.
    public static var activationFloor: Float { 0.35 }

    /// Learns `atoms` noise atoms from `channels` (mono signals at `configuration.sampleRate`), with
    /// their NaN and ±Inf samples taken as 0 and samples beyond ±`Engine.outputLimit` clamped to it,
    /// as the engine takes them (the capture holds the ports' samples as they came; the daemon's
    /// status counts those). `progress` gets (pass, objective) every pass, on the caller's thread.
    public static func learn(_ channels: [[Float]], configuration: EngineConfiguration, atoms: Int = defaultAtoms,
                             seed: UInt64 = 0x4E4F_4953_4500_0001,
                             progress: ((_ pass: Int, _ objective: Double) -> Void)? = nil) throws(ControlFailure) -> LearnedNoise {
        var channels = channels
        for c in channels.indices {
            channels[c].withUnsafeMutableBufferPointer { x in
                guard let base = x.baseAddress else { return }
                _ = sanitiseSamples(base, count: x.count, limit: Engine.outputLimit)
            }
        }
        let seconds = Double(channels.first?.count ?? 0) / Double(configuration.sampleRate)
        let set: TrainingSet, result: BetaNMF.Factorisation
        do throws(NMFError) {
            set = try TrainingSet(signals: channels, configuration: configuration, relativeFloorDecibels: 60)
            let solved = configuration.solvedBinCount, frames = set.frameCount
            let v = solved == set.binCount ? set.spectrogram
                : Matrix(rows: solved, columns: frames, values: Array(set.spectrogram.values[..<(solved * frames)]))
            let nmf = try BetaNMF(.init(rank: atoms, beta: configuration.beta, iterations: iterations, seed: seed))
            result = try nmf.factorise(v) { pass, objective in progress?(pass, objective) }
        } catch {
            if case .noFrames = error {
                throw ControlFailure(.learnFailed, "the \(formatted(seconds)) s captured held only digital silence: nothing fed "
                                     + "the daemon's inputs. Connect a source to in_1… (e.g. `jack_connect system:capture_1 sordino:in_1`) and retry")
            }
            throw ControlFailure(.learnFailed, "learning noise atoms failed: \(error)")
        }
        // bins × atoms, 0 above the band limit.
        let bins = set.binCount
        var values = result.basis.values + [Float](repeating: 0, count: (bins - result.basis.rows) * atoms)
        for k in 0..<atoms {
            var sum: Float = 0
            for f in 0..<bins { sum += values[f * atoms + k] }
            guard sum > 0, sum.isFinite else {
                throw ControlFailure(.learnFailed, "atom \(k + 1) of \(atoms) came out empty: the input has too little "
                                     + "variety for \(atoms) atoms; ask for fewer (\"atoms\") or capture longer")
            }
            for f in 0..<bins { values[f * atoms + k] /= sum }
        }
        return LearnedNoise(binCount: bins, atomCount: atoms, atoms: values, seconds: seconds, frames: set.frameCount,
                            initialObjective: result.initialObjective, objective: result.objective.last ?? result.initialObjective,
                            iterations: result.objective.count, configuration: configuration)
    }

    /// Seconds to one decimal, e.g. "5.0".
    public static func formatted(_ seconds: Double) -> String { "\((seconds * 10).rounded() / 10)" }
}
