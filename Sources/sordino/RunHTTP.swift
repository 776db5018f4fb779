// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino run --http`: checks the HTTP options and starts the status page's server (absent from builds made with SORDINO_NO_HTTP=1).

import ArgumentParser
import Logging
import SordinoControl
#if SORDINO_HTTP
import SordinoHTTP
#endif

extension Run {
    #if SORDINO_HTTP
    private var httpOptions: HTTPOptions? {
        httpPort.map { HTTPOptions(port: $0, bindAddress: httpBind, token: httpToken, extraOrigins: httpOrigins) }
    }

    /// Refuses HTTP options that cannot work or would expose the daemon (a non-loopback bind without a token).
    func validateHTTP() throws {
        guard let options = httpOptions else {
            if httpToken != nil || !httpOrigins.isEmpty || httpBind != "127.0.0.1" {
                throw ValidationError("--http-bind, --http-token and --http-origin need --http PORT.")
            }
            return
        }
        do throws(HTTPOptionsError) { try options.validate() } catch { throw ValidationError(error.description) }
    }

    /// With --http, fails the start at once (exit 73) when the port cannot be bound: called before
    /// the JACK client is opened.
    func checkHTTPPort() throws {
        guard let options = httpOptions else { return }
        do throws(StatusServerError) { try StatusServer.checkCanBind(options) } catch {
            throw report(CommandError("\(error)", exitCode: .cannotCreate), command: "run")
        }
    }

    /// Starts the HTTP server when --http was given; returns what stops it. A port that cannot be
    /// bound stops the start (exit 73).
    func startHTTP(target: any ControlTarget, logger: Logger) throws -> (() -> Void)? {
        guard let options = httpOptions else { return nil }
        do throws(StatusServerError) {
            let server = try StatusServer(options: options, target: target, logger: Logger(label: "sordino.http"))
            let host = options.bindAddress.contains(":") && !options.bindAddress.hasPrefix("[") ? "[\(options.bindAddress)]" : options.bindAddress
            logger.info("status page http://\(host):\(server.port)/ (also /status, /metrics)\(options.token == nil ? "" : "; a token is required")")
            return server.stop
        } catch {
            throw report(CommandError("\(error)", exitCode: .cannotCreate), command: "run")
        }
    }
    #else
    func validateHTTP() throws {
        if httpPort != nil {
            throw ValidationError("this sordino was built without the HTTP server (SORDINO_NO_HTTP=1): rebuild without that variable to use --http.")
        }
    }

    func checkHTTPPort() throws {}

    func startHTTP(target: any ControlTarget, logger: Logger) throws -> (() -> Void)? { nil }
    #endif
}
