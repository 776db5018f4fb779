// SPDX-License-Identifier: GPL-3.0-or-later
// What `status` reports, as the daemon publishes it, and its JSON form (both directions).

import Foundation
import SordinoDSP

/// The daemon's status at one instant. Levels in dBFS (nil: silence, −inf), times in µs.
public struct DaemonStatus: Sendable, Equatable {
    public struct Channel: Sendable, Equatable {
        public var inputPeakDecibels: Float?
        public var inputRMSDecibels: Float?
        public var outputPeakDecibels: Float?
        public var outputRMSDecibels: Float?
        /// Input RMS − output RMS in dB (what was removed).
        public var attenuationDecibels: Float?

        public init(inputPeakDecibels: Float?, inputRMSDecibels: Float?, outputPeakDecibels: Float?,
                    outputRMSDecibels: Float?, attenuationDecibels: Float?) {
            self.inputPeakDecibels = inputPeakDecibels
            self.inputRMSDecibels = inputRMSDecibels
            self.outputPeakDecibels = outputPeakDecibels
            self.outputRMSDecibels = outputRMSDecibels
            self.attenuationDecibels = attenuationDecibels
        }
    }

    public var connected: Bool
    public var server: String
    public var client: String
    public var preset: String
    /// Why the output is the input passed through unprocessed (no preset for the server's rate);
    /// nil while the engine processes.
    public var passThrough: String?
    public var sampleRate: Int
    public var blockLength: Int
    public var latencySamples: Int
    public var latencyMilliseconds: Double
    public var channels: [Channel]
    /// The model's speech-to-noise energy ratio over the last ~300 ms, dB (nil: only silence).
    public var speechToNoiseDecibels: Float?
    public var xruns: Int
    /// Process callbacks that took longer than the period (the xruns Sordino itself can cause).
    public var overruns: Int
    public var callbackP50Microseconds: Double
    public var callbackP99Microseconds: Double
    public var callbackMaximumMicroseconds: Double
    public var dspLoadPercent: Double
    public var nonFiniteSamples: Int
    public var clippedSamples: Int
    /// Input samples beyond ±8 (+18 dBFS) clamped to it (absent from an older daemon's reply: 0).
    public var clampedInputSamples: Int
    public var framesProcessed: Int
    public var uptimeSeconds: Double
    public var reconnects: Int
    public var engineSwaps: Int
    public var limits: EngineLimits

    public init(connected: Bool, server: String, client: String, preset: String, passThrough: String? = nil, sampleRate: Int, blockLength: Int,
                latencySamples: Int, latencyMilliseconds: Double, channels: [Channel], speechToNoiseDecibels: Float?, xruns: Int, overruns: Int,
                callbackP50Microseconds: Double, callbackP99Microseconds: Double, callbackMaximumMicroseconds: Double,
                dspLoadPercent: Double, nonFiniteSamples: Int, clippedSamples: Int, clampedInputSamples: Int = 0, framesProcessed: Int,
                uptimeSeconds: Double, reconnects: Int, engineSwaps: Int, limits: EngineLimits) {
        self.connected = connected
        self.server = server
        self.client = client
        self.preset = preset
        self.passThrough = passThrough
        self.sampleRate = sampleRate
        self.blockLength = blockLength
        self.latencySamples = latencySamples
        self.latencyMilliseconds = latencyMilliseconds
        self.channels = channels
        self.speechToNoiseDecibels = speechToNoiseDecibels
        self.xruns = xruns
        self.overruns = overruns
        self.callbackP50Microseconds = callbackP50Microseconds
        self.callbackP99Microseconds = callbackP99Microseconds
        self.callbackMaximumMicroseconds = callbackMaximumMicroseconds
        self.dspLoadPercent = dspLoadPercent
        self.nonFiniteSamples = nonFiniteSamples
        self.clippedSamples = clippedSamples
        self.clampedInputSamples = clampedInputSamples
        self.framesProcessed = framesProcessed
        self.uptimeSeconds = uptimeSeconds
        self.reconnects = reconnects
        self.engineSwaps = engineSwaps
        self.limits = limits
    }

    /// The `status` result (field names in docs/PROTOCOL.md).
    public var json: JSONValue {
        func rounded(_ v: Float?) -> JSONValue { .number(v.map { (Double($0) * 100).rounded() / 100 }) }
        func tenths(_ v: Double) -> JSONValue { .number((v * 10).rounded() / 10) }
        return .object([
            "connected": .bool(connected), "server": .string(server), "client": .string(client), "preset": .string(preset),
            "pass_through": passThrough.map(JSONValue.string) ?? .null,
            "sample_rate": .number(sampleRate), "block_length": .number(blockLength),
            "latency_samples": .number(latencySamples), "latency_ms": .number(latencyMilliseconds),
            "channels": .array(channels.map { c in
                .object(["in_peak_dbfs": rounded(c.inputPeakDecibels), "in_rms_dbfs": rounded(c.inputRMSDecibels),
                         "out_peak_dbfs": rounded(c.outputPeakDecibels), "out_rms_dbfs": rounded(c.outputRMSDecibels),
                         "attenuation_db": rounded(c.attenuationDecibels)])
            }),
            "speech_to_noise_db": rounded(speechToNoiseDecibels), "xruns": .number(xruns), "overruns": .number(overruns),
            "callback_us": .object(["p50": tenths(callbackP50Microseconds), "p99": tenths(callbackP99Microseconds),
                                    "max": tenths(callbackMaximumMicroseconds)]),
            "dsp_load_percent": .number((dspLoadPercent * 100).rounded() / 100), "nonfinite_replaced": .number(nonFiniteSamples),
            "clipped": .number(clippedSamples), "input_clamped": .number(clampedInputSamples), "frames_processed": .number(framesProcessed),
            "uptime_s": .number((uptimeSeconds * 10).rounded() / 10), "reconnects": .number(reconnects),
            "engine_swaps": .number(engineSwaps), "max_iterations": .number(limits.maximumIterations),
        ])
    }

