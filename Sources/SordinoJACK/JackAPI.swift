// SPDX-License-Identifier: GPL-3.0-or-later
// Every libjack call of Sordino, wrapped in typed Swift values; the only file that imports CJACK.

internal import CJACK
import Glibc
import Synchronization

// MARK: - Status

/// The bits of libjack's `jack_status_t`, as returned by `jack_client_open` and the shutdown callback.
public struct JackStatus: OptionSet, Sendable, Hashable, Error, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let failure = JackStatus(rawValue: JackFailure.rawValue)
    public static let invalidOption = JackStatus(rawValue: JackInvalidOption.rawValue)
    public static let nameNotUnique = JackStatus(rawValue: JackNameNotUnique.rawValue)
    public static let serverStarted = JackStatus(rawValue: JackServerStarted.rawValue)
    public static let serverFailed = JackStatus(rawValue: JackServerFailed.rawValue)
    public static let serverError = JackStatus(rawValue: JackServerError.rawValue)
    public static let noSuchClient = JackStatus(rawValue: JackNoSuchClient.rawValue)
    public static let loadFailure = JackStatus(rawValue: JackLoadFailure.rawValue)
    public static let initFailure = JackStatus(rawValue: JackInitFailure.rawValue)
    public static let sharedMemoryFailure = JackStatus(rawValue: JackShmFailure.rawValue)
    public static let versionError = JackStatus(rawValue: JackVersionError.rawValue)
    public static let backendError = JackStatus(rawValue: JackBackendError.rawValue)
    public static let clientZombie = JackStatus(rawValue: JackClientZombie.rawValue)

    public var description: String {
        let names: [(JackStatus, String)] = [
            (.failure, "failure"), (.invalidOption, "invalid option"), (.nameNotUnique, "name not unique"),
            (.serverStarted, "server started"), (.serverFailed, "server failed"), (.serverError, "server error"),
            (.noSuchClient, "no such client"), (.loadFailure, "load failure"), (.initFailure, "init failure"),
            (.sharedMemoryFailure, "shared memory failure"), (.versionError, "version error"),
            (.backendError, "backend error"), (.clientZombie, "client zombie"),
        ]
        let set = names.filter { contains($0.0) }.map(\.1)
        return set.isEmpty ? "0x0" : set.joined(separator: ", ") + " (0x\(String(rawValue, radix: 16)))"
    }
}

/// Which way latency is being reported: from the capture side (sources) or towards playback (sinks).
package enum JackLatencyMode: Sendable {
    case capture, playback

    fileprivate var raw: jack_latency_callback_mode_t { self == .capture ? JackCaptureLatency : JackPlaybackLatency }
}

package enum JackPortDirection: Sendable {
    /// A port that receives audio (`JackPortIsInput`).
    case input
    /// A port that sends audio (`JackPortIsOutput`).
    case output

    fileprivate var flags: UInt { UInt(self == .input ? JackPortIsInput.rawValue : JackPortIsOutput.rawValue) }
}

/// Well-known JACK metadata keys (jack/metadata.h).
enum JackMetadataKey: Sendable {
    /// A human-readable name for display (`http://jackaudio.org/metadata/pretty-name`).
    case prettyName
    /// An integer that orders ports in patchbays (`…/metadata/order`).
    case order
    /// The group a port belongs to (`…/metadata/port-group`).
    case portGroup

    fileprivate var key: UnsafePointer<CChar> {
        switch self {
        case .prettyName: CJACK_metadataPrettyName()
        case .order: CJACK_metadataOrder()
        case .portGroup: CJACK_metadataPortGroup()
        }
    }

    /// The value type URI libjack expects, nil for plain text.
    fileprivate var valueType: String? {
        self == .order ? "http://www.w3.org/2001/XMLSchema#integer" : nil
    }
}

/// `jack_nframes_t` of a process callback and its context pointer.
package typealias JackProcessFunction = @convention(c) (UInt32, UnsafeMutableRawPointer?) -> Int32

let jackAudioPortType = "32 bit float mono audio"   // JACK_DEFAULT_AUDIO_TYPE

// MARK: - Library

