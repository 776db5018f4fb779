// SPDX-License-Identifier: GPL-3.0-or-later
// Turns a --preset argument (a path, a bare name, or a directory of presets at several rates) into one NAME.json.

import Foundation

/// Finds presets. A `--preset` argument is
/// - a path (it contains "/" or ends in ".json"): `NAME.json`, `NAME`, or a directory of presets;
/// - otherwise a name, looked up as `NAME.json` or as a directory `NAME/` in `searchDirectories`,
///   in order, then relative to the working directory.
/// A directory holding several presets yields the one whose `sampleRate` is the requested rate.
public struct PresetLocator: Sendable {
    /// Directories searched for bare names, first match wins.
    public var searchDirectories: [String]

    public init(searchDirectories: [String]) {
        self.searchDirectories = searchDirectories
    }

    /// The standard search path: `$SORDINO_PRESET_PATH` (colon-separated), the user's folder
    /// (`userDirectory`, where `sordino ctl save-noise` writes), `./presets`, the nearest
    /// `presets` (or `share/sordino/presets`) folder above the running executable (a checkout's
    /// `presets/` for `.build/release/sordino`; `PREFIX/share/sordino/presets` for
    /// `PREFIX/bin/sordino`), `/usr/local/share/sordino/presets`, `/usr/share/sordino/presets`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment,
                executablePath: String? = CommandLine.arguments.first) {
        var directories = (environment["SORDINO_PRESET_PATH"] ?? "").split(separator: ":").map(String.init)
        directories.append(Self.userDirectory(environment: environment))
        directories.append("presets")
        if let executablePath, let found = Self.presetsAbove(executable: executablePath, environment: environment) {
            directories.append(found)
        }
        directories += ["/usr/local/share/sordino/presets", "/usr/share/sordino/presets"]
        var seen = Set<String>()
        searchDirectories = directories.filter { seen.insert(FileAccess.absolute($0)).inserted }
    }

    /// The user's own presets: `$XDG_DATA_HOME/sordino/presets` (an absolute XDG_DATA_HOME only),
    /// else `~/.local/share/sordino/presets`.
    public static func userDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let data = environment["XDG_DATA_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? "\(environment["HOME"] ?? NSHomeDirectory())/.local/share"
        return "\(data)/sordino/presets"
    }

    // MARK: - Resolving

    /// The `NAME.json` that `argument` designates. `sampleRate` (Hz) chooses within a directory of
    /// presets (see `choose(in:sampleRate:)`, which also says which broken files stop the choice);
    /// a single file is returned whatever its rate and however broken (`Preset.load` then says why;
    /// check its rate with `Preset.requireSampleRate`). `skipped` lists the files of the directory
    /// that do not load and were passed over: log each one.
    public func resolve(_ argument: String, sampleRate: Int?) throws(PresetError) -> PresetChoice {
        guard !argument.isEmpty else { throw .notFound(argument: argument, searched: []) }
        if argument.contains("/") || argument.hasSuffix(".json") {
            if let found = try candidate(argument, sampleRate: sampleRate) { return found }
            let json = Preset.jsonPath(for: argument)
            // Found by hand: `inspect /etc/passwd` said "preset '/etc/passwd' not found".
            if json != argument, FileAccess.isRegularFile(argument) { throw .notAPreset(path: argument) }
            throw .notFound(argument: argument, searched: json == argument ? [argument] : [argument, json])
        }
        for directory in searchDirectories {
            if let found = try candidate(FileAccess.join(directory, argument), sampleRate: sampleRate) { return found }
        }
        if let found = try candidate(argument, sampleRate: sampleRate) { return found }
        throw .notFound(argument: argument, searched: searchDirectories + ["the working directory"])
    }

    /// `base` as a directory of presets, as `base.json`, or as a `.json` file; nil when none exists.
    private func candidate(_ base: String, sampleRate: Int?) throws(PresetError) -> PresetChoice? {
        if FileAccess.isDirectory(base) { return try Self.choose(in: base, sampleRate: sampleRate) }
        let json = Preset.jsonPath(for: base)
        return FileAccess.isRegularFile(json) ? PresetChoice(path: json, skipped: []) : nil
    }

    /// The preset in `directory` at `sampleRate`; with no rate, at the only rate its readable presets have.
    /// Among several presets at one rate, a `speech-…` preset (the general-purpose defaults) before
    /// the others, then the first by file name; so a folder of all shipped presets gives
    /// `speech-48k` at 48 kHz, not `lowlatency-48k`.
    ///
    /// Only each file's `sampleRate` is read here. A file that does not read that far (unreadable,
    /// not JSON, no integer `sampleRate`) is never chosen around: its rate is guessed from the
    /// integers written after `"sampleRate":` in its raw text and from a rate suffix of its name
    /// (`-16k`, `-48k`, `-44k1`, `-22k05`: kHz with `k` as the decimal point). If one of those is the
    /// rate, or there is none, it takes its place in the order above, and if it comes first
    /// choosing fails with `.unloadableChoice` naming it and its cause. Otherwise (another rate
    /// only, or a preset before it) it is returned in `skipped`. A file whose rate reads but that
    /// fails later (a bad field, a damaged basis) is chosen as usual and `Preset.load` says why.
    /// `NAME.loss.json` (learning curves `sordino train` writes next to a preset) is not a preset.
    static func choose(in directory: String, sampleRate: Int?) throws(PresetError) -> PresetChoice {
        let files = folderFiles(in: directory)
        let rates = Array(Set(files.compactMap(\.sampleRate))).sorted()
        if sampleRate == nil && rates.count > 1 { throw .sampleRateRequired(directory: directory, available: rates) }
        // With no rate and no readable preset, every file may be the one.
        let rate = sampleRate ?? rates.first
        let candidates = files.filter { $0.mayBe(at: rate) }
        switch candidates.first(where: { $0.name.hasPrefix("speech-") }) ?? candidates.first {
        case nil:
            guard let rate else { throw .notFound(argument: directory, searched: [directory]) }
            throw .noPresetForRate(requested: rate, available: rates, directory: directory)
        case let .unloadable(_, failure)?:
            throw .unloadableChoice(path: failure.path, sampleRate: rate, cause: failure.error)
        case let .readable(_, path, _)?:
            return PresetChoice(path: path, skipped: files.compactMap(\.failure))
        }
    }

    /// The preset in `directory` for a file at `sampleRate` Hz: the one at that rate (as `choose`),
    /// else at the nearest rate below it, else at the lowest rate present (the file is converted
    /// to it). Returns the choice (with the broken files passed over) and its rate.
    public static func chooseNearest(in directory: String, sampleRate: Int) throws(PresetError)
        -> (choice: PresetChoice, sampleRate: Int)
    {
        let rates = Array(Set(folderFiles(in: directory).compactMap(\.sampleRate))).sorted()
        guard let rate = rates.last(where: { $0 <= sampleRate }) ?? rates.first else {
            throw .notFound(argument: directory, searched: [directory])
        }
        return (try choose(in: directory, sampleRate: rate), rate)
    }

    // MARK: - Listing

    /// Every preset in the search directories, in search order: `NAME.json` files (name NAME) and
    /// directories of presets (name = the directory's, one entry per file). Where a name and rate
    /// occur twice, only the one `resolve` would choose is listed. Files whose rate cannot be read
    /// are in `unloadable`, each with why.
    public func list() -> (presets: [(name: String, path: String, sampleRate: Int)], unloadable: [SkippedPreset]) {
        var presets: [(name: String, path: String, sampleRate: Int)] = []
        var unloadable: [SkippedPreset] = []
        var seen = Set<String>()
        func add(_ name: String?, _ files: [FolderFile]) {
            for file in files {
                switch file {
                case let .readable(fileName, path, sampleRate):
                    let name = name ?? fileName
                    if seen.insert("\(name)@\(sampleRate)").inserted { presets.append((name, path, sampleRate)) }
                case let .unloadable(_, failure):
                    unloadable.append(failure)
                }
            }
        }
        for directory in searchDirectories where FileAccess.isDirectory(directory) {
            add(nil, Self.folderFiles(in: directory))
            for entry in Self.entries(of: directory) {
                let subdirectory = FileAccess.join(directory, entry)
                guard FileAccess.isDirectory(subdirectory) else { continue }
                add(entry, Self.folderFiles(in: subdirectory))
            }
        }
        return (presets, unloadable)
    }

    // MARK: - Helpers

    /// One `*.json` file of a folder of presets, as far as choosing reads it.
    enum FolderFile {
        /// Its `sampleRate` reads as an integer, in Hz (the rest is checked when it is loaded).
        case readable(name: String, path: String, sampleRate: Int)
        /// It does not read that far.
        case unloadable(name: String, SkippedPreset)

        /// The file name without `.json`.
        var name: String {
            switch self {
            case let .readable(name, _, _), let .unloadable(name, _): name
            }
        }

        var sampleRate: Int? {
            if case let .readable(_, _, sampleRate) = self { sampleRate } else { nil }
        }

        var failure: SkippedPreset? {
            if case let .unloadable(_, failure) = self { failure } else { nil }
        }

        /// Whether this file is, or (unreadable, its rate unknown or guessed to be it) may be, a
        /// preset at `rate` Hz; every file may be when `rate` is nil.
        func mayBe(at rate: Int?) -> Bool {
            guard let rate else { return true }
            switch self {
            case let .readable(_, _, sampleRate): return sampleRate == rate
            case let .unloadable(_, failure): return failure.sampleRates.isEmpty || failure.sampleRates.contains(rate)
            }
        }
    }

    /// The `*.json` files directly in `directory`, but `*.loss.json`, sorted by name.
    static func folderFiles(in directory: String) -> [FolderFile] {
        entries(of: directory).compactMap { entry in
            guard entry.hasSuffix(".json"), !entry.hasSuffix(".loss.json") else { return nil }
            let path = FileAccess.join(directory, entry)
            let name = String(entry.dropLast(".json".count))
            var bytes: [UInt8] = []
            do throws(PresetError) {
                bytes = try FileAccess.read(path, limit: FileAccess.maximumJSONBytes)
                return .readable(name: name, path: path, sampleRate: try PresetMetadata.sampleRate(of: bytes, path: path))
            } catch {
                let guesses = Set(PresetMetadata.writtenSampleRates(in: bytes) + [rate(suffixOf: name)].compactMap { $0 })
                return .unloadable(name: name, SkippedPreset(path: path, error: error, sampleRates: guesses.sorted()))
            }
        }
    }

    /// The rate a name's suffix states in Hz: `speech-16k` 16000, `speech-44k1` 44100,
    /// `x-22k05` 22050 (`k` is the decimal point of a kHz value); nil without one.
    static func rate(suffixOf name: String) -> Int? {
        guard let dash = name.lastIndex(of: "-") else { return nil }
        let parts = name[name.index(after: dash)...].split(separator: "k", omittingEmptySubsequences: false)
        func digits(_ part: Substring) -> Bool { part.allSatisfy { ("0"..."9").contains($0) } }
        guard parts.count == 2, digits(parts[0]), digits(parts[1]), parts[1].count <= 3,
              let kilohertz = Int(parts[0]), kilohertz > 0 else { return nil }
        // The digits after `k` are the kHz value's decimals: "1" is 100 Hz, "05" 50 Hz.
        return kilohertz * 1000 + (Int(parts[1] + String(repeating: "0", count: 3 - parts[1].count)) ?? 0)
    }

    private static func entries(of directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { !$0.hasPrefix(".") }.sorted()
    }

    /// The nearest `presets` (or `share/sordino/presets`) directory in the executable's directory or
    /// above it. A bare command
    /// name is looked up in `PATH`; symbolic links are resolved.
    static func presetsAbove(executable: String, environment: [String: String]) -> String? {
        var path = executable
        if !path.contains("/") {
            let directories = (environment["PATH"] ?? "").split(separator: ":").map(String.init)
            guard let hit = directories.first(where: { FileAccess.isRegularFile(FileAccess.join($0, executable)) })
            else { return nil }
            path = FileAccess.join(hit, executable)
        }
        var directory = URL(fileURLWithPath: path).resolvingSymlinksInPath().deletingLastPathComponent()
        while true {
            let presets = directory.appendingPathComponent("presets").path
            if FileAccess.isDirectory(presets) { return presets }
            // `make install PREFIX=…` puts them in PREFIX/share/sordino/presets beside PREFIX/bin.
            let installed = directory.appendingPathComponent("share/sordino/presets").path
            if FileAccess.isDirectory(installed) { return installed }
            let up = directory.deletingLastPathComponent()
            if up.path == directory.path || directory.path == "/" { return nil }
            directory = up
        }
    }
}

