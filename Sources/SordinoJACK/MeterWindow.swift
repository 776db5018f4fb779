// SPDX-License-Identifier: GPL-3.0-or-later
// The main thread's view of the audio thread's level and cost counters: the report interval and the meters' sliding windows.

import Foundation
import SordinoDSP

/// Collects, at every housekeeping step, what the audio thread counted since the last one (peaks,
/// sums of squares, samples, the longest callback), and keeps two views of it: totals since the
/// last `takeReport()` (the log's status line) and sliding windows (the meters of `status`: levels
/// over the last `levelWindow`, callback cost over the last `costWindow`). Main thread only.
struct MeterWindow {
    /// Levels are measured over the last 300 ms (a VU meter's integration time).
    static var levelWindow: Duration { .milliseconds(300) }
    /// Callback percentiles are taken over the last 10 s.
    static var costWindow: Duration { .seconds(10) }

    private struct Step {
        var at: ContinuousClock.Instant
        var inputPeaks: [Float]
        var outputPeaks: [Float]
        var inputSquares: [Double]
        var outputSquares: [Double]
        var frames: Int
        var maximumNanoseconds: Int
        /// Energy of the running engine's speech and noise estimates added in this step.
        var speechEnergy: Double
        var noiseEnergy: Double
    }

    /// The running engine's estimate sums as last read, and which engine they came from.
    private var lastEstimates: (engine: Int, speech: Double, noise: Double) = (0, 0, 0)

    let channelCount: Int
    private var steps: [Step] = []
    /// Histogram snapshots about once a second over `costWindow`, oldest first.
    private var costSnapshots: [(at: ContinuousClock.Instant, counts: [Int])] = []
    private var lastSquares: (input: [Double], output: [Double])
    private var lastFrames = 0
    private(set) var reportInputPeaks: [Float]
    private(set) var reportOutputPeaks: [Float]
    private(set) var reportMaximumNanoseconds = 0

    init(channelCount: Int) {
        self.channelCount = channelCount
        lastSquares = (Array(repeating: 0, count: channelCount), Array(repeating: 0, count: channelCount))
        reportInputPeaks = Array(repeating: 0, count: channelCount)
        reportOutputPeaks = reportInputPeaks
    }

    /// Takes what the audio thread counted since the previous step. `engine`: the running engine
    /// (its address as an identity, and its telemetry), nil when there is none.
    mutating func step(_ context: UnsafeMutablePointer<HostContext>, engine: (id: Int, telemetry: Telemetry)?) {
        let now = ContinuousClock.now
        let peaks = context.pointee.takePeaks(), squares = context.pointee.squareSums()
        let frames = context.pointee.frames.load(ordering: .relaxed)
        let maximum = context.pointee.histogram.takeMaximum()
        var estimates = (engine: 0, speech: 0.0, noise: 0.0)
        if let engine {
            estimates = (engine.id, Double(bitPattern: engine.telemetry.speechEnergy.load(ordering: .relaxed)),
                         Double(bitPattern: engine.telemetry.noiseEnergy.load(ordering: .relaxed)))
        }
        // A new engine starts its sums at 0: count all of them.
        let base: (engine: Int, speech: Double, noise: Double) =
            estimates.engine == lastEstimates.engine ? lastEstimates : (estimates.engine, 0, 0)
        lastEstimates = estimates
        let step = Step(at: now, inputPeaks: peaks.input, outputPeaks: peaks.output,
                        inputSquares: zip(squares.input, lastSquares.input).map { $0 - $1 },
                        outputSquares: zip(squares.output, lastSquares.output).map { $0 - $1 },
                        frames: frames - lastFrames, maximumNanoseconds: maximum,
                        speechEnergy: estimates.speech - base.speech, noiseEnergy: estimates.noise - base.noise)
        lastSquares = squares
        lastFrames = frames
        for c in 0..<channelCount {
            reportInputPeaks[c] = max(reportInputPeaks[c], step.inputPeaks[c])
            reportOutputPeaks[c] = max(reportOutputPeaks[c], step.outputPeaks[c])
        }
        reportMaximumNanoseconds = max(reportMaximumNanoseconds, maximum)
        // Steps closer than 50 ms (a caller servicing faster than the run loop) merge, so that the
        // windows hold at most ~200 of them.
        if let last = steps.last, now - last.at < .milliseconds(50), steps.count > 1,
           now - steps[steps.count - 2].at < .milliseconds(50) {
            steps[steps.count - 1] = Self.merged(last, step)
        } else {
            steps.append(step)
        }
        steps.removeAll { now - $0.at > Self.costWindow }
        if costSnapshots.last.map({ now - $0.at >= .seconds(1) }) ?? true {
            costSnapshots.append((now, context.pointee.histogram.snapshot()))
            if costSnapshots.count > 11 { costSnapshots.removeFirst() }
        }
    }

