// SPDX-License-Identifier: GPL-3.0-or-later
// The JACK host: client lifecycle, ports, auto-connect, engine swaps, latency, reconnects, reports.

import Foundation
import Logging
import SordinoDSP
import Synchronization

/// Builds an engine for the server's sample rate (Hz) and a block-length bound (samples). Called
/// on the main thread only: at start, after a reconnect, when the server's block length outgrows
/// the engine, and on `reload()`. Throw `JackHostError.sampleRateMismatch` (or return an engine of
/// another rate, which the host turns into that error) when the preset does not fit the server.
public typealias EngineFactory = (_ sampleRate: Int, _ maximumBlockLength: Int) throws -> Engine

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
    /// Block bound the engine is built for, in samples; a larger server block length rebuilds it.
    public var maximumBlockLength: Int
    /// Reopen the client when the server goes away (retrying every 100 ms, backing off to 2 s).
    public var reconnects: Bool

    public init(clientName: String = "sordino", serverName: String? = nil, channelCount: Int = 1,
                connectInputs: String? = nil, connectOutputs: String? = nil,
                maximumBlockLength: Int = 8192, reconnects: Bool = true) {
        self.clientName = clientName
        self.serverName = serverName
        self.channelCount = channelCount
        self.connectInputs = connectInputs
        self.connectOutputs = connectOutputs
        self.maximumBlockLength = maximumBlockLength
        self.reconnects = reconnects
    }
}

/// Health of a running host over the interval since the previous `takeReport()`.
public struct JackHostReport: Sendable {
    public var connected: Bool
    /// Xruns the server reported, since the host started.
    public var xruns: Int
    /// DSP load of the whole JACK graph, in percent (`jack_cpu_load`); 0 while disconnected.
    public var cpuLoadPercent: Float
    /// Process-callback cost over the interval.
    public var callback: CallbackStatistics
    /// Samples per channel processed since the host started.
    public var framesProcessed: Int
    /// NaN/Inf input samples replaced by 0, since the host started.
    public var nonFiniteSamples: Int
    /// Output samples clamped to ±`Engine.outputLimit`, since the host started.
    public var clippedSamples: Int
    /// Successful reconnects since the host started.
    public var reconnects: Int
    /// Engines built after the first (block-length growth, rate change, reload), since the host started.
    public var engineRebuilds: Int
}

/// Runs one `Engine` as a JACK client with ports `in_1…in_N` → `out_1…out_N`.
///
/// Threads: the audio thread only runs the engine (through `HostContext`); libjack's other
/// callbacks only set atomics; everything else — opening and reopening the client, connecting
/// ports, building and freeing engines, logging — happens on the thread that owns the host,
/// in `init`, `service()`, `replaceEngine(_:)`, `reload()` and `run(signals:…)`. Not thread-safe:
/// use it from one thread. Controls may be written from any thread through `controls`.
///
/// Block length: the engine processes any block length with identical output; it is built for
/// `maximumBlockLength` (8192) and rebuilt off the audio thread only if the server's block length
/// exceeds that (until the rebuild, the old engine processes the longer blocks in several passes).
///
/// Freewheeling: the host keeps processing every cycle exactly as in real time (the output is the
/// same, only faster than real time), so freewheel exports through Sordino are bit-identical.
public final class JackHost {
    public let options: JackHostOptions
    private let logger: Logger
    private let makeEngine: EngineFactory
    private let context: UnsafeMutablePointer<HostContext>
    private let inputRule: AutoConnectRule?
    private let outputRule: AutoConnectRule?

