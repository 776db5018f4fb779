// SPDX-License-Identifier: GPL-3.0-or-later
// The control socket's server: one thread polling the listener and every connection; lines in, replies and status events out.

import Foundation
import Glibc
import SordinoLock
import Synchronization

/// Serves the control protocol on a Unix socket from one dedicated thread.
///
/// The thread never touches the audio thread's state except through `ControlTarget` (atomics of
/// the control block; the status the daemon publishes; jobs the daemon's own thread runs), so no
/// request can make the audio thread wait. Every connection is non-blocking: a client that sends
/// half a line, floods, or stops reading costs only its own buffers, which are bounded (a request
/// line: `ControlProtocol.maximumLineBytes`; unread replies: 1 MiB, then the client is dropped).
/// At most `maximumClients` connections; peers of another uid are refused before anything is read.
public final class ControlServer: Sendable {
    public static var maximumClients: Int { 16 }
    static var maximumPendingOutput: Int { 1 << 20 }

    /// The socket's path.
    public let path: String
    private let listener: ControlListener
    private let target: any ControlTarget
    private let allowedUID: uid_t
    /// A socket pair that wakes the poll loop: replies from other threads, and `stop()`.
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let outbox = Locked<[(connection: Int, line: String)]>([])
    private let stopping = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    /// Signalled when the thread has closed everything.
    private let finished = DispatchSemaphore(value: 0)
    /// Connections refused because their peer runs as another user.
    public let refusedPeers = Atomic<Int>(0)
    /// Requests answered (successfully or not).
    public let requestsAnswered = Atomic<Int>(0)

    /// Binds `path` (see `ControlListener`); `privateDirectory`: create and check its directory as
    /// the default location's. Call `start()` to serve.
    public init(path: String, privateDirectory: Bool, target: any ControlTarget,
                allowedUID: uid_t = geteuid()) throws(ControlSocketError) {
        listener = try ControlListener(path: path, makeDirectory: privateDirectory)
        // A socket pair, not a pipe: `wake` sends with MSG_NOSIGNAL, so a wake-up that comes after
        // the loop closed its end (a `stop` racing the loop's exit, a late `post`) is an ignored
        // EPIPE instead of a SIGPIPE that ends a process which does not ignore it (the ThreadSanitizer
        // suite, 2026-11-30).
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else {
            let code = errno
            listener.close()
            throw .system(call: "socketpair", path: path, errno: code)
        }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        self.path = path
        self.target = target
        self.allowedUID = allowedUID
        wakeRead = fds[0]
        wakeWrite = fds[1]
    }

    /// Starts the server's thread (once).
    public func start() {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let thread = Thread { [self] in
            var loop = ServerLoop(server: self)
            loop.run()
            loop.closeAll()
            listener.close()
            Glibc.close(wakeRead)
            finished.signal()
        }
        thread.name = "sordino-control"
        thread.start()
    }

    /// Stops serving: closes every connection, removes the socket file, waits for the thread (≤ 2 s).
    public func stop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if started.load(ordering: .acquiring) {
            wake()
            _ = finished.wait(timeout: .now() + 2)
        } else {
            listener.close()
            Glibc.close(wakeRead)
        }
        Glibc.close(wakeWrite)
    }

    // MARK: - For the loop

    var isStopping: Bool { stopping.load(ordering: .acquiring) }
    var listenDescriptor: Int32 { listener.descriptor }
    var wakeDescriptor: Int32 { wakeRead }
    var daemon: any ControlTarget { target }
    var peerUID: uid_t { allowedUID }

    /// Queues `line` for connection `id` from any thread and wakes the loop.
    func post(_ line: String, to id: Int) {
        guard !isStopping else { return }   // nobody will send it; the wake-up socket may be closing
        outbox.withLock { $0.append((id, line)) }
        wake()
    }

    func takeOutbox() -> [(connection: Int, line: String)] { outbox.withLock { box in defer { box = [] }; return box } }

    private func wake() {
        var byte: UInt8 = 1
        _ = send(wakeWrite, &byte, 1, Int32(MSG_NOSIGNAL))   // a full buffer already wakes the loop
    }
}
