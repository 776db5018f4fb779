// SPDX-License-Identifier: GPL-3.0-or-later
// Resolving --preset: names on the search path, paths, directories chosen by sample rate, listing.

import Foundation
import Testing
@testable import SordinoPresets

@Suite struct LocatorTests {
    @Test func searchPathOrder() {
        let locator = PresetLocator(environment: ["SORDINO_PRESET_PATH": "/opt/a::/opt/b", "XDG_DATA_HOME": "/data"],
                                    executablePath: nil)
        #expect(locator.searchDirectories == ["/opt/a", "/opt/b", "/data/sordino/presets", "presets",
                                              "/usr/local/share/sordino/presets", "/usr/share/sordino/presets"])
        // The user's folder (where `ctl save-noise` writes) comes first; a relative XDG_DATA_HOME is ignored.
        let home = PresetLocator(environment: ["HOME": "/home/u", "XDG_DATA_HOME": "rel"], executablePath: nil)
        #expect(home.searchDirectories.prefix(2) == ["/home/u/.local/share/sordino/presets", "presets"])
    }

    @Test func nameIsFoundThroughSordinoPresetPath() throws {
        let root = try TemporaryDirectory(); defer { root.remove() }
        let first = try root.subdirectory("first"), second = try root.subdirectory("second")
        try Fixture.write(to: second, name: "speech")
        let locator = PresetLocator(environment: ["SORDINO_PRESET_PATH": "\(first):\(second)"], executablePath: nil)
        #expect(try locator.resolve("speech", sampleRate: nil).path == second + "/speech.json")
        #expect(try locator.resolve("speech", sampleRate: 48_000).path == second + "/speech.json")   // a file: rate unchecked

        try Fixture.write(to: first, name: "speech")                                          // the first directory wins
        #expect(try locator.resolve("speech", sampleRate: nil).path == first + "/speech.json")

        let error = presetError { try locator.resolve("whisper", sampleRate: 16_000) }
        guard case let .notFound("whisper", searched)? = error else {
            Issue.record("expected not found, got \(String(describing: error))"); return
        }
        #expect(searched.starts(with: [first, second, PresetLocator.userDirectory(), "presets"]))
        #expect(error?.description.contains(first) == true && error?.description.contains("SORDINO_PRESET_PATH") == true)
    }

    @Test func pathsAreTakenAsGiven() throws {
        let root = try TemporaryDirectory(); defer { root.remove() }
        let jsonPath = try Fixture.write(to: root.path, name: "speech")
        let locator = PresetLocator(searchDirectories: [])
        #expect(try locator.resolve(jsonPath, sampleRate: nil).path == jsonPath)
        #expect(try locator.resolve(root.file("speech"), sampleRate: nil).path == jsonPath)
        #expect(presetError { try locator.resolve(root.file("nothing.json"), sampleRate: nil) }
            == .notFound(argument: root.file("nothing.json"), searched: [root.file("nothing.json")]))
        #expect(presetError { try locator.resolve("", sampleRate: nil) } == .notFound(argument: "", searched: []))
        // Found by hand: a file that is not a preset (`inspect /etc/passwd`, an audio file given to
        // --preset) was "not found"; it is named as what it is.
        let notes = root.file("notes.txt")
        #expect(FileManager.default.createFile(atPath: notes, contents: Data("not a preset".utf8)))
        let error = presetError { try locator.resolve(notes, sampleRate: nil) }
        #expect(error == .notAPreset(path: notes))
        #expect(error?.description.hasPrefix("\(notes): a file, but not a preset: a preset is NAME.json with NAME.basis beside it.") == true)
    }

    /// A directory with a 16 kHz and a 48 kHz preset, plus a JSON file that does not parse.
    func multiRateDirectory(in root: TemporaryDirectory) throws -> String {
        let directory = try root.subdirectory("speech")
        try Fixture.write(try Fixture.preset(sampleRate: 16_000), to: directory, name: "speech-16k")
        try Fixture.write(try Fixture.preset(sampleRate: 48_000, frameLength: 1024), to: directory, name: "speech-48k")
        try Patch.store(Array("not json".utf8), directory + "/notes.json")
        return directory
    }

    @Test func directoryPicksThePresetForTheRate() throws {
        let root = try TemporaryDirectory(); defer { root.remove() }
        let directory = try multiRateDirectory(in: root)
        let locator = PresetLocator(searchDirectories: [root.path])
        for argument in [directory, "speech"] {
            #expect(try locator.resolve(argument, sampleRate: 16_000).path == directory + "/speech-16k.json")
            #expect(try locator.resolve(argument, sampleRate: 48_000).path == directory + "/speech-48k.json")
            #expect(try locator.resolve(argument, sampleRate: 48_000).skipped.map(\.path) == [directory + "/notes.json"])
        }
        let loaded = try Preset.load(path: locator.resolve("speech", sampleRate: 48_000).path)
        #expect(loaded.metadata.sampleRate == 48_000 && loaded.basis.binCount == 513)
    }

    @Test func unknownRateListsTheAvailableOnes() throws {
        let root = try TemporaryDirectory(); defer { root.remove() }
        let directory = try multiRateDirectory(in: root)
        // notes.json, its rate unknown, may be the 44.1 kHz preset (FolderFaultTests): remove it.
        try FileManager.default.removeItem(atPath: directory + "/notes.json")
        let locator = PresetLocator(searchDirectories: [root.path])
        let error = presetError { try locator.resolve(directory, sampleRate: 44_100) }
        #expect(error == .noPresetForRate(requested: 44_100, available: [16_000, 48_000], directory: directory))
        #expect(error?.description.contains("presets for 16000, 48000 Hz") == true)
        #expect(presetError { try locator.resolve("speech", sampleRate: nil) }
            == .sampleRateRequired(directory: root.path + "/speech", available: [16_000, 48_000]))
    }

    @Test func presetsFolderIsFoundAboveTheExecutable() throws {
        let root = try TemporaryDirectory(); defer { root.remove() }
        let presets = try root.subdirectory("presets")
        let binary = try root.subdirectory(".build/x86_64-unknown-linux-gnu/release")
        try Patch.store([0x7F], binary + "/sordino")
        try FileManager.default.createSymbolicLink(atPath: root.file(".build/release"),
                                                   withDestinationPath: "x86_64-unknown-linux-gnu/release")
        let real = URL(fileURLWithPath: presets).resolvingSymlinksInPath().path
        let locator = PresetLocator(environment: [:], executablePath: root.file(".build/release/sordino"))
        #expect(locator.searchDirectories.contains(real))
        let viaPath = PresetLocator(environment: ["PATH": "/nonexistent:" + root.file(".build/release")],
                                    executablePath: "sordino")
        #expect(viaPath.searchDirectories.contains(real))
    }

    @Test func listShowsFilesAndDirectoriesWithRates() throws {
        let root = try TemporaryDirectory(); defer { root.remove() }
        let directory = try multiRateDirectory(in: root)
        try Fixture.write(to: root.path, name: "office")
        let found = PresetLocator(searchDirectories: [root.path, "/nonexistent"]).list()
        let listed = found.presets
        #expect(found.unloadable.map(\.path) == [directory + "/notes.json"])
        #expect(listed.map(\.name) == ["office", "speech", "speech"])
        #expect(listed.map(\.sampleRate) == [16_000, 16_000, 48_000])
        #expect(listed.map(\.path) == [root.path + "/office.json", directory + "/speech-16k.json",
                                       directory + "/speech-48k.json"])
    }
}
