// SPDX-License-Identifier: GPL-3.0-or-later
// Typed errors of the offline factorisation: each names the bad value and says what to do.

import SordinoDSP

/// Why a factorisation or a training run could not start. Thrown before any work is done.
public enum NMFError: Error, Equatable, CustomStringConvertible {
    case invalidOption(name: String, value: String, allowed: String)
    case shapeMismatch(what: String, expected: String, actual: String)
    /// A data value that is negative, NaN or infinite, at (row, column) of V.
    case invalidData(row: Int, column: Int, value: Float)
    case noFrames(what: String)
    /// A fixed basis has `basisBins` rows but the STFT of `frameLength` samples gives `bins`.
    case basisBins(basisBins: Int, atoms: Int, frameLength: Int, bins: Int)
    /// The objective became NaN or infinite at `pass`: the updates diverged.
    case diverged(pass: Int, objective: Double)
    case engine(EngineError)
    /// OpenBLAS cannot be loaded: what the loader said, and what to do.
    case matrixProductsUnavailable(String)

    public var description: String {
        switch self {
        case let .invalidOption(name, value, allowed):
            "\(name) = \(value) is not allowed: use \(allowed)."
        case let .shapeMismatch(what, expected, actual):
            "\(what) is \(actual) but must be \(expected): check that it was made for this data and rank."
        case let .invalidData(row, column, value):
            "V[\(row), \(column)] = \(value): NMF data must be finite and ≥ 0. Build V with `Spectrogram` "
                + "or `TrainingSet`, which give |X|^q."
        case let .noFrames(what):
            "\(what) has no usable frames (all digital silence or too quiet): supply longer or louder recordings."
        case let .basisBins(basisBins, atoms, frameLength, bins):
            "the basis is \(basisBins) × \(atoms) (bins × atoms) but frame length \(frameLength) gives \(bins) bins: "
                + "use --frame-length \(2 * (basisBins - 1)) (or leave it out), or a basis made for frame length \(frameLength)."
        case let .diverged(pass, objective):
            "the objective became \(objective) at pass \(pass): the updates diverged. Use --algorithm mm "
                + "(majorisation-minimisation never raises the objective), or fewer passes."
        case let .engine(error):
            error.description
        case let .matrixProductsUnavailable(message):
            message
        }
    }
}

extension NMFError: SettingRangeError {
    public static func outOfRange(_ option: String, value: String, allowed: String) -> NMFError {
        .invalidOption(name: option, value: value, allowed: allowed)
    }
}
