// SPDX-License-Identifier: GPL-3.0-or-later
// Decomposes one recording into K resynthesised components: STFT, factorisation, masks or magnitudes, ISTFT.

import RealModule
import SordinoDSP

/// The whole `sordino decompose` pipeline without files. Channels: every channel is analysed with the
/// same STFT and one factorisation is learned on the mean of their spectrograms (|X_c|^p averaged;
/// complex NMF: the complex mean), so a component is one source across channels; each component is
/// then resynthesised in every channel from that channel's own STFT, keeping the stereo image.
public struct RecordingDecomposition: Sendable {
    public enum Method: String, Sendable, CaseIterable { case nmf, complex }
    public enum Resynthesis: String, Sendable, CaseIterable {
        /// Y_kc = M_k ⊙ X_c with M_k = W_k H_k / Σ_j W_j H_j (complex NMF: Ȳ_k / X̄): the components sum to the input.
        case mask
        /// Y_kc = (W_k H_k)^(1/p) with channel c's phase (complex NMF: the component's own phase).
        case magnitude
    }

    public struct Options: Sendable {
        public var rank: Int = 8
        public var method: Method = .nmf
        public var nmf = DecompositionOptions()
        /// p: V = |X|^p (1 magnitude, 2 power); for β = 0 the IS model (WH)^(2/p) fits the power.
        public var domain: Double = 1
        public var initialisation: InitialisationMethod = .random
        public var seed: UInt64 = 1
        public var frameLength: Int = 2048
        public var hopLength: Int = 512
        public var window: WindowShape = .sqrtHann
        public var resynthesis: Resynthesis = .mask
        /// Fixed W (bins × atoms): only H (and, for complex NMF, the phases) is solved.
        public var fixedBasis: Matrix?
        /// λ ≥ 0 of complex NMF's L1 penalty on activations (`ComplexNMF.sparsity`).
        public var complexSparsity: Float = 0
        public var harmonic = HarmonicTemplates()
        /// Fundamentals for `.harmonic`, Hz; nil: from C3 upwards by semitones.
        public var fundamentals: [Double]?

        public init() {}
    }

    public struct Output: Sendable {
        /// components[k][c]: component k in channel c, as long as the input.
        public var components: [[[Float]]]
        public var basis: Matrix
        public var activations: Matrix
        /// The factorised V (bins × frames), channel mean.
        public var spectrogram: Matrix
        public var objective: [Double]
        public var elapsedSeconds: [Double]
        /// Why the factorisation stopped.
        public var stop: StopReason
        /// Complex NMF: each component's complex spectrogram on the channel mean, as resynthesised
        /// (Ȳ_k for `.mask`, W_k H_k e^(jφ_k) for `.magnitude`); empty for `.nmf`.
        public var complexComponents: [ComplexSpectrogram] = []
    }

    public let options: Options

    public init(_ options: Options) throws(NMFError) {
        guard options.rank >= 1 || options.fixedBasis != nil else {
            throw .invalidOption(name: "components", value: "\(options.rank)", allowed: "at least 1")
        }
        guard options.domain.isFinite, options.domain > 0, options.domain <= 4 else {
            throw .invalidOption(name: "domain", value: "\(options.domain)", allowed: "p in (0, 4]: 1 magnitude, 2 power")
        }
        self.options = options
    }

    var stft: ShortTimeFourierTransform {
        get throws(NMFError) {
            do { return try ShortTimeFourierTransform(frameLength: options.frameLength, hopLength: options.hopLength,
                                                      window: options.window) } catch { throw .engine(error) }
        }
    }

    /// The spectral factorisation options actually used (compression c = 2/p for β = 0).
    var nmfOptions: DecompositionOptions {
        var o = options.nmf
        o.compression = o.beta == 0 ? 2 / options.domain : 1
        o.updateBasis = options.fixedBasis == nil
        return o
    }

