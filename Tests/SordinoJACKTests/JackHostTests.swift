// SPDX-License-Identifier: GPL-3.0-or-later
// The host against a real jackd (dummy driver): bit-exact audio, latency, block lengths, reconnects, errors.

import Foundation
import Logging
import Synchronization
import SordinoDSP
@testable import SordinoJACK
import TestSupport
import Testing

let logger: Logger = {
    var l = Logger(label: "sordino.test")
    l.logLevel = ProcessInfo.processInfo.environment["SORDINO_TEST_LOG"] == "1" ? .debug : .critical
    return l
}()

func options(_ server: JackdServer, channels: Int = 1, connectInputs: String? = nil,
             connectOutputs: String? = nil) -> JackHostOptions {
    JackHostOptions(clientName: "sordino", serverName: server.name, channelCount: channels,
                    connectInputs: connectInputs, connectOutputs: connectOutputs)
}

/// Plays `signal` through the host and records `count` samples of out_1, aligned to the input.
/// `hopLength`: start on a hop boundary of the host's engine (needed when the period is not a
/// multiple of the hop); the engine must then stay until the start.
func playThrough(_ host: JackHost, server: JackdServer, signal: [Float], count: Int, hopLength: Int? = nil,
                         during: ((LoopbackRig) throws -> Void)? = nil) throws -> (recording: [Float], rig: LoopbackRig) {
    let rig = try LoopbackRig(serverName: server.name, signal: signal, recordingCount: count)
    #expect(rig.connect(hostInput: host.inputPortNames[0], hostOutput: host.outputPortNames[0]))
    try serviceUntil(host, timeout: .milliseconds(100)) { false }   // let the graph settle
    if let hopLength {
        rig.arm(alignedTo: host.engineTelemetry, hopLength: hopLength)
        try serviceUntil(host, timeout: .seconds(2)) { rig.recordedCount > 0 }
    } else {
        rig.arm()
    }
    try during?(rig)
    let seconds = Double(count) / Double(server.sampleRate)
    let full = try serviceUntil(host, timeout: .seconds(seconds * 3 + 2)) { rig.isFull }
    #expect(full, "recorded only \(rig.recordedCount) of \(count) samples")
    #expect(!rig.misaligned)
    return (rig.recording, rig)
}

@Suite("JACK host against a real jackd", .serialized, .inProcessJack,
       .enabled(if: JackdServer.shouldRun, Comment(rawValue: JackdServer.skipReason)))
