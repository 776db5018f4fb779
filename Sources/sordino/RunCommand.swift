// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino run`: the daemon — a JACK client that enhances in_N → out_N until SIGINT or SIGTERM.

import ArgumentParser
import Logging
import SordinoJACK

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run as a JACK client: enhance speech live from in_N to out_N (the daemon; the default command).",
        discussion: """
        Opens a client on a running JACK server (it never starts one: see `sordino demo`) with ports \
        in_1…in_N and out_1…out_N. The preset is the one for the server's sample rate: by default \
        from the presets folder (speech-16k for 16 kHz, speech-48k for 48 kHz); a single --preset \
        must match the server's rate. The engine's latency (the preset's frame length, in samples) \
        is reported to JACK, so latency-compensating clients and `jack_lsp -l` see it.

        Any block length works; output does not depend on it. Freewheeling keeps processing every \
        cycle exactly as in real time (only faster), so a freewheel export through Sordino is the \
        live result. When the server goes away (it shuts down, is killed, or runs no process \
        callback for 5 s, as a restarted PipeWire leaves its JACK clients) Sordino keeps its engine, \
        reconnects when the server is back (retrying every 0.1 s, backing off to 2 s) and restores \
        the connections that existed when the server was lost; --no-reconnect exits with 69 \
        instead. A server that comes back at a rate with no preset is reported once and waited out.

        Signals: SIGHUP re-reads the preset files and hands over to the new engine without a gap \
        (old and new run side by side for one hop and are crossfaded): the preset's floor, wet, \
        mask exponent and iterations apply, then the command line's overrides, and values set \
        live stay; the log says where each value came from. A preset that fails to load is \
        refused and the running engine keeps going. SIGUSR1 logs a status line (levels, \
        callback cost, counters); SIGINT and SIGTERM deactivate, close the client and exit 0; \
        SIGPIPE is ignored. Logs go to stderr: the start-up line (ports, rate, block length, \
        latency in samples and ms), connections, reconnects, and a status line every \
        --report-interval seconds, shown at any --log-level. Memory is locked (mlockall) at start; \
        a warning says so when the system refuses.

        Exit codes: 0 stopped by SIGINT/SIGTERM; 64 usage; 65 preset rejected or none for the \
        server's rate at start (the error lists the rates available); 66 preset not found; 69 no \
        JACK server, or it went away with --no-reconnect.
        """)

    @Option(help: "JACK server name. Default: JACK's default server ($JACK_DEFAULT_SERVER, else 'default').")
    var server: String?

    @Option(help: "JACK client name; the server appends -01, -02… if it is taken.")
    var name: String = "sordino"

    @Option(help: "Channels, 1…64: ports in_1…in_N and out_1…out_N, each enhanced on its own unless --link-channels.")
    var channels: Int = 1

    @Option(name: .customLong("connect-in"), help: ArgumentHelp(
        "Regex searched in full port names (client:port); the matching output ports feed in_1, in_2… "
            + "(channel c takes match c mod M). Re-applied when ports appear. Default: connect nothing.",
        valueName: "regex"))
    var connectIn: String?

    @Option(name: .customLong("connect-out"), help: ArgumentHelp(
        "Regex for the input ports out_1, out_2… feed, e.g. 'system:playback_[12]'. Default: connect nothing.",
        valueName: "regex"))
    var connectOut: String?

    @Flag(name: .customLong("no-reconnect"), help: "Exit with 69 when the server goes away instead of waiting for it.")
    var noReconnect = false

    @Option(name: .customLong("report-interval"), help: "Seconds between status lines in the log (≥ 0.1); 0 turns them off. SIGUSR1 asks for one at any time.")
    var reportInterval: Double = 60

    @Option(name: .customLong("log-level"), help: "Log level on stderr: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    @OptionGroup var engine: EngineOptions

    mutating func validate() throws {
        guard (1...64).contains(channels) else { throw ValidationError("--channels must lie in 1…64 (got \(channels)).") }
        guard reportInterval == 0 || (reportInterval.isFinite && reportInterval >= 0.1) else {
            throw ValidationError("--report-interval must be 0 (off) or ≥ 0.1 seconds (got \(reportInterval)).")
        }
        guard !name.isEmpty, !name.contains(":") else { throw ValidationError("--name must be non-empty and without ':'.") }
        for (option, pattern) in [("--connect-in", connectIn), ("--connect-out", connectOut)] {
            guard let pattern else { continue }
            do { _ = try Regex(pattern) } catch {
                throw ValidationError("\(option) '\(pattern)' is not a valid regular expression (\(error)). "
                                      + "Use e.g. 'system:capture_[12]' or '^system:playback_'.")
            }
        }
    }

    func run() throws {
        // Before any thread exists: libjack's threads inherit the mask, so only the main loop sees them.
        let signals = SignalWaiter.blockTerminationSignals()
        bootstrapLogging(level: logLevel)
        let logger = Logger(label: "sordino")
        let factory = PresetEngineFactory(options: engine, channelCount: channels, logger: logger)
        let options = JackHostOptions(clientName: name, serverName: server, channelCount: channels,
                                      connectInputs: connectIn, connectOutputs: connectOut,
                                      reconnects: !noReconnect, locksMemory: true)
        let host: JackHost
        do throws(JackHostError) {
            host = try JackHost(options: options, logger: logger, makeEngine: factory.factory)
        } catch .serverNotRunning(let name) {
            throw report(CommandError("\(JackHostError.serverNotRunning(name: name)) To try Sordino without one: `sordino demo`.",
                                      exitCode: .serverUnavailable), command: "run")
        } catch {
            throw report(error, command: "run")
        }
        defer { host.close() }
        let interval: Duration = reportInterval > 0 ? .milliseconds(Int64(reportInterval * 1000)) : .seconds(365 * 86_400)
        do {
            let stoppedBy = try host.run(signals: signals, reportInterval: interval)
            host.logStatus(host.takeReport(), prefix: "final")
            host.close()
            logger.info("stopped by \(stoppedBy)")
        } catch {
            throw report(error, command: "run")
        }
    }
}
