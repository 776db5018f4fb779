// SPDX-License-Identifier: GPL-3.0-or-later
// The engine slot's hand-over between a main thread and an audio thread of our own (no libjack): what ThreadSanitizer checks.

import Foundation
@testable import SordinoJACK
import SordinoDSP
import Synchronization
import Testing
import TestSupport

/// jack2's libjack ends its client threads with pthread_cancel, which ThreadSanitizer cannot follow
/// (it aborts with "thread finished with ignores enabled"), so `make sanitize` checks the
/// cross-thread protocols here, with threads of the test's own: the audio thread runs
/// `EngineSlot.process` block after block while the main thread posts engines, collects the
/// retired ones and writes controls, as `JackHost` does.
struct ThreadedSlotTests {
    /// Set by the audio thread when its last block is done.
    final class Flag: Sendable {
        let value = Atomic<Bool>(false)
    }

    /// A test engine on the heap, as the host keeps them, following `controls`.
    static func makeEngine(_ controls: ControlBlock) throws -> UnsafeMutablePointer<Engine> {
        let engine = UnsafeMutablePointer<Engine>.allocate(capacity: 1)
        engine.initialize(to: try Engine(configuration: TestEngines.configuration(), basis: TestEngines.basis,
                                         controls: controls))
        return engine
    }

    static func free(_ engine: UnsafeMutablePointer<Engine>) { engine.deinitialize(count: 1); engine.deallocate() }

    /// Starts the test's audio thread: `cycle` gets each `block` of `input` and the same stretch of
    /// `output` (and where it starts), one block after the other; `done` is set after the last.
    static func startAudioThread(_ input: [Float], output: UnsafeMutablePointer<Float>, block: Int, done: Flag,
                                 cycle: @escaping @Sendable (UnsafePointer<UnsafePointer<Float>>,
                                                             UnsafePointer<UnsafeMutablePointer<Float>>, Int) -> Void) {
        nonisolated(unsafe) let audioOutput = output
        let audio = Thread {
            input.withUnsafeBufferPointer { x in
                for start in stride(from: 0, to: input.count, by: block) {
                    let inputs = [UnsafePointer<Float>(x.baseAddress! + start)]
                    let outputs = [audioOutput + start]
                    cycle(inputs, outputs, start)
                }
            }
            done.value.store(true, ordering: .releasing)
        }
        audio.start()
    }

    /// 20 engines posted while another thread processes 2 s of a sine at 48 kHz in 64-sample
    /// blocks: every hand-over completes, every retired engine comes back once, and the output
    /// equals an uninterrupted engine's within 2e-4 (the hand-over adopts the signal state; the live
    /// floor differs by 1e-3 dB between posts).
    @Test func postsWhileAnotherThreadProcesses() throws {
        let count = 96_000, block = 64
        let input = Signal.sine(count: count, frequency: 441, sampleRate: 48_000, amplitude: 0.3)
        let controls = ControlBlock(TestEngines.configuration())
        let slot = UnsafeMutablePointer<EngineSlot>.allocate(capacity: 1)
        slot.initialize(to: EngineSlot(channelCount: 1))
        defer { slot.deinitialize(count: 1); slot.deallocate() }
        func makeEngine() throws -> UnsafeMutablePointer<Engine> { try Self.makeEngine(controls) }
        for old in slot.pointee.installWithoutAudio(try makeEngine()) { Self.free(old) }

        let output = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { output.deallocate() }
        let done = Flag()
        nonisolated(unsafe) let audioSlot = slot
        Self.startAudioThread(input, output: output, block: block, done: done) { inputs, outputs, start in
            audioSlot.pointee.process(inputs: inputs, outputs: outputs, blockLength: block)
            if start % (block * 32) == 0 { usleep(200) }   // let the main thread in
        }
        var posted = 0, retired = 0
        let floor = TestEngines.configuration().floorDecibels
        while !done.value.load(ordering: .acquiring) {
            if let old = slot.pointee.collectRetired() { Self.free(old); retired += 1 }
            if posted < 20, !slot.pointee.handOverPending {
                let engine = try makeEngine()
                if slot.pointee.post(engine) {
                    posted += 1
                    controls.floorDecibels = floor - Float(posted % 2) * 1e-3
                } else {
                    Self.free(engine)
                }
            }
            usleep(500)
        }
        if let old = slot.pointee.collectRetired() { Self.free(old); retired += 1 }
        var released: [UnsafeMutablePointer<Engine>] = []
        slot.pointee.settleWithoutAudio(into: &released)
        retired += released.count
        for engine in released { Self.free(engine) }
        for engine in slot.pointee.removeAll() { Self.free(engine) }

        #expect(posted == 20, "only \(posted) engines posted in 2 s of audio")
        #expect(retired == posted, "\(retired) engines came back of \(posted) posted")
        let handOvers = slot.pointee.handOvers.load(ordering: .relaxed)
        #expect(handOvers >= posted - 1 && handOvers <= posted, "\(handOvers) hand-overs for \(posted) posts")
        let reference = try TestEngines.offline(input, blockLength: block)
        let recording = Array(UnsafeBufferPointer(start: output, count: count))
        let difference = maxAbsDifference(recording[...], reference[...])
        #expect(difference < 2e-4, "max |handed over − uninterrupted| = \(difference)")
    }

