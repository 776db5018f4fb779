// SPDX-License-Identifier: GPL-3.0-or-later
// The lock-free single-producer ring that carries live input from the audio thread to the host's thread (learn-noise).

import Synchronization

/// Input samples of every channel, interleaved (sample n of channel c at n·channelCount + c), from
/// the audio thread (the one producer) to the host's thread (the one consumer).
///
/// Allocated with the host, before any audio thread runs; while `armed` is false the audio thread
/// only loads that flag. Armed, each cycle copies its input block in (before the engine runs, so
/// the copy is the input even when JACK hands the same buffer in and out) and publishes the new
/// write position (releasing); the consumer reads up to it (acquiring) and publishes how far it
/// has read. A block that does not fit is dropped whole and counted in `droppedBlocks`, never
/// waited for. Capacity: 65 536 samples per channel (1.4 s at 48 kHz), rounded up to a power of
/// two; the host drains it every ~100 ms.
struct CaptureRing: ~Copyable {
    let channelCount: Int
    /// Samples held, all channels counted; a power of two.
    let capacity: Int
    private let storage: UnsafeMutablePointer<Float>
    /// Samples ever written and ever read (all channels counted); written − read ≤ capacity.
    private let written = Atomic<Int>(0)
    private let read = Atomic<Int>(0)
    /// True while a capture wants input.
    private let armed = Atomic<Bool>(false)
    /// Blocks the audio thread dropped since the last `arm()` because the ring was full.
    let droppedBlocks = Atomic<Int>(0)

    init(channelCount: Int, samplesPerChannel: Int = 65_536) {
        self.channelCount = channelCount
        var size = 1
        while size < channelCount * samplesPerChannel { size <<= 1 }
        capacity = size
        storage = .allocate(capacity: size)
        storage.initialize(repeating: 0, count: size)
    }

    deinit { storage.deallocate() }

    // MARK: - Audio thread

    /// Copies one block of every channel in when armed; drops it (counted) when it does not fit.
    /// Real-time: no allocation, lock or wait.
    @_noLocks
    func write(_ inputs: UnsafePointer<UnsafePointer<Float>>, blockLength: Int) {
        guard armed.load(ordering: .acquiring) else { return }
        let start = written.load(ordering: .relaxed)
        let count = blockLength * channelCount
        guard capacity - (start - read.load(ordering: .acquiring)) >= count else {
            droppedBlocks.wrappingAdd(1, ordering: .relaxed)
            return
        }
        let mask = capacity - 1
        var position = start
        for n in 0..<blockLength {
            for c in 0..<channelCount {
                storage[position & mask] = inputs[c][n]
                position += 1
            }
        }
        written.store(position, ordering: .releasing)
    }

    // MARK: - The host's thread

    /// Starts a capture: what was written before is skipped, the drop count restarts.
    func arm() {
        read.store(written.load(ordering: .acquiring), ordering: .releasing)
        droppedBlocks.store(0, ordering: .relaxed)
        armed.store(true, ordering: .releasing)
    }

    /// Stops writing (a block under way may still land; the next `arm()` skips it).
    func disarm() { armed.store(false, ordering: .releasing) }

    /// Appends what was written since the last call to `channels` (one array per channel), at most
    /// `limit` samples per channel; non-finite samples become 0 (the learner needs finite input).
    /// Returns the samples per channel appended.
    func drain(into channels: inout [[Float]], limit: Int) -> Int {
        let start = read.load(ordering: .relaxed)
        let available = (written.load(ordering: .acquiring) - start) / channelCount
        let frames = min(available, max(0, limit))
        let mask = capacity - 1
        var position = start
        for _ in 0..<frames {
            for c in 0..<channelCount {
                let x = storage[position & mask]
                channels[c].append(x.isFinite ? x : 0)
                position += 1
            }
        }
        read.store(position, ordering: .releasing)
        return frames
    }
}