    /// The open client and its ports; nil while the server is away.
    private var session: Session?
    /// The engine the audio thread runs (also while disconnected: it keeps its state).
    private var current: UnsafeMutablePointer<Engine>?
    /// Swapped-out engines waiting until the audio thread can no longer hold them.
    private var retired: [(engine: UnsafeMutablePointer<Engine>, cycleMark: Int)] = []
    /// Peers of each of our ports ("in_1" → ["system:capture_1"]), kept across reconnects.
    private var remembered: [String: Set<String>] = [:]
    private var reconnect = ReconnectSchedule()
    /// Telemetry of engines already freed, so that totals survive rebuilds.
    private var retiredTotals = (nonFinite: 0, clipped: 0)
    private var reportBaseline: [Int]
    private var wasFreewheeling = false

    public private(set) var reconnects = 0
    public private(set) var engineRebuilds = 0
    /// The server's sample rate in Hz (of the current or last session).
    public private(set) var sampleRate = 0
    /// The server's block length in samples (of the current or last session).
    public private(set) var blockLength = 0

    /// Opens the client (never starting a server), builds the engine for the server's rate,
    /// registers the ports, activates, connects by the patterns, and logs a start-up line.
    public init(options: JackHostOptions, logger: Logger, makeEngine: @escaping EngineFactory) throws(JackHostError) {
        precondition((1...64).contains(options.channelCount), "channelCount must be 1…64")
        precondition(options.maximumBlockLength >= 1, "maximumBlockLength must be ≥ 1")
        self.options = options
        self.logger = logger
        self.makeEngine = makeEngine
        inputRule = try options.connectInputs.map { pattern throws(JackHostError) in try AutoConnectRule(pattern: pattern) }
        outputRule = try options.connectOutputs.map { pattern throws(JackHostError) in try AutoConnectRule(pattern: pattern) }
        context = .allocate(capacity: 1)
        context.initialize(to: HostContext(channelCount: options.channelCount))
        reportBaseline = context.pointee.histogram.snapshot()
        routeJackMessagesToLogger()
        try startSession()
    }

    deinit {
        close()
        context.deinitialize(count: 1)
        context.deallocate()
    }

    // MARK: - Public state

    /// True while a client is open on a live server.
    public var isConnected: Bool { session != nil }
    /// The server's name as the host addresses it.
    public var serverDisplayName: String { options.serverName ?? "default" }
    /// The client name the server gave us (the requested one until the first session).
    public private(set) var clientName: String = ""
    /// Full names of the input ports, "sordino:in_1"….
    public var inputPortNames: [String] { (1...options.channelCount).map { "\(clientName):in_\($0)" } }
    /// Full names of the output ports.
    public var outputPortNames: [String] { (1...options.channelCount).map { "\(clientName):out_\($0)" } }

    /// Live controls of the current engine. A rebuild (block length, reload) replaces the block,
    /// carrying its values over, so fetch it again rather than keeping it; other threads use
    /// `liveControls`.
    public var controls: ControlBlock { engine.controls }
    /// The current engine's controls for other threads (a control socket): read `current` for
    /// every change, since an engine swap replaces the block.
    public let liveControls = LiveControls()
    /// Whether JACK's thread-init callback found flush-to-zero on after setting it (audio thread).
    /// pthread_self() of the audio (process callback) thread as a number; 0 before the first cycle.
    public var processThread: UInt { context.pointee.processThread.load(ordering: .relaxed) }
    public var flushToZeroOnAudioThread: Bool { context.pointee.flushToZeroSet.load(ordering: .acquiring) }
    /// Counters of the current engine.
    public var telemetry: Telemetry { engine.telemetry }
    /// Delay from `in_c` to `out_c` in samples (the engine's latency), as reported to JACK.
    public var latencySamples: Int { engine.latencySamples }
    /// The same delay in milliseconds at the engine's sample rate.
    public var latencyMilliseconds: Double { engine.configuration.latencyMilliseconds }

    private var engine: Engine {
        _read {
            guard let current else { preconditionFailure("JackHost has no engine before its first session") }
            yield current.pointee
        }
    }

    // MARK: - Main loop

