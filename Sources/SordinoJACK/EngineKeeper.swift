// SPDX-License-Identifier: GPL-3.0-or-later
// The main thread's side of the engines: allocate, hand to the slot, free what comes back, keep their counts.

import SordinoDSP

/// Owns every engine the host has built and not yet freed. A new engine is posted to the
/// `EngineSlot` when the slot can take it (one hand-over at a time; a newer engine replaces one
/// still waiting, which the audio thread never saw); engines the slot lets go of are freed here,
/// their counters added to the totals. Main thread only.
struct EngineKeeper {
    /// The engine most recently built: the one running once hand-overs finish.
    private(set) var newest: UnsafeMutablePointer<Engine>?
    /// Built, not yet posted (the slot was busy).
    private var queued: UnsafeMutablePointer<Engine>?
    private var owned: [UnsafeMutablePointer<Engine>] = []
    private var freed = (nonFinite: 0, clipped: 0, clampedInput: 0)

    /// Engines not yet freed.
    var count: Int { owned.count }

    /// NaN/Inf samples replaced, output samples clamped and input samples clamped, by every engine so far.
    var totals: (nonFinite: Int, clipped: Int, clampedInput: Int) {
        owned.reduce(freed) { sum, engine in
            let t = engine.pointee.telemetry
            return (sum.nonFinite + t.nonFiniteSamples.load(ordering: .relaxed),
                    sum.clipped + t.clippedSamples.load(ordering: .relaxed),
                    sum.clampedInput + t.clampedInputSamples.load(ordering: .relaxed))
        }
    }

    /// Takes `engine` over and starts its hand-over: through the audio thread while a client is
    /// active (`session`), at once otherwise.
    mutating func install(_ engine: consuming Engine, _ context: UnsafeMutablePointer<HostContext>, session: Bool) {
        let fresh = UnsafeMutablePointer<Engine>.allocate(capacity: 1)
        fresh.initialize(to: engine)
        owned.append(fresh)
        newest = fresh
        if let waiting = queued { release([waiting]) }   // never reached the audio thread
        queued = fresh
        pump(context, session: session)
    }

    /// Frees what the audio thread let go of and posts the queued engine if the slot is free.
    mutating func pump(_ context: UnsafeMutablePointer<HostContext>, session: Bool) {
        if let old = context.pointee.slot.collectRetired() { release([old]) }
        guard let waiting = queued else { return }
        if !session {
            context.pointee.worker.waitUntilIdle()
            release(context.pointee.slot.installWithoutAudio(waiting))
            queued = nil
        } else if context.pointee.slot.post(waiting) {
            queued = nil
        }
    }

    /// The client closed mid-hand-over: finish it at once (no audio thread runs now).
    mutating func settle(_ context: UnsafeMutablePointer<HostContext>) {
        var released: [UnsafeMutablePointer<Engine>] = []
        context.pointee.worker.waitUntilIdle()
        context.pointee.slot.settleWithoutAudio(into: &released)
        release(released)
        pump(context, session: false)
    }

    /// Frees every engine (closing; no audio thread runs).
    mutating func removeAll(_ context: UnsafeMutablePointer<HostContext>) {
        context.pointee.worker.waitUntilIdle()
        release(context.pointee.slot.removeAll())
        if let waiting = queued { release([waiting]) }
        queued = nil
        newest = nil
    }

    private mutating func release(_ engines: [UnsafeMutablePointer<Engine>]) {
        for engine in engines {
            freed.nonFinite += engine.pointee.telemetry.nonFiniteSamples.load(ordering: .relaxed)
            freed.clipped += engine.pointee.telemetry.clippedSamples.load(ordering: .relaxed)
            freed.clampedInput += engine.pointee.telemetry.clampedInputSamples.load(ordering: .relaxed)
            owned.removeAll { $0 == engine }
            if newest == engine { newest = nil }
            engine.deinitialize(count: 1)
            engine.deallocate()
        }
    }
}
