// SPDX-License-Identifier: GPL-3.0-or-later
// The binary NAME.basis file: a fixed little-endian header, then W as Float32 bin-major, then optional atom penalties.

import CZlib
import SordinoDSP

/// Reads and writes `NAME.basis`. All integers and floats are little-endian and are converted
/// byte by byte, so the file is the same on any host.
///
/// | offset | size | field |
/// |---:|---:|---|
/// | 0 | 8 | magic `"SRDNBAS\0"` |
/// | 8 | 4 | format version, UInt32 (= 1) |
/// | 12 | 4 | binCount, UInt32 |
/// | 16 | 4 | speechRank, UInt32 |
/// | 20 | 4 | noiseRank, UInt32 |
/// | 24 | 4 | flags, UInt32; bit 0: per-atom penalties present; other bits 0 |
/// | 28 | 8 | seed, UInt64 |
/// | 36 | 8 | payload byte count, UInt64 |
/// | 44 | 4 | CRC-32 (zlib) of the payload, UInt32 |
/// | 48 | 4 | reserved, zero |
/// | 52 | 4·binCount·rank | `Basis.values`, Float32, `values[f * rank + k]` |
/// | … | 4·rank | atom penalties, Float32 (only with flag bit 0) |
public enum BasisFile {
    public static let magic: [UInt8] = Array("SRDNBAS".utf8) + [0]
    /// The format version this build writes and reads.
    public static let formatVersion: UInt32 = 1
    /// Bytes before the payload.
    public static let headerByteCount = 52
    /// Flag bit: `rank` Float32 penalties follow the values.
    public static let penaltiesFlag: UInt32 = 1

    /// The decoded fixed header.
    public struct Header: Sendable, Equatable {
        public var formatVersion: UInt32
        public var binCount: Int
        public var speechRank: Int
        public var noiseRank: Int
        public var flags: UInt32
        public var seed: UInt64
        /// Bytes after the header: 4 × (binCount × rank + rank if penalties are present).
        public var payloadByteCount: Int
        /// CRC-32 of the payload.
        public var checksum: UInt32
    }

    // MARK: - Writing

