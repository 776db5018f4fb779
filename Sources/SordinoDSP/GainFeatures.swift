// SPDX-License-Identifier: GPL-3.0-or-later
// The learned gain's inputs per frame: band energies of the input and of the NMF estimates, band SNRs, deltas, periodicity, flux.

/// Computes the features of one frame for the gain network. With B = `bands.bandCount`, the
/// feature vector is 6·B + 3 floats (`featureCount`):
///
/// - per band b, at `6b ..< 6b + 6`: log₁₀ of the frame's band energy E (power, Σ|X|²); its change
///   since the last frame; log₁₀(Ŝ_b/E) and log₁₀(N̂_b/E), the NMF speech and noise estimates'
///   share (as power); log₁₀(E/M_b), the band SNR over the mean spectrum of noise-only frames; the
///   mean Wiener mask in the band (before any floor);
/// - then: the periodicity (largest normalised autocorrelation of the windowed frame at lags of
///   2–16.7 ms, pitch 60–500 Hz, from the inverse FFT of |X|²); the spectral flux (mean positive
///   change of the band log energies); log₁₀ of the frame's energy over the noise-only mean's.
///
/// Allocation-free after `init`; `compute` costs O(binCount) plus one inverse FFT.
struct GainFeatures: ~Copyable {
    static let perBand = 6
    static let global = 3
    let bandCount: Int
    let featureCount: Int
    private let binCount: Int
    private let spectrumExponent: Int
    private let edges: UnsafeMutablePointer<Int>      // bandCount + 1
    private let lagRange: (Int, Int)                  // in samples of the periodicity transform (2–20 ms)
    private let fft: RealFFT
    private let storage: FloatArena
    private let power: UnsafeMutablePointer<Float>    // binCount: |X|²
    private let bandStride: Int                         // bandCount padded to 8
    private let bandLogs: UnsafeMutablePointer<Float>   // 4 × bandStride: ln of E, Ŝ, N̂, M per band
    private let bandMask: UnsafeMutablePointer<Float>   // bandStride: the mask's band mean

    init(bands: GainBands, sampleRate: Int, fftLength: Int, spectrumExponent: Int) throws(EngineError) {
        bandCount = bands.bandCount
        featureCount = Self.perBand * bands.bandCount + Self.global
        binCount = bands.binCount
        self.spectrumExponent = spectrumExponent
        edges = .allocate(capacity: bands.edges.count)
        edges.initialize(from: bands.edges, count: bands.edges.count)
        // The periodicity's transform: at most 512 points (see `periodicity()`); lags scale with it.
        let periodicityLength = min(fftLength, 512), scale = Double(periodicityLength) / Double(fftLength)
        let longest = Int((Double(min(sampleRate * 10 / 600, fftLength / 2)) * scale).rounded(.down))
        lagRange = (min(Int((Double(sampleRate / 500) * scale).rounded()), longest), longest)
        fft = try RealFFT(length: periodicityLength)
        bandStride = paddedToLanes(bands.bandCount)
        var arena = FloatArena(capacity: bands.binCount + 5 * bandStride)
        power = arena.take(bands.binCount)
        bandLogs = arena.take(4 * bandStride); bandMask = arena.take(bandStride)
        for i in 0..<(4 * bandStride) { bandLogs[i] = 1 }
        storage = arena
    }

    deinit { edges.deallocate() }

