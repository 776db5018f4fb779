// SPDX-License-Identifier: GPL-3.0-or-later
// Two in-process JACK clients around the host: a player feeding in_1 and a recorder reading out_1.

import Foundation
@testable import SordinoJACK
import Synchronization

/// player:out → sordino:in_1, sordino:out_1 → recorder:in. The graph orders the three clients
/// player → host → recorder within every cycle, so the recorder captures in cycle k what the host
/// made of the player's cycle-k block: no extra period of delay, only the engine's latency.
///
/// Two clients, not one with two ports: a single client both feeding and reading the host would
/// close a loop, and JACK would break it with a one-period feedback delay.
///
/// Once armed, the player starts playing `signal` at the start of its next cycle and publishes that
/// cycle's frame time; the recorder starts in the same cycle (it runs after the player). From then
/// both count samples, so recording[n] is the host's output for the input's sample n, whatever
/// the block lengths. Their callbacks only touch preallocated memory and atomics.
final class LoopbackRig {
    struct Shared: ~Copyable {
        let signal: UnsafeMutablePointer<Float>
        let signalCount: Int
        let recording: UnsafeMutablePointer<Float>
        let recordingCapacity: Int
        let playerPort: JackPort
        let recorderPort: JackPort
        let player: JackClientReference
        let recorder: JackClientReference
        let armed = Atomic<Bool>(false)
        let startFrame = Atomic<Int>(-1)
        let played = Atomic<Int>(0)
        let recorded = Atomic<Int>(0)
        /// The recorder saw a start frame that was not its current cycle's: the alignment failed.
        let misaligned = Atomic<Bool>(false)
        /// Block lengths the recorder saw, as a bit set of powers of two.
        let blockLengths = Atomic<Int>(0)
    }

    /// Holds a client so that `deinit` can close it before freeing what its callback reads.
    final class Box {
        let client: JackClient
        init(_ client: consuming JackClient) { self.client = client }
    }

    private var player: Box?
    private var recorder: Box?
    private var playerClient: JackClient { _read { yield player!.client } }
    private var recorderClient: JackClient { _read { yield recorder!.client } }
    private let shared: UnsafeMutablePointer<Shared>
    let playerPortName: String
    let recorderPortName: String

    init(serverName: String, signal: [Float], recordingCount: Int) throws {
        let player = Box(try JackClient(name: "player", serverName: serverName))
        let recorder = Box(try JackClient(name: "recorder", serverName: serverName))
        guard let out = player.client.registerPort(shortName: "out", direction: .output),
              let input = recorder.client.registerPort(shortName: "in", direction: .input) else {
            throw JackStatus.failure
        }
        let signalCopy = UnsafeMutablePointer<Float>.allocate(capacity: max(signal.count, 1))
        signalCopy.initialize(from: signal, count: signal.count)
        let recording = UnsafeMutablePointer<Float>.allocate(capacity: recordingCount)
        recording.initialize(repeating: .nan, count: recordingCount)
        let shared = UnsafeMutablePointer<Shared>.allocate(capacity: 1)
        shared.initialize(to: Shared(signal: signalCopy, signalCount: signal.count, recording: recording,
                                     recordingCapacity: recordingCount, playerPort: out, recorderPort: input,
                                     player: player.client.reference, recorder: recorder.client.reference))
        self.player = player
        self.recorder = recorder
        self.shared = shared
        playerPortName = out.name
        recorderPortName = input.name
        let context = UnsafeMutableRawPointer(shared)
        guard playerClient.setProcessCallback(Self.play, context: context),
              recorderClient.setProcessCallback(Self.record, context: context),
              playerClient.activate(), recorderClient.activate() else { throw JackStatus.failure }
    }

    deinit {
        player = nil   // closes both clients before the memory their callbacks read goes
        recorder = nil
        shared.pointee.signal.deallocate()
        shared.pointee.recording.deallocate()
        shared.deinitialize(count: 1)
        shared.deallocate()
    }

