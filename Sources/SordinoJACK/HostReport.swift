// SPDX-License-Identifier: GPL-3.0-or-later
// What the host tells its user: the health and status report, and how it reads in the log.

/// Health of a running host over the interval since the previous `takeReport()`.
public struct JackHostReport: Sendable {
    public var connected: Bool
    /// Xruns the server reported, since the host started.
    public var xruns: Int
    /// DSP load of the whole JACK graph, in percent (`jack_cpu_load`); 0 while disconnected.
    public var cpuLoadPercent: Float
    /// Process-callback cost over the interval.
    public var callback: CallbackStatistics
    /// Callbacks longer than the period, since the host started.
    public var overruns: Int
    /// Samples per channel processed since the host started.
    public var framesProcessed: Int
    /// NaN/Inf input samples replaced by 0, since the host started.
    public var nonFiniteSamples: Int
    /// Output samples clamped to ±`Engine.outputLimit`, since the host started.
    public var clippedSamples: Int
    /// Input samples beyond ±`Engine.outputLimit` clamped to it, since the host started.
    public var clampedInputSamples: Int
    /// Successful reconnects since the host started.
    public var reconnects: Int
    /// Engines built after the first (reload, rate change), since the host started.
    public var engineRebuilds: Int
    /// Per channel, the peak level of `in_c` and `out_c` over the interval, in dBFS (−inf: silence).
    public var inputPeakDecibels: [Float]
    public var outputPeakDecibels: [Float]
    /// libjack messages lost because the queue was full, since the host started.
    public var droppedMessages: Int
    /// With the hop worker (nil without it): its cost per wake-up over the interval; the cycles that
    /// played silence because its output was not ready, and the times it fell half a ring behind,
    /// since the host started.
    public var worker: (cost: CallbackStatistics, lateCycles: Int, skips: Int)?
}

extension JackHostReport {
    /// One log line: state, xruns, load, callback cost, levels, counters.
    func line(serverName: String) -> String {
        let c = callback
        let levels = zip(inputPeakDecibels, outputPeakDecibels).enumerated().map { channel, levels in
            "\(channel + 1): in \(decibels(levels.0)) out \(decibels(levels.1))"
        }.joined(separator: ", ")
        return """
            \(connected ? "running" : "waiting for JACK server '\(serverName)'"): \
            xruns \(xruns), DSP load \(formatted(Double(cpuLoadPercent)))%, \
            callback p50 \(formatted(c.p50Microseconds)) µs p99 \(formatted(c.p99Microseconds)) µs \
            max \(formatted(c.maximumMicroseconds)) µs over \(c.count) cycles, \
            \(overruns) callbacks over the period, \
            peak dBFS \(levels.isEmpty ? "-" : levels), \
            \(framesProcessed) samples processed, \(nonFiniteSamples) NaN/Inf replaced, \
            \(clippedSamples) clipped, \(clampedInputSamples) input samples clamped, \(reconnects) reconnects, \(engineRebuilds) engine swaps\(workerPart)
            """
    }

    private var workerPart: String {
        worker.map {
            ", hop worker p50 \(formatted($0.cost.p50Microseconds)) µs p99 \(formatted($0.cost.p99Microseconds)) µs "
                + "max \(formatted($0.cost.maximumMicroseconds)) µs over \($0.cost.count) runs: "
                + "\($0.lateCycles) cycles late, \($0.skips) skips"
        } ?? ""
    }
}

private func decibels(_ value: Float) -> String { value.isFinite ? formatted(Double(value)) : "-inf" }

/// One decimal for values ≥ 10, two below: "10.7", "2.67".
func formatted(_ value: Double) -> String {
    let digits = abs(value) >= 10 ? 1 : 2
    let scale = digits == 1 ? 10.0 : 100.0
    let rounded = (value * scale).rounded() / scale
    var text = "\(rounded)"
    if let dot = text.firstIndex(of: ".") {
        let decimals = text.distance(from: dot, to: text.endIndex) - 1
        if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
    }
    return text
}