    /// Peaks (dBFS) and the longest callback since the last call; resets them (`takeReport`).
    mutating func takeReportPeaks() -> (input: [Float], output: [Float], maximumNanoseconds: Int) {
        defer {
            reportInputPeaks = Array(repeating: 0, count: channelCount)
            reportOutputPeaks = reportInputPeaks
            reportMaximumNanoseconds = 0
        }
        return (reportInputPeaks.map(Self.decibels), reportOutputPeaks.map(Self.decibels), reportMaximumNanoseconds)
    }

    /// Levels per channel over the last `levelWindow`.
    func levels() -> [ChannelLevels] {
        guard let newest = steps.last?.at else {
            return Array(repeating: ChannelLevels(inputPeakDecibels: -.infinity, inputRMSDecibels: -.infinity,
                                                  outputPeakDecibels: -.infinity, outputRMSDecibels: -.infinity),
                         count: channelCount)
        }
        let recent = steps.filter { newest - $0.at < Self.levelWindow }
        let frames = recent.reduce(0) { $0 + $1.frames }
        func rms(_ squares: [Double]) -> Float {
            frames > 0 ? Float(10 * log10(squares.reduce(0, +) / Double(frames))) : -.infinity
        }
        return (0..<channelCount).map { c in
            ChannelLevels(inputPeakDecibels: Self.decibels(recent.map { $0.inputPeaks[c] }.max() ?? 0),
                          inputRMSDecibels: rms(recent.map { $0.inputSquares[c] }),
                          outputPeakDecibels: Self.decibels(recent.map { $0.outputPeaks[c] }.max() ?? 0),
                          outputRMSDecibels: rms(recent.map { $0.outputSquares[c] }))
        }
    }

    /// The model's speech-to-noise ratio over the last `levelWindow`, in dB: the energy of the
    /// speech estimates over that of the noise estimates. Nil when the engine saw only silence.
    func speechToNoiseDecibels() -> Float? {
        guard let newest = steps.last?.at else { return nil }
        let recent = steps.filter { newest - $0.at < Self.levelWindow }
        let speech = recent.reduce(0) { $0 + $1.speechEnergy }, noise = recent.reduce(0) { $0 + $1.noiseEnergy }
        guard speech > 0 || noise > 0 else { return nil }
        return Float(10 * log10(max(speech, 1e-30) / max(noise, 1e-30)))
    }

    /// Callback cost over the last `costWindow` (percentiles from ~1 s snapshots, the exact maximum).
    func callbackCost(current counts: [Int]) -> CallbackStatistics {
        guard let oldest = costSnapshots.first else { return .empty }
        let maximum = steps.reduce(0) { max($0, $1.maximumNanoseconds) }
        return CallbackStatistics(counts: zip(counts, oldest.counts).map { $0 - $1 }, maximumNanoseconds: maximum)
    }

    /// One step covering `a` and the later `b`.
    private static func merged(_ a: Step, _ b: Step) -> Step {
        Step(at: b.at, inputPeaks: zip(a.inputPeaks, b.inputPeaks).map { max($0, $1) },
             outputPeaks: zip(a.outputPeaks, b.outputPeaks).map { max($0, $1) },
             inputSquares: zip(a.inputSquares, b.inputSquares).map { $0 + $1 },
             outputSquares: zip(a.outputSquares, b.outputSquares).map { $0 + $1 },
             frames: a.frames + b.frames, maximumNanoseconds: max(a.maximumNanoseconds, b.maximumNanoseconds),
             speechEnergy: a.speechEnergy + b.speechEnergy, noiseEnergy: a.noiseEnergy + b.noiseEnergy)
    }

    private static func decibels(_ linear: Float) -> Float { linear > 0 ? 20 * log10f(linear) : -.infinity }
}
