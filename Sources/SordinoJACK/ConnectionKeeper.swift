// SPDX-License-Identifier: GPL-3.0-or-later
// Our ports' connections: the auto-connect rules, and restoring what was connected when the server was lost.

import Logging

/// Keeps Sordino's ports connected across server restarts, and applies the `--connect-in/out` rules.
///
/// While a client is open it follows our ports' peers (`observe`). When the server is lost, the
/// connections of that moment become the ones to restore (`serverLost`); after the reconnect each
/// is made again as soon as its peer's port exists (`restore`, re-run whenever ports appear), and
/// then forgotten. A peer that went away while the server ran (its client quit) is not restored:
/// only peers that vanished within `shutdownGrace` of the loss count as connected at the loss,
/// because a server going down removes the other clients' ports just before it tells us.
struct ConnectionKeeper {
    /// How long before the loss a peer's disappearance still counts as part of the shutdown.
    static let shutdownGrace: Duration = .seconds(2)

    let channelCount: Int
    let inputRule: AutoConnectRule?
    let outputRule: AutoConnectRule?
    /// Our port ("in_1", "out_2"…) → its peers, as last observed.
    private var connected: [String: Set<String>] = [:]
    /// Our port → peers that disappeared while connected, and when.
    private var vanished: [String: [String: ContinuousClock.Instant]] = [:]
    /// Our port → peers to connect again after a reconnect.
    private(set) var pending: [String: Set<String>] = [:]

    init(channelCount: Int, inputRule: AutoConnectRule?, outputRule: AutoConnectRule?) {
        self.channelCount = channelCount
        self.inputRule = inputRule
        self.outputRule = outputRule
    }

    /// Records each port's peers; a peer whose port no longer exists is noted as vanished.
    mutating func observe(_ ports: [(key: String, port: JackPort)], client: borrowing JackClient,
                          now: ContinuousClock.Instant = .now) {
        for (key, port) in ports {
            let peers = Set(port.connections)
            for gone in connected[key, default: []].subtracting(peers) where client.port(named: gone) == nil {
                vanished[key, default: [:]][gone] = now
            }
            for back in peers { vanished[key]?[back] = nil }
            connected[key] = peers
        }
    }

    /// The server is gone: what was connected then (and what vanished in its last moments) is to
    /// be restored; everything older is forgotten.
    mutating func serverLost(now: ContinuousClock.Instant = .now) {
        var restore = connected
        for (key, peers) in vanished {
            for (peer, when) in peers where now - when <= Self.shutdownGrace { restore[key, default: []].insert(peer) }
        }
        pending = restore.filter { !$0.value.isEmpty }
        connected = [:]
        vanished = [:]
    }

    /// Makes the pending connections whose peers exist now, then applies the auto-connect rules.
    /// Only adds connections.
    mutating func connect(inputs: [JackPort], outputs: [JackPort], clientName: String,
                          client: borrowing JackClient, logger: Logger) {
        for (prefix, ports) in [("in", inputs), ("out", outputs)] {
            for (c, port) in ports.enumerated() {
                let key = "\(prefix)_\(c + 1)"
                for peer in pending[key, default: []].sorted() where client.port(named: peer) != nil {
                    if !port.isConnected(to: peer) {
                        let (source, destination) = prefix == "in" ? (peer, port.name) : (port.name, peer)
                        Self.connect(client, source: source, destination: destination, logger: logger, why: "restored")
                    }
                    pending[key]?.remove(peer)
                }
                if pending[key]?.isEmpty == true { pending[key] = nil }
            }
        }
        let ours = "\(clientName):"
        if let inputRule {
            let sources = inputRule.matches(client.audioPortNames(direction: .output).filter { !$0.hasPrefix(ours) })
            for (c, source) in AutoConnectRule.pairs(channelCount: channelCount, matches: sources)
            where !inputs[c].isConnected(to: source) {
                Self.connect(client, source: source, destination: inputs[c].name, logger: logger, why: "--connect-in")
            }
        }
        if let outputRule {
            let sinks = outputRule.matches(client.audioPortNames(direction: .input).filter { !$0.hasPrefix(ours) })
            for (c, sink) in AutoConnectRule.pairs(channelCount: channelCount, matches: sinks)
            where !outputs[c].isConnected(to: sink) {
                Self.connect(client, source: outputs[c].name, destination: sink, logger: logger, why: "--connect-out")
            }
        }
    }

    static func connect(_ client: borrowing JackClient, source: String, destination: String, logger: Logger, why: String) {
        let result = client.connect(source: source, destination: destination)
        if result == 0 {
            logger.info("connected \(source) → \(destination) (\(why))")
        } else if !JackClient.isAlreadyConnected(result) {
            logger.warning("could not connect \(source) → \(destination) (JACK error \(result))")
        }
    }
}
