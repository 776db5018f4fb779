// SPDX-License-Identifier: GPL-3.0-or-later
// Two JACK clients around a filter: a player feeding a signal into it and a recorder capturing its output.

import SordinoDSP
import SordinoJACK
import Synchronization

/// player:out → (filter input), (filter output) → recorder:in, for `sordino demo` and the tests.
/// The graph orders the three clients player → filter → recorder within every cycle, so the
/// recorder captures in cycle k what the filter made of the player's cycle-k block: no extra
/// period of delay, only the filter's own latency.
///
/// Two clients, not one with two ports: a single client both feeding and reading the filter would
/// close a loop, and JACK would break it with a one-period feedback delay.
///
/// Once armed, the player starts playing `signal` at the start of its next cycle and publishes that
/// cycle's frame time; the recorder starts in the same cycle (it runs after the player). From then
/// both count samples, so `recording[n]` is the filter's output for the input's sample n, whatever
/// the block lengths. After the signal the player sends silence, so the recording may run past
/// its end to collect the delayed tail. Their callbacks only touch preallocated memory and atomics.
///
/// Not thread-safe: use it from one thread. Closing (deinit) deactivates both clients first.
public final class JackLoopback {
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
        /// With `arm(alignedTo:hopLength:)`: the filter engine's counters, and the hop length
        /// its processed-sample count must be a multiple of when the player starts. Written
        /// before `armed` is set (releasing), read after it is seen (acquiring).
        var gate: Unmanaged<Telemetry>?
        var gateMultiple = 1
    }

    /// Holds a client so that `deinit` can close it before freeing what its callback reads.
    final class Box {
        let client: JackClient
        init(_ client: consuming JackClient) { self.client = client }
    }

    private var player: Box?
    private var recorder: Box?
    /// Keeps the gate's counters alive while the player may read them.
    private var gateTelemetry: Telemetry?
    private let shared: UnsafeMutablePointer<Shared>
    /// Full name of the player's output port, "player:out" (the server may rename the client).
    public let playerPortName: String
    /// Full name of the recorder's input port, "recorder:in".
    public let recorderPortName: String

    /// Opens the two clients on `serverName` (nil: the default server; never starts one), registers
    /// their ports and activates them. `recordingCount` samples are captured once armed.
    public init(serverName: String?, signal: [Float], recordingCount: Int,
                playerName: String = "player", recorderName: String = "recorder") throws(JackHostError) {
        precondition(recordingCount >= 1, "recordingCount must be ≥ 1")
        routeJackMessagesToQueue()
        let player = Box(try Self.open(playerName, serverName: serverName))
        let recorder = Box(try Self.open(recorderName, serverName: serverName))
        guard let out = player.client.registerPort(shortName: "out", direction: .output) else {
            throw .portRegistrationFailed(port: "\(player.client.actualName):out")
        }
        guard let input = recorder.client.registerPort(shortName: "in", direction: .input) else {
            throw .portRegistrationFailed(port: "\(recorder.client.actualName):in")
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
        guard player.client.setProcessCallback(Self.play, context: context),
              recorder.client.setProcessCallback(Self.record, context: context) else {
            throw .activationFailed(client: player.client.actualName)
        }
        guard player.client.activate() else { throw .activationFailed(client: player.client.actualName) }
        guard recorder.client.activate() else { throw .activationFailed(client: recorder.client.actualName) }
    }

    deinit {
        player = nil   // closes both clients before the memory their callbacks read goes
        recorder = nil
        shared.pointee.signal.deallocate()
        shared.pointee.recording.deallocate()
        shared.deinitialize(count: 1)
        shared.deallocate()
    }

    private static func open(_ name: String, serverName: String?) throws(JackHostError) -> JackClient {
        if let reason = JackLibrary.load() { throw .libraryUnavailable(reason: reason) }
        do {
            return try JackClient(name: name, serverName: serverName)
        } catch {
            if error.contains(.serverFailed) { throw .serverNotRunning(name: serverName ?? "default") }
            throw .clientRefused(name: name, status: error)
        }
    }

    private var playerClient: JackClient {
        _read {
            guard let player else { preconditionFailure("JackLoopback used after deinit") }
            yield player.client
        }
    }

    private var recorderClient: JackClient {
        _read {
            guard let recorder else { preconditionFailure("JackLoopback used after deinit") }
            yield recorder.client
        }
    }

    /// Connects player → `hostInput` and `hostOutput` → recorder (full port names); false if the
    /// server refused either connection.
    public func connect(hostInput: String, hostOutput: String) -> Bool {
        playerClient.connect(source: playerPortName, destination: hostInput) == 0
            && recorderClient.connect(source: hostOutput, destination: recorderPortName) == 0
    }

    /// Starts playing (and recording) at the start of the next cycle.
    public func arm() { shared.pointee.armed.store(true, ordering: .releasing) }

    /// Starts playing (and recording) at the start of the first cycle in which the filter's engine
    /// has processed a multiple of `hopLength` samples (`telemetry.samples`, read by the player,
    /// which runs before the filter in every cycle). An engine that has seen only digital silence
    /// since it was built is then in the state of a fresh one at a hop boundary, so the recording
    /// equals the offline engine's output sample for sample. Keep the engine (no reload) until full.
    public func arm(alignedTo telemetry: Telemetry, hopLength: Int) {
        precondition(hopLength >= 1, "hopLength must be ≥ 1")
        gateTelemetry = telemetry
        shared.pointee.gate = Unmanaged.passUnretained(telemetry)
        shared.pointee.gateMultiple = hopLength
        shared.pointee.armed.store(true, ordering: .releasing)
    }

    /// Samples recorded so far.
    public var recordedCount: Int { shared.pointee.recorded.load(ordering: .acquiring) }
    /// True once `recordingCount` samples are recorded.
    public var isFull: Bool { recordedCount >= shared.pointee.recordingCapacity }
    /// True if the player and the recorder did not start in the same cycle (the recording is void).
    public var misaligned: Bool { shared.pointee.misaligned.load(ordering: .acquiring) }
    /// Block lengths (powers of two) the recorder saw.
    public var blockLengthsSeen: [Int] {
        let bits = shared.pointee.blockLengths.load(ordering: .relaxed)
        return (0..<Int.bitWidth).filter { bits & (1 << $0) != 0 }.map { 1 << $0 }
    }

    /// What the recorder has captured so far.
    public var recording: [Float] {
        Array(UnsafeBufferPointer(start: shared.pointee.recording, count: min(recordedCount, shared.pointee.recordingCapacity)))
    }

    // MARK: - For tests

    /// Asks the server for a new block length through the player's client.
    package func setBlockLength(_ length: Int) -> Bool { playerClient.setBlockLength(length) }

    /// A port's latency range as the server reports it to any client.
    package func latencyRange(of port: String, _ mode: JackLatencyMode) -> ClosedRange<Int>? {
        playerClient.port(named: port)?.latencyRange(mode)
    }

    package func connections(of port: String) -> [String] { playerClient.port(named: port)?.connections ?? [] }

    // MARK: - Callbacks (audio thread)

    private static let play: JackProcessFunction = { blockLength, context in
        guard let rig = context?.assumingMemoryBound(to: Shared.self),
              let out = rig.pointee.playerPort.buffer(blockLength: blockLength) else { return 0 }
        let n = Int(blockLength)
        if rig.pointee.startFrame.load(ordering: .acquiring) < 0 {
            var ready = rig.pointee.armed.load(ordering: .acquiring)
            if ready, let gate = rig.pointee.gate {
                ready = gate._withUnsafeGuaranteedRef { $0.samples.load(ordering: .relaxed) } % rig.pointee.gateMultiple == 0
            }
            guard ready else {
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

/// Whether a JACK server answers under `name` (nil: the default server). Opens and closes a
/// client without ever starting a server; libjack's complaints go to the debug log. ~1 ms when
/// none runs. Not for the audio thread.
public func jackServerAnswers(name: String?) -> Bool {
    routeJackMessagesToQueue()
    do {
        _ = try JackClient(name: "sordino-probe", serverName: name)
        return true
    } catch {
        return false
    }
}
