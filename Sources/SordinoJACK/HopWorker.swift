// SPDX-License-Identifier: GPL-3.0-or-later
// The hop's work on a thread of its own (`--hop-work worker`): rings between the audio thread and the worker, and the worker's life.

internal import CRealtime
import Foundation
import Glibc
import Synchronization

/// Moves the engine off JACK's process thread. Each cycle the audio thread copies its input into
/// `inputRing` and copies out the worker's output of `delay` samples ago; the worker looks for new
/// input every quarter of the delay (`pollInterval`) and runs the engine slot on whatever has
/// arrived, at a real-time priority one below the audio thread's. The audio thread makes no system
/// call to wake it, except after the worker found nothing for `looksBeforeSleep` looks and went to
/// sleep (no input: the server stopped, or the client is between sessions) and while JACK
/// freewheels. The graph then waits for a copy, as for a pass-through client, never for a
/// solve: the server's cycle deadline is never Sordino's to miss. The price is `delay` samples of
/// latency (reported to JACK), the time the worker has to compute: as many periods as cover the
/// engine's hop and `minimumMargin`, so that it has a whole hop, as the spread engine does (the
/// same latency as spreading when the period divides the hop).
///
/// Positions are absolute sample counts per channel since the host started (a position's slot in
/// a ring is position & mask), so latency stays constant whatever happens: output the worker has
/// not produced in time is played as silence and counted (`lateCycles`), never shifted. If the
/// worker falls more than half a ring behind, it jumps to the present (`skips`).
///
/// Ownership: `written` and the input ring's next slots belong to the audio thread; `processed`,
/// the worker's position and the output ring's next slots to the worker; each publishes its
/// position (releasing) after the samples, and reads the other's (acquiring) before them.
struct HopWorker: ~Copyable {
    /// Samples per channel in each ring: a power of two, more than twice JACK's longest period (8192).
    static let capacity = 32_768
    /// The least time the worker gets to compute what one cycle brought: 2 ms.
    static let minimumMargin: Double = 0.002

    let channelCount: Int
    /// True when the host runs the engine on the worker (`JackHostOptions.hopWorker`).
    let isEnabled: Bool
    private let inputRing: UnsafeMutablePointer<Float>
    private let outputRing: UnsafeMutablePointer<Float>
    /// The worker's views into the rings for one engine call.
    private let inputWindow: UnsafeMutablePointer<UnsafePointer<Float>>
    private let outputWindow: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    /// Samples per channel the audio thread has put into `inputRing`.
    private let written = Atomic<Int>(0)
    /// Samples per channel the worker has put into `outputRing`.
    private let processed = Atomic<Int>(0)
    /// The worker sleeps until the audio thread wakes it (`fallAsleep`, `push`).
    private let asleep = Atomic<Bool>(false)
    /// The worker is inside `drain` (the main thread waits for it to leave before touching the slot).
    private let busy = Atomic<Bool>(false)
    /// Samples between a cycle's input and the output it plays, on top of the engine's latency.
    let delay = Atomic<Int>(0)
    /// Cycles that played silence for output the worker had not produced in time.
    let lateCycles = Atomic<Int>(0)
    /// Times the worker fell half a ring behind and jumped to the present.
    let skips = Atomic<Int>(0)
    /// Set to end the worker thread.
    let stopping = Atomic<Bool>(false)
    /// The worker thread's `pthread_t` (0 until it runs) and whether it has returned.
    let thread = Atomic<UInt>(0)
    let exited = Atomic<Bool>(false)
    /// The worker waits on it for `pollInterval` (or, asleep, until posted): posted by the audio
    /// thread when the worker sleeps or JACK freewheels, and by the main thread to stop it.
    let wake: UnsafeMutablePointer<sem_t>
    /// Looks that found no input, one after the other, before the worker sleeps until woken: 25
    /// (50 ms for speech-48k at 64 frames).
    static let looksBeforeSleep = 25

    init(channelCount: Int, enabled: Bool) {
        self.channelCount = channelCount
        isEnabled = enabled
        let size = enabled ? channelCount * Self.capacity : 1
        inputRing = .allocate(capacity: size)
        inputRing.initialize(repeating: 0, count: size)
        outputRing = .allocate(capacity: size)
        outputRing.initialize(repeating: 0, count: size)
        let placeholder = UnsafeMutablePointer<Float>(bitPattern: MemoryLayout<Float>.alignment)!
        inputWindow = .allocate(capacity: channelCount)
        inputWindow.initialize(repeating: UnsafePointer(placeholder), count: channelCount)
        outputWindow = .allocate(capacity: channelCount)
        outputWindow.initialize(repeating: placeholder, count: channelCount)
        wake = .allocate(capacity: 1)
        sem_init(wake, 0, 0)
    }

