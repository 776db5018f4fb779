// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino process IN OUT`: the live engine on a file or a pipe, in blocks, bit-identical to the JACK path.

import ArgumentParser
import Foundation
import SordinoDSP
import SordinoIO
import SordinoPresets

struct ProcessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process",
        abstract: "Enhance an audio file with the same engine the daemon runs.",
        discussion: """
        Reads WAV, FLAC or anything libsndfile reads (16/24/32-bit, float; any channel count), a \
        chunk at a time: memory does not grow with the file. IN or OUT may be - for standard input \
        or output, so process fits in a pipe (e.g. `sox in.mp3 -t wav - | sordino process - out.wav`); \
        a named pipe as IN is read as a stream too (`sordino process <(sox in.mp3 -t wav -) out.wav`).

        Without --preset the shipped preset for the file's rate is used; for a rate with none, the \
        one of the nearest rate below it (e.g. speech-48k for 88.2 kHz), and stderr says which. When \
        the file's rate differs from the preset's, the audio is converted with libsoxr to the \
        preset's rate and back. Without --compensate-delay the output is the engine's stream: \
        delayed by the latency (the preset's frame length, in samples at the preset's rate) and \
        that much longer, so nothing is lost.

        Warnings (stderr) count NaN/Inf input samples (replaced by 0), input samples beyond ±8 \
        (+18 dBFS, clamped to it before processing), output samples the engine clamped to ±8 or an \
        integer encoding clipped at full scale, and input cut short of the length its header \
        declares. With --report both signals are also kept in memory.

        With --out-dir DIR, every IN is enhanced into DIR under its own file name, by --jobs workers \
        at once (each runs one file, with its own engine, at a time). A file that fails is reported \
        and the others are still processed; the exit status is then the number of files that failed \
        (at most 100), 0 when none did.

        SIGINT (Ctrl-C) or SIGTERM stops the reading at the next chunk: the engine's tail is written \
        and every output being written is closed whole (its header states its length), holding the \
        input up to there, enhanced; stderr says how far, and the exit status is 130 or 143. A second \
        one stops at once. (Started with SIGINT ignored, as a script's background job, it stays ignored.)
        """)

    @Argument(help: "IN OUT: the input file (or - for standard input) and the output file (or - for standard output; the container follows the extension, .wav or .flac). With --out-dir: the input files only.")
    var paths: [String] = []
    @OptionGroup var engine: EngineOptions

    @Option(name: .customLong("out-dir"), help: "Enhance every input into this folder, under its own file name (created if missing).")
    var outputDirectory: String?

    @Option(parsing: .unconditional, help: "Files processed at once with --out-dir (1…256). Default: one per core.")
    var jobs: Int?

    @Option(name: .customLong("block-size"), parsing: .unconditional, help: "Samples per engine call, 1…8192, like a JACK period (the output does not depend on it).")
    var blockSize: Int = 256

    @Flag(name: .customLong("compensate-delay"), help: "Align the output with the input and keep its length.")
    var compensateDelay = false

    @Option(help: "Output encoding: float, 16, 24 or 32 (bit integer). Default: float for WAV, 24 for FLAC.")
    var encoding: String?

    @Option(name: .customLong("stdout-type"), help: "Container when OUT is -: wav or flac.")
    var stdoutType: String = "wav"

    @Flag(name: .shortAndLong, help: "Print nothing but errors and warnings.") var quiet = false

    @Option(name: .customLong("report"), help: "Also write a self-contained HTML report (input/output spectrograms, mask).")
    var reportPath: String?

    mutating func validate() throws {
        try engine.refuseHopWorker(command: "process")
        if let outputDirectory {
            guard !paths.isEmpty else { throw ValidationError("Give at least one input file with --out-dir.") }
            guard !paths.contains(standardStreamPath) else {
                throw ValidationError("- (standard input) cannot be used with --out-dir; give file paths.")
            }
            guard reportPath == nil else { throw ValidationError("--report works on one file, not with --out-dir.") }
            guard !outputDirectory.isEmpty else { throw ValidationError("--out-dir needs a folder path.") }
        } else {
            // IN OUT's count is checked in `run`: ArgumentParser validates before it reports an
            // unknown option, so `process --rnak 2 IN OUT` said "got 3 paths" (the 2 taken for one).
            guard jobs == nil else { throw ValidationError("--jobs works with --out-dir only.") }
        }
        if let jobs, !(1...256).contains(jobs) { throw ValidationError("--jobs must lie in 1…256 (got \(jobs)).") }
        guard (1...8192).contains(blockSize) else { throw ValidationError("--block-size must lie in 1…8192 (got \(blockSize)).") }
        if let encoding, Self.encodings[encoding] == nil {
            throw ValidationError("--encoding must be one of float, 16, 24, 32 (got \(encoding)).")
        }
        guard AudioFileFormat.Container(rawValue: stdoutType.uppercased()) != nil else {
            throw ValidationError("--stdout-type must be wav or flac (got \(stdoutType)).")
        }
    }

    static let encodings: [String: AudioFileFormat.Encoding] = ["float": .float32, "16": .pcm16, "24": .pcm24, "32": .pcm32]

    /// Input samples per channel read and enhanced at a time: 16384 × 64 channels × 4 bytes = 4 MB at most.
    static let chunkSamples = 16_384

    func run() throws {
        Interruption.install()
        if let outputDirectory {
            let failed = try ProcessBatch(command: self, directory: outputDirectory).run(jobs: jobs ?? ProcessBatch.cores)
            if failed > 0 { throw ExitCode(Int32(min(failed, 100))) }
            return
        }
        do {
            guard paths.count == 2 else {
                throw CommandError("process takes IN OUT (got \(paths.count) paths); for many files use IN… --out-dir DIR. "
                                   + "See 'sordino process --help'.", exitCode: .usage)
            }
            guard paths[1] != standardStreamPath || isatty(STDOUT_FILENO) == 0 else {
                throw CommandError("standard output is a terminal, which audio would fill with binary. Redirect it "
                                   + "(`> out.wav`) or pipe it (`| aplay`), or name an output file.", exitCode: .usage)
            }
            try enhance(input: paths[0], output: paths[1], showProgress: !quiet)
        } catch {
            throw report(error, command: "process")
        }
    }

    /// Enhances `input` into `output`; prints the summary unless quiet, the data warnings always.
    func enhance(input: String, output: String, showProgress: Bool) throws {
        let started = ContinuousClock.now
        let reader = try AudioInputStream(path: input)
        var chunk: [[Float]] = []
        // Read before creating the output, so that a file without samples leaves nothing behind.
        var count = try reader.read(into: &chunk, maximumCount: Self.chunkSamples)
        guard count > 0 else { throw AudioFileError.empty(input) }

        let (preset, presetPath, choice, skipped) = try engine.loadPreset(forFileRate: reader.sampleRate)
        for file in skipped { note("warning: \(file)") }
        let presetRate = preset.metadata.sampleRate
        if !quiet, let choice { note(choice) }
        if !quiet && reader.sampleRate != presetRate {
            note("converting \(reader.sampleRate) Hz → \(presetRate) Hz for preset \(preset.metadata.name) (libsoxr), and back")
        }
        let config = engine.configuration(of: preset, channelCount: reader.channelCount, maximumBlockLength: blockSize)
        let enhancer = try Engine(configuration: config, basis: preset.basis, gainModel: preset.gainModel)
        let latency = enhancer.latencySamples
        let format = try outputFormat(output)
        let writer = try AudioOutputStream(path: output, format: format, sampleRate: reader.sampleRate,
                                           channelCount: reader.channelCount)
        let pipeline = try FileEnhancer(engine: enhancer, blockLength: blockSize, fileRate: reader.sampleRate,
                                        presetRate: presetRate, writer: writer, compensateDelay: compensateDelay,
                                        keepSignals: reportPath != nil)
        let progress = !showProgress ? nil : reader.declaredSampleCount.map { ProgressBar(total: $0) }
        var fed = 0
        while count > 0 && Interruption.requested == nil {
            try pipeline.feed(chunk, count: count)
            fed += count
            progress?.update(reader.samplesRead)
            count = try reader.read(into: &chunk, maximumCount: Self.chunkSamples)
        }
        try pipeline.finish()   // the engine's tail written, the output closed: its header is whole
        progress?.finish()
        if let signal = Interruption.requested {
            let seconds = String(format: "%.2f", Double(fed) / Double(reader.sampleRate))
            throw Interrupted(signal: signal, written: "\(output) holds the first \(seconds) s of \(input), enhanced")
        }

        if let reportPath, let keptInput = pipeline.keptInput, let keptOutput = pipeline.keptOutput {
            try ProcessReport.write(to: reportPath, input: input,
                                    audio: AudioBuffer(sampleRate: reader.sampleRate, channels: keptInput),
                                    output: AudioBuffer(sampleRate: reader.sampleRate, channels: keptOutput),
                                    latency: compensateDelay ? 0 : latency * reader.sampleRate / presetRate,
                                    presetName: preset.metadata.name)
        }
        warnAboutData(input: input, reader: reader, telemetry: pipeline.telemetry, writer: writer)
        guard !quiet else { return }
        let elapsed = started.duration(to: .now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let duration = Double(reader.samplesRead) / Double(reader.sampleRate)
        let telemetry = pipeline.telemetry
        let adapted = telemetry.adaptedFrames.load(ordering: .relaxed)
        // One solve per hop for linked channels, else one per channel per hop.
        let solves = telemetry.hops.load(ordering: .relaxed) * (config.linkChannels ? 1 : config.channelCount)
        let ms = Double(latency) * 1000 / Double(presetRate)
        let channels = reader.channelCount
        note("""
        \(input) (\(reader.container) \(reader.encoding), \(channels) ch, \(reader.sampleRate) Hz, \
        \(String(format: "%.2f", duration)) s) → \(output) (\(format))
        preset \(preset.metadata.name) (\(presetPath)); block \(blockSize); latency \(latency) samples \
        (\(String(format: "%.1f", ms)) ms)\(compensateDelay ? ", compensated" : "")
        level in \(Self.decibels(pipeline.inputEnergy, count: pipeline.inputSamples * channels)) dBFS, \
        out \(Self.decibels(pipeline.outputEnergy, count: pipeline.outputSamples * channels)) dBFS; \
        processed in \(String(format: "%.2f", seconds)) s (\(Self.speed(audio: duration, processing: seconds)))\
        \(adapted > 0 ? "; noise atoms adapted on \(adapted) of \(solves) solved frames" : "")
        """)
    }

    /// The container and encoding for OUT: from its extension, or `--stdout-type` for `-`.
    /// "N× real time", or what stands in for it when the audio is too short to time (under 10 ms).
    static func speed(audio: Double, processing: Double) -> String {
        audio < 0.01 ? "too short to time" : String(format: "%.0f× real time", audio / max(processing, 1e-9))
    }

    private func outputFormat(_ output: String) throws(AudioFileError) -> AudioFileFormat {
        let chosen = encoding.flatMap { Self.encodings[$0] }
        guard output == standardStreamPath else { return try AudioFileFormat.inferred(fromPath: output, encoding: chosen) }
        return try AudioFileFormat.inferred(fromPath: "stdout.\(stdoutType.lowercased())", encoding: chosen)
    }

    /// One warning per kind of data problem, with its count; printed even with --quiet.
    private func warnAboutData(input: String, reader: AudioInputStream, telemetry: Telemetry, writer: AudioOutputStream) {
        if reader.nonFiniteSamples > 0 {
            note("warning: \(reader.nonFiniteSamples) NaN/Inf samples in \(input) were replaced by 0.")
        }
        if let (declared, read) = reader.missingFromDeclaredLength {
            let rate = Double(reader.sampleRate)
            note("warning: \(input) is truncated: its header declares \(declared) samples per channel "
                + "(\(String(format: "%.2f", Double(declared) / rate)) s), only \(read) "
                + "(\(String(format: "%.2f", Double(read) / rate)) s) are present; processed what is there.")
        }
        let wild = telemetry.clampedInputSamples.load(ordering: .relaxed)
        if wild > 0 {
            note("warning: \(wild) input samples were beyond ±\(Int(Engine.outputLimit)) (+18 dBFS) and were clamped "
                + "to it before processing (at the preset's rate); check the input's level.")
        }
        let clamped = telemetry.clippedSamples.load(ordering: .relaxed)
        if clamped > 0 {
            note("warning: \(clamped) output samples were non-finite or beyond ±\(Int(Engine.outputLimit)) "
                + "(+18 dBFS) and were clamped; check the input's level.")
        }
        if writer.clippedSamples > 0 {
            note("warning: \(writer.clippedSamples) output samples beyond full scale were clipped by the "
                + "\(writer.format.encoding.rawValue) encoding; use --encoding float to keep them.")
        }
    }

    /// RMS level in dBFS, one decimal, from Σx² over `count` samples.
    static func decibels(_ energy: Double, count: Int) -> String {
        guard count > 0, energy > 0 else { return "−∞" }
        return String(format: "%.1f", 10 * log10(energy / Double(count)))
    }
}

/// A one-line progress bar on stderr, drawn only when stderr is a terminal.
final class ProgressBar {
    private let total: Int
    private var shown = -1
    private let enabled = isatty(STDERR_FILENO) != 0

    init(total: Int) { self.total = max(total, 1) }

    func update(_ done: Int) {
        guard enabled else { return }
        let percent = min(done * 100 / total, 100)
        guard percent != shown else { return }
        shown = percent
        let filled = percent / 4
        FileHandle.standardError.write(Data("\r[\(String(repeating: "#", count: filled))\(String(repeating: ".", count: 25 - filled))] \(percent)%".utf8))
    }

    func finish() { if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) } }
}
