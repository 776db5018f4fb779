// SPDX-License-Identifier: GPL-3.0-or-later
// The JACK session: options, opening and reopening the client, engines for the server's rate, reloads, reports.

internal import CRealtime
import Foundation
import Logging
import SordinoDSP

/// What the host connects to and how it behaves.
public struct JackHostOptions: Sendable {
    /// Requested client name; the server appends "-01"… if it is taken.
    public var clientName: String
    /// Server to use; nil for the default ($JACK_DEFAULT_SERVER, else "default").
    public var serverName: String?
    /// Channels: ports `in_1…in_N`, `out_1…out_N`. Must equal the engines' channel count.
    public var channelCount: Int
    /// Regex for the output ports that feed `in_1…` (see `AutoConnectRule`); nil connects nothing.
    public var connectInputs: String?
    /// Regex for the input ports `out_1…` feed; nil connects nothing.
    public var connectOutputs: String?
    /// Reopen the client when the server goes away (retrying every 100 ms, backing off to 2 s).
    public var reconnects: Bool
    /// A connected stretch this long without a process callback counts as a lost server.
    public var silenceTimeout: Duration
    /// Lock the process's memory (`mlockall`) at start; a warning when the system refuses.
    public var locksMemory: Bool

    public init(clientName: String = "sordino", serverName: String? = nil, channelCount: Int = 1,
                connectInputs: String? = nil, connectOutputs: String? = nil, reconnects: Bool = true,
                silenceTimeout: Duration = .seconds(5), locksMemory: Bool = false) {
        self.clientName = clientName
        self.serverName = serverName
        self.channelCount = channelCount
        self.connectInputs = connectInputs
        self.connectOutputs = connectOutputs
        self.reconnects = reconnects
        self.silenceTimeout = silenceTimeout
        self.locksMemory = locksMemory
    }

    /// The server's name as users know it: the option, else `$JACK_DEFAULT_SERVER`, else "default".
    public var serverDisplayName: String {
        serverName ?? ProcessInfo.processInfo.environment["JACK_DEFAULT_SERVER"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
    }
}

/// Runs engines as a JACK client with ports `in_1…in_N` → `out_1…out_N`.
///
/// Threads: the audio thread runs `AudioCycle.swift` only; libjack's other callbacks only set
/// atomics or queue messages; everything else (opening and reopening the client, connecting,
/// building and freeing engines, logging) happens on the thread that owns the host, in `init`,
/// `service()`, `reload()` and `run(signals:…)`. Not thread-safe: use it from one thread. The live
/// controls (`controls`) may be written from any thread: the host owns that one block and hands
/// it to every engine it builds, so swaps keep them.
///
/// Any block length works without a rebuild. Freewheeling processes every cycle exactly as in
/// real time (only faster), so freewheel exports through Sordino are bit-identical.
public final class JackHost {
    public let options: JackHostOptions
    /// The live controls every engine of this host follows; write from any thread.
    public let controls: ControlBlock
    let logger: Logger
    private let makeEngine: EngineFactory
    let context: UnsafeMutablePointer<HostContext>
    private var connections: ConnectionKeeper
    private var session: Session?
    private var engines = EngineKeeper()
    private var reconnect = ReconnectSchedule()
    /// The last reconnect failure logged, so that a server we cannot serve is reported once.
    private var lastReconnectFailure: String?
    private var reportBaseline: [Int]
    private var wasFreewheeling = false
    private var lastCycles = 0
    private var lastCycleSeen = ContinuousClock.now

    public private(set) var reconnects = 0
    public private(set) var engineRebuilds = 0
    /// The server's sample rate in Hz (of the current or last session).
    public private(set) var sampleRate = 0
    /// The server's block length in samples (of the current or last session).
    public private(set) var blockLength = 0
    /// The client name the server gave us (the requested one until the first session).
    public private(set) var clientName: String
    /// What the running engine was built from (the factory's `origin`).
    public private(set) var engineOrigin = ""

