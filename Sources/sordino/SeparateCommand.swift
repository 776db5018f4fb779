// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino separate IN --out DIR`: the speech and the noise estimate of a recording, two WAVs that sum to it.

import ArgumentParser
import Foundation
import SordinoDSP
import SordinoIO
import SordinoPresets

struct Separate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "separate",
        abstract: "Split a recording into a speech and a noise estimate that sum to it.",
        discussion: """
        Runs the same engine as `process` (fully wet, delay compensated) to get the speech estimate \
        s = ISTFT(G·X), G the preset's soft mask, and writes the noise estimate as n = x − s. The \
        STFT reconstructs perfectly and is linear, so n = ISTFT((1 − G)·X): the two soft masks on one \
        STFT, and s + n equals the input up to float rounding (< 1e-6 of full scale). Files: \
        DIR/NAME.speech.wav and DIR/NAME.noise.wav (32-bit float, the input's rate and channels), \
        NAME being the input's file name without extension ("stdin" for -, standard input). Other rates are converted with libsoxr \
        to the preset's and the speech estimate back, so the sum stays exact.
        """)

    @Argument(help: "Input audio file, or - for standard input.") var input: String
    @Option(name: .long, help: "Output folder (created if missing).") var out: String
    @OptionGroup var engine: EngineOptions
    @Option(name: .customLong("block-size"), parsing: .unconditional, help: "Samples per engine call, 1…8192.") var blockSize: Int = 256
    @Flag(name: .shortAndLong, help: "Print nothing but errors.") var quiet = false

    mutating func validate() throws {
        try engine.refuseHopWorker(command: "separate")
        guard (1...8192).contains(blockSize) else { throw ValidationError("--block-size must lie in 1…8192 (got \(blockSize)).") }
        if let wet = engine.wet, wet != 1 { throw ValidationError("--wet must be 1 (or absent) for separate: the estimates must sum to the input.") }
    }

    func run() throws {
        do { try separate() } catch { throw report(error, command: "separate") }
    }

    private func separate() throws {
        let (audio, info) = try AudioFileReader.read(path: input)
        if info.nonFiniteSamples > 0 {
            note("warning: \(info.nonFiniteSamples) NaN/Inf sample\(info.nonFiniteSamples == 1 ? "" : "s") in \(input) "
                 + "\(info.nonFiniteSamples == 1 ? "was" : "were") replaced by 0.")
        }
        // The folder first: found by hand, one that could not be made was reported after the work.
        try OutputFolder.make(out)
        let (preset, _, choice, skipped) = try engine.loadPreset(forFileRate: audio.sampleRate)
        for file in skipped { note("warning: \(file)") }
        if !quiet, let choice { note(choice) }
        let presetRate = preset.metadata.sampleRate
        let working = audio.sampleRate == presetRate ? audio : try Resampler.resample(audio, to: presetRate)
        var config = engine.configuration(of: preset, channelCount: audio.channelCount, maximumBlockLength: blockSize)
        config.wet = 1
        var enhancer = try Engine(configuration: config, basis: preset.basis, gainModel: preset.gainModel)
        let latency = enhancer.latencySamples
        let processed = EngineBlockDriver.enhance(&enhancer, working.channels, blockLength: blockSize, flush: latency)
        let wild = enhancer.telemetry.clampedInputSamples.load(ordering: .relaxed)
        if wild > 0 {
            note("warning: \(wild) input samples were beyond ±\(Int(Engine.outputLimit)) (+18 dBFS); the engine heard them "
                 + "clamped to it, so what lies beyond is in the noise estimate.")
        }
        var speech = AudioBuffer(sampleRate: presetRate, channels: processed.map { Array($0[latency...]) })
        if speech.sampleRate != audio.sampleRate { speech = try Resampler.resample(speech, to: audio.sampleRate) }
        let count = audio.sampleCount
        speech.channels = speech.channels.map { Array(($0 + [Float](repeating: 0, count: count)).prefix(count)) }
        let noise = AudioBuffer(sampleRate: audio.sampleRate, channels: zip(audio.channels, speech.channels).map { x, s in
            (0..<count).map { x[$0] - s[$0] }
        })
        // Standard input's estimates are stdin.speech.wav and stdin.noise.wav (they were
        // "-.speech.wav", a name the shell takes for options).
        let stem = input == standardStreamPath ? "stdin" : ((input as NSString).lastPathComponent as NSString).deletingPathExtension
        let format = AudioFileFormat(container: .wav, encoding: .float32)
        let speechPath = (out as NSString).appendingPathComponent("\(stem).speech.wav")
        let noisePath = (out as NSString).appendingPathComponent("\(stem).noise.wav")
        try AudioFileWriter.write(speech, to: speechPath, format: format)
        try AudioFileWriter.write(noise, to: noisePath, format: format)
        if !quiet {
            note("\(input) → \(speechPath) (\(decibels(speech.channels)) dBFS) + \(noisePath) "
                 + "(\(decibels(noise.channels)) dBFS); preset \(preset.metadata.name)")
        }
    }
}