    /// Reads a `status` result; nil when a field is missing or of the wrong type.
    public init?(json: JSONValue) {
        guard let fields = json.objectValue,
              let connected = fields["connected"]?.boolValue, let server = fields["server"]?.stringValue,
              let client = fields["client"]?.stringValue, let preset = fields["preset"]?.stringValue,
              let rate = fields["sample_rate"]?.intValue, let block = fields["block_length"]?.intValue,
              let latency = fields["latency_samples"]?.intValue, let latencyMs = fields["latency_ms"]?.doubleValue,
              case .array(let channelValues)? = fields["channels"], let xruns = fields["xruns"]?.intValue,
              let overruns = fields["overruns"]?.intValue,
              let cost = fields["callback_us"], let p50 = cost["p50"]?.doubleValue, let p99 = cost["p99"]?.doubleValue,
              let maximum = cost["max"]?.doubleValue, let load = fields["dsp_load_percent"]?.doubleValue,
              let nonFinite = fields["nonfinite_replaced"]?.intValue, let clipped = fields["clipped"]?.intValue,
              let frames = fields["frames_processed"]?.intValue, let uptime = fields["uptime_s"]?.doubleValue,
              let reconnects = fields["reconnects"]?.intValue, let swaps = fields["engine_swaps"]?.intValue,
              let maximumIterations = fields["max_iterations"]?.intValue
        else { return nil }
        func level(_ value: JSONValue?) -> Float? { value?.doubleValue.map(Float.init) }
        self.init(connected: connected, server: server, client: client, preset: preset,
                  passThrough: fields["pass_through"]?.stringValue, sampleRate: rate,
                  blockLength: block, latencySamples: latency, latencyMilliseconds: latencyMs,
                  channels: channelValues.map { c in
                      Channel(inputPeakDecibels: level(c["in_peak_dbfs"]), inputRMSDecibels: level(c["in_rms_dbfs"]),
                              outputPeakDecibels: level(c["out_peak_dbfs"]), outputRMSDecibels: level(c["out_rms_dbfs"]),
                              attenuationDecibels: level(c["attenuation_db"]))
                  },
                  speechToNoiseDecibels: level(fields["speech_to_noise_db"]),
                  xruns: xruns, overruns: overruns, callbackP50Microseconds: p50, callbackP99Microseconds: p99,
                  callbackMaximumMicroseconds: maximum, dspLoadPercent: load, nonFiniteSamples: nonFinite,
                  clippedSamples: clipped, clampedInputSamples: fields["input_clamped"]?.intValue ?? 0, framesProcessed: frames, uptimeSeconds: uptime, reconnects: reconnects,
                  engineSwaps: swaps, limits: EngineLimits(maximumIterations: maximumIterations, configuredNoiseBoundDecibels: nil))
    }
}

/// What the control server steers: the daemon, seen from another thread. Every requirement may be
/// called from the server's thread; none may block for long (`reload` answers through `reply`).
public protocol ControlTarget: Sendable {
    /// The live controls every engine of the daemon follows.
    var controls: ControlBlock { get }
    /// The newest status (nil before the daemon published one).
    func status() -> DaemonStatus?
    /// Builds and swaps in an engine from `preset` (nil: the running preset, re-read), off the
    /// audio thread; calls `reply` (on any thread) with what it was built from, or why not.
    func reload(preset: String?, reply: @escaping @Sendable (Result<String, ControlFailure>) -> Void)
    /// Writes the live values for the next start; returns the file's path.
    func saveSettings() throws(ControlFailure) -> String
    /// Serves learn-noise, forget-noise or save-noise off the audio thread: `progress` with interim
    /// objects (learn-noise's stages), then `reply` once (any thread).
    func noise(_ request: NoiseRequest, progress: @escaping @Sendable (JSONValue) -> Void,
               reply: @escaping @Sendable (Result<JSONValue, ControlFailure>) -> Void)
}

/// What learn-noise, forget-noise and save-noise ask of the daemon (arguments checked).
public enum NoiseRequest: Sendable, Equatable {
    /// Capture `seconds` of every input, learn `atoms` noise atoms, swap them in.
    case learn(seconds: Double, atoms: Int)
    /// Back to the preset's own noise atoms.
    case forget
    /// Write the running preset with its learned atoms as preset `name` (a safe name).
    case save(name: String)
}
