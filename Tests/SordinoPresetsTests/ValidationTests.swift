// SPDX-License-Identifier: GPL-3.0-or-later
// Bad JSON and out-of-range settings: each error names the field at fault and how to fix it.

import Foundation
import SordinoDSP
import Testing
@testable import SordinoPresets

@Suite struct ValidationTests {
    /// Writes a valid preset, applies `edit` to its metadata, loads it, returns the error.
    func loadEdited(_ edit: (inout PresetMetadata) -> Void) throws -> PresetError? {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let jsonPath = try Fixture.write(to: directory.path)
        try Patch.metadata(jsonPath, edit)
        return presetError { try Preset.load(path: jsonPath) }
    }

    func loadEditedTree(_ edit: (inout [String: Any]) -> Void) throws -> PresetError? {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let jsonPath = try Fixture.write(to: directory.path)
        try Patch.json(jsonPath, edit)
        return presetError { try Preset.load(path: jsonPath) }
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let field: String
        let edit: @Sendable (inout PresetMetadata) -> Void
        var testDescription: String { field }
    }

    static let outOfRange: [Case] = [
        Case(field: "mask.floorDecibels") { $0.mask.floorDecibels = 3 },
        Case(field: "mask.floorDecibels") { $0.mask.floorDecibels = -200 },
        Case(field: "solver.beta") { $0.solver.beta = 3 },
        Case(field: "stft.hopLength") { $0.stft.hopLength = 384 },    // 512/384: does not overlap-add
        Case(field: "stft.hopLength") { $0.stft.hopLength = 0 },
        Case(field: "stft.hopLength") { $0.stft.window = .hann; $0.stft.hopLength = 256 },   // Hann² needs k ≥ 3
        Case(field: "stft.frameLength") { $0.stft.frameLength = 1 << 40 },   // must not allocate a window
        Case(field: "stft.frameLength") { $0.stft.frameLength = 8 },
        Case(field: "stft.fftLength") { $0.stft.fftLength = 511 },
        Case(field: "mask.wet") { $0.mask.wet = 1.5 },
        Case(field: "mask.exponent") { $0.mask.exponent = 3 },
        Case(field: "mask.smoothingMilliseconds") { $0.mask.smoothingMilliseconds = -1 },
        Case(field: "mask.noiseBoundDecibels") { $0.mask.noiseBoundDecibels = 25 },
        Case(field: "mask.absentFloorDecibels") { $0.mask.absentFloorDecibels = 3 },
        Case(field: "solver.iterations") { $0.solver.iterations = 65 },
        Case(field: "solver.maximumIterations") { $0.solver.maximumIterations = 0 },
        Case(field: "solver.spectrumExponent") { $0.solver.spectrumExponent = 3 },
        Case(field: "solver.sparsity") { $0.solver.sparsity = -0.5 },
        Case(field: "sampleRate") { $0.sampleRate = 1000 },
        Case(field: "solver.bandLimitHertz") { $0.solver.bandLimitHertz = 8000 },   // half the 16 kHz rate
        Case(field: "solver.bandLimitHertz") { $0.solver.bandLimitHertz = -5 },
        Case(field: "solver.bandLimitHertz") { $0.solver.bandLimitHertz = 7000 },   // the basis has weight above it
        Case(field: "basis.speechRank") { $0.basis.speechRank = 0 },
        Case(field: "basis.noiseRank") { $0.basis.noiseRank = 5 },
        Case(field: "basis.binCount") { $0.basis.binCount = 256 },
        Case(field: "basis.binCount") { $0.stft.fftLength = 1024 },
    ]

    @Test(arguments: outOfRange)
    func outOfRangeSettingNamesItsField(_ c: Case) throws {
        let error = try loadEdited(c.edit)
        #expect(error?.field == c.field, "\(String(describing: error))")
        #expect(error?.description.contains("`\(c.field)`") == true)
    }

