// SPDX-License-Identifier: GPL-3.0-or-later
// Seeded test data for the factorisation tests and a plain double-precision β-NMF to check against.

import RealModule
import SordinoDSP
import SordinoNMF

enum Fixture {
    /// rows × columns values u² + 0.01·u' with u, u' uniform in [0, 1): non-negative, spread, seeded.
    static func randomNonNegative(rows: Int, columns: Int, seed: UInt64) -> Matrix {
        var generator = SplitMix64(seed: seed)
        var m = Matrix(rows: rows, columns: columns)
        for i in m.values.indices {
            let u = generator.nextUnitFloat()
            m.values[i] = u * u + 0.01 * generator.nextUnitFloat()
        }
        return m
    }

    /// A voiced-speech-like test signal at 16 kHz: a harmonic tone whose fundamental glides
    /// 120 → 220 Hz with 20 harmonics of falling amplitude, an amplitude envelope at 4 Hz, and white
    /// noise 30 dB below. Deterministic for `seed`.
    static func harmonicPlusNoise(seconds: Double, seed: UInt64) -> [Float] {
        let rate = 16_000.0, count = Int(seconds * rate)
        var generator = SplitMix64(seed: seed)
        var signal = [Float](repeating: 0, count: count)
        var phase = 0.0
        for n in 0..<count {
            let time = Double(n) / rate
            let f0 = 120 + 100 * time / seconds
            phase += 2 * Double.pi * f0 / rate
            var x = 0.0
            for harmonic in 1...20 { x += Double.sin(Double(harmonic) * phase) / Double(harmonic) }
            let envelope = 0.55 + 0.45 * Double.sin(2 * Double.pi * 4 * time)
            signal[n] = Float(0.1 * envelope * x) + 0.003 * (2 * generator.nextUnitFloat() - 1)
        }
        return signal
    }

    /// White noise uniform in [−amplitude, amplitude).
    static func whiteNoise(count: Int, amplitude: Float, seed: UInt64) -> [Float] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in amplitude * (2 * generator.nextUnitFloat() - 1) }
    }

    /// V (bins × frames) of `harmonicPlusNoise` with the default engine configuration (257 bins).
    static func harmonicSpectrogram(seconds: Double = 1, seed: UInt64 = 7) throws -> Matrix {
        let s = try Spectrogram(samples: harmonicPlusNoise(seconds: seconds, seed: seed),
                                configuration: EngineConfiguration())
        return Matrix(rows: s.frameCount, columns: s.binCount, values: s.values).transposed()
    }
}

/// A deliberately plain β-NMF in double precision: the textbook updates written out with loops,
/// no chunks, no BLAS, no shared code with `BetaNMF` except `BetaDivergence` for the cost.
struct ReferenceNMF {
    let beta: Double
    let sparsity: Double
    /// 0 none, 1 unit sum, 2 unit L2.
    let normalisation: Int
    let epsilon = Double(spectralEpsilon), floor = Double(activationFloor)

    var gamma: Double { beta < 1 ? 1 / (2 - beta) : beta > 2 ? 1 / (beta - 1) : 1 }

    /// Runs `iterations` of: H update, W update, atom normalisation; returns the objective after each.
    func run(v: [[Double]], w: inout [[Double]], h: inout [[Double]], iterations: Int) -> [Double] {
        let bins = v.count, frames = v[0].count, rank = h.count
        func model() -> [[Double]] {
            (0..<bins).map { f in (0..<frames).map { t in
                var s = 0.0
                for k in 0..<rank { s += w[f][k] * h[k][t] }
                return s
            } }
        }
        var curve: [Double] = []
        for _ in 0..<iterations {
            var m = model()
            for k in 0..<rank {
                for t in 0..<frames {
                    var num = 0.0, den = 0.0
                    for f in 0..<bins {
                        let l = m[f][t] + epsilon
                        num += w[f][k] * v[f][t] * Double.pow(l, beta - 2)
                        den += w[f][k] * Double.pow(l, beta - 1)
                    }
                    h[k][t] = max(h[k][t] * Double.pow(num / (den + sparsity + epsilon), gamma), floor)
                }
            }
            m = model()
            var updated = w
            for f in 0..<bins {
                for k in 0..<rank {
                    var num = 0.0, den = 0.0
                    for t in 0..<frames {
                        let l = m[f][t] + epsilon
                        num += h[k][t] * v[f][t] * Double.pow(l, beta - 2)
                        den += h[k][t] * Double.pow(l, beta - 1)
                    }
                    updated[f][k] = max(w[f][k] * Double.pow(num / (den + epsilon), gamma), floor)
                }
            }
            w = updated
            if normalisation != 0 {
                for k in 0..<rank {
                    var norm = 0.0
                    for f in 0..<bins { norm += normalisation == 1 ? w[f][k] : w[f][k] * w[f][k] }
                    if normalisation == 2 { norm = norm.squareRoot() }
                    for f in 0..<bins { w[f][k] /= norm }
                    for t in 0..<frames { h[k][t] *= norm }
                }
            }
            m = model()
            let divergence = BetaDivergence(beta)
            var total = 0.0
            for f in 0..<bins { for t in 0..<frames { total += divergence.value(data: v[f][t], model: m[f][t]) } }
            for k in 0..<rank { for t in 0..<frames { total += sparsity * h[k][t] } }
            curve.append(total)
        }
        return curve
    }
}

extension Matrix {
    var doubleRows: [[Double]] { (0..<rows).map { r in (0..<columns).map { Double(self[r, $0]) } } }
}
