// SPDX-License-Identifier: GPL-3.0-or-later
// Reads and writes NumPy `.npy` arrays of floating-point numbers.

import Foundation
import SystemReason

/// An n-dimensional array of Float32, row-major (C order): the last index varies fastest.
public struct NpyArray: Sendable, Equatable {
    /// Length of each dimension; `[]` for a scalar.
    public var shape: [Int]
    /// shape.reduce(1, *) values in C order.
    public var values: [Float]

    public init(shape: [Int], values: [Float]) {
        self.shape = shape
        self.values = values
    }
}

/// Why a `.npy` file could not be read or written. Each description names the file and ends with
/// what to do.
public enum NpyError: Error, CustomStringConvertible, Equatable {
    case notFound(String)
    /// The file exists but could not be read; `reason` is the system's text.
    case unreadable(String, reason: String)
    /// The file does not start with `\x93NUMPY`.
    case badMagic(String)
    case unsupportedVersion(String, major: Int, minor: Int)
    /// The header is not the dictionary NumPy writes; `reason` says where it went wrong.
    case badHeader(String, reason: String)
    /// The dtype is not `<f4`, `>f4`, `<f8` or `>f8`.
    case unsupportedDType(String, descr: String)
    /// Fewer data bytes follow the header than the shape and dtype require.
    case truncated(String, expectedBytes: Int, actualBytes: Int)
    /// The shape's product differs from the number of values (writing).
    case shapeMismatch(String, shape: [Int], valueCount: Int)
    case cannotWrite(String, reason: String)

    public var description: String {
        switch self {
        case let .notFound(path):
            "\(path): no such file. Check the path and its spelling."
        case let .unreadable(path, reason):
            "\(path): cannot read it (\(reason)). Check its permissions."
        case let .badMagic(path):
            "\(path): not a NumPy .npy file (it does not start with \\x93NUMPY). "
                + "Save the array with `numpy.save`."
        case let .unsupportedVersion(path, major, minor):
            "\(path): .npy format version \(major).\(minor) is not supported (1.0, 2.0 and 3.0 "
                + "are). Re-save it with `numpy.save` from NumPy ≥ 1.9."
        case let .badHeader(path, reason):
            "\(path): damaged .npy header (\(reason)). Re-save the array with `numpy.save`."
        case let .unsupportedDType(path, descr):
            "\(path): dtype '\(descr)' is not supported (only float32 and float64 are). "
                + "Convert it with `numpy.save(path, a.astype(numpy.float32))`."
        case let .truncated(path, expected, actual):
            "\(path): truncated, the header promises \(expected) data bytes but \(actual) follow. "
                + "Copy or save the file again."
        case let .shapeMismatch(path, shape, count):
            "\(path): nothing written, shape \(shape) needs \(shape.reduce(1, *)) values but "
                + "\(count) were given. Fix the array passed to the writer."
        case let .cannotWrite(path, reason):
            "\(path): cannot write it (\(reason)). Check that the directory exists, that you may "
                + "write there, and that the disk is not full."
        }
    }
}

/// The `.npy` format (numpy.lib.format): magic, version, little-endian header length, an ASCII
/// Python dict literal padded with spaces to a multiple of 64 bytes and ended by `\n`, then data.
public enum Npy {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    /// Header alignment NumPy uses since 1.22 (earlier versions used 16).
    static let alignment = 64

    // MARK: Reading

