// SPDX-License-Identifier: GPL-3.0-or-later
// Counts heap allocations made on the JACK process thread while a JackHost runs live cycles.

import Foundation
import Logging
import MallocInterposerSwift
import SordinoDSP
import SordinoJACK
import SordinoJACKRig
import Synchronization
import TestSupport

/// pthread_self() of the host's process thread and of its hop worker (0: none); the allocation
/// hook compares against them.
private let audioThread = Atomic<UInt>(0)
private let workerThread = Atomic<UInt>(0)
/// Allocations the hook saw on those threads.
private let audioThreadAllocations = Atomic<Int>(0)

/// Runs a one-channel JackHost on a private dummy jackd (48 kHz, period 256) for `seconds`, with a
/// player client feeding a speech-like signal into in_1, and counts every heap allocation made on
/// the process thread meanwhile (other threads — libjack's, this one — are not the callback's).
/// Every half second the host reloads, alternating between two engine shapes, so the hand-over
/// paths (adopting the old engine's state, warming up beside it, crossfading) run on that thread
/// too, and every live control changes (as the control socket changes them), so the ramps, the
/// live noise bound and the level meters run there as well, and learn-noise's capture ring is
/// armed for one second in every two. With `hopWorker` the engines run on the host's hop worker
/// (`--hop-work worker`), whose thread is watched as well. Returns a report line and whether it
/// was allocation-free; nil when jackd is unavailable.
func probeJackCallback(seconds: Int, hopWorker: Bool = false) -> (line: String, clean: Bool)? {
    guard JackdServer.shouldRun else { return nil }
    do {
        let server = try JackdServer.start(sampleRate: 48_000, period: 256)
        defer { server.stop() }
        var logger = Logger(label: "sordino.allocation-probe")
        logger.logLevel = .error
        let basis = Signal.randomBasis(binCount: 769, speechRank: 32, noiseRank: 16, seed: 1)
        let builds = Atomic<Int>(0)
        let options = JackHostOptions(serverName: server.name, hopWorker: hopWorker)
        let host = try JackHost(options: options, logger: logger) { rate, controls throws(EngineBuildError) in
            var c = EngineConfiguration()
            c.sampleRate = rate; c.frameLength = 1536; c.hopLength = 384; c.fftLength = 1536
            c.activationFloor = 0.7; c.adaptiveNoiseRank = 8; c.noiseBoundDecibels = 6; c.spreadsHopWork = !hopWorker
            if builds.wrappingAdd(1, ordering: .relaxed).oldValue % 4 == 3 { c.frameLength = 1024; c.hopLength = 256 }
            do {
                return EngineBuild(engine: try Engine(configuration: c, basis: basis, controls: controls),
                                   defaults: ControlValues(c), commandLine: [], origin: "probe")
            } catch { throw EngineBuildError(error) }
        }
        defer { host.close() }
        let signal = Signal.speechLike(seconds: Double(seconds + 2), sampleRate: 48_000, noiseLevel: 0.1, seed: 3)
        let player = try JackLoopback(serverName: server.name, signal: signal, recordingCount: 1)
        guard player.connect(hostInput: "sordino:in_1", hostOutput: "sordino:out_1") else {
            return ("jack-callback: could not connect the player", false)
        }
        player.arm()
        Thread.sleep(forTimeInterval: 1)                       // warm-up: first cycles, plans, caches
        let thread = host.processThread
        guard thread != 0 else { return ("jack-callback: no process cycle ran", false) }
        audioThread.store(thread, ordering: .relaxed)
        workerThread.store(host.hopWorkerThread, ordering: .relaxed)
        guard !hopWorker || host.hopWorkerThread != 0 else { return ("jack-callback (hop worker): no worker thread", false) }
        let framesBefore = host.takeReport().framesProcessed
        audioThreadAllocations.store(0, ordering: .relaxed)
        MallocInterposerSwift.setAllocationHook { _ in
            let current = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(bitPattern: pthread_self())))
            if current == audioThread.load(ordering: .relaxed)
                || (current != 0 && current == workerThread.load(ordering: .relaxed)) {
                audioThreadAllocations.wrappingAdd(1, ordering: .relaxed)
            }
        }
        MallocInterposerSwift.hook()
        var captured = 0   // learn-noise's capture ring, armed for 1 s of every 2 (the host's thread drains it)
        for step in 0..<(2 * seconds) {
            if step % 4 == 0 {
                host.captureInput(samplesPerChannel: 48_000, progress: { _ in }) { result in
                    if case .success(let input) = result { captured += input.channels[0].count }
                }
            }
            Thread.sleep(forTimeInterval: 0.5)
            host.reload()
            try host.service()   // also takes the meters and publishes the status
            // Every live control, as the control socket sets them (from another thread).
            let controls = host.link.controls
            controls.floorDecibels = step % 2 == 0 ? -30 : -6
            controls.wet = step % 3 == 0 ? 0.5 : 1
            controls.maskExponent = 1 + step % 2
            controls.iterations = 1 + step % 4
            controls.noiseBoundDecibels = step % 3 == 0 ? .some(nil) : .some(Float(step % 7))
            controls.bypass = step % 5 == 4
        }
        MallocInterposerSwift.unhook()
        MallocInterposerSwift.setAllocationHook(nil)
        let frames = host.takeReport().framesProcessed - framesBefore
        let count = audioThreadAllocations.load(ordering: .relaxed)
        let name = hopWorker ? "jack-callback (hop worker)" : "jack-callback"
        let threads = hopWorker ? "the process thread and the hop worker" : "the process thread"
        return ("\(name): \(seconds) s of live cycles, \(frames) samples, \(host.handOvers) engine hand-overs and "
                + "\(captured) samples captured on \(threads): allocations=\(count)",
                count == 0 && frames > 0 && host.handOvers >= seconds && captured > 0)
    } catch {
        return ("\(hopWorker ? "jack-callback (hop worker)" : "jack-callback"): \(error)", false)
    }
}