    /// Connects player → host input and host output → recorder.
    func connect(hostInput: String, hostOutput: String) -> Bool {
        playerClient.connect(source: playerPortName, destination: hostInput) == 0
            && recorderClient.connect(source: hostOutput, destination: recorderPortName) == 0
    }

    func arm() { shared.pointee.armed.store(true, ordering: .releasing) }

    var recordedCount: Int { shared.pointee.recorded.load(ordering: .acquiring) }
    var isFull: Bool { recordedCount >= shared.pointee.recordingCapacity }
    var misaligned: Bool { shared.pointee.misaligned.load(ordering: .acquiring) }
    var blockLengthsSeen: [Int] {
        let bits = shared.pointee.blockLengths.load(ordering: .relaxed)
        return (0..<Int.bitWidth).filter { bits & (1 << $0) != 0 }.map { 1 << $0 }
    }

    /// What the recorder has captured so far.
    var recording: [Float] {
        Array(UnsafeBufferPointer(start: shared.pointee.recording, count: min(recordedCount, shared.pointee.recordingCapacity)))
    }

    /// Asks the server for a new block length through the player's client.
    func setBlockLength(_ length: Int) -> Bool { playerClient.setBlockLength(length) }

    /// A port's latency range as the server reports it to any client.
    func latencyRange(of port: String, _ mode: JackLatencyMode) -> ClosedRange<Int>? {
        playerClient.port(named: port)?.latencyRange(mode)
    }

    func connections(of port: String) -> [String] { playerClient.port(named: port)?.connections ?? [] }

    private static let play: JackProcessFunction = { blockLength, context in
        guard let rig = context?.assumingMemoryBound(to: Shared.self),
              let out = rig.pointee.playerPort.buffer(blockLength: blockLength) else { return 0 }
        let n = Int(blockLength)
        if rig.pointee.startFrame.load(ordering: .acquiring) < 0 {
            guard rig.pointee.armed.load(ordering: .acquiring) else {
                for i in 0..<n { out[i] = 0 }
                return 0
            }
            rig.pointee.startFrame.store(Int(rig.pointee.player.lastFrameTime), ordering: .releasing)
        }
        let offset = rig.pointee.played.load(ordering: .relaxed)
        for i in 0..<n { out[i] = offset + i < rig.pointee.signalCount ? rig.pointee.signal[offset + i] : 0 }
        rig.pointee.played.store(offset + n, ordering: .relaxed)
        return 0
    }

    private static let record: JackProcessFunction = { blockLength, context in
        guard let rig = context?.assumingMemoryBound(to: Shared.self),
              let input = rig.pointee.recorderPort.buffer(blockLength: blockLength) else { return 0 }
        let start = rig.pointee.startFrame.load(ordering: .acquiring)
        guard start >= 0 else { return 0 }
        let offset = rig.pointee.recorded.load(ordering: .relaxed)
        if offset == 0, Int(rig.pointee.recorder.lastFrameTime) != start {
            rig.pointee.misaligned.store(true, ordering: .releasing)
            return 0
        }
        let n = min(Int(blockLength), rig.pointee.recordingCapacity - offset)
        guard n > 0 else { return 0 }
        for i in 0..<n { rig.pointee.recording[offset + i] = input[i] }
        rig.pointee.blockLengths.bitwiseOr(Int(blockLength), ordering: .relaxed)
        rig.pointee.recorded.store(offset + n, ordering: .releasing)
        return 0
    }
}

/// Drives the host's main loop (`service()`) until `condition` holds or `timeout` passes.
@discardableResult
func serviceUntil(_ host: JackHost, timeout: Duration, tick: Duration = .milliseconds(10),
                  _ condition: () -> Bool) throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        try host.service()
        if condition() { return true }
        Thread.sleep(forTimeInterval: Double(tick.components.attoseconds) * 1e-18 + Double(tick.components.seconds))
    }
    try host.service()
    return condition()
}
