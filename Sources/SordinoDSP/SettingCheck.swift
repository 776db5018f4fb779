// SPDX-License-Identifier: GPL-3.0-or-later
// One range check for every module's settings: the error names the setting, its value and what is allowed.

/// An error type with a case for "`setting` has `value`, outside `allowed`". `EngineError` (settings
/// named by `EngineSetting`) and `SordinoNMF.NMFError` (options named by their text) conform, so
/// both validate with the one `check` below.
public protocol SettingRangeError: Error {
    /// How the error names a setting.
    associatedtype Setting
    /// The error for `setting` holding `value` where `allowed` describes the valid range.
    static func outOfRange(_ setting: Setting, value: String, allowed: String) -> Self
}

extension SettingRangeError {
    /// Throws `outOfRange(name:value:allowed:)` unless `ok`.
    @inline(__always)
    public static func check(_ ok: Bool, _ setting: Setting, _ value: some CustomStringConvertible,
                             _ allowed: String) throws(Self) {
        if !ok { throw outOfRange(setting, value: "\(value)", allowed: allowed) }
    }
}

extension EngineError: SettingRangeError {
    public static func outOfRange(_ setting: EngineSetting, value: String, allowed: String) -> EngineError {
        .invalidSetting(setting, value: value, allowed: allowed)
    }
}
