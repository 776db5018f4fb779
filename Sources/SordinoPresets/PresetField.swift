// SPDX-License-Identifier: GPL-3.0-or-later
// The preset settings an out-of-range error can name, as values; their dotted JSON paths for messages.

import SordinoDSP

/// A setting of a preset that `PresetError.invalidSetting` names: one of the engine's settings
/// (stored in the JSON field `jsonPath` maps it to) or a field the engine does not check.
/// `description` is the dotted JSON path, e.g. `mask.floorDecibels`.
public enum PresetField: Sendable, Hashable, CustomStringConvertible {
    case engine(EngineSetting)
    case frameLength, hopLength, window
    case speechRank, noiseRank
    /// `basis.speechRank` and `basis.noiseRank` together (the basis has no atoms).
    case ranks
    case basisFile, basisChecksum
    /// The learned gain's fields (`gain.…`) the engine does not check itself.
    case gainBandCount, gainFeatureCount, gainFile

    /// Every field, each once.
    public static let all: [PresetField] = EngineSetting.allCases.map { .engine($0) }
        + [.frameLength, .hopLength, .window, .speechRank, .noiseRank, .ranks, .basisFile, .basisChecksum,
           .gainBandCount, .gainFeatureCount, .gainFile]

    /// The field whose dotted JSON path is `path`, if it is one of these.
    public init?(jsonPath path: String) {
        guard let field = Self.all.first(where: { $0.description == path }) else { return nil }
        self = field
    }

    public var description: String {
        switch self {
        case let .engine(setting): Self.jsonPath(setting)
        case .frameLength: "stft.frameLength"
        case .hopLength: "stft.hopLength"
        case .window: "stft.window"
        case .speechRank: "basis.speechRank"
        case .noiseRank: "basis.noiseRank"
        case .ranks: "basis.speechRank, basis.noiseRank"
        case .basisFile: "basis.file"
        case .basisChecksum: "basis.checksum"
        case .gainBandCount: "gain.bandCount"
        case .gainFeatureCount: "gain.featureCount"
        case .gainFile: "gain.file"
        }
    }

    /// The JSON field that holds each engine setting; exhaustive, so a new setting cannot go unmapped.
    static func jsonPath(_ setting: EngineSetting) -> String {
        switch setting {
        case .sampleRate: "sampleRate"
        case .fftLength: "stft.fftLength"
        case .spectrumExponent: "solver.spectrumExponent"
        case .beta: "solver.beta"
        case .iterations: "solver.iterations"
        case .maximumIterations: "solver.maximumIterations"
        case .sparsity: "solver.sparsity"
        case .activationFloor: "solver.activationFloor"
        case .adaptiveNoiseRank: "solver.adaptiveNoiseRank"
        case .adaptiveNoiseMemoryMilliseconds: "solver.adaptiveNoiseMemoryMilliseconds"
        case .bandLimitHertz: "solver.bandLimitHertz"
        case .noiseBoundDecibels: "mask.noiseBoundDecibels"
        case .absentFloorDecibels: "mask.absentFloorDecibels"
        case .maskExponent: "mask.exponent"
        case .floorDecibels: "mask.floorDecibels"
        case .wet: "mask.wet"
        case .maskSmoothingMilliseconds: "mask.smoothingMilliseconds"
        case .controlSmoothingMilliseconds: "controlSmoothingMilliseconds (not a preset field)"
        case .channelCount: "channelCount (not a preset field)"
        case .maximumBlockLength: "maximumBlockLength (not a preset field)"
        case .atomPenalties: "basis penalties"
        case .gainRefinement: "gain.mode"
        case .gainModel: "gain"
        case .gainReleaseMilliseconds: "gain.releaseMilliseconds"
        }
    }
}
