// SPDX-License-Identifier: GPL-3.0-or-later
// Checks a preset's settings with the engine's own rules and reports failures by JSON field name.

import SordinoDSP

extension PresetMetadata {
    /// Largest FFT the engine accepts (`EngineConfiguration.validate`), in samples.
    public static let maximumFFTLength = 65_536

    /// Checks every setting against what the engine runs with (`EngineConfiguration.validate`),
    /// plus the basis reference's shape. Does not read files. `path` only labels errors.
    public func validate(path: String = "") throws(PresetError) {
        func invalid(_ field: PresetField, _ value: some CustomStringConvertible, _ allowed: String) -> PresetError {
            .invalidSetting(path: path, field: field, value: "\(value)", allowed: allowed)
        }
        guard schemaVersion == Self.currentSchemaVersion else {
            throw .unsupportedSchemaVersion(path: path, found: schemaVersion, supported: Self.currentSchemaVersion)
        }
        // Bounds checked here first: the engine's check builds the window, so an absurd
        // frame length must not reach it.
        guard stft.frameLength >= 16, stft.frameLength <= Self.maximumFFTLength else {
            throw invalid(.frameLength, stft.frameLength, "16…\(Self.maximumFFTLength) samples")
        }
        guard stft.fftLength >= stft.frameLength, stft.fftLength <= Self.maximumFFTLength, stft.fftLength % 2 == 0 else {
            throw invalid(.engine(.fftLength), stft.fftLength,
                          "even, ≥ stft.frameLength (\(stft.frameLength)), ≤ \(Self.maximumFFTLength) samples")
        }
        // Before the gain's checks, which derive the bands from it (a rate of 1 Hz was reported as
        // a wrong `gain.bandCount`).
        guard EngineConfiguration.sampleRates.contains(sampleRate) else {
            throw invalid(.engine(.sampleRate), sampleRate, "8000…384000 Hz")
        }
        guard basis.speechRank >= 1 else { throw invalid(.speechRank, basis.speechRank, "≥ 1") }
        guard basis.noiseRank >= 1 else { throw invalid(.noiseRank, basis.noiseRank, "≥ 1") }
        guard basis.binCount == stft.fftLength / 2 + 1 else {
            throw .binCountMismatch(path: path, binCount: basis.binCount, fftLength: stft.fftLength)
        }
        if let gain {
            let bands = GainBands(sampleRate: sampleRate, fftLength: stft.fftLength).bandCount
            guard gain.mode != .observe else { throw invalid(.engine(.gainRefinement), gain.mode.rawValue, "multiply, lift, replace or shape") }
            guard gain.bandCount == bands else {
                throw invalid(.gainBandCount, gain.bandCount, "\(bands) (the gain bands at this rate and FFT length)")
            }
            guard gain.featureCount == GainRefinement.featureCount(bandCount: bands) else {
                throw invalid(.gainFeatureCount, gain.featureCount, "\(GainRefinement.featureCount(bandCount: bands))")
            }
            guard !gain.file.isEmpty, gain.file != ".", gain.file != "..", !gain.file.contains("/") else {
                throw invalid(.gainFile, "\"\(gain.file)\"", "a file name next to the JSON, without '/'")
            }
        }
        do {
            // A 1 + 1 atom stand-in: the engine only checks the basis's bin count here.
            let probe = try Basis(binCount: basis.binCount, speechRank: 1, noiseRank: 1,
                                  values: [Float](repeating: 0, count: 2 * basis.binCount))
            try engineConfiguration().validate(basis: probe)
        } catch {
            throw PresetValidation.map(error, path: path)
        }
    }
}

/// Maps the engine's errors to preset fields.
enum PresetValidation {
    static func map(_ error: EngineError, path: String) -> PresetError {
        switch error {
        case let .invalidFFTLength(n):
            .invalidSetting(path: path, field: .engine(.fftLength), value: "\(n)", allowed: "even, 4…65536 samples")
        case let .invalidFrameLength(n):
            .invalidSetting(path: path, field: .frameLength, value: "\(n)", allowed: "16…65536 samples")
        case let .invalidHopLength(hop, frameLength):
            .invalidSetting(path: path, field: .hopLength, value: "\(hop)",
                            allowed: "1…\(frameLength) samples (stft.frameLength)")
        case let .fftShorterThanFrame(fftLength, frameLength):
            .invalidSetting(path: path, field: .engine(.fftLength), value: "\(fftLength)",
                            allowed: "≥ stft.frameLength (\(frameLength) samples)")
        case let .windowNotOverlapAdding(shape, frameLength, hopLength):
            .invalidSetting(path: path, field: .hopLength, value: "\(hopLength)",
                            allowed: "stft.frameLength / k with k ≥ \(shape == .sqrtHann ? 2 : 3) for a "
                                + "\(shape.rawValue) window, so that it overlap-adds to a constant "
                                + "(e.g. \(frameLength / 4))")
        case let .basisShape(expectedBins, basisBins):
            .basisMismatch(path: path, field: "basis.binCount", json: "\(expectedBins)", basis: "\(basisBins)")
        case .emptyBasis:
            .invalidSetting(path: path, field: .ranks, value: "0", allowed: "≥ 1 each")
        case .nonFiniteBasis:
            .invalidBasisValue(path: path, location: "values", value: "NaN, infinite or negative")
        case let .invalidSetting(setting, value, allowed):
            .invalidSetting(path: path, field: .engine(setting), value: value, allowed: allowed)
        case .outOfMemory:
            .unreadable(path: path, reason: error.description)
        }
    }
}
