// SPDX-License-Identifier: GPL-3.0-or-later
// Harmonic spectral templates: Gaussian peaks at the harmonics of each fundamental, for fixed or initial bases.

import RealModule

/// Atoms made of Gaussian peaks at the harmonics n·f0 (n = 1…`peakCount`, below Nyquist), peak n
/// having amplitude `damping`^(n−1), each with `variance` in bins² around its (fractional) bin
/// n·f0·fftLength/sampleRate. Every atom is scaled to unit sum. Used by `--init harmonic` and as the
/// start of `--templates`.
public struct HarmonicTemplates: Sendable, Hashable {
    /// Amplitude ratio of consecutive harmonics, in (0, 1].
    public var damping: Double = 0.9
    /// Variance of each Gaussian peak, in bins² (> 0).
    public var variance: Double = 1.0
    /// Harmonics per atom, at least 1.
    public var peakCount: Int = 50

    public init(damping: Double = 0.9, variance: Double = 1.0, peakCount: Int = 50) {
        self.damping = damping
        self.variance = variance
        self.peakCount = peakCount
    }

    /// C3 in Hz, the lowest default fundamental.
    public static let c3Hertz = 130.81

    /// `count` fundamentals from C3 upwards by equal-tempered semitones.
    public static func semitonesFromC3(_ count: Int) -> [Double] {
        (0..<count).map { c3Hertz * Double.pow(2, Double($0) / 12) }
    }

    /// W, bins × f0s.count (bins = fftLength/2 + 1), one atom per fundamental (in Hz, > 0).
    public func basis(fundamentals: [Double], sampleRate: Int, fftLength: Int) -> Matrix {
        let bins = fftLength / 2 + 1
        var w = Matrix(rows: bins, columns: fundamentals.count)
        let hertzPerBin = Double(sampleRate) / Double(fftLength)
        let reach = 6 * variance.squareRoot()   // peaks are negligible beyond 6 standard deviations
        for (k, f0) in fundamentals.enumerated() {
            var column = [Double](repeating: 0, count: bins)
            var amplitude = 1.0
            for n in 1...max(1, peakCount) {
                let centre = Double(n) * f0 / hertzPerBin
                if centre > Double(bins - 1) { break }
                let lo = max(0, Int((centre - reach).rounded(.down))), hi = min(bins - 1, Int((centre + reach).rounded(.up)))
                if lo <= hi {
                    for f in lo...hi {
                        let d = Double(f) - centre
                        column[f] += amplitude * Double.exp(-d * d / (2 * variance))
                    }
                }
                amplitude *= damping
            }
            let sum = column.reduce(0, +)
            for f in 0..<bins { w[f, k] = sum > 0 ? Float(column[f] / sum) : 1 / Float(bins) }
        }
        return w
    }
}