/// libjack, which CJACK opens with dlopen the first time a command talks to a server.
package enum JackLibrary {
    /// Loads libjack unless it is loaded: nil when it is, else why it cannot be (the loader's
    /// message). Not for the audio thread.
    package static func load() -> String? { CJACK_load().map { String(cString: $0) } }
}

// MARK: - Client

/// An open JACK client; closes it (deactivating first) when it goes away. Not for the audio thread.
package struct JackClient: ~Copyable {
    private let handle: OpaquePointer

    /// Opens a client without ever starting a server (`JackNoStartServer`). The server may rename
    /// the client if `name` is taken (`actualName`). Throws the status bits on failure; a missing
    /// server shows as `.serverFailed`, libjack that cannot be loaded as `.loadFailure` (callers
    /// ask `JackLibrary.load()` first, to say why).
    package init(name: String, serverName: String?) throws(JackStatus) {
        var status = jack_status_t(rawValue: 0)
        let options = jack_options_t(rawValue: JackNoStartServer.rawValue)
        let opened: OpaquePointer? = if let serverName {
            serverName.withCString { CJACK_clientOpen(name, options, &status, $0) }
        } else {
            CJACK_clientOpen(name, options, &status, nil)
        }
        guard let opened else { throw JackStatus(rawValue: status.rawValue | JackFailure.rawValue) }
        handle = opened
    }

    deinit {
        // jack_client_close deactivates first; after it returns no callback of this client runs,
        // also when the server has died (libjack then only tears down its own side).
        _ = jack_client_close(handle)
    }

    /// The name the server gave this client (may differ from the requested one).
    package var actualName: String { String(cString: jack_get_client_name(handle)) }
    /// The server's sample rate in Hz.
    var sampleRate: Int { Int(jack_get_sample_rate(handle)) }
    /// The server's current block length (JACK's buffer size) in samples.
    var blockLength: Int { Int(jack_get_buffer_size(handle)) }
    /// DSP load of the whole graph, in percent, as the server measures it.
    var cpuLoad: Float { jack_cpu_load(handle) }
    /// The SCHED_FIFO priority of this client's process thread; nil when the server runs without
    /// real-time scheduling.
    var realTimePriority: Int? {
        let priority = jack_client_real_time_priority(handle)
        return jack_is_realtime(handle) != 0 && priority > 0 ? Int(priority) : nil
    }
    /// A non-owning reference for use inside callbacks (test clients).
    package var reference: JackClientReference { JackClientReference(handle: handle) }

    /// Registers an audio port named `shortName` ("in_1"); nil if the server refuses.
    /// No extra flags: Sordino is a filter, neither a terminal source/sink nor physical.
    package func registerPort(shortName: String, direction: JackPortDirection) -> JackPort? {
        jack_port_register(handle, shortName, jackAudioPortType, direction.flags, 0).map(JackPort.init(handle:))
    }

    /// Starts callbacks; false if the server refused.
    package func activate() -> Bool { jack_activate(handle) == 0 }

    /// Connects `source` (an output port) to `destination` (an input port), by full names.
    /// Returns 0, `EEXIST` if they are already connected, or another nonzero code.
    package func connect(source: String, destination: String) -> Int32 {
        jack_connect(handle, source, destination)
    }

    /// True for `connect`'s "already connected" result.
    static func isAlreadyConnected(_ result: Int32) -> Bool { result == EEXIST }

    /// Full names of the audio ports with the given direction, in the server's order.
    func audioPortNames(direction: JackPortDirection) -> [String] {
        takeNames(jack_get_ports(handle, nil, jackAudioPortType, direction.flags))
    }

    package func port(named name: String) -> JackPort? {
        jack_port_by_name(handle, name).map(JackPort.init(handle:))
    }

    /// Sets a metadata property on a port; false if the server has no metadata store or refused.
    func setProperty(_ key: JackMetadataKey, of port: JackPort, to value: String) -> Bool {
        let subject = jack_port_uuid(port.handle)
        return jack_set_property(handle, subject, key.key, value, key.valueType) == 0
    }

    /// Reads back a metadata property of a port (nil if unset).
    func property(_ key: JackMetadataKey, of port: JackPort) -> String? {
        var value: UnsafeMutablePointer<CChar>?
        var type: UnsafeMutablePointer<CChar>?
        guard jack_get_property(jack_port_uuid(port.handle), key.key, &value, &type) == 0, let value else { return nil }
        defer { jack_free(value); if let type { jack_free(type) } }
        return String(cString: value)
    }

    /// Asks the server to rerun every client's latency callbacks (after our latency changed).
    @discardableResult
    func recomputeTotalLatencies() -> Bool { jack_recompute_total_latencies(handle) == 0 }

    /// Asks the server for a new block length (any client may; tests use it).
    package func setBlockLength(_ length: Int) -> Bool { jack_set_buffer_size(handle, UInt32(length)) == 0 }

    /// Installs a plain process callback (test clients). Call before `activate()`.
    package func setProcessCallback(_ callback: JackProcessFunction, context: UnsafeMutableRawPointer?) -> Bool {
        jack_set_process_callback(handle, callback, context) == 0
    }

    /// Installs every callback of the host, all with `context` as their argument. Call before
    /// `activate()`. `context` must outlive the client.
    func installHostCallbacks(context: UnsafeMutablePointer<HostContext>) -> Bool {
        let raw = UnsafeMutableRawPointer(context)
        // Both: jack2 calls the info variant, PipeWire's libjack only the plain one.
        jack_on_info_shutdown(handle, hostInfoShutdownCallback, raw)
        jack_on_shutdown(handle, hostShutdownCallback, raw)
        return jack_set_process_callback(handle, hostProcessCallback, raw) == 0
            && jack_set_thread_init_callback(handle, hostThreadInitCallback, raw) == 0
            && jack_set_buffer_size_callback(handle, hostBufferSizeCallback, raw) == 0
            && jack_set_sample_rate_callback(handle, hostSampleRateCallback, raw) == 0
            && jack_set_latency_callback(handle, hostLatencyCallback, raw) == 0
            && jack_set_xrun_callback(handle, hostXrunCallback, raw) == 0
            && jack_set_port_registration_callback(handle, hostPortRegistrationCallback, raw) == 0
            && jack_set_port_connect_callback(handle, hostPortConnectCallback, raw) == 0
            && jack_set_freewheel_callback(handle, hostFreewheelCallback, raw) == 0
    }
}

