// SPDX-License-Identifier: GPL-3.0-or-later
// Procedural noises for training mixtures (machines, bubbles, clicks, gusts): noise kinds the corpus holds only a few seconds of.

import Foundation
import SordinoDSP

/// A family of synthetic noises, each drawn at random per mixture. The corpus holds 4 to 40 s of
/// each recorded noise type, looped under every mixture; these widen what the learned gain hears
/// so that it generalises to recordings it never heard (a different tap, keyboard or machine).
enum SyntheticNoise: String, CaseIterable {
    /// A whine at 50–2000 Hz (log-uniform, vibrato 0–2 % at 0.1–2 Hz) with 1–8 harmonics at k^−d
    /// (d 0…2, random phases); in 60 % band noise (RBJ band-pass, centre 300 Hz…0.4 × the rate,
    /// Q 1–6) at −10…+5 dB to the whine; in 50 % switched on and off (0.5–8 times a second, on
    /// 30–70 % of the time, edges 5–20 ms, off at −30…−6 dB), as a machine cycling.
    case machine
    /// Running water: 30–400 bubbles a second, each a sine rising 5–30 % in pitch (centre 300 Hz…
    /// 0.35 × the rate, log-uniform) and decaying in 2–25 ms, amplitudes spread over 20 dB, over a
    /// bed of low-passed noise at −20…−6 dB.
    case bubbles
    /// Typing: 2–12 key strokes a second, each a press and, 40–160 ms later, a release at −10…0 dB
    /// to it; a stroke is 1–3 decaying resonances (600 Hz…0.4 × the rate, Q 2–15, 3–30 ms) over a
    /// 0.5–3 ms broadband tick; strokes vary by ±6 dB; a steady floor at −45…−25 dB.
    case clicks
    /// Gusts: noise of spectral slope −6…+3 dB/octave (coloured by a first-order filter) whose level
    /// follows a random walk (0.2–4 Hz, 6–25 dB deep), as wind, traffic or a crowd far away.
    case gusts

    /// The kind named `name` (as `--synthetic-kind` spells it), or nil.
    init?(name: String) { self.init(rawValue: name) }

    /// The kind's name on the command line.
    var name: String { rawValue }

    /// `count` samples at RMS 1 of a noise of one of `kinds` (not empty), drawn from `rng`.
    static func make(count: Int, sampleRate: Int, from kinds: [SyntheticNoise], rng: inout SplitMix64) -> [Float] {
        let kind = kinds[min(kinds.count - 1, Int(rng.nextUnitFloat() * Float(kinds.count)))]
        return kind.make(count: count, sampleRate: sampleRate, rng: &rng)
    }

    /// `count` samples of this kind, at RMS 1.
    func make(count: Int, sampleRate: Int, rng: inout SplitMix64) -> [Float] {
        var source = Source(rng: rng, rate: Double(sampleRate))
        defer { rng = source.rng }
        let x: [Double]
        switch self {
        case .machine: x = source.machine(count: count)
        case .bubbles: x = source.bubbles(count: count)
        case .clicks: x = source.clicks(count: count)
        case .gusts: x = source.gusts(count: count)
        }
        let scale = 1 / max(Source.rms(x), 1e-12)
        return x.map { Float($0 * scale) }
    }
}

/// The generators' shared state: a random source and the sample rate.
private struct Source {
    var rng: SplitMix64
    let rate: Double

    mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * Double(rng.nextUnitFloat()) }
    /// Log-uniform in a…b.
    mutating func logUniform(_ a: Double, _ b: Double) -> Double { a * pow(b / a, uniform(0, 1)) }

    static func rms(_ v: [Double]) -> Double { (v.reduce(0) { $0 + $1 * $1 } / Double(max(v.count, 1))).squareRoot() }

    /// White noise through an RBJ band-pass (constant 0 dB peak gain) at `centre` Hz, Q `q`.
    mutating func bandNoise(count: Int, centre: Double, q: Double) -> [Double] {
        let w = 2 * Double.pi * centre / rate, alpha = sin(w) / (2 * q), a0 = 1 + alpha
        let (b0, b2, a1, a2) = (alpha / a0, -alpha / a0, -2 * cos(w) / a0, (1 - alpha) / a0)
        var out = [Double](repeating: 0, count: count)
        var (x1, x2, y1, y2) = (0.0, 0.0, 0.0, 0.0)
        for n in 0..<count {
            let v = uniform(-1, 1), y = b0 * v + b2 * x2 - a1 * y1 - a2 * y2
            (x2, x1, y2, y1) = (x1, v, y1, y)
            out[n] = y
        }
        return out
    }

    mutating func machine(count: Int) -> [Double] {
        let nyquist = rate / 2
        let fundamental = logUniform(50, 2000), harmonics = 1 + Int(uniform(0, 7.999))
        let decay = uniform(0, 2), depth = uniform(0, 0.02), wobble = uniform(0.1, 2)
        var phases = [Double]()
        for _ in 0..<harmonics { phases.append(uniform(0, 2 * Double.pi)) }
        let amplitudes = (1...harmonics).map { 1 / pow(Double($0), decay) }
        var x = [Double](repeating: 0, count: count)
        for n in 0..<count {
            let t = Double(n) / rate
            // Phase of f0·(1 + depth·sin(2π·wobble·t)), integrated in closed form.
            let phase = 2 * Double.pi * fundamental * (t - depth / (2 * Double.pi * wobble) * cos(2 * Double.pi * wobble * t))
            for k in 1...harmonics where Double(k) * fundamental < nyquist {
                x[n] += amplitudes[k - 1] * sin(Double(k) * phase + phases[k - 1])
            }
        }
        if uniform(0, 1) < 0.6 {
            let band = bandNoise(count: count, centre: logUniform(300, rate * 0.4), q: uniform(1, 6))
            let balance = Self.rms(x) / max(Self.rms(band), 1e-12) * pow(10, uniform(-10, 5) / 20)
            for n in 0..<count { x[n] += balance * band[n] }
        }
        if uniform(0, 1) < 0.5 {
            let cycles = uniform(0.5, 8), duty = uniform(0.3, 0.7), edge = uniform(0.005, 0.02)
            let off = pow(10, uniform(-30, -6) / 20), start = uniform(0, 1)
            for n in 0..<count {
                // Seconds into the current cycle; on for the first `duty` of it, with linear edges.
                let seconds = (Double(n) / rate * cycles + start).truncatingRemainder(dividingBy: 1) / cycles
                let gate = min(1, max(0, min(seconds, duty / cycles - seconds) / edge + 0.5))
                x[n] *= off + (1 - off) * gate
            }
        }
        return x
    }

    mutating func bubbles(count: Int) -> [Double] {
        var x = [Double](repeating: 0, count: count)
        let perSecond = logUniform(30, 400), bubbles = Int(perSecond * Double(count) / rate)
        let low = 300.0, high = rate * 0.35
        for _ in 0..<bubbles {
            let at = Int(uniform(0, Double(count))), frequency = logUniform(low, high)
            let rise = uniform(0.05, 0.3), tau = uniform(0.002, 0.025), amplitude = pow(10, uniform(-20, 0) / 20)
            let length = min(count - at, Int(5 * tau * rate))
            var phase = 0.0
            for n in 0..<max(length, 0) {
                let t = Double(n) / rate
                // The pitch rises as the bubble's decay proceeds (Minnaert resonance of a shrinking bubble).
                phase += 2 * Double.pi * frequency * (1 + rise * (1 - exp(-t / tau))) / rate
                x[at + n] += amplitude * exp(-t / tau) * sin(phase)
            }
        }
        // A bed of noise low-passed by a one-pole filter at 200–2000 Hz.
        let pole = exp(-2 * Double.pi * logUniform(200, 2000) / rate), bed = pow(10, uniform(-20, -6) / 20)
        var y = 0.0, bedNoise = [Double](repeating: 0, count: count)
        for n in 0..<count { y = pole * y + (1 - pole) * uniform(-1, 1); bedNoise[n] = y }
        let scale = Self.rms(x) / max(Self.rms(bedNoise), 1e-12) * bed
        for n in 0..<count { x[n] += scale * bedNoise[n] }
        return x
    }

    mutating func clicks(count: Int) -> [Double] {
        var x = [Double](repeating: 0, count: count)
        let strokes = Int(uniform(2, 12) * Double(count) / rate)
        // A keyboard's resonances are the same from key to key, with small variations.
        let resonances = (0..<(1 + Int(uniform(0, 2.999)))).map { _ in
            (frequency: logUniform(600, rate * 0.4), q: uniform(2, 15), tau: uniform(0.003, 0.03))
        }
        for _ in 0..<strokes {
            let at = Int(uniform(0, Double(count))), level = pow(10, uniform(-6, 6) / 20)
            stroke(into: &x, at: at, level: level, resonances: resonances)
            let release = at + Int(uniform(0.04, 0.16) * rate)
            if release < count { stroke(into: &x, at: release, level: level * pow(10, uniform(-10, 0) / 20), resonances: resonances) }
        }
        let floor = Self.rms(x) * pow(10, uniform(-45, -25) / 20)
        for n in 0..<count { x[n] += floor * uniform(-1, 1) * 1.732 }
        return x
    }

    /// Adds one key stroke at `start`: a broadband tick, then each resonance (detuned ±10 %) decaying.
    mutating func stroke(into x: inout [Double], at start: Int, level: Double,
                         resonances: [(frequency: Double, q: Double, tau: Double)]) {
        let tick = Int(uniform(0.0005, 0.003) * rate)
        for n in 0..<tick where start + n < x.count { x[start + n] += level * uniform(-1, 1) * (1 - Double(n) / Double(tick)) }
        for r in resonances {
            let f = r.frequency * uniform(0.9, 1.1), length = Int(5 * r.tau * rate)
            let a = level * uniform(0.3, 1) / max(1, r.q / 4)
            for n in 0..<length where start + n < x.count {
                let t = Double(n) / rate
                x[start + n] += a * exp(-t / r.tau) * sin(2 * Double.pi * f * t)
            }
        }
    }

    mutating func gusts(count: Int) -> [Double] {
        // y = x + c·(y₋₁): c in −0.5…0.99 tilts white noise from bright to dark.
        let c = uniform(-0.5, 0.99)
        var y = 0.0, x = [Double](repeating: 0, count: count)
        for n in 0..<count { y = uniform(-1, 1) + c * y; x[n] = y }
        // Level in dB: a random walk of steps every 1/rate seconds of the gusts, smoothed linearly.
        let gustRate = logUniform(0.2, 4), depth = uniform(6, 25)
        let knots = Int(Double(count) / rate * gustRate) + 2
        var levels = [Double](), level = 0.0
        for _ in 0..<knots { level = max(-depth, min(0, level + uniform(-depth, depth) / 2)); levels.append(level) }
        for n in 0..<count {
            let position = Double(n) / rate * gustRate, i = Int(position), f = position - Double(i)
            let decibels = levels[i] + (levels[min(i + 1, knots - 1)] - levels[i]) * f
            x[n] *= pow(10, decibels / 20)
        }
        return x
    }
}
