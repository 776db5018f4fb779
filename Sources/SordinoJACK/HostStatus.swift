// SPDX-License-Identifier: GPL-3.0-or-later
// The host's status as one value, and the link other threads (a control socket) reach the host through.

import SordinoDSP
import SordinoLock

/// Levels of one channel over the meter window (the last ~300 ms), in dBFS; −inf for silence.
public struct ChannelLevels: Sendable, Equatable {
    public var inputPeakDecibels: Float
    public var inputRMSDecibels: Float
    public var outputPeakDecibels: Float
    public var outputRMSDecibels: Float

    public init(inputPeakDecibels: Float, inputRMSDecibels: Float, outputPeakDecibels: Float, outputRMSDecibels: Float) {
        self.inputPeakDecibels = inputPeakDecibels
        self.inputRMSDecibels = inputRMSDecibels
        self.outputPeakDecibels = outputPeakDecibels
        self.outputRMSDecibels = outputRMSDecibels
    }

    /// Input RMS minus output RMS, in dB: what the enhancer removed (0 when both are silent; the
    /// output lags the input by the latency, which a 300 ms window mostly absorbs).
    public var attenuationDecibels: Float {
        guard inputRMSDecibels.isFinite || outputRMSDecibels.isFinite else { return 0 }
        return inputRMSDecibels - outputRMSDecibels
    }
}

/// Everything `status` reports, taken by the host's thread at one instant.
public struct HostStatus: Sendable {
    /// True while a client is open on a live server.
    public var connected: Bool
    public var serverName: String
    public var clientName: String
    /// What the running engine was built from ("speech-48k (/…/speech-48k.json)").
    public var engineOrigin: String
    /// Why the output is the delayed input, unprocessed (the server runs at a rate no preset
    /// serves); nil while the engine processes.
    public var passThroughReason: String?
    /// Hz and samples of the current (or last) session.
    public var sampleRate: Int
    public var blockLength: Int
    /// Delay from `in_c` to `out_c`, in samples and ms.
    public var latencySamples: Int
    public var latencyMilliseconds: Double
    /// The running engine's cap on the live `iterations` control.
    public var maximumIterations: Int
    /// The running engine's configured noise bound in dB (nil: off); a live bound replaces it.
    public var configuredNoiseBoundDecibels: Float?
    /// Per channel levels over the last ~300 ms.
    public var channels: [ChannelLevels]
    /// The model's estimate over the last ~300 ms: energy of the speech estimate over that of the
    /// noise estimate (all channels), in dB; nil while only silence came in.
    public var speechToNoiseDecibels: Float?
    /// Process-callback cost over the last ~10 s.
    public var callback: CallbackStatistics
    /// DSP load of the whole JACK graph, percent (0 while disconnected).
    public var dspLoadPercent: Float
    /// Totals since the host started.
    public var xruns: Int
    /// Process callbacks longer than the period.
    public var overruns: Int
    public var framesProcessed: Int
    public var nonFiniteSamples: Int
    public var clippedSamples: Int
    /// Input samples beyond ±`Engine.outputLimit` clamped to it.
    public var clampedInputSamples: Int
    public var reconnects: Int
    public var engineRebuilds: Int
    public var handOvers: Int
    /// Seconds since the host was created.
    public var uptimeSeconds: Double
}

/// What another thread may hold to reach a `JackHost` (which belongs to one thread): the status
/// the host publishes on every `service()` step (~10 times a second), and a mailbox of jobs the
/// host runs on its own thread at its next step. Neither is touched by the audio thread.
public final class JackHostLink: Sendable {
    private let status = Locked<HostStatus?>(nil)
    private let jobs = Locked<[@Sendable (JackHost) -> Void]>([])
    /// The host's live controls (any thread).
    public let controls: ControlBlock

    init(controls: ControlBlock) { self.controls = controls }

    /// The newest status the host published (nil before its first `service()` step).
    public var latestStatus: HostStatus? { status.withLock { $0 } }

    /// Runs `job` on the host's thread at its next `service()` step (within ~100 ms in `run`).
    public func submit(_ job: @escaping @Sendable (JackHost) -> Void) {
        jobs.withLock { $0.append(job) }
    }

    func publish(_ value: HostStatus) { status.withLock { $0 = value } }

    func takeJobs() -> [@Sendable (JackHost) -> Void] { jobs.withLock { queue in defer { queue = [] }; return queue } }
}
