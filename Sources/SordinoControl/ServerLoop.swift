// SPDX-License-Identifier: GPL-3.0-or-later
// The control server's thread: poll, accept (peer check), read lines, answer, write, send subscribed status events.

import Foundation
import Glibc

/// The state of the server's thread: its connections and their buffers. Only that thread uses it.
struct ServerLoop {
    private struct Connection {
        let id: Int
        let descriptor: Int32
        var input: [UInt8] = []
        var output: [UInt8] = []
        /// Seconds between status events, and when the next is due (nil: not subscribed).
        var subscription: (interval: Double, next: ContinuousClock.Instant)?
        /// Close once `output` is written (after a fatal error reply).
        var closing = false
    }

    private let server: ControlServer
    private var connections: [Connection] = []
    private var nextID = 0

    init(server: ControlServer) { self.server = server }

    mutating func run() {
        while !server.isStopping {
            var fds = [pollfd(fd: server.wakeDescriptor, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: server.listenDescriptor, events: Int16(POLLIN), revents: 0)]
            for c in connections {
                var events = c.closing ? 0 : Int16(POLLIN)
                if !c.output.isEmpty { events |= Int16(POLLOUT) }
                fds.append(pollfd(fd: c.descriptor, events: events, revents: 0))
            }
            let ready = poll(&fds, nfds_t(fds.count), timeoutMilliseconds())
            if ready < 0, errno != EINTR { break }
            if fds[0].revents != 0 { drainWake() }
            if fds[1].revents & Int16(POLLIN) != 0 { acceptAll() }
            // Connections in the order polled; accepting appended new ones after them.
            for (index, fd) in fds.dropFirst(2).enumerated() where fd.revents != 0 {
                if fd.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 { read(at: index) }
                if fd.revents & Int16(POLLOUT) != 0 { flush(at: index) }
            }
            sendDueEvents()
            for index in connections.indices where !connections[index].output.isEmpty { flush(at: index) }
            for index in connections.indices.reversed() where connections[index].descriptor < 0 { connections.remove(at: index) }
        }
    }

    mutating func closeAll() {
        for c in connections where c.descriptor >= 0 { close(c.descriptor) }
        connections = []
    }

    // MARK: - Poll helpers

    private func timeoutMilliseconds() -> Int32 {
        let now = ContinuousClock.now
        let due = connections.compactMap { $0.subscription?.next }.min()
        guard let due else { return 1000 }
        let (seconds, attoseconds) = (due - now).components
        return Int32(max(0, min(1000, seconds * 1000 + attoseconds / 1_000_000_000_000_000)))
    }

    private mutating func drainWake() {
        var buffer = [UInt8](repeating: 0, count: 256)
        while Glibc.read(server.wakeDescriptor, &buffer, buffer.count) > 0 {}
        for (id, line) in server.takeOutbox() {
            if let index = connections.firstIndex(where: { $0.id == id && $0.descriptor >= 0 }) { enqueue(line, at: index) }
        }
    }

    private mutating func acceptAll() {
        while true {
            // (accept4 is hidden behind _GNU_SOURCE; the listener is close-on-exec and the daemon never forks.)
            let fd = accept(server.listenDescriptor, nil, nil)
            guard fd >= 0 else { return }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            if !PeerCredentials.isAllowed(fd, allowed: server.peerUID) {
                server.refusedPeers.wrappingAdd(1, ordering: .relaxed)
                refuse(fd, ControlFailure(.forbidden, "this daemon answers only its own user (uid \(server.peerUID))"))
            } else if connections.count >= ControlServer.maximumClients {
                refuse(fd, ControlFailure(.tooManyClients, "\(ControlServer.maximumClients) clients are connected; close one and retry"))
            } else {
                connections.append(Connection(id: nextID, descriptor: fd))
                nextID += 1
            }
        }
    }

    /// Best effort: one error line, then close (never read from a refused peer).
    private func refuse(_ fd: Int32, _ failure: ControlFailure) {
        let line = Array((ControlReply.failure(id: nil, failure) + "\n").utf8)
        _ = line.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        close(fd)
    }

    // MARK: - Reading and writing

    private mutating func read(at index: Int) {
        guard connections[index].descriptor >= 0, !connections[index].closing else { return }
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = recv(connections[index].descriptor, &buffer, buffer.count, 0)
            if n > 0 {
                connections[index].input.append(contentsOf: buffer[0..<n])
                handleLines(at: index)
                if connections[index].closing || connections[index].descriptor < 0 { return }
            } else if n < 0, errno == EAGAIN || errno == EINTR {
                return
            } else {
                drop(at: index)   // end of stream or an error: the client is gone
                return
            }
        }
    }

    private mutating func handleLines(at index: Int) {
        let limit = ControlProtocol.maximumLineBytes
        while let newline = connections[index].input.firstIndex(of: 0x0A) {
            var line = connections[index].input[..<newline]
            connections[index].input.removeSubrange(...newline)
            if line.last == 0x0D { line = line.dropLast() }
            guard line.count <= limit else { return tooLong(at: index) }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            answer(Data(line), at: index)
            if connections[index].closing || connections[index].descriptor < 0 { return }
        }
        if connections[index].input.count > limit { tooLong(at: index) }
    }

    private mutating func tooLong(at index: Int) {
        connections[index].input = []
        enqueue(ControlReply.failure(id: nil, ControlFailure(
            .lineTooLong, "a request line is at most \(ControlProtocol.maximumLineBytes) bytes; the connection is closed")), at: index)
        connections[index].closing = true
    }

    private mutating func enqueue(_ line: String, at index: Int) {
        connections[index].output.append(contentsOf: line.utf8)
        connections[index].output.append(0x0A)
        if connections[index].output.count > ControlServer.maximumPendingOutput { drop(at: index) }   // it stopped reading
    }

    private mutating func flush(at index: Int) {
        guard connections[index].descriptor >= 0 else { return }
        while !connections[index].output.isEmpty {
            let n = connections[index].output.withUnsafeBytes {
                send(connections[index].descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                connections[index].output.removeFirst(n)
            } else if n < 0, errno == EAGAIN || errno == EINTR {
                return
            } else {
                drop(at: index)
                return
            }
        }
        if connections[index].closing { drop(at: index) }
    }

    private mutating func drop(at index: Int) {
        guard connections[index].descriptor >= 0 else { return }
        close(connections[index].descriptor)
        connections[index] = Connection(id: connections[index].id, descriptor: -1)
    }

    // MARK: - Requests

    private mutating func answer(_ line: Data, at index: Int) {
        server.requestsAnswered.wrappingAdd(1, ordering: .relaxed)
        let id = connections[index].id
        let (reply, subscription) = ControlProtocol.serve(line, target: server.daemon) { [server] line in
            server.post(line, to: id)
        }
        if let reply { enqueue(reply, at: index) }
        if let change = subscription {
            connections[index].subscription = change.map { ($0, ContinuousClock.now + .seconds($0)) }
        }
    }

    private mutating func sendDueEvents() {
        let now = ContinuousClock.now
        for index in connections.indices {
            guard connections[index].descriptor >= 0, let subscription = connections[index].subscription,
                  subscription.next <= now else { continue }
            let body = RequestHandler.statusResult(server.daemon) ?? .null
            enqueue(ControlReply.event("status", body), at: index)
            var next = subscription.next + .seconds(subscription.interval)
            if next < now { next = now + .seconds(subscription.interval) }   // fell behind: skip, never burst
            if connections[index].descriptor >= 0 { connections[index].subscription = (subscription.interval, next) }
        }
    }
}
