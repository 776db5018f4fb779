// SPDX-License-Identifier: GPL-3.0-or-later
// Augmented speech + noise mixtures made on the fly from a corpus, deterministic per seed, for training the learned gain.

import Foundation
import SordinoDSP
import SordinoIO

/// Clean speech and noise of one mixture, kept apart (their sum is the mixture), at the corpus rate.
struct Mixture {
    var speech: [Float]
    var noise: [Float]
    var mixture: [Float] { zip(speech, noise).map { $0 + $1 } }
}

/// Makes training mixtures from folders of speech and of noise (one sub-folder per noise type).
/// Per mixture, drawn from `SplitMix64(seed + index)` so that mixture i is the same whatever else is
/// made: utterances (speed-perturbed 0.9–1.1× with libsoxr, which shifts pitch too) strung together
/// with 0–0.6 s pauses; a random spectral tilt (±6 dB/decade-ish first-order shelf) and two peaking
/// EQ bands (±6 dB) on speech and, independently, on noise; synthetic room reverberation on speech
/// (30 %: exponentially decaying noise, RT60 0.2–0.8 s); one noise type, plus a second at −6…0 dB
/// in 30 %; synthetic impulsive noise (25 %: decaying bursts of 2–20 ms, 1–8 per second); SNR
/// −5…20 dB by default (`snrRange`, drawn uniformly in dB); level −45…−15 dBFS RMS (peak at most −1 dBFS); 8 % noise only, 8 % clean speech only (`cleanShare`). A −90 dBFS noise
/// floor keeps every frame out of the engine's digital-silence path. Above 17 kHz sample rate,
/// "air" above 8.5 kHz (see `addAir`) on speech (80 %, −24…−4 dB) and on noise (70 %, −30…0 dB),
/// from a generator of its own, so that the 16 kHz mixtures are unchanged; with `bandLimitedShare`
/// p > 0, a share p of the mixtures gets no air at all (band-limited input, as upsampled 16 kHz audio).
/// With `syntheticShare` q > 0, a share q of the mixtures with noise gets a synthetic noise (see
/// `SyntheticNoise`: machines, bubbles, clicks, gusts), drawn from a generator of its own so that
/// every other draw stays as it was: in a third of them it is the only noise, otherwise it is added
/// at −10…+6 dB to the recorded noise. With `noiseSpeedShare` s > 0, a share s of the recorded noise
/// segments (the first noise and the second, each drawn apart) is played at a random speed
/// (`noiseSpeedRange`, 0.8–1.25× by default, log-uniform, so as likely slower as faster) through
/// libsoxr, as the speech's speed perturbation: pitch and tempo move together, as a tape would. Enough
/// of the recording is read that the segment keeps its length. Drawn from a generator of its own,
/// so that with s = 0 every mixture stays what it was and with s > 0 every other draw does. With
/// `sixteenBitShare` b > 0, a share b of the mixtures is made as a 16-bit file holds it (see
/// `sixteenBitShare`), from a generator of its own. With `narrowbandShare` n > 0, a share n of the
/// mixtures is band-limited as a recording at a lower rate would be (see `narrowbandShare`), from a
/// generator of its own.
struct MixtureMaker {
    let sampleRate: Int
    /// Share of mixtures (0…1) left without air above 17 kHz sample rate; 0 draws nothing, as before.
    var bandLimitedShare: Float = 0
    /// Share of mixtures with noise (0…1) that get a synthetic noise; 0 draws nothing, as before.
    var syntheticShare: Float = 0
    /// Share of mixtures with speech (0…1) whose speech starts at the first sample instead of after
    /// 0–0.5 s, so that the gain learns not to take an engine's first frames for noise (a file that
    /// starts with a word); drawn from a generator of its own; 0 draws nothing, as before.
    var speechFirstShare: Float = 0
    /// Share of recorded noise segments (0…1) resampled to a random speed in `noiseSpeedRange`;
    /// 0 draws nothing, as before.
    var noiseSpeedShare: Float = 0
    /// Lowest and highest speed (× the recording's; 1.25 plays 1.25 times as fast and a third of an
    /// octave higher) of the segments `noiseSpeedShare` picks, drawn log-uniformly between them.
    var noiseSpeedRange: ClosedRange<Float> = 0.8...1.25
    /// Signal-to-noise ratios (dB, speech's active RMS over the noise's RMS) the mixtures with both
    /// are drawn from, uniformly; the draw is the same whatever the range, so other draws stay put.
    var snrRange: ClosedRange<Float> = -5...20
    /// Share of mixtures (0…0.92) of clean speech alone (with the −90 dBFS floor); the 8 % of noise
    /// alone and every other draw stay put whatever it is.
    var cleanShare: Float = 0.08
    /// Share of mixtures (0…1) made as a 16-bit file holds them: no −90 dBFS floor; the mixture
    /// rounded to 16 bits (plain rounding in half of them, TPDF dither of ±1 LSB in the other half,
    /// digital zeros left as they are), the rounding error counted as noise; and in half of them,
    /// 0–0.5 s of digital silence before the mixture, of any length (mostly not a whole number of
    /// hops, so the first frame of sound holds only part of a hop of it). Above 8.5 kHz a
    /// band-limited 16-bit mixture holds nothing but the rounding error, as an upsampled 16 kHz
    /// recording does (docs/QUALITY.md, "a 16-bit band-limited source at 48 kHz"). 0 draws nothing.
    var sixteenBitShare: Float = 0
    /// Share of mixtures (0…1) whose speech and noise alike pass through a lower sample rate
    /// (`narrowbandRates` below this one, each as likely: a telephone line, a Bluetooth headset's
    /// microphone, an old recording) with libsoxr, down and up again: nothing above half that rate.
    /// 0 draws nothing.
    var narrowbandShare: Float = 0
    /// The rates (Hz) `narrowbandShare` draws from, where below the mixtures' rate.
    static let narrowbandRates = [8000, 11025, 12000]
    /// The kinds of synthetic noise drawn from, each as likely.
    var syntheticKinds: [SyntheticNoise] = SyntheticNoise.allCases
    let utterances: [[Float]]
    /// Per noise type (sorted by name), its recordings.
    let noises: [[[Float]]]
    /// The noise types' folder names, in the order of `noises`.
    let typeNames: [String]

