// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino run --http` against a private jackd: every endpoint, the Origin, Host and token checks, and the page in headless Chromium.

import Foundation
import SordinoControl
import SordinoDSP
import SordinoJACKRig
import SordinoReport
import Testing
import TestSupport

/// A `ControlledDaemon` with `--http 0`, and the port it logged.
private struct PageDaemon {
    let daemon: ControlledDaemon
    let port: Int

    init(_ extra: [String] = [], server: JackdServer? = nil) throws {
        daemon = try ControlledDaemon(extraArguments: ["--http", "0"] + extra, server: server)
        let background = daemon.daemon
        var port: Int?
        _ = background.waitUntil(timeout: .seconds(10)) {
            port = background.stderr.firstMatch(of: /status page http:\/\/127\.0\.0\.1:(\d+)\//).flatMap { Int($0.1) }
            return port != nil
        }
        self.port = try #require(port, "no status page line: \(background.stderr)")
    }

    var origin: String { "http://127.0.0.1:\(port)" }

    func floor() throws -> JSONValue? { try daemon.client().request(.get, ["name": .string("floor-db")])["value"] }
}

@Suite("sordino run --http against a private jackd", .serialized, .inProcessJack,
       .enabled(if: CLI.shouldRun, CLI.skipReason),
       .enabled(if: JackdServer.shouldRun, Comment(rawValue: JackdServer.skipReason)))
struct StatusPageTests {
    @Test("/, /status, /metrics and POST /control answer as the socket does; a foreign or missing Origin and a foreign Host are refused")
    func endpoints() throws {
        let d = try PageDaemon()
        defer {
            d.daemon.stop()
            // A stop is not an error (it once logged "error sordino.http: Waiting on child channel:
            // CancellationError()" at every SIGTERM).
            #expect(!d.daemon.daemon.stderr.contains("error sordino.http"), "\(d.daemon.daemon.stderr)")
            try? FileManager.default.removeItem(at: d.daemon.folder)
        }
        let port = d.port

        let page = try RawHTTP.request(port: port, "GET", "/")
        #expect(page.status == 200 && page.headers["content-type"] == "text/html; charset=utf-8")
        #expect(page.body.contains("<input id=\"floor\" type=\"range\"") && page.body.contains("new WebSocket("))
        #expect(!page.body.contains("src=") && !page.body.contains("href=") && !page.body.contains("@import"), "self-contained")
        #expect(page.headers["content-security-policy"]?.contains("frame-ancestors 'none'") == true)

        let status = try RawHTTP.request(port: port, "GET", "/status")
        #expect(status.status == 200 && status.headers["content-type"] == "application/json")
        let json = try #require(JSONValue.parse(Data(status.body.utf8)), "\(status.body)")
        #expect(DaemonStatus(json: json) != nil, "every status field: \(status.body)")
        let socketStatus = try d.daemon.client().request(.status)
        #expect(json.objectValue.map { Set($0.keys) } == socketStatus.objectValue.map { Set($0.keys) }, "the socket's status fields")
        #expect(json["sample_rate"] == JSONValue.number(16_000) && json["settings"]?["values"]?["floor-db"] == JSONValue.number(-18))

        let metrics = try RawHTTP.request(port: port, "GET", "/metrics")
        #expect(metrics.status == 200 && metrics.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let samples = metrics.body.split(separator: "\n").filter { !$0.hasPrefix("#") }
        for line in samples {
            #expect(line.wholeMatch(of: /[a-z0-9_]+(\{channel="\d+"\})? (-?inf|-?[0-9.]+(e[-+]?[0-9]+)?)/) != nil, "\(line)")
        }
        for expected in ["sordino_sample_rate_hertz 16000.0", "sordino_floor_db -18.0", "sordino_latency_seconds 0.04",
                         "sordino_connected 1.0", "sordino_input_peak_dbfs{channel=\"1\"} -inf", "sordino_reconnects_total 0"] {
            #expect(samples.contains { $0 == expected }, "\(expected) in \(metrics.body)")
        }
        for name in ["sordino_xruns_total", "sordino_overruns_total", "sordino_callback_p50_seconds", "sordino_callback_p99_seconds", "sordino_callback_max_seconds",
                     "sordino_jack_dsp_load_percent", "sordino_nonfinite_replaced_total", "sordino_input_clamped_total", "sordino_uptime_seconds",
                     "sordino_attenuation_db{channel=\"1\"}", "sordino_output_rms_dbfs{channel=\"1\"}"] {
            #expect(samples.contains { $0.hasPrefix(name + " ") }, "\(name)")
        }

        // POST /control from the page's own origin: the socket's ranges and replies.
        let set = try RawHTTP.request(port: port, "POST", "/control", headers: ["Origin": d.origin],
                                      body: #"{"cmd":"set","name":"floor-db","value":-20}"#)
        #expect(set.status == 200 && JSONValue.parse(Data(set.body.utf8))?["result"]?["value"] == .number(-20), "\(set.body)")
        #expect(try d.floor() == .number(-20))
        let localhost = try RawHTTP.request(port: port, "POST", "/control", headers: ["Origin": "http://localhost:\(port)", "Host": "localhost:\(port)"],
                                            body: #"{"cmd":"get","name":"floor-db"}"#)
        #expect(localhost.status == 200, "\(localhost.body)")
        for (body, code) in [(#"{"cmd":"set","name":"floor-db","value":5}"#, "out-of-range"), (#"{"cmd":"reload"}"#, "forbidden"),
                             ("not json", "bad-json"), (#"{"cmd":"learn-noise","seconds":5}"#, "forbidden")] {
            let refused = try RawHTTP.request(port: port, "POST", "/control", headers: ["Origin": d.origin], body: body)
            #expect(refused.status == 400 && JSONValue.parse(Data(refused.body.utf8))?["error"]?["code"] == .string(code), "\(body): \(refused.body)")
        }
        let huge = try RawHTTP.request(port: port, "POST", "/control", headers: ["Origin": d.origin],
                                       body: String(repeating: "x", count: 2 * ControlProtocol.maximumLineBytes))
        #expect(huge.status == 413)

        // Another origin, none, or a foreign Host (DNS rebinding): refused, and nothing changed.
        for headers in [["Origin": "http://evil.example"], [:], ["Origin": "null"], ["Origin": "http://127.0.0.1:\(port + 1)"]] {
            let post = try RawHTTP.request(port: port, "POST", "/control", headers: headers,
                                           body: #"{"cmd":"set","name":"floor-db","value":-40}"#)
            #expect(post.status == 403 && post.body.contains("own page"), "\(headers): \(post.status) \(post.body)")
            // A refused upgrade is Hummingbird's failed-upgrade reply: 400, no body, connection closed.
            let upgrade = try RawHTTP.request(port: port, "GET", "/ws", headers: headers, upgrade: true)
            #expect(upgrade.status == 400, "websocket with \(headers): \(upgrade.status)")
        }
        #expect(try d.floor() == .number(-20), "no refused request changed the floor")
        let rebound = try RawHTTP.request(port: port, "GET", "/status", headers: ["Host": "evil.example:\(port)"])
        #expect(rebound.status == 403)
        let upgrade = try RawHTTP.request(port: port, "GET", "/ws", headers: ["Origin": d.origin], upgrade: true)
        #expect(upgrade.status == 101 && upgrade.headers["upgrade"]?.lowercased() == "websocket")
        #expect(try RawHTTP.request(port: port, "GET", "/nothing").status == 404)
    }

    @Test("a bind beyond loopback needs a token; a token is then demanded of every request; a taken port stops the start")
    func tokenAndBind() throws {
        for (arguments, words) in [(["--http-bind", "0.0.0.0"], "--http-token"), (["--http-bind", "192.0.2.1"], "--http-token"),
                                   (["--http-token", "short"], "at least 16"), (["--http-origin", "http://x/y"], "not an origin")] {
            let refused = try CLI.run(["run", "--server", "none-\(UUID().uuidString.prefix(8))", "--http", "0"] + arguments)
            #expect(refused.status == 64 && refused.stderr.contains(words), "\(arguments): \(refused.status) \(refused.stderr)")
        }
        let token = "t0ken-\(UUID().uuidString)"
        let d = try PageDaemon(["--http-token", token])
        defer { d.daemon.stop(); try? FileManager.default.removeItem(at: d.daemon.folder) }
        let port = d.port
        let missing = try RawHTTP.request(port: port, "GET", "/status")
        #expect(missing.status == 401 && missing.headers["www-authenticate"] == "Bearer")
        #expect(try RawHTTP.request(port: port, "GET", "/metrics", headers: ["Authorization": "Bearer wrong-\(token)"]).status == 401)
        #expect(try RawHTTP.request(port: port, "GET", "/", headers: ["Authorization": "Bearer \(token)"]).status == 200)
        #expect(try RawHTTP.request(port: port, "GET", "/status?token=\(token)").status == 200)
        #expect(try RawHTTP.request(port: port, "GET", "/status?token=\(token.dropLast())").status == 401)
        let body = #"{"cmd":"set","name":"wet","value":0.5}"#
        #expect(try RawHTTP.request(port: port, "POST", "/control", headers: ["Origin": d.origin], body: body).status == 401)
        #expect(try RawHTTP.request(port: port, "POST", "/control", headers: ["Authorization": "Bearer \(token)", "Origin": "http://evil.example"],
                                    body: body).status == 403)
        #expect(try RawHTTP.request(port: port, "GET", "/ws?token=\(token)", headers: ["Origin": d.origin], upgrade: true).status == 101)
        #expect(try RawHTTP.request(port: port, "GET", "/ws", headers: ["Origin": d.origin], upgrade: true).status == 400, "no token: no upgrade")
        #expect(try RawHTTP.request(port: port, "POST", "/control", headers: ["Authorization": "Bearer \(token)", "Origin": d.origin],
                                    body: body).status == 200)
        #expect(try d.daemon.client().request(.get, ["name": .string("wet")])["value"] == .number(0.5))

        // The same port again: the second daemon stops at start with 73 and says why, before it
        // shows up as a JACK client (it once registered `second` with its ports, then quit).
        let second = try CLI.run(["run", "--server", d.daemon.server.name, "--name", "second", "--no-control", "--http", "\(port)"], timeout: 30)
        #expect(second.status == 73 && second.stderr.contains("cannot serve HTTP on 127.0.0.1:\(port)"), "\(second.status) \(second.stderr)")
        #expect(!second.stderr.contains("JACK client"), "\(second.stderr)")
    }

    @Test("the page in headless Chromium: meters move while audio flows; the slider sets the floor; a foreign page cannot")
    func pageInChromium() throws {
        let browser = try #require(ReportRenderingTests.chromium ?? (ReportRenderingTests.required ? nil : Optional("")),
                                   "SORDINO_REQUIRE_CHROMIUM=1 but no chromium binary")
        guard !browser.isEmpty else { return }   // neither installed nor required (the report tests say so)
        let d = try PageDaemon()
        defer { d.daemon.stop(); try? FileManager.default.removeItem(at: d.daemon.folder) }
        // Noise whose loudness swings between −40 and −6 dBFS twice a second, for 12 s.
        let rate = 16_000.0
        var generator = SplitMix64(seed: 7)
        let input = (0..<Int(rate * 12)).map { n -> Float in
            let envelope = Float(pow(10, (-23 + 17 * sin(2 * Double.pi * 2 * Double(n) / rate)) / 20))
            return envelope * Float.random(in: -1...1, using: &generator)
        }
        let rig = try JackLoopback(serverName: d.daemon.server.name, signal: input, recordingCount: input.count)
        #expect(rig.connect(hostInput: "sordino:in_1", hostOutput: "sordino:out_1"))
        rig.arm()

        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let chrome = try HeadlessChromium(browser: browser, profile: dir.appendingPathComponent("profile"), url: "\(d.origin)/")
        func updates() throws -> Int { Int(try chrome.evaluate("document.body.dataset.updates || '0'") as? String ?? "0") ?? 0 }
        let connected = d.daemon.daemon.waitUntil(timeout: .seconds(10)) { ((try? updates()) ?? 0) >= 5 }
        #expect(connected, "the page received no status events")

        // Meters: the input bar's width (percent of −60…0 dBFS) sampled every 150 ms.
        var widths: [String] = [], shots: [RGBImage] = []
        for index in 0..<12 {
            widths.append(try chrome.evaluate("document.getElementById('in-1-rms').style.width") as? String ?? "")
            if index == 3 || index == 8 {
                let png = dir.appendingPathComponent("page-\(index).png")
                try chrome.screenshot().write(to: png)
                shots.append(try RGBImage.read(path: png.path))
                if let keep = ProcessInfo.processInfo.environment["SORDINO_SCREENSHOT_DIR"] {
                    try? FileManager.default.copyItem(at: png, to: URL(fileURLWithPath: keep).appendingPathComponent("status-page-\(index).png"))
                }
            }
            Thread.sleep(forTimeInterval: 0.15)
        }
        let percents = widths.compactMap { Double($0.dropLast()) }
        #expect(percents.count == 12 && percents.allSatisfy { $0 > 10 }, "the input meter shows the noise: \(widths)")
        #expect(Set(percents).count >= 4, "the meter moves with the swinging level: \(widths)")
        // The screenshots: the meters' colours are there, and the two differ.
        #expect(shots.count == 2)
        if shots.count == 2 {
            let saturated = shots.map { image in
                stride(from: 0, to: image.pixels.count, by: 3).filter { i in
                    let (r, g, b) = (Int(image.pixels[i]), Int(image.pixels[i + 1]), Int(image.pixels[i + 2]))
                    return max(r, g, b) - min(r, g, b) > 80
                }.count
            }
            #expect(saturated.allSatisfy { $0 > 2000 }, "coloured meter bars: \(saturated) pixels")
            #expect(shots[0].pixels != shots[1].pixels, "the meters moved between the screenshots")
        }

        // The slider, as a user drags it: the floor follows, read back over the socket.
        _ = try chrome.evaluate("const f = document.getElementById('floor'); f.value = -30; f.dispatchEvent(new Event('input')); 1")
        let moved = d.daemon.daemon.waitUntil(timeout: .seconds(5)) { (try? d.floor()) == .number(-30) }
        #expect(moved, "the floor after the slider: \((try? d.floor())?.text ?? "?")")
        let shown = d.daemon.daemon.waitUntil(timeout: .seconds(5)) {
            (try? chrome.evaluate("document.getElementById('floorValue').textContent") as? String) == "-30 dB"
        }
        #expect(shown, "the page shows the applied floor")

        // A page from elsewhere (here a file) tries the websocket and a POST: both refused.
        let foreign = dir.appendingPathComponent("elsewhere.html")
        try """
        <script>
        window.outcome = {ws: "pending", post: "pending"};
        const ws = new WebSocket("ws://127.0.0.1:\(d.port)/ws");
        ws.onopen = () => { window.outcome.ws = "open"; ws.send(JSON.stringify({cmd: "set", name: "floor-db", value: -50})); };
        ws.onerror = () => { window.outcome.ws = "refused"; };
        fetch("\(d.origin)/control", {method: "POST", mode: "no-cors", body: JSON.stringify({cmd: "set", name: "floor-db", value: -50})})
          .then(() => { window.outcome.post = "sent"; }, () => { window.outcome.post = "failed"; });
        </script>
        """.write(to: foreign, atomically: true, encoding: .utf8)
        try chrome.navigate(to: "file://\(foreign.path)")
        let settled = d.daemon.daemon.waitUntil(timeout: .seconds(10)) {
            let ws = try? chrome.evaluate("window.outcome && window.outcome.ws") as? String
            let post = try? chrome.evaluate("window.outcome && window.outcome.post") as? String
            return ws != nil && ws != "pending" && post != nil && post != "pending"
        }
        #expect(settled)
        #expect(try chrome.evaluate("window.outcome.ws") as? String == "refused")
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try d.floor() == .number(-30), "a foreign page cannot move the floor")
    }
}
