// SPDX-License-Identifier: GPL-3.0-or-later
// Why the JACK host could not start or keep running: each case says what was wrong and what to do.

/// Errors of `JackHost`. Environmental problems only; programmer errors trap.
public enum JackHostError: Error, Equatable, CustomStringConvertible {
    /// The engine's sample rate (the preset's) differs from the server's.
    case sampleRateMismatch(presetHz: Int, serverHz: Int)
    /// libjack cannot be loaded (`reason`: the loader's message), so no server can be reached.
    case libraryUnavailable(reason: String)
    /// No server of that name answers (the host never starts one).
    case serverNotRunning(name: String)
    /// The server answered but refused the client.
    case clientRefused(name: String, status: JackStatus)
    /// The server refused to register a port.
    case portRegistrationFailed(port: String)
    /// The server refused to activate the client.
    case activationFailed(client: String)
    /// The engine has another channel count than the host has ports.
    case channelCountMismatch(engineChannels: Int, ports: Int)
    /// The engine factory failed; its own error.
    case engineUnavailable(EngineBuildError)
    /// A `connectInputs`/`connectOutputs` pattern is not a valid regular expression.
    case invalidConnectPattern(pattern: String, reason: String)
    /// The server went away and reconnecting is switched off.
    case serverShutDown(name: String)

    public var description: String {
        switch self {
        case let .sampleRateMismatch(p, s):
            "preset trained at \(p) Hz, JACK server runs at \(s) Hz. "
                + "Restart jackd with `-r \(p)`, or choose a \(s) Hz preset."
        case let .libraryUnavailable(reason):
            "JACK's client library cannot be loaded (\(reason)). Install it (Debian: `apt install "
                + "libjack-jackd2-0`), or run under PipeWire's JACK (`pw-jack sordino run`). "
                + "Commands on files (`process`, `train`, …) do not need it."
        case let .serverNotRunning(name):
            "no JACK server '\(name)' is running. Start one, e.g. "
                + "`jackd -d alsa -r 48000`, or `jackd -d dummy -r 48000` without a sound card."
        case let .clientRefused(name, status):
            "JACK server refused client '\(name)' (\(status)). Check that the server and libjack "
                + "versions match and that the client name is valid."
        case let .portRegistrationFailed(port):
            "JACK server refused to register port '\(port)'. Choose a shorter client name, or "
                + "check the server's port limit (`jackd -p`)."
        case let .activationFailed(client):
            "JACK server refused to activate client '\(client)'. See the server's log."
        case let .channelCountMismatch(engineChannels, ports):
            "the engine processes \(engineChannels) channels but the host has \(ports) port pairs; "
                + "build the engine with the host's channel count."
        case let .engineUnavailable(failure):
            "could not build the engine: \(failure)"
        case let .invalidConnectPattern(pattern, reason):
            "connect pattern '\(pattern)' is not a valid regular expression (\(reason)). "
                + "Use e.g. 'system:capture_[12]' or '^system:playback_'."
        case let .serverShutDown(name):
            "JACK server '\(name)' shut down. Restart it, or run with reconnecting enabled."
        }
    }
}
