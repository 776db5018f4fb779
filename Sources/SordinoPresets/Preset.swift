// SPDX-License-Identifier: GPL-3.0-or-later
// A preset: its metadata and basis, loaded with every check, written as NAME.json plus NAME.basis, and summarised.

import Foundation
import SordinoDSP

/// A loaded preset: the settings document and the basis it describes. `load` returns only presets
/// whose every setting the engine accepts and whose basis matches its header and checksum.
public struct Preset: Sendable, Equatable {
    public var metadata: PresetMetadata
    public var basis: Basis
    /// The gain refinement's network; present exactly when `metadata.gain` is.
    public var gainModel: GainModel?

    public init(metadata: PresetMetadata, basis: Basis, gainModel: GainModel? = nil) {
        self.metadata = metadata
        self.basis = basis
        self.gainModel = gainModel
    }

    /// A preset from an engine configuration and a trained basis; ranks come from the basis.
    public init(name: String, description: String, configuration: EngineConfiguration, basis: Basis,
                provenance: PresetMetadata.Provenance) {
        metadata = PresetMetadata(name: name, description: description, configuration: configuration,
                                  speechRank: basis.speechRank, noiseRank: basis.noiseRank, provenance: provenance)
        self.basis = basis
    }

    // MARK: - Engine settings

    /// The engine settings for one channel and blocks of up to 8192 samples.
    public var engineConfiguration: EngineConfiguration { metadata.engineConfiguration() }

    /// The engine settings with the host's channel count, block bound and linking.
    public func engineConfiguration(channelCount: Int, maximumBlockLength: Int = 8192,
                                    linkChannels: Bool = false) -> EngineConfiguration {
        metadata.engineConfiguration(channelCount: channelCount, maximumBlockLength: maximumBlockLength,
                                     linkChannels: linkChannels)
    }

    /// Throws `.sampleRateMismatch` unless the audio's rate `hertz` is the preset's.
    public func requireSampleRate(_ hertz: Int) throws(PresetError) {
        guard hertz == metadata.sampleRate else {
            throw .sampleRateMismatch(presetHz: metadata.sampleRate, wantedHz: hertz)
        }
    }

    // MARK: - Validation

    /// Checks the settings (`PresetMetadata.validate`, which runs the engine's own check once) and
    /// that the basis has the shape the metadata states; `Basis` itself guarantees finite values ≥ 0.
    /// `path` only labels errors.
    public func validate(path: String = "") throws(PresetError) {
        try metadata.validate(path: path)
        let reference = metadata.basis
        for (field, json, actual) in [("basis.binCount", reference.binCount, basis.binCount),
                                      ("basis.speechRank", reference.speechRank, basis.speechRank),
                                      ("basis.noiseRank", reference.noiseRank, basis.noiseRank)] where json != actual {
            throw .basisMismatch(path: path, field: field, json: "\(json)", basis: "\(actual)")
        }
        do {
            try engineConfiguration.checkBandLimit(basis)
        } catch {
            throw PresetValidation.map(error, path: path)
        }
        switch (metadata.gain, gainModel) {
        case (nil, nil): break
        case let (reference?, model?):
            let pairs = [("gain.featureCount", reference.featureCount, model.featureCount),
                         ("gain.inputUnits", reference.inputUnits, model.inputUnits),
                         ("gain.hiddenUnits", reference.hiddenUnits, model.hiddenUnits),
                         ("gain.bandCount", reference.bandCount, model.bandCount)]
            for (field, json, actual) in pairs where json != actual {
                throw .invalidGainFile(path: path, detail: "\(field) is \(json) in the JSON but \(actual) in the weights")
            }
        case (_?, nil):
            throw .invalidGainFile(path: path, detail: "the JSON names a gain model but none was loaded")
        case (nil, _?):
            throw .invalidGainFile(path: path, detail: "a gain model without a `gain` field in the JSON")
        }
    }

    // MARK: - Files

    /// This preset as `write(directory:name:)` stores it: basis file `NAME.basis`, ranks and bin
    /// count from the basis, checksum of its payload.
    public func stamped(name: String) -> Preset {
        var copy = self
        copy.metadata.basis = .init(file: "\(name).basis", speechRank: basis.speechRank, noiseRank: basis.noiseRank,
                                    binCount: basis.binCount,
                                    checksum: BasisFile.checksumString(BasisFile.crc32(BasisFile.payload(of: basis))))
        if let model = gainModel, let reference = metadata.gain {
            copy.metadata.gain = .init(file: "\(name).gain", mode: reference.mode, model: model,
                                       checksum: BasisFile.checksumString(BasisFile.crc32(GainFile.payload(of: model))),
                                       command: reference.command, releaseMilliseconds: reference.releaseMilliseconds)
        }
        return copy
    }

