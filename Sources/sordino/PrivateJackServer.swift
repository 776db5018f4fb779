// SPDX-License-Identifier: GPL-3.0-or-later
// A private jackd for `sordino demo`: spawned with a clean signal mask in its own process group, always stopped.

import Foundation
import Glibc

/// `jackd --no-realtime -S -n NAME -d dummy -r RATE -p PERIOD`, with `JACK_NO_AUDIO_RESERVATION=1`.
///
/// - `--no-realtime`: runs without real-time privileges (a newcomer's account has none).
/// - `-S` (synchronous): the server waits for the whole graph every cycle, so a late cycle on a
///   busy machine delays the dummy clock instead of letting the next cycle overwrite buffers a
///   slow client still reads: the demo's recording is exact whatever the load.
/// - not `-T` (exit with the last client), which would stop a demo killed with SIGKILL from leaving
///   jackd behind: jack2 then exits before removing the last client's semaphore in /dev/shm.
///   SIGINT, SIGTERM and every error path stop the server; only SIGKILL leaves it running.
/// - dummy driver: no sound card needed; it runs the graph at the given rate in real time.
///
/// Spawned with `posix_spawn`, not Foundation's `Process`: the demo blocks SIGINT/SIGTERM/SIGHUP
/// (a blocked mask is inherited across exec), so the child gets an empty mask and default
/// handlers, and its own process group, so that Ctrl-C reaches only the demo, which then stops
/// the server in order. stdout and stderr go to a log file, quoted when it fails.
final class PrivateJackServer {
    let name: String
    let sampleRate: Int
    let period: Int
    let logPath: String
    private var pid: pid_t?

    /// Starts jackd. Throws `CommandError` (exit 69) when jackd is missing or cannot be spawned;
    /// readiness is the caller's to wait for (`exitStatus` tells an early death).
    init(name: String, sampleRate: Int, period: Int) throws {
        self.name = name
        self.sampleRate = sampleRate
        self.period = period
        logPath = FileManager.default.temporaryDirectory.appendingPathComponent("\(name).log").path
        guard let jackd = Self.executable("jackd") else {
            throw CommandError("jackd not found on PATH. Install it (`sudo apt-get install jackd2`, or `make deps`), "
                               + "or pass --server NAME to use a running server.", exitCode: .serverUnavailable)
        }
        let arguments = [jackd, "--no-realtime", "-S", "-n", name, "-d", "dummy",
                         "-r", "\(sampleRate)", "-p", "\(period)"]
        var environment = ProcessInfo.processInfo.environment
        environment["JACK_NO_AUDIO_RESERVATION"] = "1"
        let environmentStrings = environment.map { "\($0.key)=\($0.value)" }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environmentStrings.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child = pid_t()
        let result = posix_spawn(&child, jackd, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw CommandError("could not start \(jackd): \(String(cString: strerror(result))).", exitCode: .serverUnavailable)
        }
        pid = child
    }

    deinit { stop() }

    /// How jackd ended ("exit status 1", "signal 9") if it has already (reaping it), nil while it runs.
    func exitStatus() -> String? {
        guard let pid else { return nil }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        self.pid = nil
        // The <sys/wait.h> macros are not imported: the low 7 bits are the signal, 0 for an exit.
        let signal = status & 0x7f
        return signal == 0 ? "exit status \((status >> 8) & 0xff)" : "signal \(signal)"
    }

    /// The last lines jackd wrote, for error messages.
    func logTail(lines: Int = 6) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: " | ")
    }

    /// SIGTERM, waiting up to 2 s, then SIGKILL; reaps the process and removes its log. Idempotent.
    func stop() {
        if let pid {
            kill(pid, SIGTERM)
            let deadline = ContinuousClock.now + .seconds(2)
            var status: Int32 = 0
            var reaped = false
            while ContinuousClock.now < deadline {
                if waitpid(pid, &status, WNOHANG) == pid { reaped = true; break }
                usleep(10_000)
            }
            if !reaped {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
            }
            self.pid = nil
        }
        unlink(logPath)
    }

    private static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
    }
}
