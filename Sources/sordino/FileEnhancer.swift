// SPDX-License-Identifier: GPL-3.0-or-later
// `process`'s pipeline: file → libsoxr → engine → libsoxr → file, a chunk at a time, in constant memory.

import SordinoDSP
import SordinoIO

/// Runs planar chunks of a file through the engine at the preset's rate and writes the result,
/// holding only a chunk at a time (plus the resamplers' and engine's fixed state), so memory does
/// not depend on the file's length. The output is the sequence the whole-file path gave: the
/// input converted to the preset's rate (W samples), the engine run on it and on `latency` samples
/// of silence that push its delayed tail out, converted back; with `compensateDelay` the first
/// `latency` engine samples are dropped and the result is cut or padded to the input's length.
final class FileEnhancer {
    private var engine: Engine
    private var driver: EngineBlockDriver
    /// File rate → preset rate, and back; nil when the rates agree.
    private let toEngine: ResamplingStream?
    private let fromEngine: ResamplingStream?
    private let writer: AudioOutputStream
    private let latency: Int
    private let compensateDelay: Bool
    /// Engine output samples (per channel) still to drop for the delay compensation.
    private var undelivered: Int
    /// Input samples per channel, known once `finish` is called: the compensated output's length.
    private var outputLength: Int?
    /// Σx² and sample count of input and output, for the levels `process` prints.
    private(set) var inputEnergy = 0.0, outputEnergy = 0.0
    private(set) var inputSamples = 0, outputSamples = 0
    /// Whole input and output, kept only for `--report`.
    private(set) var keptInput: [[Float]]?, keptOutput: [[Float]]?

    var telemetry: Telemetry { engine.telemetry }

    init(engine: consuming Engine, blockLength: Int, fileRate: Int, presetRate: Int, writer: AudioOutputStream,
         compensateDelay: Bool, keepSignals: Bool) throws(ResamplerError) {
        let channels = engine.configuration.channelCount
        latency = engine.latencySamples
        self.engine = engine
        driver = EngineBlockDriver(channelCount: channels, blockLengths: [blockLength])
        let converted = fileRate != presetRate
        toEngine = converted ? try ResamplingStream(channelCount: channels, from: fileRate, to: presetRate) : nil
        fromEngine = converted ? try ResamplingStream(channelCount: channels, from: presetRate, to: fileRate) : nil
        self.writer = writer
        self.compensateDelay = compensateDelay
        undelivered = compensateDelay ? latency : 0
        if keepSignals {
            keptInput = [[Float]](repeating: [], count: channels)
            keptOutput = keptInput
        }
    }

    /// Enhances the next `count` input samples of every channel.
    func feed(_ chunk: [[Float]], count: Int) throws {
        for c in chunk.indices {
            for i in 0..<count { inputEnergy += Double(chunk[c][i]) * Double(chunk[c][i]) }
            keptInput?[c].append(contentsOf: chunk[c][0..<count])
        }
        inputSamples += count
        if let toEngine {
            try enhance(try toEngine.process(chunk, count: count))
        } else {
            try enhance(count == chunk.first?.count ? chunk : chunk.map { Array($0[0..<count]) })
        }
    }

    /// Flushes the converter, pushes the engine's delayed tail out, and closes the output.
    func finish() throws {
        outputLength = inputSamples
        if let toEngine { try enhance(try toEngine.finish()) }
        try enhance([[Float]](repeating: [Float](repeating: 0, count: latency), count: driver.channelCount))
        if let fromEngine { try deliver(try fromEngine.finish()) }
        if compensateDelay, let outputLength, outputSamples < outputLength {
            // Rounding in the rate conversion may leave a sample or so short of the input's length.
            try deliver([[Float]](repeating: [Float](repeating: 0, count: outputLength - outputSamples),
                                  count: driver.channelCount))
        }
        try writer.close()
    }

    /// Runs samples at the preset's rate through the engine, then towards the output.
    private func enhance(_ samples: [[Float]]) throws {
        var out = driver.run(&engine, samples)
        if undelivered > 0 {
            let dropped = min(undelivered, out.first?.count ?? 0)
            out = out.map { Array($0[dropped...]) }
            undelivered -= dropped
        }
        if let fromEngine { try deliver(try fromEngine.process(out, count: out.first?.count ?? 0)) } else { try deliver(out) }
    }

    /// Writes samples at the file's rate, cut at the input's length when compensating.
    private func deliver(_ samples: [[Float]]) throws {
        var count = samples.first?.count ?? 0
        if compensateDelay, let outputLength { count = min(count, max(outputLength - outputSamples, 0)) }
        guard count > 0 else { return }
        try writer.write(samples, from: 0, count: count)
        for c in samples.indices {
            for i in 0..<count { outputEnergy += Double(samples[c][i]) * Double(samples[c][i]) }
            keptOutput?[c].append(contentsOf: samples[c][0..<count])
        }
        outputSamples += count
    }
}

extension EngineBlockDriver {
    /// Whole planar `channels` through `engine` in blocks of `blockLength`, then `flush` samples of
    /// silence so the delayed tail comes out: `count + flush` samples per channel (`separate`).
    static func enhance(_ engine: inout Engine, _ channels: [[Float]], blockLength: Int, flush: Int) -> [[Float]] {
        var driver = EngineBlockDriver(channelCount: channels.count, blockLengths: [blockLength])
        return driver.run(&engine, channels.map { $0 + [Float](repeating: 0, count: flush) })
    }
}

/// RMS level over all channels in dBFS, one decimal.
func decibels(_ channels: [[Float]]) -> String {
    var energy = 0.0
    for c in channels { for x in c { energy += Double(x) * Double(x) } }
    return ProcessCommand.decibels(energy, count: channels.reduce(0) { $0 + $1.count })
}