    /// Reads every .wav/.flac under `speech` and under each sub-folder of `noise` whose name is not
    /// in `leavingOut`, converted to `sampleRate`.
    init(speech: String, noise: String, sampleRate: Int, leavingOut: Set<String> = []) throws {
        self.sampleRate = sampleRate
        utterances = try Self.read(Self.files(under: speech), rate: sampleRate)
        let all = ((try? FileManager.default.contentsOfDirectory(atPath: noise)) ?? []).sorted()
            .filter { var d: ObjCBool = false
                return FileManager.default.fileExists(atPath: (noise as NSString).appendingPathComponent($0), isDirectory: &d) && d.boolValue }
        if let unknown = leavingOut.subtracting(all).sorted().first {
            throw CommandError("no noise type \(unknown) under \(noise) to leave out (types: \(all.joined(separator: ", "))).",
                               exitCode: .usage)
        }
        let read = try all.filter { !leavingOut.contains($0) }
            .map { ($0, try Self.read(Self.files(under: (noise as NSString).appendingPathComponent($0)), rate: sampleRate)) }
            .filter { !$0.1.isEmpty }
        noises = read.map(\.1)
        typeNames = read.map(\.0)
        guard !utterances.isEmpty else { throw CommandError("no speech files under \(speech).", exitCode: .noInput) }
        guard !noises.isEmpty else { throw CommandError("no noise type folders with audio under \(noise).", exitCode: .noInput) }
    }

