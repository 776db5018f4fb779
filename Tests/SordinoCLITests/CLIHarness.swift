// SPDX-License-Identifier: GPL-3.0-or-later
// Runs the built `sordino` binary and collects its exit code and output, for the CLI tests.

import Foundation
import Testing

enum CLI {
    /// The repository root (three levels above this file).
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// `sordino` built next to the test bundle (the same configuration as the tests), or
    /// `$SORDINO_TEST_BINARY` (e.g. the release build, to measure what users run).
    static var binary: URL? {
        let url = ProcessInfo.processInfo.environment["SORDINO_TEST_BINARY"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("sordino")
        return FileManager.default.isExecutableFile(atPath: url.path) ? url : nil
    }

    /// `SORDINO_REQUIRE_BINARIES=1` (set by `make test`): a missing binary fails the CLI tests instead of skipping them.
    static let required = ProcessInfo.processInfo.environment["SORDINO_REQUIRE_BINARIES"] == "1"
    /// Whether the CLI suites run: the binary is there, or its absence must fail them.
    static var shouldRun: Bool { binary != nil || required }
    static let skipReason: Comment = "the sordino binary is not built next to the tests (SORDINO_REQUIRE_BINARIES=1 makes this a failure)"

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        /// Standard output's bytes as they came (audio written to `-`).
        var stdoutData = Data()
    }

    /// Runs `sordino arguments…` in the repository root and waits for it; a command still running
    /// after `timeout` seconds (a test expecting an exit that never comes) is terminated, so a
    /// wrong expectation fails the test instead of hanging the suite.
    /// `standardInput` and `standardOutput`, when given, connect the command's stdin and stdout to
    /// those files; `standardInputData`, when given, is written to its stdin through a pipe (and
    /// without `standardOutput`, stdout is a pipe too: `stdoutData`).
    static func run(_ arguments: [String], environment: [String: String] = [:], timeout: Double = 120,
                    standardInput: URL? = nil, standardOutput: URL? = nil, standardInputData: Data? = nil) throws -> Result {
        guard let binary else { throw CocoaError(.fileNoSuchFile) }
        let process = Foundation.Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = repository
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardError = err
        if let standardInput { process.standardInput = try FileHandle(forReadingFrom: standardInput) }
        let input = Pipe()
        // Its write end must not leak into a command another test starts meanwhile: holding it,
        // that command would keep this one's stdin from ever reaching its end (and the two wait).
        _ = fcntl(input.fileHandleForWriting.fileDescriptor, F_SETFD, FD_CLOEXEC)
        if standardInputData != nil { process.standardInput = input }
        if let standardOutput {
            _ = FileManager.default.createFile(atPath: standardOutput.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: standardOutput)
            try out.fileHandleForWriting.close()   // nothing writes to it: reading it ends at once
        } else {
            process.standardOutput = out
        }
        try process.run()
        if let standardInputData {
            let writer = input.fileHandleForWriting
            Thread {   // a pipe holds 64 KB: written beside the reading below
                try? writer.write(contentsOf: standardInputData)
                try? writer.close()
            }.start()
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { if process.isRunning { process.terminate() } }
        // Read both pipes at once before waiting, so a chatty child cannot block on a full pipe
        // (one after the other, a command writing audio to stdout waited on it for ever).
        let stdoutRead = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outData = Data()
        let outHandle = out.fileHandleForReading
        Thread {
            outData = outHandle.readDataToEndOfFile()
            stdoutRead.signal()
        }.start()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        stdoutRead.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self), stdoutData: outData)
    }

    /// `sordino arguments…` running in the background, its stderr collected in a file.
    final class Background {
        let process = Foundation.Process()
        let stderrURL: URL

        /// The daemon's own runtime and state folders, so that daemons of concurrent tests (all
        /// named "sordino") get separate control sockets and never read the user's saved settings.
        let privateFolder: URL

        init(_ arguments: [String], environment: [String: String] = [:]) throws {
            guard let binary = CLI.binary else { throw CocoaError(.fileNoSuchFile) }
            stderrURL = FileManager.default.temporaryDirectory.appendingPathComponent("sordino-cli-\(UUID().uuidString).log")
            _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
            privateFolder = try CLI.temporaryDirectory()
            process.executableURL = binary
            process.arguments = arguments
            process.currentDirectoryURL = CLI.repository
            let runtime = privateFolder.appendingPathComponent("runtime").path
            try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o700])
            let isolation = ["XDG_RUNTIME_DIR": runtime, "XDG_STATE_HOME": privateFolder.appendingPathComponent("state").path]
            process.environment = ProcessInfo.processInfo.environment.merging(isolation) { $1 }.merging(environment) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: stderrURL)
            process.standardInput = FileHandle.nullDevice
            // Started as from a shell: with no signal blocked. The test's thread (a Dispatch worker)
            // blocks most signals and the child would inherit that mask, and with it the threads a
            // library starts before the daemon's main (OpenBLAS's pool), which then never receive one.
            var empty = sigset_t(), previous = sigset_t()
            sigemptyset(&empty)
            pthread_sigmask(SIG_SETMASK, &empty, &previous)
            defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
            try process.run()
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
            try? FileManager.default.removeItem(at: stderrURL)
            try? FileManager.default.removeItem(at: privateFolder)
        }

        var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }
        var isRunning: Bool { process.isRunning }

        func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

        /// The exit status, or nil if it still runs after `timeout`.
        func waitForExit(timeout: Duration) -> Int32? {
            let deadline = ContinuousClock.now + timeout
            while process.isRunning && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.005) }
            if process.isRunning { return nil }
            process.waitUntilExit()
            return process.terminationStatus
        }

        /// Waits until `condition` holds (polling every 20 ms); false after `timeout`.
        func waitUntil(timeout: Duration, _ condition: () -> Bool) -> Bool {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if condition() { return true }
                Thread.sleep(forTimeInterval: 0.02)
            }
            return condition()
        }
    }

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sordino-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
