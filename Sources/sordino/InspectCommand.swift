// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino inspect PRESET`: prints a preset's metadata, shapes, latency, provenance and checksum.

import ArgumentParser
import Foundation
import SordinoIO
import SordinoPresets

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a preset's settings, shapes, provenance and checksum (and validate it).",
        discussion: "Without an argument, lists the presets found on the search path.")

    @Argument(help: "Preset name, NAME.json path, or folder.") var preset: String?
    @Option(help: "Also write the preset's bases to this folder as speech.npy and noise.npy (float32, bins × atoms).")
    var export: String?

    func run() throws {
        do {
            guard let preset else {
                let found = PresetLocator().list()
                if found.presets.isEmpty { note("no presets found; set SORDINO_PRESET_PATH or run from the repository.") }
                for entry in found.presets { print("\(entry.name)\t\(entry.sampleRate) Hz\t\(entry.path)") }
                for file in found.unloadable { note("warning: \(file)") }
                return
            }
            let choice = try PresetLocator().resolve(preset, sampleRate: nil)
            for file in choice.skipped { note("warning: \(file)") }
            let loaded = try Preset.load(path: choice.path)
            print(loaded.summary())
            if let export { try BasisExport.write(loaded.basis, to: export) }
        } catch {
            throw report(error, command: "inspect")
        }
    }
}