    /// Decomposes `channels` (equal lengths, ≥ 1 channel) recorded at `sampleRate` Hz.
    public func run(channels: [[Float]], sampleRate: Int,
                    progress: ((Int, Double) -> Void)? = nil) throws(NMFError) -> Output {
        guard let length = channels.first?.count, length > 0 else { throw .noFrames(what: "the recording") }
        let transform = try stft
        var spectra: [ComplexSpectrogram] = []
        do { for c in channels { spectra.append(try transform.analyse(c)) } } catch { throw .engine(error) }
        let bins = transform.binCount, frames = spectra[0].frameCount
        let scale = 1 / Float(channels.count)
        var v = Matrix(rows: bins, columns: frames)
        for x in spectra {
            let m = x.magnitude(power: options.domain)
            for i in v.values.indices { v.values[i] += m.values[i] * scale }
        }
        try checkBasis(bins: bins)
        let (w0, h0) = initialFactors(v, sampleRate: sampleRate)
        let rank = w0.columns
        var components = [[[Float]]](repeating: [], count: rank)
        func synthesise(_ y: ComplexSpectrogram) throws(NMFError) -> [Float] {
            do { return try transform.synthesise(y, sampleCount: length) } catch { throw .engine(error) }
        }

        if options.method == .complex {
            var mean = ComplexSpectrogram(binCount: bins, frameCount: frames,
                                          re: [Float](repeating: 0, count: bins * frames),
                                          im: [Float](repeating: 0, count: bins * frames))
            for x in spectra {
                for i in mean.re.indices { mean.re[i] += x.re[i] * scale; mean.im[i] += x.im[i] * scale }
            }
            let complex = try ComplexNMF(iterations: options.nmf.iterations, tolerance: options.nmf.tolerance,
                                         updateBasis: options.fixedBasis == nil, sparsity: options.complexSparsity)
            let result = try complex.run(mean, basis: w0, activations: h0, progress: progress)
            var made: [ComplexSpectrogram] = []
            for k in 0..<rank {
                let y = options.resynthesis == .mask ? result.auxiliaryComponent(k, of: mean)
                    : result.component(k, bins: bins, frames: frames)
                made.append(y)
                for x in spectra {
                    components[k].append(try synthesise(Self.carry(y, from: mean, to: x, exact: channels.count == 1)))
                }
            }
            return Output(components: components, basis: result.basis, activations: result.activations,
                          spectrogram: v, objective: result.objective, elapsedSeconds: result.elapsedSeconds,
                          stop: result.stop, complexComponents: made)
        }

        let result = try Decomposer(nmfOptions).run(v, basis: w0, activations: h0, progress: progress)
        let w = result.basis, h = result.activations
        var total = [Float](repeating: 0, count: bins * frames)
        for f in 0..<bins {
            for k in 0..<rank {
                let weight = w[f, k]
                for t in 0..<frames { total[f * frames + t] += weight * h[k, t] }
            }
        }
        for k in 0..<rank {
            for x in spectra {
                var y = x
                for f in 0..<bins {
                    let weight = w[f, k]
                    for t in 0..<frames {
                        let i = f * frames + t, part = weight * h[k, t]
                        switch options.resynthesis {
                        case .mask:
                            let gain = total[i] > 0 ? part / total[i] : 1 / Float(rank)
                            y.re[i] = gain * x.re[i]; y.im[i] = gain * x.im[i]
                        case .magnitude:
                            let magnitude = options.domain == 1 ? part : Float.pow(part, Float(1 / options.domain))
                            let mixture = (x.re[i] * x.re[i] + x.im[i] * x.im[i]).squareRoot()
                            if mixture > 0 {
                                y.re[i] = magnitude * x.re[i] / mixture; y.im[i] = magnitude * x.im[i] / mixture
                            } else {
                                y.re[i] = magnitude; y.im[i] = 0
                            }
                        }
                    }
                }
                components[k].append(try synthesise(y))
            }
        }
        return Output(components: components, basis: w, activations: h, spectrogram: v,
                      objective: result.objective, elapsedSeconds: result.elapsedSeconds, stop: result.stop)
    }