    /// Opens the client (never starting a server), builds the engine for the server's rate,
    /// registers the ports, activates, connects by the patterns, and logs a start-up line.
    public init(options: JackHostOptions, logger: Logger, controls: ControlBlock = ControlBlock(EngineConfiguration()),
                makeEngine: @escaping EngineFactory) throws(JackHostError) {
        precondition((1...64).contains(options.channelCount), "channelCount must be 1…64")
        self.options = options
        self.logger = logger
        self.controls = controls
        self.makeEngine = makeEngine
        clientName = options.clientName
        connections = ConnectionKeeper(
            channelCount: options.channelCount,
            inputRule: try options.connectInputs.map { pattern throws(JackHostError) in try AutoConnectRule(pattern: pattern) },
            outputRule: try options.connectOutputs.map { pattern throws(JackHostError) in try AutoConnectRule(pattern: pattern) })
        context = .allocate(capacity: 1)
        context.initialize(to: HostContext(channelCount: options.channelCount))
        reportBaseline = context.pointee.histogram.snapshot()
        routeJackMessagesToQueue()
        if options.locksMemory {
            let error = CRealtime_lockMemory()
            if error != 0 {
                logger.warning("could not lock memory (mlockall: \(String(cString: strerror(error)))); pages may be swapped out under memory pressure. Raise the memlock limit (ulimit -l, or LimitMEMLOCK= in a systemd unit).")
            }
        }
        try startSession()
    }

    deinit {
        close()
        context.deinitialize(count: 1)
        context.deallocate()
    }

    // MARK: - State

    /// True while a client is open on a live server.
    public var isConnected: Bool { session != nil }
    public var serverDisplayName: String { options.serverDisplayName }
    /// Full names of the input ports, "sordino:in_1"….
    public var inputPortNames: [String] { (1...options.channelCount).map { "\(clientName):in_\($0)" } }
    /// Full names of the output ports.
    public var outputPortNames: [String] { (1...options.channelCount).map { "\(clientName):out_\($0)" } }
    /// pthread_self() of the audio (process callback) thread as a number; 0 before the first cycle.
    public var processThread: UInt { context.pointee.processThread.load(ordering: .relaxed) }
    /// Whether JACK's thread-init callback found flush-to-zero on after setting it (audio thread).
    public var flushToZeroOnAudioThread: Bool { context.pointee.flushToZeroSet.load(ordering: .acquiring) }
    /// Delay from `in_c` to `out_c` in samples (the newest engine's latency), as reported to JACK.
    public var latencySamples: Int { engines.newest?.pointee.latencySamples ?? 0 }
    /// The same delay in milliseconds.
    public var latencyMilliseconds: Double { engines.newest?.pointee.configuration.latencyMilliseconds ?? 0 }
    /// Counters of the newest engine (its processed samples align a test player to its hops).
    public var engineTelemetry: Telemetry {
        guard let newest = engines.newest else { preconditionFailure("JackHost has no engine before its first session") }
        return newest.pointee.telemetry
    }
    /// Completed glitch-free hand-overs from one engine to the next on the audio thread.
    public var handOvers: Int { context.pointee.slot.handOvers.load(ordering: .relaxed) }
    /// Engines not yet freed (running, handing over, or waiting to be collected).
    var engineCount: Int { engines.count }

    // MARK: - Main loop

    /// Blocks on the signals, calling `service()` every `tick` and logging a report every
    /// `reportInterval`; SIGHUP reloads, SIGUSR1 logs a status line. Returns the signal that asked
    /// it to stop, or throws when the host cannot go on (the server gone with reconnecting off).
    public func run(signals: SignalWaiter, reportInterval: Duration = .seconds(60),
                    tick: Duration = .milliseconds(100)) throws(JackHostError) -> SignalWaiter.Received {
        let clock = ContinuousClock()
        var nextReport = clock.now + reportInterval
        while true {
            switch signals.wait(timeout: tick) {
            case .hangup?:
                logger.info("SIGHUP: reloading the preset")
                reload()
            case .status?:
                logStatus(takeReport(), prefix: "SIGUSR1 status")
            case .user2?:
                logger.notice("SIGUSR2: no action (SIGUSR1 logs the status, SIGHUP reloads the preset)")
            case let stop?:
                logger.info("\(stop): stopping")
                return stop
            case nil:
                break
            }
            try service()
            if clock.now >= nextReport {
                logStatus(takeReport(), prefix: nil)
                nextReport = clock.now + reportInterval
            }
        }
    }

    /// One housekeeping step; call every ~100 ms from the owning thread. Logs libjack's queued
    /// messages, notices a lost or silent server and reconnects (backoff 100 ms → 2 s), follows
    /// rate and block-length changes, connects ports as they appear, and frees retired engines.
    public func service() throws(JackHostError) {
        for message in HostEventQueue.shared.drain() { logger.debug("libjack: \(message)") }
        if session != nil {
            if context.pointee.serverShutDown.load(ordering: .acquiring) {
                try loseServer(because: "it shut down or dropped the client")
            } else if let silence = silentFor(), silence >= options.silenceTimeout {
                try loseServer(because: "no process callback for \(formatted(seconds(silence))) s")
            } else {
                followServerChanges()
            }
        }
        if session == nil, reconnect.isDue { attemptReconnect() }
        engines.pump(context, session: session != nil)
    }

