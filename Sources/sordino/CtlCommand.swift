// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino ctl`: talks to a running daemon over its control socket (status, get, set, reload, subscribe, save-settings, watch, the noise commands).

import ArgumentParser
import Foundation
import SordinoControl
import SordinoJACK

struct Ctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract: "Steer and watch a running `sordino run` over its control socket.",
        discussion: """
        Connects to $XDG_RUNTIME_DIR/sordino/NAME.sock (NAME: --name, default sordino; without \
        XDG_RUNTIME_DIR /tmp/sordino-UID/NAME.sock), or to --control PATH, as the same user as the \
        daemon (others are refused). Prints for people by default, JSON with --json (the protocol's \
        result objects; see docs/PROTOCOL.md).

        Live parameters (set): floor-db (−120…0), wet (0…1), mask-exponent (1 or 2), iterations \
        (0…64, capped by the preset), noise-bound-db (−120…20 or off), bypass (on/off). Continuous \
        ones glide on the audio thread; discrete ones switch at a hop, blended by the overlap-add. \
        `set NAME default` returns to the preset's value (with the daemon's command-line override). \
        `save-settings` keeps the live values for the daemon's next start.

        Noise: `learn-noise 5` captures 5 s of the daemon's input (play only the noise meanwhile), \
        learns noise atoms for it and adds them to the preset's noise atoms without a gap; \
        `forget-noise` returns to the preset's atoms; `save-noise NAME` writes the running preset \
        with the learned atoms as preset NAME into $XDG_DATA_HOME/sordino/presets (in the search \
        path: `sordino run --preset NAME`).

        Exit codes: 0 success; 64 the request was refused (a bad name or value, or nothing learned \
        to save); 65 reload or learn-noise refused (the running engine keeps going); 69 no daemon \
        answers at the socket; 74 the connection failed or a file could not be written; 75 a \
        learn-noise is already running, or the daemon's 16 control connections are taken (retry).
        """,
        subcommands: [CtlStatus.self, CtlGet.self, CtlSet.self, CtlReload.self, CtlSubscribe.self,
                      CtlSaveSettings.self, CtlWatch.self, CtlLearnNoise.self, CtlForgetNoise.self, CtlSaveNoise.self])
}

/// Where the daemon is, and how to print.
struct CtlOptions: ParsableArguments {
    @Option(help: "The daemon's --name (its socket is NAME.sock).")
    var name: String = "sordino"

    @Option(name: .customLong("control"), help: ArgumentHelp("The daemon's control socket, if started with --control.", valueName: "path"))
    var control: String?

    @Flag(help: "Print the protocol's JSON result instead of text.")
    var json = false

    var socketPath: String { control ?? ControlSocketPath.defaultPath(name: name) }

    /// Sends one request and returns its result; failures become exit codes with the daemon's message.
    func request(_ command: ControlCommand, _ fields: [String: JSONValue] = [:], timeout: Duration = .seconds(10),
                 progress: ((JSONValue) -> Void)? = nil) throws -> JSONValue {
        do throws(ControlFailure) {
            let client = try ControlClient(path: socketPath, timeout: timeout)
            return try client.request(command, fields, progress: progress)
        } catch {
            throw Self.exit(error)
        }
    }

    /// For the commands that run until interrupted: Ctrl-C and SIGTERM end them even when the
    /// process was started with those signals blocked (a parent's thread mask is inherited).
    func connectUntilInterrupted() throws -> ControlClient {
        SignalWaiter.unblockTerminationSignals()
        return try connect()
    }

    func connect() throws -> ControlClient {
        do throws(ControlFailure) { return try ControlClient(path: socketPath) } catch { throw Self.exit(error) }
    }

    static func exit(_ failure: ControlFailure) -> ExitCode {
        note("sordino ctl: \(failure.message)")
        switch failure.code {
        case .unreachable: return .serverUnavailable
        case .ioError, .badReply: return .ioFailure
        case .reloadFailed, .presetNotAllowed, .learnFailed: return .badData
        case .busy, .tooManyClients: return .temporaryFailure
        default: return .usage
        }
    }

    func emit(_ result: JSONValue, human: (JSONValue) -> String) {
        print(json ? result.text : human(result))
    }
}

struct CtlStatus: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Levels, latency, cost, counters and settings.")
    @OptionGroup var ctl: CtlOptions

    func run() throws {
        let result = try ctl.request(.status)
        ctl.emit(result) { CtlFormat.status($0) }
    }
}

