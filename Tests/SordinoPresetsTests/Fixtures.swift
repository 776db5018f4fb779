// SPDX-License-Identifier: GPL-3.0-or-later
// Test fixtures: seeded bases, small presets, temporary directories and byte/JSON patching.

import Foundation
import SordinoDSP
@testable import SordinoPresets

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("sordino-presets-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }

    func subdirectory(_ name: String) throws -> String {
        let sub = file(name)
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        return sub
    }
}

enum Fixture {
    /// A seed above 2⁵³, so a JSON round trip through Double would change it.
    static let seed: UInt64 = 0xDEAD_BEEF_CAFE_F00D

    /// `binCount × (speechRank + noiseRank)` seeded values in [0, 1), some exactly 0, some subnormal.
    static func basis(binCount: Int = 257, speechRank: Int = 4, noiseRank: Int = 4, seed: UInt64 = 7,
                      penalties: Bool = false) throws -> Basis {
        var generator = SplitMix64(seed: seed)
        let rank = speechRank + noiseRank
        var values = (0..<binCount * rank).map { _ in Float.random(in: 0..<1, using: &generator) }
        values[0] = 0
        values[1] = .leastNonzeroMagnitude
        let atomPenalties = penalties ? (0..<rank).map { _ in Float.random(in: 0..<0.5, using: &generator) } : nil
        return try Basis(binCount: binCount, speechRank: speechRank, noiseRank: noiseRank, values: values,
                         atomPenalties: atomPenalties)
    }

    static func configuration(sampleRate: Int = 16_000, frameLength: Int = 512) -> EngineConfiguration {
        var c = EngineConfiguration()
        c.sampleRate = sampleRate
        c.frameLength = frameLength
        c.hopLength = frameLength / 4
        c.fftLength = frameLength
        c.floorDecibels = -18.5
        c.sparsity = 0.125
        c.maskSmoothingMilliseconds = 12.5
        c.wet = 0.9
        return c
    }

    static func provenance(seed: UInt64 = Fixture.seed) -> PresetMetadata.Provenance {
        .init(trainingData: "../shared/corpus/train",
              command: "sordino train --speech ../shared/corpus/train/speech --noise ../shared/corpus/train/noise "
                  + "--rate 16000 --seed \(seed) --out presets/speech-16k",
              date: "2025-03-01T12:00:00Z", seed: seed, method: "nmf β=1",
              devScores: ["dPESQ": 0.41, "SI-SDR": 7.25])
    }

    static func preset(sampleRate: Int = 16_000, frameLength: Int = 512, penalties: Bool = false) throws -> Preset {
        Preset(name: "speech-\(sampleRate / 1000)k", description: "Speech in office noise, test fixture",
               configuration: configuration(sampleRate: sampleRate, frameLength: frameLength),
               basis: try basis(binCount: frameLength / 2 + 1, penalties: penalties), provenance: provenance())
    }

    /// Writes `preset` (default fixture) as `directory/name.json` + `.basis`; returns the JSON path.
    @discardableResult
    static func write(_ preset: Preset? = nil, to directory: String, name: String = "speech") throws -> String {
        try (preset ?? Fixture.preset()).write(directory: directory, name: name)
    }
}

// MARK: - Patching files

enum Patch {
    static func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    static func store(_ bytes: [UInt8], _ path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

    static func basisPath(_ jsonPath: String) -> String { String(jsonPath.dropLast(".json".count)) + ".basis" }

    /// Applies `edit` to the basis file's bytes.
    static func basis(_ jsonPath: String, _ edit: (inout [UInt8]) -> Void) throws {
        var b = try bytes(basisPath(jsonPath))
        edit(&b)
        try store(b, basisPath(jsonPath))
    }

    static func putUInt32(_ value: UInt32, at offset: Int, in bytes: inout [UInt8]) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }

    static func putUInt64(_ value: UInt64, at offset: Int, in bytes: inout [UInt8]) {
        for i in 0..<8 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }

    static func uint32(at offset: Int, in bytes: [UInt8]) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
    }

    /// Sets payload float `index` to `value`, then makes the header CRC and the JSON checksum agree,
    /// so that only the value check can object.
    static func payloadFloat(_ jsonPath: String, index: Int, to value: Float) throws {
        var crc: UInt32 = 0
        try basis(jsonPath) { b in
            putUInt32(value.bitPattern, at: BasisFile.headerByteCount + 4 * index, in: &b)
            crc = BasisFile.crc32(Array(b[BasisFile.headerByteCount...]))
            putUInt32(crc, at: 44, in: &b)
        }
        try metadata(jsonPath) { $0.basis.checksum = BasisFile.checksumString(crc) }
    }

    /// Decodes the JSON as written, applies `edit`, and writes it back without validation.
    static func metadata(_ jsonPath: String, _ edit: (inout PresetMetadata) -> Void) throws {
        var m = try PresetMetadata.decode(Data(contentsOf: URL(fileURLWithPath: jsonPath)))
        edit(&m)
        try store([UInt8](try m.encodedJSON()), jsonPath)
    }

    /// Edits the JSON as an untyped tree: to remove fields or give them wrong types.
    static func json(_ jsonPath: String, _ edit: (inout [String: Any]) -> Void) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: jsonPath))
        var tree = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        edit(&tree)
        try JSONSerialization.data(withJSONObject: tree).write(to: URL(fileURLWithPath: jsonPath))
    }

    /// Sets `tree[a][b] = value` (nil removes it).
    static func set(_ tree: inout [String: Any], _ a: String, _ b: String, _ value: Any?) {
        var inner = tree[a] as? [String: Any] ?? [:]
        inner[b] = value
        tree[a] = inner
    }
}

extension Result where Failure == any Error {
    /// The `PresetError` thrown, if that is what was thrown.
    var presetError: PresetError? {
        if case let .failure(error) = self { return error as? PresetError }
        return nil
    }
}

/// Runs `body` and returns the `PresetError` it threw (nil when it succeeded or threw something else).
func presetError<T>(_ body: () throws -> T) -> PresetError? {
    Result { try body() }.presetError
}
