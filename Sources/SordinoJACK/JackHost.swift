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
    /// Run the engine on a worker thread (`HopWorker`) instead of JACK's process thread, for
    /// `HopWorker.delay` more samples of latency; the engines should then do each hop whole.
    public var hopWorker: Bool

    public init(clientName: String = "sordino", serverName: String? = nil, channelCount: Int = 1,
                connectInputs: String? = nil, connectOutputs: String? = nil, reconnects: Bool = true,
                silenceTimeout: Duration = .seconds(5), locksMemory: Bool = false, hopWorker: Bool = false) {
        self.clientName = clientName
        self.serverName = serverName
        self.channelCount = channelCount
        self.connectInputs = connectInputs
        self.connectOutputs = connectOutputs
        self.reconnects = reconnects
        self.silenceTimeout = silenceTimeout
        self.locksMemory = locksMemory
        self.hopWorker = hopWorker
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
    /// Builds every engine; `reload(using:)` may replace it (a reload to another preset).
    var makeEngine: EngineFactory
    /// Status and jobs for other threads (a control socket); see `JackHostLink`.
    public let link: JackHostLink
    var meters: MeterWindow
    let started = ContinuousClock.now
    let context: UnsafeMutablePointer<HostContext>
    var connections: ConnectionKeeper
    var session: Session?
    var engines = EngineKeeper()
    var reconnect = ReconnectSchedule()
    /// The last reconnect failure logged, so that a server we cannot serve is reported once.
    var lastReconnectFailure: String?
    var reportBaseline: [Int]
    var workerBaseline = [Int](repeating: 0, count: CallbackHistogram.bucketCount)
    var wasFreewheeling = false
    var lastCycles = 0
    var lastCycleSeen = ContinuousClock.now
    /// How long without a cycle before `service()` stops making requests to the server: four
    /// periods and 50 ms (a loaded machine delays cycles; the work only waits).
    var quietBeforeCalls: Duration {
        .milliseconds(50) + .microseconds(4 * blockLength * 1_000_000 / max(sampleRate, 1))
    }
    /// A lost client still closing (its server is frozen); nil when none.
    var closing: ClientCloser?
    /// The input capture under way (`captureInput`); nil when none.
    var capture: InputCapture?

    public internal(set) var reconnects = 0
    public internal(set) var engineRebuilds = 0
    /// The server's sample rate in Hz (of the current or last session).
    public internal(set) var sampleRate = 0
    /// The server's block length in samples (of the current or last session).
    public internal(set) var blockLength = 0
    /// The client name the server gave us (the requested one until the first session).
    public internal(set) var clientName: String
    /// What the running engine was built from (the factory's `origin`).
    public internal(set) var engineOrigin = ""
    /// Why the output is the delayed input, unprocessed, whatever the controls say (the server
    /// changed to a sample rate no preset serves); nil while the engine processes.
    public internal(set) var passThroughReason: String?

    /// Opens the client (never starting a server), builds the engine for the server's rate,
    /// registers the ports, activates, connects by the patterns, and logs a start-up line.
    public init(options: JackHostOptions, logger: Logger, controls: ControlBlock = ControlBlock(EngineConfiguration()),
                makeEngine: @escaping EngineFactory) throws(JackHostError) {
        precondition((1...64).contains(options.channelCount), "channelCount must be 1…64")
        self.options = options
        self.logger = logger
        self.controls = controls
        self.makeEngine = makeEngine
        link = JackHostLink(controls: controls)
        meters = MeterWindow(channelCount: options.channelCount)
        clientName = options.clientName
        connections = ConnectionKeeper(
            channelCount: options.channelCount,
            inputRule: try options.connectInputs.map { pattern throws(JackHostError) in try AutoConnectRule(pattern: pattern) },
            outputRule: try options.connectOutputs.map { pattern throws(JackHostError) in try AutoConnectRule(pattern: pattern) })
        context = .allocate(capacity: 1)
        context.initialize(to: HostContext(channelCount: options.channelCount, hopWorker: options.hopWorker))
        reportBaseline = context.pointee.histogram.snapshot()
        if options.hopWorker { startHopWorker(context) }
        routeJackMessagesToQueue()
        if options.locksMemory {
            let error = CRealtime_lockMemory()
            if error != 0 {
                logger.warning("could not lock memory (mlockall: \(String(cString: strerror(error)))); pages may be swapped out under memory pressure. Raise the memlock limit (ulimit -l, or LimitMEMLOCK= in a systemd unit).")
            }
        }
        try startSession()
        publishStatus()
    }

    deinit {
        close()
        // A client still closing on a frozen server may yet call back into the context: leave it
        // (and its engines) to the process's exit rather than free what a callback could touch.
        guard closing == nil else { return }
        guard stopHopWorker(context) else { return }
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
    /// pthread_self() of the hop worker's thread as a number; 0 without one.
    public var hopWorkerThread: UInt { context.pointee.worker.thread.load(ordering: .acquiring) }
    /// Whether JACK's thread-init callback found flush-to-zero on after setting it (audio thread).
    public var flushToZeroOnAudioThread: Bool { context.pointee.flushToZeroSet.load(ordering: .acquiring) }
    /// Delay from `in_c` to `out_c` in samples (the newest engine's latency), as reported to JACK.
    public var latencySamples: Int {
        (engines.newest?.pointee.latencySamples ?? 0) + context.pointee.worker.delay.load(ordering: .relaxed)
    }
    /// The same delay in milliseconds, at the server's rate (the engine's before the first session;
    /// they differ only while the input passes through at a rate no preset serves).
    public var latencyMilliseconds: Double {
        let rate = sampleRate > 0 ? sampleRate : engines.newest?.pointee.configuration.sampleRate ?? 0
        guard rate > 0 else { return 0 }
        return Double(latencySamples) * 1000 / Double(rate)
    }
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
    /// rate and block-length changes, connects ports as they appear, frees retired engines, drains
    /// an input capture, runs the jobs other threads submitted through `link`, and publishes the
    /// status there.
    public func service() throws(JackHostError) {
        for message in HostEventQueue.shared.drain() { logger.debug("libjack: \(message)") }
        if session != nil {
            let silence = silentFor()
            if context.pointee.serverShutDown.load(ordering: .acquiring) {
                try loseServer(because: "it shut down or dropped the client")
            } else if let silence, silence >= options.silenceTimeout {
                try loseServer(because: "no process callback for \(formatted(seconds(silence))) s")
            } else if silence.map({ $0 < quietBeforeCalls }) ?? true {
                followServerChanges()
            }
            // Otherwise the server has run no cycle for several periods (frozen, or about to be
            // lost): port and connection work waits, since a request to a stopped server waits
            // as long as it is stopped, and the loss could then never be noticed.
        }
        if session == nil, finishClosing(), reconnect.isDue { attemptReconnect() }
        engines.pump(context, session: session != nil)
        serviceCapture()
        for job in link.takeJobs() { job(self) }
        publishStatus()
    }

    /// Takes the meters and publishes the status through `link` (each `service()` step does; a
    /// job that changed the host calls it before it answers, so an answer never outruns the status).
    public func publishStatus() {
        stepMeters()
        link.publish(status())
    }

    /// Takes the audio thread's level, cost and estimate counters into the meters.
    func stepMeters() {
        meters.step(context, engine: engines.newest.map { (Int(bitPattern: $0), $0.pointee.telemetry) })
    }

    /// The status as of now (the meters as of the last `service()` step).
    public func status() -> HostStatus {
        let totals = engines.totals
        let configuration = engines.newest?.pointee.configuration
        return HostStatus(
            connected: session != nil, serverName: serverDisplayName, clientName: clientName, engineOrigin: engineOrigin,
            passThroughReason: passThroughReason,
            sampleRate: sampleRate, blockLength: blockLength, latencySamples: latencySamples,
            latencyMilliseconds: latencyMilliseconds, maximumIterations: configuration?.maximumIterations ?? 0,
            configuredNoiseBoundDecibels: configuration?.noiseBoundDecibels, channels: meters.levels(),
            speechToNoiseDecibels: meters.speechToNoiseDecibels(),
            callback: meters.callbackCost(current: context.pointee.histogram.snapshot()),
            dspLoadPercent: session?.client.cpuLoad ?? 0, xruns: context.pointee.xruns.load(ordering: .relaxed),
            overruns: context.pointee.overruns.load(ordering: .relaxed),
            framesProcessed: context.pointee.frames.load(ordering: .relaxed), nonFiniteSamples: totals.nonFinite,
            clippedSamples: totals.clipped, clampedInputSamples: totals.clampedInput, reconnects: reconnects,
            engineRebuilds: engineRebuilds, handOvers: handOvers,
            uptimeSeconds: seconds(ContinuousClock.now - started))
    }

    /// Builds a new engine for the current rate and hands it over without a gap (SIGHUP). The
    /// preset's control values become the defaults, the command line's overrides on top; values set
    /// live stay. On failure logs why and keeps the running engine.
    public func reload() {
        if case .failure(let error) = reload(using: nil) {
            logger.error("reload refused, \(afterRefusal): \(error)")
        }
    }

    /// What goes on when a reload is refused: "the running engine keeps going", or, while no
    /// preset serves the server's rate, "the input keeps passing through unprocessed".
    public var afterRefusal: String {
        passThroughReason == nil ? "the running engine keeps going" : "the input keeps passing through unprocessed"
    }

    /// Like `reload()`, with `factory` (when given) building the new engine and, once it succeeded,
    /// every later one (reconnects, rate changes, reloads); on failure the running engine and the
    /// factory stay. Returns what the engine was built from.
    public func reload(using factory: EngineFactory?) -> Result<String, JackHostError> {
        let previous = makeEngine
        if let factory { makeEngine = factory }
        do throws(JackHostError) {
            try installEngine(for: sampleRate, reason: "reloaded")
            return .success(engineOrigin)
        } catch {
            makeEngine = previous
            return .failure(error)
        }
    }

    /// Deactivates and closes the client and frees every engine. Idempotent; `deinit` calls it.
    public func close() {
        clearPortTables()
        if let open = session {
            session = nil
            closing = ClientCloser(open)
            if finishClosing(waiting: .seconds(1)) { logger.info("JACK client '\(clientName)' closed") }
        }
        guard finishClosing(waiting: .seconds(1)) else {
            logger.warning("JACK server '\(serverDisplayName)' does not answer; leaving its client to the process's exit")
            return
        }
        engines.removeAll(context)
    }

    /// The hop worker's part of a report (nil without one): its cost since the previous report.
    private func takeWorkerReport() -> (cost: CallbackStatistics, lateCycles: Int, skips: Int)? {
        guard context.pointee.worker.isEnabled else { return nil }
        let counts = context.pointee.workerHistogram.snapshot()
        let interval = zip(counts, workerBaseline).map { $0 - $1 }
        workerBaseline = counts
        return (CallbackStatistics(counts: interval, maximumNanoseconds: context.pointee.workerHistogram.takeMaximum()),
                context.pointee.worker.lateCycles.load(ordering: .relaxed), context.pointee.worker.skips.load(ordering: .relaxed))
    }

    /// Interval statistics since the previous call, plus running totals.
    public func takeReport() -> JackHostReport {
        let counts = context.pointee.histogram.snapshot()
        let interval = zip(counts, reportBaseline).map { $0 - $1 }
        reportBaseline = counts
        stepMeters()
        let levels = meters.takeReportPeaks()
        let totals = engines.totals
        return JackHostReport(
            connected: session != nil,
            xruns: context.pointee.xruns.load(ordering: .relaxed),
            cpuLoadPercent: session?.client.cpuLoad ?? 0,
            callback: CallbackStatistics(counts: interval, maximumNanoseconds: levels.maximumNanoseconds),
            overruns: context.pointee.overruns.load(ordering: .relaxed),
            framesProcessed: context.pointee.frames.load(ordering: .relaxed),
            nonFiniteSamples: totals.nonFinite, clippedSamples: totals.clipped, clampedInputSamples: totals.clampedInput,
            reconnects: reconnects, engineRebuilds: engineRebuilds,
            inputPeakDecibels: levels.input, outputPeakDecibels: levels.output,
            droppedMessages: HostEventQueue.shared.dropped.load(ordering: .relaxed),
            worker: takeWorkerReport())
    }

    /// Logs a report where the user looks: at info level, or at the `--log-level` set above it,
    /// so that `--log-level warning` still shows the status the user asked for.
    public func logStatus(_ report: JackHostReport, prefix: String?) {
        let line = report.line(serverName: serverDisplayName)
        logger.log(level: max(.info, logger.logLevel), "\(prefix.map { "\($0): " } ?? "")\(line)")
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

