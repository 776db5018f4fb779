// SPDX-License-Identifier: GPL-3.0-or-later
// Replays the committed fuzz corpora (seeds and every crash the fuzzer found) through their parsers.

import Foundation
import FuzzTargets
import Testing

struct FuzzReplayTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    /// Every file under Tests/Fuzz/TARGET runs through TARGET's parser without crashing (a crash
    /// ends the test process, so the count is asserted afterwards), and each target has seeds.
    @Test(arguments: FuzzTarget.allCases)
    func committedInputsDoNotCrash(target: FuzzTarget) throws {
        let folder = Self.root.appendingPathComponent(target.rawValue)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        var replayed = 0
        for name in names {
            let data = try Data(contentsOf: folder.appendingPathComponent(name))
            target.run([UInt8](data))
            replayed += 1
        }
        #expect(replayed >= 3, "\(target): only \(replayed) inputs under \(folder.path)")
    }

    /// The preset seeds reach the engine: a valid small preset decodes and validates (if this ever
    /// fails, the fuzzer's seeds no longer get past the parser and it fuzzes only the refusals).
    @Test func theSmallPresetSeedIsValid() throws {
        let data = try Data(contentsOf: Self.root.appendingPathComponent("preset/small.json"))
        #expect(FuzzTarget.preset.reachesEngine([UInt8](data)))
    }

    /// The configuration seeds reach the option list (a fuzzer that only meets refusals fuzzes little),
    /// and the broken ones are refused.
    @Test func theConfigurationSeedsParse() throws {
        for (name, accepted) in [("full.toml", true), ("numbers.toml", true), ("strings.toml", true),
                                 ("broken.toml", false), ("table.toml", false)] {
            let data = try Data(contentsOf: Self.root.appendingPathComponent("config/\(name)"))
            #expect(FuzzTarget.config.reachesEngine([UInt8](data)) == accepted, "\(name)")
        }
    }
}
