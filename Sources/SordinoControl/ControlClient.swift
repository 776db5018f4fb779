// SPDX-License-Identifier: GPL-3.0-or-later
// The client side of the control protocol (`sordino ctl`, the tests): connect, send a request, read reply lines.

import Foundation
import Glibc

/// A blocking connection to a daemon's control socket. Not thread-safe.
public final class ControlClient {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var nextID = 1

    /// Connects to `path`; `timeout` bounds every later read (a silent daemon is an error, not a hang).
    public init(path: String, timeout: Duration = .seconds(10)) throws(ControlFailure) {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ControlFailure(.ioError, "socket: \(String(cString: strerror(errno)))") }
        var address = ControlListener.address(path)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ControlFailure(.unreachable, "cannot connect to \(path): \(reason). Is `sordino run` running (with this --name, or --control \(path))?")
        }
        let (seconds, attoseconds) = timeout.components
        var limit = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Sends one request (`cmd` and `fields`, with "v" and a fresh "id") and returns its reply's
    /// result; a failure reply throws its `ControlFailure`. Progress events of this request go to
    /// `progress`; status events in between are skipped. A field holding NaN or ±Inf, which JSON
    /// cannot say, is refused here (bad-request, naming it) rather than sent as a broken line.
    public func request(_ command: ControlCommand, _ fields: [String: JSONValue] = [:],
                        progress: ((JSONValue) -> Void)? = nil) throws(ControlFailure) -> JSONValue {
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
            if case .number(let x) = value, !x.isFinite {
                throw ControlFailure(.badRequest, "\"\(name)\" must be a finite number; got \(x)")
            }
        }
        let id = nextID
        nextID += 1
        var object = fields
        object["v"] = .number(ControlProtocol.version)
        object["id"] = .number(id)
        object["cmd"] = .string(command.rawValue)
        try sendLine(JSONValue.object(object).text)
        while true {
            let reply = try readMessage()
            if let event = reply["event"] {
                if event == .string("progress"), reply["id"] == .number(id), let body = reply["progress"] { progress?(body) }
                continue
            }
            if reply["ok"]?.boolValue == true, let result = reply["result"] { return result }
            if let error = reply["error"], let code = error["code"]?.stringValue, let message = error["message"]?.stringValue {
                throw ControlFailure(ControlFailure.Code(rawValue: code) ?? .badReply, message)
            }
            throw ControlFailure(.badReply, "the daemon answered \(reply.text), which is not a protocol reply")
        }
    }

    /// Sends raw bytes as they are (tests: malformed requests, partial lines).
    public func sendRaw(_ bytes: [UInt8]) throws(ControlFailure) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else {
                let reason = String(cString: strerror(errno))
                // A refused connection (too many clients, another user) gets one error line before the
                // daemon closes it; the refusal says more than the broken pipe.
                if let refusal = closingRefusal() { throw refusal }
                throw ControlFailure(.ioError, "the daemon closed the connection (\(reason))")
            }
            sent += n
        }
    }

    /// The error line the daemon sent before closing this connection, if any (read after a failed send).
    private func closingRefusal() -> ControlFailure? {
        guard let reply = try? readMessage(), reply["ok"]?.boolValue == false, let error = reply["error"],
              let code = error["code"]?.stringValue, let message = error["message"]?.stringValue else { return nil }
        return ControlFailure(ControlFailure.Code(rawValue: code) ?? .badReply, message)
    }

    public func sendLine(_ text: String) throws(ControlFailure) { try sendRaw(Array((text + "\n").utf8)) }

    /// The next line from the daemon, parsed; throws at end of stream or after the timeout.
    public func readMessage() throws(ControlFailure) -> JSONValue {
        let line = try readLine()
        guard let value = JSONValue.parse(Data(line)) else {
            throw ControlFailure(.badReply, "the daemon sent a line that is not JSON: \(String(decoding: line.prefix(200), as: UTF8.self))")
        }
        return value
    }

    /// The next raw line (without its newline).
    public func readLine() throws(ControlFailure) -> [UInt8] {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let n = recv(descriptor, &chunk, chunk.count, 0)
            if n > 0 {
                buffer.append(contentsOf: chunk[0..<n])
            } else if n == 0 {
                throw ControlFailure(.ioError, "the daemon closed the connection")
            } else if errno != EINTR {
                throw ControlFailure(.ioError, errno == EAGAIN ? "the daemon did not answer in time" : "read: \(String(cString: strerror(errno)))")
            }
        }
    }
}
