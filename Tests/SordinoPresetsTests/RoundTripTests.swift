// SPDX-License-Identifier: GPL-3.0-or-later
// Writing and loading presets: identical metadata, bit-identical bases, the documented byte layout.

import Foundation
import SordinoDSP
import Testing
@testable import SordinoPresets

@Suite struct RoundTripTests {
    @Test(arguments: [false, true])
    func writeThenLoadGivesTheSamePreset(penalties: Bool) throws {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let preset = try Fixture.preset(penalties: penalties)
        let jsonPath = try preset.write(directory: directory.path, name: "speech-16k")
        #expect(jsonPath == directory.file("speech-16k.json"))

        let loaded = try Preset.load(path: jsonPath)
        #expect(loaded.metadata == preset.stamped(name: "speech-16k").metadata)
        #expect(loaded.metadata.provenance.seed == Fixture.seed)
        #expect(loaded.metadata.basis.file == "speech-16k.basis")
        #expect(loaded.basis.values.map(\.bitPattern) == preset.basis.values.map(\.bitPattern))
        #expect(loaded.basis.atomPenalties?.map(\.bitPattern) == preset.basis.atomPenalties?.map(\.bitPattern))
        #expect(loaded.basis.values[1] == .leastNonzeroMagnitude)   // subnormals survive
        #expect(loaded.engineConfiguration == preset.engineConfiguration)
    }

    @Test func loadAcceptsNameWithoutExtensionAndTheBasisPath() throws {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let jsonPath = try Fixture.write(to: directory.path, name: "speech")
        let byJSON = try Preset.load(path: jsonPath)
        #expect(try Preset.load(path: directory.file("speech")) == byJSON)
        #expect(try Preset.load(path: directory.file("speech.basis")) == byJSON)
    }

    @Test func engineConfigurationMapsEverySetting() throws {
        var c = Fixture.configuration(sampleRate: 48_000, frameLength: 1024)
        c.window = .hann; c.hopLength = 256; c.fftLength = 2048; c.beta = 0; c.spectrumExponent = 2
        c.iterations = 7; c.maximumIterations = 20; c.maskExponent = 1
        let metadata = PresetMetadata(name: "x", description: "", configuration: c, speechRank: 3, noiseRank: 5,
                                      provenance: Fixture.provenance())
        #expect(metadata.basis.binCount == 1025)
        var expected = c
        expected.channelCount = 2; expected.maximumBlockLength = 256; expected.linkChannels = true
        #expect(metadata.engineConfiguration(channelCount: 2, maximumBlockLength: 256, linkChannels: true) == expected)
        #expect(metadata.engineConfiguration() == c)
    }

    @Test func basisFileHasTheDocumentedLittleEndianLayout() throws {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let preset = try Fixture.preset(penalties: true)
        let jsonPath = try Fixture.write(preset, to: directory.path)
        let bytes = try Patch.bytes(Patch.basisPath(jsonPath))
        let rank = 8, payload = 4 * (257 * rank + rank)
        #expect(bytes.count == 52 + payload)
        #expect(Array(bytes[0..<8]) == [0x53, 0x52, 0x44, 0x4E, 0x42, 0x41, 0x53, 0x00])   // "SRDNBAS\0"
        #expect(Array(bytes[8..<28]) == [1, 0, 0, 0, 0x01, 0x01, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0])
        #expect(Array(bytes[28..<36]) == [0x0D, 0xF0, 0xFE, 0xCA, 0xEF, 0xBE, 0xAD, 0xDE])   // seed
        #expect(Patch.uint32(at: 36, in: bytes) == UInt32(payload) && Patch.uint32(at: 40, in: bytes) == 0)
        let crc = Patch.uint32(at: 44, in: bytes)
        #expect(crc == BasisFile.crc32(Array(bytes[52...])))
        #expect(Array(bytes[48..<52]) == [0, 0, 0, 0])
        #expect(Patch.uint32(at: 52 + 4 * 5, in: bytes) == preset.basis.values[5].bitPattern)
        #expect(Patch.uint32(at: 52 + 4 * (257 * rank + 3), in: bytes) == preset.basis.atomPenalties?[3].bitPattern)

        let stamped = try Preset.load(path: jsonPath).metadata.basis
        #expect(stamped.checksum == BasisFile.checksumString(crc) && stamped.checksum.count == 8)
    }

