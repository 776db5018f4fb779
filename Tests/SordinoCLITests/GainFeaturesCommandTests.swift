// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino gain-features`: training mixtures deterministic per seed, their audio written on request, the synthetic noises as described.

import Foundation
import SordinoDSP
import SordinoIO
import Testing
import TestSupport

@Suite("gain-features", .enabled(if: CLI.shouldRun, CLI.skipReason))
struct GainFeaturesCommandTests {
    /// A corpus in `dir`: the bundled clean speech from its first sample above −80 dBFS (it starts
    /// with digital silence), and one noise type of white noise (10 s).
    static func corpus(in dir: URL) throws -> (speech: String, noise: String) {
        let speech = dir.appendingPathComponent("speech"), white = dir.appendingPathComponent("noise/white")
        for folder in [speech, white] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        let clean = try AudioFileReader.read(path: CLI.repository.appendingPathComponent("presets/samples/clean-speech-16k.wav").path).0.channels[0]
        let start = try #require(clean.firstIndex { abs($0) > 1e-4 })
        try AudioFileWriter.write(AudioBuffer(sampleRate: 16_000, channels: [Array(clean[start...])]),
                                  to: speech.appendingPathComponent("clean.wav").path,
                                  format: AudioFileFormat(container: .wav, encoding: .float32))
        var g = SeededGenerator(seed: 5)
        let noise = (0..<160_000).map { _ in 0.1 * (2 * g.unit() - 1) }
        try AudioFileWriter.write(AudioBuffer(sampleRate: 16_000, channels: [noise]),
                                  to: white.appendingPathComponent("white.wav").path,
                                  format: AudioFileFormat(container: .wav, encoding: .float32))
        return (speech.path, dir.appendingPathComponent("noise").path)
    }

    /// Peak over median (dB) of the mean power spectrum of `x` over 512-sample frames (Hann, hop 256).
    static func peakOverMedian(_ x: [Float]) throws -> Double {
        let fft = try RealFFT(length: 512)
        var power = [Double](repeating: 0, count: 257)
        for start in stride(from: 0, to: x.count - 512, by: 256) {
            for n in 0..<512 { fft.time[n] = x[start + n] * Float(0.5 - 0.5 * cos(2 * Double.pi * Double(n) / 512)) }
            fft.forward()
            for k in 1..<257 {
                power[k] += Double(fft.spectrum[2 * k] * fft.spectrum[2 * k] + fft.spectrum[2 * k + 1] * fft.spectrum[2 * k + 1])
            }
        }
        let sorted = power[1...].sorted()
        return 10 * log10((sorted.last ?? 0) / max(sorted[sorted.count / 2], 1e-30))
    }

    @Test("--write-audio writes mixture and speech per mixture, the same for the same seed; --synthetic-noise 1 with machines makes every noise tonal, with clicks impulsive, 0 leaves white noise flat; --speech-first 1 starts every speech at the first sample; no sample above −1 dBFS; bad values are refused")
    func mixtures() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let (speech, noise) = try Self.corpus(in: dir)
        func make(_ name: String, synthetic: String, kind: String = "machine", first: String = "0") throws -> [(mixture: [Float], speech: [Float])] {
            let out = dir.appendingPathComponent(name)
            let r = try CLI.run(["gain-features", "--preset", "speech-16k", "--speech", speech, "--noise", noise,
                                 "--mixtures", "6", "--seconds", "2", "--seed", "4", "--synthetic-noise", synthetic,
                                 "--synthetic-kinds", kind, "--speech-first", first, "--write-audio", "6", "-o", out.path])
            try #require(r.status == 0, "\(r.stderr)")
            let description = try String(contentsOf: out.appendingPathComponent("bands.json"), encoding: .utf8)
            #expect(description.contains("\"syntheticNoise\": \(Float(synthetic) ?? .nan), \"syntheticKinds\": [\"\(kind)\"]"), "\(description)")
            return try (0..<6).map { i in
                let audio = out.appendingPathComponent("audio")
                return (try AudioFileReader.read(path: audio.appendingPathComponent("mixture-\(i).wav").path).0.channels[0],
                        try AudioFileReader.read(path: audio.appendingPathComponent("speech-\(i).wav").path).0.channels[0])
            }
        }
        let plain = try make("plain", synthetic: "0"), again = try make("again", synthetic: "0")
        let machine = try make("machine", synthetic: "1"), clicks = try make("clicks", synthetic: "1", kind: "clicks")
        let first = try make("first", synthetic: "0", first: "1")
        // Where the speech starts: its first sample not exactly 0 (the corpus' recordings have no digital silence).
        func onset(_ x: [Float]) -> Int? { x.firstIndex { $0 != 0 } }
        var late = 0
        for i in 0..<6 {
            guard let start = onset(first[i].speech) else { continue }   // a noise-only mixture
            #expect(start == 0, "mixture \(i): with --speech-first 1 the speech starts at sample \(start)")
            if let plainStart = onset(plain[i].speech), plainStart > 160 { late += 1 }
        }
        #expect(late >= 3, "without --speech-first only \(late) of 6 mixtures start their speech after 10 ms")
        for i in 0..<6 {
            #expect(plain[i].mixture == again[i].mixture && plain[i].speech == again[i].speech, "mixture \(i) differs for the same seed")
            #expect(plain[i].mixture.count == 2 * 16_000 / 128 * 128)
            let plainNoise = zip(plain[i].mixture, plain[i].speech).map { $0 - $1 }
            let machineNoise = zip(machine[i].mixture, machine[i].speech).map { $0 - $1 }
            // 8 % of mixtures are clean speech over the −90 dBFS floor: nothing to compare there.
            guard rms(plainNoise) > 1e-3 * rms(plain[i].mixture) else { continue }
            let flat = try Self.peakOverMedian(plainNoise), tonal = try Self.peakOverMedian(machineNoise)
            print("mixture \(i): noise peak over median \(flat) dB (white), \(tonal) dB (machine noise)")
            #expect(flat < 12, "white noise (equalised ±6 dB) peaks \(flat) dB over its median")
            #expect(tonal > flat + 6, "machine noise peaks only \(tonal) dB over its median, white \(flat) dB")
            // Clicks: isolated strokes, so the noise's crest factor far above white noise's (≈ 4.5).
            let clickNoise = zip(clicks[i].mixture, clicks[i].speech).map { $0 - $1 }
            let crest = clickNoise.reduce(Float(0)) { max($0, abs($1)) } / rms(clickNoise)
            print("mixture \(i): crest factor of the click noise \(crest)")
            #expect(crest > 8, "click noise crest factor \(crest)")
        }
        for set in [plain, machine, clicks] {
            for m in set { #expect(m.mixture.allSatisfy { abs($0) <= 0.89125 + 6e-5 }, "a mixture sample above −1 dBFS (and the −90 dBFS floor)") }
        }
        for bad in ["1.5", "-0.1"] {
            for option in ["--synthetic-noise", "--speech-first"] {
                let refused = try CLI.run(["gain-features", "\(option)=\(bad)", "-o", dir.appendingPathComponent("x").path])
                #expect(refused.status == 64 && refused.stderr.contains("\(option) must lie in 0…1"), "\(bad): \(refused.stderr)")
            }
        }
        for bad in ["clicks,rain", ","] {
            let refused = try CLI.run(["gain-features", "--synthetic-kinds", bad, "-o", dir.appendingPathComponent("x").path])
            #expect(refused.status == 64 && refused.stderr.contains("the kinds are machine, bubbles, clicks, gusts"), "\(bad): \(refused.stderr)")
        }
    }
}
