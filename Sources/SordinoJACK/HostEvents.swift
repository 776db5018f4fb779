// SPDX-License-Identifier: GPL-3.0-or-later
// A lock-free queue of text messages any thread may post (libjack's callbacks, the audio thread included), drained by the main loop.

import Synchronization

/// Fixed slots of at most `slotBytes` bytes each. `post` neither locks nor allocates, so libjack's
/// error callback (which jack2 may call on the audio thread) and the shutdown callback can use it;
/// the main loop takes the messages with `drain()` and logs them there. When every slot is full a
/// message is dropped and counted (`dropped`), never waited for.
/// `@unchecked Sendable`: the slots are reached only through the atomic states (a slot is written by the
/// one poster that claimed it, read by the one consumer after it is marked full).
final class HostEventQueue: @unchecked Sendable {
    /// Slots; a power of two. (Literals, not statics: the real-time checker rejects metatype use in `post`.)
    static var capacity: Int { 64 }
    static var slotBytes: Int { 240 }

    /// 0 empty, 1 being written, 2 full.
    private let states: UnsafeMutablePointer<Atomic<Int>>
    /// Ticket of each full slot, to drain in posting order.
    private let tickets: UnsafeMutablePointer<Atomic<Int>>
    private let lengths: UnsafeMutablePointer<Atomic<Int>>
    private let bytes: UnsafeMutablePointer<UInt8>
    private let nextTicket = Atomic<Int>(0)
    /// Messages lost because every slot was full.
    let dropped = Atomic<Int>(0)

    /// The process-wide queue libjack's message callbacks (which carry no context) post to.
    static let shared = HostEventQueue()

    init() {
        states = .allocate(capacity: Self.capacity)
        tickets = .allocate(capacity: Self.capacity)
        lengths = .allocate(capacity: Self.capacity)
        for i in 0..<Self.capacity {
            (states + i).initialize(to: Atomic(0))
            (tickets + i).initialize(to: Atomic(0))
            (lengths + i).initialize(to: Atomic(0))
        }
        bytes = .allocate(capacity: Self.capacity * Self.slotBytes)
    }

    deinit {
        states.deinitialize(count: Self.capacity)
        tickets.deinitialize(count: Self.capacity)
        lengths.deinitialize(count: Self.capacity)
        states.deallocate()
        tickets.deallocate()
        lengths.deallocate()
        bytes.deallocate()
    }

    /// Copies a NUL-terminated message (cut at `slotBytes`) into a free slot. Any thread; real-time safe.
    @_noLocks
    func post(_ message: UnsafePointer<CChar>) {
        let capacity = 64, slotBytes = 240   // = Self.capacity, Self.slotBytes
        let ticket = nextTicket.wrappingAdd(1, ordering: .relaxed).oldValue
        let start = ticket & (capacity - 1)
        for probe in 0..<capacity {
            let slot = (start + probe) & (capacity - 1)
            guard states[slot].compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged else { continue }
            let base = bytes + slot * slotBytes
            var n = 0
            while n < slotBytes, message[n] != 0 {
                base[n] = UInt8(bitPattern: message[n])
                n += 1
            }
            lengths[slot].store(n, ordering: .relaxed)
            tickets[slot].store(ticket, ordering: .relaxed)
            states[slot].store(2, ordering: .releasing)
            return
        }
        dropped.wrappingAdd(1, ordering: .relaxed)
    }

    /// The messages posted since the last call, oldest first. Main loop only (one consumer).
    func drain() -> [String] {
        var taken: [(ticket: Int, text: String)] = []
        for slot in 0..<Self.capacity where states[slot].load(ordering: .acquiring) == 2 {
            let length = lengths[slot].load(ordering: .relaxed)
            let text = String(decoding: UnsafeBufferPointer(start: bytes + slot * Self.slotBytes, count: length), as: UTF8.self)
            taken.append((tickets[slot].load(ordering: .relaxed), text))
            states[slot].store(0, ordering: .releasing)
        }
        return taken.sorted { $0.ticket < $1.ticket }.map(\.text)
    }
}
