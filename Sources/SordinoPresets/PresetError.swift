// SPDX-License-Identifier: GPL-3.0-or-later
// Typed errors for finding, reading, checking and writing presets: each names file, field and fix.

/// Why a preset could not be found, loaded or written. Every case names the file (`path`, empty
/// for an in-memory preset) and, where one is at fault, the JSON field (`stft.hopLength`,
/// `mask.floorDecibels`, …); `description` ends with what to do about it.
public enum PresetError: Error, CustomStringConvertible, Equatable, Sendable {
    /// No preset matched `argument`; `searched` lists the files and directories tried, in order.
    case notFound(argument: String, searched: [String])
    /// `path` is a file, but not a preset's JSON (no `.json`, and no `path.json` beside it).
    case notAPreset(path: String)
    /// The file exists but cannot be read, or is not a regular file.
    case unreadable(path: String, reason: String)
    /// The JSON document does not parse; `detail` says where and why, e.g.
    /// "line 2, column 24: Invalid value" (from 1; the column in characters).
    case invalidJSON(path: String, detail: String)
    /// A required field is absent. `field` is its dotted path, e.g. `stft.hopLength`.
    case missingField(path: String, field: String)
    /// A field holds a value of the wrong JSON type, or one that does not fit its Swift type.
    case wrongType(path: String, field: String, detail: String)
    /// `schemaVersion` is not one this build reads.
    case unsupportedSchemaVersion(path: String, found: Int, supported: Int)
    /// The basis file does not start with `"SRDNBAS\0"`.
    case badMagic(path: String)
    /// The basis file's format version is not one this build reads.
    case unsupportedFormatVersion(path: String, found: UInt32, supported: UInt32)
    /// The basis file ends early; sizes in bytes.
    case truncatedBasis(path: String, expectedBytes: Int, actualBytes: Int)
    /// The basis file is longer than its header says; sizes in bytes.
    case trailingBytes(path: String, expectedBytes: Int, actualBytes: Int)
    /// A basis header field is inconsistent on its own (unknown flag bits, non-zero reserved bytes,
    /// zero ranks, a payload size that does not match the shape).
    case malformedBasisHeader(path: String, field: String, detail: String)
    /// The CRC-32 of the basis payload differs from the one stored in its header (hex strings).
    case checksumMismatch(path: String, stored: String, computed: String)
    /// The JSON (`field`, e.g. `basis.speechRank`) and the basis header disagree.
    case basisMismatch(path: String, field: String, json: String, basis: String)
    /// `basis.binCount` is not `stft.fftLength / 2 + 1`.
    case binCountMismatch(path: String, binCount: Int, fftLength: Int)
    /// A setting is out of the range the engine runs with; `allowed` states the range.
    case invalidSetting(path: String, field: PresetField, value: String, allowed: String)
    /// A basis value or atom penalty is NaN, infinite or negative; `location` says which one.
    case invalidBasisValue(path: String, location: String, value: String)
    /// A file in a directory of presets does not load, and it is (or, its rate unknown, may be)
    /// the one that would be chosen for `sampleRate` Hz (nil: no rate was given), so no other is
    /// chosen in its place. `cause` is why it does not load and names the file.
    indirect case unloadableChoice(path: String, sampleRate: Int?, cause: PresetError)
    /// A directory of presets holds none at the requested rate; `available` lists its rates in Hz.
    case noPresetForRate(requested: Int, available: [Int], directory: String)
    /// A directory of presets holds several rates and no rate was given to choose between them.
    case sampleRateRequired(directory: String, available: [Int])
    /// The preset's rate differs from the rate of the audio it is to process (JACK server or file), in Hz.
    case sampleRateMismatch(presetHz: Int, wantedHz: Int)
    /// A preset name that cannot be a file name (empty, `.`/`..`, or with `/`).
    case invalidName(String)
    /// Writing a preset file failed.
    case writeFailed(path: String, reason: String)
    /// The gain-model file (`gain.file`) is damaged, of another version, or disagrees with the JSON.
    case invalidGainFile(path: String, detail: String)

