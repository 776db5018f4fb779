// SPDX-License-Identifier: GPL-3.0-or-later
// Damaged basis files: truncation at every offset, flipped bytes, edited header fields, all reported, none crashing.

import Foundation
import SordinoDSP
import Testing
@testable import SordinoPresets

@Suite struct CorruptionTests {
    @Test(arguments: [false, true])
    func truncationAtEveryOffsetThrows(penalties: Bool) throws {
        let preset = try Fixture.preset(penalties: penalties)
        let bytes = BasisFile.encode(preset.basis, seed: 1)
        #expect(try BasisFile.decode(bytes, path: "x").basis == preset.basis)
        var unexpected: [Int] = []
        for length in 0..<bytes.count {
            switch presetError({ try BasisFile.decode(Array(bytes[..<length]), path: "x") }) {
            case let .truncatedBasis(_, expected, actual)? where actual == length
                && expected == (length < 52 ? 52 : bytes.count):
                break
            default:
                unexpected.append(length)
            }
        }
        #expect(unexpected.isEmpty, "lengths not reported as truncated: \(unexpected.prefix(10))")
    }

    @Test(arguments: [0, 3, 7, 8, 30, 51, 52, 53, 4000, 8275])
    func truncatedFileFailsToLoad(length: Int) throws {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let jsonPath = try Fixture.write(to: directory.path)
        try Patch.basis(jsonPath) { $0 = Array($0[..<length]) }
        let expected = length < 52 ? 52 : 8276
        #expect(throws: PresetError.truncatedBasis(path: Patch.basisPath(jsonPath), expectedBytes: expected,
                                                   actualBytes: length)) { try Preset.load(path: jsonPath) }
    }

    @Test func garbageWithAWrongPrefixIsBadMagic() throws {
        for bytes: [UInt8] in [[0x00], Array("SRDNBAZ".utf8), Array("RIFF....WAVEfmt ".utf8),
                               [UInt8](repeating: 0xFF, count: 100)] {
            #expect(throws: PresetError.badMagic(path: "x")) { try BasisFile.decode(bytes, path: "x") }
        }
    }

    @Test(arguments: [52, 53, 52 + 4 * 1000 + 2, 8275])
    func oneFlippedPayloadByteIsAChecksumError(offset: Int) throws {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let jsonPath = try Fixture.write(to: directory.path)
        try Patch.basis(jsonPath) { $0[offset] ^= 0x01 }
        let error = presetError { try Preset.load(path: jsonPath) }
        guard case let .checksumMismatch(path, stored, computed)? = error else {
            Issue.record("expected a checksum mismatch, got \(String(describing: error))"); return
        }
        #expect(path == Patch.basisPath(jsonPath) && stored != computed)
        #expect(error?.description.contains("is damaged or edited. Restore it, or regenerate it with `sordino train`")
            == true)
    }

    /// Every single-byte change anywhere in the file is caught: the payload by the CRC, each header
    /// byte by a header check or the comparison with the JSON.
    @Test func everyFlippedByteIsDetected() throws {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let jsonPath = try Fixture.write(to: directory.path)
        let original = try Patch.bytes(Patch.basisPath(jsonPath))
        var undetected: [Int] = []
        for offset in Array(0..<52) + Array(stride(from: 52, to: original.count, by: 61)) {
            var bytes = original
            bytes[offset] ^= 0x40
            try Patch.store(bytes, Patch.basisPath(jsonPath))
            if presetError({ try Preset.load(path: jsonPath) }) == nil { undetected.append(offset) }
        }
        #expect(undetected.isEmpty, "changes at these offsets were not detected: \(undetected)")
        // And the CRC alone catches every payload offset.
        var missed = 0
        for offset in 52..<original.count {
            var bytes = original
            bytes[offset] ^= 0x80
            if case .checksumMismatch? = presetError({ try BasisFile.decode(bytes, path: "x") }) {} else { missed += 1 }
        }
        #expect(missed == 0)
    }

    @Test func editedHeaderFieldsGiveTheRightErrors() throws {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let jsonPath = try Fixture.write(to: directory.path)
        let basisPath = Patch.basisPath(jsonPath)
        let original = try Patch.bytes(basisPath)
        func load(_ edit: (inout [UInt8]) -> Void) throws -> PresetError? {
            var bytes = original
            edit(&bytes)
            try Patch.store(bytes, basisPath)
            return presetError { try Preset.load(path: jsonPath) }
        }
        #expect(try load { $0[0] = 0x73 } == .badMagic(path: basisPath))
        #expect(try load { $0[7] = 0x20 } == .badMagic(path: basisPath))
        #expect(try load { Patch.putUInt32(2, at: 8, in: &$0) }
            == .unsupportedFormatVersion(path: basisPath, found: 2, supported: 1))
        #expect(try load { Patch.putUInt32(256, at: 12, in: &$0) }?.field == "payloadByteCount")
        #expect(try load { Patch.putUInt32(0, at: 12, in: &$0) }?.field == "binCount")
        #expect(try load { Patch.putUInt32(0, at: 20, in: &$0) }?.field == "noiseRank")
        // Same total rank, so the payload size still fits: only the JSON comparison can notice.
        #expect(try load { Patch.putUInt32(5, at: 16, in: &$0); Patch.putUInt32(3, at: 20, in: &$0) }
            == .basisMismatch(path: jsonPath, field: "basis.speechRank", json: "4", basis: "5"))
        #expect(try load { Patch.putUInt32(1, at: 24, in: &$0) }?.field == "payloadByteCount")
        #expect(try load { Patch.putUInt32(0x20, at: 24, in: &$0) }?.field == "flags")
        #expect(try load { Patch.putUInt64(42, at: 28, in: &$0) }
            == .basisMismatch(path: jsonPath, field: "provenance.seed", json: "\(Fixture.seed)", basis: "42"))
        #expect(try load { Patch.putUInt64(1 << 62, at: 36, in: &$0) }?.field == "payloadByteCount")
        #expect(try load { $0[44] ^= 0xFF }.map { if case .checksumMismatch = $0 { true } else { false } } == true)
        #expect(try load { $0[50] = 1 }?.field == "reserved")
        #expect(try load { $0.append(0) } == .trailingBytes(path: basisPath, expectedBytes: 8276, actualBytes: 8277))
        // Huge shapes: rejected by arithmetic, never allocated.
        #expect(try load { Patch.putUInt32(.max, at: 12, in: &$0); Patch.putUInt32(.max, at: 16, in: &$0) }?
            .field == "payloadByteCount")
    }

    @Test func aBasisFromAnotherPresetIsAShapeMismatch() throws {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let small = try Fixture.write(to: directory.path, name: "small")
        let large = try Fixture.write(try Fixture.preset(frameLength: 1024), to: directory.path, name: "large")
        try Patch.store(try Patch.bytes(Patch.basisPath(large)), Patch.basisPath(small))
        #expect(presetError { try Preset.load(path: small) }
            == .basisMismatch(path: small, field: "basis.binCount", json: "257", basis: "513"))
    }

    @Test func jsonChecksumMustMatchTheHeader() throws {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let jsonPath = try Fixture.write(to: directory.path)
        try Patch.metadata(jsonPath) { $0.basis.checksum = "12345678" }
        #expect(presetError { try Preset.load(path: jsonPath) }?.field == "basis.checksum")
        try Patch.metadata(jsonPath) { $0.basis.checksum = "not-hex!" }
        guard case .invalidSetting(_, .basisChecksum, _, _)? = presetError({ try Preset.load(path: jsonPath) }) else {
            Issue.record("a malformed checksum must name basis.checksum"); return
        }
    }

    @Test func missingBasisFileIsReported() throws {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let jsonPath = try Fixture.write(to: directory.path)
        try FileManager.default.removeItem(atPath: Patch.basisPath(jsonPath))
        #expect(presetError { try Preset.load(path: jsonPath) }
            == .unreadable(path: Patch.basisPath(jsonPath), reason: "no such file"))
        try Patch.metadata(jsonPath) { $0.basis.file = "../elsewhere.basis" }
        #expect(presetError { try Preset.load(path: jsonPath) }?.field == "basis.file")
    }

    @Test func seededRandomDamageNeverCrashes() throws {
        let preset = try Fixture.preset(penalties: true)
        let original = BasisFile.encode(preset.basis, seed: 3)
        var generator = SplitMix64(seed: 11)
        var wronglyAccepted: [[Int]] = []
        for _ in 0..<2000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            bytes = Array(bytes[..<Int.random(in: bytes.count - 100...bytes.count, using: &generator)])
            guard (try? BasisFile.decode(bytes, path: "x")) != nil else { continue }
            // The file's own checks may pass only if nothing but the seed changed (the seed is
            // checked against the JSON by `Preset.load`).
            let changed = bytes.indices.filter { bytes[$0] != original[$0] }
            if bytes.count != original.count || !changed.allSatisfy((28..<36).contains) {
                wronglyAccepted.append(changed)
            }
        }
        #expect(wronglyAccepted.isEmpty)
    }
}
