// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino process IN OUT`: the live engine on a file, block by block, bit-identical to the JACK path.

import ArgumentParser
import Foundation
import SordinoDSP
import SordinoIO
import SordinoPresets

struct Process: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Enhance an audio file with the same engine the daemon runs.",
        discussion: """
        Reads WAV, FLAC or anything libsndfile reads (16/24/32-bit, float; any channel count). When \
        the file's rate differs from the preset's, it is converted with libsoxr to the preset's rate \
        and back (said on stderr). Without --compensate-delay the output is the engine's stream: \
        delayed by the latency (the preset's frame length) and that much longer, so nothing is lost.
        """)

    @Argument(help: "Input audio file.") var input: String
    @Argument(help: "Output file; the container follows the extension (.wav, .flac).") var output: String
    @OptionGroup var engine: EngineOptions

    @Option(name: .customLong("block-size"), help: "Samples per engine call, 1…8192, like a JACK period.")
    var blockSize: Int = 256

    @Flag(name: .customLong("compensate-delay"), help: "Align the output with the input and keep its length.")
    var compensateDelay = false

    @Option(help: "Output encoding: float, 16, 24 or 32 (bit integer). Default: float for .wav, 24 for .flac.")
    var encoding: String?

    @Flag(name: .shortAndLong, help: "Print nothing but errors.") var quiet = false

    @Option(name: .customLong("report"), help: "Also write a self-contained HTML report (input/output spectrograms, mask).")
    var reportPath: String?

    mutating func validate() throws {
        guard (1...8192).contains(blockSize) else { throw ValidationError("--block-size must lie in 1…8192 (got \(blockSize)).") }
        if let encoding, Self.encodings[encoding] == nil {
            throw ValidationError("--encoding must be one of float, 16, 24, 32 (got \(encoding)).")
        }
    }

    static let encodings: [String: AudioFileFormat.Encoding] = ["float": .float32, "16": .pcm16, "24": .pcm24, "32": .pcm32]

    func run() throws {
        do { try enhance() } catch { throw report(error, command: "process") }
    }

    private func enhance() throws {
        let started = ContinuousClock.now
        let (audio, info) = try AudioFileReader.read(path: input)
        let (preset, presetPath, skipped) = try engine.loadPreset(sampleRate: audio.sampleRate)
        for file in skipped { note("warning: \(file)") }
        if info.nonFiniteSamples > 0 {
            note("warning: \(info.nonFiniteSamples) NaN/Inf samples in \(input) were replaced by 0.")
        }
        var working = audio
        let presetRate = preset.metadata.sampleRate
        if audio.sampleRate != presetRate {
            if !quiet { note("converting \(audio.sampleRate) Hz → \(presetRate) Hz for preset \(preset.metadata.name) (libsoxr), and back") }
            working = try Resampler.resample(audio, to: presetRate)
        }
        let config = engine.configuration(of: preset, channelCount: audio.channelCount, maximumBlockLength: blockSize)
        var enhancer = try Engine(configuration: config, basis: preset.basis)
        let latency = enhancer.latencySamples
        let processed = Self.run(&enhancer, on: working.channels, blockSize: blockSize, flush: latency,
                                 progress: quiet ? nil : ProgressBar(total: working.sampleCount + latency))
        var result = AudioBuffer(sampleRate: presetRate, channels: processed.map { channel in
            compensateDelay ? Array(channel[latency...]) : channel
        })
        if result.sampleRate != audio.sampleRate { result = try Resampler.resample(result, to: audio.sampleRate) }
        if compensateDelay {   // rounding in the rate conversion may leave a sample more or less
            result.channels = result.channels.map { Array(($0 + [Float](repeating: 0, count: audio.sampleCount)).prefix(audio.sampleCount)) }
        }
        let encodingChoice = encoding.flatMap { Self.encodings[$0] }
        let format = try AudioFileFormat.inferred(fromPath: output, encoding: encodingChoice)
        try AudioFileWriter.write(result, to: output, format: format)
        if let reportPath {
            try ProcessReport.write(to: reportPath, input: input, audio: audio, output: result,
                                    latency: compensateDelay ? 0 : latency * audio.sampleRate / presetRate,
                                    presetName: preset.metadata.name)
        }

        let elapsed = started.duration(to: .now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let nonFinite = enhancer.telemetry.nonFiniteSamples.load(ordering: .relaxed)
        let adapted = enhancer.telemetry.adaptedFrames.load(ordering: .relaxed)
        if !quiet {
            let ms = Double(latency) * 1000 / Double(presetRate)
            note("""
            \(input) (\(info.container) \(info.encoding), \(audio.channelCount) ch, \(audio.sampleRate) Hz, \
            \(String(format: "%.2f", audio.durationSeconds)) s) → \(output) (\(format))
            preset \(preset.metadata.name) (\(presetPath)); block \(blockSize); latency \(latency) samples \
            (\(String(format: "%.1f", ms)) ms)\(compensateDelay ? ", compensated" : "")
            level in \(Self.decibels(audio.channels)) dBFS, out \(Self.decibels(result.channels)) dBFS; \
            processed in \(String(format: "%.2f", seconds)) s (\(String(format: "%.0f", audio.durationSeconds / max(seconds, 1e-9)))× real time)\
            \(nonFinite + info.nonFiniteSamples > 0 ? "; NaN/Inf replaced: \(info.nonFiniteSamples + nonFinite)" : "")\
            \(adapted > 0 ? "; noise atoms adapted on \(adapted) of \(enhancer.telemetry.hops.load(ordering: .relaxed)) frames" : "")
            """)
        }
    }

    /// Runs planar `channels` through `engine` in blocks of `blockSize`, then `flush` samples of
    /// silence so the delayed tail comes out. Returns `count + flush` samples per channel.
    static func run(_ engine: inout Engine, on channels: [[Float]], blockSize: Int, flush: Int,
                    progress: ProgressBar?) -> [[Float]] {
        let count = channels.first?.count ?? 0, total = count + flush
        let inputs = channels.map { channel -> UnsafeMutablePointer<Float> in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: total)
            p.initialize(repeating: 0, count: total)
            p.update(from: channel, count: count)
            return p
        }
        let outputs = channels.map { _ in UnsafeMutablePointer<Float>.allocate(capacity: total) }
        defer { inputs.forEach { $0.deallocate() }; outputs.forEach { $0.deallocate() } }
        let inputPointers = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: channels.count)
        let outputPointers = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: channels.count)
        defer { inputPointers.deallocate(); outputPointers.deallocate() }
        var done = 0
        while done < total {
            let n = min(blockSize, total - done)
            for c in channels.indices {
                inputPointers[c] = UnsafePointer(inputs[c] + done)
                outputPointers[c] = outputs[c] + done
            }
            engine.process(inputs: inputPointers, outputs: outputPointers, blockLength: n)
            done += n
            progress?.update(done)
        }
        progress?.finish()
        return outputs.map { Array(UnsafeBufferPointer(start: $0, count: total)) }
    }

    /// RMS level over all channels in dBFS, one decimal.
    static func decibels(_ channels: [[Float]]) -> String {
        var sum = 0.0, n = 0
        for c in channels { for x in c { sum += Double(x) * Double(x) }; n += c.count }
        guard n > 0, sum > 0 else { return "−∞" }
        return String(format: "%.1f", 10 * log10(sum / Double(n)))
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
        let percent = done * 100 / total
        guard percent != shown else { return }
        shown = percent
        let filled = percent / 4
        FileHandle.standardError.write(Data("\r[\(String(repeating: "#", count: filled))\(String(repeating: ".", count: 25 - filled))] \(percent)%".utf8))
    }

    func finish() { if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) } }
}
