// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino gain-features`: augmented training mixtures through a preset's engine, written as per-hop features and target band gains (.npy).

import ArgumentParser
import Foundation
import SordinoDSP
import SordinoIO
import SordinoPresets

struct GainFeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gain-features",
        abstract: "Write training data for the learned gain: engine features and ideal band gains of augmented mixtures.",
        discussion: """
        Makes --mixtures mixtures of --seconds each from --speech and --noise (a folder per noise \
        type), augmented as docs/QUALITY.md describes (speed, EQ, reverberation, noise mixing, bursts, \
        --synthetic-noise's noises, --noise-speed's sped-up noise recordings, \
        SNR --snr-range (−5…20 dB), level, --clean-share mixtures of clean speech alone, 8 % of noise alone, \
        --sixteen-bit's mixtures as 16-bit files hold them, --narrowband's band-limited ones), deterministic per --seed. Each runs \
        through the preset's engine with the gain refinement observing (features only, mask unchanged), \
        one hop per call. Writes to --out: features.npy (mixtures × hops × features, see \
        `GainFeatures` in SordinoDSP), targets.npy (mixtures × hops × bands: per band, \
        √(clean speech energy / mixture energy) of the frame, at most 1, clean speech and noise \
        analysed apart through the engine's own STFT frames) and bands.json (band edges in bins).
        """)

    @Option(help: "Preset whose engine computes the features.") var preset: String = "speech-16k"
    @Option(help: "Folder of clean speech (searched recursively).") var speech: String = "../shared/corpus/train/speech"
    @Option(help: "Folder with one sub-folder of recordings per noise type.") var noise: String = "../shared/corpus/train/noise"
    @Option(name: .customLong("leave-out"),
            help: "Noise types (sub-folder names, comma separated) to leave out, e.g. keyboard,water,babble.")
    var leaveOut: String = ""
    @Option(name: .customLong("band-limited"),
            parsing: .unconditional, help: "Share (0…1) of mixtures left without air above 8.5 kHz at rates above 17 kHz.")
    var bandLimited: Float = 0
    @Option(name: .customLong("speech-first"),
            parsing: .unconditional, help: "Share (0…1) of mixtures with speech whose speech starts at the first sample rather than after 0–0.5 s of noise.")
    var speechFirst: Float = 0
    @Option(name: .customLong("synthetic-noise"),
            parsing: .unconditional, help: "Share (0…1) of mixtures with noise that get a synthetic noise (a machine whine, bubbles, key clicks or gusts; alone in a third of them, else added at −10…+6 dB).")
    var syntheticNoise: Float = 0
    @Option(name: .customLong("synthetic-kinds"),
            help: "Comma-separated kinds of synthetic noise to draw from: machine, bubbles, clicks, gusts.")
    var syntheticKinds: String = SyntheticNoise.allCases.map(\.name).joined(separator: ",")
    @Option(name: .customLong("noise-speed"),
            parsing: .unconditional, help: "Share (0…1) of the recorded noise segments played at a random speed in --noise-speed-range (resampled with libsoxr: tempo and pitch together; the segment keeps its length). 0 leaves every mixture as without it.")
    var noiseSpeed: Float = 0
    @Option(name: .customLong("noise-speed-range"),
            help: "LOW,HIGH: the speeds (× the recording's, 0.25…4) --noise-speed draws from, log-uniformly.")
    var noiseSpeedRange: String = "0.8,1.25"
    @Option(name: .customLong("snr-range"),
            help: "LOW,HIGH: the signal-to-noise ratios (dB, speech's active RMS over the noise's) mixtures with both are drawn from, uniformly; −30…40. Write a negative LOW as --snr-range=-10,15.")
    var snrRange: String = "-5,20"
    @Option(name: .customLong("clean-share"),
            parsing: .unconditional, help: "Share (0…0.92) of mixtures of clean speech alone (under a −90 dBFS noise floor), where the ideal gain is 1 throughout; 8 % of mixtures are noise alone whatever it is.")
    var cleanShare: Float = 0.08
    @Option(name: .customLong("sixteen-bit"),
            parsing: .unconditional, help: "Share (0…1) of mixtures made as a 16-bit file holds them: no −90 dBFS floor, rounded to 16 bits (TPDF-dithered in half), and in half of them 0–0.5 s of digital silence first. Frames of digital silence, which the engine passes unheard, are no rows of the data. 0 leaves every mixture as without it.")
    var sixteenBit: Float = 0
    @Option(parsing: .unconditional, help: "Share (0…1) of mixtures whose speech and noise pass through 8000, 11025 or 12000 Hz (those below the preset's rate, each as likely) and back with libsoxr, as a telephone line, a Bluetooth headset's microphone or an old recording leaves them. 0 leaves every mixture as without it.")
    var narrowband: Float = 0
    @Option(parsing: .unconditional, help: "Mixtures to make.") var mixtures: Int = 200
    @Option(name: .customLong("write-audio"),
            parsing: .unconditional, help: "Also write the first N mixtures as 32-bit float WAVs to OUT/audio (mixture-I.wav and speech-I.wav), to listen to them.")
    var writeAudio: Int = 0
    @Option(parsing: .unconditional, help: "Seconds per mixture.") var seconds: Double = 6
    @Option(help: "Seed: the same seed makes the same mixtures.") var seed: UInt64 = 1
    @Option(name: .shortAndLong, help: "Output folder (created if missing).") var out: String

    mutating func validate() throws {
        guard (1...100_000).contains(mixtures) else { throw ValidationError("--mixtures must lie in 1…100000.") }
        guard seconds >= 1 && seconds <= 600 else { throw ValidationError("--seconds must lie in 1…600.") }
        guard (0...1).contains(bandLimited) else { throw ValidationError("--band-limited must lie in 0…1.") }
        guard writeAudio >= 0 else { throw ValidationError("--write-audio must be 0 or more.") }
        guard (0...1).contains(speechFirst) else { throw ValidationError("--speech-first must lie in 0…1.") }
        guard (0...1).contains(syntheticNoise) else { throw ValidationError("--synthetic-noise must lie in 0…1.") }
        guard (0...0.92).contains(cleanShare) else { throw ValidationError("--clean-share must lie in 0…0.92 (8 % of mixtures are noise alone).") }
        guard (0...1).contains(noiseSpeed) else { throw ValidationError("--noise-speed must lie in 0…1.") }
        guard (0...1).contains(sixteenBit) else { throw ValidationError("--sixteen-bit must lie in 0…1.") }
        guard (0...1).contains(narrowband) else { throw ValidationError("--narrowband must lie in 0…1.") }
        _ = try speeds()
        _ = try kinds()
        _ = try snrs()
    }

    func run() throws {
        do { try write() } catch { throw report(error, command: "gain-features") }
    }

    /// The speeds `--noise-speed-range` names.
    private func speeds() throws -> ClosedRange<Float> {
        let parts = noiseSpeedRange.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let low = parts[0], let high = parts[1], low >= 0.25, high <= 4, low <= high else {
            throw ValidationError("--noise-speed-range must be LOW,HIGH with 0.25 ≤ LOW ≤ HIGH ≤ 4, e.g. 0.8,1.25.")
        }
        return low...high
    }

    /// The signal-to-noise ratios `--snr-range` names, in dB.
    private func snrs() throws -> ClosedRange<Float> {
        let parts = snrRange.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let low = parts[0], let high = parts[1], low >= -30, high <= 40, low <= high else {
            throw ValidationError("--snr-range must be LOW,HIGH in dB with −30 ≤ LOW ≤ HIGH ≤ 40, e.g. -5,20.")
        }
        return low...high
    }

    /// The kinds `--synthetic-kinds` names, in the order given, without repeats.
    private func kinds() throws -> [SyntheticNoise] {
        var kinds: [SyntheticNoise] = []
        for name in syntheticKinds.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !name.isEmpty {
            guard let kind = SyntheticNoise(name: name) else {
                throw ValidationError("--synthetic-kinds: \(name) is not a kind; the kinds are \(SyntheticNoise.allCases.map(\.name).joined(separator: ", ")).")
            }
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        guard !kinds.isEmpty else { throw ValidationError("--synthetic-kinds names no kind; the kinds are \(SyntheticNoise.allCases.map(\.name).joined(separator: ", ")).") }
        return kinds
    }

    private func write() throws {
        let loaded = try Preset.load(path: try PresetLocator().resolve(preset, sampleRate: nil).path)
        var config = loaded.engineConfiguration
        config.gainRefinement = .observe
        let rate = config.sampleRate, hop = config.hopLength, frame = config.frameLength
        let bands = SordinoDSP.GainBands(sampleRate: rate, fftLength: config.fftLength)
        let left = Set(leaveOut.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        var maker = try MixtureMaker(speech: speech, noise: noise, sampleRate: rate, leavingOut: left)
        maker.bandLimitedShare = bandLimited
        maker.syntheticShare = syntheticNoise
        maker.speechFirstShare = speechFirst
        maker.syntheticKinds = try kinds()
        maker.noiseSpeedShare = noiseSpeed
        maker.noiseSpeedRange = try speeds()
        maker.snrRange = try snrs()
        maker.cleanShare = cleanShare
        maker.sixteenBitShare = sixteenBit
        maker.narrowbandShare = narrowband
        let hops = Int(seconds * Double(rate)) / hop, count = hops * hop
        let window = try WindowPair(shape: config.window, frameLength: frame, hopLength: hop).analysis
        let fft = try RealFFT(length: config.fftLength)
        var featureCount = 0, repeatedRows = 0, shortMixtures = 0
        var features: [Float] = [], targets: [Float] = []
        targets.reserveCapacity(mixtures * hops * bands.bandCount)
        for m in 0..<mixtures {
            let mixture = try maker.make(index: m, count: count, seed: seed)
            let x = mixture.mixture
            if m < writeAudio {
                let folder = (out as NSString).appendingPathComponent("audio")
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                let format = AudioFileFormat(container: .wav, encoding: .float32)
                try AudioFileWriter.write(AudioBuffer(sampleRate: rate, channels: [x]),
                                          to: (folder as NSString).appendingPathComponent("mixture-\(m).wav"), format: format)
                try AudioFileWriter.write(AudioBuffer(sampleRate: rate, channels: [mixture.speech]),
                                          to: (folder as NSString).appendingPathComponent("speech-\(m).wav"), format: format)
            }
            var engine = try Engine(configuration: config, basis: loaded.basis)
            featureCount = engine.gainFeatureCount
            if m == 0 { features.reserveCapacity(mixtures * hops * featureCount) }
            // One hop per call, so the features after each call are that hop's.
            let input = UnsafeMutablePointer<Float>.allocate(capacity: hop), output = UnsafeMutablePointer<Float>.allocate(capacity: hop)
            let inputs = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: 1)
            let outputs = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: 1)
            defer { input.deallocate(); output.deallocate(); inputs.deallocate(); outputs.deallocate() }
            inputs[0] = UnsafePointer(input)
            outputs[0] = output
            // A row per frame the network steps on: a frame of digital silence (a 16-bit mixture's
            // lead, or its zeros) is passed by the engine unheard, so it is no row of the sequence
            // the network learns from; the mixture's hops after its lead make up for them.
            var kept = 0, i = 0
            while kept < hops, (i + 1) * hop <= x.count {
                for n in 0..<hop { input[n] = x[i * hop + n] }
                let silentBefore = engine.telemetry.silentFrames.load(ordering: .relaxed)
                engine.process(inputs: inputs, outputs: outputs, blockLength: hop)
                i += 1
                guard engine.telemetry.silentFrames.load(ordering: .relaxed) == silentBefore else { continue }
                guard let row = engine.lastGainFeatures(channel: 0) else { throw CommandError("no features", exitCode: .internalError) }
                features.append(contentsOf: UnsafeBufferPointer(start: row, count: featureCount))
                let clean = Self.bandEnergies(mixture.speech, end: i * hop, window: window, fft: fft, bands: bands)
                let mixed = Self.bandEnergies(x, end: i * hop, window: window, fft: fft, bands: bands)
                for b in 0..<bands.bandCount {
                    targets.append(mixed[b] > 0 ? min(1, (clean[b] / mixed[b]).squareRoot()) : 1)
                }
                kept += 1
            }
            // Digital silence within a 16-bit mixture leaves it short: its last row again, counted.
            if kept < hops {
                // (A mixture with no sound at all: rows of zeros, gains of 1.)
                let lastFeatures = kept > 0 ? Array(features.suffix(featureCount)) : [Float](repeating: 0, count: featureCount)
                let lastTargets = kept > 0 ? Array(targets.suffix(bands.bandCount)) : [Float](repeating: 1, count: bands.bandCount)
                for _ in kept..<hops {
                    features.append(contentsOf: lastFeatures)
                    targets.append(contentsOf: lastTargets)
                }
                repeatedRows += hops - kept
                shortMixtures += 1
            }
            if (m + 1) % 20 == 0 { note("\(m + 1)/\(mixtures) mixtures") }
        }
        if shortMixtures > 0 {
            note("\(shortMixtures) mixture(s) held digital silence past their lead: \(repeatedRows) row(s) repeat their last one")
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try Npy.write(NpyArray(shape: [mixtures, hops, featureCount], values: features),
                      to: (out as NSString).appendingPathComponent("features.npy"))
        try Npy.write(NpyArray(shape: [mixtures, hops, bands.bandCount], values: targets),
                      to: (out as NSString).appendingPathComponent("targets.npy"))
        let description = "{\"preset\": \"\(loaded.metadata.name)\", \"sampleRate\": \(rate), \"edges\": \(bands.edges), "
            + "\"featureCount\": \(featureCount), \"seed\": \(seed), \"mixtures\": \(mixtures), \"seconds\": \(seconds), \"bandLimited\": \(bandLimited), \"speechFirst\": \(speechFirst), \"syntheticNoise\": \(syntheticNoise), \"syntheticKinds\": \(try kinds().map(\.name)), "
            + "\"noiseSpeed\": \(noiseSpeed), \"noiseSpeedRange\": [\(maker.noiseSpeedRange.lowerBound), \(maker.noiseSpeedRange.upperBound)], \"snrRange\": [\(maker.snrRange.lowerBound), \(maker.snrRange.upperBound)], \"cleanShare\": \(cleanShare), \"sixteenBit\": \(sixteenBit), \"narrowband\": \(narrowband), "
            + "\"noiseTypes\": \(maker.typeNames)}\n"
        try Data(description.utf8).write(to: URL(fileURLWithPath: (out as NSString).appendingPathComponent("bands.json")))
    }

    /// Band energies Σ|X|² of the frame of `signal` ending at sample `end` (zeros before the start),
    /// windowed as the engine windows it.
    static func bandEnergies(_ signal: [Float], end: Int, window: [Float], fft: borrowing RealFFT,
                             bands: SordinoDSP.GainBands) -> [Float] {
        let frame = window.count
        for n in 0..<fft.length {
            let t = end - frame + n
            fft.time[n] = n < frame && t >= 0 ? signal[t] * window[n] : 0
        }
        fft.forward()
        return (0..<bands.bandCount).map { b in
            (bands.edges[b]..<bands.edges[b + 1]).reduce(Float(0)) { sum, f in
                sum + fft.spectrum[2 * f] * fft.spectrum[2 * f] + fft.spectrum[2 * f + 1] * fft.spectrum[2 * f + 1]
            }
        }
    }
}