    /// Builds a new engine for the current rate and hands it over without a gap (SIGHUP). The
    /// preset's control values become the defaults, the command line's overrides on top; values set
    /// live stay. On failure logs why and keeps the running engine.
    public func reload() {
        do throws(JackHostError) {
            try installEngine(for: sampleRate, reason: "reloaded")
        } catch {
            logger.error("reload refused, the running engine keeps going: \(error)")
        }
    }

    /// Deactivates and closes the client and frees every engine. Idempotent; `deinit` calls it.
    public func close() {
        if session != nil {
            session = nil
            logger.info("JACK client '\(clientName)' closed")
        }
        clearPortTables()
        engines.removeAll(context)
    }

    /// Interval statistics since the previous call, plus running totals.
    public func takeReport() -> JackHostReport {
        let counts = context.pointee.histogram.snapshot()
        let interval = zip(counts, reportBaseline).map { $0 - $1 }
        reportBaseline = counts
        let levels = context.pointee.takePeakLevels()
        let totals = engines.totals
        return JackHostReport(
            connected: session != nil,
            xruns: context.pointee.xruns.load(ordering: .relaxed),
            cpuLoadPercent: session?.client.cpuLoad ?? 0,
            callback: CallbackStatistics(counts: interval, maximumNanoseconds: context.pointee.histogram.takeMaximum()),
            framesProcessed: context.pointee.frames.load(ordering: .relaxed),
            nonFiniteSamples: totals.nonFinite, clippedSamples: totals.clipped,
            reconnects: reconnects, engineRebuilds: engineRebuilds,
            inputPeakDecibels: levels.input, outputPeakDecibels: levels.output,
            droppedMessages: HostEventQueue.shared.dropped.load(ordering: .relaxed))
    }

    /// Logs a report where the user looks: at info level, or at the `--log-level` set above it,
    /// so that `--log-level warning` still shows the status the user asked for.
    public func logStatus(_ report: JackHostReport, prefix: String?) {
        let line = report.line(serverName: serverDisplayName)
        logger.log(level: max(.info, logger.logLevel), "\(prefix.map { "\($0): " } ?? "")\(line)")
    }

    // MARK: - Sessions

    /// One open client with its ports. Closing = dropping the last reference.
    final class Session {
        let client: JackClient
        let inputs: [JackPort]
        let outputs: [JackPort]

        init(client: consuming JackClient, inputs: [JackPort], outputs: [JackPort]) {
            self.client = client
            self.inputs = inputs
            self.outputs = outputs
        }

        var ports: [(key: String, port: JackPort)] {
            inputs.enumerated().map { ("in_\($0.offset + 1)", $0.element) }
                + outputs.enumerated().map { ("out_\($0.offset + 1)", $0.element) }
        }
    }

    /// Opens a client, makes sure an engine for the server's rate is installed, registers and
    /// labels the ports, installs the callbacks, activates, reports latency and connects.
    private func startSession() throws(JackHostError) {
        let client = try openClient()
        let rate = client.sampleRate, length = client.blockLength
        clientName = client.actualName
        if engines.newest?.pointee.configuration.sampleRate != rate {
            try installEngine(for: rate, reason: engines.newest == nil ? nil : "rebuilt for \(rate) Hz")
        }
        sampleRate = rate
        blockLength = length
        let (inputs, outputs) = try registerPorts(client)
        for c in 0..<options.channelCount {
            context.pointee.inputPorts[c] = inputs[c].opaque
            context.pointee.outputPorts[c] = outputs[c].opaque
        }
        context.pointee.serverShutDown.store(false, ordering: .relaxed)
        context.pointee.announcedBlockLength.store(length, ordering: .relaxed)
        context.pointee.announcedSampleRate.store(rate, ordering: .relaxed)
        context.pointee.portsChanged.store(false, ordering: .relaxed)
        context.pointee.connectionsChanged.store(false, ordering: .relaxed)
        context.pointee.latencySamples.store(latencySamples, ordering: .releasing)
        guard client.installHostCallbacks(context: context), client.activate() else {
            clearPortTables()
            throw .activationFailed(client: clientName)
        }
        let session = Session(client: client, inputs: inputs, outputs: outputs)
        self.session = session
        lastCycles = context.pointee.cycles.load(ordering: .relaxed)
        lastCycleSeen = .now
        session.client.recomputeTotalLatencies()
        logger.info("""
            JACK client '\(clientName)' on server '\(serverDisplayName)': \
            ports \((inputs + outputs).map(\.name).joined(separator: ", ")); \
            \(rate) Hz, block \(length) samples, latency \(latencySamples) samples \
            (\(formatted(latencyMilliseconds)) ms)
            """)
        connections.connect(inputs: inputs, outputs: outputs, clientName: clientName, client: session.client, logger: logger)
        connections.observe(session.ports, client: session.client)
    }

