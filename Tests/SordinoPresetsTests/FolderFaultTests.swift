// SPDX-License-Identifier: GPL-3.0-or-later
// Broken files in a folder of presets: never chosen around, reported by name with their cause; JSON errors give line and column.

import Foundation
import Testing
@testable import SordinoPresets

@Suite struct FolderFaultTests {
    /// Ends inside `stft`, on line 6 after `    "hop` (8 characters): the parser runs out at line 6, column 9.
    static let truncated48k = "{\n  \"sampleRate\" : 48000,\n  \"schemaVersion\" : 1,\n  \"stft\" : {\n"
        + "    \"frameLength\" : 1024,\n    \"hop"
    static let truncatedDetail = "line 6, column 9: Unexpected end of file during JSON parse"
    /// A second comma after `16000,`: the 24th character of line 2.
    static let strayComma16k = "{\n  \"sampleRate\" : 16000,,\n  \"schemaVersion\" : 1\n}\n"
    static let strayCommaDetail = "line 2, column 24: Invalid value"

    /// A folder holding `files` (name → text) and valid fixture presets at the given rates (name → rate).
    func folder(in root: TemporaryDirectory, broken files: [String: String], valid: [String: Int]) throws -> String {
        let directory = try root.subdirectory("presets")
        for (name, text) in files { try Patch.store(Array(text.utf8), directory + "/" + name + ".json") }
        for (name, rate) in valid {
            try Fixture.write(try Fixture.preset(sampleRate: rate, frameLength: rate == 48_000 ? 1024 : 512),
                              to: directory, name: name)
        }
        return directory
    }

