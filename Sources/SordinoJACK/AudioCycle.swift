// SPDX-License-Identifier: GPL-3.0-or-later
// The audio cycle, top to bottom: clock, port buffers, capture, engine slot (or the hop worker's rings), levels, clock, cost and counters.

internal import CJACK
import Glibc
import SordinoDSP
import Synchronization

/// JACK's process callback: one cycle on the audio thread. Real-time: no allocation, lock, log
/// or system call; the optimiser checks it (`@_noLocks`) except for the C calls in
/// `cycleCCalls`, which it cannot see into.
@_noLocks
func hostProcessCallback(_ frames: UInt32, _ raw: UnsafeMutableRawPointer?) -> Int32 {
    guard let context = raw?.assumingMemoryBound(to: HostContext.self) else { return 0 }
    let blockLength = Int(frames)
    context.pointee.cycles.wrappingAdd(1, ordering: .relaxed)

    // 1. The clock and this cycle's port buffers.
    let start = cycleCCalls(context, frames: frames, fetchBuffers: true)
    guard start >= 0 else {
        context.pointee.missingBuffers.wrappingAdd(1, ordering: .relaxed)
        return 0
    }
    let inputs = UnsafePointer(context.pointee.inputBuffers)
    let outputs = UnsafePointer(context.pointee.outputBuffers)

    // 2. The input for a learn-noise capture (when armed; before the engine, which may share the
    //    buffer), then the engine (or old and new crossfading during a hand-over): here, or on
    //    the hop worker (`hopWorkerCycle`), which gets this cycle's input and gave its output of
    //    `delay` samples ago.
    context.pointee.capture.write(inputs, blockLength: blockLength)
    if context.pointee.worker.isEnabled {
        let due = context.pointee.worker.push(inputs, blockLength: blockLength)
        let freewheeling = context.pointee.freewheeling.load(ordering: .relaxed)
        if due || freewheeling { _ = cycleCCalls(context, frames: frames, fetchBuffers: false, wakeWorker: true) }
        // Freewheeling (an export: no deadline), wait for the worker, so nothing plays as silence;
        // sleeping between looks, so that a worker of lower priority on the same core gets to run.
        while freewheeling, !context.pointee.worker.hasOutput(blockLength: blockLength) {
            _ = cycleCCalls(context, frames: frames, fetchBuffers: false, pause: true)
        }
        context.pointee.worker.pull(outputs, blockLength: blockLength)
    } else {
        context.pointee.slot.process(inputs: inputs, outputs: outputs, blockLength: blockLength)
    }

    // 3. Levels for status lines and meters: peaks, and running sums of squares.
    for c in 0..<context.pointee.channelCount {
        raisePeak(context.pointee.inputPeaks + c, to: peak(inputs[c], count: blockLength))
        raisePeak(context.pointee.outputPeaks + c, to: peak(UnsafePointer(outputs[c]), count: blockLength))
        addSquares(context.pointee.inputSquares + c, of: inputs[c], count: blockLength)
        addSquares(context.pointee.outputSquares + c, of: UnsafePointer(outputs[c]), count: blockLength)
    }

    // 4. Cost and counts.
    let end = cycleCCalls(context, frames: frames, fetchBuffers: false)
    context.pointee.histogram.record(nanoseconds: end - start)
    let rate = context.pointee.announcedSampleRate.load(ordering: .relaxed)
    if rate > 0, (end - start) &* rate > blockLength &* 1_000_000_000 {   // longer than the period
        context.pointee.overruns.wrappingAdd(1, ordering: .relaxed)
    }
    context.pointee.frames.wrappingAdd(blockLength, ordering: .relaxed)
    return 0
}

/// The hop worker's turn (`HopWorker`), each time it looks: the engine on all input that has
/// arrived, and its time. Returns whether there was any.
@_noLocks
func hopWorkerCycle(_ context: UnsafeMutablePointer<HostContext>) -> Bool {
    let start = cycleCCalls(context, frames: 0, fetchBuffers: false)
    var worked = false
    context.pointee.worker.drain { inputs, outputs, count in
        context.pointee.slot.process(inputs: inputs, outputs: outputs, blockLength: count)
        worked = true
    }
    guard worked else { return false }
    let end = cycleCCalls(context, frames: 0, fetchBuffers: false)
    context.pointee.workerHistogram.record(nanoseconds: end - start)
    return true
}

