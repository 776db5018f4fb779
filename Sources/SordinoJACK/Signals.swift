// SPDX-License-Identifier: GPL-3.0-or-later
// The daemon's signals handled on an ordinary thread: blocked everywhere, awaited by the main loop; SIGPIPE ignored.

internal import CRealtime
import Glibc

/// Waits for the daemon's signals synchronously, with `sigtimedwait`, instead of in a handler
/// (jack.h forbids closing a client from a signal handler, and a handler may interrupt anything).
///
/// Call `blockTerminationSignals()` first thing in `main`, before any thread exists: threads
/// inherit the mask, so libjack's threads never receive these signals and the main thread
/// collects them with `wait(timeout:)` between housekeeping steps.
public struct SignalWaiter: @unchecked Sendable {
    public enum Received: Sendable, Equatable, CustomStringConvertible {
        /// SIGINT (Ctrl-C): stop.
        case interrupt
        /// SIGTERM: stop.
        case terminate
        /// SIGHUP: reload the preset.
        case hangup
        /// SIGUSR1: log a status line.
        case status
        /// SIGUSR2: no action, but logged (it would otherwise kill the daemon).
        case user2

        public var description: String {
            switch self {
            case .interrupt: "SIGINT"
            case .terminate: "SIGTERM"
            case .hangup: "SIGHUP"
            case .status: "SIGUSR1"
            case .user2: "SIGUSR2"
            }
        }
    }

    private let signals: sigset_t

    /// Blocks SIGINT, SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 for the calling thread and every thread
    /// it starts later, and ignores SIGPIPE (a peer that closed a pipe or socket is an error
    /// return, not a reason to die). Threads that libraries started before main (OpenBLAS's pool,
    /// started when it is loaded) still accept them: a handler there sends each on to the calling
    /// thread, where `wait` collects it (without it, a SIGHUP delivered to such a thread ended the
    /// daemon: seen once in `make faults`' reload step).
    public static func blockTerminationSignals() -> SignalWaiter {
        var set = handledSignals()
        pthread_sigmask(SIG_BLOCK, &set, nil)
        _ = CRealtime_forwardSignalsToThisThread()
        signal(SIGPIPE, SIG_IGN)
        return SignalWaiter(signals: set)
    }

    /// Unblocks them again on the calling thread (tests, and `sordino ctl watch`, which Ctrl-C must
    /// end even when its parent started it with them blocked; a daemon exits instead).
    public static func unblockTerminationSignals() {
        var set = handledSignals()
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    private static func handledSignals() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2] { sigaddset(&set, s) }
        return set
    }

    /// Waits up to `timeout` for one of the blocked signals; nil when none arrived.
    public func wait(timeout: Duration) -> Received? {
        var set = signals
        let (seconds, attoseconds) = timeout.components
        var limit = timespec(tv_sec: Int(max(seconds, 0)), tv_nsec: Int(max(attoseconds, 0) / 1_000_000_000))
        switch sigtimedwait(&set, nil, &limit) {
        case SIGINT: return .interrupt
        case SIGTERM: return .terminate
        case SIGHUP: return .hangup
        case SIGUSR1: return .status
        case SIGUSR2: return .user2
        default: return nil   // −1: EAGAIN (timeout) or EINTR
        }
    }
}
