// SPDX-License-Identifier: GPL-3.0-or-later
// Which ports Sordino's channels connect to: regex matching and the wrap-around pairing rule.

/// Pairs Sordino's channels with the ports a `connectInputs`/`connectOutputs` pattern matches.
///
/// The pattern is a Swift `Regex` *searched* in each full port name ("client:port"), as
/// `jack_get_ports` does; anchor it (`^…$`) to match whole names. Candidates are the server's
/// audio ports of the right direction, in the server's order (registration order, so
/// `system:capture_1` before `system:capture_2`), without Sordino's own ports.
///
/// Channel c (0-based) pairs with match c mod M, where M is the number of matches: with fewer
/// matches than channels the matches repeat from the first (a mono microphone feeds every
/// channel; every channel plays to the one speaker); with more, the extra matches stay unconnected.
/// Connections are only ever added, never removed: the rule is re-applied when the host starts,
/// whenever a port appears, and after a reconnect, and a connection a user removed comes back
/// only if a matching port appears later.
struct AutoConnectRule {
    let pattern: String
    private let regex: Regex<AnyRegexOutput>

    init(pattern: String) throws(JackHostError) {
        do {
            regex = try Regex(pattern)
        } catch {
            throw .invalidConnectPattern(pattern: pattern, reason: "\(error)")
        }
        self.pattern = pattern
    }

    /// The ports among `candidates` that match, in order.
    func matches(_ candidates: [String]) -> [String] {
        candidates.filter { $0.contains(regex) }
    }

    /// For each channel that gets a port, (channel, port), by the wrap-around rule.
    static func pairs(channelCount: Int, matches: [String]) -> [(channel: Int, port: String)] {
        guard !matches.isEmpty else { return [] }
        return (0..<channelCount).map { ($0, matches[$0 % matches.count]) }
    }
}
