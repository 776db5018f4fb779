// SPDX-License-Identifier: GPL-3.0-or-later
// The engine the audio thread runs, and the glitch-free hand-over to a new one: adopt or warm up, crossfade, retire.

import SordinoDSP
import Synchronization

/// Holds the running engine and hands over to a new one without a lost sample or a gap.
///
/// The main thread `post`s a new engine; at its next cycle the audio thread takes it and runs old
/// and new side by side on the same input. When the new engine has the old one's shape (channels,
/// frame, hop, FFT) it first adopts the old one's signal state (history, overlap-add, noise
/// trackers), so it continues the same output; otherwise it warms up on the live input for
/// `Engine.warmUpSamples` while the old one is heard. Then the output crossfades linearly from old
/// to new over one hop of the new engine, and the old engine is handed back through `retired`
/// for the main thread to free. Controls live in the host's one `ControlBlock`, so nothing is copied.
///
/// Ownership: `active` and the transition state belong to the audio thread while a client is
/// active; the main thread touches them only when no client is (`installWithoutAudio`). The
/// transition state lives behind a pointer, so the slot itself has no mutable stored property:
/// the audio thread's work on it is not a modifying access of the host's shared context, which
/// the main thread and JACK's other threads read at the same time.
struct EngineSlot: ~Copyable {
    /// Samples per channel run through both engines in one pass (the scratch size).
    static var chunkLength: Int { 512 }

    let channelCount: Int
    /// `UnsafeMutablePointer<Engine>` bit patterns, 0 for none.
    private let active = Atomic<Int>(0)
    /// Posted by the main thread, taken by the audio thread at a cycle start.
    private let incoming = Atomic<Int>(0)
    /// The engine a finished hand-over let go of, for the main thread to free.
    private let retired = Atomic<Int>(0)
    /// Completed hand-overs.
    let handOvers = Atomic<Int>(0)

    /// The hand-over in progress (audio thread).
    private struct Transition {
        var inTransition = false
        /// Samples the new engine still runs unheard.
        var warmUpLeft = 0
        /// Samples of the crossfade done, of `fadeLength`.
        var fadePosition = 0
        var fadeLength = 1
    }

    private let transition: UnsafeMutablePointer<Transition>
    private let scratch: UnsafeMutablePointer<Float>
    private let scratchPointers: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    private let inputWindow: UnsafeMutablePointer<UnsafePointer<Float>>
    private let outputWindow: UnsafeMutablePointer<UnsafeMutablePointer<Float>>

    init(channelCount: Int) {
        self.channelCount = channelCount
        transition = .allocate(capacity: 1)
        transition.initialize(to: Transition())
        scratch = .allocate(capacity: channelCount * Self.chunkLength)
        scratch.initialize(repeating: 0, count: channelCount * Self.chunkLength)
        scratchPointers = .allocate(capacity: channelCount)
        for c in 0..<channelCount { (scratchPointers + c).initialize(to: scratch + c * Self.chunkLength) }
        let placeholder = UnsafeMutablePointer<Float>(bitPattern: MemoryLayout<Float>.alignment)!
        inputWindow = .allocate(capacity: channelCount)
        inputWindow.initialize(repeating: UnsafePointer(placeholder), count: channelCount)
        outputWindow = .allocate(capacity: channelCount)
        outputWindow.initialize(repeating: placeholder, count: channelCount)
    }

    deinit {
        transition.deinitialize(count: 1)
        transition.deallocate()
        scratch.deallocate()
        scratchPointers.deallocate()
        inputWindow.deallocate()
        outputWindow.deallocate()
    }

    // MARK: - Audio thread

    /// Runs the engine (or both, during a hand-over) on one block; silence when there is none.
    @_noLocks
    func process(inputs: UnsafePointer<UnsafePointer<Float>>,
                          outputs: UnsafePointer<UnsafeMutablePointer<Float>>, blockLength: Int) {
        guard let old = Self.engine(active.load(ordering: .relaxed)) else {
            for c in 0..<channelCount { for n in 0..<blockLength { outputs[c][n] = 0 } }
            return
        }
        guard let new = Self.engine(incoming.load(ordering: .acquiring)) else {
            old.pointee.process(inputs: inputs, outputs: outputs, blockLength: blockLength)
            return
        }
        if !transition.pointee.inTransition { begin(from: old, to: new) }
        var done = 0
        while done < blockLength {
            let n = min(Self.chunkLength, blockLength - done)
            for c in 0..<channelCount {
                inputWindow[c] = inputs[c] + done
                outputWindow[c] = outputs[c] + done
            }
            // The new engine first: input and output may share memory, and the old one overwrites it.
            new.pointee.process(inputs: UnsafePointer(inputWindow), outputs: UnsafePointer(scratchPointers), blockLength: n)
            old.pointee.process(inputs: UnsafePointer(inputWindow), outputs: UnsafePointer(outputWindow), blockLength: n)
            mix(count: n)
            done += n
        }
        let t = transition.pointee
        if t.warmUpLeft == 0, t.fadePosition >= t.fadeLength { finish(old: old, new: new) }
    }