    /// The payload bytes of `basis`: its values, then its penalties if it has any.
    public static func payload(of basis: Basis) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4 * (basis.values.count + (basis.atomPenalties?.count ?? 0)))
        for value in basis.values { append(value.bitPattern, to: &bytes) }
        for value in basis.atomPenalties ?? [] { append(value.bitPattern, to: &bytes) }
        return bytes
    }

    /// The whole file for `basis`, with `seed` recorded in the header.
    public static func encode(_ basis: Basis, seed: UInt64) -> [UInt8] {
        let body = payload(of: basis)
        var bytes = magic
        bytes.reserveCapacity(headerByteCount + body.count)
        append(formatVersion, to: &bytes)
        // Basis shapes are positive Ints far below 2³²: a basis of 2³² floats would be 16 GiB.
        append(UInt32(truncatingIfNeeded: basis.binCount), to: &bytes)
        append(UInt32(truncatingIfNeeded: basis.speechRank), to: &bytes)
        append(UInt32(truncatingIfNeeded: basis.noiseRank), to: &bytes)
        append(basis.atomPenalties == nil ? 0 : penaltiesFlag, to: &bytes)
        append(seed, to: &bytes)
        append(UInt64(body.count), to: &bytes)
        append(crc32(body), to: &bytes)
        append(UInt32(0), to: &bytes)
        bytes += body
        return bytes
    }

    /// CRC-32 as computed by zlib's `crc32` (the polynomial of gzip and PNG).
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            var crc = CZlib.crc32(0, nil, 0)
            var offset = 0
            while offset < buffer.count, let base = buffer.baseAddress {
                // zlib takes a 32-bit length: feed at most 1 GiB per call.
                let length = min(buffer.count - offset, 1 << 30)
                crc = CZlib.crc32(crc, base + offset, uInt(length))
                offset += length
            }
            return UInt32(truncatingIfNeeded: crc)
        }
    }

    /// `crc` as the 8 lowercase hexadecimal digits stored in the JSON.
    public static func checksumString(_ crc: UInt32) -> String {
        let digits = String(crc, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// Parses the JSON form: exactly 8 hexadecimal digits, either case.
    public static func parseChecksum(_ text: String) -> UInt32? {
        guard text.utf8.count == 8, text.allSatisfy(\.isHexDigit) else { return nil }
        return UInt32(text, radix: 16)
    }

    // MARK: - Reading

    /// Decodes and checks a whole file: magic, version, flags, reserved bytes, sizes, checksum and
    /// values (finite, ≥ 0). `path` only labels errors. Never traps, whatever the bytes.
    public static func decode(_ bytes: [UInt8], path: String) throws(PresetError) -> (header: Header, basis: Basis) {
        let header = try decodeHeader(bytes, path: path)
        let total = headerByteCount + header.payloadByteCount
        guard bytes.count >= total else {
            throw .truncatedBasis(path: path, expectedBytes: total, actualBytes: bytes.count)
        }
        guard bytes.count == total else {
            throw .trailingBytes(path: path, expectedBytes: total, actualBytes: bytes.count)
        }
        let computed = crc32(Array(bytes[headerByteCount...]))
        guard computed == header.checksum else {
            throw .checksumMismatch(path: path, stored: checksumString(header.checksum),
                                    computed: checksumString(computed))
        }
        let rank = header.speechRank + header.noiseRank
        let valueCount = header.binCount * rank
        var values = [Float](repeating: 0, count: valueCount)
        for i in 0..<valueCount {
            let value = Float(bitPattern: read(UInt32.self, bytes, at: headerByteCount + 4 * i))
            guard value.isFinite, value >= 0 else {
                throw .invalidBasisValue(path: path, location: "value at bin \(i / rank), atom \(i % rank)",
                                         value: "\(value)")
            }
            values[i] = value
        }
        var penalties: [Float]? = nil
        if header.flags & penaltiesFlag != 0 {
            var list = [Float](repeating: 0, count: rank)
            for k in 0..<rank {
                let value = Float(bitPattern: read(UInt32.self, bytes, at: headerByteCount + 4 * (valueCount + k)))
                guard value.isFinite, value >= 0 else {
                    throw .invalidBasisValue(path: path, location: "penalty of atom \(k)", value: "\(value)")
                }
                list[k] = value
            }
            penalties = list
        }
        do {
            let basis = try Basis(binCount: header.binCount, speechRank: header.speechRank,
                                  noiseRank: header.noiseRank, values: values, atomPenalties: penalties)
            return (header, basis)
        } catch {
            throw PresetValidation.map(error, path: path)
        }
    }

    /// Decodes the fixed header and checks it on its own (not against the file's length).
    public static func decodeHeader(_ bytes: [UInt8], path: String) throws(PresetError) -> Header {
        guard bytes.prefix(magic.count).elementsEqual(magic.prefix(bytes.count)) else { throw .badMagic(path: path) }
        guard bytes.count >= headerByteCount else {
            throw .truncatedBasis(path: path, expectedBytes: headerByteCount, actualBytes: bytes.count)
        }
        let version = read(UInt32.self, bytes, at: 8)
        guard version == formatVersion else {
            throw .unsupportedFormatVersion(path: path, found: version, supported: formatVersion)
        }
        let binCount = read(UInt32.self, bytes, at: 12)
        let speechRank = read(UInt32.self, bytes, at: 16)
        let noiseRank = read(UInt32.self, bytes, at: 20)
        let flags = read(UInt32.self, bytes, at: 24)
        let seed = read(UInt64.self, bytes, at: 28)
        let payloadByteCount = read(UInt64.self, bytes, at: 36)
        let checksum = read(UInt32.self, bytes, at: 44)
        let reserved = read(UInt32.self, bytes, at: 48)
        func malformed(_ field: String, _ detail: String) -> PresetError {
            .malformedBasisHeader(path: path, field: field, detail: detail)
        }
        guard flags & ~penaltiesFlag == 0 else {
            throw malformed("flags", "unknown bits 0x\(String(flags & ~penaltiesFlag, radix: 16)) are set")
        }
        guard reserved == 0 else { throw malformed("reserved", "0x\(String(reserved, radix: 16)) instead of 0") }
        guard binCount > 0 else { throw malformed("binCount", "0") }
        guard speechRank > 0 else { throw malformed("speechRank", "0; a basis needs speech atoms") }
        guard noiseRank > 0 else { throw malformed("noiseRank", "0; a basis needs noise atoms") }
        // Header fields are untrusted: every step of the size arithmetic is checked for overflow.
        let rank = UInt64(speechRank) + UInt64(noiseRank)   // < 2³³, cannot overflow
        let penaltyCount = flags & penaltiesFlag != 0 ? rank : 0
        let values = UInt64(binCount).multipliedReportingOverflow(by: rank)
        let floats = values.partialValue.addingReportingOverflow(penaltyCount)
        let bytes = floats.partialValue.multipliedReportingOverflow(by: 4)
        let overflow = values.overflow || floats.overflow || bytes.overflow
        guard !overflow, bytes.partialValue == payloadByteCount,
              bytes.partialValue <= UInt64(Int.max - headerByteCount) else {
            throw malformed("payloadByteCount", "\(payloadByteCount), but the shape \(binCount) × \(rank)"
                            + (penaltyCount > 0 ? " plus \(rank) penalties" : "")
                            + " needs \(overflow ? "more than 2⁶⁴" : "\(bytes.partialValue)") bytes")
        }
        return Header(formatVersion: version, binCount: Int(binCount), speechRank: Int(speechRank),
                      noiseRank: Int(noiseRank), flags: flags, seed: seed,
                      payloadByteCount: Int(payloadByteCount), checksum: checksum)
    }

    // MARK: - Little-endian primitives

    private static func append<T: FixedWidthInteger & UnsignedInteger>(_ value: T, to bytes: inout [UInt8]) {
        for i in 0..<MemoryLayout<T>.size { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * i))) }
    }

    /// Reads a little-endian integer at `offset`; the caller has checked `offset + size ≤ count`.
    static func read<T: FixedWidthInteger & UnsignedInteger>(_: T.Type, _ bytes: [UInt8], at offset: Int) -> T {
        precondition(offset >= 0 && offset + MemoryLayout<T>.size <= bytes.count, "read past the checked length")
        return T(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) })
    }
}