    @Test func aCorruptPresetThatWouldBeChosenStopsTheChoice() throws {
        let root = try TemporaryDirectory(); defer { root.remove() }
        let directory = try folder(in: root, broken: ["speech-48k": Self.truncated48k], valid: ["lowlatency-48k": 48_000])
        let broken = directory + "/speech-48k.json"
        let error = presetError { try PresetLocator(searchDirectories: []).resolve(directory, sampleRate: 48_000) }
        #expect(error == .unloadableChoice(path: broken, sampleRate: 48_000,
                                           cause: .invalidJSON(path: broken, detail: Self.truncatedDetail)))
        #expect(error?.description == "\(broken): not valid JSON (\(Self.truncatedDetail)). Fix the syntax, "
            + "restore the file, or regenerate the preset with `sordino train`. In the folder \(directory) that file "
            + "is, or may be, the preset for 48000 Hz, so no other is used in its place: repair or replace it, "
            + "or move it out of the folder.")
        // Through a bare name on the search path too, and at 16 kHz the folder has nothing to give.
        let byName = PresetLocator(searchDirectories: [root.path])
        #expect(presetError { try byName.resolve("presets", sampleRate: 48_000) } == error)
        #expect(presetError { try byName.resolve("presets", sampleRate: 16_000) }
            == .noPresetForRate(requested: 16_000, available: [48_000], directory: directory))
    }

    @Test func aCorruptPresetForAnotherRateIsSkippedAndReported() throws {
        let root = try TemporaryDirectory(); defer { root.remove() }
        let directory = try folder(in: root, broken: ["speech-16k": Self.strayComma16k], valid: ["speech-48k": 48_000])
        let broken = directory + "/speech-16k.json"
        let choice = try PresetLocator(searchDirectories: []).resolve(directory, sampleRate: 48_000)
        #expect(choice.path == directory + "/speech-48k.json")
        let cause = PresetError.invalidJSON(path: broken, detail: Self.strayCommaDetail)
        #expect(choice.skipped == [SkippedPreset(path: broken, error: cause, sampleRates: [16_000])])
        #expect(choice.skipped.first?.description == "passed over a 16000 Hz preset file that does not load: "
            + "\(broken): not valid JSON (\(Self.strayCommaDetail)). Fix the syntax, restore the file, "
            + "or regenerate the preset with `sordino train`.")
        // At its own rate the broken file is the only candidate, so it stops the choice.
        #expect(presetError { try PresetLocator(searchDirectories: []).resolve(directory, sampleRate: 16_000) }
            == .unloadableChoice(path: broken, sampleRate: 16_000, cause: cause))
        // Without a rate the readable presets' only rate is taken; the broken file is still reported.
        #expect(try PresetLocator(searchDirectories: []).resolve(directory, sampleRate: nil)
            == PresetChoice(path: directory + "/speech-48k.json", skipped: choice.skipped))
    }

    /// A broken file's rate is guessed from `"sampleRate": N` in its text and from its name's suffix;
    /// with no guess it may be at any rate. It stops the choice at 48 kHz only when it may be at 48 kHz
    /// and comes first in the choosing order (`speech-…` first, then by name) among the candidates.
    @Test(arguments: [
        // (broken file, its text, the valid preset beside it, expected: fatal?, guessed rates)
        ("broadband", "{\"stft\": ", "lowlatency-48k", true, [Int]()),              // unknown rate, first by name
        ("studio", "{\"stft\": ", "lowlatency-48k", false, []),                     // unknown rate, after lowlatency
        ("studio", "{\"stft\": ", "speech-48k", false, []),                         // speech-… comes first
        ("broadband", "{\"sampleRate\" : 16000, \"stft\": ", "lowlatency-48k", false, [16_000]),  // by its text
        ("broadband-16k", "{\"stft\": ", "lowlatency-48k", false, [16_000]),        // by its name
        ("broadband-16k", "{\"sampleRate\": 48000, ", "lowlatency-48k", true, [16_000, 48_000]),  // either may be right
        ("speech-44k1", "not json", "speech-48k", false, [44_100]),
        ("lowlatency-48k", "{\"sampleRate\": \"48000\"}", "speech-48k", false, [48_000]),  // same rate, not first
        ("speech-48k", "{\"sampleRate\": \"48000\"}", "lowlatency-48k", true, [48_000]),
    ])
    func whetherABrokenFileMayBeTheChoice(name: String, text: String, valid: String, fatal: Bool,
                                           rates: [Int]) throws {
        let root = try TemporaryDirectory(); defer { root.remove() }
        let directory = try folder(in: root, broken: [name: text], valid: [valid: 48_000])
        let broken = directory + "/" + name + ".json"
        let result = Result<PresetChoice, any Error> {
            try PresetLocator(searchDirectories: []).resolve(directory, sampleRate: 48_000)
        }
        if fatal {
            guard case let .unloadableChoice(path, sampleRate, cause)? = result.presetError else {
                Issue.record("expected \(name) to stop the choice, got \(result)"); return
            }
            #expect(path == broken && sampleRate == 48_000 && cause.description.hasPrefix(broken + ": "))
        } else {
            let choice = try result.get()
            #expect(choice.path == directory + "/" + valid + ".json")
            #expect(choice.skipped.map(\.path) == [broken] && choice.skipped.map(\.sampleRates) == [rates])
        }
    }

    @Test func aFileWhoseRateReadsIsChosenAndLoadingSaysWhatIsWrong() throws {
        let root = try TemporaryDirectory(); defer { root.remove() }
        let directory = try folder(in: root, broken: [:], valid: ["speech-48k": 48_000, "lowlatency-48k": 48_000])
        let chosen = directory + "/speech-48k.json"
        try Patch.metadata(chosen) { $0.mask.floorDecibels = 5 }
        let choice = try PresetLocator(searchDirectories: []).resolve(directory, sampleRate: 48_000)
        #expect(choice == PresetChoice(path: chosen, skipped: []))
        let error = presetError { try Preset.load(path: choice.path) }
        guard case let .invalidSetting(path, .engine(.floorDecibels), _, _)? = error else {
            Issue.record("expected mask.floorDecibels out of range, got \(String(describing: error))"); return
        }
        #expect(path == chosen)
    }

    @Test func aPresetNamedExplicitlyThatFailsIsAnErrorWithTheCause() throws {
        let root = try TemporaryDirectory(); defer { root.remove() }
        let directory = try folder(in: root, broken: ["speech-48k": Self.truncated48k], valid: ["speech-16k": 16_000])
        let broken = directory + "/speech-48k.json"
        for (locator, argument) in [(PresetLocator(searchDirectories: []), broken),
                                    (PresetLocator(searchDirectories: [directory]), "speech-48k")] {
            let choice = try locator.resolve(argument, sampleRate: 48_000)
            #expect(choice == PresetChoice(path: broken, skipped: []))
            #expect(presetError { try Preset.load(path: choice.path) }
                == .invalidJSON(path: broken, detail: Self.truncatedDetail))
        }
    }

    @Test func listingShowsUnloadableFiles() throws {
        let root = try TemporaryDirectory(); defer { root.remove() }
        let directory = try folder(in: root, broken: ["speech-16k": Self.strayComma16k], valid: ["speech-48k": 48_000])
        let listed = PresetLocator(searchDirectories: [directory]).list()
        #expect(listed.presets.map(\.path) == [directory + "/speech-48k.json"])
        #expect(listed.unloadable == [SkippedPreset(path: directory + "/speech-16k.json",
                                                    error: .invalidJSON(path: directory + "/speech-16k.json",
                                                                        detail: Self.strayCommaDetail),
                                                    sampleRates: [16_000])])
    }

    @Test func learningCurvesAreNotPresets() throws {
        let root = try TemporaryDirectory(); defer { root.remove() }
        let directory = try folder(in: root, broken: ["speech-48k.loss": "{\"curves\": []}"], valid: ["speech-48k": 48_000])
        #expect(try PresetLocator(searchDirectories: []).resolve(directory, sampleRate: 48_000)
            == PresetChoice(path: directory + "/speech-48k.json", skipped: []))
    }

    /// The shipped folder: every rate gives its `speech-…` preset and nothing is passed over.
    @Test(arguments: [16_000, 44_100, 48_000])
    func theShippedPresetsLoadCleanly(sampleRate: Int) throws {
        let presets = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("presets").path
        let choice = try PresetLocator(searchDirectories: []).resolve(presets, sampleRate: sampleRate)
        #expect(choice.path.hasSuffix("/speech-\(sampleRate == 44_100 ? "44k1" : "\(sampleRate / 1000)k").json"))
        #expect(choice.skipped.isEmpty && PresetLocator(searchDirectories: [presets]).list().unloadable.isEmpty)
    }

    @Test(arguments: [("speech-16k", 16_000), ("speech-44k1", 44_100), ("x-22k05", 22_050), ("a-b-8k", 8_000),
                      ("speech", nil), ("speech-k", nil), ("speech-16", nil), ("speech-16k-v2", nil),
                      ("x-+16k", nil), ("x-16k1234", nil), ("x-0k", nil)] as [(String, Int?)])
    func rateFromANameSuffix(name: String, rate: Int?) {
        #expect(PresetLocator.rate(suffixOf: name) == rate)
    }

    @Test func ratesWrittenInBrokenText() {
        func rates(_ text: String) -> [Int] { PresetMetadata.writtenSampleRates(in: Array(text.utf8)) }
        #expect(rates("{\"sampleRate\" :\n 16000,, \"x\": {\"sampleRate\":48000") == [16_000, 48_000])
        #expect(rates("{\"sampleRate\": \"48000\", \"sampleRate\"") == [])
        #expect(rates("") == [] && rates("\"sampleRate\": 0") == [])
    }

    // MARK: - Line and column of JSON errors

    @Test(arguments: [
        (truncated48k, truncatedDetail),
        (strayComma16k, strayCommaDetail),
        // Columns count characters: "–" is 3 bytes and "é" 2, yet the stray comma is the 38th character.
        ("{\n  \"description\" : \"Sordino – réduit\",,\n}", "line 2, column 38: Invalid value"),
        ("{\"sampleRate\": 16000 \"x\": 1}", "line 1, column 22: Invalid value"),      // a missing comma
        ("", "line 1, column 1: Unexpected end of file during JSON parse"),
    ])
    func invalidJSONGivesLineAndColumn(text: String, detail: String) throws {
        let root = try TemporaryDirectory(); defer { root.remove() }
        let path = root.file("speech.json")
        try Patch.store(Array(text.utf8), path)
        #expect(presetError { try Preset.load(path: path) } == .invalidJSON(path: path, detail: detail))
    }

    @Test func aTruncatedPresetGivesTheLineAndColumnWhereItEnds() throws {
        let root = try TemporaryDirectory(); defer { root.remove() }
        let path = try Fixture.write(to: root.path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        try Patch.store(Array((lines[..<9].joined(separator: "\n") + "\n" + lines[9].prefix(7)).utf8), path)
        #expect(presetError { try Preset.load(path: path) }
            == .invalidJSON(path: path, detail: "line 10, column 8: Unexpected end of file during JSON parse"))
    }

    /// A preset whose files are symbolic links (a user's folder pointing at the installed presets)
    /// loads as the files themselves; a link to a folder is still not a preset file.
    @Test func symbolicLinksToPresetFilesAreFollowed() throws {
        let root = try TemporaryDirectory(); defer { root.remove() }
        let real = try root.subdirectory("installed"), linked = try root.subdirectory("user")
        let original = try Fixture.write(to: real, name: "speech")
        for suffix in [".json", ".basis"] {
            try FileManager.default.createSymbolicLink(atPath: linked + "/speech" + suffix,
                                                       withDestinationPath: real + "/speech" + suffix)
        }
        let viaLinks = try Preset.load(path: linked + "/speech.json")
        #expect(viaLinks.basis == (try Preset.load(path: original)).basis)
        try FileManager.default.createSymbolicLink(atPath: linked + "/folder.json", withDestinationPath: real)
        let folder = linked + "/folder.json"
        #expect(presetError { try Preset.load(path: folder) } == .notFound(argument: folder, searched: [folder]))
    }
}
