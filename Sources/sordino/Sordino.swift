// SPDX-License-Identifier: GPL-3.0-or-later
// The `sordino` command: parses arguments and hands off to one subcommand; no DSP here.

import ArgumentParser

@main
struct Sordino: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sordino",
        abstract: "NMF speech enhancement for JACK, and the offline tools around it.",
        discussion: """
        Sordino removes noise from speech with fixed speech and noise NMF dictionaries (a preset), \
        live as a JACK client (`run`, the default when no subcommand is given; `demo` to try it \
        without a sound card) or on files (`process`). `train` learns presets.

        Exit codes: 0 success; 64 usage error; 65 bad data (a preset, dictionary or audio file \
        was rejected); 66 an input file is missing; 69 no JACK server, or it went away; 70 internal \
        error; 73 an output file cannot be created; 74 I/O error while writing.
        """,
        version: "0.1.0",
        subcommands: [Run.self, Ctl.self, Service.self, Demo.self, ProcessCommand.self, Train.self, Decompose.self, Separate.self,
                      Inspect.self, Bench.self, LossReport.self, GainFeaturesCommand.self, GainAttach.self],
        defaultSubcommand: Run.self
    )
}