    /// Mixture `index` of `count` samples for `seed`, after its lead of digital silence (0 samples
    /// unless `sixteenBitShare` drew one).
    func make(index: Int, count: Int, seed: UInt64) throws -> Mixture {
        let mixtureSeed = seed &* 1_000_003 &+ UInt64(index)
        var rng = SplitMix64(seed: mixtureSeed)
        func uniform(_ a: Float, _ b: Float) -> Float { a + (b - a) * rng.nextUnitFloat() }
        func pick(_ n: Int) -> Int { min(n - 1, Int(rng.nextUnitFloat() * Float(n))) }
        let kind = rng.nextUnitFloat()
        let noiseOnly = kind < 0.08, cleanOnly = kind >= 0.08 && kind < 0.08 + cleanShare

        var speech = [Float](repeating: 0, count: count)
        if !noiseOnly {
            var at = Int(uniform(0, 0.5) * Float(sampleRate))
            if speechFirstShare > 0 {
                var firstRNG = SplitMix64(seed: mixtureSeed ^ 0x6669_7273_7473_7065)
                if firstRNG.nextUnitFloat() < speechFirstShare { at = 0 }
            }
            while at < count {
                var utterance = utterances[pick(utterances.count)]
                let speed = uniform(0.9, 1.1)
                if abs(speed - 1) > 0.01 {
                    utterance = try Resampler.resample(utterance, from: sampleRate,
                                                       to: Int(Float(sampleRate) / speed), quality: .high)
                }
                for (i, x) in utterance.enumerated() where at + i < count { speech[at + i] = x }
                at += utterance.count + Int(uniform(0, 0.6) * Float(sampleRate))
            }
            equalise(&speech, rng: &rng)
            if rng.nextUnitFloat() < 0.3 { speech = reverberate(speech, rt60: uniform(0.2, 0.8), rng: &rng) }
        }
        var noise = [Float](repeating: 0, count: count)
        if !cleanOnly {
            // Its own generator, so that every mixture without it stays what it was before.
            var speedRNG = SplitMix64(seed: mixtureSeed ^ 0x6E6F_6973_6573_7064)
            func speed() -> Float {
                guard noiseSpeedShare > 0, speedRNG.nextUnitFloat() < noiseSpeedShare else { return 1 }
                let low = log(noiseSpeedRange.lowerBound), high = log(noiseSpeedRange.upperBound)
                return exp(low + (high - low) * speedRNG.nextUnitFloat())
            }
            noise = try loop(noises[pick(noises.count)], count: count, speed: speed(), rng: &rng)
            if rng.nextUnitFloat() < 0.3 {
                let second = try loop(noises[pick(noises.count)], count: count, speed: speed(), rng: &rng)
                let gain = Self.rms(noise) / max(Self.rms(second), 1e-9) * Self.gain(uniform(-6, 0))
                for i in 0..<count { noise[i] += gain * second[i] }
            }
            if rng.nextUnitFloat() < 0.25 { addBursts(&noise, rng: &rng) }
            if syntheticShare > 0 {
                // Its own generator, so that every mixture without it stays what it was before.
                var syntheticRNG = SplitMix64(seed: mixtureSeed ^ 0x7379_6E74_6865_7469)
                if syntheticRNG.nextUnitFloat() < syntheticShare {
                    let synthetic = SyntheticNoise.make(count: count, sampleRate: sampleRate, from: syntheticKinds,
                                                        rng: &syntheticRNG)
                    if syntheticRNG.nextUnitFloat() < 1.0 / 3 {
                        noise = synthetic
                    } else {
                        let gain = Self.rms(noise) / max(Self.rms(synthetic), 1e-9)
                            * Self.gain(-10 + 16 * syntheticRNG.nextUnitFloat())
                        for i in 0..<count { noise[i] += gain * synthetic[i] }
                    }
                }
            }
            equalise(&noise, rng: &rng)
        }
        if sampleRate > 2 * Int(Self.airHertz) {
            // Its own generator, so that mixtures at 16 kHz stay what they were before air was added.
            var airRNG = SplitMix64(seed: ~mixtureSeed)
            let limited = bandLimitedShare > 0 && airRNG.nextUnitFloat() < bandLimitedShare
            if !limited && !noiseOnly && airRNG.nextUnitFloat() < 0.8 {
                addAir(&speech, decibels: -24 + 20 * airRNG.nextUnitFloat(), rng: &airRNG)
            }
            if !limited && !cleanOnly && airRNG.nextUnitFloat() < 0.7 {
                addAir(&noise, decibels: -30 + 30 * airRNG.nextUnitFloat(), rng: &airRNG)
            }
        }
        if narrowbandShare > 0 {
            // Its own generator, so that every mixture without it stays what it was before.
            var narrowRNG = SplitMix64(seed: mixtureSeed ^ 0x6E61_7272_6F77_626E)
            let rates = Self.narrowbandRates.filter { $0 < sampleRate }
            if !rates.isEmpty, narrowRNG.nextUnitFloat() < narrowbandShare {
                let rate = rates[min(rates.count - 1, Int(narrowRNG.nextUnitFloat() * Float(rates.count)))]
                speech = try bandLimit(speech, through: rate)
                noise = try bandLimit(noise, through: rate)
            }
        }
        let speechRMS = Self.activeRMS(speech), noiseRMS = Self.rms(noise)
        if speechRMS > 0 && noiseRMS > 0 {
            let scale = speechRMS / noiseRMS / Self.gain(uniform(snrRange.lowerBound, snrRange.upperBound))
            for i in 0..<count { noise[i] *= scale }
        }
        let sum = zip(speech, noise).map { $0 + $1 }
        // No sample beyond −1 dBFS, as a recording would be levelled (only noises of extreme crest
        // factor, such as the synthetic clicks, reach it at −15 dBFS RMS).
        let peak = sum.reduce(Float(0)) { max($0, abs($1)) }
        let level = min(Self.gain(uniform(-45, -15)) / max(Self.rms(sum), 1e-9), Self.gain(-1) / max(peak, 1e-9))
        // Its own generator, so that every mixture without it stays what it was before.
        var sixteenRNG = SplitMix64(seed: mixtureSeed ^ 0x7369_7874_6565_6E62)
        let sixteenBit = sixteenBitShare > 0 && sixteenRNG.nextUnitFloat() < sixteenBitShare
        for i in 0..<count {
            speech[i] *= level
            noise[i] = noise[i] * level + (sixteenBit ? 0 : Self.gain(-90) * (2 * rng.nextUnitFloat() - 1) * 1.732)
        }
        guard sixteenBit else { return Mixture(speech: speech, noise: noise) }
        let dither = sixteenRNG.nextUnitFloat() < 0.5
        for i in 0..<count {
            let x = speech[i] + noise[i]
            guard x != 0 else { continue }
            let steps = x * 32768 + (dither ? sixteenRNG.nextUnitFloat() - sixteenRNG.nextUnitFloat() : 0)
            noise[i] = min(max(steps.rounded(), -32768), 32767) / 32768 - speech[i]
        }
        if sixteenRNG.nextUnitFloat() < 0.5 {
            let lead = [Float](repeating: 0, count: Int(sixteenRNG.nextUnitFloat() * 0.5 * Float(sampleRate)))
            return Mixture(speech: lead + speech, noise: lead + noise)
        }
        return Mixture(speech: speech, noise: noise)
    }

