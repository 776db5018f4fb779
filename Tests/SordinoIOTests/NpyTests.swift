// SPDX-License-Identifier: GPL-3.0-or-later
// .npy round trips, NumPy-written fixtures and damaged files.

import Foundation
import Testing
@testable import SordinoIO

@Suite struct NpyTests {
    /// `numpy.lib.format.write_array(f, numpy.asfortranarray(numpy.array([[1.5, -2.25, 3.0],
    /// [4.0, 1e-3, -1e30]], dtype='<f8')), version=(1, 0))` with NumPy 2.4.6.
    static let version1FortranF8 = bytes(hex: """
        934e554d505901007600 7b276465736372273a20273c6638272c2027666f727472616e5f6f72646572273a
        20547275652c20277368617065273a2028322c2033292c207d \(String(repeating: "20", count: 59)) 0a
        000000000000f83f 0000000000001040 00000000000002c0 fca9f1d24d62503f 0000000000000840
        ea8ca039593e29c6
        """)

    /// `write_array(f, numpy.array([0.5, -1.0, 3.25, 1e-8], dtype='<f4'), version=(2, 0))`.
    static let version2F4 = bytes(hex: """
        934e554d5059020074000000 7b276465736372273a20273c6634272c2027666f727472616e5f6f72646572
        273a2046616c73652c20277368617065273a2028342c292c207d \(String(repeating: "20", count: 58)) 0a
        0000003f 000080bf 00005040 77cc2b32
        """)

    /// `numpy.save(f, numpy.arange(6, dtype='<f4').reshape(2, 3))`: header only (128 bytes).
    static let numpyHeaderC23F4 = bytes(hex: """
        934e554d505901007600 7b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a
        2046616c73652c20277368617065273a2028322c2033292c207d \(String(repeating: "20", count: 58)) 0a
        """)

    @Test func fixturesHaveTheLengthsNumPyWrote() {
        #expect(Self.version1FortranF8.count == 176)
        #expect(Self.version2F4.count == 144)
        #expect(Self.numpyHeaderC23F4.count == 128)
    }

    @Test func readsVersion1Float64FortranOrder() throws {
        let array = try Npy.decode(Data(Self.version1FortranF8))
        #expect(array.shape == [2, 3])
        #expect(array.values == [1.5, -2.25, 3.0, 4.0, Float(1e-3), -1e30])
    }

    @Test func readsVersion2Float32() throws {
        let array = try Npy.decode(Data(Self.version2F4))
        #expect(array.shape == [4])
        #expect(array.values == [0.5, -1, 3.25, 1e-8])
    }

    @Test func readsVersion3() throws {
        var file = Self.version2F4
        file[6] = 3
        #expect(try Npy.decode(Data(file)) == Npy.decode(Data(Self.version2F4)))
    }

