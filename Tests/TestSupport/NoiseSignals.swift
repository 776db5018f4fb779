// SPDX-License-Identifier: GPL-3.0-or-later
// A noise unlike the shipped dictionaries' (a whine with harmonics plus band-limited noise), and SI-SDR, for the learn-noise tests.

import RealModule

extension Signal {
    /// A synthetic machine noise: a whine at `fundamental` Hz (wobbling ±1 % at 0.3 Hz) with its
    /// harmonics 2…6 at 1/k amplitude, plus white noise through a two-pole band-pass at 2.5 kHz
    /// (Q 3), the two at equal power; peak about `amplitude`. `pulsed`: switched on and off 3.7
    /// times a second (half the time on, 10 ms edges, off at −20 dB), as a machine cycling, which
    /// the noise trackers of the shipped presets cannot follow. Deterministic for the seed.
    public static func whineNoise(seconds: Double, sampleRate: Int = 16_000, fundamental: Double = 930,
                                  pulsed: Bool = false, amplitude: Float = 0.3, seed: UInt64) -> [Float] {
        let count = Int(seconds * Double(sampleRate)), rate = Double(sampleRate)
        var g = SeededGenerator(seed: seed)
        // RBJ band-pass (constant 0 dB peak gain), centre 2.5 kHz, Q 3.
        let w0 = 2 * Double.pi * 2500 / rate, alpha = Double.sin(w0) / (2 * 3)
        let a0 = 1 + alpha
        let b0 = alpha / a0, b2 = -alpha / a0, a1 = -2 * Double.cos(w0) / a0, a2 = (1 - alpha) / a0
        var (x1, x2, y1, y2) = (0.0, 0.0, 0.0, 0.0)
        var tone = [Double](repeating: 0, count: count), band = [Double](repeating: 0, count: count)
        for n in 0..<count {
            let t = Double(n) / rate
            // Phase of f0·(1 + 0.01·sin(2π·0.3·t)), integrated in closed form.
            let phase = 2 * Double.pi * fundamental * (t - 0.01 / (2 * .pi * 0.3) * Double.cos(2 * .pi * 0.3 * t))
            for k in 1...6 where Double(k) * fundamental < rate / 2 { tone[n] += Double.sin(Double(k) * phase) / Double(k) }
            let x = Double(2 * g.unit() - 1)
            let y = b0 * x + b2 * x2 - a1 * y1 - a2 * y2
            (x2, x1, y2, y1) = (x1, x, y1, y)
            band[n] = y
        }
        func power(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 } / Double(max(v.count, 1)) }
        let balance = (power(tone) / max(power(band), 1e-12)).squareRoot()
        var mixed = zip(tone, band).map { $0 + balance * $1 }
        if pulsed {
            for n in 0..<count {
                let gate = max(0, min(1, 0.5 + 8 * Double.sin(2 * .pi * 3.7 * Double(n) / rate)))
                mixed[n] *= 0.1 + 0.9 * gate
            }
        }
        let peak = mixed.reduce(0) { max($0, abs($1)) }
        return mixed.map { Float(Double(amplitude) * $0 / max(peak, 1e-12)) }
    }
}

/// Scale-invariant signal-to-distortion ratio of `estimate` against `reference` in dB (Le Roux et
/// al. 2019), over their common length.
public func siSDR(reference: some Collection<Float>, estimate: some Collection<Float>) -> Double {
    var dot = 0.0, energy = 0.0, estimateEnergy = 0.0
    for (r, e) in zip(reference, estimate) {
        dot += Double(r) * Double(e)
        energy += Double(r) * Double(r)
        estimateEnergy += Double(e) * Double(e)
    }
    guard energy > 0 else { return -.infinity }
    // ‖αr‖² = dot²/energy; the residual ‖e − αr‖² = ‖e‖² − dot²/energy.
    let target = dot * dot / energy, residual = estimateEnergy - target
    guard residual > 0 else { return .infinity }
    return 10 * Double.log10(target / residual)
}
