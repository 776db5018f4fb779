// SPDX-License-Identifier: GPL-3.0-or-later
// The preset's band limit: optional, recorded by the 48 kHz presets, round-tripped, absent from presets without one.

import Foundation
import SordinoDSP
import Testing
@testable import SordinoPresets

@Suite struct BandLimitTests {
    static let presets = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("presets").path

    @Test(arguments: [("speech-48k", Float(7800), 250, 769), ("lowlatency-48k", 7800, 84, 257),
                      ("speech-44k1", 7800, 250, 705), ("speech-96k", 7800, 250, 1537), ("speech-192k", 7800, 250, 3073),
                      ("speech-16k", nil, 257, 257)] as [(String, Float?, Int, Int)])
    func theShippedPresetsRecordTheLimitTheyWereTrainedWith(name: String, limit: Float?, solved: Int, bins: Int) throws {
        let preset = try Preset.load(path: Self.presets + "/" + name)
        #expect(preset.metadata.solver.bandLimitHertz == limit)
        #expect(preset.engineConfiguration.solvedBinCount == solved && preset.basis.binCount == bins)
        #expect(preset.summary().contains(limit == nil ? "every bin solved" : "solved below 7800 Hz (\(solved) of \(bins) bins)"))
    }

    @Test func aPresetWithoutALimitIsWrittenWithoutTheField() throws {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let path = try Fixture.write(to: directory.path)
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
        #expect(!text.contains("bandLimitHertz"))
        #expect(try Preset.load(path: path).metadata.solver.bandLimitHertz == nil)
    }

    /// A basis cut at bin 100 of 257 (3125 Hz at 16 kHz) with a flat atom above: the limit round-trips.
    @Test func aBandLimitedPresetRoundTrips() throws {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let random = try Fixture.basis()
        let rank = random.rank + 1
        var values = [Float](repeating: 0, count: 257 * rank)
        for f in 0..<257 {
            for k in 0..<random.rank where f < 100 { values[f * rank + k] = random[bin: f, atom: k] }
            if f >= 100 { values[f * rank + rank - 1] = 1 }
        }
        var config = Fixture.configuration()
        config.bandLimitHertz = 3100
        #expect(config.solvedBinCount == 100)
        let basis = try Basis(binCount: 257, speechRank: 4, noiseRank: 5, values: values)
        let preset = Preset(name: "banded-16k", description: "band-limited fixture", configuration: config, basis: basis,
                            provenance: Fixture.provenance())
        let path = try preset.write(directory: directory.path, name: "banded-16k")
        let loaded = try Preset.load(path: path)
        #expect(loaded.metadata.solver.bandLimitHertz == 3100)
        #expect(loaded.engineConfiguration == config.withHostDefaults)
        _ = try Engine(configuration: loaded.engineConfiguration, basis: loaded.basis)
    }
}

extension EngineConfiguration {
    /// This configuration with the settings a preset does not store at their defaults.
    var withHostDefaults: EngineConfiguration {
        var c = self
        let fresh = EngineConfiguration()
        c.channelCount = fresh.channelCount; c.maximumBlockLength = fresh.maximumBlockLength
        c.linkChannels = fresh.linkChannels; c.controlSmoothingMilliseconds = fresh.controlSmoothingMilliseconds
        return c
    }
}
