// SPDX-License-Identifier: GPL-3.0-or-later
// The training mixtures' noise speed perturbation (`gain-features --noise-speed`: off, it changes nothing; on, a tone noise moves by the speed), their SNR range (`--snr-range`), clean share, 16-bit mixtures (`--sixteen-bit`) and band-limited ones (`--narrowband`).

import Foundation
import SordinoDSP
import SordinoIO
import Testing
import TestSupport

/// `MixtureMaker` lives in the `sordino` executable, so it is tested through `gain-features --write-audio`.
@Suite("MixtureMaker noise speed and SNR", .enabled(if: CLI.shouldRun, CLI.skipReason))
struct MixtureMakerTests {
    /// Frequency (Hz) of the strongest peak of `x`'s mean power spectrum (4096-sample Hann frames,
    /// hop 2048, at 16 kHz), as the power-weighted mean of the 7 bins around its largest bin.
    static func peakHertz(_ x: [Float]) throws -> Double {
        let n = 4096, fft = try RealFFT(length: n)
        var power = [Double](repeating: 0, count: n / 2 + 1)
        for start in stride(from: 0, through: x.count - n, by: n / 2) {
            for i in 0..<n { fft.time[i] = x[start + i] * Float(0.5 - 0.5 * cos(2 * Double.pi * Double(i) / Double(n))) }
            fft.forward()
            for k in 1...(n / 2) {
                power[k] += Double(fft.spectrum[2 * k] * fft.spectrum[2 * k] + fft.spectrum[2 * k + 1] * fft.spectrum[2 * k + 1])
            }
        }
        let top = (1...(n / 2)).max { power[$0] < power[$1] } ?? 1
        let near = max(1, top - 3)...min(n / 2, top + 3)
        let weight = near.reduce(0.0) { $0 + power[$1] }
        return near.reduce(0.0) { $0 + Double($1) * power[$1] } / max(weight, 1e-30) * 16_000 / Double(n)
    }

