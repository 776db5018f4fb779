// SPDX-License-Identifier: GPL-3.0-or-later
// Test helpers for SordinoIO: seeded noise, scratch directories, hand-built WAV and .npy bytes.

import Foundation
import SordinoDSP

/// `count` samples uniform in [-1, 1], seeded.
func uniformNoise(count: Int, seed: UInt64) -> [Float] {
    var generator = SplitMix64(seed: seed)
    return (0..<count).map { _ in Float.random(in: -1...1, using: &generator) }
}

/// `count` seeded random bytes.
func randomBytes(count: Int, seed: UInt64) -> [UInt8] {
    var generator = SplitMix64(seed: seed)
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}

func sine(frequency: Double, sampleRate: Int, count: Int, amplitude: Double = 0.5) -> [Float] {
    (0..<count).map { Float(amplitude * sin(2 * Double.pi * frequency * Double($0) / Double(sampleRate))) }
}

func maxAbsDifference(_ a: some Collection<Float>, _ b: some Collection<Float>) -> Float {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// Energy of (a − b) relative to the energy of b, in dB.
func errorDecibels(_ a: ArraySlice<Float>, reference b: ArraySlice<Float>) -> Double {
    var error = 0.0, signal = 0.0
    for (x, y) in zip(a, b) {
        error += Double(x - y) * Double(x - y)
        signal += Double(y) * Double(y)
    }
    return 10 * log10(error / signal)
}

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct ScratchDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("sordino-io-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    func write(_ bytes: [UInt8], to name: String) throws -> String {
        let path = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
    func remove() { try? FileManager.default.removeItem(at: url) }
}

func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

/// A canonical 44-byte-header RIFF/WAVE file: `formatTag` 1 is integer PCM, 3 is IEEE float.
/// `dataBytes` is the data chunk's payload.
func wavFile(formatTag: UInt16, bitsPerSample: UInt16, channels: UInt16, sampleRate: UInt32,
             dataBytes: [UInt8]) -> [UInt8] {
    let blockAlign = channels * bitsPerSample / 8
    var bytes = Array("RIFF".utf8) + littleEndian(UInt32(36 + dataBytes.count)) + Array("WAVE".utf8)
    bytes += Array("fmt ".utf8) + littleEndian(UInt32(16)) + littleEndian(formatTag)
    bytes += littleEndian(channels) + littleEndian(sampleRate)
    bytes += littleEndian(sampleRate * UInt32(blockAlign)) + littleEndian(blockAlign)
    bytes += littleEndian(bitsPerSample)
    bytes += Array("data".utf8) + littleEndian(UInt32(dataBytes.count))
    return bytes + dataBytes
}

/// Bytes of a hex string such as "934e55"; whitespace is ignored.
func bytes(hex: String) -> [UInt8] {
    let digits = Array(hex.filter(\.isHexDigit))
    return stride(from: 0, to: digits.count - 1, by: 2).map {
        UInt8(String(digits[$0...$0 + 1]), radix: 16) ?? 0
    }
}

/// A `.npy` file with any version and header dict, padded as NumPy pads (to 64 bytes).
func npyFile(major: UInt8, dict: String, data: [UInt8]) -> [UInt8] {
    let lengthSize = major == 1 ? 2 : 4
    var header = Array(dict.utf8)
    let total = 8 + lengthSize + header.count + 1
    header += [UInt8](repeating: 0x20, count: (64 - total % 64) % 64) + [0x0A]
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [major, 0]
    bytes += lengthSize == 2 ? littleEndian(UInt16(header.count)) : littleEndian(UInt32(header.count))
    return bytes + header + data
}
