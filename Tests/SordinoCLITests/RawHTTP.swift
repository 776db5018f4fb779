// SPDX-License-Identifier: GPL-3.0-or-later
// A minimal HTTP/1.1 client over a plain TCP socket to 127.0.0.1, so the tests see exactly the bytes the daemon answers (status, headers, body).

import Foundation
import Glibc

/// One request, one response (`Connection: close`), against 127.0.0.1:`port`.
enum RawHTTP {
    struct Response {
        let status: Int
        let headers: [String: String]
        let body: String
    }

    enum Failure: Error { case connect(Int32), closedEarly }

    /// Sends `method path` with `headers` (Host defaults to 127.0.0.1:PORT) and `body`; reads to
    /// the end (or, for a websocket upgrade, to the end of the response head).
    static func request(port: Int, _ method: String, _ path: String, headers: [String: String] = [:], body: String = "",
                        upgrade: Bool = false) throws -> Response {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var limit = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure.connect(errno) }
        var fields = ["Host": "127.0.0.1:\(port)", "Connection": upgrade ? "Upgrade" : "close"].merging(headers) { $1 }
        if !body.isEmpty { fields["Content-Length"] = String(body.utf8.count) }
        if upgrade {
            fields["Upgrade"] = "websocket"
            fields["Sec-WebSocket-Version"] = "13"
            fields["Sec-WebSocket-Key"] = "dGhlIHNhbXBsZSBub25jZQ=="
        }
        let head = "\(method) \(path) HTTP/1.1\r\n" + fields.map { "\($0.key): \($0.value)\r\n" }.joined() + "\r\n"
        let bytes = Array((head + body).utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { break }
            received += chunk[0..<n]
            if upgrade, received.count >= 4, received.firstRange(of: Array("\r\n\r\n".utf8)) != nil { break }
        }
        let text = String(decoding: received, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw Failure.closedEarly }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        guard let statusLine = lines.first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else {
            throw Failure.closedEarly
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Response(status: status, headers: headers, body: String(text[split.upperBound...]))
    }
}
