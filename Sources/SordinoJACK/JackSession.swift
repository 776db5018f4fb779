// SPDX-License-Identifier: GPL-3.0-or-later
// The host's client lifecycle: open, register, activate, lose (also a silent server), reconnect, follow the server's changes.

import Foundation
import Logging
import SordinoDSP
import Synchronization

extension JackHost {
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
    func startSession() throws(JackHostError) {
        let client = try openClient()
        let rate = client.sampleRate, length = client.blockLength
        clientName = client.actualName
        if engines.newest?.pointee.configuration.sampleRate != rate {
            try installEngine(for: rate, reason: engines.newest == nil ? nil : "rebuilt for \(rate) Hz")
        } else {
            endPassThrough(at: rate)   // a server back at the engine's rate after one it could not serve
        }
        sampleRate = rate
        blockLength = length
        let (inputs, outputs) = try registerPorts(client)
        for c in 0..<options.channelCount {
            context.pointee.setPorts(c, input: inputs[c].opaque, output: outputs[c].opaque)
        }
        context.pointee.serverShutDown.store(false, ordering: .relaxed)
        context.pointee.announcedBlockLength.store(length, ordering: .relaxed)
        context.pointee.announcedSampleRate.store(rate, ordering: .relaxed)
        context.pointee.portsChanged.store(false, ordering: .relaxed)
        context.pointee.connectionsChanged.store(false, ordering: .relaxed)
        prepareHopWorker(blockLength: length, rate: rate)
        context.pointee.latencySamples.store(latencySamples, ordering: .releasing)
        guard client.installHostCallbacks(context: context), client.activate() else {
            clearPortTables()
            throw .activationFailed(client: clientName)
        }
        let session = Session(client: client, inputs: inputs, outputs: outputs)
        self.session = session
        scheduleHopWorker(session.client)
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

    func registerPorts(_ client: borrowing JackClient) throws(JackHostError) -> (inputs: [JackPort], outputs: [JackPort]) {
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
    func openClient() throws(JackHostError) -> JackClient {
        if let reason = JackLibrary.load() { throw .libraryUnavailable(reason: reason) }
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

    func attemptReconnect() {
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

    /// The server went away or stopped calling us: close our side on the closer thread (a frozen
    /// server blocks jack_client_close), keep what was connected, schedule reconnects.
    func loseServer(because reason: String) throws(JackHostError) {
        let status = JackStatus(rawValue: context.pointee.shutdownStatus.load(ordering: .relaxed))
        let detail = status.rawValue == 0 ? reason : "\(reason); \(status)"
        logger.warning("JACK server '\(serverDisplayName)' lost (\(detail))\(options.reconnects ? "; reconnecting" : "")")
        connections.serverLost()
        clearPortTables()
        if let lost = session {
            session = nil
            closing = ClientCloser(lost)
        }
        context.pointee.serverShutDown.store(false, ordering: .relaxed)
        context.pointee.shutdownStatus.store(0, ordering: .relaxed)
        finishClosing(waiting: .milliseconds(200))
        guard options.reconnects else { throw .serverShutDown(name: serverDisplayName) }
        reconnect = ReconnectSchedule()
        reconnect.failedAttempt()   // first try after 100 ms: the server is not back that fast
    }

    /// Once the lost client is closed (no callback of it can run any more), finishes a hand-over
    /// it interrupted. Waits up to `waiting` for the closer; true when nothing is left closing.
    @discardableResult
    func finishClosing(waiting: Duration = .zero) -> Bool {
        guard let closer = closing else { return true }
        guard closer.wait(upTo: waiting) else {
            if !closer.reported, closer.age >= .seconds(2) {
                closer.reported = true
                logger.warning("JACK server '\(serverDisplayName)' does not answer (stopped?); its client closes when it runs again or dies")
            }
            return false
        }
        closing = nil
        engines.settle(context)
        return true
    }

    /// How long no process callback has run while connected (nil while freewheeling or fine).
    func silentFor() -> Duration? {
        let cycles = context.pointee.cycles.load(ordering: .relaxed)
        if cycles != lastCycles || context.pointee.freewheeling.load(ordering: .relaxed) {
            lastCycles = cycles
            lastCycleSeen = .now
            return nil
        }
        return ContinuousClock.now - lastCycleSeen
    }

    /// Acts on what the non-audio callbacks flagged.
    func followServerChanges() {
        guard let session else { return }
        let rate = context.pointee.announcedSampleRate.load(ordering: .acquiring)
        if rate > 0, rate != sampleRate {
            logger.warning("JACK sample rate changed: \(sampleRate) → \(rate) Hz; rebuilding the engine")
            sampleRate = rate
            do throws(JackHostError) {
                try installEngine(for: rate, reason: "rebuilt for \(rate) Hz")
            } catch {
                // Keep the ports and their connections, and pass the input through unprocessed
                // (delayed by the reported latency) until a rate or a preset fits again.
                passThroughReason = "no engine for \(rate) Hz: \(error)"
                controls.passThrough = true
                logger.error("""
                    no engine for \(rate) Hz, so the input passes through unprocessed (delayed by \(latencySamples) samples) \
                    until the server runs at a rate a preset serves again, or a preset for \(rate) Hz is loaded \
                    (SIGHUP or `sordino ctl reload`): \(error)
                    """)
            }
        }
        let length = context.pointee.announcedBlockLength.load(ordering: .acquiring)
        if length > 0, length != blockLength {
            logger.info("JACK block length changed: \(blockLength) → \(length) samples (no rebuild: the engine takes any block)")
            blockLength = length
            followHopWorkerBlockLength(length)
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

    func clearPortTables() {
        for c in 0..<options.channelCount {
            context.pointee.setPorts(c, input: nil, output: nil)
        }
    }
}
