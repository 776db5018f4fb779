// SPDX-License-Identifier: GPL-3.0-or-later
// Drives headless Chromium over its DevTools pipe (fds 3 and 4): open a page, evaluate JavaScript in it, take screenshots.

import Foundation
import Glibc

/// One headless Chromium with one page, steered through `--remote-debugging-pipe` (NUL-separated
/// JSON DevTools messages: commands on the browser's fd 3, answers and events on its fd 4).
final class HeadlessChromium {
    private var pid: pid_t = 0
    private let commands: Int32
    private let answers: Int32
    private var buffer: [UInt8] = []
    private var nextID = 1
    private var session = ""

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Starts `browser` with a fresh profile in `profile` and opens `url`.
    init(browser: String, profile: URL, url: String, width: Int = 900, height: Int = 600) throws {
        var toBrowser: [Int32] = [0, 0], fromBrowser: [Int32] = [0, 0]
        guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else { throw Failure(description: "pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toBrowser[0], 3)
        posix_spawn_file_actions_adddup2(&actions, fromBrowser[1], 4)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let arguments = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--remote-debugging-pipe",
                         "--window-size=\(width),\(height)", "--user-data-dir=\(profile.path)", "about:blank"]
        var argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let spawned = posix_spawn(&pid, browser, &actions, nil, &argv, environ)
        close(toBrowser[0])
        close(fromBrowser[1])
        commands = toBrowser[1]
        answers = fromBrowser[0]
        guard spawned == 0 else { throw Failure(description: "cannot start \(browser): \(String(cString: strerror(spawned)))") }
        let target = try call("Target.createTarget", ["url": url], inSession: false)
        guard let targetID = target["targetId"] as? String else { throw Failure(description: "no page: \(target)") }
        let attached = try call("Target.attachToTarget", ["targetId": targetID, "flatten": true], inSession: false)
        guard let id = attached["sessionId"] as? String else { throw Failure(description: "cannot attach: \(attached)") }
        session = id
    }

    deinit {
        close(commands)
        close(answers)
        if pid > 0 {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }

    /// The value of a JavaScript expression in the page (strings, numbers, booleans; nil for others).
    func evaluate(_ expression: String) throws -> Any? {
        let result = try call("Runtime.evaluate", ["expression": expression, "returnByValue": true])
        return (result["result"] as? [String: Any])?["value"]
    }

    /// Loads `url` in the page, as if typed into the address bar.
    func navigate(to url: String) throws {
        _ = try call("Page.navigate", ["url": url])
    }

    /// A screenshot of the page as PNG bytes.
    func screenshot() throws -> Data {
        let result = try call("Page.captureScreenshot", ["format": "png"])
        guard let text = result["data"] as? String, let data = Data(base64Encoded: text) else {
            throw Failure(description: "no screenshot: \(result)")
        }
        return data
    }

    /// Sends one command and waits (≤ 20 s) for its answer, skipping events.
    private func call(_ method: String, _ parameters: [String: Any], inSession: Bool = true) throws -> [String: Any] {
        let id = nextID
        nextID += 1
        var message: [String: Any] = ["id": id, "method": method, "params": parameters]
        if inSession { message["sessionId"] = session }
        var bytes = [UInt8](try JSONSerialization.data(withJSONObject: message))
        bytes.append(0)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { write(commands, $0.baseAddress, $0.count) }
            guard n > 0 else { throw Failure(description: "the browser closed its pipe") }
            sent += n
        }
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            let reply = try readMessage(until: deadline)
            guard reply["id"] as? Int == id else { continue }
            if let error = reply["error"] { throw Failure(description: "\(method): \(error)") }
            return reply["result"] as? [String: Any] ?? [:]
        }
        throw Failure(description: "\(method): no answer in 20 s")
    }

    private func readMessage(until deadline: ContinuousClock.Instant) throws -> [String: Any] {
        while true {
            if let end = buffer.firstIndex(of: 0) {
                let message = Data(buffer[..<end])
                buffer.removeSubrange(...end)
                return (try JSONSerialization.jsonObject(with: message)) as? [String: Any] ?? [:]
            }
            var poller = pollfd(fd: answers, events: Int16(POLLIN), revents: 0)
            let (seconds, attoseconds) = (deadline - .now).components
            let wait = max(0, Int32(seconds * 1000 + attoseconds / 1_000_000_000_000_000))
            guard poll(&poller, 1, wait) > 0 else { throw Failure(description: "the browser did not answer in time") }
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            let n = read(answers, &chunk, chunk.count)
            guard n > 0 else { throw Failure(description: "the browser closed its pipe") }
            buffer += chunk[0..<n]
        }
    }
}