    /// A fixed basis must have one row per bin of the STFT.
    func checkBasis(bins: Int) throws(NMFError) {
        guard let fixed = options.fixedBasis, fixed.rows != bins else { return }
        throw .basisBins(basisBins: fixed.rows, atoms: fixed.columns, frameLength: options.frameLength, bins: bins)
    }

    /// W₀ and H₀ for V: the fixed basis, or `options.initialisation`.
    func initialFactors(_ v: Matrix, sampleRate: Int) -> (Matrix, Matrix) {
        if let fixed = options.fixedBasis {
            return (fixed, Initialisation.activations(for: v, basis: fixed, seed: options.seed))
        }
        switch options.initialisation {
        case .random:
            return Initialisation.random(for: v, rank: options.rank, seed: options.seed)
        case .nndsvd:
            return Initialisation.nndsvd(for: v, rank: options.rank, seed: options.seed)
        case .harmonic:
            let f0 = options.fundamentals ?? HarmonicTemplates.semitonesFromC3(options.rank)
            let w = options.harmonic.basis(fundamentals: f0, sampleRate: sampleRate, fftLength: options.frameLength)
            return (w, Initialisation.activations(for: v, basis: w, seed: options.seed))
        }
    }

    /// y (estimated on the channel mean X̄) carried to channel x by the ratio x / X̄ (1 where X̄ ≈ 0).
    static func carry(_ y: ComplexSpectrogram, from mean: ComplexSpectrogram, to x: ComplexSpectrogram,
                      exact: Bool) -> ComplexSpectrogram {
        if exact { return y }
        var out = y
        for i in y.re.indices {
            let d = mean.re[i] * mean.re[i] + mean.im[i] * mean.im[i]
            guard d > 1e-20 else { continue }
            // ratio = x · conj(X̄) / |X̄|²
            let rRe = (x.re[i] * mean.re[i] + x.im[i] * mean.im[i]) / d
            let rIm = (x.im[i] * mean.re[i] - x.re[i] * mean.im[i]) / d
            out.re[i] = y.re[i] * rRe - y.im[i] * rIm
            out.im[i] = y.re[i] * rIm + y.im[i] * rRe
        }
        return out
    }

    /// One atom per template recording: rank-1 NMF of each template's V (mean over its channels),
    /// started from the harmonic template of `fundamentals[i]` (default: C3 upwards by semitones).
    /// Returns W, bins × templates.count, atoms scaled to unit sum.
    public func learnTemplates(_ templates: [[[Float]]], sampleRate: Int) throws(NMFError) -> Matrix {
        let transform = try stft
        let f0 = options.fundamentals ?? HarmonicTemplates.semitonesFromC3(templates.count)
        guard f0.count >= templates.count else {
            throw .invalidOption(name: "f0", value: "\(f0.count) values",
                                 allowed: "one fundamental per template file (\(templates.count))")
        }
        var basis = Matrix(rows: transform.binCount, columns: templates.count)
        var o = nmfOptions
        o.updateBasis = true
        let decomposer = try Decomposer(o)
        for (index, channels) in templates.enumerated() {
            var v = Matrix(rows: transform.binCount, columns: 1)
            var first = true
            for c in channels {
                let x: ComplexSpectrogram
                do { x = try transform.analyse(c) } catch { throw .engine(error) }
                let m = x.magnitude(power: options.domain)
                if first { v = Matrix(rows: m.rows, columns: m.columns); first = false }
                for i in v.values.indices { v.values[i] += m.values[i] / Float(channels.count) }
            }
            let w0 = options.harmonic.basis(fundamentals: [f0[index]], sampleRate: sampleRate,
                                            fftLength: options.frameLength)
            let h0 = Initialisation.activations(for: v, basis: w0, seed: options.seed)
            let atom = try decomposer.run(v, basis: w0, activations: h0).basis
            let sum = atom.values.reduce(0, +)
            for f in 0..<basis.rows { basis[f, index] = sum > 0 ? atom[f, 0] / sum : 0 }
        }
        return basis
    }
}
