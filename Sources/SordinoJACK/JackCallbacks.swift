// SPDX-License-Identifier: GPL-3.0-or-later
// libjack's non-audio callbacks (they only set atomics or queue text) and the routing of libjack's own messages.

internal import CJACK
internal import CRealtime
import Synchronization

/// Runs on each thread libjack starts for the client, the audio thread first of all (and, in jack2,
/// on the notification thread at activation): sets flush-to-zero and denormals-are-zero so that
/// decaying tails never become slow subnormals. Not `@_noLocks`: a C call without a budget site.
func hostThreadInitCallback(_ context: UnsafeMutableRawPointer?) {
    CRealtime_enableFlushToZero()
    context?.assumingMemoryBound(to: HostContext.self).pointee
        .flushToZeroSet.store(CRealtime_flushToZeroEnabled() != 0, ordering: .releasing)
}

/// jack2 calls this on the audio thread once before the first cycle (JackClient::Init) and on its
/// notification thread when the server changes the block length (its driver is stopped meanwhile).
/// Either way it only records the new length; the main loop rebuilds the engine if it must.
func hostBufferSizeCallback(_ blockLength: UInt32, _ context: UnsafeMutableRawPointer?) -> Int32 {
    context?.assumingMemoryBound(to: HostContext.self).pointee
        .announcedBlockLength.store(Int(blockLength), ordering: .releasing)
    return 0
}

func hostSampleRateCallback(_ rate: UInt32, _ context: UnsafeMutableRawPointer?) -> Int32 {
    context?.assumingMemoryBound(to: HostContext.self).pointee
        .announcedSampleRate.store(Int(rate), ordering: .releasing)
    return 0
}

/// Notification thread: reports our ports' latency. Capture direction: each `out_c` has the
/// latency of `in_c` plus the engine's; playback direction: each `in_c` has that of `out_c` plus
/// the engine's (jack.h's recipe for a client that delays its signal).
func hostLatencyCallback(_ mode: jack_latency_callback_mode_t, _ context: UnsafeMutableRawPointer?) {
    guard let host = context?.assumingMemoryBound(to: HostContext.self) else { return }
    let delay = UInt32(clamping: host.pointee.latencySamples.load(ordering: .acquiring))
    for c in 0..<host.pointee.channelCount {
        let ports = host.pointee.ports(c)
        guard let input = ports.input, let output = ports.output else { continue }
        let (from, to) = mode == JackCaptureLatency ? (input, output) : (output, input)
        var range = jack_latency_range_t()
        jack_port_get_latency_range(from, mode, &range)
        range.min &+= delay
        range.max &+= delay
        jack_port_set_latency_range(to, mode, &range)
    }
}

func hostXrunCallback(_ context: UnsafeMutableRawPointer?) -> Int32 {
    context?.assumingMemoryBound(to: HostContext.self).pointee.xruns.wrappingAdd(1, ordering: .relaxed)
    return 0
}

func hostPortRegistrationCallback(_ port: jack_port_id_t, _ registered: Int32, _ context: UnsafeMutableRawPointer?) {
    context?.assumingMemoryBound(to: HostContext.self).pointee.portsChanged.store(true, ordering: .releasing)
}

func hostPortConnectCallback(_ a: jack_port_id_t, _ b: jack_port_id_t, _ connected: Int32,
                                     _ context: UnsafeMutableRawPointer?) {
    context?.assumingMemoryBound(to: HostContext.self).pointee.connectionsChanged.store(true, ordering: .releasing)
}

func hostFreewheelCallback(_ starting: Int32, _ context: UnsafeMutableRawPointer?) {
    context?.assumingMemoryBound(to: HostContext.self).pointee.freewheeling.store(starting != 0, ordering: .releasing)
}

/// The server went away or dropped the client. jack2 calls this from its notification thread, or
/// from the audio thread when the server vanished mid-cycle: it only sets flags and queues the reason.
func hostInfoShutdownCallback(_ status: jack_status_t, _ reason: UnsafePointer<CChar>?,
                                      _ context: UnsafeMutableRawPointer?) {
    guard let host = context?.assumingMemoryBound(to: HostContext.self) else { return }
    if let reason { HostEventQueue.shared.post(reason) }
    host.pointee.shutdownStatus.store(status.rawValue, ordering: .relaxed)
    host.pointee.serverShutDown.store(true, ordering: .releasing)
}

/// The plain shutdown callback (PipeWire's libjack calls only this one).
func hostShutdownCallback(_ context: UnsafeMutableRawPointer?) {
    context?.assumingMemoryBound(to: HostContext.self).pointee.serverShutDown.store(true, ordering: .releasing)
}

// MARK: - libjack's own messages

/// Sends libjack's error and info messages to `HostEventQueue.shared` instead of stderr: jack2 may
/// call these on the audio thread, where logging would lock and allocate. `JackHost.service()`
/// drains the queue and logs them at debug level (they are noisy while the host waits for a
/// server; Sordino logs its own account of every failure). Process-wide; installed by `JackHost`.
package func routeJackMessagesToQueue() {
    _ = HostEventQueue.shared   // initialised here, on the main thread, not first on the audio thread
    jack_set_error_function { message in
        if let message { HostEventQueue.shared.post(message) }
    }
    jack_set_info_function { message in
        if let message { HostEventQueue.shared.post(message) }
    }
}
