// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino gain-attach`: trained weights and the mask's floors and hold written into a preset that loads.

import Foundation
import SordinoDSP
import SordinoIO
import SordinoPresets
import Testing
import TestSupport

@Suite("gain-attach", .enabled(if: CLI.shouldRun, CLI.skipReason))
struct GainAttachCommandTests {
    /// A weights folder as training/train_gain.py writes it, sized for speech-16k (135 features, 22 bands).
    static func weights(in dir: URL) throws -> String {
        let sizes = (features: 135, input: 8, hidden: 8, bands: 22)
        let count = GainModel.parameterCount(featureCount: sizes.features, inputUnits: sizes.input,
                                             hiddenUnits: sizes.hidden, bandCount: sizes.bands)
        let folder = dir.appendingPathComponent("weights")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Npy.write(NpyArray(shape: [count], values: (0..<count).map { Float($0 % 13) / 100 - 0.06 }),
                      to: folder.appendingPathComponent("gain.npy").path)
        let json = """
            {"featureCount": \(sizes.features), "inputUnits": \(sizes.input), "hiddenUnits": \(sizes.hidden), \
            "bandCount": \(sizes.bands), "command": "python training/train_gain.py (test)"}
            """
        try Data(json.utf8).write(to: folder.appendingPathComponent("gain.json"))
        return folder.path
    }

    @Test("--floor-db, --absent-floor-db, --activation-floor, --iterations and --release-ms reach the written preset, which loads; bad values are refused")
    func maskOptions() throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let weights = try Self.weights(in: dir)
        let out = dir.appendingPathComponent("attached").path
        let r = try CLI.run(["gain-attach", "--preset", "speech-16k", "--weights", weights, "--mode", "shape",
                             "--floor-db", "-18", "--absent-floor-db", "-30", "--activation-floor", "0.6",
                             "--iterations", "2", "--release-ms", "0", "-o", out])
        #expect(r.status == 0, "\(r.stderr)")
        let preset = try Preset.load(path: out + ".json")
        #expect(preset.metadata.mask.floorDecibels == -18)
        #expect(preset.metadata.mask.absentFloorDecibels == -30)
        #expect(preset.metadata.solver.activationFloor == 0.6)
        #expect(preset.metadata.solver.iterations == 2)
        #expect(preset.metadata.gain?.releaseMilliseconds == 0)
        #expect(preset.metadata.provenance.command.hasSuffix("--release-ms 0 -o \(out)"))
        // Without --floor-db the preset's own floor stays.
        let kept = try CLI.run(["gain-attach", "--preset", out + ".json", "--weights", weights, "--mode", "shape",
                                "-o", dir.appendingPathComponent("kept").path])
        #expect(kept.status == 0, "\(kept.stderr)")
        let kept2 = try Preset.load(path: dir.appendingPathComponent("kept.json").path).metadata
        #expect(kept2.mask.floorDecibels == -18 && kept2.solver.activationFloor == 0.6 && kept2.solver.iterations == 2)
        for bad in ["5", "-121", "nan"] {
            let refused = try CLI.run(["gain-attach", "--weights", weights, "--floor-db", bad, "-o", out])
            #expect(refused.status == 64 && refused.stderr.contains("--floor-db must be −120…0 dB"), "\(bad): \(refused.stderr)")
        }
        let refused = try CLI.run(["gain-attach", "--weights", weights, "--activation-floor", "1.5", "-o", out])
        #expect(refused.status == 64 && refused.stderr.contains("--activation-floor must be 0…1"), "\(refused.stderr)")
        for bad in ["-1", "65"] {
            let refused = try CLI.run(["gain-attach", "--weights", weights, "--iterations", bad, "-o", out])
            #expect(refused.status == 64 && refused.stderr.contains("--iterations must be 0…64"), "\(bad): \(refused.stderr)")
        }
    }
}