    deinit {
        sem_destroy(wake)
        wake.deallocate()
        inputRing.deallocate()
        outputRing.deallocate()
        inputWindow.deallocate()
        outputWindow.deallocate()
    }

    /// `delay` for a period of `blockLength` samples at `rate` Hz and an engine hop of `hopLength`
    /// samples: the smallest multiple of the period that is at least the hop and `minimumMargin`
    /// (the worker has exactly that long for each cycle's input). With 2 ms only (128 samples at 64
    /// frames), a virtual machine's stalls left the worker late in 999 of 0.9 million periods; with
    /// speech-48k's hop (384 samples, 8 ms), in 3 (docs/RELIABILITY.md, "The hop worker").
    static func delay(blockLength: Int, rate: Int, hopLength: Int) -> Int {
        let margin = max(Int((minimumMargin * Double(rate)).rounded(.up)), hopLength)
        let periods = max(1, (margin + blockLength - 1) / max(blockLength, 1))
        return periods * blockLength
    }

    // MARK: - Audio thread

    /// Puts one cycle's input into the ring for the worker. Returns whether to wake the worker:
    /// only when it sleeps (`fallAsleep`). The worker otherwise finds the input itself within a
    /// quarter of the delay: a wake-up is a system call that, on a virtual machine, cost the
    /// callback 6–15 µs (more than the copies) and put it among the clients jackd names for
    /// failed cycles (docs/RELIABILITY.md, "The hop worker").
    @_noLocks
    func push(_ inputs: UnsafePointer<UnsafePointer<Float>>, blockLength: Int) -> Bool {
        let start = written.load(ordering: .relaxed)
        let mask = Self.capacity - 1
        for c in 0..<channelCount {
            let ring = inputRing + c * Self.capacity
            for n in 0..<blockLength { ring[(start + n) & mask] = inputs[c][n] }
        }
        let end = start + blockLength
        // Sequentially consistent with `fallAsleep`: either the worker sees this input, or this
        // sees it asleep and wakes it.
        written.store(end, ordering: .sequentiallyConsistent)
        guard asleep.load(ordering: .sequentiallyConsistent) else { return false }
        return asleep.exchange(false, ordering: .relaxed)
    }

    /// True when the worker has made all the output the next `pull` of `blockLength` samples plays
    /// (call after `push`), or is stopping.
    @_noLocks
    func hasOutput(blockLength: Int) -> Bool {
        processed.load(ordering: .acquiring) >= written.load(ordering: .relaxed) - delay.load(ordering: .relaxed)
            || stopping.load(ordering: .relaxed)
    }

    /// Fills one cycle's output with what the worker made of the input `delay` samples before this
    /// cycle's (call after `push`); silence, counted, for what it has not made yet.
    @_noLocks
    func pull(_ outputs: UnsafePointer<UnsafeMutablePointer<Float>>, blockLength: Int) {
        let end = written.load(ordering: .relaxed)
        let start = end - blockLength - delay.load(ordering: .relaxed)
        let ready = processed.load(ordering: .acquiring)
        let mask = Self.capacity - 1
        var late = false
        for c in 0..<channelCount {
            let ring = outputRing + c * Self.capacity
            for n in 0..<blockLength {
                let position = start + n
                if position >= 0, position < ready {
                    outputs[c][n] = ring[position & mask]
                } else {
                    outputs[c][n] = 0
                    late = late || position >= 0
                }
            }
        }
        if late { lateCycles.wrappingAdd(1, ordering: .relaxed) }
    }

    // MARK: - Worker thread

    /// Nanoseconds between the worker's looks for new input: a quarter of the delay (2 ms for
    /// speech-48k at 64 frames), so input waits at most that long and the worker has at least
    /// three quarters of the delay to compute it; 1 ms before a delay or rate is known.
    func pollInterval(rate: Int) -> Int {
        let delay = delay.load(ordering: .relaxed)
        guard rate > 0, delay > 0 else { return 1_000_000 }
        return max(delay * 1_000_000_000 / (4 * rate), 250_000)
    }