    @Test func crcIsZlibsCRC32() {
        // The standard CRC-32 check value (ISO-HDLC) of the ASCII digits 1…9.
        #expect(BasisFile.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(BasisFile.crc32([]) == 0)
        #expect(BasisFile.checksumString(0x0000_ABCD) == "0000abcd")
        #expect(BasisFile.parseChecksum("CBF43926") == 0xCBF4_3926)
        #expect(BasisFile.parseChecksum("cbf4392") == nil && BasisFile.parseChecksum("xbf43926") == nil)
    }

    @Test func jsonIsPrettyPrintedWithSortedKeys() throws {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let text = try String(contentsOfFile: Fixture.write(to: directory.path), encoding: .utf8)
        let keys = ["\"basis\"", "\"description\"", "\"mask\"", "\"name\"", "\"provenance\"", "\"sampleRate\"",
                    "\"schemaVersion\"", "\"solver\"", "\"stft\""]
        let offsets = keys.compactMap { text.range(of: "\n  \($0)")?.lowerBound }
        #expect(offsets.count == keys.count && offsets == offsets.sorted())
        #expect(text.contains("\"trainingData\" : \"../shared/corpus/train\""))   // slashes not escaped
        #expect(text.contains("\"window\" : \"sqrt-hann\"") && text.hasSuffix("}\n"))
        #expect(text.contains("\"seed\" : \(Fixture.seed)") && Fixture.seed == 16_045_690_984_503_111_693)
    }

    @Test func summaryShowsTimesChecksumAndProvenance() throws {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let loaded = try Preset.load(path: Fixture.write(to: directory.path))
        let text = loaded.summary()
        #expect(text.contains("sample rate  16000 Hz"))
        #expect(text.contains("frame 512 samples (32.00 ms), hop 128 samples (8.00 ms), FFT 512 samples (257 bins)"))
        #expect(text.contains("latency      512 samples (32.00 ms)"))
        #expect(text.contains("β = 1 (Kullback–Leibler)") && text.contains("floor -18.5 dB"))
        #expect(text.contains("257 bins × 8 atoms (4 speech + 4 noise)") && text.contains("8276 bytes"))
        #expect(text.contains("CRC-32 \(loaded.metadata.basis.checksum) OK"))
        #expect(text.contains("command      sordino train --speech"))
        #expect(text.contains("dev scores   SI-SDR 7.250, dPESQ 0.410"))

        var edited = loaded
        edited.metadata.basis.checksum = "00000000"
        #expect(edited.summary().contains("MISMATCH"))
    }

    @Test func writeRejectsBadNamesAndInvalidPresets() throws {
        let directory = try TemporaryDirectory(); defer { directory.remove() }
        let preset = try Fixture.preset()
        for name in ["", ".", "..", "a/b"] {
            #expect(throws: PresetError.invalidName(name)) { try preset.write(directory: directory.path, name: name) }
        }
        var broken = preset
        broken.metadata.mask.wet = .nan
        #expect(presetError { try broken.validate() }?.field == "mask.wet")
        #expect(presetError { try broken.write(directory: directory.path, name: "nan") }?.field == "mask.wet")
        #expect(!FileManager.default.fileExists(atPath: directory.file("nan.basis")))
        // A missing folder is made (train and gain-attach once lost their result to it); a file in
        // the way of the folder is a write failure that names it.
        try preset.write(directory: directory.file("missing/dir"), name: "x")
        #expect(FileManager.default.fileExists(atPath: directory.file("missing/dir/x.json")))
        try Data("not a folder".utf8).write(to: URL(fileURLWithPath: directory.file("blocker")))
        #expect(presetError { try preset.write(directory: directory.file("blocker/dir"), name: "x") }
            .map { if case .writeFailed(let path, _) = $0 { path.hasSuffix("blocker/dir") } else { false } } == true)
    }

    @Test func sampleRateMismatchSaysHowToFixIt() throws {
        let preset = try Fixture.preset()
        #expect(throws: PresetError.sampleRateMismatch(presetHz: 16_000, wantedHz: 48_000)) {
            try preset.requireSampleRate(48_000)
        }
        try preset.requireSampleRate(16_000)
        let text = PresetError.sampleRateMismatch(presetHz: 16_000, wantedHz: 48_000).description
        #expect(text.contains("jackd -r 16000") && text.contains("choose a 48000 Hz preset"))
    }
}
