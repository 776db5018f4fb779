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

    /// The standard search path: `$SORDINO_PRESET_PATH` (colon-separated), `./presets`, the nearest
    /// `presets` folder above the running executable (e.g. a checkout's `presets/` for
    /// `.build/release/sordino`), `/usr/local/share/sordino/presets`, `/usr/share/sordino/presets`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment,
                executablePath: String? = CommandLine.arguments.first) {
        var directories = (environment["SORDINO_PRESET_PATH"] ?? "").split(separator: ":").map(String.init)
        directories.append("presets")
        if let executablePath, let found = Self.presetsAbove(executable: executablePath, environment: environment) {
            directories.append(found)
        }
        directories += ["/usr/local/share/sordino/presets", "/usr/share/sordino/presets"]
        var seen = Set<String>()
        searchDirectories = directories.filter { seen.insert(FileAccess.absolute($0)).inserted }
    }

    // MARK: - Resolving

    /// The path of the `NAME.json` that `argument` designates. `sampleRate` (Hz) chooses within a
    /// directory of presets; a single file is returned whatever its rate (check it with
    /// `Preset.requireSampleRate`).
    public func resolve(_ argument: String, sampleRate: Int?) throws(PresetError) -> String {
        guard !argument.isEmpty else { throw .notFound(argument: argument, searched: []) }
        if argument.contains("/") || argument.hasSuffix(".json") {
            if let found = try candidate(argument, sampleRate: sampleRate) { return found }
            let json = Preset.jsonPath(for: argument)
            throw .notFound(argument: argument, searched: json == argument ? [argument] : [argument, json])
        }
        for directory in searchDirectories {
            if let found = try candidate(FileAccess.join(directory, argument), sampleRate: sampleRate) { return found }
        }
        if let found = try candidate(argument, sampleRate: sampleRate) { return found }
        throw .notFound(argument: argument, searched: searchDirectories + ["the working directory"])
    }

    /// `base` as a directory of presets, as `base.json`, or as a `.json` file; nil when none exists.
    private func candidate(_ base: String, sampleRate: Int?) throws(PresetError) -> String? {
        if FileAccess.isDirectory(base) { return try Self.choose(in: base, sampleRate: sampleRate) }
        let json = Preset.jsonPath(for: base)
        return FileAccess.isRegularFile(json) ? json : nil
    }

    /// The preset in `directory` at `sampleRate`; with no rate, the only rate present.
    /// Among several presets at one rate, a `speech-…` preset (the general-purpose defaults) before
    /// the others, then the first by file name; so a folder of all shipped presets gives
    /// `speech-48k` at 48 kHz, not `lowlatency-48k`.
    static func choose(in directory: String, sampleRate: Int?) throws(PresetError) -> String {
        let presets = presetFiles(in: directory)
        let rates = Array(Set(presets.map(\.sampleRate))).sorted()
        guard let sampleRate else {
            if rates.count == 1, let only = presets.first { return only.path }
            if rates.isEmpty { throw .notFound(argument: directory, searched: [directory]) }
            throw .sampleRateRequired(directory: directory, available: rates)
        }
        let atRate = presets.filter { $0.sampleRate == sampleRate }
        let preferred = atRate.first { URL(fileURLWithPath: $0.path).lastPathComponent.hasPrefix("speech-") }
        guard let match = preferred ?? atRate.first else {
            throw .noPresetForRate(requested: sampleRate, available: rates, directory: directory)
        }
        return match.path
    }

    /// The preset in `directory` for a file at `sampleRate` Hz: the one at that rate (as `choose`),
    /// else at the nearest rate below it, else at the lowest rate present (the file is converted
    /// to it). Returns its path and rate.
    public static func chooseNearest(in directory: String, sampleRate: Int) throws(PresetError)
        -> (path: String, sampleRate: Int)
    {
        let rates = Array(Set(presetFiles(in: directory).map(\.sampleRate))).sorted()
        guard let rate = rates.last(where: { $0 <= sampleRate }) ?? rates.first else {
            throw .notFound(argument: directory, searched: [directory])
        }
        return (try choose(in: directory, sampleRate: rate), rate)
    }

    // MARK: - Listing

    /// Every preset in the search directories, in search order: `NAME.json` files (name NAME) and
    /// directories of presets (name = the directory's, one entry per file). Where a name and rate
    /// occur twice, only the one `resolve` would choose is listed. Unreadable files are skipped.
    public func list() -> [(name: String, path: String, sampleRate: Int)] {
        var result: [(name: String, path: String, sampleRate: Int)] = []
        var seen = Set<String>()
        func add(_ name: String, _ path: String, _ sampleRate: Int) {
            if seen.insert("\(name)@\(sampleRate)").inserted { result.append((name, path, sampleRate)) }
        }
        for directory in searchDirectories where FileAccess.isDirectory(directory) {
            for preset in Self.presetFiles(in: directory) { add(preset.name, preset.path, preset.sampleRate) }
            for entry in Self.entries(of: directory) {
                let subdirectory = FileAccess.join(directory, entry)
                guard FileAccess.isDirectory(subdirectory) else { continue }
                for preset in Self.presetFiles(in: subdirectory) { add(entry, preset.path, preset.sampleRate) }
            }
        }
        return result
    }

    // MARK: - Helpers

    /// `*.json` files directly in `directory` whose `sampleRate` reads as an integer, sorted by name.
    static func presetFiles(in directory: String) -> [(name: String, path: String, sampleRate: Int)] {
        struct RateProbe: Decodable { var sampleRate: Int }
        return entries(of: directory).compactMap { entry in
            guard entry.hasSuffix(".json") else { return nil }
            let path = FileAccess.join(directory, entry)
            guard let bytes = try? FileAccess.read(path, limit: FileAccess.maximumJSONBytes),
                  let probe = try? JSONDecoder().decode(RateProbe.self, from: Data(bytes)) else { return nil }
            return (String(entry.dropLast(".json".count)), path, probe.sampleRate)
        }
    }

    private static func entries(of directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { !$0.hasPrefix(".") }.sorted()
    }

    /// The nearest `presets` directory in the executable's directory or above it. A bare command
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
            let up = directory.deletingLastPathComponent()
            if up.path == directory.path || directory.path == "/" { return nil }
            directory = up
        }
    }
}
