// SPDX-License-Identifier: GPL-3.0-or-later
// The `sordino` command: parses arguments and hands off to one subcommand; no DSP here.

import ArgumentParser

/// Starts `sordino`: a first argument that names a subcommand is parsed through `SordinoCommands`,
/// the same command tree without a default subcommand; anything else (no arguments, an option
/// first, `help`) through `Sordino`, where `run` is the default. With a default subcommand
/// ArgumentParser reflects all of `run`'s options at every start, whatever the command, to see
/// whether they would take the arguments: 9 M instructions, a tenth of a short `process`.
@main
enum Launcher {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let first = arguments.first, Sordino.subcommandNames.contains(first) {
            SordinoCommands.main(arguments)
        } else {
            Sordino.main(arguments)
        }
    }
}

/// `Sordino`'s tree without the default subcommand, for command lines that name one.
struct SordinoCommands: ParsableCommand {
    static let configuration = Sordino.tree(defaultSubcommand: nil)
}

struct Sordino: ParsableCommand {
    static let subcommands: [ParsableCommand.Type] = [
        Run.self, Ctl.self, Service.self, Demo.self, ProcessCommand.self, Train.self, Decompose.self, Separate.self,
        Inspect.self, Bench.self, LossReport.self, GainFeaturesCommand.self, GainAttach.self,
    ]
    /// Each subcommand's name (every one sets `commandName`).
    static let subcommandNames = Set(subcommands.compactMap { $0.configuration.commandName })

    static let configuration = tree(defaultSubcommand: Run.self)

    /// The command tree, with or without a default subcommand.
    static func tree(defaultSubcommand: ParsableCommand.Type?) -> CommandConfiguration {
        CommandConfiguration(
            commandName: "sordino",
            abstract: "NMF speech enhancement for JACK, and the offline tools around it.",
            discussion: """
            Sordino removes noise from speech with fixed speech and noise NMF dictionaries (a preset), \
            live as a JACK client (`run`, the default when no subcommand is given; `demo` to try it \
            without a sound card) or on files (`process`). `train` learns presets.

            Exit codes: 0 success; 64 usage error; 65 bad data (a preset, dictionary or audio file \
            was rejected); 66 an input file is missing; 69 no JACK server, it went away, or libjack \
            cannot be loaded; 70 internal error; 73 an output file cannot be created; 74 I/O error \
            while writing; 130 `demo` interrupted, or `process` stopped by SIGINT (143 by SIGTERM).
            """,
            version: "0.1.0",
            subcommands: subcommands,
            defaultSubcommand: defaultSubcommand)
    }
}
