// SPDX-License-Identifier: GPL-3.0-or-later
// The state JACK's threads share with the main thread (atomics and fixed tables), and the audio-thread cycle.

import SordinoDSP
import Synchronization

/// Everything a JACK callback touches, at one stable address passed as JACK's context pointer:
/// no globals, no class, no reference counting on the audio thread.
///
/// Allocated by `JackHost` before its first client opens and freed after its last client closes,
/// so it outlives every callback. The port and buffer tables are written by the main thread only
/// while no client is active (activation orders those writes before the first cycle). All other
/// cross-thread state is atomic. JACK's non-audio callbacks (shutdown, buffer size, ports, xruns…)
/// only store into atomics here; the main loop (`JackHost.service()`) acts on them.
struct HostContext: ~Copyable {
    /// Audio channels: ports `in_1…in_N`, `out_1…out_N`.
    let channelCount: Int
    /// `jack_port_t *` of `in_c`, nil while no client is open.
    let inputPorts: UnsafeMutablePointer<OpaquePointer?>
    /// `jack_port_t *` of `out_c`.
    let outputPorts: UnsafeMutablePointer<OpaquePointer?>
    /// Per-cycle port buffers, filled at the start of each cycle (audio thread only).
    let inputBuffers: UnsafeMutablePointer<UnsafePointer<Float>>
    let outputBuffers: UnsafeMutablePointer<UnsafeMutablePointer<Float>>

    /// The engine the audio thread runs: bit pattern of an `UnsafeMutablePointer<Engine>`, 0 for none.
    /// Swapped by the main thread; see `JackHost.swapEngine` for when the old one may be freed.
    let engine = Atomic<Int>(0)
    /// Cycles that have begun, incremented before the engine pointer is loaded.
    let cyclesStarted = Atomic<Int>(0)
    /// Cycles that have finished with the engine, incremented after the last use of it.
    let cyclesCompleted = Atomic<Int>(0)
    /// Samples per channel processed by all engines, across reconnects.
    let frames = Atomic<Int>(0)
    /// Cycles whose port buffers JACK could not give (never seen; counted to notice it).
    let missingBuffers = Atomic<Int>(0)
    /// Process-callback durations.
    let histogram = CallbackHistogram()

    /// Latency added between `in_c` and `out_c`, in samples, reported by the latency callback.
    let latencySamples = Atomic<Int>(0)
    /// Set by JACK's shutdown callback: the server is gone (or kicked the client out).
    let serverShutDown = Atomic<Bool>(false)
    /// The `jack_status_t` bits the shutdown callback received.
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

    init(channelCount: Int) {
        self.channelCount = channelCount
        inputPorts = .allocate(capacity: channelCount)
        inputPorts.initialize(repeating: nil, count: channelCount)
        outputPorts = .allocate(capacity: channelCount)
        outputPorts.initialize(repeating: nil, count: channelCount)
        // Placeholders until the first cycle fetches real buffers; never read before that.
        inputBuffers = .allocate(capacity: channelCount)
        outputBuffers = .allocate(capacity: channelCount)
        let placeholder = UnsafeMutablePointer<Float>(bitPattern: MemoryLayout<Float>.alignment)!
        inputBuffers.initialize(repeating: UnsafePointer(placeholder), count: channelCount)
        outputBuffers.initialize(repeating: placeholder, count: channelCount)
    }

    deinit {
        inputPorts.deallocate()
        outputPorts.deallocate()
        inputBuffers.deallocate()
        outputBuffers.deallocate()
    }

    // MARK: - Audio thread

    /// One JACK cycle: fetch the port buffers, run the engine on them, time it, count it.
    /// Real-time: no allocation, lock, log or system call.
    @_noLocks
    static func runCycle(_ context: UnsafeMutablePointer<HostContext>, blockLength: UInt32) {
        // Sequentially consistent: a main thread that swaps the engine and then reads this counter
        // sees every cycle that could have loaded the old pointer (see `JackHost.swapEngine`).
        context.pointee.cyclesStarted.wrappingAdd(1, ordering: .sequentiallyConsistent)
        let nanoseconds = fetchBuffersAndProcess(context, blockLength: blockLength)   // JackAPI.swift
        if nanoseconds >= 0 {
            context.pointee.histogram.record(nanoseconds: nanoseconds)
            context.pointee.frames.wrappingAdd(Int(blockLength), ordering: .relaxed)
        } else {
            context.pointee.missingBuffers.wrappingAdd(1, ordering: .relaxed)
        }
        context.pointee.cyclesCompleted.wrappingAdd(1, ordering: .releasing)
    }

    /// Runs the current engine on the buffers `fetchBuffersAndProcess` just fetched; writes
    /// silence if there is no engine. Checked by the optimiser on its own although it is called
    /// from inside the unsafe-performance site.
    @_noLocks
    func processFetchedBuffers(blockLength: Int) {
        let bits = engine.load(ordering: .sequentiallyConsistent)
        if let current = UnsafeMutablePointer<Engine>(bitPattern: bits) {
            current.pointee.process(inputs: UnsafePointer(inputBuffers), outputs: UnsafePointer(outputBuffers),
                                    blockLength: blockLength)
        } else {
            for c in 0..<channelCount {
                let output = outputBuffers[c]
                for n in 0..<blockLength { output[n] = 0 }
            }
        }
    }
}