    /// Marks the worker asleep unless input has arrived meanwhile; true if it may now wait until
    /// woken (`push` wakes it on the next input).
    func fallAsleep() -> Bool {
        asleep.store(true, ordering: .sequentiallyConsistent)
        guard written.load(ordering: .sequentiallyConsistent) == processed.load(ordering: .relaxed) else {
            asleep.store(false, ordering: .relaxed)
            return false
        }
        return true
    }

    /// Runs `process` on all input that has arrived, in runs that do not wrap around the rings,
    /// publishing each run's output. Real-time: no allocation, lock or wait.
    @_noLocks
    func drain(_ process: (UnsafePointer<UnsafePointer<Float>>, UnsafePointer<UnsafeMutablePointer<Float>>, Int) -> Void) {
        busy.store(true, ordering: .relaxed)
        defer { busy.store(false, ordering: .releasing) }
        let mask = Self.capacity - 1
        var position = processed.load(ordering: .relaxed)
        while true {
            let end = written.load(ordering: .acquiring)
            if end - position > Self.capacity / 2 {
                // Too far behind: the audio thread is about to overwrite input not yet read.
                // Jump to the present; what was skipped plays as silence.
                for c in 0..<channelCount {
                    let ring = outputRing + c * Self.capacity
                    for n in 0..<Self.capacity { ring[n] = 0 }
                }
                position = end
                processed.store(position, ordering: .releasing)
                skips.wrappingAdd(1, ordering: .relaxed)
                continue
            }
            guard position < end else { return }
            let offset = position & mask
            let count = min(end - position, Self.capacity - offset)
            for c in 0..<channelCount {
                inputWindow[c] = UnsafePointer(inputRing + c * Self.capacity + offset)
                outputWindow[c] = outputRing + c * Self.capacity + offset
            }
            process(UnsafePointer(inputWindow), UnsafePointer(outputWindow), count)
            position += count
            processed.store(position, ordering: .releasing)
        }
    }

    // MARK: - Main thread

    /// True while the worker has input left or is working on it.
    var isBusy: Bool {
        busy.load(ordering: .acquiring) || processed.load(ordering: .acquiring) < written.load(ordering: .acquiring)
    }

    /// Waits (up to 1 s) until the worker has nothing left, so that the slot may be touched
    /// without an audio thread. Only once no client runs: nothing feeds it any more. The worker
    /// finds what the last cycles left within `pollInterval`, woken or not. Returns false if it
    /// was still busy after the second.
    @discardableResult
    func waitUntilIdle() -> Bool {
        guard isEnabled else { return true }
        let deadline = ContinuousClock.now + .seconds(1)
        while isBusy, ContinuousClock.now < deadline { usleep(200) }
        return !isBusy
    }

    /// Silences the output ring (a new client: the first `delay` samples it plays are silence, not
    /// the end of the last session's). Only while no client runs and the worker is idle.
    func clearOutput() {
        guard isEnabled else { return }
        outputRing.update(repeating: 0, count: channelCount * Self.capacity)
    }
}

/// The worker thread's whole life: flush-to-zero as on the audio thread, then, until `stopping` is
/// set, `hopWorkerCycle` every `pollInterval` (or at once when woken), and after
/// `looksBeforeSleep` looks without input, a sleep until the audio thread wakes it (at most 1 s).
func hopWorkerLoop(_ context: UnsafeMutablePointer<HostContext>) {
    CRealtime_enableFlushToZero()
    context.pointee.worker.thread.store(UInt(pthread_self()), ordering: .releasing)
    var emptyLooks = 0
    while !context.pointee.worker.stopping.load(ordering: .acquiring) {
        if emptyLooks >= HopWorker.looksBeforeSleep, context.pointee.worker.fallAsleep() {
            _ = CRealtime_waitOrTimeout(context.pointee.worker.wake, 1_000_000_000)
        } else {
            let rate = context.pointee.announcedSampleRate.load(ordering: .relaxed)
            _ = CRealtime_waitOrTimeout(context.pointee.worker.wake, context.pointee.worker.pollInterval(rate: rate))
        }
        emptyLooks = hopWorkerCycle(context) ? 0 : emptyLooks + 1
    }
    context.pointee.worker.exited.store(true, ordering: .releasing)
}

