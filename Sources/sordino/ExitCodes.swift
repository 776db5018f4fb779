// SPDX-License-Identifier: GPL-3.0-or-later
// sysexits-style exit codes, and the mapping from every library error to one of them.

import ArgumentParser
import Foundation
import SordinoDSP
import SordinoIO
import SordinoJACK
import SordinoNMF
import SordinoReport
import SordinoPresets

extension ExitCode {
    /// The command line was wrong (EX_USAGE; argument-parser's own code for validation errors).
    static let usage = ExitCode(64)
    /// A preset, dictionary or audio file was rejected (EX_DATAERR).
    static let badData = ExitCode(65)
    /// An input file does not exist (EX_NOINPUT).
    static let noInput = ExitCode(66)
    /// No JACK server, it went away, or libjack cannot be loaded (EX_UNAVAILABLE).
    static let serverUnavailable = ExitCode(69)
    /// A bug: something the program should have prevented (EX_SOFTWARE).
    static let internalError = ExitCode(70)
    /// An output file cannot be created (EX_CANTCREAT).
    static let cannotCreate = ExitCode(73)
    /// Writing failed part-way (EX_IOERR).
    static let ioFailure = ExitCode(74)
    /// EX_TEMPFAIL: try again later (`ctl learn-noise` while another one runs).
    static let temporaryFailure = ExitCode(75)
}

/// Prints `error` as one line on stderr, prefixed with the command name, and returns its exit code.
func report(_ error: any Error, command: String) -> ExitCode {
    if case let .engineUnavailable(failure)? = error as? JackHostError { return report(failure.cause, command: command) }
    let code: ExitCode
    switch error {
    case let error as AudioFileError:
        switch error {
        case .notFound, .isDirectory: code = .noInput
        case .cannotWrite: code = .cannotCreate
        default: code = .badData
        }
    case let error as PresetError:
        if case .notFound = error { code = .noInput } else { code = .badData }
    case is EngineError, is NpyError, is ResamplerError, is NMFError, is PNGError: code = .badData
    case is ReportError: code = .cannotCreate
    case let error as JackHostError:
        switch error {
        case .sampleRateMismatch, .engineUnavailable: code = .badData
        case .invalidConnectPattern: code = .usage
        case .channelCountMismatch: code = .internalError
        case .libraryUnavailable, .serverNotRunning, .clientRefused, .portRegistrationFailed, .activationFailed,
             .serverShutDown:
            code = .serverUnavailable
        }
    case let error as CommandError: code = error.exitCode
    case let error as Interrupted:
        FileHandle.standardError.write(Data("sordino \(command): \(error)\n".utf8))
        return ExitCode(128 + error.signal)
    default: code = .internalError
    }
    FileHandle.standardError.write(Data("sordino \(command): error: \(error)\n".utf8))
    return code
}

/// Errors raised by the commands themselves.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    let exitCode: ExitCode
    init(_ description: String, exitCode: ExitCode = .badData) {
        self.description = description
        self.exitCode = exitCode
    }
}

/// Writes a line to stderr (status and progress go there; stdout stays for data).
func note(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