    @Test func readsBigEndianAndFortranOrderIn3D() throws {
        // Element (i, j, k) of a 2×3×4 array is 100i + 10j + k; Fortran order stores i fastest.
        var stored: [Float] = []
        for k in 0..<4 { for j in 0..<3 { for i in 0..<2 { stored.append(Float(100 * i + 10 * j + k)) } } }
        let data = stored.flatMap { withUnsafeBytes(of: $0.bitPattern.bigEndian) { Array($0) } }
        let file = npyFile(major: 1, dict: "{'shape': (2, 3, 4), \"fortran_order\": True, 'descr': '>f4'}",
                           data: data)
        let array = try Npy.decode(Data(file))
        var expected: [Float] = []
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { expected.append(Float(100 * i + 10 * j + k)) } } }
        #expect(array.shape == [2, 3, 4] && array.values == expected)
    }

    @Test func encodesExactlyAsNumPy() throws {
        let encoded = try Npy.encode(NpyArray(shape: [2, 3], values: [0, 1, 2, 3, 4, 5]))
        #expect(Array(encoded.prefix(128)) == Self.numpyHeaderC23F4)
        #expect(Array(encoded.dropFirst(128)) == [0, 1, 2, 3, 4, 5].flatMap { (x: Float) in
            littleEndian(x.bitPattern) })
    }

    @Test(arguments: [[Int](), [0], [5], [3, 4], [2, 3, 4], [1, 1, 1, 7]])
    func roundTripThroughAFile(shape: [Int]) throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.path("a.npy")
        let array = NpyArray(shape: shape, values: uniformNoise(count: shape.reduce(1, *), seed: 11))
        try Npy.write(array, to: path)
        #expect(try Npy.read(path: path) == array)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
        #expect(size == 128 + 4 * array.values.count)   // header padded to 64-byte multiple
    }

    /// Writes cut short by the system resume where they stopped: with 7-byte calls (Linux cuts
    /// every call at 2 GiB − 4 KiB, where `Data.write` restarted from the first byte, 2026-11-30)
    /// the file holds `encode`'s bytes once, in order, and no temporary file is left.
    @Test func aWriteInManyCallsKeepsEveryByteInOrder() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.path("a.npy")
        let array = NpyArray(shape: [3, 5], values: uniformNoise(count: 15, seed: 12))
        try Npy.write(array, to: path) { fd, bytes, count in Glibc.write(fd, bytes, min(count, 7)) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == (try Npy.encode(array)))
        #expect(try Npy.read(path: path) == array)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["a.npy"])
    }

    // MARK: - Errors

    @Test func badMagicIsRejected() {
        var file = Self.version2F4
        file[1] = UInt8(ascii: "n")
        #expect(throws: NpyError.badMagic("x.npy")) { try Npy.decode(Data(file), path: "x.npy") }
        #expect(throws: NpyError.badMagic("x.npy")) { try Npy.decode(Data([0x93, 0x4e]), path: "x.npy") }
    }

    @Test func truncatedDataIsReported() {
        let file = Array(Self.version1FortranF8.dropLast(3))
        #expect(throws: NpyError.truncated("x.npy", expectedBytes: 48, actualBytes: 45)) {
            try Npy.decode(Data(file), path: "x.npy")
        }
    }

    @Test func truncatedHeaderIsBadHeader() {
        let error = #expect(throws: NpyError.self) {
            try Npy.decode(Data(Self.version1FortranF8.prefix(40)), path: "x.npy")
        }
        guard case .badHeader = error else {
            Issue.record("expected .badHeader, got \(String(describing: error))")
            return
        }
    }

    @Test(arguments: ["{'descr': '<f4', 'fortran_order': False}",
                      "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,)}",
                      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1)}",
                      "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}",
                      "['descr', '<f4']",
                      "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
                      "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4)}"])
    func malformedHeaderIsBadHeader(dict: String) {
        let error = #expect(throws: NpyError.self) {
            try Npy.decode(Data(npyFile(major: 1, dict: dict, data: [0, 0, 0, 0, 0, 0, 0, 0])), path: "x.npy")
        }
        guard case .badHeader = error else {
            Issue.record("expected .badHeader, got \(String(describing: error))")
            return
        }
    }

    @Test func unsupportedDTypeAndVersionAreNamed() {
        let ints = npyFile(major: 1, dict: "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }",
                           data: [1, 0, 0, 0])
        #expect(throws: NpyError.unsupportedDType("x.npy", descr: "<i4")) {
            try Npy.decode(Data(ints), path: "x.npy")
        }
        var future = Self.version2F4
        future[6] = 4
        #expect(throws: NpyError.unsupportedVersion("x.npy", major: 4, minor: 0)) {
            try Npy.decode(Data(future), path: "x.npy")
        }
    }

    @Test func missingFileAndShapeMismatch() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.path("missing.npy")
        #expect(throws: NpyError.notFound(path)) { try Npy.read(path: path) }
        #expect(throws: NpyError.shapeMismatch(path, shape: [2, 2], valueCount: 3)) {
            try Npy.write(NpyArray(shape: [2, 2], values: [1, 2, 3]), to: path)
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    /// Linux's `write(2)` moves at most 0x7ffff000 bytes per call; Foundation's `Data.write`
    /// then wrote the file's start again in its place (a 2.9 GB features.npy whose last quarter was
    /// its first). Short writes, here at most 1 000 bytes and an EINTR every fifth call, must add
    /// up to the whole file.
    @Test func shortWritesAddUpToTheWholeFile() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.path("short.npy")
        let array = NpyArray(shape: [50, 99], values: uniformNoise(count: 50 * 99, seed: 5))
        var calls = 0
        try Npy.write(array, to: path) { fd, bytes, count in
            calls += 1
            if calls % 5 == 0 { errno = EINTR; return -1 }
            return Glibc.write(fd, bytes, min(count, 1_000))
        }
        #expect(calls >= (128 + 4 * array.values.count) / 1_000 * 5 / 4)   // 20 writes, 5 of them interrupted
        #expect(try Npy.read(path: path) == array)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["short.npy"])
    }

    /// A write that fails (a full disk) leaves the file that was there and no temporary file, and
    /// the error names the file, the reason and what to do.
    @Test func aFailedWriteKeepsTheOldFile() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let path = scratch.path("kept.npy")
        let old = NpyArray(shape: [3], values: [1, 2, 3])
        try Npy.write(old, to: path)
        var written = 0
        do {
            try Npy.write(NpyArray(shape: [1000], values: [Float](repeating: 7, count: 1000)), to: path) { fd, bytes, count in
                guard written < 2_000 else { errno = ENOSPC; return -1 }
                let n = Glibc.write(fd, bytes, min(count, 1_000))
                written += max(n, 0)
                return n
            }
            Issue.record("the write should have failed")
        } catch {
            #expect(error.description.contains(path))
            #expect(error.description.contains("No space left on device"))
            #expect(error.description.contains("Check that the directory exists"))
        }
        #expect(try Npy.read(path: path) == old)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["kept.npy"])
    }
}