struct JackHostTests {
    @Test("audio through JACK equals the offline engine, sample for sample")
    func matchesOfflineEngine() throws {
        let server = try JackdServer.start()
        defer { server.stop() }
        let host = try JackHost(options: options(server), logger: logger, makeEngine: TestEngines.factory())
        let input = Signal.whiteNoise(count: 48_000, amplitude: 0.3, seed: 11)
        let (recording, _) = try playThrough(host, server: server, signal: input, count: input.count)
        let offline = try TestEngines.offline(input, blockLength: 256)
        let difference = maxAbsDifference(recording[...], offline[...])
        #expect(difference < 1e-6, "max |JACK − offline| = \(difference)")
        if difference >= 1e-6, let first = recording.indices.first(where: { abs(recording[$0] - offline[$0]) >= 1e-6 }) {
            let lags = (-1024...1024).filter { lag in
                maxAbsDifference(recording[(first + 2048)..<(first + 4096)], offline[(first + 2048 - lag)..<(first + 4096 - lag)]) < 1e-6
            }
            print("first mismatch at \(first); lags matching later: \(lags)")
        }
        // It really was processed: the wet output differs from the delayed input.
        let latency = host.latencySamples
        #expect(maxAbsDifference(recording[latency...], input[..<(input.count - latency)]) > 0.01)
        let report = host.takeReport()
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        print("callback cost (1 channel, FFT 512, hop 128, 16 atoms, 4 iterations, \(build) build): "
              + "p50 \(report.callback.p50Microseconds) µs, p99 \(report.callback.p99Microseconds) µs, "
              + "max \(report.callback.maximumMicroseconds) µs over \(report.callback.count) cycles; xruns \(report.xruns)")
        #expect(report.callback.count > 100)
        // Callbacks longer than the 5.3 ms period are counted; this engine needs a fraction of it,
        // so any counted one must show in the interval's maximum (the count covers the same cycles).
        #expect(report.overruns <= report.callback.count)
        if report.overruns > 0 { #expect(report.callback.maximumMicroseconds > 256 / 48_000 * 1e6) }
        #expect(host.flushToZeroOnAudioThread)
        #expect(report.callback.p50Microseconds > 0)
    }

    @Test("reported latency equals the measured impulse delay")
    func reportedLatencyIsMeasured() throws {
        let server = try JackdServer.start()
        defer { server.stop() }
        let host = try JackHost(options: options(server), logger: logger, makeEngine: TestEngines.factory())
        #expect(host.latencySamples == 512)
        #expect(abs(host.latencyMilliseconds - 512_000.0 / 48_000) < 1e-9)
        let impulseAt = 1000
        let (recording, rig) = try playThrough(host, server: server, signal: Signal.impulse(count: 4096, at: impulseAt),
                                               count: 4096)
        let peak = recording.indices.max { abs(recording[$0]) < abs(recording[$1]) }!
        let measured = peak - impulseAt
        // The player's port has no latency of its own, so out_1's capture latency is the engine's.
        let capture = rig.latencyRange(of: host.outputPortNames[0], .capture)
        let playback = rig.latencyRange(of: host.inputPortNames[0], .playback)
        print("latency: reported capture \(String(describing: capture)), playback \(String(describing: playback)), "
              + "measured \(measured) samples")
        #expect(measured == host.latencySamples)
        #expect(capture == measured...measured)
        #expect(playback == measured...measured)
    }

    @Test("latency adds to upstream capture latency and follows a new engine")
    func latencyAddsToUpstream() throws {
        let server = try JackdServer.start()
        defer { server.stop() }
        let frameLength = Mutex(512)
        let host = try JackHost(options: options(server, connectInputs: "^system:capture_1$"), logger: logger) {
            rate, controls throws(EngineBuildError) in
            var c = TestEngines.configuration(sampleRate: rate)
            c.frameLength = frameLength.withLock { $0 }
            c.hopLength = c.frameLength / 4
            return try TestEngines.build(c, controls: controls)
        }
        let rig = try LoopbackRig(serverName: server.name, signal: [], recordingCount: 1)
        let upstream = rig.latencyRange(of: "system:capture_1", .capture)!
        var reported = rig.latencyRange(of: host.outputPortNames[0], .capture)
        #expect(reported == (upstream.lowerBound + 512)...(upstream.upperBound + 512), "upstream \(upstream)")
        // A reload to another frame length changes the reported latency.
        frameLength.withLock { $0 = 256 }
        host.reload()
        #expect(host.latencySamples == 256)
        try serviceUntil(host, timeout: .seconds(2)) {
            rig.latencyRange(of: host.outputPortNames[0], .capture) == (upstream.lowerBound + 256)...(upstream.upperBound + 256)
        }
        reported = rig.latencyRange(of: host.outputPortNames[0], .capture)
        #expect(reported == (upstream.lowerBound + 256)...(upstream.upperBound + 256))
        try serviceUntil(host, timeout: .seconds(1)) { host.engineCount == 1 }
        #expect(host.engineCount == 1, "the old engine is freed once the hand-over is done")
    }

    @Test("block length 256 → 64 → 1024 → 32 while running: output continuous and exact")
    func blockLengthChanges() throws {
        let server = try JackdServer.start()
        defer { server.stop() }
        let host = try JackHost(options: options(server), logger: logger, makeEngine: TestEngines.factory(wet: 0))
        let sine = Signal.sine(count: 48_000 * 3, frequency: 441, sampleRate: 48_000)
        let (recording, rig) = try playThrough(host, server: server, signal: sine, count: 48_000 * 3) { rig in
            for length in [64, 1024, 32] {
                try serviceUntil(host, timeout: .milliseconds(500)) { false }
                #expect(rig.setBlockLength(length), "jack_set_buffer_size(\(length))")
            }
        }
        #expect(host.blockLength == 32)
        #expect(Set(rig.blockLengthsSeen) == [256, 64, 1024, 32], "saw \(rig.blockLengthsSeen)")
        #expect(host.engineRebuilds == 0, "the engine takes any block length")
        let latency = host.latencySamples
        // wet = 0 is the input delayed by exactly the latency: any lost or repeated block shows.
        #expect(recording[..<latency].allSatisfy { $0 == 0 })
        let difference = maxAbsDifference(recording[latency...], sine[..<(sine.count - latency)])
        #expect(difference == 0, "max |output − delayed input| = \(difference)")
        #expect(longestZeroRun(recording[latency...]) <= 2, "a sine has no gaps")
    }

    @Test("jackd killed with SIGKILL and restarted, 5 times: reconnects within 2 s with its connections")
    func reconnectsAfterServerDeath() throws {
        let server = try JackdServer.start()
        defer { server.stop() }
        let host = try JackHost(options: options(server, channels: 2, connectInputs: "^system:capture_",
                                                 connectOutputs: "^system:playback_"),
                                logger: logger, makeEngine: TestEngines.factory(channels: 2))
        host.controls.wet = 0.25
        // One connection made by hand, not by a pattern: it must come back too.
        let expected = try currentConnections(host, server: server, manual: true)
        var reconnectTimes: [Double] = [], detectionTimes: [Double] = []
        func seconds(since start: ContinuousClock.Instant) -> Double {
            let d = start.duration(to: .now)
            return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
        for round in 1...5 {
            server.kill()
            let killed = ContinuousClock.now
            let noticed = try serviceUntil(host, timeout: .seconds(3)) { !host.isConnected }
            detectionTimes.append(seconds(since: killed))
            #expect(noticed, "round \(round): host did not notice the dead server")
            try server.launch()
            let serverUp = ContinuousClock.now
            let restored = try serviceUntil(host, timeout: .seconds(4)) {
                host.isConnected && hostConnections(host) == expected
            }
            let elapsed = seconds(since: serverUp)
            reconnectTimes.append(elapsed)
            #expect(restored, "round \(round): connections \(hostConnections(host)) ≠ \(expected)")
            #expect(elapsed < 2, "round \(round): took \(elapsed) s")
        }
        print("server death noticed after \(detectionTimes.map { String(format: "%.3f", $0) }) s; "
              + "reconnected with connections \(reconnectTimes.map { String(format: "%.3f", $0) }) s after the server answered")
        #expect(host.reconnects == 5)
        #expect(abs(host.controls.wet - 0.25) < 1e-6, "the engine and its controls survive")
        let frames = host.takeReport().framesProcessed
        try serviceUntil(host, timeout: .milliseconds(200)) { false }
        #expect(host.takeReport().framesProcessed > frames, "processing resumed")
    }

    @Test("ports that appear later are connected by pattern; a client that quit is not reconnected when it returns")
    func hotPlug() throws {
        let server = try JackdServer.start()
        defer { server.stop() }
        let host = try JackHost(options: options(server, connectOutputs: "^recorder:"), logger: logger,
                                makeEngine: TestEngines.factory())
        var rig: LoopbackRig? = try LoopbackRig(serverName: server.name, signal: [], recordingCount: 1)
        let patterned = try serviceUntil(host, timeout: .seconds(1)) {
            host.connectionsForTesting()["out_1"] == ["recorder:in"]
        }
        #expect(patterned, "out_1 → recorder:in when the recorder appeared: \(host.connectionsForTesting())")
        host.connectForTesting(source: "player:out", destination: host.inputPortNames[0])
        try serviceUntil(host, timeout: .milliseconds(200)) { false }
        rig = nil   // both clients quit: their ports vanish
        try serviceUntil(host, timeout: .seconds(1)) { host.connectionsForTesting() == ["in_1": [], "out_1": []] }
        #expect(host.connectionsForTesting() == ["in_1": [], "out_1": []])
        rig = try LoopbackRig(serverName: server.name, signal: [], recordingCount: 1)
        try serviceUntil(host, timeout: .seconds(1)) { false }
        // The pattern connects the new recorder; the player that quit is not reconnected.
        #expect(host.connectionsForTesting() == ["in_1": [], "out_1": ["recorder:in"]])
        _ = rig
    }

    @Test("run(signals:): SIGHUP reloads, SIGTERM stops; start-up line and reports are logged")
    func runLoop() throws {
        let server = try JackdServer.start()
        defer { server.stop() }
        let lines = LogCapture()
        var capturing = Logger(label: "sordino.test") { _ in lines }
        capturing.logLevel = .info
        let host = try JackHost(options: options(server), logger: capturing, makeEngine: TestEngines.factory())
        let signals = SignalWaiter.blockTerminationSignals()   // this thread only: no other thread starts now
        let target = pthread_self()
        let sender = Thread {
            Thread.sleep(forTimeInterval: 0.4)
            pthread_kill(target, SIGHUP)
            Thread.sleep(forTimeInterval: 0.4)
            pthread_kill(target, SIGTERM)
        }
        sender.start()
        defer {
            // Never unblock with a signal pending: SIGTERM's default action would end the test run.
            while !sender.isFinished { Thread.sleep(forTimeInterval: 0.01) }
            while signals.wait(timeout: .zero) != nil {}
            SignalWaiter.unblockTerminationSignals()
        }
        let stoppedBy = try host.run(signals: signals, reportInterval: .milliseconds(250))
        #expect(stoppedBy == .terminate)
        #expect(host.engineRebuilds == 1, "SIGHUP rebuilt the engine with the factory")
        let log = lines.messages
        #expect(log.first { $0.hasPrefix("JACK client") } == "JACK client 'sordino' on server '\(server.name)': ports sordino:in_1, sordino:out_1; "
                + "48000 Hz, block 256 samples, latency 512 samples (10.7 ms)")
        #expect(log.contains("SIGHUP: reloading the preset"))
        #expect(log.contains("engine reloaded from test engine: floor -20.0 dB (preset), wet 1.0 (preset), "
                             + "mask exponent 2 (preset), iterations 4 (preset)"))
        #expect(log.contains { $0.hasPrefix("running: xruns ") && $0.contains("callback p50 ") && $0.contains("NaN/Inf replaced")
                               && $0.contains("peak dBFS 1: in ") })
        #expect(log.last == "SIGTERM: stopping")
    }

    @Test("an engine for another rate surfaces as sampleRateMismatch")
    func sampleRateMismatch() throws {
        let server = try JackdServer.start()
        defer { server.stop() }
        // The factory returns a 16 kHz engine for a 48 kHz server…
        #expect(throws: JackHostError.sampleRateMismatch(presetHz: 16_000, serverHz: 48_000)) {
            try JackHost(options: options(server), logger: logger, makeEngine: TestEngines.factory(presetHz: 16_000))
        }
        // A factory failure reaches the caller with its own typed error.
        do {
            _ = try JackHost(options: options(server), logger: logger) { _, _ throws(EngineBuildError) in
                throw EngineBuildError(EngineError.emptyBasis)
            }
            Issue.record("no error")
        } catch {
            guard case let .engineUnavailable(failure) = error else { Issue.record("\(error)"); return }
            #expect(failure.cause as? EngineError == .emptyBasis)
            #expect(error.description == "could not build the engine: \(EngineError.emptyBasis)")
        }
    }

    @Test("ports carry pretty names, order and group metadata")
    func portMetadata() throws {
        let server = try JackdServer.start()
        defer { server.stop() }
        let host = try JackHost(options: options(server, channels: 2), logger: logger,
                                makeEngine: TestEngines.factory(channels: 2))
        let observer = try JackClient(name: "observer", serverName: server.name)
        guard let port = observer.port(named: host.outputPortNames[1]) else {
            Issue.record("no port \(host.outputPortNames[1])")
            return
        }
        #expect(observer.property(.prettyName, of: port) == "Sordino out 2")
        #expect(observer.property(.order, of: port) == "2")
        #expect(observer.property(.portGroup, of: port) == "Sordino out")
        #expect(host.inputPortNames == ["sordino:in_1", "sordino:in_2"])
    }
}