    /// Reads a version 1.0, 2.0 or 3.0 file of dtype `<f4`, `>f4`, `<f8` or `>f8`, C or Fortran
    /// order, any number of dimensions. float64 values are rounded to Float32.
    public static func read(path: String) throws(NpyError) -> NpyArray {
        guard FileManager.default.fileExists(atPath: path) else { throw .notFound(path) }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path, reason: systemReason(error))
        }
        return try decode(data, path: path)
    }

    /// Decodes the bytes of a `.npy` file; `path` only names the source in errors.
    public static func decode(_ data: Data, path: String = "<memory>") throws(NpyError) -> NpyArray {
        let bytes = [UInt8](data)
        guard bytes.count >= 8, Array(bytes[0..<6]) == magic else { throw .badMagic(path) }
        let major = Int(bytes[6]), minor = Int(bytes[7])
        let lengthSize: Int
        switch (major, minor) {
        case (1, 0): lengthSize = 2
        case (2, 0), (3, 0): lengthSize = 4
        default: throw .unsupportedVersion(path, major: major, minor: minor)
        }
        let headerStart = 8 + lengthSize
        guard bytes.count >= headerStart else {
            throw .badHeader(path, reason: "the file ends inside the header length")
        }
        var headerLength = 0
        for i in (8..<headerStart).reversed() { headerLength = headerLength << 8 | Int(bytes[i]) }
        let dataStart = headerStart + headerLength
        guard bytes.count >= dataStart else {
            throw .badHeader(path, reason: "the header is \(headerLength) bytes but the file ends "
                + "after \(bytes.count - headerStart)")
        }
        // Version 3.0 allows UTF-8 in the header; the keys and values we accept are ASCII anyway.
        guard let text = String(bytes: bytes[headerStart..<dataStart], encoding: .utf8) else {
            throw .badHeader(path, reason: "the header is not text")
        }
        let header: Header
        do {
            header = try Header(parsing: text)
        } catch {
            throw .badHeader(path, reason: error.reason)
        }

        let (elementSize, bigEndian): (Int, Bool)
        switch header.descr {
        case "<f4": (elementSize, bigEndian) = (4, false)
        case ">f4": (elementSize, bigEndian) = (4, true)
        case "<f8": (elementSize, bigEndian) = (8, false)
        case ">f8": (elementSize, bigEndian) = (8, true)
        default: throw .unsupportedDType(path, descr: header.descr)
        }
        var count = 1
        for n in header.shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard n >= 0, !overflow else {
                throw .badHeader(path, reason: "shape \(header.shape) is impossible")
            }
            count = product
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: elementSize)
        guard !overflow else { throw .badHeader(path, reason: "shape \(header.shape) is impossible") }
        let available = bytes.count - dataStart
        guard available >= byteCount else {
            throw .truncated(path, expectedBytes: byteCount, actualBytes: available)
        }

        var stored = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let offset = dataStart + i * elementSize
            var bits: UInt64 = 0
            for b in 0..<elementSize {
                let byte = UInt64(bytes[offset + (bigEndian ? b : elementSize - 1 - b)])
                bits = bits << 8 | byte
            }
            stored[i] = elementSize == 4
                ? Float(bitPattern: UInt32(truncatingIfNeeded: bits))
                : Float(Double(bitPattern: bits))
        }
        let values = header.fortranOrder && header.shape.count > 1
            ? fortranToC(stored, shape: header.shape) : stored
        return NpyArray(shape: header.shape, values: values)
    }

    /// Reorders column-major values (first index fastest) into row-major order.
    static func fortranToC(_ values: [Float], shape: [Int]) -> [Float] {
        var fortranStrides = [Int](repeating: 1, count: shape.count)
        for d in shape.indices.dropFirst() { fortranStrides[d] = fortranStrides[d - 1] * shape[d - 1] }
        var result = [Float](repeating: 0, count: values.count)
        var index = [Int](repeating: 0, count: shape.count)
        var source = 0
        for target in 0..<values.count {
            result[target] = values[source]
            // Advance the C-order multi-index (last dimension fastest), tracking the source offset.
            var d = shape.count - 1
            while d >= 0 {
                index[d] += 1
                source += fortranStrides[d]
                if index[d] < shape[d] { break }
                source -= fortranStrides[d] * shape[d]
                index[d] = 0
                d -= 1
            }
        }
        return result
    }

    // MARK: Writing

    /// Encodes `array` as NumPy writes float32: version 1.0 (2.0 only if the header would exceed
    /// 65 535 bytes), `<f4`, C order, header padded so the data starts at a multiple of 64 bytes.
    public static func encode(_ array: NpyArray, path: String = "<memory>") throws(NpyError) -> Data {
        var out = try encodeHeader(array, path: path)
        out.reserveCapacity(out.count + 4 * array.values.count)
        for value in array.values {
            let bits = value.bitPattern
            out.append(contentsOf: [UInt8(bits & 0xFF), UInt8(bits >> 8 & 0xFF),
                                    UInt8(bits >> 16 & 0xFF), UInt8(bits >> 24)])
        }
        return out
    }

    /// The magic, version, header length and padded header dict of `array`'s file.
    static func encodeHeader(_ array: NpyArray, path: String) throws(NpyError) -> Data {
        guard array.shape.allSatisfy({ $0 >= 0 }),
              array.shape.reduce(1, *) == array.values.count else {
            throw .shapeMismatch(path, shape: array.shape, valueCount: array.values.count)
        }
        let shapeText = switch array.shape.count {
        case 0: "()"
        case 1: "(\(array.shape[0]),)"
        default: "(" + array.shape.map(String.init).joined(separator: ", ") + ")"
        }
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        var version: UInt8 = 1
        var lengthSize = 2
        var padded = paddedHeader(dict, prefix: 8 + lengthSize)
        if padded.count > Int(UInt16.max) {
            (version, lengthSize) = (2, 4)
            padded = paddedHeader(dict, prefix: 8 + lengthSize)
        }
        var out = Data(magic + [version, 0])
        var length = padded.count
        for _ in 0..<lengthSize {
            out.append(UInt8(length & 0xFF))
            length >>= 8
        }
        out.append(contentsOf: padded)
        return out
    }

    /// Writes `array` to `path` as `encode` describes, replacing any file there as one step
    /// (`AtomicFile`; arrays of any size: Foundation's `Data.write` repeated the file's start past
    /// 2 GiB). `writer` as in `AtomicFile.write`.
    public static func write(_ array: NpyArray, to path: String,
                             writer: AtomicFile.Writer = { Glibc.write($0, $1, $2) }) throws(NpyError) {
        let header = try encodeHeader(array, path: path)
        var values = array.values
        #if _endian(big)
        for i in values.indices { values[i] = Float(bitPattern: values[i].bitPattern.byteSwapped) }
        #endif
        var failure: AtomicFileError?
        header.withUnsafeBytes { head in
            values.withUnsafeBytes { body in
                do throws(AtomicFileError) { try AtomicFile.write([head, body], to: path, writer: writer) } catch { failure = error }
            }
        }
        if let failure { throw .cannotWrite(path, reason: failure.reason) }
    }

    /// The dict, spaces and a final newline, so that `prefix` + header is a multiple of 64 bytes.
    static func paddedHeader(_ dict: String, prefix: Int) -> [UInt8] {
        var header = Array(dict.utf8)
        let total = prefix + header.count + 1
        let padding = (alignment - total % alignment) % alignment
        header += [UInt8](repeating: 0x20, count: padding)
        header.append(0x0A)
        return header
    }
}

