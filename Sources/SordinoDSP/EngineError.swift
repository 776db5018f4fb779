// SPDX-License-Identifier: GPL-3.0-or-later
// Typed errors for building an engine: each names the bad value and says how to fix it.

/// Why an `Engine`, `RealFFT` or `WindowPair` could not be built. Thrown only at set-up time.
public enum EngineError: Error, Equatable, CustomStringConvertible {
    case invalidFFTLength(Int)
    case invalidFrameLength(Int)
    case invalidHopLength(hop: Int, frameLength: Int)
    case fftShorterThanFrame(fftLength: Int, frameLength: Int)
    case windowNotOverlapAdding(shape: WindowShape, frameLength: Int, hopLength: Int)
    case basisShape(expectedBins: Int, basisBins: Int)
    case emptyBasis
    case nonFiniteBasis
    case invalidSetting(EngineSetting, value: String, allowed: String)
    case outOfMemory

    public var description: String {
        switch self {
        case let .invalidFFTLength(n):
            "FFT length \(n) is not supported: use an even length of at least 4 (e.g. 512)."
        case let .invalidFrameLength(n):
            "frame length \(n) samples is too short: use at least 16 (e.g. 512 at 16 kHz)."
        case let .invalidHopLength(hop, frameLength):
            "hop length \(hop) samples must lie in 1…\(frameLength) (the frame length); e.g. frame/4."
        case let .fftShorterThanFrame(fftLength, frameLength):
            "FFT length \(fftLength) is shorter than the frame length \(frameLength): "
                + "the FFT must be at least as long as the window."
        case let .windowNotOverlapAdding(shape, frameLength, hopLength):
            "a \(shape.rawValue) window of \(frameLength) samples with a hop of \(hopLength) does not "
                + "overlap-add to a constant, so it cannot reconstruct the input. Use hop = frame/k with "
                + (shape == .sqrtHann ? "k ≥ 2" : "k ≥ 3") + " (e.g. \(frameLength / 4))."
        case let .basisShape(expectedBins, basisBins):
            "the basis has \(basisBins) bins but the STFT gives \(expectedBins) (FFT length / 2 + 1): "
                + "the preset's dictionary was trained with another FFT length; retrain it or fix `fftLength`."
        case .emptyBasis:
            "the basis has no speech or no noise atoms: a preset needs at least one of each."
        case .nonFiniteBasis:
            "the basis holds NaN, infinite or negative values: regenerate it with `sordino train`."
        case let .invalidSetting(setting, value, allowed):
            "\(setting.rawValue) = \(value) is out of range: allowed \(allowed)."
        case .outOfMemory:
            "could not allocate the engine's buffers or FFT plans (out of memory)."
        }
    }
}

/// The settings the engine checks, one case per `EngineConfiguration` property (plus the basis's
/// per-atom penalties), so that an error names its setting as a value the layers above can map
/// exhaustively (the preset format maps each to its JSON field) instead of by string.
public enum EngineSetting: String, Sendable, CaseIterable {
    case sampleRate, fftLength, spectrumExponent, beta, iterations, maximumIterations, sparsity
    case activationFloor, adaptiveNoiseRank, adaptiveNoiseMemoryMilliseconds, noiseBoundDecibels, absentFloorDecibels
    case bandLimitHertz
    case gainRefinement, gainModel, gainReleaseMilliseconds
    case maskExponent, floorDecibels, wet, maskSmoothingMilliseconds, controlSmoothingMilliseconds
    case channelCount, maximumBlockLength
    case atomPenalties = "atom penalties"
}
