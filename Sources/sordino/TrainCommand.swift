// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino train`: learns speech and noise bases from WAV folders and writes a preset.

import ArgumentParser
import Foundation
import SordinoDSP
import SordinoIO
import SordinoNMF
import SordinoPresets

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Learn speech and noise dictionaries (β-NMF) from audio folders and write a preset.",
        discussion: """
        Every audio file under --speech and --noise (searched recursively, in sorted order) is read, \
        converted to --sample-rate with libsoxr when needed, and analysed with exactly the STFT the \
        engine will use. Frames of digital silence and frames more than 60 dB below the loudest are \
        dropped. The speech basis is learned on speech frames and the noise basis on noise frames \
        with multiplicative β-divergence updates (matrix products through OpenBLAS); atoms are \
        normalised to unit sum. The same --seed gives the same preset. Writes OUT.json and OUT.basis.
        """)

    @Option(help: "Folder(s) of clean speech (repeatable).") var speech: [String] = []
    @Option(help: "Folder(s) of noise (repeatable).") var noise: [String] = []
    @Option(name: .shortAndLong, help: "Output path without extension, e.g. presets/speech-16k.") var output: String
    @Option(help: "Description stored in the preset.") var description: String = "Speech enhancement preset"

    @Option(name: .customLong("sample-rate"), help: "Preset sample rate in Hz.") var sampleRate: Int = 16_000
    @Option(name: .customLong("frame-length"), help: "Window length N in samples (= latency). Default: 32 ms at the rate.")
    var frameLength: Int?
    @Option(name: .customLong("hop-length"), help: "Hop H in samples. Default: N/4.") var hopLength: Int?
    @Option(name: .customLong("fft-length"), help: "FFT size in samples, ≥ N (zero padding). Default: N.") var fftLength: Int?
    @Option(help: "Window: sqrt-hann, hann or hamming.") var window: String = "sqrt-hann"
    @Option(name: .customLong("spectrum-exponent"), help: "q in V = |X|^q: 1 magnitude, 2 power.") var spectrumExponent: Int = 1

    @Option(help: "β of the divergence: 0 Itakura–Saito, 1 KL, 2 Euclidean (the engine runs 0, 1 or 2).") var beta: Int = 1
    @Option(name: .customLong("atoms-speech"), help: "Speech atoms.") var speechRank: Int = 64
    @Option(name: .customLong("atoms-noise"), help: "Noise atoms.") var noiseRank: Int = 64
    @Option(name: .customLong("epochs"), help: "Training iterations (multiplicative updates over all frames).") var epochs: Int = 200
    @Option(help: "L1 penalty λ on activations during training (units of V).") var sparsity: Float = 0
    @Option(help: "Seed of the random initialisation.") var seed: UInt64 = 1

    @Option(name: .customLong("solve-iterations"), help: "Live solver iterations per frame stored in the preset.") var solveIterations: Int = 5
    @Option(name: .customLong("activation-floor"),
            help: "Live activation floor stored in the preset, as a fraction (0…1) of each frame's cold-start activation.")
    var activationFloor: Float = 1
    @Option(name: .customLong("adaptive-noise-atoms"),
            help: "Noise atoms the live engine re-learns from noise-only frames, stored in the preset (0…32).")
    var adaptiveNoiseRank: Int = 8
    @Option(name: .customLong("adaptive-noise-memory-ms"),
            help: "Memory of the adaptive noise atoms stored in the preset, ms of noise-only audio.")
    var adaptiveNoiseMemory: Float = 2000
    @Option(name: .customLong("floor-db"), parsing: .unconditional, help: "Mask floor stored in the preset, dB (−120…0).")
    var floorDecibels: Float = -15
    @Option(name: .customLong("mask-exponent"), help: "Mask exponent p stored in the preset: 1 or 2.") var maskExponent: Int = 1
    @Option(name: .customLong("mask-smoothing-ms"), help: "Mask smoothing time constant stored in the preset, ms (0 = off).")
    var maskSmoothing: Float = 0

    @Option(name: .customLong("report"), help: "Also write a self-contained HTML report (loss curves, atoms, basis).")
    var reportPath: String?
    @Option(name: .customLong("import-basis"),
            help: "Skip learning: build the preset from FOLDER/speech.npy and noise.npy (bins × atoms, as `inspect --export` writes) and the STFT options.")
    var importBasis: String?

    mutating func validate() throws {
        guard importBasis != nil || (!speech.isEmpty && !noise.isEmpty) else {
            throw ValidationError("give at least one --speech and one --noise folder (or --import-basis).")
        }
        guard WindowShape(rawValue: window) != nil else { throw ValidationError("--window must be sqrt-hann, hann or hamming.") }
        guard (1...4096).contains(speechRank), (1...4096).contains(noiseRank) else {
            throw ValidationError("--atoms-speech and --atoms-noise must lie in 1…4096.")
        }
        guard (1...100_000).contains(epochs) else { throw ValidationError("--epochs must lie in 1…100000.") }
    }

    func run() throws {
        do { try train() } catch { throw report(error, command: "train") }
    }

    private func train() throws {
        var config = EngineConfiguration()
        config.sampleRate = sampleRate
        config.frameLength = frameLength ?? Self.defaultFrameLength(sampleRate: sampleRate)
        config.hopLength = hopLength ?? config.frameLength / 4
        config.fftLength = fftLength ?? config.frameLength
        config.window = WindowShape(rawValue: window) ?? .sqrtHann
        config.spectrumExponent = spectrumExponent
        config.beta = beta
        config.iterations = solveIterations
        config.floorDecibels = floorDecibels
        config.activationFloor = activationFloor
        config.adaptiveNoiseRank = adaptiveNoiseRank
        config.adaptiveNoiseMemoryMilliseconds = adaptiveNoiseMemory
        config.maskExponent = maskExponent
        config.maskSmoothingMilliseconds = maskSmoothing

        if let importBasis {
            let basis = try BasisExport.read(from: importBasis, binCount: config.binCount)
            let name = URL(fileURLWithPath: output).lastPathComponent
            let directory = URL(fileURLWithPath: output).deletingLastPathComponent().path
            let provenance = PresetMetadata.Provenance(
                trainingData: importBasis, command: Self.commandLine(),
                date: ISO8601DateFormatter().string(from: Date()), seed: seed, method: "imported .npy bases")
            let preset = Preset(name: name, description: description, configuration: config, basis: basis, provenance: provenance)
            note("wrote \(try preset.write(directory: directory.isEmpty ? "." : directory, name: name)) from \(importBasis)")
            return
        }
        let speechSignals = try loadFolders(speech, rate: sampleRate, what: "speech")
        let noiseSignals = try loadFolders(noise, rate: sampleRate, what: "noise")
        let speechSet = try TrainingSet(signals: speechSignals, configuration: config)
        let noiseSet = try TrainingSet(signals: noiseSignals, configuration: config)
        note("frames: \(speechSet.frameCount) speech, \(noiseSet.frameCount) noise, \(config.binCount) bins")

        let trainer = try SupervisedTrainer(SupervisedTrainer.Options(
            speechRank: speechRank, noiseRank: noiseRank, beta: Double(beta), iterations: epochs,
            sparsity: sparsity, seed: seed))
        let started = Date()
        let result = try trainer.train(speech: speechSet.spectrogram, noise: noiseSet.spectrogram) { part, iteration, objective in
            if iteration == 1 || iteration % 10 == 0 || iteration == epochs {
                note("\(part.rawValue) \(iteration)/\(epochs): objective \(String(format: "%.6g", objective))")
            }
        }
        let name = URL(fileURLWithPath: output).lastPathComponent
        let directory = URL(fileURLWithPath: output).deletingLastPathComponent().path
        let provenance = PresetMetadata.Provenance(
            trainingData: (speech + noise).joined(separator: " "),
            command: Self.commandLine(), date: ISO8601DateFormatter().string(from: Date()), seed: seed,
            method: "nmf β=\(beta), \(epochs) iterations")
        let preset = Preset(name: name, description: description, configuration: config, basis: result.basis,
                            provenance: provenance)
        let written = try preset.write(directory: directory.isEmpty ? "." : directory, name: name)
        if let reportPath {
            try TrainReport.write(to: reportPath, basis: result.basis, speechObjective: result.speechObjective,
                                  noiseObjective: result.noiseObjective, command: Self.commandLine())
        }
        note(String(format: "wrote %@ in %.1f s (final objective: speech %.6g, noise %.6g)", written,
                    Date().timeIntervalSince(started), result.speechObjective.last ?? .nan, result.noiseObjective.last ?? .nan))
    }

    /// 32 ms rounded to an even number of samples that is a multiple of 4 (so N/4 is a whole hop).
    static func defaultFrameLength(sampleRate: Int) -> Int { max(64, (sampleRate * 32 / 1000) / 4 * 4) }

    /// The command as typed, with the executable shortened to `sordino`.
    static func commandLine() -> String {
        (["sordino"] + CommandLine.arguments.dropFirst()).map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
    }

    /// Every audio file below `folders` (sorted), mono-mixed and converted to `rate`.
    func loadFolders(_ folders: [String], rate: Int, what: String) throws -> [[Float]] {
        var files: [String] = []
        for folder in folders {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CommandError("\(what) folder \(folder) does not exist.", exitCode: .noInput)
            }
            let enumerator = FileManager.default.enumerator(atPath: folder)
            while let item = enumerator?.nextObject() as? String {
                if ["wav", "flac"].contains((item as NSString).pathExtension.lowercased()) {
                    files.append((folder as NSString).appendingPathComponent(item))
                }
            }
        }
        files.sort()
        guard !files.isEmpty else { throw CommandError("no .wav or .flac files under \(folders.joined(separator: ", ")).", exitCode: .noInput) }
        var seconds = 0.0
        let signals = try files.map { path -> [Float] in
            var (audio, _) = try AudioFileReader.read(path: path)
            if audio.sampleRate != rate { audio = try Resampler.resample(audio, to: rate) }
            seconds += audio.durationSeconds
            let scale = 1 / Float(audio.channelCount)
            return (0..<audio.sampleCount).map { i in audio.channels.reduce(0) { $0 + $1[i] } * scale }
        }
        note("\(what): \(files.count) files, \(String(format: "%.1f", seconds)) s at \(rate) Hz")
        return signals
    }
}
