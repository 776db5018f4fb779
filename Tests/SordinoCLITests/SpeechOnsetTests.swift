// SPDX-License-Identifier: GPL-3.0-or-later
// Every shipped preset passes clean speech that starts at once, or after digital silence, with no noise heard before it.

import Foundation
import SordinoIO
import Testing
import TestSupport

/// The engine starts its noise-only mean with the first frame that is not digital silence; when that
/// frame is speech, the learned gain must not take the speech for the noise. Frames of digital
/// silence after it count as noise-only frames at the −90 dBFS floor of the training mixtures'
/// pauses. Before that rule, lowlatency-48k (its network trained without mixtures whose speech
/// starts at once) cut the bundled clean sample, whose pauses are digital zeros, by 21–25 dB
/// throughout (found by hand with `training/clean_pesq.py`). After a second of digital silence it
/// still cut the first second of speech by 21–25 dB: resampled to 48 kHz, the zeros before the first
/// sound hold the resampler's ringing (10⁻¹⁵ and less), on which the noise-only mean started; hops
/// and frames below −100 dBFS are now digital silence (docs/QUALITY.md, "speech after digital
/// silence").
@Suite("speech onset without noise first", .enabled(if: CLI.shouldRun, CLI.skipReason))
struct SpeechOnsetTests {
    @Test("clean speech (pauses of digital zeros) from the first sample, and after 1 s of digital silence: the level over the speech within −4 dB and at most 2 of its 250 ms windows cut by more than 12 dB",
          arguments: [("speech-16k", [0, 1]), ("speech-48k", [0, 1]), ("speech-44k1", [0, 1]), ("lowlatency-48k", [0, 1]),
                      ("speech-96k", [0, 1])])
    func cleanSpeechPasses(preset: String, leadSeconds: [Int]) throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let clean = try AudioFileReader.read(path: CLI.repository.appendingPathComponent("presets/samples/clean-speech-16k.wav").path).0
        let rate = clean.sampleRate
        // The sample begins with digital silence: the speech starts at its first sound.
        let speech = Array(clean.channels[0].drop(while: { abs($0) <= 1e-4 }))
        for lead in leadSeconds.map({ $0 * rate }) {
            let x = [Float](repeating: 0, count: lead) + speech
            let input = dir.appendingPathComponent("in-\(lead).wav").path, output = dir.appendingPathComponent("out-\(lead).wav").path
            try AudioFileWriter.write(AudioBuffer(sampleRate: rate, channels: [x]), to: input,
                                      format: AudioFileFormat(container: .wav, encoding: .float32))
            let r = try CLI.run(["process", "--quiet", "--compensate-delay", "--preset", preset, input, output])
            try #require(r.status == 0, "\(r.stderr)")
            let y = try AudioFileReader.read(path: output).0.channels[0]
            try #require(y.count == x.count)
            // 250 ms windows of the speech holding at least 1/1000 of its mean power.
            let window = rate / 4, mean = speech.reduce(Float(0)) { $0 + $1 * $1 } / Float(speech.count)
            var inside: Float = 0, outside: Float = 0, changes: [Float] = []
            for start in stride(from: lead, through: x.count - window, by: window) {
                let a = x[start..<(start + window)].reduce(Float(0)) { $0 + $1 * $1 }
                let b = y[start..<(start + window)].reduce(Float(0)) { $0 + $1 * $1 }
                guard a / Float(window) > 1e-3 * mean else { continue }
                inside += a; outside += b
                changes.append(10 * log10(max(b, 1e-30) / a))
            }
            let overall = 10 * log10(max(outside, 1e-30) / inside), cut = changes.filter { $0 < -12 }.count
            print("\(preset), \(lead) samples of silence first: \(String(format: "%.1f", overall)) dB over the speech; windows (dB) "
                  + changes.map { String(format: "%.0f", $0) }.joined(separator: " "))
            #expect(changes.count >= 12)
            #expect(overall >= -4, "\(preset), silence \(lead): the speech came out \(overall) dB lower")
            #expect(cut <= 2, "\(preset), silence \(lead): \(cut) of \(changes.count) windows cut by more than 12 dB")
        }
    }
}