    /// Fills `features` (featureCount) for a frame: `v` = |X|^q, `speech`, `noise` the NMF estimates
    /// Ŝ, N̂ and `noiseMean` the noise-only mean, in the units of V; `mask` the Wiener mask before the
    /// floor; `previous` (bandCount) the last frame's band log energies, updated here (`primed`
    /// false: this frame starts them, its deltas are 0). Real-time safe.
    @_noLocks func compute(v: UnsafePointer<Float>, speech: UnsafePointer<Float>, noise: UnsafePointer<Float>,
                           noiseMean: UnsafePointer<Float>, mask: UnsafePointer<Float>,
                           previous: UnsafeMutablePointer<Float>, primed: Bool,
                           into features: UnsafeMutablePointer<Float>) {
        let log10e: Float = 0.434_294_48, tiny: Float = 1e-12
        let squared = spectrumExponent == 1
        // Band sums first (rows of `bandLogs`: E, Ŝ, N̂, M as power, each + tiny): eight bins at a
        // time, then the band's last bins one by one with the four side by side in a vector's
        // lanes (E as power kept for the periodicity); then their logs eight at a time, then the
        // features.
        let stride = bandStride
        var frameEnergy: Float = 0, meanEnergy: Float = 0
        for b in 0..<bandCount {
            var f = edges[b]
            var energy8 = SIMD8<Float>.zero, speech8 = SIMD8<Float>.zero, noise8 = SIMD8<Float>.zero
            var mean8 = SIMD8<Float>.zero, mask8 = SIMD8<Float>.zero
            while f + 8 <= edges[b + 1] {
                var e = load8(v + f), s = load8(speech + f), n = load8(noise + f), m = load8(noiseMean + f)
                if squared { e *= e; s *= s; n *= n; m *= m }
                store8(e, power + f)
                energy8 += e; speech8 += s; noise8 += n; mean8 += m
                mask8 += load8(mask + f)
                f += 8
            }
            var sums = SIMD4<Float>(energy8.sum(), speech8.sum(), noise8.sum(), mean8.sum()), maskSum = mask8.sum()
            for f in f..<edges[b + 1] {
                var x = SIMD4<Float>(v[f], speech[f], noise[f], noiseMean[f])
                if squared { x *= x }
                power[f] = x[0]
                sums += x
                maskSum += mask[f]
            }
            bandLogs[b] = sums[0] + tiny
            bandLogs[stride + b] = sums[1] + tiny
            bandLogs[2 * stride + b] = sums[2] + tiny
            bandLogs[3 * stride + b] = sums[3] + tiny
            bandMask[b] = maskSum / Float(edges[b + 1] - edges[b])
            frameEnergy += sums[0]
            meanEnergy += sums[3]
        }
        var i = 0
        while i < 4 * stride {   // the padding lanes too (finite, unused)
            store8(fastLog(pointwiseMax(load8(bandLogs + i), SIMD8(repeating: 1e-30))), bandLogs + i)
            i += 8
        }
        var flux: Float = 0
        for b in 0..<bandCount {
            let logE = bandLogs[b], logS = bandLogs[stride + b], logN = bandLogs[2 * stride + b]
            let logM = bandLogs[3 * stride + b]
            let energy = log10e * logE
            let delta = primed ? energy - previous[b] : 0
            previous[b] = energy
            flux += max(delta, 0)
            let x = features + Self.perBand * b
            x[0] = energy
            x[1] = delta
            x[2] = log10e * (logS - logE)
            x[3] = log10e * (logN - logE)
            x[4] = log10e * (logE - logM)
            x[5] = bandMask[b]
        }
        let x = features + Self.perBand * bandCount
        x[0] = periodicity()
        x[1] = flux / Float(bandCount)
        x[2] = log10e * (fastLog(frameEnergy + tiny) - fastLog(meanEnergy + tiny))
    }

    /// Largest autocorrelation of the windowed frame, over its energy, at lags `lagRange`: ≈ 1 for
    /// voiced speech, low for noise. From the inverse FFT of `power`'s first 257 bins at 512 points:
    /// at a longer FFT (the 44.1 and 48 kHz presets) that is the autocorrelation of the band below
    /// about 8 kHz, where voicing is, with lags every fftLength/512 samples, for a third of a full
    /// inverse FFT's cost. Real-time safe.
    @_noLocks private func periodicity() -> Float {
        let spectrum = fft.spectrum, bins = fft.binCount
        var f = 0
        while f + 4 <= bins {   // four bins' (power, 0) pairs a vector
            let p = SIMD4<Float>(power[f], power[f + 1], power[f + 2], power[f + 3])
            store8(SIMD8(p[0], 0, p[1], 0, p[2], 0, p[3], 0), spectrum + 2 * f)
            f += 4
        }
        while f < bins {
            spectrum[2 * f] = power[f]
            spectrum[2 * f + 1] = 0
            f += 1
        }
        fft.inverse()
        let r = fft.time
        guard r[0] > 0 else { return 0 }
        // The largest r[lag] over the lag range (0 if none is larger; a NaN is passed over as a
        // comparison would): eight lags a vector, then the last few.
        var best8 = SIMD8<Float>(repeating: 0), lag = lagRange.0
        while lag + 8 <= lagRange.1 + 1 {
            let x = load8(r + lag)
            best8 = best8.replacing(with: x, where: x .> best8)
            lag += 8
        }
        var best = best8.max()
        while lag <= lagRange.1 {
            if r[lag] > best { best = r[lag] }
            lag += 1
        }
        return best / r[0]
    }
}
