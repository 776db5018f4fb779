// SPDX-License-Identifier: GPL-3.0-or-later
// Any JSON value, decoded and encoded with Foundation's coders, for requests whose fields vary by command.

import Foundation

/// A JSON document as a Swift value. Numbers are Doubles (what JSON means by a number).
public enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// Parses one JSON text (a line of the protocol); nil when it is not JSON.
    public static func parse(_ data: Data) -> JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: data) }

    /// Compact JSON text with sorted keys (one protocol line, without the newline).
    public var text: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a JSONValue cannot fail except for non-finite numbers, which `number(_:)` never makes.
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "null"
    }

    /// A number, or null for a non-finite one (JSON has no ±inf or NaN; levels of silence are −inf).
    public static func number(_ value: Double?) -> JSONValue {
        guard let value, value.isFinite else { return .null }
        return .number(value)
    }

    public static func number(_ value: Float?) -> JSONValue { number(value.map(Double.init)) }
    public static func number(_ value: Int) -> JSONValue { .number(Double(value)) }

    public subscript(key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    public var doubleValue: Double? { if case .number(let v) = self { return v }; return nil }
    public var stringValue: String? { if case .string(let v) = self { return v }; return nil }
    public var boolValue: Bool? { if case .bool(let v) = self { return v }; return nil }
    /// An integral number that fits an Int.
    public var intValue: Int? {
        guard let v = doubleValue, v == v.rounded(.towardZero), abs(v) < 1e15 else { return nil }
        return Int(v)
    }
    public var objectValue: [String: JSONValue]? { if case .object(let v) = self { return v }; return nil }
}
