// SPDX-License-Identifier: GPL-3.0-or-later
// Seeded test signals, bases and spectra shared by every test target.

import RealModule
import SordinoDSP

/// The project's seeded generator (`SordinoDSP.SplitMix64`), under the name the tests use.
public typealias SeededGenerator = SplitMix64

extension SplitMix64 {
    /// Uniform in [0, 1).
    public mutating func unit() -> Float { nextUnitFloat() }
}

public enum Signal {
    /// Uniform white noise in [−amplitude, amplitude).
    public static func whiteNoise(count: Int, amplitude: Float = 0.5, seed: UInt64) -> [Float] {
        var g = SeededGenerator(seed: seed)
        return (0..<count).map { _ in amplitude * (2 * g.unit() - 1) }
    }

    /// A voiced, speech-like signal: harmonics of a gliding f0 (100–220 Hz) under a syllable-rate
    /// envelope, plus white noise `noiseLevel` below; deterministic for the seed.
    public static func speechLike(seconds: Double, sampleRate: Int = 16_000, noiseLevel: Float = 0.05,
                                  seed: UInt64) -> [Float] {
        var g = SeededGenerator(seed: seed)
        let count = Int(seconds * Double(sampleRate))
        var phase = 0.0
        var out = [Float](repeating: 0, count: count)
        for n in 0..<count {
            let t = Double(n) / Double(sampleRate)
            let f0 = 160 + 60 * Double.sin(2 * .pi * 0.7 * t)
            phase += 2 * .pi * f0 / Double(sampleRate)
            var voiced = 0.0
            for k in 1...12 where Double(k) * f0 < Double(sampleRate) / 2 { voiced += Double.sin(Double(k) * phase) / Double(k) }
            let envelope = max(0, Double.sin(2 * .pi * 3 * t))
            out[n] = Float(0.2 * envelope * voiced) + noiseLevel * (2 * g.unit() - 1)
        }
        return out
    }

    /// A non-negative random spectrum of `binCount` values with a few strong peaks.
    public static func randomSpectrum(binCount: Int, seed: UInt64) -> [Float] {
        var g = SeededGenerator(seed: seed)
        return (0..<binCount).map { f in g.unit() * (f % 17 == 3 ? 10 : 1) }
    }

    /// A seeded random basis with atoms normalised to unit sum.
    public static func randomBasis(binCount: Int, speechRank: Int, noiseRank: Int, seed: UInt64) -> Basis {
        var g = SeededGenerator(seed: seed)
        let rank = speechRank + noiseRank
        var values = (0..<(binCount * rank)).map { _ in g.unit() + 0.01 }
        for k in 0..<rank {
            var sum: Float = 0
            for f in 0..<binCount { sum += values[f * rank + k] }
            for f in 0..<binCount { values[f * rank + k] /= sum }
        }
        do {
            return try Basis(binCount: binCount, speechRank: speechRank, noiseRank: noiseRank, values: values)
        } catch {
            preconditionFailure("test basis is valid by construction: \(error)")
        }
    }
}

/// max |a[i] − b[i]| over the common length.
public func maxAbsDifference<A: Collection<Float>, B: Collection<Float>>(_ a: A, _ b: B) -> Float {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// Root-mean-square of a collection.
public func rms<C: Collection<Float>>(_ x: C) -> Float {
    x.isEmpty ? 0 : (x.reduce(0) { $0 + $1 * $1 } / Float(x.count)).squareRoot()
}