    /// Makes the folder a preset will be written to (and its parents) if missing and checks that
    /// it is writable: a command that computes for minutes calls it first, so it fails before.
    public static func prepareDirectory(_ directory: String) throws(PresetError) {
        try FileAccess.makeWritableDirectory(directory)
    }

    /// Validates, then writes `directory/NAME.basis` and `directory/NAME.json` (each atomically,
    /// basis first; the folder is made if missing), filling in the metadata's basis reference.
    /// Returns the JSON's path.
    @discardableResult
    public func write(directory: String, name: String) throws(PresetError) -> String {
        guard !name.isEmpty, name != ".", name != "..", !name.contains("/"), !name.contains("\0") else {
            throw .invalidName(name)
        }
        let preset = stamped(name: name)
        let jsonPath = FileAccess.join(directory, "\(name).json")
        try preset.validate(path: jsonPath)
        try FileAccess.makeWritableDirectory(directory)
        let json = try preset.metadata.encodedJSON()
        try FileAccess.write(BasisFile.encode(basis, seed: metadata.provenance.seed),
                             to: FileAccess.join(directory, preset.metadata.basis.file))
        if let model = gainModel, let reference = preset.metadata.gain {
            try FileAccess.write(GainFile.encode(model), to: FileAccess.join(directory, reference.file))
        }
        try FileAccess.write([UInt8](json), to: jsonPath)
        return jsonPath
    }

    /// Loads and checks a preset. `path` is `NAME.json`, `NAME` (".json" is added) or `NAME.basis`;
    /// the basis is the file named by `basis.file`, next to the JSON.
    public static func load(path: String) throws(PresetError) -> Preset {
        let jsonPath = jsonPath(for: path)
        guard FileAccess.isRegularFile(jsonPath) else {
            throw .notFound(argument: path, searched: jsonPath == path ? [path] : [path, jsonPath])
        }
        let metadata = try PresetMetadata.decode(Data(FileAccess.read(jsonPath, limit: FileAccess.maximumJSONBytes)),
                                                 path: jsonPath)
        try metadata.validate(path: jsonPath)
        let reference = metadata.basis
        let file = reference.file
        guard !file.isEmpty, file != ".", file != "..", !file.contains("/") else {
            throw .invalidSetting(path: jsonPath, field: .basisFile, value: "\"\(file)\"",
                                  allowed: "a file name next to the JSON, without '/', e.g. \"NAME.basis\"")
        }
        guard let checksum = BasisFile.parseChecksum(reference.checksum) else {
            throw .invalidSetting(path: jsonPath, field: .basisChecksum, value: "\"\(reference.checksum)\"",
                                  allowed: "8 hexadecimal digits (the CRC-32 of the basis payload)")
        }
        let basisPath = FileAccess.join(FileAccess.parent(of: jsonPath), file)
        let (header, basis) = try BasisFile.decode(FileAccess.read(basisPath, limit: FileAccess.maximumBasisBytes),
                                                   path: basisPath)
        let pairs: [(String, String, String)] = [
            ("basis.binCount", "\(reference.binCount)", "\(header.binCount)"),
            ("basis.speechRank", "\(reference.speechRank)", "\(header.speechRank)"),
            ("basis.noiseRank", "\(reference.noiseRank)", "\(header.noiseRank)"),
            ("basis.checksum", BasisFile.checksumString(checksum), BasisFile.checksumString(header.checksum)),
            ("provenance.seed", "\(metadata.provenance.seed)", "\(header.seed)"),
        ]
        for (field, json, stored) in pairs where json != stored {
            throw .basisMismatch(path: jsonPath, field: field, json: json, basis: stored)
        }
        var gainModel: GainModel?
        if let gain = metadata.gain {
            let gainPath = FileAccess.join(FileAccess.parent(of: jsonPath), gain.file)
            let (model, checksum) = try GainFile.decode(FileAccess.read(gainPath, limit: FileAccess.maximumBasisBytes),
                                                        path: gainPath)
            guard BasisFile.parseChecksum(gain.checksum) == checksum else {
                throw .invalidGainFile(path: jsonPath, detail: "gain.checksum is \"\(gain.checksum)\" but the weights' "
                                           + "CRC-32 is \(BasisFile.checksumString(checksum))")
            }
            gainModel = model
        }
        let preset = Preset(metadata: metadata, basis: basis, gainModel: gainModel)
        try preset.validate(path: jsonPath)
        return preset
    }

