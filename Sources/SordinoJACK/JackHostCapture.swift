// SPDX-License-Identifier: GPL-3.0-or-later
// Capturing live input on the host's thread: arm the audio thread's ring, drain it every step, hand the samples over.

/// Live input the host captured: every channel, from the same cycles.
public struct CapturedInput: Sendable {
    /// One array per input channel, `in_1` first, equally long.
    public var channels: [[Float]]
    /// Hz of the session the samples came from.
    public var sampleRate: Int

    /// Duration in seconds.
    public var seconds: Double { Double(channels.first?.count ?? 0) / Double(max(sampleRate, 1)) }
}

/// Why a capture stopped without its samples.
public enum CaptureError: Error, Equatable, CustomStringConvertible {
    case notConnected(server: String)
    case alreadyCapturing
    case serverLost(server: String)
    case sampleRateChanged(from: Int, to: Int)
    case dropped(blocks: Int)

    public var description: String {
        switch self {
        case let .notConnected(server):
            "no JACK server '\(server)' is connected, so there is no input to capture; retry once it is back"
        case .alreadyCapturing:
            "a capture is already running; wait for it to finish"
        case let .serverLost(server):
            "JACK server '\(server)' went away during the capture; retry once it is back"
        case let .sampleRateChanged(from, to):
            "the server's rate changed from \(from) to \(to) Hz during the capture; retry"
        case let .dropped(blocks):
            "the daemon's main thread fell behind and \(blocks) input block(s) were lost; retry (on a less loaded machine)"
        }
    }
}

/// A capture under way (the host's thread).
struct InputCapture {
    let samplesPerChannel: Int
    let sampleRate: Int
    var channels: [[Float]]
    /// Samples per channel at which `progress` is next called (every second of input).
    var nextProgress: Int
    let progress: (_ samplesPerChannel: Int) -> Void
    let completion: (Result<CapturedInput, CaptureError>) -> Void
}

extension JackHost {
    /// Captures the next `samplesPerChannel` input samples of every channel through the audio
    /// thread's ring (`CaptureRing`): `progress` after each second of input, then `completion`,
    /// both on the host's thread (from `service()`). One capture at a time; fails when no server is
    /// connected, or when it goes away or changes rate before the capture is full.
    public func captureInput(samplesPerChannel: Int, progress: @escaping (_ samplesPerChannel: Int) -> Void,
                             completion: @escaping (Result<CapturedInput, CaptureError>) -> Void) {
        precondition(samplesPerChannel > 0, "a capture needs at least one sample")
        guard capture == nil else { return completion(.failure(.alreadyCapturing)) }
        guard session != nil else { return completion(.failure(.notConnected(server: serverDisplayName))) }
        let channels = [[Float]](repeating: [], count: options.channelCount)
        capture = InputCapture(samplesPerChannel: samplesPerChannel, sampleRate: sampleRate, channels: channels,
                               nextProgress: sampleRate, progress: progress, completion: completion)
        context.pointee.capture.arm()
    }

    /// One step of a capture under way (from `service()`): drain the ring, report, finish or fail.
    func serviceCapture() {
        guard var job = capture else { return }
        if session == nil { return finishCapture(.failure(.serverLost(server: serverDisplayName))) }
        if sampleRate != job.sampleRate { return finishCapture(.failure(.sampleRateChanged(from: job.sampleRate, to: sampleRate))) }
        let dropped = context.pointee.capture.droppedBlocks.load(ordering: .relaxed)
        if dropped > 0 { return finishCapture(.failure(.dropped(blocks: dropped))) }
        let have = job.channels[0].count
        _ = context.pointee.capture.drain(into: &job.channels, limit: job.samplesPerChannel - have)
        let now = job.channels[0].count
        while now >= job.nextProgress, now < job.samplesPerChannel {
            job.progress(job.nextProgress)
            job.nextProgress += job.sampleRate
        }
        capture = job
        if now >= job.samplesPerChannel {
            finishCapture(.success(CapturedInput(channels: job.channels, sampleRate: job.sampleRate)))
        }
    }

    private func finishCapture(_ result: Result<CapturedInput, CaptureError>) {
        context.pointee.capture.disarm()
        guard let job = capture else { return }
        capture = nil
        job.completion(result)
    }
}
