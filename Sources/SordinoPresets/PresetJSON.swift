// SPDX-License-Identifier: GPL-3.0-or-later
// A preset document to and from JSON bytes: pretty-printed writing, and decoding whose every failure names the field, the value and what is allowed.

import Foundation
import SordinoDSP

extension PresetMetadata {
    /// The document as written: pretty-printed, sorted keys, slashes unescaped, final newline.
    public func encodedJSON() throws(PresetError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            var data = try encoder.encode(self)
            data.append(0x0A)
            return data
        } catch {
            // Only non-finite Floats can fail to encode; `validate` rejects them first.
            return try Self.failEncoding(error)
        }
    }

    private static func failEncoding(_ error: any Error) throws(PresetError) -> Data {
        if case let EncodingError.invalidValue(value, context) = error {
            let name = fieldName(context.codingPath)
            guard let field = PresetField(jsonPath: name) else {
                throw .writeFailed(path: "", reason: "`\(name)` = \(value); it must be a finite number")
            }
            throw .invalidSetting(path: "", field: field, value: "\(value)", allowed: "a finite number")
        }
        throw .writeFailed(path: "", reason: "\(error)")
    }

    /// Decodes a document, checking `schemaVersion` before anything else so that a newer layout
    /// reports its version rather than a missing field. `path` only labels errors.
    public static func decode(_ data: Data, path: String = "") throws(PresetError) -> PresetMetadata {
        struct VersionProbe: Decodable { var schemaVersion: Int }
        let decoder = JSONDecoder()
        do {
            let probe = try decoder.decode(VersionProbe.self, from: data)
            guard probe.schemaVersion == currentSchemaVersion else {
                throw PresetError.unsupportedSchemaVersion(path: path, found: probe.schemaVersion,
                                                           supported: currentSchemaVersion)
            }
            return try decoder.decode(PresetMetadata.self, from: data)
        } catch let error as PresetError {
            throw error
        } catch let error as DecodingError {
            throw map(error, path: path, data: data)
        } catch {
            throw .invalidJSON(path: path, detail: "\(error)")
        }
    }

    /// Turns a decoder error into one that names the field by its dotted path.
    static func map(_ error: DecodingError, path: String, data: Data) -> PresetError {
        switch error {
        case let .keyNotFound(key, context):
            return .missingField(path: path, field: fieldName(context.codingPath + [key]))
        case let .valueNotFound(type, context):
            return .wrongType(path: path, field: fieldName(context.codingPath), detail: "null where \(type) is expected")
        case let .typeMismatch(_, context) where context.codingPath.isEmpty:
            return .invalidJSON(path: path, detail: "the document is not a JSON object")
        case let .typeMismatch(type, context):
            return .wrongType(path: path, field: fieldName(context.codingPath),
                              detail: "expected \(typeName(type)): \(context.debugDescription)")
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty {
                // swift-foundation reports a number that does not fit its type (512.5 for an Int,
                // −1 for a UInt64) without a coding path: find the field ourselves.
                if let field = unfitInteger(in: data) {
                    return .wrongType(path: path, field: field, detail: "expected a whole number in range")
                }
                return .invalidJSON(path: path, detail: syntaxError(in: data) ?? context.debugDescription)
            }
            let field = fieldName(context.codingPath)
            if field == PresetField.window.description {
                return .invalidSetting(path: path, field: .window, value: "unknown",
                                       allowed: WindowShape.allCases.map { "\"\($0.rawValue)\"" }
                                           .joined(separator: ", "))
            }
            return .wrongType(path: path, field: field, detail: context.debugDescription)
        @unknown default:
            return .invalidJSON(path: path, detail: "\(error)")
        }
    }

    /// Where and why `data` is not JSON: "line L, column C: <parser's message>", lines and columns
    /// counted from 1, columns in characters (Unicode scalars). Foundation's `JSONDecoder` on Linux
    /// gives neither, so `JSONSerialization` parses again: its message holds a 0-based byte offset
    /// ("around character N"), or says the file ended early (the position is then the end of the
    /// file). Nil when it accepts the document or its message gives no position.
    static func syntaxError(in data: Data) -> String? {
        let message: String
        do {
            _ = try JSONSerialization.jsonObject(with: data)
            return nil
        } catch {
            message = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
        }
        var text = message.hasSuffix(".") ? String(message.dropLast()) : message
        let offset: Int
        if let marker = text.range(of: "character ") {
            let digits = text[marker.upperBound...].prefix { ("0"..."9").contains($0) }
            guard let parsed = Int(digits), parsed <= data.count else { return nil }
            offset = parsed
            if let phrase = text.range(of: " around character \(digits)") { text.removeSubrange(phrase) }
        } else if text.hasPrefix("Unexpected end of file") {
            offset = data.count
        } else {
            return nil
        }
        let before = data.prefix(offset)
        let line = 1 + before.count { $0 == 0x0A }
        let lineStart = before.lastIndex(of: 0x0A).map { $0 + 1 } ?? data.startIndex
        // UTF-8 continuation bytes (10xxxxxx) do not start a character.
        let column = 1 + data[lineStart..<before.endIndex].count { $0 & 0xC0 != 0x80 }
        return "line \(line), column \(column): \(text)"
    }

    /// `sampleRate` alone, in Hz, as `decode` would read it, for choosing among presets without
    /// checking the rest. Throws what `decode` would for that field or for the document's syntax.
    static func sampleRate(of bytes: [UInt8], path: String) throws(PresetError) -> Int {
        struct RateProbe: Decodable { var sampleRate: Int }
        let data = Data(bytes)
        do {
            return try JSONDecoder().decode(RateProbe.self, from: data).sampleRate
        } catch let error as DecodingError {
            throw map(error, path: path, data: data)
        } catch {
            throw .invalidJSON(path: path, detail: "\(error)")
        }
    }

    /// Every integer written as `"sampleRate": N` in `bytes`, however broken the rest of the
    /// document is; for telling which rate an unreadable preset was meant for.
    static func writtenSampleRates(in bytes: [UInt8]) -> [Int] {
        let key = Array(#""sampleRate""#.utf8)
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        var rates: [Int] = []
        var i = 0
        while i + key.count <= bytes.count {
            guard bytes[i..<(i + key.count)].elementsEqual(key) else { i += 1; continue }
            i += key.count
            while i < bytes.count, isSpace(bytes[i]) { i += 1 }
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { continue }
            i += 1
            while i < bytes.count, isSpace(bytes[i]) { i += 1 }
            let digits = bytes[i...].prefix { (0x30...0x39).contains($0) }.prefix(10)
            i += digits.count
            if let rate = Int(String(decoding: digits, as: UTF8.self)), rate > 0 { rates.append(rate) }
        }
        return rates
    }

    /// Integer fields, by JSON path; `provenance.seed` is unsigned.
    static let integerFields = [
        "schemaVersion", "sampleRate", "stft.frameLength", "stft.hopLength", "stft.fftLength",
        "solver.beta", "solver.spectrumExponent", "solver.iterations", "solver.maximumIterations",
        "mask.exponent", "basis.speechRank", "basis.noiseRank", "basis.binCount", "provenance.seed",
    ]

    /// The first integer field holding a number that is fractional or out of its type's range;
    /// nil when the document does not parse as JSON at all or every integer fits.
    static func unfitInteger(in data: Data) -> String? {
        guard let tree = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        for field in integerFields {
            var node: Any? = tree
            for key in field.split(separator: ".") { node = (node as? [String: Any])?[String(key)] }
            guard let number = node as? NSNumber else { continue }
            // Doubles hold every Int up to 2⁵³ exactly; beyond that only the range matters here.
            let value = number.doubleValue, unsigned = field == "provenance.seed"
            let limit = unsigned ? 0x1p64 : 0x1p63
            if value.rounded() != value || value >= limit || value < (unsigned ? 0 : -limit) { return field }
        }
        return nil
    }

    static func fieldName(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is UInt64.Type: "an integer"
        case is Float.Type, is Double.Type: "a number"
        case is String.Type: "a string"
        default: "\(type)"
        }
    }
}
