// SPDX-License-Identifier: GPL-3.0-or-later
// systemd's readiness protocol (Type=notify) without libsystemd: datagrams of READY=1 and STATUS= to $NOTIFY_SOCKET.

import Foundation
import Glibc
import SordinoJACK

/// Sends sd_notify(3) messages when the daemon runs under systemd with `Type=notify` (systemd
/// sets `NOTIFY_SOCKET` to a Unix datagram socket, a path or an abstract name starting with '@');
/// does nothing otherwise. Sending never blocks (MSG_DONTWAIT) and failures are ignored, as
/// sd_notify's are: the service manager is a listener, not a dependency.
struct ServiceNotifier: Sendable {
    private let address: String?

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let socket = environment["NOTIFY_SOCKET"] ?? ""
        address = socket.hasPrefix("/") || socket.hasPrefix("@") ? socket : nil
    }

    var isActive: Bool { address != nil }

    /// Sends `fields` (e.g. ["READY=1", "STATUS=running"]) as one message.
    func send(_ fields: [String]) {
        guard let address else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var target = sockaddr_un()
        target.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(address.utf8)
        let capacity = MemoryLayout.size(ofValue: target.sun_path)
        guard bytes.count < capacity else { return }
        withUnsafeMutableBytes(of: &target.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
            if bytes.first == UInt8(ascii: "@") { raw[0] = 0 }   // an abstract socket: a leading NUL
        }
        // Abstract names are not NUL-terminated: the address length counts exactly their bytes.
        let length = MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == UInt8(ascii: "@") ? 0 : 1)
        let message = Array(fields.joined(separator: "\n").utf8)
        _ = withUnsafePointer(to: &target) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL), address, socklen_t(length)) }
            }
        }
    }

    /// While the daemon runs, reports its state as STATUS= whenever it changes (connected to
    /// which server, or waiting for it), read from the status the host publishes; checks twice a second.
    func follow(_ link: JackHostLink) {
        guard isActive else { return }
        let thread = Thread {
            var last = ""
            while true {
                if let status = link.latestStatus {
                    let text = status.connected
                        ? "running on JACK server '\(status.serverName)' as '\(status.clientName)', \(status.sampleRate) Hz, \(status.engineOrigin)"
                            + (status.passThroughReason == nil ? "" : "; passing the input through unprocessed (no preset for \(status.sampleRate) Hz)")
                        : "waiting for JACK server '\(status.serverName)' (reconnecting)"
                    if text != last { send(["STATUS=\(text)"]); last = text }
                }
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
        thread.name = "sordino-notify"
        thread.start()
    }
}