// MARK: - Header dict

/// The three keys of a `.npy` header, parsed from the Python literal NumPy writes, e.g.
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`. Accepts either quote, any
/// key order, optional trailing commas and whitespace; nothing else of Python.
struct Header {
    struct ParseError: Error { let reason: String }

    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    init(parsing text: String) throws(ParseError) {
        var scanner = LiteralScanner(Array(text.utf8))
        var descr: String?, fortranOrder: Bool?, shape: [Int]?
        try scanner.expect(UInt8(ascii: "{"))
        while true {
            scanner.skipSpace()
            if scanner.consume(UInt8(ascii: "}")) { break }
            let key = try scanner.string()
            try scanner.expect(UInt8(ascii: ":"))
            switch key {
            case "descr": descr = try scanner.string()
            case "fortran_order": fortranOrder = try scanner.bool()
            case "shape": shape = try scanner.intTuple()
            default: throw ParseError(reason: "unexpected key '\(key)'")
            }
            scanner.skipSpace()
            if scanner.consume(UInt8(ascii: ",")) { continue }
            try scanner.expect(UInt8(ascii: "}"))
            break
        }
        scanner.skipSpace()
        guard scanner.atEnd else { throw ParseError(reason: "text after the closing brace") }
        guard let descr else { throw ParseError(reason: "no 'descr' key") }
        guard let fortranOrder else { throw ParseError(reason: "no 'fortran_order' key") }
        guard let shape else { throw ParseError(reason: "no 'shape' key") }
        (self.descr, self.fortranOrder, self.shape) = (descr, fortranOrder, shape)
    }
}

/// A cursor over the bytes of a Python literal.
struct LiteralScanner {
    typealias ParseError = Header.ParseError
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { position >= bytes.count }

    mutating func skipSpace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) {
            position += 1
        }
    }

    mutating func consume(_ byte: UInt8) -> Bool {
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    mutating func expect(_ byte: UInt8) throws(ParseError) {
        skipSpace()
        guard consume(byte) else {
            throw ParseError(reason: "expected '\(Character(UnicodeScalar(byte)))' at byte \(position)")
        }
    }

    /// A quoted string without escapes.
    mutating func string() throws(ParseError) -> String {
        skipSpace()
        guard position < bytes.count, bytes[position] == 0x27 || bytes[position] == 0x22 else {
            throw ParseError(reason: "expected a quoted string at byte \(position)")
        }
        let quote = bytes[position]
        let start = position + 1
        guard let end = bytes[start...].firstIndex(of: quote) else {
            throw ParseError(reason: "unterminated string at byte \(position)")
        }
        position = end + 1
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    mutating func bool() throws(ParseError) -> Bool {
        skipSpace()
        for (word, value) in [("True", true), ("False", false)] {
            let w = Array(word.utf8)
            if bytes.count - position >= w.count, Array(bytes[position..<position + w.count]) == w {
                position += w.count
                return value
            }
        }
        throw ParseError(reason: "expected True or False at byte \(position)")
    }

    /// `()`, `(3,)`, `(3, 4)`, `(3, 4,)`: non-negative decimal integers.
    mutating func intTuple() throws(ParseError) -> [Int] {
        try expect(UInt8(ascii: "("))
        var values: [Int] = []
        while true {
            skipSpace()
            if consume(UInt8(ascii: ")")) { return values }
            let start = position
            var value = 0
            while position < bytes.count, (0x30...0x39).contains(bytes[position]) {
                let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(Int(bytes[position] - 0x30))
                guard !o1, !o2 else { throw ParseError(reason: "dimension too large at byte \(start)") }
                value = sum
                position += 1
            }
            guard position > start else {
                throw ParseError(reason: "expected a dimension at byte \(position)")
            }
            values.append(value)
            skipSpace()
            if consume(UInt8(ascii: ",")) { continue }
            try expect(UInt8(ascii: ")"))
            return values
        }
    }
}