    // MARK: - Augmentations

    /// `x` down to `rate` and back with libsoxr, its length kept (zeros after the end, if short).
    private func bandLimit(_ x: [Float], through rate: Int) throws -> [Float] {
        let low = try Resampler.resample(x, from: sampleRate, to: rate, quality: .high)
        var back = try Resampler.resample(low, from: rate, to: sampleRate, quality: .high)
        if back.count < x.count { back += [Float](repeating: 0, count: x.count - back.count) }
        return Array(back.prefix(x.count))
    }

    /// A random first-order tilt and two peaking bands (RBJ cookbook biquads), in place.
    private func equalise(_ x: inout [Float], rng: inout SplitMix64) {
        func uniform(_ a: Float, _ b: Float) -> Float { a + (b - a) * rng.nextUnitFloat() }
        // Tilt: y = x + t·(x − x₋₁)/2 raises (t > 0) or lowers the highs.
        let t = uniform(-0.6, 0.6)
        var last: Float = 0
        for i in x.indices { let v = x[i]; x[i] = v + t * (v - last) / 2; last = v }
        for _ in 0..<2 {
            let hertz = Double(uniform(150, Float(sampleRate) * 0.42)), decibels = Double(uniform(-6, 6))
            let a = pow(10, decibels / 40), w = 2 * Double.pi * hertz / Double(sampleRate), alpha = sin(w) / (2 * 0.9)
            let a0 = 1 + alpha / a
            let b = [(1 + alpha * a) / a0, -2 * cos(w) / a0, (1 - alpha * a) / a0].map(Float.init)
            let d = [-2 * cos(w) / a0, (1 - alpha / a) / a0].map(Float.init)
            var x1: Float = 0, x2: Float = 0, y1: Float = 0, y2: Float = 0
            for i in x.indices {
                let y = b[0] * x[i] + b[1] * x1 + b[2] * x2 - d[0] * y1 - d[1] * y2
                x2 = x1; x1 = x[i]; y2 = y1; y1 = y; x[i] = y
            }
        }
    }

