// SPDX-License-Identifier: GPL-3.0-or-later
// The HTTP server of `sordino run --http`: `/`, `/status`, `/metrics`, `POST /control` and the `/ws` websocket, on threads of its own.

import Foundation
import Glibc
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SordinoControl
import SordinoLock

/// Serves the status page and metrics from one event-loop thread of its own (never the audio
/// thread), answering through the control protocol's own request handling (`ControlTarget`), so
/// ranges, errors and replies are the socket's. Only `status`, `get` and `set` are served over HTTP.
public final class StatusServer: Sendable {
    /// The port bound (the one asked for, or the system's pick for 0).
    public let port: Int
    private let task: Task<Void, Never>
    private let finished: DispatchSemaphore
    private let group: MultiThreadedEventLoopGroup
    /// Runs the application; shut down gracefully by `stop` (no signals of its own: the daemon
    /// handles those).
    private let services: ServiceGroup

    /// Longest request body or websocket message, bytes: a control-protocol line.
    static var maximumMessageBytes: Int { ControlProtocol.maximumLineBytes }
    /// Status events per second on the websocket.
    static var eventsPerSecond: Int { 10 }

    /// Binds and starts serving; returns once the port is bound, or throws why not (within 10 s).
    public init(options: HTTPOptions, target: any ControlTarget, logger: Logger) throws(StatusServerError) {
        do throws(HTTPOptionsError) { try options.validate() } catch { throw .options(error) }
        let policy = PolicyBox()
        let started = DispatchSemaphore(value: 0)
        let outcome = Locked<Result<Int, StatusServerError>?>(nil)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let router = Self.router(target: target, policy: policy)
        let app = Application(
            router: router,
            server: .http1WebSocketUpgrade(webSocketRouter: router,
                                           configuration: .init(ws: .init(maxFrameSize: Self.maximumMessageBytes))),
            configuration: .init(address: .hostname(options.bindAddress, port: options.port), serverName: nil),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? options.port
                policy.value.withLock { $0 = AccessPolicy(options: options, boundPort: bound) }
                outcome.withLock { $0 = .success(bound) }
                started.signal()
            },
            eventLoopGroupProvider: .shared(group), logger: logger)
        let finished = DispatchSemaphore(value: 0)
        let services = ServiceGroup(configuration: .init(services: [app], logger: logger))
        self.services = services
        task = Task.detached {
            do {
                try await services.run()
            } catch {
                outcome.withLock { if $0 == nil { $0 = .failure(.bind(address: options.bindAddress, port: options.port, reason: "\(error)")) } }
                started.signal()
            }
            finished.signal()
        }
        self.finished = finished
        self.group = group
        if started.wait(timeout: .now() + 10) == .timedOut {
            outcome.withLock { if $0 == nil { $0 = .failure(.bind(address: options.bindAddress, port: options.port, reason: "no answer in 10 s")) } }
        }
        switch outcome.withLock({ $0 }) {
        case .success(let bound)?:
            port = bound
        case .failure(let error)?:
            task.cancel()
            _ = finished.wait(timeout: .now() + 2)
            try? group.syncShutdownGracefully()
            throw error
        case nil:
            throw .bind(address: options.bindAddress, port: options.port, reason: "no answer")
        }
    }

    /// Checks, before anything else starts, that `options`' address and port can be bound (as the
    /// server binds them: SO_REUSEADDR, so a port left in TIME_WAIT by a daemon just stopped
    /// passes), so that a port in use fails the start before a JACK client is opened. Port 0 (any)
    /// always passes. The server's own bind still reports what happens in between.
    public static func checkCanBind(_ options: HTTPOptions) throws(StatusServerError) {
        guard options.port != 0 else { return }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(options.bindAddress, String(options.port), &hints, &found)
        guard status == 0, let first = found else {
            throw .bind(address: options.bindAddress, port: options.port, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(first) }
        let socket = Glibc.socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard socket >= 0 else { throw .bind(address: options.bindAddress, port: options.port, reason: String(cString: strerror(errno))) }
        defer { close(socket) }
        var one: Int32 = 1
        _ = setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(socket, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            throw .bind(address: options.bindAddress, port: options.port, reason: String(cString: strerror(errno)))
        }
    }

    /// Stops serving: closes the listener and every connection, waits for them (≤ 3 s; then cancels).
    public func stop() {
        let services = self.services
        Task.detached { await services.triggerGracefulShutdown() }
        if finished.wait(timeout: .now() + 3) == .timedOut {
            task.cancel()
            _ = finished.wait(timeout: .now() + 1)
        }
        try? group.syncShutdownGracefully()
    }

    // MARK: - Routes

    private static func router(target: any ControlTarget, policy: PolicyBox) -> Router<BasicWebSocketRequestContext> {
        let router = Router(context: BasicWebSocketRequestContext.self)
        let metrics = MetricsExporter()
        @Sendable func admit(_ request: Request, stateChanging: Bool) throws(HTTPError) {
            guard let access = policy.value.withLock({ $0 }) else { throw HTTPError(.serviceUnavailable, message: "starting; retry") }
            let refusal = access.check(host: request.head.authority, authorization: request.headers[.authorization],
                                       queryToken: request.uri.queryParameters.get("token"), origin: request.headers[.origin],
                                       stateChanging: stateChanging)
            guard let refusal else { return }
            if refusal == .token { throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"], message: access.message(.token)) }
            throw HTTPError(.forbidden, message: access.message(refusal))
        }
        router.get("/") { request, _ -> Response in
            try admit(request, stateChanging: false)
            return Response(status: .ok, headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                // Nothing from elsewhere, and no framing (a foreign page cannot overlay the slider).
                .contentSecurityPolicy: "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
                .init("X-Frame-Options")!: "DENY",
            ], body: .init(byteBuffer: ByteBuffer(string: StatusPage.html)))
        }
        router.get("/status") { request, _ -> Response in
            try admit(request, stateChanging: false)
            guard let status = ControlProtocol.statusResult(of: target) else {
                throw HTTPError(.serviceUnavailable, message: "the daemon has not published a status yet; retry in a moment")
            }
            return json(status.text)
        }
        router.get("/metrics") { request, _ -> Response in
            try admit(request, stateChanging: false)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: metrics.scrape(ControlProtocol.statusResult(of: target)))))
        }
        router.post("/control") { request, context -> Response in
            try admit(request, stateChanging: true)
            let body: ByteBuffer
            do { body = try await request.body.collect(upTo: maximumMessageBytes) } catch {
                throw HTTPError(.contentTooLarge, message: "a request is one control-protocol line of at most \(maximumMessageBytes) bytes")
            }
            let reply = ControlProtocol.reply(to: Data(body.readableBytesView), target: target,
                                              only: ControlProtocol.immediateCommands, transport: "HTTP")
            let ok = JSONValue.parse(Data(reply.utf8))?["ok"]?.boolValue == true
            return json(reply, status: ok ? .ok : .badRequest)
        }
        router.ws("/ws", shouldUpgrade: { request, _ in
            try admit(request, stateChanging: true)
            return .upgrade([:])
        }, onUpgrade: { inbound, outbound, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        if let event = ControlProtocol.statusEvent(of: target) { try await outbound.write(.text(event)) }
                        try await Task.sleep(for: .milliseconds(1000 / eventsPerSecond))
                    }
                }
                group.addTask {
                    for try await message in inbound.messages(maxSize: maximumMessageBytes) {
                        guard case .text(let text) = message else { continue }
                        try await outbound.write(.text(ControlProtocol.reply(to: Data(text.utf8), target: target,
                                                                             only: ControlProtocol.immediateCommands, transport: "the websocket")))
                    }
                }
                try await group.next()   // the client went away (or the server stops)
                group.cancelAll()
            }
        })
        return router
    }

    private static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}

/// The access policy, set once the port is bound (requests before that are answered 503).
private final class PolicyBox: Sendable {
    let value = Locked<AccessPolicy?>(nil)
}

/// Why the HTTP server did not start.
public enum StatusServerError: Error, CustomStringConvertible {
    case options(HTTPOptionsError)
    case bind(address: String, port: Int, reason: String)

    public var description: String {
        switch self {
        case .options(let error): error.description
        case .bind(let address, let port, let reason):
            "cannot serve HTTP on \(address):\(port) (\(reason)). Choose a free port with --http (0: any), or another --http-bind."
        }
    }
}