    @_noLocks
    private func begin(from old: UnsafeMutablePointer<Engine>, to new: UnsafeMutablePointer<Engine>) {
        var warmUp = 0
        if new.pointee.canAdoptSignalState(from: old.pointee) {
            new.pointee.adoptSignalState(from: &old.pointee)
        } else {
            warmUp = new.pointee.warmUpSamples
        }
        transition.pointee = Transition(inTransition: true, warmUpLeft: warmUp, fadePosition: 0,
                                        fadeLength: new.pointee.configuration.hopLength)
    }

    /// Output ← old until warmed up, then (1 − r)·old + r·new with r rising linearly to 1, then new.
    @_noLocks
    private func mix(count: Int) {
        var t = transition.pointee
        defer { transition.pointee = t }
        for n in 0..<count {
            if t.warmUpLeft > 0 {
                t.warmUpLeft -= 1
                continue
            }
            if t.fadePosition < t.fadeLength {
                t.fadePosition += 1
                let r = Float(t.fadePosition) / Float(t.fadeLength)
                for c in 0..<channelCount {
                    outputWindow[c][n] = (1 - r) * outputWindow[c][n] + r * scratchPointers[c][n]
                }
            } else {
                for c in 0..<channelCount { outputWindow[c][n] = scratchPointers[c][n] }
            }
        }
    }

    @_noLocks
    private func finish(old: UnsafeMutablePointer<Engine>, new: UnsafeMutablePointer<Engine>) {
        transition.pointee.inTransition = false
        active.store(Int(bitPattern: new), ordering: .relaxed)
        retired.store(Int(bitPattern: old), ordering: .releasing)
        incoming.store(0, ordering: .releasing)
        handOvers.wrappingAdd(1, ordering: .relaxed)
    }

    @_noLocks @inline(__always)
    private static func engine(_ bits: Int) -> UnsafeMutablePointer<Engine>? { UnsafeMutablePointer(bitPattern: bits) }

    // MARK: - Main thread

    /// Offers `engine` to the audio thread; false while the previous hand-over is still running
    /// or its old engine has not been collected (call `collectRetired()`, then try again).
    func post(_ engine: UnsafeMutablePointer<Engine>) -> Bool {
        guard retired.load(ordering: .acquiring) == 0 else { return false }
        return incoming.compareExchange(expected: 0, desired: Int(bitPattern: engine), ordering: .acquiringAndReleasing).exchanged
    }

    /// The engine the last hand-over let go of, once; the audio thread no longer touches it.
    func collectRetired() -> UnsafeMutablePointer<Engine>? {
        Self.engine(retired.exchange(0, ordering: .acquiringAndReleasing))
    }

    /// True while a posted engine has not fully taken over.
    var handOverPending: Bool { incoming.load(ordering: .acquiring) != 0 }

    /// Makes `engine` the running one at once, carrying the signal state over when the shapes
    /// allow; only while no client is active (no audio thread). Returns the engines let go of
    /// (the previous one, and one left mid-hand-over when the server went away).
    func installWithoutAudio(_ engine: UnsafeMutablePointer<Engine>) -> [UnsafeMutablePointer<Engine>] {
        var released: [UnsafeMutablePointer<Engine>] = []
        settleWithoutAudio(into: &released)
        if let old = Self.engine(active.load(ordering: .relaxed)) {
            if engine.pointee.canAdoptSignalState(from: old.pointee) { engine.pointee.adoptSignalState(from: &old.pointee) }
            released.append(old)
        }
        active.store(Int(bitPattern: engine), ordering: .relaxed)
        return released
    }

    /// Finishes an interrupted hand-over at once (no audio thread runs): the newer engine stays.
    func settleWithoutAudio(into released: inout [UnsafeMutablePointer<Engine>]) {
        if let old = collectRetired() { released.append(old) }
        if let new = Self.engine(incoming.exchange(0, ordering: .acquiringAndReleasing)) {
            if let old = Self.engine(active.load(ordering: .relaxed)) { released.append(old) }
            active.store(Int(bitPattern: new), ordering: .relaxed)
        }
        transition.pointee.inTransition = false
    }

    /// Takes every engine out (closing the host; no audio thread runs).
    func removeAll() -> [UnsafeMutablePointer<Engine>] {
        var released: [UnsafeMutablePointer<Engine>] = []
        settleWithoutAudio(into: &released)
        if let old = Self.engine(active.exchange(0, ordering: .relaxed)) { released.append(old) }
        return released
    }
}
