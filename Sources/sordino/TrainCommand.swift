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
        commandName: "train",
        abstract: "Learn speech and noise dictionaries from audio folders and write a preset.",
        discussion: """
        Every audio file under --speech and --noise (searched recursively, in sorted order) is read, \
        converted to --sample-rate with libsoxr when needed, and analysed with exactly the STFT the \
        engine will use. Frames of digital silence and frames more than 60 dB below the loudest are \
        dropped. The speech basis is learned on speech frames and the noise basis on noise frames \
        (matrix products through OpenBLAS; set OPENBLAS_NUM_THREADS), by --method: \
        nmf (β-divergence NMF, --beta), nmf-exp / nmf-gamma (KL-NMF with a per-atom exponential or \
        gamma prior on activations, estimated after --warm-up-epochs and stored as the live solver's \
        per-atom penalties), anmf (adversarial NMF: each basis fits its own source and, with weight \
        --adversarial-weight, fits the other source badly). Atoms are stored with unit sum. The same \
        --seed gives the same preset. Writes OUT.json, OUT.basis and the learning curves OUT.loss.json \
        (with why each run stopped); --export-activations also writes the training activations H as \
        OUT.speech-activations.npy and OUT.noise-activations.npy (atoms × frames). --tolerance stops a \
        run once an epoch lowers its objective by less than that fraction of the initial one. Flags of \
        another method are refused. docs/TRAINING.md explains the methods.
        """)

    @Option(help: "Folder(s) of clean speech (repeatable).") var speech: [String] = []
    @Option(help: "Folder(s) of noise (repeatable).") var noise: [String] = []
    @Option(name: .shortAndLong, help: "Output path without extension, e.g. presets/speech-16k (its folder is made if missing).") var output: String
    @Option(help: "Description stored in the preset.") var description: String = "Speech enhancement preset"

    @Option(name: .customLong("sample-rate"), parsing: .unconditional, help: "Preset sample rate in Hz.") var sampleRate: Int = 16_000
    @Option(name: .customLong("frame-length"), parsing: .unconditional, help: "Window length N in samples (= latency). Default: 32 ms at the rate.")
    var frameLength: Int?
    @Option(name: .customLong("hop-length"), parsing: .unconditional, help: "Hop H in samples. Default: N/4.") var hopLength: Int?
    @Option(name: .customLong("fft-length"), parsing: .unconditional, help: "FFT size in samples, ≥ N (zero padding). Default: N.") var fftLength: Int?
    @Option(help: "Window: sqrt-hann, hann or hamming.") var window: String = "sqrt-hann"
    @Option(name: .customLong("spectrum-exponent"), parsing: .unconditional, help: "q in V = |X|^q: 1 magnitude, 2 power.") var spectrumExponent: Int = 1

    @Option(help: "Training method: anmf (the shipped presets'), nmf, nmf-exp or nmf-gamma (see docs/TRAINING.md).")
    var method: String = "anmf"
    @Option(parsing: .unconditional, help: "nmf: β of the divergence (any real: 0 Itakura–Saito, 1 KL, 2 Euclidean; default 1). The prior methods are KL and anmf Euclidean: they refuse it.")
    var beta: Double?
    @Option(name: .customLong("solve-beta"), parsing: .unconditional, help: "β of the live solve stored in the preset: 0, 1 or 2. Default: nmf's --beta when it is 0, 1 or 2, else 1.")
    var solveBeta: Int?
    @Option(name: .customLong("atoms-speech"), parsing: .unconditional, help: "Speech atoms.") var speechRank: Int = 64
    @Option(name: .customLong("atoms-noise"), parsing: .unconditional, help: "Noise atoms (one more is added by --band-limit-hz).") var noiseRank: Int = 64
    @Option(name: .customLong("epochs"), parsing: .unconditional, help: "Passes over all frames per basis (prior methods: warm-up included).") var epochs: Int = 200
    @Option(parsing: .unconditional, help: "Stop a run once an epoch lowers its objective by less than this fraction of the initial objective (e.g. 1e-4); --epochs is the cap.")
    var tolerance: Double?
    @Flag(name: .customLong("export-activations"), help: "Also write the training activations H: OUT.speech-activations.npy, OUT.noise-activations.npy.")
    var exportActivations = false
    @Option(name: .customLong("warm-up-epochs"), parsing: .unconditional, help: "nmf-exp/nmf-gamma: plain KL passes before the prior is estimated. Default: half of --epochs.")
    var warmUpEpochs: Int?
    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Frames per mini-batch W step (anmf) or per chunk of a full pass (nmf-exp, nmf-gamma; bounds scratch memory). Default 1000.")
    var batchSize: Int?
    @Option(name: .customLong("adversarial-weight"), parsing: .unconditional, help: "anmf: weight τ_A ≥ 0 of the adversarial term (0 = plain Euclidean NMF). Default 0.3.")
    var adversarialWeight: Float?
    @Option(name: .customLong("prior-weight"), parsing: .unconditional, help: "nmf-exp/nmf-gamma: weight α ≥ 0 of the prior; per-atom live penalty = α / mean activation (exp). Default 0.005.")
    var priorWeight: Float?
    @Option(parsing: .unconditional, help: "nmf: L1 penalty λ on activations during training (units of V). Default 0.") var sparsity: Float?
    @Option(help: "Seed of the random initialisation.") var seed: UInt64 = 1
    @Option(name: .customLong("band-limit-hz"), parsing: .unconditional, help: "Training data carry nothing above this frequency (Hz): learned atoms are cut there, one flat noise atom covers the band above, and the preset records the limit (the engine solves below it only). Default: off.")
    var bandLimit: Double?

    @Option(name: .customLong("solve-iterations"), parsing: .unconditional, help: "Live solver iterations per frame stored in the preset.") var solveIterations: Int = 5
    @Option(name: .customLong("activation-floor"),
            parsing: .unconditional, help: "Live activation floor stored in the preset, as a fraction (0…1) of each frame's cold-start activation.")
    var activationFloor: Float = 0.7
    @Option(name: .customLong("adaptive-noise-atoms"),
            parsing: .unconditional, help: "Noise atoms the live engine re-learns from noise-only frames, stored in the preset (0…32).")
    var adaptiveNoiseRank: Int = 8
    @Option(name: .customLong("adaptive-noise-memory-ms"),
            parsing: .unconditional, help: "Memory of the adaptive noise atoms stored in the preset, ms of noise-only audio.")
    var adaptiveNoiseMemory: Float = 2000
    @Option(name: .customLong("floor-db"), parsing: .unconditional, help: "Mask floor stored in the preset, dB (−120…0).")
    var floorDecibels: Float = -15
    @Option(name: .customLong("noise-bound-db"), parsing: .unconditional,
            help: "Lower bound on the noise estimate stored in the preset: dB (−120…20) relative to each bin's mean over noise-only frames, or 'off'.")
    var noiseBound = NoiseBound(decibels: 6)
    @Option(name: .customLong("absent-floor-db"), parsing: .unconditional,
            help: "Speech presence stored in the preset: mask floor in dB (−120…0) where speech is absent, or 'off'.")
    var absentFloor = AbsentFloor(decibels: nil)
    @Option(name: .customLong("mask-exponent"), parsing: .unconditional, help: "Mask exponent p stored in the preset: 1 or 2.") var maskExponent: Int = 1
    @Option(name: .customLong("mask-smoothing-ms"), parsing: .unconditional, help: "Mask smoothing time constant stored in the preset, ms (0 = off).")
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
        guard TrainingMethod(rawValue: method) != nil else {
            throw ValidationError("--method must be one of \(TrainingMethod.allCases.map(\.rawValue).joined(separator: ", ")) (got \(method)).")
        }
        if let beta, !(beta.isFinite && (-10...10).contains(beta)) {
            throw ValidationError("--beta must be a finite real in −10…10 (got \(beta)).")
        }
        if let solveBeta, !(0...2).contains(solveBeta) { throw ValidationError("--solve-beta must be 0, 1 or 2 (got \(solveBeta)).") }
        if let batchSize, !(1...1_000_000).contains(batchSize) { throw ValidationError("--batch-size must lie in 1…1000000 frames.") }
        if let adversarialWeight, !(adversarialWeight.isFinite && adversarialWeight >= 0) {
            throw ValidationError("--adversarial-weight must be ≥ 0.")
        }
        if let priorWeight, !(priorWeight.isFinite && priorWeight >= 0) { throw ValidationError("--prior-weight must be ≥ 0.") }
        if let sparsity, !(sparsity.isFinite && sparsity >= 0) { throw ValidationError("--sparsity must be a finite λ ≥ 0.") }
        if let tolerance, !(tolerance.isFinite && tolerance >= 0) {
            throw ValidationError("--tolerance must be a finite fraction ≥ 0, e.g. 1e-4.")
        }
        try refuseFlagsOfOtherMethods()
        if let warmUpEpochs, !(1...epochs).contains(warmUpEpochs) {
            throw ValidationError("--warm-up-epochs must lie in 1…--epochs (\(epochs)).")
        }
        if let bandLimit, !(bandLimit.isFinite && bandLimit > 0 && bandLimit < Double(sampleRate) / 2) {
            throw ValidationError("--band-limit-hz must lie between 0 and half the sample rate (\(sampleRate / 2) Hz).")
        }
    }

    /// Flags that only another method reads are refused, not silently stored.
    func refuseFlagsOfOtherMethods() throws {
        guard let chosen = TrainingMethod(rawValue: method), importBasis == nil else { return }
        let prior = chosen == .nmfExponential || chosen == .nmfGamma
        var foreign: [String] = []
        if let beta, chosen == .anmf || (prior && beta != 1) { foreign.append("--beta \(beta)") }
        if sparsity != nil && chosen != .nmf { foreign.append("--sparsity") }
        if adversarialWeight != nil && chosen != .anmf { foreign.append("--adversarial-weight") }
        if priorWeight != nil && !prior { foreign.append("--prior-weight") }
        if warmUpEpochs != nil && !prior { foreign.append("--warm-up-epochs") }
        if batchSize != nil && chosen == .nmf { foreign.append("--batch-size") }
        guard foreign.isEmpty else {
            let what = chosen == .anmf ? "anmf (Euclidean, mini-batches)" : prior ? "\(method) (KL-NMF with a prior)"
                : "nmf (full passes in fixed chunks)"
            throw ValidationError("\(foreign.joined(separator: ", ")) do\(foreign.count == 1 ? "es" : "") not apply to --method \(what): "
                + "leave \(foreign.count == 1 ? "it" : "them") out (--solve-beta sets the live solver's β).")
        }
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
        let nmfBeta = BetaDivergence(beta ?? 1)
        config.beta = solveBeta.map { BetaDivergence(Double($0)) }
            ?? (method == TrainingMethod.nmf.rawValue && nmfBeta.isLiveSolvable ? nmfBeta : 1)
        config.iterations = solveIterations
        config.floorDecibels = floorDecibels
        config.noiseBoundDecibels = noiseBound.decibels
        config.absentFloorDecibels = absentFloor.decibels
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
        // The folder the preset goes to, made and checked now: not after minutes of training.
        let outputFolder = URL(fileURLWithPath: output).deletingLastPathComponent().path
        try Preset.prepareDirectory(outputFolder.isEmpty ? "." : outputFolder)
        let speechSignals = try loadFolders(speech, rate: sampleRate, what: "speech")
        let noiseSignals = try loadFolders(noise, rate: sampleRate, what: "noise")
        let speechSet = try TrainingSet(signals: speechSignals, configuration: config)
        let noiseSet = try TrainingSet(signals: noiseSignals, configuration: config)
        note("frames: \(speechSet.frameCount) speech, \(noiseSet.frameCount) noise, \(config.binCount) bins")

        let trainingMethod = TrainingMethod(rawValue: method) ?? .nmf
        try checkFrames(speech: speechSet.frameCount, noise: noiseSet.frameCount, method: trainingMethod)
        let trainer = try BasisTrainer(BasisTrainer.Options(
            method: trainingMethod, speechRank: speechRank, noiseRank: noiseRank, beta: nmfBeta, epochs: epochs,
            warmUpEpochs: warmUpEpochs, batchSize: batchSize ?? 1000, adversarialWeight: adversarialWeight ?? 0.3,
            priorWeight: priorWeight ?? 0.005, sparsity: sparsity ?? 0, seed: seed, tolerance: tolerance))
        let started = Date()
        let bar = ProgressBar(total: 2 * epochs)
        let result = try trainer.train(speech: speechSet.spectrogram, noise: noiseSet.spectrogram) { part, epoch, total, objective in
            bar.update((part == .speech ? 0 : total) + epoch)
            if isatty(STDERR_FILENO) == 0 && (epoch == 1 || epoch % max(1, total / 10) == 0 || epoch == total) {
                note("\(part.rawValue) \(epoch)/\(total): objective \(String(format: "%.6g", objective))")
            }
        }
        bar.finish()
        var basis = result.basis
        if let bandLimit {
            config.bandLimitHertz = Float(bandLimit)   // the engine then solves below it only
            let cutoff = config.solvedBinCount
            basis = try basis.bandLimited(cutoffBin: cutoff)
            note("band limit: atoms cut above bin \(cutoff) (\(String(format: "%.0f", bandLimit)) Hz); one high-band noise atom added")
        }
        let name = URL(fileURLWithPath: output).lastPathComponent
        let directory = URL(fileURLWithPath: output).deletingLastPathComponent().path
        var methodDescription: String
        switch trainingMethod {
        case .nmf: methodDescription = "nmf β=\(nmfBeta.beta), \(epochs) iterations"
        case .nmfExponential, .nmfGamma:
            methodDescription = "\(method) (KL), \(warmUpEpochs ?? epochs / 2) warm-up + \(epochs - (warmUpEpochs ?? epochs / 2)) prior iterations, prior weight \(priorWeight ?? 0.005)"
        case .anmf: methodDescription = "anmf τ_A=\(adversarialWeight ?? 0.3), \(epochs) epochs, batch \(batchSize ?? 1000)"
        }
        if let tolerance { methodDescription += ", tolerance \(tolerance)" }
        let provenance = PresetMetadata.Provenance(
            trainingData: (speech + noise).joined(separator: " "),
            command: Self.commandLine(), date: ISO8601DateFormatter().string(from: Date()), seed: seed,
            method: methodDescription + (bandLimit.map { ", band limit \(Int($0)) Hz" } ?? ""))
        let preset = Preset(name: name, description: description, configuration: config, basis: basis,
                            provenance: provenance)
        let outputDirectory = directory.isEmpty ? "." : directory
        let written = try preset.write(directory: outputDirectory, name: name)
        let lossPath = (outputDirectory as NSString).appendingPathComponent("\(name).loss.json")
        try LossCurves(method: method, command: Self.commandLine(), curves: result.curves).write(to: lossPath)
        if let reportPath {
            func curve(_ part: SupervisedTrainer.Part) -> [Double] { result.curves.filter { $0.part == part }.flatMap(\.values) }
            try TrainReport.write(to: reportPath, basis: basis, speechObjective: curve(.speech),
                                  noiseObjective: curve(.noise), command: Self.commandLine())
            note("wrote report \(reportPath)")
        }
        if exportActivations {
            for (part, h) in [("speech", result.speechActivations), ("noise", result.noiseActivations)] {
                let path = (outputDirectory as NSString).appendingPathComponent("\(name).\(part)-activations.npy")
                try Npy.write(NpyArray(shape: [h.rows, h.columns], values: h.values), to: path)
                note("wrote \(path) (\(h.rows) atoms × \(h.columns) frames)")
            }
        }
        let seconds = Date().timeIntervalSince(started)
        let finals = result.curves.map { "\($0.part.rawValue) \($0.stage) \(String(format: "%.6g", $0.values.last ?? .nan))" }
        note(String(format: "wrote %@ and %@ in %.1f s (final objectives: %@)", written, lossPath, seconds,
                    finals.joined(separator: ", ")))
    }

    /// 32 ms rounded to an even number of samples that is a multiple of 4 (so N/4 is a whole hop).
    static func defaultFrameLength(sampleRate: Int) -> Int { max(64, (sampleRate * 32 / 1000) / 4 * 4) }

    /// The command as typed, with the executable shortened to `sordino`.
    static func commandLine() -> String {
        (["sordino"] + CommandLine.arguments.dropFirst()).map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
    }

    /// Every audio file below `folders` (sorted), mono-mixed and converted to `rate`.
    /// Fewer frames than atoms: anmf cannot start (each atom starts from a distinct frame), the other
    /// methods learn atoms that are not independent. Found by hand: anmf said "rank = 4 is not
    /// allowed", naming neither the folder nor the option.
    private func checkFrames(speech: Int, noise: Int, method: TrainingMethod) throws {
        for (what, frames, atoms, option) in [("speech", speech, speechRank, "--atoms-speech"), ("noise", noise, noiseRank, "--atoms-noise")]
        where frames < atoms {
            let have = "the \(what) audio gives \(frames) frame\(frames == 1 ? "" : "s") for \(atoms) atoms (\(option))"
            if method == .anmf {
                throw CommandError("\(have): --method anmf starts each atom from a distinct frame. Add \(what) audio or lower \(option).",
                                   exitCode: .badData)
            }
            note("warning: \(have): atoms beyond the frames cannot be independent. Add \(what) audio or lower \(option).")
        }
    }

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
            var (audio, info) = try AudioFileReader.read(path: path)
            if info.nonFiniteSamples == 1 { note("warning: 1 NaN/Inf sample in \(path) was replaced by 0.") }
            if info.nonFiniteSamples > 1 { note("warning: \(info.nonFiniteSamples) NaN/Inf samples in \(path) were replaced by 0.") }
            try AudioLimit.require(audio, path: path, use: "Training audio",
                                   remedy: "repair or rescale the file, or leave it out of the folder")
            if audio.sampleRate != rate { audio = try Resampler.resample(audio, to: rate) }
            seconds += audio.durationSeconds
            let scale = 1 / Float(audio.channelCount)
            return (0..<audio.sampleCount).map { i in audio.channels.reduce(0) { $0 + $1[i] } * scale }
        }
        note("\(what): \(files.count) files, \(String(format: "%.1f", seconds)) s at \(rate) Hz")
        return signals
    }
}
