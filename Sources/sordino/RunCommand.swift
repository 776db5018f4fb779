// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino run`: the daemon — a JACK client that enhances in_N → out_N until SIGINT or SIGTERM.

import ArgumentParser
import Logging
import SordinoControl
import SordinoDSP
import SordinoJACK
import SordinoNMF

struct Run: ParsableCommand {
    /// Bytes a `--name` may have: JACK's client names hold 63 (`jack_client_name_size()` is 64 with the NUL).
    static let maximumNameBytes = 63

    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run as a JACK client: enhance speech live from in_N to out_N (the daemon; the default command).",
        discussion: """
        Opens a client on a running JACK server (it never starts one: see `sordino demo`) with ports \
        in_1…in_N and out_1…out_N. The preset is the one for the server's sample rate: by default \
        from the presets folder (speech-16k for 16 kHz, speech-48k for 48 kHz); a single --preset \
        must match the server's rate. The engine's latency (the preset's frame length plus one hop, in samples, \
        the frame alone with --hop-work whole, or the frame plus whole periods covering the hop and 2 ms \
        with --hop-work worker) is reported to JACK, so latency-compensating clients and `jack_lsp -l` see it.

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

        Control: `sordino ctl` talks to the daemon over a Unix socket (--control, or \
        $XDG_RUNTIME_DIR/sordino/NAME.sock; only this user is served): status, live parameters, \
        reload, save-settings (see docs/PROTOCOL.md). With --http PORT, a status page with live \
        meters and a floor slider (http://127.0.0.1:PORT/), /status (JSON) and /metrics \
        (Prometheus text) are served too; changes are accepted only from that page's own origin, \
        and a bind address other than loopback requires --http-token (docs/HTTP.md). Values saved with `sordino ctl \
        save-settings` ($XDG_STATE_HOME/sordino/NAME.json) are applied at start. Under systemd \
        (Type=notify; `sordino service install`) the daemon reports READY=1 and its STATUS=.

        Exit codes: 0 stopped by SIGINT/SIGTERM; 64 usage (also a bad --config file); 65 preset \
        rejected or none for the server's rate at start (the error lists the rates available); \
        66 preset or --config file not found; 69 no JACK server (without --wait-for-server), \
        it went away with --no-reconnect, or libjack cannot be loaded; 73 the control socket or the HTTP port cannot be opened.
        """)

    @Option(help: ArgumentHelp(
        "TOML file of run options: one key per option, spelled without '--' (floor-db = -18, link-channels = true). "
            + "Options on the command line override the file; an unknown key is an error naming it.",
        valueName: "file"))
    var config: String?

    @Option(help: "JACK server name. Default: JACK's default server ($JACK_DEFAULT_SERVER, else 'default').")
    var server: String?

    @Option(help: "JACK client name; the server appends -01, -02… if it is taken.")
    var name: String = "sordino"

    @Option(parsing: .unconditional, help: "Channels, 1…64: ports in_1…in_N and out_1…out_N, each enhanced on its own unless --link-channels.")
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

    @Flag(name: .customLong("wait-for-server"), help: "At start, wait for the JACK server instead of exiting 69 when none runs (a service).")
    var waitForServer = false

    @Flag(name: .customLong("no-reconnect"), help: "Exit with 69 when the server goes away instead of waiting for it.")
    var noReconnect = false

    @Option(name: .customLong("report-interval"), parsing: .unconditional, help: "Seconds between status lines in the log (≥ 0.1); 0 turns them off. SIGUSR1 asks for one at any time.")
    var reportInterval: Double = 60

    @Option(name: .customLong("log-level"), help: "Log level on stderr: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    @Option(name: .customLong("control"), help: ArgumentHelp(
        "Control socket path for `sordino ctl`. Default: $XDG_RUNTIME_DIR/sordino/NAME.sock (without XDG_RUNTIME_DIR: /tmp/sordino-UID/NAME.sock), in a directory Sordino makes private (0700).",
        valueName: "path"))
    var control: String?

    @Flag(name: .customLong("no-control"), help: "Open no control socket (`sordino ctl` cannot reach this daemon).")
    var noControl = false

    @Option(name: .customLong("http"), parsing: .unconditional, help: ArgumentHelp(
        "Serve the status page (/), /status, /metrics (Prometheus) and the page's websocket on this TCP port (0: any free port, logged). Off by default.",
        valueName: "port"))
    var httpPort: Int?

    @Option(name: .customLong("http-bind"), help: ArgumentHelp(
        "Address the HTTP server listens on. Any address but loopback (127.0.0.0/8, ::1, localhost) requires --http-token.",
        valueName: "address"))
    var httpBind: String = "127.0.0.1"

    @Option(name: .customLong("http-token"), help: ArgumentHelp(
        "Token (≥ 16 characters) every HTTP request must carry: `Authorization: Bearer TOKEN`, or ?token=TOKEN (open the page as http://HOST:PORT/?token=TOKEN). "
            + "Visible in `ps`: prefer http-token in a --config file only this user can read.",
        valueName: "token"))
    var httpToken: String?

    @Option(name: .customLong("http-origin"), help: ArgumentHelp(
        "Another origin whose page may change settings, besides http://BIND:PORT (e.g. http://box.local:8080 when the box is reached by that name). Repeatable.",
        valueName: "origin"))
    var httpOrigins: [String] = []

    @OptionGroup var engine: EngineOptions

    mutating func validate() throws {
        guard (1...64).contains(channels) else { throw ValidationError("--channels must lie in 1…64 (got \(channels)).") }
        guard reportInterval == 0 || (reportInterval.isFinite && reportInterval >= 0.1) else {
            throw ValidationError("--report-interval must be 0 (off) or ≥ 0.1 seconds (got \(reportInterval)).")
        }
        guard !name.isEmpty, !name.contains(":"), !name.contains("/") else {
            throw ValidationError("--name must be non-empty and without ':' or '/'.")
        }
        // A longer one was refused by the server after its retries as "server error (0x21)".
        guard name.utf8.count <= Self.maximumNameBytes else {
            throw ValidationError("--name is \(name.utf8.count) bytes; JACK client names hold at most \(Self.maximumNameBytes).")
        }
        if noControl, control != nil { throw ValidationError("--control and --no-control exclude each other.") }
        try validateHTTP()
        for (option, pattern) in [("--connect-in", connectIn), ("--connect-out", connectOut)] {
            guard let pattern else { continue }
            do { _ = try Regex(pattern) } catch {
                throw ValidationError("\(option) '\(pattern)' is not a valid regular expression (\(error)). "
                                      + "Use e.g. 'system:capture_[12]' or '^system:playback_'.")
            }
        }
    }

    func run() throws {
        if let config {
            // The file's options first, the command line's after them: the last value of an option wins.
            let merged: Run
            do {
                let fileArguments: [String]
                do { fileArguments = try RunConfigFile.arguments(path: config) } catch {
                    if case .unreadable = error { throw CommandError(error.description, exitCode: .noInput) }
                    throw CommandError(error.description, exitCode: .usage)
                }
                let arguments = fileArguments + RunConfigFile.commandLineArguments()
                do { merged = try Run.parse(arguments) } catch {
                    throw CommandError("\(config) with the command line: \(Run.message(for: error))", exitCode: .usage)
                }
            } catch {
                throw report(error, command: "run")
            }
            try merged.run()
            return
        }
        // Before any thread exists: libjack's threads inherit the mask, so only the main loop sees them.
        let signals = SignalWaiter.blockTerminationSignals()
        runMatrixProductsOnOneThread()   // learn-noise's small products; no BLAS worker spinning beside the audio
        bootstrapLogging(level: logLevel)
        let logger = Logger(label: "sordino")
        let factory = PresetEngineFactory(options: engine, channelCount: channels, logger: logger)
        let controls = ControlBlock(EngineConfiguration())
        let settings = SettingsFile(path: SettingsFile.defaultPath(name: name))
        do throws(ControlFailure) {
            if let restored = try settings.restore(into: controls) {
                logger.info("live settings restored from \(settings.path): \(restored.joined(separator: ", "))")
            }
        } catch {
            logger.warning("live settings not restored: \(error)")
        }
        let options = JackHostOptions(clientName: name, serverName: server, channelCount: channels,
                                      connectInputs: connectIn, connectOutputs: connectOut,
                                      reconnects: !noReconnect, locksMemory: true, hopWorker: engine.hopWork == .worker)
        let notifier = ServiceNotifier()
        if !noControl {
            do throws(ControlSocketError) {
                try ControlSocketPath.checkNotInUse(control ?? ControlSocketPath.defaultPath(name: name))
            } catch {
                throw report(CommandError("\(error)", exitCode: .cannotCreate), command: "run")
            }
        }
        try checkHTTPPort()
        guard let host = try openHost(options: options, controls: controls, factory: factory, signals: signals,
                                      notifier: notifier, logger: logger) else { return }
        defer { host.close() }
        let target = DaemonControlTarget(link: host.link, factory: factory, settings: settings, engineOptions: engine,
                                         channelCount: channels, logger: logger)
        let server = try startControl(target: target, logger: logger)
        defer { server?.stop() }
        let stopHTTP = try startHTTP(target: target, logger: logger)
        defer { stopHTTP?() }
        notifier.send(["READY=1", "STATUS=running on JACK server '\(host.serverDisplayName)' as '\(host.clientName)'"])
        notifier.follow(host.link)
        let interval: Duration = reportInterval > 0 ? .milliseconds(Int64(reportInterval * 1000)) : .seconds(365 * 86_400)
        do {
            let stoppedBy = try host.run(signals: signals, reportInterval: interval)
            notifier.send(["STOPPING=1"])
            host.logStatus(host.takeReport(), prefix: "final")
            host.close()
            logger.info("stopped by \(stoppedBy)")
        } catch {
            throw report(error, command: "run")
        }
    }

    /// Opens the JACK client; with --wait-for-server, waits (READY=1 and a STATUS= saying so under
    /// systemd) until a server answers. Nil when SIGINT or SIGTERM came first.
    private func openHost(options: JackHostOptions, controls: ControlBlock, factory: PresetEngineFactory,
                          signals: SignalWaiter, notifier: ServiceNotifier, logger: Logger) throws -> JackHost? {
        var waiting = false
        while true {
            do throws(JackHostError) {
                return try JackHost(options: options, logger: logger, controls: controls, makeEngine: factory.factory)
            } catch .serverNotRunning(let name) where waitForServer {
                if !waiting {
                    logger.info("waiting for JACK server '\(name)' (--wait-for-server)")
                    notifier.send(["READY=1", "STATUS=waiting for JACK server '\(name)'"])
                    waiting = true
                }
                if let signal = signals.wait(timeout: .milliseconds(500)), signal == .interrupt || signal == .terminate {
                    logger.info("\(signal): stopping")
                    notifier.send(["STOPPING=1"])
                    return nil
                }
            } catch .serverNotRunning(let name) {
                throw report(CommandError("\(JackHostError.serverNotRunning(name: name)) To try Sordino without one: `sordino demo`.",
                                          exitCode: .serverUnavailable), command: "run")
            } catch {
                throw report(error, command: "run")
            }
        }
    }

    /// Opens the control socket (unless --no-control); its failure stops the start (exit 73).
    private func startControl(target: DaemonControlTarget, logger: Logger) throws -> ControlServer? {
        guard !noControl else { return nil }
        let path = control ?? ControlSocketPath.defaultPath(name: name)
        do throws(ControlSocketError) {
            let server = try ControlServer(path: path, privateDirectory: control == nil, target: target)
            server.start()
            logger.info("control socket \(path) (`sordino ctl status --control \(path)`)")
            return server
        } catch {
            throw report(CommandError("\(error)", exitCode: .cannotCreate), command: "run")
        }
    }
}
