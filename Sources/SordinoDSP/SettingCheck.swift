// SPDX-License-Identifier: GPL-3.0-or-later
// One range check for every module's settings: the error names the setting, its value and what is allowed.

/// An error type with a case for "setting `name` has `value`, outside `allowed`". `EngineError` and
/// `SordinoNMF.NMFError` conform, so both validate their options with the one `check` below.
public protocol SettingRangeError: Error {
    /// The error for setting `name` holding `value` where `allowed` describes the valid range.
    static func outOfRange(name: String, value: String, allowed: String) -> Self
}

extension SettingRangeError {
    /// Throws `outOfRange(name:value:allowed:)` unless `ok`.
    @inline(__always)
    public static func check(_ ok: Bool, _ name: String, _ value: some CustomStringConvertible,
                             _ allowed: String) throws(Self) {
        if !ok { throw outOfRange(name: name, value: "\(value)", allowed: allowed) }
    }
}

extension EngineError: SettingRangeError {
    public static func outOfRange(name: String, value: String, allowed: String) -> EngineError {
        .invalidSetting(name: name, value: value, allowed: allowed)
    }
}
