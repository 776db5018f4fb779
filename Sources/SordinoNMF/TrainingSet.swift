// SPDX-License-Identifier: GPL-3.0-or-later
// Training data: many recordings turned into one V with the engine's STFT, silent frames dropped.

import RealModule
import SordinoDSP

/// V (bins × frames) of many mono signals, analysed with exactly the engine's STFT (`Spectrogram`),
/// keeping only frames worth learning from: digital silence (an all-zero frame) is always dropped,
/// and with `relativeFloorDecibels` set, so is every frame whose energy Σ_f |X_f|² lies more than that
/// many dB below the loudest frame *of the same signal* (per signal, so a quiet recording is not
/// erased by a loud one). Frames are concatenated in signal order.
///
/// Memory: V itself (4 · bins · frames bytes: 257 × 60 000 frames ≈ 62 MB at 16 kHz, 769 × 60 000
/// ≈ 185 MB for a 48 kHz preset) plus one signal's spectrogram at a time. To stay at that peak
/// (rather than 2 × V for a frame list then its transpose) each signal is analysed twice: once to
/// count its kept frames, once to fill V. Allocates; offline only.
public struct TrainingSet: Sendable {
    /// V, bins × kept frames.
    public let spectrogram: Matrix
    /// Kept frames per input signal, in order.
    public let keptFrames: [Int]
    /// Analysed frames per input signal, in order.
    public let analysedFrames: [Int]

    public var binCount: Int { spectrogram.rows }
    public var frameCount: Int { spectrogram.columns }

    /// Analyses `signals` (mono, at `configuration.sampleRate`) and keeps frames as described above.
    /// `relativeFloorDecibels`: > 0, e.g. 60; nil keeps every frame that is not digital silence.
    public init(signals: [[Float]], configuration: EngineConfiguration,
                relativeFloorDecibels: Float? = 60) throws(NMFError) {
        if let floor = relativeFloorDecibels, !(floor.isFinite && floor > 0) {
            throw .invalidOption(name: "relativeFloorDecibels", value: "\(floor)", allowed: "a finite level > 0 dB, or nil")
        }
        let bins = configuration.binCount
        let ratio = relativeFloorDecibels.map { Float.exp10(-$0 / 10) } ?? 0
        // Pass 1: which frames each signal keeps.
        var kept: [Int] = [], analysed: [Int] = []
        for signal in signals {
            let s = try Self.analyse(signal, configuration)
            kept.append(Self.keptFrameIndices(s, bins: bins, spectrumExponent: configuration.spectrumExponent,
                                              energyRatio: ratio).count)
            analysed.append(s.frameCount)
        }
        let total = kept.reduce(0, +)
        guard total > 0 else { throw .noFrames(what: "the training set (\(signals.count) signals)") }
        // Pass 2: fill V column by column.
        var v = Matrix(rows: bins, columns: total)
        var column = 0
        for signal in signals {
            let s = try Self.analyse(signal, configuration)
            let indices = Self.keptFrameIndices(s, bins: bins, spectrumExponent: configuration.spectrumExponent,
                                                energyRatio: ratio)
            v.values.withUnsafeMutableBufferPointer { target in
                s.values.withUnsafeBufferPointer { source in
                    for t in indices {
                        for f in 0..<bins { target[f * total + column] = source[t * bins + f] }
                        column += 1
                    }
                }
            }
        }
        spectrogram = v
        keptFrames = kept
        analysedFrames = analysed
    }

    private static func analyse(_ signal: [Float], _ configuration: EngineConfiguration) throws(NMFError) -> Spectrogram {
        do throws(EngineError) { return try Spectrogram(samples: signal, configuration: configuration) }
        catch { throw .engine(error) }
    }

    /// Frames that are not all zero and whose energy is ≥ `energyRatio` × the signal's loudest.
    static func keptFrameIndices(_ s: Spectrogram, bins: Int, spectrumExponent: Int, energyRatio: Float) -> [Int] {
        var energies = [Double](repeating: 0, count: s.frameCount)
        var silent = [Bool](repeating: true, count: s.frameCount)
        for t in 0..<s.frameCount {
            var energy = 0.0
            for f in 0..<bins {
                let x = Double(s.values[t * bins + f])
                if x != 0 { silent[t] = false }
                energy += spectrumExponent == 2 ? x : x * x   // |X|² from V = |X|^q
            }
            energies[t] = energy
        }
        let threshold = (energies.max() ?? 0) * Double(energyRatio)
        return (0..<s.frameCount).filter { !silent[$0] && energies[$0] >= threshold }
    }
}