/// A client handle that does not own the client: for reading JACK time inside callbacks.
package struct JackClientReference: @unchecked Sendable {
    fileprivate let handle: OpaquePointer
    /// Frame time at the start of the current cycle (call from the process callback).
    package var lastFrameTime: UInt32 { jack_last_frame_time(handle) }
}

/// A port handle (`jack_port_t *`). Valid while its client is open.
package struct JackPort: @unchecked Sendable {
    fileprivate let handle: OpaquePointer

    /// The opaque pointer the audio thread keeps in `HostContext`'s port tables.
    var opaque: OpaquePointer { handle }

    /// "client:port".
    package var name: String { String(cString: jack_port_name(handle)) }

    /// Full names of the ports this one is connected to.
    package var connections: [String] {
        takeNames(jack_port_get_connections(handle))
    }

    func isConnected(to name: String) -> Bool { jack_port_connected_to(handle, name) != 0 }

    /// The port's latency range in samples for one direction.
    package func latencyRange(_ mode: JackLatencyMode) -> ClosedRange<Int> {
        var range = jack_latency_range_t()
        jack_port_get_latency_range(handle, mode.raw, &range)
        return Int(range.min)...Int(max(range.min, range.max))
    }

    /// The port's sample buffer for this cycle (process callbacks of test clients; the host's
    /// audio cycle fetches its buffers in AudioCycle.swift).
    package func buffer(blockLength: UInt32) -> UnsafeMutablePointer<Float>? {
        jack_port_get_buffer(handle, blockLength)?.assumingMemoryBound(to: Float.self)
    }
}

/// The strings of a NULL-terminated list libjack allocated, which is then freed with `jack_free`.
private func takeNames(_ list: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> [String] {
    guard let list else { return [] }
    defer { jack_free(UnsafeMutableRawPointer(list)) }
    var names: [String] = []
    var i = 0
    while let name = list[i] {
        names.append(String(cString: name))
        i += 1
    }
    return names
}