/// What `PresetLocator.resolve` found: the preset file, and the files of its folder that were
/// passed over because they do not load.
public struct PresetChoice: Sendable, Equatable {
    /// The `NAME.json` to load.
    public var path: String
    /// Files of the folder that do not load and were not chosen (another rate, or a preset before
    /// them in the choosing order); empty for a preset named by file. Log each as a warning.
    public var skipped: [SkippedPreset]

    public init(path: String, skipped: [SkippedPreset]) {
        self.path = path
        self.skipped = skipped
    }
}

/// A file in a folder of presets whose `sampleRate` cannot be read, and why.
public struct SkippedPreset: Sendable, Equatable, CustomStringConvertible {
    /// The file, `folder/NAME.json`.
    public var path: String
    /// Why it does not load; its description names the file and ends with what to do.
    public var error: PresetError
    /// The rates in Hz it seems to be for, from its raw text and its name's suffix; empty when unknown.
    public var sampleRates: [Int]

    public init(path: String, error: PresetError, sampleRates: [Int]) {
        self.path = path
        self.error = error
        self.sampleRates = sampleRates
    }

    /// A warning line, e.g. "passed over a 16000 Hz preset file that does not load: …".
    public var description: String {
        let rates = sampleRates.isEmpty ? "" : sampleRates.map(String.init).joined(separator: " or ") + " Hz "
        return "passed over a \(rates)preset file that does not load: \(error)"
    }
}
