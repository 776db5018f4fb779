// SPDX-License-Identifier: GPL-3.0-or-later
// The state JACK's threads share with the main thread: port tables, the engine slot, atomics.

import Glibc
import SordinoDSP
import Synchronization

/// Everything a JACK callback touches, at one stable address passed as JACK's context pointer:
/// no globals, no class, no reference counting on the audio thread.
///
/// Allocated by `JackHost` before its first client opens and freed after its last client closes,
/// so it outlives every callback. The buffer tables and the slot's transition state belong to the
/// audio thread; all other cross-thread state is atomic, the port tables included (the main thread
/// clears them when it gives a frozen server up while that server's client, still open, may run
/// its latency callback). JACK's non-audio callbacks only store into atomics here;
/// `JackHost.service()` acts.
struct HostContext: ~Copyable {
    /// Audio channels: ports `in_1…in_N`, `out_1…out_N`.
    let channelCount: Int
    /// `jack_port_t *` bit patterns of `in_c` and `out_c`, 0 while no client is open: use
    /// `ports(_:)` and `setPorts(_:input:output:)`.
    private let inputPorts: UnsafeMutablePointer<Atomic<Int>>
    private let outputPorts: UnsafeMutablePointer<Atomic<Int>>
    /// Per-cycle port buffers, filled at the start of each cycle (audio thread only).
    let inputBuffers: UnsafeMutablePointer<UnsafePointer<Float>>
    let outputBuffers: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    /// The running engine and the hand-over to the next.
    let slot: EngineSlot
    /// Live input for learn-noise, while a capture is armed.
    let capture: CaptureRing
    /// The rings to and from the hop worker (unused unless enabled).
    let worker: HopWorker

    /// Process callbacks that have begun (the main loop's sign of life of the server).
    let cycles = Atomic<Int>(0)
    /// Samples per channel processed by all engines, across reconnects.
    let frames = Atomic<Int>(0)
    /// Cycles whose port buffers JACK could not give (never seen; counted to notice it).
    let missingBuffers = Atomic<Int>(0)
    /// Process-callback durations.
    let histogram = CallbackHistogram()
    /// The hop worker's durations, one per wake-up (`hopWorkerCycle`); empty without it.
    let workerHistogram = CallbackHistogram()
    /// Callbacks that took longer than the period (block length at the announced rate) since the
    /// host started: each one is an xrun of Sordino's own making, whatever else the server saw.
    let overruns = Atomic<Int>(0)
    /// Per channel, the largest |sample| of `in_c` and `out_c` since the main thread last took it
    /// (bit patterns of Floats).
    let inputPeaks: UnsafeMutablePointer<Atomic<UInt32>>
    let outputPeaks: UnsafeMutablePointer<Atomic<UInt32>>
    /// Per channel, Σx² of every sample of `in_c` and `out_c` since the host started (bit patterns
    /// of Doubles; only the audio thread writes them, the main thread reads differences).
    let inputSquares: UnsafeMutablePointer<Atomic<UInt64>>
    let outputSquares: UnsafeMutablePointer<Atomic<UInt64>>

    /// Latency added between `in_c` and `out_c`, in samples, reported by the latency callback.
    let latencySamples = Atomic<Int>(0)
    /// Set by JACK's shutdown callbacks: the server is gone (or kicked the client out).
    let serverShutDown = Atomic<Bool>(false)
    /// The `jack_status_t` bits the info-shutdown callback received (0 from the plain one).
    let shutdownStatus = Atomic<UInt32>(0)
    /// The server's block length as last announced by the buffer-size callback (0: none yet).
    let announcedBlockLength = Atomic<Int>(0)
    /// The server's sample rate as last announced by the sample-rate callback (0: none yet).
    let announcedSampleRate = Atomic<Int>(0)
    /// A port appeared or disappeared somewhere in the graph (hot-plug auto-connect).
    let portsChanged = Atomic<Bool>(false)
    /// A connection to or from some port changed (remember ours for reconnects).
    let connectionsChanged = Atomic<Bool>(false)
    /// Xruns the server reported since the host started.
    let xruns = Atomic<Int>(0)
    /// True while the server freewheels.
    let freewheeling = Atomic<Bool>(false)
    /// Flush-to-zero as JACK's thread-init callback left it (true once the audio thread has started).
    let flushToZeroSet = Atomic<Bool>(false)
    /// pthread_self() of the thread that runs the process callback (0 until the first cycle), so
    /// tools can attribute work, e.g. heap allocations, to the audio thread.
    let processThread = Atomic<UInt>(0)

