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
        live result. When the server goes away Sordino keeps its engine, reconnects when the server \
        is back (retrying every 0.1 s, backing off to 2 s) and restores its connections; \
        --no-reconnect exits with 69 instead.

        Signals: SIGHUP re-reads the preset files and swaps the new engine in without a glitch \
        (a failed reload is logged and the running engine kept); SIGINT and SIGTERM deactivate, \
        close the client and exit 0. Logs go to stderr: the start-up line (ports, rate, block \
        length, latency in samples and ms), connections, reconnects, and a health line every \
        --report-interval seconds (xruns, DSP load, callback cost).

        Exit codes: 0 stopped by SIGINT/SIGTERM; 64 usage; 65 preset rejected or none for the \
        server's rate (the error lists the rates available); 66 preset not found; 69 no JACK \
        server, or it went away with --no-reconnect.
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

    @Option(name: .customLong("max-block"),
            help: "Largest block length in samples (1…65536) the engine is built for; a larger JACK buffer size rebuilds it off the audio thread.")
    var maxBlock: Int = 8192

    @Flag(name: .customLong("no-reconnect"), help: "Exit with 69 when the server goes away instead of waiting for it.")
    var noReconnect = false

    @Option(name: .customLong("report-interval"), help: "Seconds between health lines in the log (≥ 0.1); 0 turns them off.")
    var reportInterval: Double = 60

    @Option(name: .customLong("log-level"), help: "Log level on stderr: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    @OptionGroup var engine: EngineOptions

    mutating func validate() throws {
        guard (1...64).contains(channels) else { throw ValidationError("--channels must lie in 1…64 (got \(channels)).") }
        guard (1...65_536).contains(maxBlock) else { throw ValidationError("--max-block must lie in 1…65536 (got \(maxBlock)).") }
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
                                      maximumBlockLength: maxBlock, reconnects: !noReconnect)
        let host: JackHost
        do throws(JackHostError) {
            host = try JackHost(options: options, logger: logger, makeEngine: factory.factory)
        } catch .serverNotRunning(let name) {
            throw report(CommandError("\(JackHostError.serverNotRunning(name: name)) To try Sordino without one: `sordino demo`.",
                                      exitCode: .serverUnavailable), command: "run")
        } catch {
            throw report(factory.underlying(error), command: "run")
        }
        defer { host.close() }
        let interval: Duration = reportInterval > 0 ? .milliseconds(Int64(reportInterval * 1000)) : .seconds(365 * 86_400)
        do {
            let stoppedBy = try host.run(signals: signals, reportInterval: interval)
            host.log(host.takeReport())
            host.close()
            logger.info("stopped by \(stoppedBy)")
        } catch {
            throw report(factory.underlying(error), command: "run")
        }
    }
}