    @Test("--noise-speed 0 leaves every mixture as without the option; --noise-speed 1 moves a 1 kHz tone noise to 1 kHz × the speed (1.25 and 0.8 fixed, 0.8–1.25 drawn), keeps the noise's length with no silent tail, and leaves the speech as it was (up to its level); bad values are refused")
    func noiseSpeed() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let (speech, _) = try GainFeaturesCommandTests.corpus(in: dir)
        // A noise corpus of one type: a 1 kHz tone, 10 s, over white noise 30 dB below it.
        let tone = dir.appendingPathComponent("tone/tone")
        try FileManager.default.createDirectory(at: tone, withIntermediateDirectories: true)
        var g = SeededGenerator(seed: 9)
        let recording = (0..<160_000).map { 0.1 * Float(sin(2 * Double.pi * 1000 * Double($0) / 16_000)) + 0.003 * (2 * g.unit() - 1) }
        try AudioFileWriter.write(AudioBuffer(sampleRate: 16_000, channels: [recording]),
                                  to: tone.appendingPathComponent("tone.wav").path,
                                  format: AudioFileFormat(container: .wav, encoding: .float32))
        func make(_ name: String, _ options: [String]) throws -> [(noise: [Float], speech: [Float])] {
            let out = dir.appendingPathComponent(name)
            let r = try CLI.run(["gain-features", "--preset", "speech-16k", "--speech", speech,
                                 "--noise", dir.appendingPathComponent("tone").path, "--mixtures", "8", "--seconds", "2",
                                 "--seed", "7", "--synthetic-noise", "0.3", "--speech-first", "0.25", "--write-audio", "8", "-o", out.path] + options)
            try #require(r.status == 0, "\(r.stderr)")
            return try (0..<8).map { i in
                let audio = out.appendingPathComponent("audio")
                let mixture = try AudioFileReader.read(path: audio.appendingPathComponent("mixture-\(i).wav").path).0.channels[0]
                let speech = try AudioFileReader.read(path: audio.appendingPathComponent("speech-\(i).wav").path).0.channels[0]
                return (zip(mixture, speech).map { $0 - $1 }, speech)
            }
        }
        let plain = try make("plain", []), zero = try make("zero", ["--noise-speed", "0"])
        let fast = try make("fast", ["--noise-speed", "1", "--noise-speed-range", "1.25,1.25"])
        let slow = try make("slow", ["--noise-speed", "1", "--noise-speed-range", "0.8,0.8"])
        let drawn = try make("drawn", ["--noise-speed", "1"])
        var compared = 0, moved = 0
        for i in 0..<8 {
            #expect(zero[i].noise == plain[i].noise && zero[i].speech == plain[i].speech, "mixture \(i): --noise-speed 0 changed it")
            // The speech is the same but for the level the mixture is scaled to (its RMS includes the noise).
            for other in [fast, slow, drawn] {
                let b = plain[i].speech, c = other[i].speech
                let scale = zip(b, c).reduce(Float(0)) { $0 + $1.0 * $1.1 } / max(b.reduce(Float(0)) { $0 + $1 * $1 }, 1e-30)
                let residual = zip(b, c).reduce(Float(0)) { max($0, abs($1.1 - scale * $1.0)) }
                #expect(residual <= 1e-5 * max(c.reduce(Float(0)) { max($0, abs($1)) }, 1e-9), "mixture \(i): the speech changed with --noise-speed")
            }
            // 8 % of mixtures are clean speech, and a third of the synthetic ones have the synthetic noise alone:
            // only mixtures whose noise peaks at the tone in the plain set are compared.
            let base = try Self.peakHertz(plain[i].noise)
            guard rms(plain[i].noise) > 1e-3 * rms(zip(plain[i].speech, plain[i].noise).map(+)), abs(base - 1000) < 5 else { continue }
            compared += 1
            let up = try Self.peakHertz(fast[i].noise), down = try Self.peakHertz(slow[i].noise), any = try Self.peakHertz(drawn[i].noise)
            print("mixture \(i): tone at \(base) Hz; at 1.25× \(up) Hz, at 0.8× \(down) Hz, drawn \(any) Hz")
            #expect(abs(up / base - 1.25) < 0.01, "mixture \(i): at 1.25× the tone is at \(up) Hz, not \(1.25 * base)")
            #expect(abs(down / base - 0.8) < 0.01, "mixture \(i): at 0.8× the tone is at \(down) Hz, not \(0.8 * base)")
            #expect(any / base > 0.79 && any / base < 1.26, "mixture \(i): a drawn speed put the tone at \(any) Hz")
            if abs(any / base - 1) > 0.02 { moved += 1 }
            // The segment keeps its length: no silence where a too-short read would end, at either speed.
            for sped in [fast[i].noise, slow[i].noise] {
                #expect(sped.count == plain[i].noise.count)
                let tail = rms(sped.suffix(800)), plainTail = rms(plain[i].noise.suffix(800))
                #expect(tail > 0.5 * plainTail, "mixture \(i): the last 50 ms of the sped-up noise at RMS \(tail), at 1× \(plainTail)")
            }
        }
        #expect(compared >= 3, "only \(compared) of 8 mixtures have the tone as their noise")
        #expect(moved >= compared / 2, "the drawn speeds moved the tone in only \(moved) of \(compared) mixtures")
        try Self.expectRefused([["--noise-speed", "1.5"], ["--noise-speed=-0.1"], ["--noise-speed-range", "1.2,0.9"], ["--noise-speed-range", "0.1,1"], ["--noise-speed-range", "1"]], naming: "--noise-speed", in: dir)
    }

    /// `gain-features` with each of `bads` exits 64 (usage) and its message names `option`.
    static func expectRefused(_ bads: [[String]], naming option: String, in dir: URL) throws {
        for bad in bads {
            let refused = try CLI.run(["gain-features"] + bad + ["-o", dir.appendingPathComponent("x").path])
            #expect(refused.status == 64 && refused.stderr.contains(option), "\(bad): \(refused.stderr)")
        }
    }

    /// The noise and speech of `count` mixtures (seed 5, 2 s) made from `speech` and `noise` with `options`, under `dir/name`.
    static func mixtures(in dir: URL, _ name: String, speech: String, noise: String, count: Int = 12,
                         _ options: [String]) throws -> [(noise: [Float], speech: [Float])] {
        let out = dir.appendingPathComponent(name)
        let r = try CLI.run(["gain-features", "--preset", "speech-16k", "--speech", speech, "--noise", noise,
                             "--mixtures", "\(count)", "--seconds", "2", "--seed", "5", "--write-audio", "\(count)", "-o", out.path] + options)
        try #require(r.status == 0, "\(r.stderr)")
        return try (0..<count).map { i in
            let audio = out.appendingPathComponent("audio")
            let mixture = try AudioFileReader.read(path: audio.appendingPathComponent("mixture-\(i).wav").path).0.channels[0]
            let speech = try AudioFileReader.read(path: audio.appendingPathComponent("speech-\(i).wav").path).0.channels[0]
            return (zip(mixture, speech).map { $0 - $1 }, speech)
        }
    }

    @Test("--snr-range: the default is -5,20; a fixed SNR of 0 dB against one of 10 dB scales each mixture's noise by 10 dB relative to its speech (within 0.1 dB) and changes nothing else; bad ranges are refused")
    func snrRange() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let (speech, noise) = try GainFeaturesCommandTests.corpus(in: dir)
        func make(_ name: String, _ options: [String]) throws -> [(noise: [Float], speech: [Float])] {
            try Self.mixtures(in: dir, name, speech: speech, noise: noise, options)
        }
        let plain = try make("plain", []), named = try make("named", ["--snr-range=-5,20"])
        let zero = try make("zero", ["--snr-range", "0,0"]), ten = try make("ten", ["--snr-range", "10,10"])
        var compared = 0
        for i in 0..<12 {
            #expect(named[i].noise == plain[i].noise && named[i].speech == plain[i].speech, "mixture \(i): --snr-range=-5,20 is not the default")
            // Mixtures of speech alone or noise alone (8 % each) have no SNR to set; their noise is the −90 dBFS floor or their speech is silent.
            guard rms(zero[i].speech) > 0, rms(zero[i].noise) > 1e-3 * rms(zero[i].speech) else { continue }
            compared += 1
            let ratio = (rms(zero[i].noise) / rms(zero[i].speech)) / (rms(ten[i].noise) / rms(ten[i].speech))
            let decibels = 20 * log10(ratio)
            #expect(abs(decibels - 10) < 0.1, "mixture \(i): noise over speech moved by \(decibels) dB between SNR 0 and 10 dB")
        }
        #expect(compared >= 8, "only \(compared) of 12 mixtures hold both speech and noise")
        try Self.expectRefused([["--snr-range", "10,0"], ["--snr-range=-40,0"], ["--snr-range", "0,50"], ["--snr-range", "5"], ["--snr-range", "a,b"]], naming: "--snr-range", in: dir)
    }

    @Test("--clean-share: 0.08 is the default; at 0.6 more mixtures are clean speech alone (noise at the −90 dBFS floor), every clean one stays clean, every other is unchanged; bad shares are refused")
    func cleanShare() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let (speech, noise) = try GainFeaturesCommandTests.corpus(in: dir)
        let count = 24
        let plain = try Self.mixtures(in: dir, "plain", speech: speech, noise: noise, count: count, [])
        let named = try Self.mixtures(in: dir, "named", speech: speech, noise: noise, count: count, ["--clean-share", "0.08"])
        let more = try Self.mixtures(in: dir, "more", speech: speech, noise: noise, count: count, ["--clean-share", "0.6"])
        /// Clean speech alone: the noise is only the −90 dBFS floor (RMS 3.2e-5; 1e-4 leaves room).
        func clean(_ m: (noise: [Float], speech: [Float])) -> Bool { rms(m.speech) > 0 && rms(m.noise) < 1e-4 }
        var before = 0, after = 0
        for i in 0..<count {
            #expect(named[i].noise == plain[i].noise && named[i].speech == plain[i].speech, "mixture \(i): --clean-share 0.08 is not the default")
            if clean(plain[i]) { before += 1; #expect(clean(more[i]), "mixture \(i): clean at 0.08, not at 0.6") }
            if clean(more[i]) { after += 1 } else {
                #expect(more[i].noise == plain[i].noise && more[i].speech == plain[i].speech, "mixture \(i): not clean at 0.6, yet changed")
            }
        }
        print("clean speech alone: \(before) of \(count) at 0.08, \(after) at 0.6")
        #expect(after >= before + 6 && after <= 20, "\(after) of \(count) mixtures clean at 0.6 (\(before) at 0.08)")
        try Self.expectRefused([["--clean-share", "0.95"], ["--clean-share=-0.1"]], naming: "--clean-share", in: dir)
    }

    @Test("--sixteen-bit: 0 leaves every mixture as without it; at 0.5 the mixtures it draws hold only 16-bit values (no −90 dBFS floor), half of them after a lead of digital zeros of any length, and every other mixture is unchanged; the data keeps a row per hop of each mixture's sound; bad shares are refused")
    func sixteenBit() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let (speech, noise) = try GainFeaturesCommandTests.corpus(in: dir)
        let count = 24
        let plain = try Self.mixtures(in: dir, "plain", speech: speech, noise: noise, count: count, [])
        let zero = try Self.mixtures(in: dir, "zero", speech: speech, noise: noise, count: count, ["--sixteen-bit", "0"])
        let half = try Self.mixtures(in: dir, "half", speech: speech, noise: noise, count: count, ["--sixteen-bit", "0.5"])
        var drawn = 0, leads: [Int] = []
        for i in 0..<count {
            #expect(zero[i].noise == plain[i].noise && zero[i].speech == plain[i].speech, "mixture \(i): --sixteen-bit 0 changed it")
            let mixture = zip(half[i].speech, half[i].noise).map { $0 + $1 }
            // 16-bit values: k/32768 up to the float rounding of speech + (value − speech).
            let sixteen = mixture.allSatisfy { abs($0 * 32768 - ($0 * 32768).rounded()) < 0.01 }
            guard sixteen else {
                #expect(half[i].noise == plain[i].noise && half[i].speech == plain[i].speech, "mixture \(i): not 16-bit, yet changed")
                continue
            }
            drawn += 1
            let lead = mixture.count - plain[i].speech.count
            try #require(lead >= 0 && lead <= 8000, "mixture \(i): \(mixture.count) samples, \(plain[i].speech.count) without the option")
            #expect(mixture.prefix(lead).allSatisfy { $0 == 0 } && half[i].speech.prefix(lead).allSatisfy { $0 == 0 },
                    "mixture \(i): sound in its lead of \(lead) samples")
            if lead > 0 { leads.append(lead) }
            // The same mixture but for its rounding and the floor: within a 16-bit step and the floor's peak (1e-4).
            let before = zip(plain[i].speech, plain[i].noise).map { $0 + $1 }
            let scale = before.reduce(Float(0)) { max($0, abs($1)) }
            let difference = zip(before, mixture[lead...]).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            #expect(difference < 2e-4 * max(1, scale / 0.9), "mixture \(i): \(difference) from the mixture without --sixteen-bit")
        }
        print("--sixteen-bit 0.5: \(drawn) of \(count) mixtures 16-bit, leads \(leads) samples")
        #expect(drawn >= 6 && drawn <= 18, "\(drawn) of \(count) mixtures 16-bit at 0.5")
        #expect(leads.count >= 2 && leads.contains { $0 % 128 != 0 }, "leads \(leads)")
        // A row per hop of sound: the data's shape is the same as without the option.
        let features = try Npy.read(path: dir.appendingPathComponent("half/features.npy").path)
        let plainFeatures = try Npy.read(path: dir.appendingPathComponent("plain/features.npy").path)
        #expect(features.shape == plainFeatures.shape)
        // No row of a frame the network never saw (a lead's frames, which the engine passes unheard, were rows of zeros).
        let width = try #require(features.shape.last)
        let empty = stride(from: 0, to: features.values.count, by: width).filter { row in features.values[row..<(row + width)].allSatisfy { $0 == 0 } }
        #expect(empty.count == 0, "rows of zeros from index \(empty.first ?? 0)")
        try Self.expectRefused([["--sixteen-bit", "1.5"], ["--sixteen-bit=-0.1"]], naming: "--sixteen-bit", in: dir)
    }

    /// Share of `x`'s energy above `hertz` (16 kHz, 512-point Hann frames, hop 256).
    static func shareAbove(_ hertz: Double, _ x: [Float]) throws -> Double {
        let fft = try RealFFT(length: 512)
        var above = 0.0, total = 0.0
        for start in stride(from: 0, to: x.count - 512, by: 256) {
            for n in 0..<512 { fft.time[n] = x[start + n] * Float(0.5 - 0.5 * cos(2 * Double.pi * Double(n) / 512)) }
            fft.forward()
            for k in 1..<257 {
                let p = Double(fft.spectrum[2 * k] * fft.spectrum[2 * k] + fft.spectrum[2 * k + 1] * fft.spectrum[2 * k + 1])
                total += p
                if Double(k) * 16_000 / 512 > hertz { above += p }
            }
        }
        return above / max(total, 1e-30)
    }

    @Test("--narrowband: 0 leaves every mixture as without it; at 0.5 the mixtures it draws hold (nearly) nothing above 6.2 kHz in speech and noise alike, where the white-noise mixtures without it hold 2–12 % of their energy, and every other mixture is unchanged; bad shares are refused")
    func narrowband() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let (speech, noise) = try GainFeaturesCommandTests.corpus(in: dir)
        let count = 16
        let plain = try Self.mixtures(in: dir, "plain", speech: speech, noise: noise, count: count, [])
        let zero = try Self.mixtures(in: dir, "zero", speech: speech, noise: noise, count: count, ["--narrowband", "0"])
        let half = try Self.mixtures(in: dir, "half", speech: speech, noise: noise, count: count, ["--narrowband", "0.5"])
        var drawn = 0
        for i in 0..<count {
            #expect(zero[i].noise == plain[i].noise && zero[i].speech == plain[i].speech, "mixture \(i): --narrowband 0 changed it")
            if half[i].noise == plain[i].noise && half[i].speech == plain[i].speech { continue }
            drawn += 1
            let mixture = zip(half[i].speech, half[i].noise).map { $0 + $1 }
            let before = try Self.shareAbove(6200, zip(plain[i].speech, plain[i].noise).map { $0 + $1 })
            let after = try Self.shareAbove(6200, mixture)
            print("mixture \(i): share of energy above 6.2 kHz \(before) without, \(after) with --narrowband")
            #expect(after < 1e-4, "mixture \(i): \(after) of its energy above 6.2 kHz")
            if rms(half[i].speech) > 0 { #expect(try Self.shareAbove(6200, half[i].speech) < 1e-3, "mixture \(i): speech above 6.2 kHz") }
            if rms(plain[i].noise) > 1e-3 * rms(plain[i].speech) { #expect(before > 0.01, "mixture \(i): \(before) above 6.2 kHz without the option") }
        }
        #expect(drawn >= 4 && drawn <= 12, "\(drawn) of \(count) mixtures band-limited at 0.5")
        try Self.expectRefused([["--narrowband", "2"], ["--narrowband=-0.5"]], naming: "--narrowband", in: dir)
    }
}
