// SPDX-License-Identifier: GPL-3.0-or-later
// A fault found by hand, kept as a test: speech-48k's learned gain latched on a 16-bit band-limited source after a lead of silence that was not a whole number of hops.

import Foundation
import SordinoIO
import Testing
import TestSupport

/// Found by hand (docs/QUALITY.md, "Found by hand: a 16-bit band-limited source at 48 kHz can latch
/// the learned gain"): a 16 kHz recording upsampled to 48 kHz and quantised to 16 bits holds above
/// 8 kHz only the quantisation error. After a lead of digital silence that was not a whole number of
/// hops, the first frame after the silence held the step from silence to sound, whose splatter
/// started the noise-only mean 100 times too high above 8 kHz; the network then heard noise far
/// above the frame there and cut everything, for as long as the sound lasted (−51.6 against −33.4
/// dBFS). The fixture is the first 3 s of the dev mixture `babble_m05dB_0_codec2_f_part1_mix`
/// (`Tests/Fixtures/babble-excerpt/README.md`), looped three times, with no lead, 2 ms, 0.1 s and
/// 1.004 s of digital silence before it (none a whole number of 8 ms hops). Without the lead the
/// output must be what speech-48k makes of the mixture (−36 to −30 dBFS from the fifth second;
/// −33.4 measured); with each lead, within 3 dB of it.
@Suite(.enabled(if: CLI.shouldRun, CLI.skipReason))
struct BandLimitedLatchTests {
    @Test func aShortSilenceBeforeA16BitUpsampledSourceDoesNotChangeTheLevel() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let fixture = CLI.repository.appendingPathComponent("Tests/Fixtures/babble-excerpt/babble_m05dB_codec2_f_part1_3s.flac")
        let source = try AudioFileReader.read(path: fixture.path).0
        let upsampled = try Resampler.resample(source.channels[0], from: source.sampleRate, to: 48000)
        // 16-bit quantisation without dither, then three times over.
        let quantised = upsampled.map { (min(max($0, -1), 32767 / 32768) * 32768).rounded() / 32768 }
        let looped = quantised + quantised + quantised
        var levels: [Float] = []
        for lead in [0, 96, 4800, 48_192] {   // none, 2 ms, 0.1 s, 1.004 s
            let x = [Float](repeating: 0, count: lead) + looped
            let input = dir.appendingPathComponent("in-\(lead).wav").path, output = dir.appendingPathComponent("out-\(lead).wav").path
            try AudioFileWriter.write(AudioBuffer(sampleRate: 48000, channels: [x]), to: input,
                                      format: AudioFileFormat(container: .wav, encoding: .float32))
            let r = try CLI.run(["process", "--quiet", "--compensate-delay", "--preset", "speech-48k", input, output])
            try #require(r.status == 0, "\(r.stderr)")
            let y = try AudioFileReader.read(path: output).0.channels[0]
            try #require(y.count == x.count)
            let tail = y[(lead + 5 * 48000)...]
            levels.append(10 * log10(tail.reduce(Float(0)) { $0 + $1 * $1 } / Float(tail.count) + 1e-20))
        }
        print("output level from the fifth second: \(levels.map { String(format: "%.1f", $0) }) dBFS (leads of none, 2 ms, 0.1 s, 1.004 s)")
        #expect(levels[0] > -36 && levels[0] < -30, "without a lead: \(levels[0]) dBFS")
        for (lead, level) in zip(["2 ms", "0.1 s", "1.004 s"], levels.dropFirst()) {
            #expect(abs(level - levels[0]) < 3, "after \(lead) of silence: \(level) dBFS against \(levels[0]) without")
        }
    }
}