    /// The input of the last cycles before a client closes is processed without a wake-up, so the
    /// main thread never waits out `waitUntilIdle`'s second (until 2026-11-30 the worker only ran
    /// when woken, every half delay, and `sordino run --hop-work worker` took 4 s to stop).
    @Test func hopWorkerDrainsWhatTheLastCyclesLeft() throws {
        let block = 64
        let input = Signal.sine(count: 3 * block, frequency: 441, sampleRate: 48_000, amplitude: 0.3)
        let controls = ControlBlock(TestEngines.configuration())
        let context = UnsafeMutablePointer<HostContext>.allocate(capacity: 1)
        context.initialize(to: HostContext(channelCount: 1, hopWorker: true))
        defer { context.deinitialize(count: 1); context.deallocate() }
        for old in context.pointee.slot.installWithoutAudio(try Self.makeEngine(controls)) { Self.free(old) }
        context.pointee.announcedSampleRate.store(48_000, ordering: .relaxed)
        context.pointee.worker.delay.store(HopWorker.delay(blockLength: block, rate: 48_000, hopLength: TestEngines.configuration().hopLength), ordering: .relaxed)
        nonisolated(unsafe) let shared = context
        let worker = Thread { hopWorkerLoop(shared) }
        worker.start()
        var woken = 0
        input.withUnsafeBufferPointer { samples in
            for b in 0..<3 {
                var channel = UnsafePointer(samples.baseAddress! + b * block)
                withUnsafePointer(to: &channel) { inputs in
                    if context.pointee.worker.push(inputs, blockLength: block) { sem_post(context.pointee.worker.wake); woken += 1 }
                }
            }
        }
        let idle = context.pointee.worker.waitUntilIdle()
        context.pointee.worker.stopping.store(true, ordering: .releasing)
        sem_post(context.pointee.worker.wake)
        while !context.pointee.worker.exited.load(ordering: .acquiring) { usleep(1000) }
        for engine in context.pointee.slot.removeAll() { Self.free(engine) }
        #expect(idle, "the worker left input unprocessed for a second (woken \(woken) times)")
    }

    /// The hop worker's rings (`--hop-work worker`) between an audio thread of the test's and the
    /// worker's own loop, with engines posted meanwhile: 1.5 s of a sine in 64-sample blocks, the
    /// audio thread waking the worker only when `push` finds it asleep (the worker otherwise looks
    /// every `pollInterval`) and waiting for it, so no period is late and the output is exact: the
    /// uninterrupted engine's, `delay` samples later, within the hand-overs' 2e-4.
    @Test func hopWorkerRingsBetweenTwoThreads() throws {
        let count = 72_000, block = 64
        let input = Signal.sine(count: count, frequency: 441, sampleRate: 48_000, amplitude: 0.3)
        let controls = ControlBlock(TestEngines.configuration())
        let context = UnsafeMutablePointer<HostContext>.allocate(capacity: 1)
        context.initialize(to: HostContext(channelCount: 1, hopWorker: true))
        defer { context.deinitialize(count: 1); context.deallocate() }
        func makeEngine() throws -> UnsafeMutablePointer<Engine> { try Self.makeEngine(controls) }
        for old in context.pointee.slot.installWithoutAudio(try makeEngine()) { Self.free(old) }
        let delay = HopWorker.delay(blockLength: block, rate: 48_000, hopLength: TestEngines.configuration().hopLength)
        context.pointee.worker.delay.store(delay, ordering: .relaxed)

        nonisolated(unsafe) let shared = context
        let worker = Thread { hopWorkerLoop(shared) }
        worker.start()
        let output = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { output.deallocate() }
        let done = Flag()
        Self.startAudioThread(input, output: output, block: block, done: done) { inputs, outputs, _ in
            if shared.pointee.worker.push(inputs, blockLength: block) { sem_post(shared.pointee.worker.wake) }
            while !shared.pointee.worker.hasOutput(blockLength: block) { usleep(20) }
            shared.pointee.worker.pull(outputs, blockLength: block)
        }
        var posted = 0
        while !done.value.load(ordering: .acquiring) {
            if let old = context.pointee.slot.collectRetired() { Self.free(old) }
            if posted < 10, !context.pointee.slot.handOverPending {
                let engine = try makeEngine()
                if context.pointee.slot.post(engine) { posted += 1 } else { Self.free(engine) }
            }
            usleep(2000)
        }
        context.pointee.worker.waitUntilIdle()
        context.pointee.worker.stopping.store(true, ordering: .releasing)
        sem_post(context.pointee.worker.wake)
        while !context.pointee.worker.exited.load(ordering: .acquiring) { usleep(1000) }
        if let old = context.pointee.slot.collectRetired() { Self.free(old) }
        var released: [UnsafeMutablePointer<Engine>] = []
        context.pointee.slot.settleWithoutAudio(into: &released)
        for engine in released + context.pointee.slot.removeAll() { Self.free(engine) }

        #expect(posted >= 5, "only \(posted) engines posted")
        #expect(context.pointee.worker.lateCycles.load(ordering: .relaxed) == 0)
        #expect(context.pointee.worker.skips.load(ordering: .relaxed) == 0)
        let reference = try TestEngines.offline(input, blockLength: block)
        let recording = Array(UnsafeBufferPointer(start: output, count: count))
        #expect(recording[..<delay].allSatisfy { $0 == 0 })
        let difference = maxAbsDifference(recording[delay...], reference[..<(count - delay)])
        #expect(difference < 2e-4, "max |worker output − uninterrupted engine, delayed| = \(difference)")
    }
}
