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
        func makeEngine() throws -> UnsafeMutablePointer<Engine> {
            let engine = UnsafeMutablePointer<Engine>.allocate(capacity: 1)
            engine.initialize(to: try Engine(configuration: TestEngines.configuration(), basis: TestEngines.basis,
                                             controls: controls))
            return engine
        }
        func free(_ engine: UnsafeMutablePointer<Engine>) { engine.deinitialize(count: 1); engine.deallocate() }
        for old in slot.pointee.installWithoutAudio(try makeEngine()) { free(old) }

        let output = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { output.deallocate() }
        let done = Flag()
        nonisolated(unsafe) let audioSlot = slot, audioOutput = output
        let audio = Thread { [input] in
            input.withUnsafeBufferPointer { x in
                var inputs = [UnsafePointer<Float>(x.baseAddress!)]
                var outputs = [audioOutput]
                for start in stride(from: 0, to: count, by: block) {
                    inputs[0] = UnsafePointer(x.baseAddress! + start)
                    outputs[0] = audioOutput + start
                    audioSlot.pointee.process(inputs: inputs, outputs: outputs, blockLength: block)
                    if start % (block * 32) == 0 { usleep(200) }   // let the main thread in
                }
            }
            done.value.store(true, ordering: .releasing)
        }
        audio.start()
        var posted = 0, retired = 0
        let floor = TestEngines.configuration().floorDecibels
        while !done.value.load(ordering: .acquiring) {
            if let old = slot.pointee.collectRetired() { free(old); retired += 1 }
            if posted < 20, !slot.pointee.handOverPending {
                let engine = try makeEngine()
                if slot.pointee.post(engine) {
                    posted += 1
                    controls.floorDecibels = floor - Float(posted % 2) * 1e-3
                } else {
                    free(engine)
                }
            }
            usleep(500)
        }
        if let old = slot.pointee.collectRetired() { free(old); retired += 1 }
        var released: [UnsafeMutablePointer<Engine>] = []
        slot.pointee.settleWithoutAudio(into: &released)
        retired += released.count
        for engine in released { free(engine) }
        for engine in slot.pointee.removeAll() { free(engine) }

        #expect(posted == 20, "only \(posted) engines posted in 2 s of audio")
        #expect(retired == posted, "\(retired) engines came back of \(posted) posted")
        let handOvers = slot.pointee.handOvers.load(ordering: .relaxed)
        #expect(handOvers >= posted - 1 && handOvers <= posted, "\(handOvers) hand-overs for \(posted) posts")
        let reference = try TestEngines.offline(input, blockLength: block)
        let recording = Array(UnsafeBufferPointer(start: output, count: count))
        let difference = maxAbsDifference(recording[...], reference[...])
        #expect(difference < 2e-4, "max |handed over − uninterrupted| = \(difference)")
    }
}