@Suite("JACK host without a server", .inProcessJack)
struct JackHostWithoutServerTests {
    @Test("no server → serverNotRunning with the fix")
    func noServer() {
        let name = "sordino-absent-\(getpid())"
        do {
            _ = try JackHost(options: JackHostOptions(serverName: name), logger: logger, makeEngine: TestEngines.factory())
            Issue.record("no error")
        } catch {
            #expect(error == .serverNotRunning(name: name))
            #expect(error.description == "no JACK server '\(name)' is running. Start one, e.g. "
                    + "`jackd -d alsa -r 48000`, or `jackd -d dummy -r 48000` without a sound card.")
        }
    }

    @Test("an invalid connect pattern is refused before connecting")
    func invalidPattern() {
        #expect {
            try JackHost(options: JackHostOptions(serverName: "unused", connectInputs: "system:(capture"),
                         logger: logger, makeEngine: TestEngines.factory())
        } throws: { error in
            if case .invalidConnectPattern(pattern: "system:(capture", _) = error as? JackHostError { true } else { false }
        }
    }

    @Test("wrap-around pairing of channels and matched ports")
    func pairing() throws {
        let mono = AutoConnectRule.pairs(channelCount: 2, matches: ["mic:out"])
        #expect(mono.map(\.port) == ["mic:out", "mic:out"])
        let many = AutoConnectRule.pairs(channelCount: 2, matches: ["a", "b", "c"])
        #expect(many.map(\.channel) == [0, 1] && many.map(\.port) == ["a", "b"])
        #expect(AutoConnectRule.pairs(channelCount: 3, matches: []).isEmpty)
        let rule = try AutoConnectRule(pattern: "capture_[12]$")
        #expect(rule.matches(["system:capture_1", "system:capture_10", "system:capture_2", "x:capture_3"])
                == ["system:capture_1", "system:capture_2"])
    }

    @Test("histogram buckets bound each duration within 12.5 %", arguments: [0, 1, 7, 8, 9, 15, 16, 100, 999, 12_345, 5_000_000])
    func histogramBuckets(nanoseconds: Int) {
        let bucket = CallbackHistogram.bucket(nanoseconds: nanoseconds)
        let upper = CallbackHistogram.upperBound(bucket: bucket)
        #expect(upper >= nanoseconds)
        #expect(Double(upper) <= Double(nanoseconds) * 1.125 + 1)
        if bucket > 0 { #expect(CallbackHistogram.upperBound(bucket: bucket - 1) < nanoseconds) }
    }

    @Test("the message queue keeps order, cuts long messages and counts what it drops when full")
    func messageQueue() {
        let queue = HostEventQueue()
        for i in 0..<3 { "message \(i)".withCString { queue.post($0) } }
        String(repeating: "x", count: 1000).withCString { queue.post($0) }
        let drained = queue.drain()
        #expect(drained.prefix(3) == ["message 0", "message 1", "message 2"])
        #expect(drained.last?.count == HostEventQueue.slotBytes)
        #expect(queue.drain().isEmpty)
        for i in 0..<(HostEventQueue.capacity + 5) { "m\(i)".withCString { queue.post($0) } }
        #expect(queue.dropped.load(ordering: .relaxed) == 5)
        let full = queue.drain()
        #expect(full.count == HostEventQueue.capacity && full.first == "m0" && full.last == "m\(HostEventQueue.capacity - 1)")
    }

    @Test("percentiles of a known distribution")
    func percentiles() {
        var counts = [Int](repeating: 0, count: CallbackHistogram.bucketCount)
        counts[CallbackHistogram.bucket(nanoseconds: 10_000)] = 98
        counts[CallbackHistogram.bucket(nanoseconds: 50_000)] = 2
        let stats = CallbackStatistics(counts: counts, maximumNanoseconds: 50_000)
        #expect(stats.count == 100)
        #expect(stats.p50Microseconds >= 10 && stats.p50Microseconds < 11.25)
        #expect(stats.p99Microseconds >= 50 && stats.p99Microseconds < 56.25)
        #expect(stats.maximumMicroseconds == 50)
    }
}

// MARK: - Helpers

/// Collects log messages (any thread).
final class LogCapture: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [String] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        lock.withLock { collected.append(event.message.description) }
    }
    var messages: [String] { lock.withLock { collected } }
}

/// Our ports' peers, as the host's own client sees them.
private func hostConnections(_ host: JackHost) -> [String: [String]] {
    host.connectionsForTesting()
}

/// Adds a manual connection (system:capture_2 → in_1) through the host's own client, then
/// returns the connections to expect after every restart.
private func currentConnections(_ host: JackHost, server: JackdServer, manual: Bool) throws -> [String: [String]] {
    if manual { host.connectForTesting(source: "system:capture_2", destination: host.inputPortNames[0]) }
    try serviceUntil(host, timeout: .milliseconds(300)) { false }
    let connections = hostConnections(host)
    #expect(connections == ["in_1": ["system:capture_1", "system:capture_2"], "in_2": ["system:capture_2"],
                            "out_1": ["system:playback_1"], "out_2": ["system:playback_2"]])
    return connections
}