    /// Convolves with a synthetic room response: a unit direct path, then Gaussian noise decaying by
    /// 60 dB in `rt60` seconds, starting 2–10 ms later, at −6…−12 dB. Output has the input's length.
    private func reverberate(_ x: [Float], rt60: Float, rng: inout SplitMix64) -> [Float] {
        let length = Int(rt60 * Float(sampleRate)), start = Int((0.002 + 0.008 * rng.nextUnitFloat()) * Float(sampleRate))
        var response = [Float](repeating: 0, count: start + length)
        response[0] = 1
        let decay = Float(log(1000.0)) / Float(length), tail = Self.gain(-6 - 6 * rng.nextUnitFloat())
        var energy: Float = 0
        for n in 0..<length {
            let v = (2 * rng.nextUnitFloat() - 1) * Float(exp(Double(-decay * Float(n))))
            response[start + n] = v
            energy += v * v
        }
        let scale = tail / max(energy.squareRoot(), 1e-9)
        for n in start..<response.count { response[n] *= scale }
        return Self.convolve(x, response)
    }

    /// 1–8 bursts per second of white noise decaying in 2–20 ms, at 0…+12 dB over the noise's RMS.
    private func addBursts(_ x: inout [Float], rng: inout SplitMix64) {
        let rate = 1 + 7 * rng.nextUnitFloat(), level = max(Self.rms(x), Self.gain(-40))
        let bursts = Int(rate * Float(x.count) / Float(sampleRate))
        for _ in 0..<bursts {
            let at = Int(rng.nextUnitFloat() * Float(x.count))
            let length = Int((0.002 + 0.018 * rng.nextUnitFloat()) * Float(sampleRate))
            let peak = level * Self.gain(12 * rng.nextUnitFloat()) * 1.732
            for n in 0..<length where at + n < x.count {
                x[at + n] += peak * (2 * rng.nextUnitFloat() - 1) * Float(exp(-5 * Double(n) / Double(length)))
            }
        }
    }

    /// Start of the "air" band in Hz: the 16 kHz corpus has nothing above 8 kHz.
    static let airHertz: Float = 8500

    /// Adds "air" above `airHertz`: white noise high-passed there (a 255-tap Hann-windowed sinc),
    /// shaped by x's 10 ms amplitude envelope over its peak, at `decibels` (as the 48 kHz clean
    /// speech of ../shared/eval/transparency.py is made; speech and noise each get their own).
    private func addAir(_ x: inout [Float], decibels: Float, rng: inout SplitMix64) {
        let width = max(1, sampleRate / 100), taps = 255, half = taps / 2
        var sums = [Float](repeating: 0, count: x.count + 1)
        for i in x.indices { sums[i + 1] = sums[i] + abs(x[i]) }
        let envelope = x.indices.map { i -> Float in
            let a = max(0, i - width / 2), b = min(x.count, i + width / 2 + 1)
            return (sums[b] - sums[a]) / Float(b - a)
        }
        guard let peak = envelope.max(), peak > 0 else { return }
        let cutoff = Double(Self.airHertz) / Double(sampleRate)
        let highPass = (0..<taps).map { n -> Float in
            let t = Double(n - half), hann = 0.5 - 0.5 * cos(2 * Double.pi * Double(n) / Double(taps - 1))
            let lowPass = t == 0 ? 2 * cutoff : sin(2 * Double.pi * cutoff * t) / (Double.pi * t)
            return Float((n == half ? 1 : 0) - lowPass * hann)
        }
        let noise = (0..<(x.count + half)).map { _ in (2 * rng.nextUnitFloat() - 1) * 1.732 }
        let air = Self.convolve(noise, highPass)
        let scale = Self.gain(decibels) / peak
        for i in x.indices { x[i] += air[i + half] * envelope[i] * scale }
    }

