// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino decompose IN`: NMF of one recording into K components, one WAV each, plus basis, activations and loss.

import ArgumentParser
import Foundation
import SordinoDSP
import SordinoIO
import SordinoNMF

struct Decompose: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decompose",
        abstract: "Factorise one recording's spectrogram into K components and resynthesise each.",
        discussion: """
        Every channel is analysed with the same STFT (--window: periodic sqrt-hann, the default, \
        reconstructs perfectly at any hop ≤ N/2; hann and hamming need a hop of N/3 or less); one \
        factorisation V ≈ W·H is learned on the mean of the channels' |X|^p, and every component is \
        resynthesised in every channel from that channel's STFT, so the WAVs keep the input's channel \
        count, rate and length. --resynthesis mask applies soft masks W_k·H_k / W·H to the mixture (the \
        components sum to the input); magnitude puts (W_k·H_k)^(1/p) under the mixture's phase.

        Writes to --out: component-01.wav … (float WAV), basis.npy (bins × K, W, atoms scaled to unit \
        sum), activations.npy (K × frames, H scaled to match), loss.json (objective per iteration, \
        seconds to reach it, and why the run stopped). Complex NMF also writes component-01.phase.npy \
        (bins × frames, radians) and component-01.spectrum.npy (bins × frames × 2, real and imaginary \
        part of the component's complex spectrogram on the channel mean). --spectrogram V.npy \
        factorises a given non-negative matrix (bins × frames) instead of audio and writes the \
        components as component-01.npy …. With --report, one self-contained HTML page of plots.

        Algorithms (Févotte & Idier 2011): mu heuristic multiplicative updates; mm majorisation-\
        minimisation (exponent γ(β); equal to mu for β in [1, 2]; scikit-learn's 'mu'); me \
        majorisation-equalisation (longer monotone steps). --acceleration squarem extrapolates over mm or \
        me passes (SQUAREM) and keeps the objective non-increasing. β = 0 with --domain p fits \
        (WH)^(2/p) to the power spectrogram. --method complex: complex NMF (Kameoka et al. 2009) on \
        the magnitude, with a phase per component and time-frequency point; with --basis or --templates \
        the atoms stay fixed and only activations and phases are estimated. --tolerance stops early \
        once a pass lowers the objective by less than that fraction of its initial value \
        (scikit-learn's tol); --iterations is then the cap.
        """)

    @Argument(help: "Input audio file (WAV, FLAC, …; any channel count and rate). Omit with --spectrogram.") var input: String?
    @Option(help: "Factorise this non-negative matrix (.npy, bins × frames) instead of an audio file's spectrogram.")
    var spectrogram: String?
    @Option(name: .customLong("components"), parsing: .unconditional, help: "Components K (atoms of W), 1…512. Ignored with --basis/--templates.")
    var components: Int = 8
    @Option(name: .customLong("out"), help: "Output folder (created if missing).") var out: String

    @Option(help: "Factorisation: nmf (β-divergence) or complex (Kameoka et al. 2009, β = 2 on complex spectra).")
    var method: String = "nmf"
    @Option(parsing: .unconditional, help: "β of the divergence, any real: 0 Itakura–Saito, 1 Kullback–Leibler, 2 Euclidean (default 1; --method nmf only).")
    var beta: Double?
    @Option(help: "Update rule: mu (heuristic; monotone only for β in [1, 2]), mm (majorisation-minimisation, monotone) or me (majorisation-equalisation, monotone, longer steps). Default: mu for β in [1, 2], else mm. --method nmf only.")
    var algorithm: String?
    @Option(parsing: .unconditional, help: "Stop once a pass lowers the objective by less than this fraction of the initial objective (e.g. 1e-4); --iterations is the cap.")
    var tolerance: Double?
    @Option(parsing: .unconditional, help: "--method complex: L1 weight λ ≥ 0 on the activations, in units of |X|.") var sparsity: Float?
    @Option(name: .customLong("me-relaxation"),
            parsing: .unconditional, help: "θ in (0, 1] for --algorithm me: step to x_MM + θ·(x_ME − x_MM). Default: 0.95 for β ≥ 1, else 1.")
    var relaxation: Float?
    @Option(help: "none, or squarem (Varadhan & Roland 2008; --algorithm mm or me, --method nmf). A squarem cycle costs 3 passes: two plain passes, a squared extrapolation from them, then one stabilising pass, kept only if its objective is no higher than after the two plain passes, so the objective never rises. --iterations counts passes either way.")
    var acceleration: String = "none"
    @Option(parsing: .unconditional, help: "p: V = |X|^p (1 magnitude, 2 power), 0 < p ≤ 4. With β = 0 the model (WH)^(2/p) fits the power spectrogram.")
    var domain: Double = 1
    @Option(parsing: .unconditional, help: "Iterations, i.e. update passes (each: a W step, then an H step), 0…100000.") var iterations: Int = 200
    @Option(help: "Seed of the initialisation.") var seed: UInt64 = 1
    @Option(name: .customLong("init"), help: "Initial W and H: random, nndsvd or harmonic.") var initialisation: String = "random"
    @Option(name: .customLong("f0"), help: "Fundamentals for harmonic atoms, Hz, comma-separated. Default: K semitones from C3 = 130.81 Hz.")
    var fundamentals: String?
    @Option(name: .customLong("harmonic-damping"), parsing: .unconditional, help: "Amplitude ratio of consecutive harmonics in harmonic atoms, (0, 1].")
    var harmonicDamping: Double = 0.9
    @Option(name: .customLong("harmonic-variance"), parsing: .unconditional, help: "Variance of each harmonic peak, bins².") var harmonicVariance: Double = 1.0
    @Option(name: .customLong("harmonic-peaks"), parsing: .unconditional, help: "Harmonics per atom (those above Nyquist are dropped).") var harmonicPeaks: Int = 50

    @Option(help: "Fixed basis W (.npy, bins × atoms, float32/64): only the activations are solved.") var basis: String?
    @Option(help: "Folder of template recordings (.wav/.flac, sorted): one atom learned per file, started from harmonic atoms (--f0 gives one f0 per file), then kept fixed.")
    var templates: String?

    @Option(name: .customLong("frame-length"), parsing: .unconditional, help: "STFT frame (= FFT) length in samples, even. Default: 2048 at ≥ 32 kHz, else 1024.")
    var frameLength: Int?
    @Option(name: .customLong("hop-length"), parsing: .unconditional, help: "Hop in samples. Default: frame length / 4.") var hopLength: Int?
    @Option(help: "Window: sqrt-hann, hann or hamming.") var window: String = "sqrt-hann"
    @Option(help: "mask (components sum to the input) or magnitude (component magnitude, mixture phase).")
    var resynthesis: String = "mask"
    @Option(name: .customLong("report"), help: "Also write a self-contained HTML report (spectrograms, atoms, activations, masks, loss).")
    var reportPath: String?
    @Flag(name: .shortAndLong, help: "Print nothing but errors.") var quiet = false

    /// β of the run: --beta, else 1 (complex NMF is Euclidean, β = 2).
    var resolvedBeta: Double { method == "complex" ? 2 : beta ?? 1 }
    /// --algorithm, else mm where mu is not guaranteed monotone (β < 1 or β > 2), else mu.
    var resolvedAlgorithm: UpdateAlgorithm {
        algorithm.flatMap(UpdateAlgorithm.init(rawValue:)) ?? ((1...2).contains(resolvedBeta) ? .mu : .mm)
    }

    mutating func validate() throws {
        guard (input == nil) != (spectrogram == nil) else {
            throw ValidationError("give an input audio file or --spectrogram V.npy (one of them).")
        }
        guard (1...512).contains(components) else { throw ValidationError("--components must lie in 1…512 (got \(components)).") }
        guard RecordingDecomposition.Method(rawValue: method) != nil else { throw ValidationError("--method must be nmf or complex.") }
        if let beta, !beta.isFinite { throw ValidationError("--beta must be a finite number.") }
        if let algorithm, UpdateAlgorithm(rawValue: algorithm) == nil { throw ValidationError("--algorithm must be mu, mm or me.") }
        guard let accelerated = Acceleration(rawValue: acceleration) else { throw ValidationError("--acceleration must be none or squarem.") }
        if method == "complex" {
            let inapplicable = [("--beta", beta != nil), ("--algorithm", algorithm != nil), ("--me-relaxation", relaxation != nil),
                                ("--acceleration", accelerated != .none), ("--domain", domain != 1),
                                ("--spectrogram", spectrogram != nil)].filter(\.1).map(\.0)
            if !inapplicable.isEmpty {
                throw ValidationError("\(inapplicable.joined(separator: ", ")) do\(inapplicable.count == 1 ? "es" : "") not apply to "
                    + "--method complex (Euclidean on complex spectra, its own updates, audio input): leave \(inapplicable.count == 1 ? "it" : "them") out.")
            }
        } else if sparsity != nil {
            throw ValidationError("--sparsity applies to --method complex only: leave it out.")
        }
        if let sparsity, !(sparsity.isFinite && sparsity >= 0) { throw ValidationError("--sparsity must be a finite λ ≥ 0.") }
        if let tolerance, !(tolerance.isFinite && tolerance >= 0) { throw ValidationError("--tolerance must be a finite fraction ≥ 0, e.g. 1e-4.") }
        if relaxation != nil && resolvedAlgorithm != .me { throw ValidationError("--me-relaxation applies to --algorithm me only.") }
        if accelerated == .squarem && resolvedAlgorithm == .mu {
            throw ValidationError("--acceleration squarem needs --algorithm mm or me (mm equals mu for β in [1, 2]).")
        }
        guard domain.isFinite, domain > 0, domain <= 4 else { throw ValidationError("--domain must lie in (0, 4] (1 magnitude, 2 power).") }
        if let relaxation, !(relaxation > 0 && relaxation <= 1) { throw ValidationError("--me-relaxation must lie in (0, 1].") }
        guard (0...100_000).contains(iterations) else { throw ValidationError("--iterations must lie in 0…100000.") }
        guard InitialisationMethod(rawValue: initialisation) != nil else { throw ValidationError("--init must be random, nndsvd or harmonic.") }
        guard WindowShape(rawValue: window) != nil else { throw ValidationError("--window must be sqrt-hann, hann or hamming.") }
        guard RecordingDecomposition.Resynthesis(rawValue: resynthesis) != nil else { throw ValidationError("--resynthesis must be mask or magnitude.") }
        guard harmonicDamping > 0, harmonicDamping <= 1 else { throw ValidationError("--harmonic-damping must lie in (0, 1].") }
        guard harmonicVariance > 0, harmonicVariance.isFinite else { throw ValidationError("--harmonic-variance must be > 0 bins².") }
        guard (1...1000).contains(harmonicPeaks) else { throw ValidationError("--harmonic-peaks must lie in 1…1000.") }
        if let n = frameLength, !(n >= 16 && n <= 65_536 && n % 2 == 0) {
            throw ValidationError("--frame-length must be even and lie in 16…65536.")
        }
        if basis != nil && templates != nil { throw ValidationError("give --basis or --templates, not both.") }
        if spectrogram != nil && (templates != nil || frameLength != nil || hopLength != nil) {
            throw ValidationError("--templates, --frame-length and --hop-length do not apply to --spectrogram (no audio, no STFT).")
        }
        _ = try parsedFundamentals()
    }

    func parsedFundamentals() throws -> [Double]? {
        guard let fundamentals else { return nil }
        let values = fundamentals.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.count == fundamentals.split(separator: ",").count,
              values.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw ValidationError("--f0 must be comma-separated frequencies in Hz > 0, e.g. 130.81,146.83.")
        }
        return values
    }

    func run() throws {
        do { try decompose() } catch { throw report(error, command: "decompose") }
    }

    /// The factorisation settings of the flags; the STFT ones follow `sampleRate` (Hz; nil for --spectrogram).
    func decompositionOptions(sampleRate: Int?) throws -> RecordingDecomposition.Options {
        var options = RecordingDecomposition.Options()
        options.rank = components
        options.method = RecordingDecomposition.Method(rawValue: method) ?? .nmf
        options.nmf = DecompositionOptions(beta: BetaDivergence(resolvedBeta), algorithm: resolvedAlgorithm,
                                           iterations: iterations, acceleration: Acceleration(rawValue: acceleration) ?? .none)
        options.nmf.relaxation = relaxation
        options.nmf.tolerance = tolerance
        options.complexSparsity = sparsity ?? 0
        options.domain = domain
        options.initialisation = InitialisationMethod(rawValue: initialisation) ?? .random
        options.seed = seed
        options.frameLength = frameLength ?? ((sampleRate ?? 0) >= 32_000 ? 2048 : 1024)
        options.hopLength = hopLength ?? options.frameLength / 4
        options.window = WindowShape(rawValue: window) ?? .sqrtHann
        options.resynthesis = RecordingDecomposition.Resynthesis(rawValue: resynthesis) ?? .mask
        options.harmonic = HarmonicTemplates(damping: harmonicDamping, variance: harmonicVariance, peakCount: harmonicPeaks)
        options.fundamentals = try parsedFundamentals()
        if options.initialisation == .harmonic, let f0 = options.fundamentals, f0.count != components, templates == nil {
            throw CommandError("--f0 gives \(f0.count) fundamentals but --components is \(components): give one per component.",
                               exitCode: .usage)
        }
        if let basis {
            let w = try DecomposeFiles.readMatrix(basis, what: "basis", layout: "bins × atoms")
            options.fixedBasis = w
            if frameLength == nil {   // follow the basis: bins = N/2 + 1
                options.frameLength = 2 * (w.rows - 1)
                options.hopLength = hopLength ?? options.frameLength / 4
            }
        }
        return options
    }

    /// Every setting of the run, for loss.json.
    func settings(_ options: RecordingDecomposition.Options, rank: Int) -> [String: Any] {
        var fields: [String: Any] = [
            "method": method, "beta": resolvedBeta, "domain": domain, "iterations": iterations, "seed": seed,
            "init": options.fixedBasis == nil ? initialisation : "fixed basis", "components": rank,
            "resynthesis": resynthesis,
        ]
        if options.method == .nmf {
            fields["algorithm"] = resolvedAlgorithm.rawValue
            fields["acceleration"] = acceleration
        } else {
            fields["sparsity"] = options.complexSparsity
        }
        if let tolerance { fields["tolerance"] = tolerance }
        return fields
    }

    private func decompose() throws {
        let started = Date()
        let files = DecomposeFiles(folder: out)
        if let spectrogram {
            let v = try DecomposeFiles.readMatrix(spectrogram, what: "spectrogram", layout: "bins × frames")
            let options = try decompositionOptions(sampleRate: nil)
            let output = try RecordingDecomposition(options).run(spectrogram: v, sampleRate: nil, progress: progress)
            try files.create()
            for (k, component) in output.components.enumerated() {
                try files.writeMatrix(component, name: files.componentName(k, of: output.components.count, suffix: ".npy"))
            }
            try files.writeFactors(output.basis, output.activations)
            try files.writeLoss(settings(options, rank: output.basis.columns).merging(["input": spectrogram]) { $1 },
                                objective: output.objective, seconds: output.elapsedSeconds, stop: output.stop)
            summarise(spectrogram, "\(v.rows) bins × \(v.columns) frames", rank: output.basis.columns,
                      objective: output.objective, stop: output.stop, started: started)
            return
        }
        guard let input else { return }   // `validate` demands one of the two
        let (audio, info) = try AudioFileReader.read(path: input)
        if info.nonFiniteSamples > 0 { note("warning: \(info.nonFiniteSamples) NaN/Inf samples in \(input) were replaced by 0.") }
        try AudioLimit.require(audio, path: input, use: "A recording to decompose")
        var options = try decompositionOptions(sampleRate: audio.sampleRate)
        if let templates {
            let decomposition = try RecordingDecomposition(options)
            let paths = try Self.audioFiles(in: templates)
            let signals = try paths.map { path -> [[Float]] in
                var (t, _) = try AudioFileReader.read(path: path)
                try AudioLimit.require(t, path: path, use: "A template",
                                       remedy: "repair or rescale the file, or leave it out of the folder")
                if t.sampleRate != audio.sampleRate { t = try Resampler.resample(t, to: audio.sampleRate) }
                return t.channels
            }
            options.fixedBasis = try decomposition.learnTemplates(signals, sampleRate: audio.sampleRate)
            if !quiet { note("learned \(paths.count) template atoms from \(templates)") }
        }
        let output = try RecordingDecomposition(options).run(channels: audio.channels, sampleRate: audio.sampleRate,
                                                             progress: progress)
        try files.create()
        let rank = output.basis.columns
        for k in 0..<rank {
            try files.writeAudio(AudioBuffer(sampleRate: audio.sampleRate, channels: output.components[k]),
                                 name: files.componentName(k, of: rank, suffix: ".wav"))
        }
        for (k, y) in output.complexComponents.enumerated() { try files.writeComplex(y, component: k, of: rank) }
        let (w, h) = Self.unitSumAtoms(output.basis, output.activations)
        try files.writeFactors(w, h)
        var fields = settings(options, rank: rank).merging(["input": input, "sample_rate": audio.sampleRate]) { $1 }
        fields["frame_length"] = options.frameLength
        fields["hop_length"] = options.hopLength
        fields["window"] = window
        try files.writeLoss(fields, objective: output.objective, seconds: output.elapsedSeconds, stop: output.stop)
        if let reportPath {
            try DecompositionReport.write(to: reportPath, input: input, audio: audio, output: output, options: options,
                                          basis: w, activations: h)
            if !quiet { note("wrote report \(reportPath)") }
        }
        summarise(input, String(format: "%d ch, %d Hz, %.2f s", audio.channelCount, audio.sampleRate, audio.durationSeconds),
                  rank: rank, objective: output.objective, stop: output.stop, started: started)
    }

    /// Progress every 50 passes on stderr, unless --quiet.
    var progress: ((Int, Double) -> Void)? {
        quiet ? nil : { iteration, objective in
            if iteration % 50 == 0 { note("iteration \(iteration): objective \(String(format: "%.6g", objective))") }
        }
    }

    func summarise(_ input: String, _ what: String, rank: Int, objective: [Double], stop: StopReason, started: Date) {
        guard !quiet else { return }
        let first = objective.first ?? .nan, last = objective.last ?? .nan
        note(String(format: "%@ (%@) → %d components in %@ (%.2f s; objective %.6g → %.6g; ", input, what, rank, out,
                    Date().timeIntervalSince(started), first, last) + "\(stop))")
    }

    /// W with unit-sum atoms and H scaled by the inverse, so W·H is unchanged.
    static func unitSumAtoms(_ w0: Matrix, _ h0: Matrix) -> (Matrix, Matrix) {
        var w = w0, h = h0
        for k in 0..<w.columns {
            var sum: Float = 0
            for f in 0..<w.rows { sum += w[f, k] }
            guard sum > 0 else { continue }
            for f in 0..<w.rows { w[f, k] /= sum }
            for t in 0..<h.columns { h[k, t] *= sum }
        }
        return (w, h)
    }

    /// The .wav and .flac files directly in `folder`, sorted by name.
    static func audioFiles(in folder: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CommandError("template folder \(folder) does not exist.", exitCode: .noInput)
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let files = names.filter { ["wav", "flac"].contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
        guard !files.isEmpty else { throw CommandError("no .wav or .flac files in \(folder).", exitCode: .noInput) }
        return files.map { (folder as NSString).appendingPathComponent($0) }
    }
}
