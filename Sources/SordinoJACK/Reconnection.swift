// SPDX-License-Identifier: GPL-3.0-or-later
// Losing and finding the server again: when to retry, and closing a lost client without waiting on a frozen server.

import Foundation
import Synchronization

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

/// When to try reopening the client: 100 ms after losing the server, then doubling to 2 s.
struct ReconnectSchedule {
    static let firstInterval: Duration = .milliseconds(100)
    static let longestInterval: Duration = .seconds(2)

    private let since = ContinuousClock.now
    private var next = ContinuousClock.now
    private var interval: Duration = .zero

    var isDue: Bool { ContinuousClock.now >= next }

    mutating func failedAttempt() {
        interval = interval == .zero ? Self.firstInterval : min(interval * 2, Self.longestInterval)
        next = .now + interval
    }

    var downtimeDescription: String { formatted(seconds(.now - since)) + " s" }
}

/// Closes a lost client on a thread of its own. `jack_client_close` waits for the server's answer,
/// and a frozen server (SIGSTOP, a debugger) never gives it until it runs again: the main loop
/// must not wait with it. Until `isDone`, callbacks of that client may still run (if the server
/// resumes), so the host keeps the context and the engines as they are.
final class ClientCloser: @unchecked Sendable {
    private let done = Atomic<Bool>(false)
    private let started = ContinuousClock.now
    /// Whether the host has said that the close is stuck.
    var reported = false
    /// The session to close; emptied by the closing thread only.
    private var session: JackHost.Session?

    init(_ session: JackHost.Session) {
        self.session = session
        let thread = Thread { [self] in
            self.session = nil   // the last reference: jack_client_close runs here
            done.store(true, ordering: .releasing)
        }
        thread.name = "sordino-jack-close"
        thread.start()
    }

    var age: Duration { .now - started }

    /// Polls for up to `timeout`; true once the client is closed.
    func wait(upTo timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !done.load(ordering: .acquiring) {
            if ContinuousClock.now >= deadline { return false }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return true
    }
}