/// The context pointer, handed to the worker thread.
private struct HostContextReference: @unchecked Sendable {
    let context: UnsafeMutablePointer<HostContext>
}

extension JackHost {
    /// Starts the hop worker's thread (the host's init): it looks for input every `pollInterval`,
    /// runs `hopWorkerCycle`, and ends when `stopping` is set. Flush-to-zero as on the audio thread.
    func startHopWorker(_ context: UnsafeMutablePointer<HostContext>) {
        let reference = HostContextReference(context: context)
        let thread = Thread { hopWorkerLoop(reference.context) }
        thread.name = "sordino-hop-worker"
        thread.start()
    }

    /// Ends the worker thread; false if it has not ended within 1 s (the context must then stay).
    func stopHopWorker(_ context: UnsafeMutablePointer<HostContext>) -> Bool {
        guard context.pointee.worker.isEnabled else { return true }
        context.pointee.worker.stopping.store(true, ordering: .releasing)
        sem_post(context.pointee.worker.wake)
        let deadline = ContinuousClock.now + .seconds(1)
        while !context.pointee.worker.exited.load(ordering: .acquiring) {
            if ContinuousClock.now >= deadline { return false }
            usleep(1000)
        }
        return true
    }

    /// Before a client activates: the worker idle, its output silent, its delay for this period.
    func prepareHopWorker(blockLength: Int, rate: Int) {
        guard context.pointee.worker.isEnabled else { return }
        context.pointee.worker.waitUntilIdle()
        context.pointee.worker.clearOutput()
        context.pointee.worker.delay.store(hopWorkerDelay(blockLength: blockLength, rate: rate), ordering: .relaxed)
    }

    /// The worker's delay for this period and the newest engine's hop.
    func hopWorkerDelay(blockLength: Int, rate: Int) -> Int {
        HopWorker.delay(blockLength: blockLength, rate: rate, hopLength: engines.newest?.pointee.configuration.hopLength ?? 0)
    }

    /// Once a client runs: the worker one real-time priority below the audio thread (none when
    /// the server runs without real-time scheduling), and a log line saying so.
    func scheduleHopWorker(_ client: borrowing JackClient) {
        guard context.pointee.worker.isEnabled else { return }
        let deadline = ContinuousClock.now + .seconds(1)
        var thread = context.pointee.worker.thread.load(ordering: .acquiring)
        while thread == 0, ContinuousClock.now < deadline {
            usleep(1000)
            thread = context.pointee.worker.thread.load(ordering: .acquiring)
        }
        let delay = context.pointee.worker.delay.load(ordering: .relaxed)
        let scheduling: String
        if let priority = client.realTimePriority, thread != 0 {
            var parameters = sched_param(sched_priority: Int32(max(priority - 1, 1)))
            let error = pthread_setschedparam(pthread_t(thread), SCHED_FIFO, &parameters)
            scheduling = error == 0 ? "SCHED_FIFO priority \(parameters.sched_priority)"
                : "normal scheduling (SCHED_FIFO refused: \(String(cString: strerror(error))))"
        } else {
            scheduling = "normal scheduling (the server runs without real-time scheduling)"
        }
        logger.info("hop work on a worker thread at \(scheduling): \(delay) samples of latency for it, which it has to compute each period's input")
    }

    /// The server changed its block length, or a new engine its hop: the worker's delay follows (a
    /// jump in the output, as at any buffer-size change or during the new engine's crossfade) and
    /// JACK hears the new latency.
    func followHopWorkerBlockLength(_ length: Int) {
        guard updateHopWorkerDelay(blockLength: length) else { return }
        context.pointee.latencySamples.store(latencySamples, ordering: .releasing)
        session?.client.recomputeTotalLatencies()
        logger.info("hop worker: \(context.pointee.worker.delay.load(ordering: .relaxed)) samples of latency for it now (total \(latencySamples) samples)")
    }

    /// Sets the worker's delay for a period of `length` and the newest engine's hop; true if it changed.
    @discardableResult
    func updateHopWorkerDelay(blockLength length: Int) -> Bool {
        guard context.pointee.worker.isEnabled, length > 0 else { return false }
        let delay = hopWorkerDelay(blockLength: length, rate: sampleRate)
        guard delay != context.pointee.worker.delay.load(ordering: .relaxed) else { return false }
        context.pointee.worker.delay.store(delay, ordering: .relaxed)
        return true
    }
}
