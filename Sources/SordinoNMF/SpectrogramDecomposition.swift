// SPDX-License-Identifier: GPL-3.0-or-later
// `decompose --spectrogram`: β-NMF of a given non-negative matrix, components as matrices, no audio.

import RealModule
import SordinoDSP

extension RecordingDecomposition {
    /// The outcome of `run(spectrogram:)`.
    public struct SpectrogramOutput: Sendable {
        /// components[k], bins × frames: M_k ⊙ V (`.mask`, so Σ_k equals V) or W_k H_k (`.magnitude`).
        public var components: [Matrix]
        public var basis: Matrix
        public var activations: Matrix
        public var objective: [Double]
        public var elapsedSeconds: [Double]
        public var stop: StopReason
    }

    /// Factorises V (bins × frames, finite, ≥ 0) as given: no STFT, so `frameLength`, `hopLength` and
    /// `window` do not apply, and complex NMF (which needs phases) is refused. `sampleRate` (Hz) is
    /// needed only for `.harmonic` initialisation, whose atoms assume bins = frameLength / 2 + 1.
    public func run(spectrogram v: Matrix, sampleRate: Int?,
                    progress: ((Int, Double) -> Void)? = nil) throws(NMFError) -> SpectrogramOutput {
        guard options.method == .nmf else {
            throw .invalidOption(name: "method", value: "complex with a spectrogram",
                                 allowed: "nmf: complex NMF needs the phases of audio input")
        }
        if options.fixedBasis == nil && options.initialisation == .harmonic && sampleRate == nil {
            throw .invalidOption(name: "init", value: "harmonic with a spectrogram",
                                 allowed: "random or nndsvd (harmonic atoms need a sample rate)")
        }
        try v.checkData()
        try checkBasis(bins: v.rows)
        let (w0, h0) = initialFactors(v, sampleRate: sampleRate ?? 0)
        let result = try Decomposer(nmfOptions).run(v, basis: w0, activations: h0, progress: progress)
        let w = result.basis, h = result.activations, model = w * h
        let bins = v.rows, frames = v.columns, rank = w.columns
        var components: [Matrix] = []
        for k in 0..<rank {
            var y = Matrix(rows: bins, columns: frames)
            for f in 0..<bins {
                for t in 0..<frames {
                    let part = w[f, k] * h[k, t], total = model[f, t]
                    y[f, t] = options.resynthesis == .magnitude ? part
                        : v[f, t] * (total > 0 ? part / total : 1 / Float(rank))
                }
            }
            components.append(y)
        }
        return SpectrogramOutput(components: components, basis: w, activations: h, objective: result.objective,
                                 elapsedSeconds: result.elapsedSeconds, stop: result.stop)
    }
}
