// SPDX-License-Identifier: GPL-3.0-or-later
// The wire protocol against a real socket: ids, versions, lines split across writes, limits, many clients.

import Foundation
import Glibc
import SordinoDSP
@testable import SordinoControl
import Testing

@Suite("control protocol on a real socket")
struct ProtocolTests {
    final class Server {
        let folder: String
        let server: ControlServer
        let target = FixedTarget()
        var path: String { server.path }

        init() throws {
            folder = try temporaryDirectory()
            server = try ControlServer(path: "\(folder)/p.sock", privateDirectory: false, target: target)
            server.start()
        }

        deinit {
            server.stop()
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    @Test("a reply carries the request's id and the version; a request split over many writes and CRLF endings work")
    func framing() throws {
        let s = try Server()
        let c = try ControlClient(path: s.path)
        let request = Array("{\"v\":1,\"id\":\"abc\",\"cmd\":\"get\",\"name\":\"wet\"}\r\n".utf8)
        for byte in request { try c.sendRaw([byte]) }
        let reply = try c.readMessage()
        #expect(reply == .object(["v": .number(1), "id": .string("abc"), "ok": .bool(true),
                                  "result": .object(["name": .string("wet"), "value": .number(1), "source": .string("default")])]))
        try c.sendRaw(Array("\n  \n{\"cmd\":\"get\",\"name\":\"bypass\",\"id\":7}\n{\"cmd\":\"get\",\"name\":\"wet\",\"id\":8}\n".utf8))
        #expect(try c.readMessage()["id"] == .number(7), "blank lines are skipped")
        #expect(try c.readMessage()["id"] == .number(8), "two requests in one write: two replies, in order")
    }

    @Test("errors: bad JSON, not an object, no cmd, unknown command, another version; the connection stays usable")
    func errors() throws {
        let s = try Server()
        let c = try ControlClient(path: s.path)
        let cases: [(String, String)] = [
            ("{nope", "bad-json"), ("[]", "bad-request"), ("{\"id\":1}", "bad-request"), ("{\"cmd\":\"fly\"}", "unknown-command"),
            ("{\"v\":2,\"cmd\":\"status\"}", "unsupported-version"), ("{\"cmd\":\"status\"}", "not-ready"),
            ("{\"cmd\":\"subscribe\",\"hz\":11}", "out-of-range"), ("{\"cmd\":\"reload\",\"preset\":3}", "bad-request"),
            ("{\"cmd\":\"reload\"}", "reload-failed"), ("{\"cmd\":\"save-settings\"}", "io-error"),
        ]
        for (line, code) in cases {
            try c.sendLine(line)
            let reply = try c.readMessage()
            #expect(reply["ok"] == .bool(false) && reply["v"] == .number(1))
            #expect(reply["error"]?["code"] == .string(code), "\(line) → \(reply.text)")
            #expect(reply["error"]?["message"]?.stringValue?.isEmpty == false)
        }
        #expect(try c.request(.get, ["name": .string("floor-db")])["value"] == .number(-12))
    }

    /// Found by hand: `sordino ctl set floor-db nan` (and `learn-noise inf`, `subscribe --hz nan`)
    /// sent the line "null", JSON having no NaN or ±Inf, and got back "the request must be a JSON
    /// object". The client now refuses such a field itself, naming it, and stays usable.
    @Test("a request with a NaN or ±Inf field is refused by the client, naming the field")
    func nonFiniteFieldIsRefusedByTheClient() throws {
        let s = try Server()
        let c = try ControlClient(path: s.path)
        for value in [Double.nan, .infinity, -.infinity] {
            do {
                _ = try c.request(.learnNoise, ["seconds": .number(value)])
                Issue.record("\(value) was sent")
            } catch {
                #expect(error.code == .badRequest && error.message == "\"seconds\" must be a finite number; got \(value)", "\(error.message)")
            }
        }
        #expect(try c.request(.get, ["name": .string("wet")])["value"] == .number(1))
    }

    @Test("a line at the limit is read; one byte more is refused and the connection closed")
    func lineLimit() throws {
        let s = try Server()
        let limit = ControlProtocol.maximumLineBytes
        let c = try ControlClient(path: s.path)
        let body = "{\"cmd\":\"get\",\"name\":\"wet\",\"pad\":\"\"}"
        let padded = body.replacingOccurrences(of: "\"pad\":\"\"", with: "\"pad\":\"" + String(repeating: "x", count: limit - body.utf8.count) + "\"")
        #expect(padded.utf8.count == limit)
        try c.sendLine(padded)
        #expect(try c.readMessage()["ok"] == .bool(true))
        try c.sendLine(padded + " ")
        #expect(try c.readMessage()["error"]?["code"] == .string("line-too-long"))
        #expect(throws: ControlFailure.self) { _ = try c.readLine() }
    }

    @Test("more clients than the limit are refused with a reason; a closed one frees its place")
    func clientLimit() throws {
        let s = try Server()
        var clients = try (0..<ControlServer.maximumClients).map { _ in try ControlClient(path: s.path) }
        for c in clients { #expect(try c.request(.get, ["name": .string("wet")])["value"] == .number(1)) }
        let extra = try ControlClient(path: s.path)
        #expect(try extra.readMessage()["error"]?["code"] == .string("too-many-clients"))
        clients.removeLast()
        // The server notices the hang-up at its next poll; until then a newcomer may still be refused.
        var served = false
        for _ in 0..<50 where !served {
            let again = try ControlClient(path: s.path)
            served = (try? again.request(.get, ["name": .string("wet")]))?["value"] == .number(1)
            if !served { Thread.sleep(forTimeInterval: 0.1) }
        }
        #expect(served)
    }
}
