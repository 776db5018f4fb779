// SPDX-License-Identifier: GPL-3.0-or-later
// SIGINT and SIGTERM during `process`: noted by a handler, acted on between chunks, so every output is closed whole.

import Glibc
import Synchronization

/// The signal that asked an offline command to stop. Until `install`, SIGINT and SIGTERM kill the
/// process at once (and leave a WAV's header unwritten: a file of data that claims none); after
/// it, the first one only sets `requested`, the reading loops stop at their next chunk and close
/// their outputs, and a second one kills as before (the handler resets itself).
enum Interruption {
    private static let received = Atomic<Int32>(0)

    /// SIGINT or SIGTERM once one has arrived, else nil.
    static var requested: Int32? {
        let signal = received.load(ordering: .relaxed)
        return signal == 0 ? nil : signal
    }

    /// Handles SIGINT and SIGTERM as described above (an atomic store: async-signal-safe). A
    /// signal the process was started ignoring stays ignored (SIGINT of a job a script put in the
    /// background), as the shell meant.
    static func install() {
        for signal in [SIGINT, SIGTERM] {
            var current = sigaction()
            sigaction(signal, nil, &current)
            if unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self) { continue }
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { Interruption.received.store($0, ordering: .relaxed) }
            action.sa_flags = Int32(bitPattern: UInt32(SA_RESETHAND)) | SA_RESTART
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, nil)
        }
    }

    /// "SIGINT", "SIGTERM".
    static func name(_ signal: Int32) -> String { signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "signal \(signal)" }
}

/// An offline command stopped by SIGINT or SIGTERM after closing its output; exits 128 + the signal.
struct Interrupted: Error, CustomStringConvertible {
    let signal: Int32
    /// What was written, e.g. "out.wav holds the first 12.34 s of in.wav, enhanced".
    let written: String

    var description: String { "interrupted by \(Interruption.name(signal)); \(written)." }
}