    @Test func floorAboveZeroSaysTheAllowedRange() throws {
        let error = try loadEdited { $0.mask.floorDecibels = 3 }
        #expect(error?.description.hasSuffix("`mask.floorDecibels` = 3.0 is out of range: allowed −120…0 dB. "
            + "Correct it, or regenerate the preset with `sordino train`.") == true)
        let hop = try loadEdited { $0.stft.hopLength = 384 }
        #expect(hop?.description.contains("e.g. 128") == true)
        let bins = try loadEdited { $0.basis.binCount = 256 }
        guard case .binCountMismatch(_, 256, 512)? = bins else { Issue.record("\(String(describing: bins))"); return }
        #expect(bins?.description.contains("Set `stft.fftLength` to 510") == true)
        // Found by hand: a bin count no FFT gives was answered "Set `stft.fftLength` to 1999999999998".
        let absurd = try loadEdited { $0.basis.binCount = 1_000_000_000_000 }
        #expect(absurd?.description.contains("The basis fits no FFT the engine runs (≤ 65536): regenerate the preset") == true,
                "\(String(describing: absurd))")
    }

    @Test func nonFiniteSettingInMemoryNamesItsField() throws {
        var preset = try Fixture.preset()
        preset.metadata.solver.sparsity = .nan
        #expect(presetError { try preset.validate() }?.field == "solver.sparsity")
        preset.metadata.solver.sparsity = 0
        preset.metadata.mask.floorDecibels = -.infinity
        #expect(presetError { try preset.validate() }?.field == "mask.floorDecibels")
        guard case .invalidSetting(_, .engine(.floorDecibels), _, _)? = presetError({ try preset.validate() }) else {
            Issue.record("the out-of-range floor is not named by its typed field")
            return
        }
    }

    /// Each typed field names one JSON path, and that path names the field back.
    @Test func presetFieldsHaveDistinctJSONPaths() {
        #expect(Set(PresetField.all.map(\.description)).count == PresetField.all.count)
        for field in PresetField.all { #expect(PresetField(jsonPath: field.description) == field) }
        #expect(PresetField(jsonPath: "provenance.seed") == nil)
    }

    @Test(arguments: [Float(-1), -.leastNonzeroMagnitude, .nan, .infinity])
    func invalidBasisValueIsLocated(value: Float) throws {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let jsonPath = try Fixture.write(to: directory.path)
        try Patch.payloadFloat(jsonPath, index: 3 * 8 + 2, to: value)   // bin 3, atom 2
        let error = presetError { try Preset.load(path: jsonPath) }
        guard case let .invalidBasisValue(path, location, _)? = error else {
            Issue.record("expected an invalid basis value, got \(String(describing: error))"); return
        }
        #expect(path == Patch.basisPath(jsonPath) && location == "value at bin 3, atom 2")
    }

    @Test func invalidPenaltyIsLocated() throws {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let jsonPath = try Fixture.write(try Fixture.preset(penalties: true), to: directory.path)
        try Patch.payloadFloat(jsonPath, index: 257 * 8 + 5, to: .nan)
        let error = presetError { try Preset.load(path: jsonPath) }
        guard case .invalidBasisValue(_, "penalty of atom 5", _)? = error else {
            Issue.record("expected an invalid penalty, got \(String(describing: error))"); return
        }
    }

    // MARK: - Schema and JSON syntax

    @Test func newerSchemaVersionIsReportedBeforeAnythingElse() throws {
        let error = try loadEditedTree { tree in
            tree["schemaVersion"] = 2
            tree["stft"] = nil                  // a newer layout may differ: the version is still what is reported
        }
        guard case .unsupportedSchemaVersion(_, 2, 1)? = error else {
            Issue.record("expected an unsupported schema version, got \(String(describing: error))"); return
        }
        #expect(error?.description.contains("was written by a newer Sordino (this one reads 1); upgrade, or re-train "
            + "with this version.") == true)
        let old = try loadEditedTree { $0["schemaVersion"] = 0 }
        guard case .unsupportedSchemaVersion(_, 0, 1)? = old else { Issue.record("schema 0 accepted"); return }
        #expect(try loadEditedTree { $0["schemaVersion"] = nil }?.field == "schemaVersion")
    }

    @Test func syntaxErrorIsInvalidJSON() throws {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let jsonPath = try Fixture.write(to: directory.path)
        let text = try Patch.bytes(jsonPath)
        for broken in [Array(text[..<(text.count / 2)]), [], Array("{\"schemaVersion\": 1".utf8),
                       Array("[1, 2]".utf8), [0xFF, 0xFE, 0x00]] {
            try Patch.store(broken, jsonPath)
            let error = presetError { try Preset.load(path: jsonPath) }
            switch error {
            case .invalidJSON?, .wrongType?: break
            default: Issue.record("\(broken.count) bytes: expected a JSON error, got \(String(describing: error))")
            }
        }
    }

    @Test(arguments: [("stft", "hopLength"), ("provenance", "seed"), ("mask", "wet"), ("basis", "checksum"),
                      ("solver", "beta")])
    func missingFieldIsNamed(object: String, key: String) throws {
        let error = try loadEditedTree { Patch.set(&$0, object, key, nil) }
        guard case let .missingField(_, field)? = error else {
            Issue.record("expected a missing field, got \(String(describing: error))"); return
        }
        #expect(field == "\(object).\(key)")
        #expect(error?.description.contains("required field `\(object).\(key)` is missing") == true)
    }

    @Test func missingTopLevelFieldIsNamed() throws {
        #expect(try loadEditedTree { $0["sampleRate"] = nil }?.field == "sampleRate")
        #expect(try loadEditedTree { $0["provenance"] = nil }?.field == "provenance")
    }

    @Test func wrongTypeIsNamed() throws {
        #expect(try loadEditedTree { $0["sampleRate"] = "16000" }?.field == "sampleRate")
        #expect(try loadEditedTree { Patch.set(&$0, "mask", "floorDecibels", "loud") }?.field == "mask.floorDecibels")
        let fraction = try loadEditedTree { Patch.set(&$0, "stft", "frameLength", 512.5) }
        #expect(fraction?.field == "stft.frameLength", "\(String(describing: fraction))")
        let negative = try loadEditedTree { Patch.set(&$0, "provenance", "seed", -1) }
        #expect(negative?.field == "provenance.seed", "\(String(describing: negative))")
        #expect(try loadEditedTree { Patch.set(&$0, "stft", "hopLength", NSNull()) }?.field == "stft.hopLength")
        #expect(try loadEditedTree { Patch.set(&$0, "provenance", "devScores", ["dPESQ": "high"]) }?.field
            == "provenance.devScores.dPESQ")
        let window = try loadEditedTree { Patch.set(&$0, "stft", "window", "triangle") }
        #expect(window?.field == "stft.window")
        #expect(window?.description.contains("\"sqrt-hann\", \"hann\", \"hamming\"") == true)
    }

    @Test func devScoresAreOptional() throws {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let jsonPath = try Fixture.write(to: directory.path)
        try Patch.json(jsonPath) { Patch.set(&$0, "provenance", "devScores", nil) }
        #expect(try Preset.load(path: jsonPath).metadata.provenance.devScores == nil)
    }

    @Test func notFoundListsWhatWasTried() throws {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let error = presetError { try Preset.load(path: directory.file("absent")) }
        #expect(error == .notFound(argument: directory.file("absent"),
                                   searched: [directory.file("absent"), directory.file("absent.json")]))
        #expect(presetError { try Preset.load(path: directory.path) } != nil)   // a directory is not a preset file
    }
}
