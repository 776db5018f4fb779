// SPDX-License-Identifier: GPL-3.0-or-later
// The hop worker (`--hop-work worker`) against a real jackd: the offline engine's output, delayed by the reported latency; silence, counted, when late.

import Foundation
@testable import SordinoJACK
import TestSupport
import Testing

@Suite("hop worker: the engine off JACK's thread")
struct HopWorkerDelayTests {
    @Test("the worker's delay is the smallest whole number of periods that covers the hop and 2 ms",
          arguments: [(64, 48_000, 384, 384), (256, 48_000, 384, 512), (64, 48_000, 128, 128), (32, 48_000, 64, 96),
                      (1024, 48_000, 384, 1024), (64, 16_000, 128, 128), (16, 16_000, 0, 32), (1, 48_000, 0, 96)])
    func delay(blockLength: Int, rate: Int, hopLength: Int, expected: Int) {
        #expect(HopWorker.delay(blockLength: blockLength, rate: rate, hopLength: hopLength) == expected)
    }
}

extension JackHostTests {
@Suite("hop worker against a real jackd")
struct HopWorkerHostTests {
    /// Period 1024 (21 ms): the test servers run without real-time scheduling, so the worker
    /// shares the machine with the parallel suite; a long period gives it a long margin.
    @Test("output is the offline engine's, delayed by the worker's one period (it covers the hop); the reported latency is the measured delay")
    func matchesOfflineEngineDelayed() throws {
        let server = try JackdServer.start(period: 1024, realtime: true)   // the worker's delay: one period
        defer { server.stop() }
        var o = options(server)
        o.hopWorker = true
        let host = try JackHost(options: o, logger: logger, makeEngine: TestEngines.factory())
        #expect(host.hopWorkerThread != 0)
        let d = 1024
        #expect(host.latencySamples == 512 + d, "the frame plus one period")

        let input = Signal.whiteNoise(count: 48_000, amplitude: 0.3, seed: 11)
        let (recording, rig) = try playThrough(host, server: server, signal: input, count: input.count)
        let offline = try TestEngines.offline(input, blockLength: 1024)
        let report = host.takeReport()
        let late = report.worker?.lateCycles ?? -1
        // Every sample is the offline engine's 256 samples later, except in a period the worker had
        // not finished in time (the test server runs without real-time scheduling, so on a loaded
        // machine that can happen): such a period is silence, never shifted or repeated output.
        var differing = 0, differingNonSilent = 0
        for n in d..<input.count where abs(recording[n] - offline[n - d]) >= 1e-6 {
            differing += 1
            if recording[n] != 0 { differingNonSilent += 1 }
        }
        // (Under CI's parallel load a worker without real-time scheduling can be late; the bound
        // below only catches a worker that does not keep up at all.)
        #expect(recording[..<d].allSatisfy { $0 == 0 }, "the worker's delay starts as silence")
        #expect(differingNonSilent == 0, "\(differingNonSilent) samples differ and are not silence")
        #expect(differing <= late * 1024, "\(differing) samples differ; \(late) late periods")
        #expect(differing < input.count / 2, "\(differing) of \(input.count) samples differ; \(late) late periods")
        print("hop worker (test engine, debug or release as built): \(late) late periods, \(report.worker?.skips ?? -1) skips; "
              + "worker p50 \(report.worker?.cost.p50Microseconds ?? -1) µs, p99 \(report.worker?.cost.p99Microseconds ?? -1) µs; "
              + "callback p50 \(report.callback.p50Microseconds) µs, p99 \(report.callback.p99Microseconds) µs")
        #expect((report.worker?.cost.count ?? 0) > 0, "the worker's runs are timed")

        // JACK hears the same latency: the output port's capture latency is the engine's plus the worker's.
        let capture = rig.latencyRange(of: host.outputPortNames[0], .capture)
        #expect(capture == (512 + d)...(512 + d))
    }

    @Test("impulses come out exactly the reported latency later; a new period changes the delay and the report")
    func impulseDelayAndPeriodChange() throws {
        let server = try JackdServer.start(period: 1024, realtime: true)
        defer { server.stop() }
        var o = options(server)
        o.hopWorker = true
        let host = try JackHost(options: o, logger: logger, makeEngine: TestEngines.factory(wet: 0))
        // wet 0: the output is the input delayed by the latency, or silence in a late period.
        let impulses = stride(from: 1000, to: 24_000, by: 1000).map { $0 }
        var signal = [Float](repeating: 0, count: 24_576)
        for at in impulses { signal[at] = 1 }
        let (recording, _) = try playThrough(host, server: server, signal: signal, count: signal.count)
        let latency = host.latencySamples
        let arrived = impulses.filter { recording[$0 + latency] == 1 }
        let elsewhere = recording.indices.filter { recording[$0] != 0 && !impulses.contains($0 - latency) }
        #expect(elsewhere.isEmpty, "output at \(elsewhere.prefix(5)), not \(latency) samples after an impulse")
        #expect(arrived.count * 2 >= impulses.count, "\(arrived.count) of \(impulses.count) impulses arrived on time")

        let rig = try LoopbackRig(serverName: server.name, signal: [], recordingCount: 1)
        #expect(rig.setBlockLength(64))
        try serviceUntil(host, timeout: .seconds(2)) { host.blockLength == 64 }
        #expect(host.latencySamples == 512 + 128, "two periods of 64 cover the hop of 128 samples")
        try serviceUntil(host, timeout: .seconds(2)) {
            rig.latencyRange(of: host.outputPortNames[0], .capture) == 640...640
        }
        #expect(rig.latencyRange(of: host.outputPortNames[0], .capture) == 640...640)
    }
}
}
