// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino decompose IN`: NMF of one recording into K components, one WAV each, plus basis, activations and loss.

import ArgumentParser
import Foundation
import SordinoDSP
import SordinoIO
import SordinoNMF

struct Decompose: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Factorise one recording's spectrogram into K components and resynthesise each.",
        discussion: """
        Every channel is analysed with the same STFT (periodic √Hann, perfect reconstruction); one \
        factorisation V ≈ W·H is learned on the mean of the channels' |X|^p, and every component is \
        resynthesised in every channel from that channel's STFT, so the WAVs keep the input's channel \
        count, rate and length. --resynthesis mask applies soft masks W_k·H_k / W·H to the mixture (the \
        components sum to the input); magnitude puts (W_k·H_k)^(1/p) under the mixture's phase.

        Writes to --out: component-01.wav … (float WAV), basis.npy (bins × K, W, atoms scaled to unit \
        sum), activations.npy (K × frames, H scaled to match), loss.json (objective per iteration and \
        seconds to reach it). With --report, one self-contained HTML page of plots.

        Algorithms (Févotte & Idier 2011): mu heuristic multiplicative updates; mm majorisation-\
        minimisation (exponent γ(β); equal to mu for β in [1, 2]; scikit-learn's 'mu'); me \
        majorisation-equalisation (longer monotone steps). --acceleration squarem extrapolates over mm or \
        me passes (SQUAREM) and keeps the objective non-increasing. β = 0 with --domain p fits \
        (WH)^(2/p) to the power spectrogram. --method complex: complex NMF (Kameoka et al. 2009) on \
        the magnitude, with a phase per component and time-frequency point.
        """)

    @Argument(help: "Input audio file (WAV, FLAC, …; any channel count and rate).") var input: String
    @Option(name: .customLong("components"), help: "Components K (atoms of W), 1…512. Ignored with --basis/--templates.")
    var components: Int = 8
    @Option(name: .customLong("out"), help: "Output folder (created if missing).") var out: String

    @Option(help: "Factorisation: nmf (β-divergence) or complex (Kameoka et al. 2009, β = 2 on complex spectra).")
    var method: String = "nmf"
    @Option(help: "β of the divergence, any real: 0 Itakura–Saito, 1 Kullback–Leibler, 2 Euclidean.") var beta: Double = 1
    @Option(help: "Update rule: mu (heuristic; may diverge for β < 0 or β = 0 with p < 2), mm (majorisation-minimisation, monotone) or me (majorisation-equalisation, monotone, longer steps).")
    var algorithm: String = "mu"
    @Option(name: .customLong("me-relaxation"),
            help: "θ in (0, 1] for --algorithm me: step to x_MM + θ·(x_ME − x_MM). Default: 0.95 for β ≥ 1, else 1.")
    var relaxation: Float?
    @Option(help: "none, or squarem (Varadhan & Roland 2008; --algorithm mm or me, --method nmf). A squarem cycle costs 3 passes: two plain passes, a squared extrapolation from them, then one stabilising pass, kept only if its objective is no higher than after the two plain passes, so the objective never rises. --iterations counts passes either way.")
    var acceleration: String = "none"
    @Option(help: "p: V = |X|^p (1 magnitude, 2 power), 0 < p ≤ 4. With β = 0 the model (WH)^(2/p) fits the power spectrogram.")
    var domain: Double = 1
    @Option(help: "Iterations, i.e. update passes (each: a W step, then an H step), 0…100000.") var iterations: Int = 200
    @Option(help: "Seed of the initialisation.") var seed: UInt64 = 1
    @Option(name: .customLong("init"), help: "Initial W and H: random, nndsvd or harmonic.") var initialisation: String = "random"
    @Option(name: .customLong("f0"), help: "Fundamentals for harmonic atoms, Hz, comma-separated. Default: K semitones from C3 = 130.81 Hz.")
    var fundamentals: String?
    @Option(name: .customLong("harmonic-damping"), help: "Amplitude ratio of consecutive harmonics in harmonic atoms, (0, 1].")
    var harmonicDamping: Double = 0.9
    @Option(name: .customLong("harmonic-variance"), help: "Variance of each harmonic peak, bins².") var harmonicVariance: Double = 1.0
    @Option(name: .customLong("harmonic-peaks"), help: "Harmonics per atom (those above Nyquist are dropped).") var harmonicPeaks: Int = 50

    @Option(help: "Fixed basis W (.npy, bins × atoms, float32/64): only the activations are solved.") var basis: String?
    @Option(help: "Folder of template recordings (.wav/.flac, sorted): one atom learned per file, started from harmonic atoms (--f0 gives one f0 per file), then kept fixed.")
    var templates: String?

    @Option(name: .customLong("frame-length"), help: "STFT frame (= FFT) length in samples, even. Default: 2048 at ≥ 32 kHz, else 1024.")
    var frameLength: Int?
    @Option(name: .customLong("hop-length"), help: "Hop in samples. Default: frame length / 4.") var hopLength: Int?
    @Option(help: "Window: sqrt-hann, hann or hamming.") var window: String = "sqrt-hann"
    @Option(help: "mask (components sum to the input) or magnitude (component magnitude, mixture phase).")
    var resynthesis: String = "mask"
    @Option(name: .customLong("report"), help: "Also write a self-contained HTML report (spectrograms, atoms, activations, masks, loss).")
    var reportPath: String?
    @Flag(name: .shortAndLong, help: "Print nothing but errors.") var quiet = false

    mutating func validate() throws {
        guard (1...512).contains(components) else { throw ValidationError("--components must lie in 1…512 (got \(components)).") }
        guard RecordingDecomposition.Method(rawValue: method) != nil else { throw ValidationError("--method must be nmf or complex.") }
        guard beta.isFinite else { throw ValidationError("--beta must be a finite number.") }
        guard UpdateAlgorithm(rawValue: algorithm) != nil else { throw ValidationError("--algorithm must be mu, mm or me.") }
        guard let accelerated = Acceleration(rawValue: acceleration) else { throw ValidationError("--acceleration must be none or squarem.") }
        if accelerated == .squarem && (algorithm == "mu" || method == "complex") {
            throw ValidationError("--acceleration squarem needs --method nmf and --algorithm mm or me (mm equals mu for β in [1, 2]).")
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
        if method == "complex" && domain != 1 { throw ValidationError("--method complex works on magnitudes: leave --domain at 1.") }
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

    private func decompose() throws {
        let started = Date()
        let (audio, info) = try AudioFileReader.read(path: input)
        if info.nonFiniteSamples > 0 { note("warning: \(info.nonFiniteSamples) NaN/Inf samples in \(input) were replaced by 0.") }
        var options = RecordingDecomposition.Options()
        options.rank = components
        options.method = RecordingDecomposition.Method(rawValue: method) ?? .nmf
        options.nmf = DecompositionOptions(beta: BetaDivergence(beta), algorithm: UpdateAlgorithm(rawValue: algorithm) ?? .mu,
                                           iterations: iterations, acceleration: Acceleration(rawValue: acceleration) ?? .none)
        options.nmf.relaxation = relaxation
        options.domain = domain
        options.initialisation = InitialisationMethod(rawValue: initialisation) ?? .random
        options.seed = seed
        options.frameLength = frameLength ?? (audio.sampleRate >= 32_000 ? 2048 : 1024)
        options.hopLength = hopLength ?? options.frameLength / 4
        options.window = WindowShape(rawValue: window) ?? .sqrtHann
        options.resynthesis = RecordingDecomposition.Resynthesis(rawValue: resynthesis) ?? .mask
        options.harmonic = HarmonicTemplates(damping: harmonicDamping, variance: harmonicVariance, peakCount: harmonicPeaks)
        options.fundamentals = try parsedFundamentals()
        if options.initialisation == .harmonic, let f0 = options.fundamentals, f0.count != components, templates == nil {
            throw CommandError("--f0 gives \(f0.count) fundamentals but --components is \(components): give one per component.",
                               exitCode: .validationFailure)
        }
        if let basis {
            let array = try Npy.read(path: basis)
            guard array.shape.count == 2, array.shape[0] > 1, array.shape[1] >= 1 else {
                throw CommandError("\(basis): shape \(array.shape) is not bins × atoms (2-D). Save W as a 2-D array.")
            }
            guard array.values.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
                throw CommandError("\(basis): a basis must be finite and ≥ 0. Clip it (numpy.maximum(W, 0)) and save it again.")
            }
            options.fixedBasis = Matrix(rows: array.shape[0], columns: array.shape[1], values: array.values)
            if frameLength == nil {   // follow the basis: bins = N/2 + 1
                options.frameLength = 2 * (array.shape[0] - 1)
                options.hopLength = hopLength ?? options.frameLength / 4
            }
        }
        let decomposition = try RecordingDecomposition(options)
        if let templates {
            let files = try Self.audioFiles(in: templates)
            let signals = try files.map { path -> [[Float]] in
                var (t, _) = try AudioFileReader.read(path: path)
                if t.sampleRate != audio.sampleRate { t = try Resampler.resample(t, to: audio.sampleRate) }
                return t.channels
            }
            options.fixedBasis = try decomposition.learnTemplates(signals, sampleRate: audio.sampleRate)
            if !quiet { note("learned \(files.count) template atoms from \(templates)") }
        }
        let final = try RecordingDecomposition(options)
        let output = try final.run(channels: audio.channels, sampleRate: audio.sampleRate) { iteration, objective in
            if !quiet && (iteration % 50 == 0) { note("iteration \(iteration): objective \(String(format: "%.6g", objective))") }
        }

        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let rank = output.basis.columns
        let digits = max(2, String(rank).count)
        for k in 0..<rank {
            let path = (out as NSString).appendingPathComponent("component-\(Self.padded(k + 1, digits)).wav")
            try AudioFileWriter.write(AudioBuffer(sampleRate: audio.sampleRate, channels: output.components[k]), to: path,
                                      format: AudioFileFormat(container: .wav, encoding: .float32))
        }
        let (w, h) = Self.unitSumAtoms(output.basis, output.activations)
        try Npy.write(NpyArray(shape: [w.rows, w.columns], values: w.values),
                      to: (out as NSString).appendingPathComponent("basis.npy"))
        try Npy.write(NpyArray(shape: [h.rows, h.columns], values: h.values),
                      to: (out as NSString).appendingPathComponent("activations.npy"))
        let loss: [String: Any] = [
            "method": method, "beta": options.method == .complex ? 2 : beta, "algorithm": algorithm,
            "acceleration": acceleration, "domain": domain,
            "iterations": iterations, "seed": seed, "init": initialisation, "components": rank,
            "frame_length": options.frameLength, "hop_length": options.hopLength, "sample_rate": audio.sampleRate,
            "objective": output.objective, "seconds": output.elapsedSeconds,
            "note": "objective[0] is the initial value, objective[i] that of the iterate held after i update passes; "
                + "seconds[i] is wall time until it",
        ]
        let json = try JSONSerialization.data(withJSONObject: loss, options: [.prettyPrinted, .sortedKeys])
        let lossPath = (out as NSString).appendingPathComponent("loss.json")
        guard FileManager.default.createFile(atPath: lossPath, contents: json) else {
            throw CommandError("cannot write \(lossPath): check that the folder is writable.", exitCode: .cannotCreate)
        }
        if let reportPath {
            try DecompositionReport.write(to: reportPath, input: input, audio: audio, output: output, options: options,
                                          basis: w, activations: h)
        }
        if !quiet {
            note(String(format: "%@ (%d ch, %d Hz, %.2f s) → %d components in %@ (%.2f s; objective %.6g → %.6g)",
                        input, audio.channelCount, audio.sampleRate, audio.durationSeconds, rank, out,
                        Date().timeIntervalSince(started), output.objective.first ?? .nan, output.objective.last ?? .nan))
        }
    }

    static func padded(_ n: Int, _ digits: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, digits - s.count)) + s
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