    init(channelCount: Int, hopWorker: Bool = false) {
        self.channelCount = channelCount
        inputPorts = .allocate(capacity: channelCount)
        outputPorts = .allocate(capacity: channelCount)
        // Placeholders until the first cycle fetches real buffers; never read before that.
        inputBuffers = .allocate(capacity: channelCount)
        outputBuffers = .allocate(capacity: channelCount)
        let placeholder = UnsafeMutablePointer<Float>(bitPattern: MemoryLayout<Float>.alignment)!
        inputBuffers.initialize(repeating: UnsafePointer(placeholder), count: channelCount)
        outputBuffers.initialize(repeating: placeholder, count: channelCount)
        inputPeaks = .allocate(capacity: channelCount)
        outputPeaks = .allocate(capacity: channelCount)
        inputSquares = .allocate(capacity: channelCount)
        outputSquares = .allocate(capacity: channelCount)
        for c in 0..<channelCount {
            (inputPorts + c).initialize(to: Atomic(0))
            (outputPorts + c).initialize(to: Atomic(0))
            (inputPeaks + c).initialize(to: Atomic(0))
            (outputPeaks + c).initialize(to: Atomic(0))
            (inputSquares + c).initialize(to: Atomic(0))
            (outputSquares + c).initialize(to: Atomic(0))
        }
        slot = EngineSlot(channelCount: channelCount)
        capture = CaptureRing(channelCount: channelCount)
        worker = HopWorker(channelCount: channelCount, enabled: hopWorker)
    }

    deinit {
        inputPorts.deinitialize(count: channelCount)
        outputPorts.deinitialize(count: channelCount)
        inputPorts.deallocate()
        outputPorts.deallocate()
        inputBuffers.deallocate()
        outputBuffers.deallocate()
        inputPeaks.deinitialize(count: channelCount)
        outputPeaks.deinitialize(count: channelCount)
        inputPeaks.deallocate()
        outputPeaks.deallocate()
        inputSquares.deinitialize(count: channelCount)
        outputSquares.deinitialize(count: channelCount)
        inputSquares.deallocate()
        outputSquares.deallocate()
    }

    /// `jack_port_t *` of `in_c` and `out_c`, nil while no client is open. Any thread.
    @_noLocks
    func ports(_ c: Int) -> (input: OpaquePointer?, output: OpaquePointer?) {
        (OpaquePointer(bitPattern: inputPorts[c].load(ordering: .acquiring)),
         OpaquePointer(bitPattern: outputPorts[c].load(ordering: .acquiring)))
    }

    /// Records (or, with nil, clears) the ports of channel `c`. Main thread.
    func setPorts(_ c: Int, input: OpaquePointer?, output: OpaquePointer?) {
        inputPorts[c].store(Int(bitPattern: input.map { UnsafeRawPointer($0) }), ordering: .releasing)
        outputPorts[c].store(Int(bitPattern: output.map { UnsafeRawPointer($0) }), ordering: .releasing)
    }

    /// Takes the peaks since the last call, linear, per channel. Main thread.
    func takePeaks() -> (input: [Float], output: [Float]) {
        func take(_ peaks: UnsafeMutablePointer<Atomic<UInt32>>) -> [Float] {
            (0..<channelCount).map { Float(bitPattern: peaks[$0].exchange(0, ordering: .relaxed)) }
        }
        return (take(inputPeaks), take(outputPeaks))
    }

    /// The running Σx² per channel. Main thread.
    func squareSums() -> (input: [Double], output: [Double]) {
        func read(_ sums: UnsafeMutablePointer<Atomic<UInt64>>) -> [Double] {
            (0..<channelCount).map { Double(bitPattern: sums[$0].load(ordering: .relaxed)) }
        }
        return (read(inputSquares), read(outputSquares))
    }
}