    /// Blocks on the signals, calling `service()` every `tick` and logging a report every
    /// `reportInterval`; SIGHUP calls `reload()`. Returns the signal that asked it to stop, or
    /// throws when the host cannot go on (server gone with reconnecting off, preset not fitting a
    /// restarted server). The tick bounds how late a reconnect or hot-plug connection happens.
    public func run(signals: SignalWaiter, reportInterval: Duration = .seconds(60),
                    tick: Duration = .milliseconds(100)) throws(JackHostError) -> SignalWaiter.Received {
        let clock = ContinuousClock()
        var nextReport = clock.now + reportInterval
        while true {
            if let signal = signals.wait(timeout: tick) {
                if signal == .hangup {
                    logger.info("SIGHUP: reloading the engine")
                    reload()
                } else {
                    logger.info("\(signal): stopping")
                    return signal
                }
            }
            try service()
            if clock.now >= nextReport {
                log(takeReport())
                nextReport = clock.now + reportInterval
            }
        }
    }

    /// One housekeeping step; call every ~100 ms from the owning thread. Notices a dead server
    /// and reconnects (backoff 100 ms → 2 s), rebuilds the engine when the block length outgrew
    /// it or the rate changed, applies auto-connect when ports appear, remembers connections,
    /// and frees engines the audio thread has let go of.
    public func service() throws(JackHostError) {
        if session != nil {
            if context.pointee.serverShutDown.load(ordering: .acquiring) {
                try loseServer()
            } else {
                try followServerChanges()
            }
        }
        if session == nil, reconnect.isDue {
            do {
                try startSession()
                reconnects += 1
                logger.info("reconnected to JACK server '\(serverDisplayName)' after \(reconnect.downtimeDescription)")
                reconnect = ReconnectSchedule()
            } catch .serverNotRunning, .clientRefused, .activationFailed, .portRegistrationFailed {
                reconnect.failedAttempt()
            }
        }
        reap()
    }

    /// Builds a new engine with the factory for the current rate and swaps it in (SIGHUP). On
    /// failure logs the reason and keeps the running engine.
    public func reload() {
        do throws(JackHostError) {
            let fresh = try buildEngine(sampleRate: sampleRate, blockLength: blockLength)
            try replaceEngine(fresh)
            logger.info("engine reloaded: latency \(latencySamples) samples (\(formatted(latencyMilliseconds)) ms)")
        } catch {
            logger.error("reload failed, keeping the running engine: \(error)")
        }
    }

    /// Hands `engine` to the audio thread with one atomic swap, glitch-free; the old engine is
    /// freed on this thread once the audio thread has finished its last cycle with it. The new
    /// engine must have the host's channel count and the server's sample rate. With
    /// `carryingControls` the live control values (floor, wet, exponent, iterations, bypass) move
    /// over from the running engine; without, the new engine keeps its preset's. Main thread only.
    public func replaceEngine(_ engine: consuming Engine, carryingControls: Bool = true) throws(JackHostError) {
        try check(engine, sampleRate: sampleRate)
        install(engine, carryingControls: carryingControls)
        engineRebuilds += 1
    }

    /// Deactivates and closes the client and frees every engine. Idempotent; `deinit` calls it.
    public func close() {
        if session != nil {
            session = nil
            logger.info("JACK client '\(clientName)' closed")
        }
        clearPortTables()
        reap()
        if let current {
            _ = context.pointee.engine.exchange(0, ordering: .sequentiallyConsistent)
            free(current)
            self.current = nil
        }
    }