    private func registerPorts(_ client: borrowing JackClient) throws(JackHostError) -> (inputs: [JackPort], outputs: [JackPort]) {
        var inputs: [JackPort] = [], outputs: [JackPort] = []
        for (direction, prefix) in [(JackPortDirection.input, "in"), (.output, "out")] {
            for c in 1...options.channelCount {
                let shortName = "\(prefix)_\(c)"
                guard let port = client.registerPort(shortName: shortName, direction: direction) else {
                    throw .portRegistrationFailed(port: "\(clientName):\(shortName)")
                }
                // Metadata is optional (servers without a metadata store refuse it): best effort.
                let labelled = client.setProperty(.prettyName, of: port, to: "Sordino \(prefix) \(c)")
                    && client.setProperty(.order, of: port, to: "\(c)")
                    && client.setProperty(.portGroup, of: port, to: "Sordino \(prefix)")
                if !labelled { logger.debug("JACK server did not accept metadata for \(shortName)") }
                if direction == .input { inputs.append(port) } else { outputs.append(port) }
            }
        }
        return (inputs, outputs)
    }

    /// Opens the client. A server that answers but reports a communication error (JackServerError,
    /// seen while a just-started jackd finishes its set-up or under heavy load) gets two more tries,
    /// 100 ms apart; a server that is not there fails at once.
    private func openClient() throws(JackHostError) -> JackClient {
        var attempt = 0
        while true {
            do {
                return try JackClient(name: options.clientName, serverName: options.serverName)
            } catch {
                if error.contains(.serverFailed) { throw .serverNotRunning(name: serverDisplayName) }
                attempt += 1
                guard error.contains(.serverError), attempt < 3 else {
                    throw .clientRefused(name: options.clientName, status: error)
                }
                logger.info("JACK server '\(serverDisplayName)' answered with \(error); retrying")
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
    }

    private func attemptReconnect() {
        do throws(JackHostError) {
            try startSession()
            reconnects += 1
            lastReconnectFailure = nil
            logger.info("reconnected to JACK server '\(serverDisplayName)' after \(reconnect.downtimeDescription)")
            reconnect = ReconnectSchedule()
        } catch {
            session = nil
            clearPortTables()
            reconnect.failedAttempt()
            switch error {
            case .serverNotRunning, .clientRefused, .activationFailed, .portRegistrationFailed: break
            default:
                // The server is back but cannot be served (no preset for its rate, say): say so
                // once, and keep waiting for one that can.
                let text = "\(error)"
                if text != lastReconnectFailure {
                    logger.error("JACK server '\(serverDisplayName)' is back but cannot be served: \(text) Waiting for a server Sordino can serve.")
                    lastReconnectFailure = text
                }
            }
        }
    }

    /// The server went away: close our side, keep what was connected, schedule reconnects.
    private func loseServer(because reason: String) throws(JackHostError) {
        let status = JackStatus(rawValue: context.pointee.shutdownStatus.load(ordering: .relaxed))
        let detail = status.rawValue == 0 ? reason : "\(reason); \(status)"
        logger.warning("JACK server '\(serverDisplayName)' lost (\(detail))\(options.reconnects ? "; reconnecting" : "")")
        connections.serverLost()
        session = nil   // jack_client_close: no callback of that client runs after this
        clearPortTables()
        context.pointee.serverShutDown.store(false, ordering: .relaxed)
        context.pointee.shutdownStatus.store(0, ordering: .relaxed)
        engines.settle(context)
        guard options.reconnects else { throw .serverShutDown(name: serverDisplayName) }
        reconnect = ReconnectSchedule()
        reconnect.failedAttempt()   // first try after 100 ms: the server is not back that fast
    }

    /// How long no process callback has run while connected (nil while freewheeling or fine).
    private func silentFor() -> Duration? {
        let cycles = context.pointee.cycles.load(ordering: .relaxed)
        if cycles != lastCycles || context.pointee.freewheeling.load(ordering: .relaxed) {
            lastCycles = cycles
            lastCycleSeen = .now
            return nil
        }
        return ContinuousClock.now - lastCycleSeen
    }

    /// Acts on what the non-audio callbacks flagged.
    private func followServerChanges() {
        guard let session else { return }
        let rate = context.pointee.announcedSampleRate.load(ordering: .acquiring)
        if rate > 0, rate != sampleRate {
            logger.warning("JACK sample rate changed: \(sampleRate) → \(rate) Hz; rebuilding the engine")
            sampleRate = rate
            do throws(JackHostError) {
                try installEngine(for: rate, reason: "rebuilt for \(rate) Hz")
            } catch {
                logger.error("no engine for \(rate) Hz, the old one keeps running at the wrong rate: \(error)")
            }
        }
        let length = context.pointee.announcedBlockLength.load(ordering: .acquiring)
        if length > 0, length != blockLength {
            logger.info("JACK block length changed: \(blockLength) → \(length) samples (no rebuild: the engine takes any block)")
            blockLength = length
        }
        let portsChanged = context.pointee.portsChanged.exchange(false, ordering: .acquiringAndReleasing)
        if portsChanged {
            connections.connect(inputs: session.inputs, outputs: session.outputs, clientName: clientName,
                                client: session.client, logger: logger)
        }
        if context.pointee.connectionsChanged.exchange(false, ordering: .acquiringAndReleasing) || portsChanged {
            connections.observe(session.ports, client: session.client)
        }
        let freewheeling = context.pointee.freewheeling.load(ordering: .acquiring)
        if freewheeling != wasFreewheeling {
            wasFreewheeling = freewheeling
            logger.info(freewheeling ? "JACK freewheeling: processing as fast as the server runs"
                                     : "JACK freewheeling ended")
        }
    }

    private func clearPortTables() {
        for c in 0..<options.channelCount {
            context.pointee.inputPorts[c] = nil
            context.pointee.outputPorts[c] = nil
        }
    }

    // MARK: - Engines

    /// Builds an engine for `rate` with the factory, sets the control defaults it brings and hands
    /// it to the audio thread (or installs it at once while no client runs). `reason` nil: the first.
    private func installEngine(for rate: Int, reason: String?) throws(JackHostError) {
        let build: EngineBuild
        do { build = try makeEngine(rate, controls) } catch { throw .engineUnavailable(error) }
        guard build.engine.configuration.sampleRate == rate else {
            throw .sampleRateMismatch(presetHz: build.engine.configuration.sampleRate, serverHz: rate)
        }
        guard build.engine.configuration.channelCount == options.channelCount else {
            throw .channelCountMismatch(engineChannels: build.engine.configuration.channelCount, ports: options.channelCount)
        }
        let defaults = build.defaults, commandLine = build.commandLine, origin = build.origin
        let oldLatency = latencySamples
        controls.setDefaults(defaults)
        engines.install(build.engine, context, session: session != nil)
        engineOrigin = origin
        if reason != nil { engineRebuilds += 1 }
        context.pointee.latencySamples.store(latencySamples, ordering: .releasing)
        if oldLatency != latencySamples { session?.client.recomputeTotalLatencies() }
        logger.info("engine \(reason ?? "built") from \(origin): \(describeControls(commandLine: commandLine))")
    }

    /// "floor −12.0 dB (preset), wet 1.0 (command line), …": each control with where it comes from.
    private func describeControls(commandLine: Set<ControlParameter>) -> String {
        let live = Set(controls.liveParameters)
        func source(_ p: ControlParameter) -> String {
            live.contains(p) ? "live" : commandLine.contains(p) ? "command line" : "preset"
        }
        let v = controls.values
        var parts = ["floor \(v.floorDecibels) dB (\(source(.floorDecibels)))", "wet \(v.wet) (\(source(.wet)))",
                     "mask exponent \(v.maskExponent) (\(source(.maskExponent)))",
                     "iterations \(v.iterations) (\(source(.iterations)))"]
        if live.contains(.bypass) { parts.append("bypass \(controls.bypass ? "on" : "off") (live)") }
        return parts.joined(separator: ", ")
    }

    // MARK: - For tests

    /// Each port's peers, sorted, keyed "in_1"…, as the host's client sees them; empty while disconnected.
    func connectionsForTesting() -> [String: [String]] {
        guard let session else { return [:] }
        var result: [String: [String]] = [:]
        for (key, port) in session.ports { result[key] = port.connections.sorted() }
        return result
    }

    /// Connects two ports through the host's client, as a user with a patchbay would.
    func connectForTesting(source: String, destination: String) {
        guard let session else { return }
        ConnectionKeeper.connect(session.client, source: source, destination: destination, logger: logger, why: "test")
    }
}

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
