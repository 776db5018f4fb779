// SPDX-License-Identifier: GPL-3.0-or-later
// The binary NAME.gain file: the learned gain network's sizes, then its weights as Float32, checksummed.

import SordinoDSP

/// Reads and writes `NAME.gain`, the weights of a preset's gain refinement (`GainModel`).
/// Little-endian throughout, converted byte by byte.
///
/// | offset | size | field |
/// |---:|---:|---|
/// | 0 | 8 | magic `"SRDNGAN\0"` |
/// | 8 | 4 | format version, UInt32 (= 1) |
/// | 12 | 4 × 4 | featureCount, inputUnits, hiddenUnits, bandCount, UInt32 |
/// | 28 | 4 | CRC-32 (zlib) of the payload, UInt32 |
/// | 32 | 4 · parameterCount | `GainModel.values`, Float32 |
public enum GainFile {
    public static let magic: [UInt8] = Array("SRDNGAN".utf8) + [0]
    public static let formatVersion: UInt32 = 1
    public static let headerByteCount = 32

    /// The weights as bytes (the checksummed payload).
    public static func payload(of model: GainModel) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4 * model.values.count)
        for value in model.values { append(value.bitPattern, to: &bytes) }
        return bytes
    }

    /// The whole file.
    public static func encode(_ model: GainModel) -> [UInt8] {
        let body = payload(of: model)
        var bytes = magic
        append(formatVersion, to: &bytes)
        for n in [model.featureCount, model.inputUnits, model.hiddenUnits, model.bandCount] {
            append(UInt32(truncatingIfNeeded: n), to: &bytes)   // each ≤ 4096 (GainModel checks)
        }
        append(BasisFile.crc32(body), to: &bytes)
        return bytes + body
    }

    /// Decodes and checks a file: magic, version, sizes, checksum, finite weights. Never traps.
    public static func decode(_ bytes: [UInt8], path: String) throws(PresetError) -> (model: GainModel, checksum: UInt32) {
        func bad(_ detail: String) -> PresetError { .invalidGainFile(path: path, detail: detail) }
        guard bytes.count >= headerByteCount, bytes.prefix(magic.count).elementsEqual(magic) else {
            throw bad("it does not start with a gain-model header (\"SRDNGAN\")")
        }
        let version = read(bytes, at: 8)
        guard version == formatVersion else { throw bad("format version \(version); this build reads \(formatVersion)") }
        let sizes = (0..<4).map { Int(read(bytes, at: 12 + 4 * $0)) }
        guard sizes.allSatisfy({ (1...4096).contains($0) }) else { throw bad("sizes \(sizes) outside 1…4096") }
        let count = GainModel.parameterCount(featureCount: sizes[0], inputUnits: sizes[1], hiddenUnits: sizes[2],
                                             bandCount: sizes[3])
        guard bytes.count == headerByteCount + 4 * count else {
            throw bad("\(bytes.count) bytes; sizes \(sizes) need \(headerByteCount + 4 * count)")
        }
        let stored = read(bytes, at: 28), computed = BasisFile.crc32(Array(bytes[headerByteCount...]))
        guard stored == computed else {
            throw bad("checksum \(BasisFile.checksumString(computed)) of the weights differs from the stored "
                      + BasisFile.checksumString(stored) + ": the file is damaged or edited")
        }
        let values = (0..<count).map { Float(bitPattern: read(bytes, at: headerByteCount + 4 * $0)) }
        do {
            let model = try GainModel(featureCount: sizes[0], inputUnits: sizes[1], hiddenUnits: sizes[2],
                                      bandCount: sizes[3], values: values)
            return (model, computed)
        } catch {
            throw bad(error.description)
        }
    }

    private static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    private static func read(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        BasisFile.read(UInt32.self, bytes, at: offset)
    }
}