    /// The JSON file `load` reads for `path`.
    static func jsonPath(for path: String) -> String {
        if path.hasSuffix(".json") { return path }
        if path.hasSuffix(".basis") { return String(path.dropLast(".basis".count)) + ".json" }
        return path + ".json"
    }

    // MARK: - Summary

    /// The text `sordino inspect` prints: settings with times in samples and ms, shapes, sizes,
    /// whether the stated checksum matches the basis, and provenance.
    public func summary() -> String {
        let m = metadata, rate = Double(m.sampleRate)
        func ms(_ samples: Int) -> String { String(format: "%.2f ms", Double(samples) * 1000 / rate) }
        func number(_ x: some BinaryFloatingPoint) -> String { String(format: "%g", Double(x)) }
        let spectrumName = m.solver.spectrumExponent == 2 ? "power" : "magnitude"
        let payload = BasisFile.payload(of: basis)
        let computed = BasisFile.checksumString(BasisFile.crc32(payload))
        let stated = m.basis.checksum.lowercased()
        let checksumState = stated == computed ? "OK" : "MISMATCH (metadata says \(stated.isEmpty ? "nothing" : stated))"
        var lines = [
            "preset       \(m.name) (schema \(m.schemaVersion))",
            "description  \(m.description)",
            "sample rate  \(m.sampleRate) Hz",
            "STFT         frame \(m.stft.frameLength) samples (\(ms(m.stft.frameLength))), "
                + "hop \(m.stft.hopLength) samples (\(ms(m.stft.hopLength))), "
                + "FFT \(m.stft.fftLength) samples (\(m.basis.binCount) bins), window \(m.stft.window.rawValue)",
            "latency      \(m.stft.frameLength) samples (\(ms(m.stft.frameLength)))",
            "solver       \(m.solver.beta), V = |X|^\(m.solver.spectrumExponent) (\(spectrumName)), "
                + "\(m.solver.iterations) iterations (max \(m.solver.maximumIterations)), "
                + "sparsity \(number(m.solver.sparsity)), activation floor \(number(m.solver.activationFloor)), "
                + "adaptive noise atoms \(m.solver.adaptiveNoiseRank) (memory \(number(m.solver.adaptiveNoiseMemoryMilliseconds)) ms), "
                + (m.solver.bandLimitHertz.map {
                    "solved below \(number($0)) Hz (\(engineConfiguration.solvedBinCount) of \(m.basis.binCount) bins)"
                } ?? "every bin solved"),
            "mask         exponent \(m.mask.exponent), floor \(number(m.mask.floorDecibels)) dB, "
                + "smoothing \(number(m.mask.smoothingMilliseconds)) ms, wet \(number(m.mask.wet)), noise bound "
                + (m.mask.noiseBoundDecibels.map { "\(number($0)) dB over the noise-only mean" } ?? "none")
                + (m.gain == nil ? ", speech presence " : ", learned gain's floor ")
                + (m.mask.absentFloorDecibels.map { "on (floor \(number($0)) dB where absent)" } ?? "off"),
            "basis        \(basis.binCount) bins × \(basis.rank) atoms (\(basis.speechRank) speech + "
                + "\(basis.noiseRank) noise), per-atom penalties \(basis.atomPenalties == nil ? "no" : "yes"), "
                + "file \(m.basis.file), \(BasisFile.headerByteCount + payload.count) bytes "
                + "(\(payload.count) payload)",
            "checksum     CRC-32 \(computed) \(checksumState)",
            "gain         " + (m.gain.map {
                "\($0.mode.rawValue), \($0.bandCount) bands, \($0.featureCount) features → \($0.inputUnits) → GRU "
                    + "\($0.hiddenUnits)"
                    + ($0.releaseMilliseconds.map {
                        $0 == 0 ? ", no hold against falling" : ", gains fall at most ×0.6 per \(number($0)) ms"
                    } ?? "")
                    + ", file \($0.file), CRC-32 \($0.checksum); trained by \($0.command)"
            } ?? "none"),
            "trained on   \(m.provenance.trainingData)",
            "method       \(m.provenance.method), seed \(m.provenance.seed)",
            "date         \(m.provenance.date)",
            "command      \(m.provenance.command)",
        ]
        if let scores = m.provenance.devScores, !scores.isEmpty {
            lines.append("dev scores   " + scores.keys.sorted()
                .map { "\($0) \(String(format: "%.3f", scores[$0] ?? 0))" }.joined(separator: ", "))
        } else {
            lines.append("dev scores   none recorded")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