    /// One of `recordings` from a random offset, looped to `count` samples. At a `speed` other than
    /// 1 (beyond ±1 %), the recording is read, looped, from `speedMargin` samples before the offset
    /// to as far past it as `count` output samples need plus `speedMargin`, resampled with libsoxr
    /// to sampleRate / speed (played back at sampleRate: `speed` times as fast, pitch with it), and
    /// `count` samples are kept from the offset on, so the filter's ringing at the edges is cut off.
    /// Draws the same two numbers from `rng` at any speed.
    private func loop(_ recordings: [[Float]], count: Int, speed: Float = 1, rng: inout SplitMix64) throws -> [Float] {
        let recording = recordings[min(recordings.count - 1, Int(rng.nextUnitFloat() * Float(recordings.count)))]
        let offset = Int(rng.nextUnitFloat() * Float(recording.count))
        guard abs(speed - 1) > 0.01 else { return (0..<count).map { recording[(offset + $0) % recording.count] } }
        let rate = Int(Float(sampleRate) / speed), margin = Self.speedMargin
        let needed = Int((Double(count) * Double(sampleRate) / Double(rate)).rounded(.up)) + 2 * margin + 2
        let start = offset - margin % recording.count + recording.count
        let source = (0..<needed).map { recording[(start + $0) % recording.count] }
        let sped = try Resampler.resample(source, from: sampleRate, to: rate, quality: .high)
        let skip = Int((Double(margin) * Double(rate) / Double(sampleRate)).rounded())
        return Array(sped[skip..<(skip + count)])
    }

    /// Samples of recording read beyond each end of a sped-up noise segment and dropped after
    /// resampling (64 ms at 16 kHz; libsoxr's filter at .high rings for a few ms).
    static let speedMargin = 1024

    // MARK: - Helpers

    static func gain(_ decibels: Float) -> Float { Float(pow(10, Double(decibels) / 20)) }

    static func rms(_ x: [Float]) -> Float {
        x.isEmpty ? 0 : (x.reduce(Float(0)) { $0 + $1 * $1 } / Float(x.count)).squareRoot()
    }

    /// RMS over the samples of 10 ms blocks within 40 dB of the loudest block (speech without pauses).
    static func activeRMS(_ x: [Float]) -> Float {
        let block = 160
        let energies = stride(from: 0, to: x.count, by: block).map { start in
            x[start..<min(start + block, x.count)].reduce(Float(0)) { $0 + $1 * $1 }
        }
        guard let loudest = energies.max(), loudest > 0 else { return 0 }
        let active = energies.filter { $0 > loudest * 1e-4 }
        return (active.reduce(0, +) / Float(active.count * block)).squareRoot()
    }

    /// x ∗ h, truncated to x's length, through one FFT of the next power of two.
    static func convolve(_ x: [Float], _ h: [Float]) -> [Float] {
        var n = 1
        while n < x.count + h.count { n *= 2 }
        guard let fft = try? RealFFT(length: n) else { return x }
        var spectrumX = [Float](repeating: 0, count: 2 * fft.binCount)
        for i in 0..<n { fft.time[i] = i < x.count ? x[i] : 0 }
        fft.forward()
        for i in 0..<spectrumX.count { spectrumX[i] = fft.spectrum[i] }
        for i in 0..<n { fft.time[i] = i < h.count ? h[i] : 0 }
        fft.forward()
        for k in 0..<fft.binCount {
            let (a, b) = (spectrumX[2 * k], spectrumX[2 * k + 1]), (c, d) = (fft.spectrum[2 * k], fft.spectrum[2 * k + 1])
            fft.spectrum[2 * k] = (a * c - b * d) / Float(n)
            fft.spectrum[2 * k + 1] = (a * d + b * c) / Float(n)
        }
        fft.inverse()
        return (0..<x.count).map { fft.time[$0] }
    }

    static func files(under folder: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return [] }
        return walker.compactMap { $0 as? String }
            .filter { ["wav", "flac"].contains(($0 as NSString).pathExtension.lowercased()) }
            .sorted().map { (folder as NSString).appendingPathComponent($0) }
    }

    static func read(_ paths: [String], rate: Int) throws -> [[Float]] {
        try paths.map { path in
            var (audio, _) = try AudioFileReader.read(path: path)
            if audio.sampleRate != rate { audio = try Resampler.resample(audio, to: rate) }
            return audio.channels[0]
        }
    }
}