struct CtlGet: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "One live parameter, or all of them.")
    @OptionGroup var ctl: CtlOptions
    @Argument(help: "floor-db, wet, mask-exponent, iterations, noise-bound-db or bypass; none: all.")
    var parameter: String?

    func run() throws {
        let result = try ctl.request(.get, parameter.map { ["name": .string($0)] } ?? [:])
        ctl.emit(result) { parameter == nil ? CtlFormat.settings($0) : CtlFormat.parameter($0) }
    }
}

/// Checks words taken unparsed (so that negative numbers stay values): a misspelt option is named as
/// ArgumentParser would name it, and the count must be `count`.
func checkWords(_ words: [String], count: Int, usage: String) throws {
    if let option = words.first(where: { $0.hasPrefix("--") }) { throw ValidationError("Unknown option '\(option)'") }
    guard words.count == count else {
        throw ValidationError(words.isEmpty ? "\(usage)." : "\(usage) (got \(words.count): \(words.joined(separator: " "))).")
    }
}

struct CtlSet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Sets a live parameter; prints the value applied.",
        usage: "sordino ctl set NAME VALUE [--name <name>] [--control <path>] [--json]")
    @OptionGroup var ctl: CtlOptions
    /// Taken unparsed, so that a negative value (`set floor-db -20`) is not read as an option.
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp(
        "NAME VALUE: floor-db, wet, mask-exponent, iterations, noise-bound-db or bypass; a number, on/off (bypass), "
            + "off (noise-bound-db), or default (back to the preset's value).", valueName: "name value"))
    var words: [String] = []

    mutating func validate() throws {
        try checkWords(words, count: 2, usage: "set takes a NAME and a VALUE, e.g. `sordino ctl set floor-db -18`")
    }

    func run() throws {
        let (parameter, value) = (words[0], words[1])
        let result = try ctl.request(.set, ["name": .string(parameter), "value": Self.json(value, for: parameter)])
        ctl.emit(result) { CtlFormat.parameter($0) }
    }

    /// The command line's word as the protocol's value.
    static func json(_ word: String, for parameter: String) -> JSONValue {
        switch word.lowercased() {
        case "default": return .null
        case "on", "true", "yes": return parameter == "bypass" ? .bool(true) : .string(word)
        case "off", "false", "no": return parameter == "bypass" ? .bool(false) : .string("off")
        // Not NaN or ±Inf ("nan", "inf", "-1e400"): sent as the word, the daemon's reply names the range.
        default: return Double(word).flatMap { $0.isFinite ? JSONValue.number($0) : nil } ?? .string(word)
        }
    }
}

struct CtlReload: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Re-reads the preset (or loads PRESET) and swaps engines without a gap; a bad preset is refused.",
        discussion: "PRESET is a name in the preset search path or a path inside one of its folders; the daemon refuses anything else.")
    @OptionGroup var ctl: CtlOptions
    @Argument(help: "Preset name, e.g. speech-48k. Default: the running preset, re-read.")
    var preset: String?

    func run() throws {
        let result = try ctl.request(.reload, preset.map { ["preset": .string($0)] } ?? [:])
        ctl.emit(result) { "reloaded: \($0["preset"]?.stringValue ?? "?")" }
    }
}

struct CtlSaveSettings: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "save-settings", abstract: "Keeps the live values for the daemon's next start.")
    @OptionGroup var ctl: CtlOptions

    func run() throws {
        let result = try ctl.request(.saveSettings)
        ctl.emit(result) { "saved to \($0["path"]?.stringValue ?? "?")" }
    }
}

struct CtlSubscribe: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "subscribe", abstract: "Prints a status line HZ times a second until interrupted.")
    @OptionGroup var ctl: CtlOptions
    @Option(parsing: .unconditional, help: "Status lines per second, 0.1…10.")
    var hz: Double = 1
    @Option(parsing: .unconditional, help: "Stop after this many lines (default: never).")
    var count: Int?

    func run() throws {
        let client = try ctl.connectUntilInterrupted()
        do throws(ControlFailure) {
            _ = try client.request(.subscribe, ["hz": .number(hz)])
            var printed = 0
            while count.map({ printed < $0 }) ?? true {
                let message = try client.readMessage()
                guard let status = message["status"] else { continue }
                print(ctl.json ? status.text : CtlFormat.statusLine(status))
                fflush(nil)   // every stream: a pipe sees each line at once
                printed += 1
            }
        } catch {
            throw CtlOptions.exit(error)
        }
    }
}

