// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino service install|uninstall`: the systemd unit (Type=notify) that runs this binary's daemon.

import ArgumentParser
import Foundation
import SystemReason

struct Service: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service",
        abstract: "Install or remove a systemd unit that runs `sordino run` as a service.",
        discussion: """
        The unit runs this binary (install it first with `make install PREFIX=…`) as `sordino run \
        --wait-for-server`, Type=notify: the daemon reports READY=1 once it is connected to a JACK \
        server or waiting for one, and STATUS= says which. It restarts on failure, is ordered after \
        the JACK and PipeWire services (no sleep: the daemon waits for the server and reconnects by \
        itself), and logs to stderr, which journald keeps (`journalctl --user -u sordino`). SIGHUP \
        (`systemctl reload`) re-reads the preset.
        """,
        subcommands: [ServiceInstall.self, ServiceUninstall.self])
}

/// Where the unit goes.
struct ServiceLocation: ParsableArguments {
    @Flag(help: "A user unit (~/.config/systemd/user), for a JACK or PipeWire server in your session. Default: a system unit (/etc/systemd/system).")
    var user = false

    @Option(help: "Unit name (NAME.service) and the daemon's --name.")
    var name: String = "sordino"

    @Option(name: .customLong("unit-dir"), help: ArgumentHelp("Write the unit into this folder instead (packaging, tests).", valueName: "path"))
    var unitDirectory: String?

    mutating func validate() throws {
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw ValidationError("--name must be letters, digits, '-', '_' or '.' (got '\(name)').")
        }
        // The unit runs `sordino run --name NAME`, which would refuse it at every start.
        guard name.utf8.count <= Run.maximumNameBytes else {
            throw ValidationError("--name is \(name.utf8.count) bytes; JACK client names hold at most \(Run.maximumNameBytes).")
        }
    }

    var directory: String {
        if let unitDirectory { return unitDirectory }
        guard user else { return "/etc/systemd/system" }
        let environment = ProcessInfo.processInfo.environment
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "\(NSHomeDirectory())/.config"
        return "\(config)/systemd/user"
    }

    var path: String { "\(directory)/\(name).service" }
    var systemctl: String { user ? "systemctl --user" : "systemctl" }
}

struct ServiceInstall: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "install", abstract: "Writes the unit and says how to start it.")

    @OptionGroup var location: ServiceLocation

    @Option(help: ArgumentHelp("A `sordino run --config` file the service reads (absolute path).", valueName: "file"))
    var config: String?

    @Option(name: .customLong("run-as"), help: ArgumentHelp("System units: the user the daemon runs as (the JACK server's user).", valueName: "user"))
    var runAs: String?

    @Flag(name: .customLong("print"), help: "Print the unit instead of writing it.")
    var printOnly = false

    mutating func validate() throws {
        if let config, !config.hasPrefix("/") { throw ValidationError("--config must be an absolute path (the service does not run in this folder).") }
        if runAs != nil, location.user { throw ValidationError("--run-as is for system units; a user unit runs as you.") }
    }

    func run() throws {
        let unit = ServiceUnit(binary: Self.executable(), name: location.name, user: location.user, config: config, runAs: runAs).text
        if printOnly {
            print(unit, terminator: "")
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: location.directory, withIntermediateDirectories: true)
            try unit.write(toFile: location.path, atomically: true, encoding: .utf8)
        } catch {
            throw report(CommandError("cannot write \(location.path): \(systemReason(error)). "
                                      + (location.user ? "Check the folder's permissions." : "Run as root, or use --user."),
                                      exitCode: .cannotCreate), command: "service install")
        }
        print("""
            wrote \(location.path)
            start it:  \(location.systemctl) daemon-reload && \(location.systemctl) enable --now \(location.name)
            watch it:  sordino ctl status --name \(location.name); journalctl \(location.user ? "--user " : "")-u \(location.name)
            """)
    }

    /// This binary's absolute path, links resolved: the unit runs exactly what installed it.
    static func executable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }
}

struct ServiceUninstall: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "uninstall", abstract: "Removes the unit (stop and disable it first).")

    @OptionGroup var location: ServiceLocation

    func run() throws {
        guard FileManager.default.fileExists(atPath: location.path) else {
            throw report(CommandError("no unit at \(location.path)\(location.user ? "" : " (a user unit? add --user)").", exitCode: .noInput),
                         command: "service uninstall")
        }
        let unit = (try? String(contentsOfFile: location.path, encoding: .utf8)) ?? ""
        guard unit.contains(ServiceUnit.marker) else {
            throw report(CommandError("\(location.path) was not written by `sordino service install`; remove it yourself if you mean to.",
                                      exitCode: .badData), command: "service uninstall")
        }
        do { try FileManager.default.removeItem(atPath: location.path) } catch {
            throw report(CommandError("cannot remove \(location.path): \(systemReason(error))", exitCode: .cannotCreate),
                         command: "service uninstall")
        }
        print("""
            removed \(location.path)
            then:  \(location.systemctl) disable --now \(location.name); \(location.systemctl) daemon-reload
            """)
    }
}

/// The unit file's text.
struct ServiceUnit {
    /// The first line of every unit `service install` writes (what `uninstall` checks).
    static let marker = "# Written by `sordino service install`"

    let binary: String
    let name: String
    let user: Bool
    let config: String?
    let runAs: String?

    var text: String {
        var command = [binary, "run", "--wait-for-server", "--name", name]
        if let config { command += ["--config", config] }
        if !user { command += ["--control", "/run/\(name)/\(name).sock"] }
        var service = [
            "Type=notify", "NotifyAccess=main", "ExecStart=\(command.map(Self.quoted).joined(separator: " "))",
            "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure", "RestartSec=2",
            "LimitMEMLOCK=infinity", "LimitRTPRIO=95",
        ]
        if !user {
            service += ["RuntimeDirectory=\(name)", "RuntimeDirectoryMode=0700"]
            if let runAs { service += ["User=\(runAs)", "SupplementaryGroups=audio"] }
        }
        return """
            \(Self.marker); remove with `sordino service uninstall\(user ? " --user" : "")`.
            [Unit]
            Description=Sordino speech enhancer (JACK client \(name)); `sordino help run` explains its options
            # Ordered after the audio servers if they run as services; Sordino waits for the JACK
            # server and reconnects by itself, so it needs no Requires= and no sleep.
            After=jack.service jackd.service pipewire.service wireplumber.service sound.target

            [Service]
            \(service.joined(separator: "\n"))

            [Install]
            WantedBy=\(user ? "default.target" : "multi-user.target")

            """
    }

    /// systemd's quoting for one ExecStart word: plain when safe, else double quotes with \\ and \" escaped.
    static func quoted(_ word: String) -> String {
        let plain = !word.isEmpty && word.allSatisfy { $0.isLetter || $0.isNumber || "/-_.:=@+,".contains($0) }
        if plain { return word }
        let escaped = word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "%", with: "%%").replacingOccurrences(of: "$", with: "$$")
        return "\"\(escaped)\""
    }
}
