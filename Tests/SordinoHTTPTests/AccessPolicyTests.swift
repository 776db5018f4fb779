// SPDX-License-Identifier: GPL-3.0-or-later
// The HTTP server's access rules without a server: loopback detection, option checks, Host, token and Origin decisions.

import Testing
@testable import SordinoHTTP

@Suite struct AccessPolicyTests {
    @Test func loopbackAddresses() {
        for address in ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"] { #expect(HTTPOptions.isLoopback(address), "\(address)") }
        for address in ["0.0.0.0", "::", "192.0.2.1", "10.0.0.1", "128.0.0.1", "box.local", "localhost.example"] {
            #expect(!HTTPOptions.isLoopback(address), "\(address)")
        }
    }

    @Test func optionsNeedATokenBeyondLoopback() {
        #expect(throws: HTTPOptionsError.tokenRequired(bindAddress: "0.0.0.0")) { try HTTPOptions(port: 8080, bindAddress: "0.0.0.0").validate() }
        #expect(throws: HTTPOptionsError.weakToken) { try HTTPOptions(port: 8080, token: "0123456789abcde").validate() }
        #expect(throws: HTTPOptionsError.weakToken) { try HTTPOptions(port: 8080, token: "0123456789 abcdef").validate() }
        #expect(throws: HTTPOptionsError.badPort(70_000)) { try HTTPOptions(port: 70_000).validate() }
        #expect(throws: HTTPOptionsError.badOrigin("box.local:8080")) { try HTTPOptions(port: 1, extraOrigins: ["box.local:8080"]).validate() }
        #expect(throws: Never.self) { try HTTPOptions(port: 0).validate() }
        #expect(throws: Never.self) { try HTTPOptions(port: 8080, bindAddress: "0.0.0.0", token: "0123456789abcdef",
                                                      extraOrigins: ["http://box.local:8080"]).validate() }
    }

    @Test func loopbackPolicy() {
        let policy = AccessPolicy(options: HTTPOptions(port: 0), boundPort: 8123)
        #expect(policy.check(host: "127.0.0.1:8123", authorization: nil, queryToken: nil, origin: nil, stateChanging: false) == nil)
        #expect(policy.check(host: "LOCALHOST:8123", authorization: nil, queryToken: nil, origin: nil, stateChanging: false) == nil)
        #expect(policy.check(host: "evil.example:8123", authorization: nil, queryToken: nil, origin: nil, stateChanging: false) == .host)
        #expect(policy.check(host: nil, authorization: nil, queryToken: nil, origin: nil, stateChanging: false) == .host)
        for origin in ["http://127.0.0.1:8123", "http://localhost:8123", "http://[::1]:8123"] {
            #expect(policy.check(host: "127.0.0.1:8123", authorization: nil, queryToken: nil, origin: origin, stateChanging: true) == nil)
        }
        for origin in [nil, "null", "http://127.0.0.1:8124", "https://127.0.0.1:8123", "http://evil.example", "http://127.0.0.1:8123.evil.example"] {
            #expect(policy.check(host: "127.0.0.1:8123", authorization: nil, queryToken: nil, origin: origin, stateChanging: true) == .origin,
                    "\(origin ?? "none")")
        }
    }

    @Test func tokenPolicyBeyondLoopback() {
        let token = "s3cret-token-0123456789"
        let policy = AccessPolicy(options: HTTPOptions(port: 0, bindAddress: "192.0.2.7", token: token,
                                                       extraOrigins: ["http://Box.local:9000"]), boundPort: 9000)
        #expect(policy.check(host: "anything:9000", authorization: nil, queryToken: nil, origin: nil, stateChanging: false) == .token)
        #expect(policy.check(host: "x", authorization: "Bearer \(token)", queryToken: nil, origin: nil, stateChanging: false) == nil)
        #expect(policy.check(host: "x", authorization: "Basic \(token)", queryToken: nil, origin: nil, stateChanging: false) == .token)
        #expect(policy.check(host: "x", authorization: nil, queryToken: token, origin: nil, stateChanging: false) == nil)
        #expect(policy.check(host: "x", authorization: nil, queryToken: token + "x", origin: nil, stateChanging: false) == .token)
        #expect(policy.check(host: "x", authorization: nil, queryToken: token, origin: "http://192.0.2.7:9000", stateChanging: true) == nil)
        #expect(policy.check(host: "x", authorization: nil, queryToken: token, origin: "http://box.local:9000", stateChanging: true) == nil)
        #expect(policy.check(host: "x", authorization: nil, queryToken: token, origin: "http://127.0.0.1:9000", stateChanging: true) == .origin)
        #expect(AccessPolicy(options: HTTPOptions(port: 0, bindAddress: "2001:db8::1", token: token), boundPort: 80)
            .origins == ["http://[2001:db8::1]:80"])
    }
}