    public var description: String {
        func at(_ path: String) -> String { path.isEmpty ? "" : "\(path): " }
        let retrain = "regenerate the preset with `sordino train`"
        switch self {
        case let .notFound(argument, searched):
            let list = searched.isEmpty ? "nothing" : searched.joined(separator: ", ")
            return "preset '\(argument)' not found; searched \(list). "
                + "Pass the path of a NAME.json, install the preset in one of those directories, "
                + "or add its directory to SORDINO_PRESET_PATH (colon-separated)."
        case let .notAPreset(path):
            return "\(at(path))a file, but not a preset: a preset is NAME.json with NAME.basis beside it. "
                + "Pass a preset's name, its NAME.json path or the folder that holds it."
        case let .unreadable(path, reason):
            return "\(at(path))cannot be read (\(reason)). Check that it is a readable regular file."
        case let .invalidJSON(path, detail):
            return "\(at(path))not valid JSON (\(detail)). Fix the syntax, restore the file, or \(retrain)."
        case let .missingField(path, field):
            return "\(at(path))required field `\(field)` is missing. Add it, or \(retrain)."
        case let .wrongType(path, field, detail):
            return "\(at(path))`\(field)` has the wrong type or value (\(detail)). Correct it, or \(retrain)."
        case let .unsupportedSchemaVersion(path, found, supported):
            if found > supported {
                return "\(at(path))schemaVersion \(found) was written by a newer Sordino (this one reads "
                    + "\(supported)); upgrade, or re-train with this version."
            }
            return "\(at(path))schemaVersion \(found) is not a Sordino schema version (this one reads "
                + "\(supported)); re-train the preset with this version."
        case let .badMagic(path):
            return "\(at(path))not a Sordino basis file (it does not start with \"SRDNBAS\\0\"). "
                + "Point `basis.file` at the NAME.basis written with the JSON, or \(retrain)."
        case let .unsupportedFormatVersion(path, found, supported):
            if found > supported {
                return "\(at(path))basis format version \(found) was written by a newer Sordino (this one reads "
                    + "\(supported)); upgrade, or re-train with this version."
            }
            return "\(at(path))basis format version \(found) is unknown (this one reads \(supported)); \(retrain)."
        case let .truncatedBasis(path, expected, actual):
            return "\(at(path))basis file is truncated: \(expected) bytes expected, \(actual) found. "
                + "Copy it again in full, or \(retrain)."
        case let .trailingBytes(path, expected, actual):
            return "\(at(path))basis file has \(actual) bytes but its header accounts for \(expected); "
                + "the file is damaged or edited. Restore it, or \(retrain)."
        case let .malformedBasisHeader(path, field, detail):
            return "\(at(path))basis header field `\(field)` is invalid: \(detail). "
                + "The file is damaged or edited; restore it, or \(retrain)."
        case let .checksumMismatch(path, stored, computed):
            return "\(at(path))basis checksum does not match its header (stored \(stored), computed \(computed)); "
                + "the file is damaged or edited. Restore it, or regenerate it with `sordino train`."
        case let .basisMismatch(path, field, json, basis):
            return "\(at(path))`\(field)` is \(json) in the JSON but \(basis) in the basis file: the two files "
                + "do not belong together. Keep NAME.json and NAME.basis from the same `sordino train` run."
        case let .binCountMismatch(path, binCount, fftLength):
            let matching = max(0, binCount - 1) * 2, fits = (16...PresetMetadata.maximumFFTLength).contains(matching)
            return "\(at(path))`basis.binCount` is \(binCount) but `stft.fftLength` \(fftLength) gives "
                + "\(fftLength / 2 + 1) bins (fftLength / 2 + 1): the basis was trained with another FFT length. "
                + (fits ? "Set `stft.fftLength` to \(matching), or \(retrain)." : "The basis fits no FFT the engine runs (≤ \(PresetMetadata.maximumFFTLength)): \(retrain).")
        case let .invalidSetting(path, field, value, allowed):
            return "\(at(path))`\(field)` = \(value) is out of range: allowed \(allowed). Correct it, or \(retrain)."
        case let .invalidBasisValue(path, location, value):
            return "\(at(path))basis \(location) is \(value); basis values and penalties must be finite and ≥ 0. "
                + "Regenerate it with `sordino train`."
        case let .unloadableChoice(path, sampleRate, cause):
            let which = sampleRate.map { "the preset for \($0) Hz" } ?? "the preset it would give"
            return "\(cause) In the folder \(FileAccess.parent(of: path)) that file is, or may be, \(which), "
                + "so no other is used in its place: repair or replace it, or move it out of the folder."
        case let .noPresetForRate(requested, available, directory):
            let rates = available.isEmpty ? "no readable presets" : "presets for " + Self.hertzList(available)
            return "\(directory) has no preset for \(requested) Hz; it holds \(rates). "
                + "Run at one of those rates, or train a \(requested) Hz preset with `sordino train`."
        case let .sampleRateRequired(directory, available):
            return "\(directory) holds presets for \(Self.hertzList(available)); a sample rate is needed to "
                + "choose. Give the rate, or point --preset at one NAME.json."
        case let .sampleRateMismatch(presetHz, wantedHz):
            return "preset trained at \(presetHz) Hz, but the audio runs at \(wantedHz) Hz. "
                + "Run at \(presetHz) Hz (e.g. `jackd -r \(presetHz)`, or resample the file), "
                + "or choose a \(wantedHz) Hz preset."
        case let .invalidName(name):
            return "'\(name)' cannot name a preset: use a non-empty file name without '/', e.g. speech-16k."
        case let .invalidGainFile(path, detail):
            return "\(at(path))the gain model is not usable: \(detail). Restore the file, or attach a freshly trained "
                + "model with `sordino gain-attach` (docs/QUALITY.md), or remove the preset's `gain` field to run without it."
        case let .writeFailed(path, reason):
            return "\(at(path))could not be written (\(reason)). Check that the directory exists and is writable."
        }
    }

    /// The dotted JSON field at fault (e.g. `mask.floorDecibels`), or nil when no single field is.
    public var field: String? {
        switch self {
        case let .missingField(_, field), let .wrongType(_, field, _), let .malformedBasisHeader(_, field, _),
             let .basisMismatch(_, field, _, _):
            field
        case let .invalidSetting(_, field, _, _): field.description
        case let .unloadableChoice(_, _, cause): cause.field
        case .binCountMismatch: "basis.binCount"
        case .unsupportedSchemaVersion: "schemaVersion"
        default: nil
        }
    }

    private static func hertzList(_ rates: [Int]) -> String {
        rates.map(String.init).joined(separator: ", ") + " Hz"
    }
}