    /// Interval statistics since the previous call, plus running totals.
    public func takeReport() -> JackHostReport {
        let counts = context.pointee.histogram.snapshot()
        let interval = zip(counts, reportBaseline).map { $0 - $1 }
        reportBaseline = counts
        let telemetry = current.map { ($0.pointee.telemetry.nonFiniteSamples.load(ordering: .relaxed),
                                       $0.pointee.telemetry.clippedSamples.load(ordering: .relaxed)) } ?? (0, 0)
        return JackHostReport(
            connected: session != nil,
            xruns: context.pointee.xruns.load(ordering: .relaxed),
            cpuLoadPercent: session?.client.cpuLoad ?? 0,
            callback: CallbackStatistics(counts: interval, maximumNanoseconds: context.pointee.histogram.takeMaximum()),
            framesProcessed: context.pointee.frames.load(ordering: .relaxed),
            nonFiniteSamples: retiredTotals.nonFinite + telemetry.0,
            clippedSamples: retiredTotals.clipped + telemetry.1,
            reconnects: reconnects, engineRebuilds: engineRebuilds)
    }

    /// Logs a report at info level (the once-a-minute line).
    public func log(_ report: JackHostReport) {
        let c = report.callback
        logger.info("""
            \(report.connected ? "running" : "waiting for JACK server '\(serverDisplayName)'"): \
            xruns \(report.xruns), DSP load \(formatted(Double(report.cpuLoadPercent)))%, \
            callback p50 \(formatted(c.p50Microseconds)) µs p99 \(formatted(c.p99Microseconds)) µs \
            max \(formatted(c.maximumMicroseconds)) µs over \(c.count) cycles, \
            \(report.framesProcessed) samples processed, \(report.nonFiniteSamples) NaN/Inf replaced, \
            \(report.clippedSamples) clipped, \(report.reconnects) reconnects
            """)
    }

    // MARK: - Sessions

    /// One open client with its ports. Closing = dropping the last reference.
    private final class Session {
        let client: JackClient
        let inputs: [JackPort]
        let outputs: [JackPort]

        init(client: consuming JackClient, inputs: [JackPort], outputs: [JackPort]) {
            self.client = client
            self.inputs = inputs
            self.outputs = outputs
        }
    }