struct CtlWatch: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "watch", abstract: "Live input/output meters and attenuation in the terminal (Ctrl-C ends).")
    @OptionGroup var ctl: CtlOptions
    @Option(parsing: .unconditional, help: "Redraws per second, 0.1…10.")
    var hz: Double = 10

    func run() throws {
        let client = try ctl.connectUntilInterrupted()
        let terminal = isatty(STDOUT_FILENO) == 1
        do throws(ControlFailure) {
            _ = try client.request(.subscribe, ["hz": .number(hz)])
            while true {
                let message = try client.readMessage()
                guard let status = message["status"] else { continue }
                let screen = CtlFormat.meters(status)
                print(terminal ? "\u{1B}[H\u{1B}[2J" + screen : screen + "\n")
                fflush(nil)   // every stream: a pipe sees each line at once
            }
        } catch {
            throw CtlOptions.exit(error)
        }
    }
}

struct CtlLearnNoise: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "learn-noise",
        abstract: "Learns noise atoms from SECONDS of the daemon's input and swaps them in without a gap.",
        usage: "sordino ctl learn-noise SECONDS [--atoms <atoms>] [--name <name>] [--control <path>] [--json]",
        discussion: """
        Play only the noise to be removed (the room, the fan, the hum) while the daemon captures: \
        whatever the capture holds becomes noise to the engine. The atoms are learned with the \
        preset's β-divergence (β-NMF, \(NoiseLearner.iterations) passes) on the daemon's own STFT, \
        off the audio thread, and join the preset's noise atoms (the speech atoms stay; the \
        activation floor becomes \(NoiseLearner.activationFloor) unless the daemon was given \
        --activation-floor); the online noise atoms keep adapting on top. Progress is printed while \
        it runs. A reload \
        without a preset keeps the learned atoms; a reload with a preset name starts from that \
        preset's own.
        """)
    @OptionGroup var ctl: CtlOptions
    /// Taken unparsed, so that a negative number (`learn-noise -1`) gets the range, not "missing argument".
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Seconds of input to learn from, 1…30.", valueName: "seconds"))
    var words: [String] = []
    @Option(parsing: .unconditional, help: "Noise atoms to learn, 1…64.")
    var atoms: Int = NoiseLearner.defaultAtoms

    mutating func validate() throws {
        try checkWords(words, count: 1, usage: "learn-noise takes SECONDS, e.g. `sordino ctl learn-noise 5`")
    }

    func run() throws {
        let result = try ctl.request(.learnNoise, ["seconds": CtlSet.json(words[0], for: "seconds"), "atoms": .number(atoms)],
                                     timeout: .seconds(60)) { progress in
            guard !ctl.json else { return }
            note(CtlFormat.learnProgress(progress))
        }
        ctl.emit(result) { CtlFormat.learned($0) }
    }
}

struct CtlForgetNoise: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "forget-noise",
                                                    abstract: "Returns to the preset's own noise atoms (after learn-noise).")
    @OptionGroup var ctl: CtlOptions

    func run() throws {
        let result = try ctl.request(.forgetNoise)
        ctl.emit(result) { result in
            result["changed"] == .bool(true) ? "back to the preset's noise atoms: \(result["preset"]?.stringValue ?? "?")"
                : "no learned noise atoms were in use: \(result["preset"]?.stringValue ?? "?")"
        }
    }
}

struct CtlSaveNoise: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "save-noise",
        abstract: "Writes the running preset with its learned noise atoms as preset NAME in the user's preset folder.",
        discussion: "The folder is $XDG_DATA_HOME/sordino/presets (default ~/.local/share/sordino/presets), part of the preset search path. "
            + "An existing NAME is replaced only once the new files are complete.")
    @OptionGroup var ctl: CtlOptions
    @Argument(help: "Preset name: 1 to 64 letters, digits, '-' or '_'.")
    var name: String

    func run() throws {
        let result = try ctl.request(.saveNoise, ["name": .string(name)])
        ctl.emit(result) { "saved preset \($0["name"]?.stringValue ?? "?") to \($0["path"]?.stringValue ?? "?")" }
    }
}
