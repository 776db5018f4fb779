// SPDX-License-Identifier: GPL-3.0-or-later
// Presets with a learned gain: the .gain file round trip, its checksum and sizes checked on load, old presets unchanged.

import Foundation
import SordinoDSP
import Testing
@testable import SordinoPresets

@Suite struct GainPresetTests {
    /// A model of the 16 kHz, 512-point sizes (22 bands, 135 features), small hidden layers, seeded weights.
    static func model() throws -> GainModel {
        let bands = GainBands(sampleRate: 16_000, fftLength: 512).bandCount
        let f = GainRefinement.featureCount(bandCount: bands)
        var generator = SplitMix64(seed: 3)
        let count = GainModel.parameterCount(featureCount: f, inputUnits: 4, hiddenUnits: 3, bandCount: bands)
        return try GainModel(featureCount: f, inputUnits: 4, hiddenUnits: 3, bandCount: bands,
                             values: (0..<count).map { _ in generator.nextUnitFloat() - 0.5 })
    }

    static func preset() throws -> Preset {
        var preset = try Fixture.preset()
        let model = try model()
        preset.metadata.gain = .init(file: "", mode: .lift, model: model, checksum: "", command: "train_gain.py")
        preset.gainModel = model
        return preset
    }

    @Test func writeThenLoadKeepsTheModelBitForBit() throws {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let path = try Self.preset().write(directory: directory.path, name: "g")
        let loaded = try Preset.load(path: path)
        #expect(loaded.metadata.gain?.file == "g.gain")
        #expect(loaded.metadata.gain?.mode == .lift)
        #expect(loaded.gainModel?.values.map(\.bitPattern) == (try Self.model()).values.map(\.bitPattern))
        #expect(loaded.engineConfiguration.gainRefinement == .lift)
        let size = try FileManager.default.attributesOfItem(atPath: directory.file("g.gain"))[.size] as? Int
        #expect(size == GainFile.headerByteCount + 4 * (try Self.model()).values.count)
    }

    @Test func aDamagedGainFileIsRejectedWithItsFix() throws {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let path = try Self.preset().write(directory: directory.path, name: "g")
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory.file("g.gain"))))
        bytes[GainFile.headerByteCount + 17] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: directory.file("g.gain")))
        do {
            _ = try Preset.load(path: path)
            Issue.record("a damaged gain file loaded")
        } catch {
            guard case let .invalidGainFile(_, detail) = error else { Issue.record("wrong error \(error)"); return }
            #expect(detail.contains("checksum"))
            #expect(error.description.contains("sordino gain-attach"))
        }
    }

    @Test func sizesThatDoNotFitTheRateAreRejected() throws {
        var preset = try Self.preset()
        preset.metadata.gain?.bandCount = 21
        #expect(throws: PresetError.self) { try preset.metadata.validate() }
        preset = try Self.preset()
        preset.metadata.gain?.mode = .observe
        #expect(throws: PresetError.self) { try preset.metadata.validate() }
    }

    @Test func gainReleaseRoundTripsAndIsAbsentUnlessSet() throws {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let plain = try Self.preset().write(directory: directory.path, name: "plain")
        let tree = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: plain))) as? [String: Any]
        let gain = try #require(tree?["gain"] as? [String: Any])
        #expect(gain["releaseMilliseconds"] == nil, "a preset with the default hold writes no field: older files unchanged")
        let held = try Preset.load(path: plain)
        #expect(held.metadata.gain?.releaseMilliseconds == nil)
        #expect(held.engineConfiguration.gainReleaseMilliseconds == 10)
        var preset = try Self.preset()
        preset.metadata.gain?.releaseMilliseconds = 0
        let loaded = try Preset.load(path: try preset.write(directory: directory.path, name: "free"))
        #expect(loaded.metadata.gain?.releaseMilliseconds == 0)
        #expect(loaded.engineConfiguration.gainReleaseMilliseconds == 0)
    }

    /// Found by hand: `"sampleRate": 1` in a preset with a gain was reported as a wrong
    /// `gain.bandCount` (the bands are derived from the rate); the rate is checked first.
    @Test(arguments: [1, 7999, 384_001])
    func sampleRateOutOfRangeIsNamedBeforeTheGainBands(_ rate: Int) throws {
        var preset = try Self.preset()
        preset.metadata.gain?.file = "g.gain"
        preset.metadata.sampleRate = rate
        do {
            try preset.metadata.validate()
            Issue.record("\(rate) Hz accepted")
        } catch {
            #expect(error.field == "sampleRate" && error.description.contains("8000…384000 Hz"), "\(error)")
        }
    }

    @Test(arguments: [Float(-1), 1500, .nan])
    func gainReleaseOutOfRangeNamesItsField(_ value: Float) throws {
        var preset = try Self.preset()
        preset.metadata.gain?.file = "g.gain"
        preset.metadata.gain?.releaseMilliseconds = value
        do {
            try preset.metadata.validate()
            Issue.record("\(value) ms accepted")
        } catch {
            #expect(error.field == "gain.releaseMilliseconds", "\(error)")
            #expect(error.description.contains("0…1000 ms"), "\(error)")
        }
    }

    @Test func aPresetWithoutGainHasNoStage() throws {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let path = try Fixture.preset().write(directory: directory.path, name: "plain")
        let json = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!json.contains("\"gain\""))
        let loaded = try Preset.load(path: path)
        #expect(loaded.gainModel == nil && loaded.engineConfiguration.gainRefinement == nil)
    }
}
