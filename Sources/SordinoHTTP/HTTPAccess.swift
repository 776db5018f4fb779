// SPDX-License-Identifier: GPL-3.0-or-later
// Who may use the status page: the bind address, the token, the Origin and Host headers (checked before any route runs).

import Foundation

/// The HTTP server's options as `sordino run` takes them (`--http`, `--http-bind`, `--http-token`, `--http-origin`).
public struct HTTPOptions: Sendable, Equatable {
    /// TCP port, 0…65535 (0: the system picks one; the log line names it).
    public var port: Int
    /// The address to listen on: an IPv4 or IPv6 address or a host name.
    public var bindAddress: String
    /// The bearer token every request must carry; required unless `bindAddress` is loopback.
    public var token: String?
    /// Origins besides the page's own (`http://BIND:PORT`) whose pages may change settings, e.g.
    /// `http://box.local:8080` when the box is reached by a name.
    public var extraOrigins: [String]

    public static var minimumTokenLength: Int { 16 }

    public init(port: Int, bindAddress: String = "127.0.0.1", token: String? = nil, extraOrigins: [String] = []) {
        self.port = port
        self.bindAddress = bindAddress
        self.token = token
        self.extraOrigins = extraOrigins
    }

    /// Whether `address` can only be reached from this machine (127.0.0.0/8, ::1, localhost).
    public static func isLoopback(_ address: String) -> Bool {
        let bare = address.hasPrefix("[") && address.hasSuffix("]") ? String(address.dropFirst().dropLast()) : address
        if bare == "localhost" || bare == "::1" { return true }
        var v4 = in_addr()
        return inet_pton(AF_INET, bare, &v4) == 1 && UInt32(bigEndian: v4.s_addr) >> 24 == 127
    }

    /// Checks the options before anything is bound; the message says what to do.
    public func validate() throws(HTTPOptionsError) {
        guard (0...65_535).contains(port) else { throw .badPort(port) }
        if let token {
            guard token.count >= Self.minimumTokenLength, token.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "&" && $0 != "#" }) else {
                throw .weakToken
            }
        } else if !Self.isLoopback(bindAddress) {
            throw .tokenRequired(bindAddress: bindAddress)
        }
        for origin in extraOrigins where !Self.isOrigin(origin) { throw .badOrigin(origin) }
    }

    /// `scheme://host[:port]` with nothing after it.
    static func isOrigin(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else { return false }
        return url.path.isEmpty && url.query == nil && url.fragment == nil && url.user == nil
    }
}

/// Why the HTTP options were refused.
public enum HTTPOptionsError: Error, Equatable, CustomStringConvertible {
    case tokenRequired(bindAddress: String)
    case weakToken
    case badPort(Int)
    case badOrigin(String)

    public var description: String {
        switch self {
        case .tokenRequired(let address):
            "--http-bind \(address) is reachable from other machines: give --http-token TOKEN (at least \(HTTPOptions.minimumTokenLength) "
                + "characters, e.g. from `head -c 24 /dev/urandom | base64`), which every request must then carry, or bind 127.0.0.1."
        case .weakToken:
            "--http-token must be at least \(HTTPOptions.minimumTokenLength) printable ASCII characters without spaces, '&' or '#' "
                + "(e.g. `head -c 24 /dev/urandom | base64`)."
        case .badPort(let port):
            "--http must be a TCP port in 0…65535 (0: any free port); got \(port)."
        case .badOrigin(let origin):
            "--http-origin '\(origin)' is not an origin: write scheme://host:port, e.g. http://box.local:8080, with no path."
        }
    }
}

/// The checks every request passes, fixed once the port is bound.
struct AccessPolicy: Sendable {
    let token: String?
    /// Origins whose pages may change settings and open the websocket.
    let origins: Set<String>
    /// Host headers accepted (loopback binds only, against DNS rebinding); nil: any.
    let hosts: Set<String>?

    init(options: HTTPOptions, boundPort port: Int) {
        token = options.token
        let names: [String]
        if HTTPOptions.isLoopback(options.bindAddress) {
            names = ["127.0.0.1", "localhost", "[::1]"]
            hosts = Set(names.map { "\($0):\(port)" })
        } else {
            names = [options.bindAddress.contains(":") && !options.bindAddress.hasPrefix("[") ? "[\(options.bindAddress)]" : options.bindAddress]
            hosts = nil
        }
        origins = Set(names.map { "http://\($0):\(port)" } + options.extraOrigins.map { $0.lowercased() })
    }

    enum Refusal: Equatable {
        case host, token, origin
    }

    /// Nil when the request may go on. `authorization`: the Authorization header; `queryToken`:
    /// the `token` query parameter; `stateChanging`: a POST or the websocket upgrade.
    func check(host: String?, authorization: String?, queryToken: String?, origin: String?, stateChanging: Bool) -> Refusal? {
        if let hosts, !hosts.contains((host ?? "").lowercased()) { return .host }
        if let token {
            let offered = authorization.flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil } ?? queryToken
            guard let offered, Self.equalInConstantTime(offered, token) else { return .token }
        }
        if stateChanging, !origins.contains((origin ?? "").lowercased()) { return .origin }
        return nil
    }

    static func equalInConstantTime(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// What the refused client is told.
    func message(_ refusal: Refusal) -> String {
        switch refusal {
        case .host:
            "this server answers only requests addressed to \(hosts?.sorted().joined(separator: ", ") ?? "its own address")"
        case .token:
            "a token is required: send `Authorization: Bearer TOKEN`, or open the page as /?token=TOKEN"
        case .origin:
            "changes are accepted only from this server's own page (Origin \(origins.sorted().joined(separator: ", "))); "
                + "a page served elsewhere cannot change settings. Reached by another name? Start the daemon with --http-origin"
        }
    }
}