    /// Opens a client, makes sure the engine fits the server, registers and labels the ports,
    /// installs the callbacks, activates, reports latency and connects.
    private func startSession() throws(JackHostError) {
        let client = try openClient()
        let rate = client.sampleRate, length = client.blockLength
        if let current, current.pointee.configuration.sampleRate == rate,
           current.pointee.configuration.maximumBlockLength >= length {
            // Keep the running engine and its state.
        } else {
            let fresh = try buildEngine(sampleRate: rate, blockLength: length)
            let first = current == nil
            install(fresh)
            if !first { engineRebuilds += 1 }
        }
        sampleRate = rate
        blockLength = length
        clientName = client.actualName

        var inputs: [JackPort] = [], outputs: [JackPort] = []
        for (direction, prefix, label) in [(JackPortDirection.input, "in", "in"), (.output, "out", "out")] {
            for c in 1...options.channelCount {
                let shortName = "\(prefix)_\(c)"
                guard let port = client.registerPort(shortName: shortName, direction: direction) else {
                    throw .portRegistrationFailed(port: "\(clientName):\(shortName)")
                }
                // Metadata is optional (servers without a metadata store refuse it): best effort.
                let labelled = client.setProperty(.prettyName, of: port, to: "Sordino \(label) \(c)")
                    && client.setProperty(.order, of: port, to: "\(c)")
                    && client.setProperty(.portGroup, of: port, to: "Sordino \(label)")
                if !labelled { logger.debug("JACK server did not accept metadata for \(shortName)") }
                if direction == .input { inputs.append(port) } else { outputs.append(port) }
            }
        }
        for c in 0..<options.channelCount {
            context.pointee.inputPorts[c] = inputs[c].opaque
            context.pointee.outputPorts[c] = outputs[c].opaque
        }
        context.pointee.serverShutDown.store(false, ordering: .relaxed)
        context.pointee.announcedBlockLength.store(length, ordering: .relaxed)
        context.pointee.announcedSampleRate.store(rate, ordering: .relaxed)
        context.pointee.portsChanged.store(false, ordering: .relaxed)
        context.pointee.connectionsChanged.store(false, ordering: .relaxed)
        guard client.installHostCallbacks(context: context) else {
            clearPortTables()
            throw .activationFailed(client: clientName)
        }
        guard client.activate() else {
            clearPortTables()
            throw .activationFailed(client: clientName)
        }
        let session = Session(client: client, inputs: inputs, outputs: outputs)
        self.session = session
        session.client.recomputeTotalLatencies()
        logger.info("""
            JACK client '\(clientName)' on server '\(serverDisplayName)': \
            ports \((inputs + outputs).map(\.name).joined(separator: ", ")); \
            \(rate) Hz, block \(length) samples, latency \(latencySamples) samples \
            (\(formatted(latencyMilliseconds)) ms)
            """)
        connectPorts(session)
        rememberConnections(session)
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

    /// The server went away: close our side, free what the audio thread held, schedule reconnects.
    private func loseServer() throws(JackHostError) {
        let status = JackStatus(rawValue: context.pointee.shutdownStatus.load(ordering: .relaxed))
        logger.warning("JACK server '\(serverDisplayName)' went away (\(status))\(options.reconnects ? "; reconnecting" : "")")
        session = nil   // jack_client_close: no callback of that client runs after this
        clearPortTables()
        context.pointee.serverShutDown.store(false, ordering: .relaxed)
        reap()
        guard options.reconnects else { throw .serverShutDown(name: serverDisplayName) }
        reconnect = ReconnectSchedule()
        reconnect.failedAttempt()   // first try after 100 ms: the server is not back that fast
    }

    /// Acts on what the non-audio callbacks flagged.
    private func followServerChanges() throws(JackHostError) {
        guard let session else { return }
        let rate = context.pointee.announcedSampleRate.load(ordering: .acquiring)
        if rate > 0, rate != sampleRate {
            logger.warning("JACK sample rate changed: \(sampleRate) → \(rate) Hz; rebuilding the engine")
            sampleRate = rate
            let fresh = try buildEngine(sampleRate: rate, blockLength: blockLength)
            install(fresh)
            engineRebuilds += 1
            session.client.recomputeTotalLatencies()
        }
        let length = context.pointee.announcedBlockLength.load(ordering: .acquiring)
        if length > 0, length != blockLength {
            logger.info("JACK block length changed: \(blockLength) → \(length) samples")
            blockLength = length
            if length > engine.configuration.maximumBlockLength {
                logger.info("block length \(length) exceeds the engine's \(engine.configuration.maximumBlockLength); rebuilding it")
                let fresh = try buildEngine(sampleRate: sampleRate, blockLength: length)
                install(fresh)
                engineRebuilds += 1
            }
        }
        if context.pointee.portsChanged.exchange(false, ordering: .acquiringAndReleasing) {
            connectPorts(session)
            rememberConnections(session)
        }
        if context.pointee.connectionsChanged.exchange(false, ordering: .acquiringAndReleasing) {
            rememberConnections(session)
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

    // MARK: - Connections

    /// Restores remembered connections, then applies the auto-connect patterns. Only adds.
    private func connectPorts(_ session: Session) {
        let ours = "\(clientName):"
        for (c, port) in session.inputs.enumerated() {
            for peer in remembered["in_\(c + 1)", default: []].sorted() where !port.isConnected(to: peer) {
                if session.client.port(named: peer) != nil { connect(session.client, source: peer, destination: port.name) }
            }
        }
        for (c, port) in session.outputs.enumerated() {
            for peer in remembered["out_\(c + 1)", default: []].sorted() where !port.isConnected(to: peer) {
                if session.client.port(named: peer) != nil { connect(session.client, source: port.name, destination: peer) }
            }
        }
        if let inputRule {
            let sources = inputRule.matches(session.client.audioPortNames(direction: .output).filter { !$0.hasPrefix(ours) })
            for (c, source) in AutoConnectRule.pairs(channelCount: options.channelCount, matches: sources)
            where !session.inputs[c].isConnected(to: source) {
                connect(session.client, source: source, destination: session.inputs[c].name)
            }
        }
        if let outputRule {
            let sinks = outputRule.matches(session.client.audioPortNames(direction: .input).filter { !$0.hasPrefix(ours) })
            for (c, sink) in AutoConnectRule.pairs(channelCount: options.channelCount, matches: sinks)
            where !session.outputs[c].isConnected(to: sink) {
                connect(session.client, source: session.outputs[c].name, destination: sink)
            }
        }
    }

    private func connect(_ client: borrowing JackClient, source: String, destination: String) {
        let result = client.connect(source: source, destination: destination)
        if result == 0 {
            logger.info("connected \(source) → \(destination)")
        } else if !JackClient.isAlreadyConnected(result) {
            logger.warning("could not connect \(source) → \(destination) (JACK error \(result))")
        }
    }

    /// Records each port's peers. A peer whose port vanished (its client quit, or the server is
    /// going down) stays remembered and is reconnected when it comes back; a peer still present
    /// but disconnected was disconnected on purpose and is forgotten.
    private func rememberConnections(_ session: Session) {
        for (prefix, ports) in [("in", session.inputs), ("out", session.outputs)] {
            for (c, port) in ports.enumerated() {
                let key = "\(prefix)_\(c + 1)"
                let vanished = remembered[key, default: []].filter { session.client.port(named: $0) == nil }
                remembered[key] = Set(port.connections).union(vanished)
            }
        }
    }

    // MARK: - Engines

    /// Calls the factory and checks the result fits the server and the ports.
    private func buildEngine(sampleRate: Int, blockLength: Int) throws(JackHostError) -> Engine {
        let engine: Engine
        do {
            engine = try makeEngine(sampleRate, max(options.maximumBlockLength, blockLength))
        } catch let error as JackHostError {
            throw error
        } catch {
            throw .engineUnavailable(reason: "\(error)")
        }
        try check(engine, sampleRate: sampleRate)
        return engine
    }

    private func check(_ engine: borrowing Engine, sampleRate: Int) throws(JackHostError) {
        guard engine.configuration.sampleRate == sampleRate else {
            throw .sampleRateMismatch(presetHz: engine.configuration.sampleRate, serverHz: sampleRate)
        }
        guard engine.configuration.channelCount == options.channelCount else {
            throw .channelCountMismatch(engineChannels: engine.configuration.channelCount, ports: options.channelCount)
        }
    }

    /// Makes `engine` the audio thread's engine with one atomic swap, carrying live control values
    /// over from the engine it replaces unless told not to, updates the reported latency and
    /// retires the old engine.
    ///
    /// When the old engine may be freed: the audio thread increments `cyclesStarted` before it
    /// loads the pointer and `cyclesCompleted` after its last use of it, both in cycle order. The
    /// exchange and the following load of `cyclesStarted` are sequentially consistent, so any
    /// cycle that loaded the old pointer is counted in `cycleMark`; once `cyclesCompleted` reaches
    /// the mark, all of them have finished. With no client open no cycle runs at all.
    private func install(_ engine: consuming Engine, carryingControls: Bool = true) {
        let fresh = UnsafeMutablePointer<Engine>.allocate(capacity: 1)
        fresh.initialize(to: engine)
        if carryingControls, let current {
            Self.copyControls(from: current.pointee.controls, to: fresh.pointee.controls)
        }
        liveControls.set(fresh.pointee.controls)
        let oldLatency = current?.pointee.latencySamples
        let old = context.pointee.engine.exchange(Int(bitPattern: fresh), ordering: .sequentiallyConsistent)
        let mark = context.pointee.cyclesStarted.load(ordering: .sequentiallyConsistent)
        current = fresh
        context.pointee.latencySamples.store(fresh.pointee.latencySamples, ordering: .releasing)
        if let oldEngine = UnsafeMutablePointer<Engine>(bitPattern: old) {
            retired.append((oldEngine, mark))
        }
        if let oldLatency, oldLatency != fresh.pointee.latencySamples {
            session?.client.recomputeTotalLatencies()
        }
        reap()
    }

    private static func copyControls(from old: ControlBlock, to new: ControlBlock) {
        new.floorDecibels = old.floorDecibels
        new.wet = old.wet
        new.maskExponent = old.maskExponent
        new.iterations = old.iterations
        new.bypass = old.bypass
    }

    /// Frees retired engines the audio thread can no longer be using.
    private func reap() {
        guard !retired.isEmpty else { return }
        let completed = context.pointee.cyclesCompleted.load(ordering: .acquiring)
        let idle = session == nil
        var kept: [(engine: UnsafeMutablePointer<Engine>, cycleMark: Int)] = []
        for entry in retired {
            if idle || completed >= entry.cycleMark { free(entry.engine) } else { kept.append(entry) }
        }
        retired = kept
    }

    private func free(_ engine: UnsafeMutablePointer<Engine>) {
        retiredTotals.nonFinite += engine.pointee.telemetry.nonFiniteSamples.load(ordering: .relaxed)
        retiredTotals.clipped += engine.pointee.telemetry.clippedSamples.load(ordering: .relaxed)
        engine.deinitialize(count: 1)
        engine.deallocate()
    }

    // MARK: - For tests

    /// Engines waiting to be freed.
    var retiredEngineCount: Int { retired.count }

    /// Each port's peers, sorted, keyed "in_1"…, as the host's client sees them; empty while disconnected.
    func connectionsForTesting() -> [String: [String]] {
        guard let session else { return [:] }
        var result: [String: [String]] = [:]
        for (prefix, ports) in [("in", session.inputs), ("out", session.outputs)] {
            for (c, port) in ports.enumerated() { result["\(prefix)_\(c + 1)"] = port.connections.sorted() }
        }
        return result
    }

    /// Connects two ports through the host's client, as a user with a patchbay would.
    func connectForTesting(source: String, destination: String) {
        guard let session else { return }
        connect(session.client, source: source, destination: destination)
    }
}

/// The control block of whatever engine runs, readable from any thread.
public final class LiveControls: Sendable {
    private let block = Mutex<ControlBlock?>(nil)

    /// The running engine's controls (nil only before the host's first engine).
    public var current: ControlBlock? { block.withLock { $0 } }

    fileprivate func set(_ controls: ControlBlock) { block.withLock { $0 = controls } }
}

/// When to try reopening the client: 100 ms after losing the server, then doubling to 2 s.
struct ReconnectSchedule {
    static let firstInterval: Duration = .milliseconds(100)
    static let longestInterval: Duration = .seconds(2)

    private let clock = ContinuousClock()
    private let since: ContinuousClock.Instant
    private var next: ContinuousClock.Instant
    private var interval: Duration = .zero

    init() {
        since = clock.now
        next = since
    }

    var isDue: Bool { clock.now >= next }

    mutating func failedAttempt() {
        interval = interval == .zero ? Self.firstInterval : min(interval * 2, Self.longestInterval)
        next = clock.now + interval
    }

    var downtimeDescription: String {
        let d = since.duration(to: clock.now)
        return formatted(Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18) + " s"
    }
}

/// One decimal for values ≥ 10, two below: "10.7", "2.67".
func formatted(_ value: Double) -> String {
    let digits = abs(value) >= 10 ? 1 : 2
    let scale = digits == 1 ? 10.0 : 100.0
    let rounded = (value * scale).rounded() / scale
    var text = "\(rounded)"
    if let dot = text.firstIndex(of: ".") {
        let decimals = text.distance(from: dot, to: text.endIndex) - 1
        if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
    }
    return text
}