/// The cycle's C calls, in SordinoJACK's one unsafe-performance site (the project's budget is
/// three: FFTW's execute, a square root, and this). The optimiser cannot see into C, so it cannot
/// prove them real-time safe; they are, by their documentation and source:
/// - `clock_gettime(CLOCK_MONOTONIC)`: a vDSO read, no kernel entry (~20 ns). `ContinuousClock.now`
///   is an opaque runtime call the checker rejects; JACK's frame time only resolves whole samples.
/// - `jack_port_get_buffer` (with `fetchBuffers`): libjack wants it called every cycle; it returns
///   a pointer into shared memory. No lock, no allocation.
/// - `pthread_self()`, once: reads the thread pointer register.
/// - `sem_post` (with `wakeWorker`): wakes the hop worker when it sleeps or JACK freewheels; a
///   futex wake, async-signal-safe, never waits.
/// - `usleep(50)` (with `pause`): only while JACK freewheels, when no cycle has a deadline.
/// Returns the monotonic clock in ns, or −1 when JACK gave no buffer for a port.
@_noLocks @inline(__always)
private func cycleCCalls(_ context: UnsafeMutablePointer<HostContext>, frames: UInt32, fetchBuffers: Bool,
                         wakeWorker: Bool = false, pause: Bool = false) -> Int {
    _unsafePerformance {
        if wakeWorker { sem_post(context.pointee.worker.wake) }
        if pause { usleep(50) }
        if fetchBuffers {
            if context.pointee.processThread.load(ordering: .relaxed) == 0 {
                context.pointee.processThread.store(UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(bitPattern: pthread_self()))),
                                                    ordering: .relaxed)
            }
            for c in 0..<context.pointee.channelCount {
                let ports = context.pointee.ports(c)
                guard let input = ports.input, let output = ports.output,
                      let inputBuffer = jack_port_get_buffer(input, frames),
                      let outputBuffer = jack_port_get_buffer(output, frames) else { return -1 }
                context.pointee.inputBuffers[c] = UnsafePointer(inputBuffer.assumingMemoryBound(to: Float.self))
                context.pointee.outputBuffers[c] = outputBuffer.assumingMemoryBound(to: Float.self)
            }
        }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec &* 1_000_000_000 &+ now.tv_nsec
    }
}

/// Largest |x| of a block (NaN counts as 0).
@_noLocks @inline(__always)
private func peak(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var largest: Float = 0
    for n in 0..<count {
        let a = abs(x[n])
        if a > largest { largest = a }
    }
    return largest
}

/// Adds Σx² of a block (non-finite samples count as 0) to a running Double sum. The audio thread
/// is its only writer, so a load and a store suffice.
@_noLocks @inline(__always)
private func addSquares(_ cell: UnsafeMutablePointer<Atomic<UInt64>>, of x: UnsafePointer<Float>, count: Int) {
    var sum: Float = 0
    for n in 0..<count where x[n].isFinite { sum += x[n] * x[n] }
    let total = Double(bitPattern: cell.pointee.load(ordering: .relaxed)) + Double(sum)
    cell.pointee.store(total.bitPattern, ordering: .relaxed)
}

/// Raises an atomic peak to `value` if it is larger (the main thread resets it to 0).
@_noLocks @inline(__always)
private func raisePeak(_ cell: UnsafeMutablePointer<Atomic<UInt32>>, to value: Float) {
    var current = cell.pointee.load(ordering: .relaxed)
    while value > Float(bitPattern: current) {
        let (exchanged, original) = cell.pointee.compareExchange(expected: current, desired: value.bitPattern, ordering: .relaxed)
        if exchanged { return }
        current = original
    }
}
