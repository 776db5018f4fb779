// SPDX-License-Identifier: GPL-3.0-or-later
// Everything an Engine is built from: STFT, solver and mask settings, channels and block bound.

/// Settings of one engine. A preset supplies most of them; the host supplies channels and block size.
/// `validate(basis:)` accepts only what the real-time path supports.
public struct EngineConfiguration: Sendable, Equatable, Codable {
    /// Sample rate in Hz. The engine is rate-agnostic; it is kept to convert times (ms) to samples.
    public var sampleRate: Int = 16_000
    /// Window length N in samples: the span of one frame, and the engine's latency.
    public var frameLength: Int = 512
    /// Hop H in samples between consecutive frames.
    public var hopLength: Int = 128
    /// FFT size in samples, ≥ frameLength (zero padding); bins = fftLength / 2 + 1.
    public var fftLength: Int = 512
    public var window: WindowShape = .sqrtHann
    /// q in V = |X|^q: 1 magnitude, 2 power.
    public var spectrumExponent: Int = 1
    /// β of the activation solve: 0 (Itakura–Saito), 1 (KL) or 2 (Euclidean).
    public var beta: BetaDivergence = 1
    /// Multiplicative updates per frame (warm-started from the previous frame). 0…`maximumIterations`.
    public var iterations: Int = 10
    /// Upper bound for `iterations`, also when changed live; fixes the worst-case cost per hop.
    public var maximumIterations: Int = 64
    /// L1 penalty λ on activations (the rate of an exponential prior), ≥ 0, in units of V.
    public var sparsity: Float = 0
    /// Lower bound on every activation, as a fraction of the cold-start value ΣV/ΣW of the frame,
    /// 0…1. It keeps atoms within reach of a few warm-started updates, and measured on the dev set
    /// it also regularises the solve (a generic noise basis explains speech less eagerly).
    public var activationFloor: Float = 0
    /// Extra noise atoms re-learned online from noise-only frames (0…32; 0 disables adaptation).
    /// They start as averages of the preset's noise atoms; see `NoiseAdaptation`.
    public var adaptiveNoiseRank: Int = 0
    /// Memory of the adaptive noise atoms in ms of noise-only audio (forgetting time constant).
    public var adaptiveNoiseMemoryMilliseconds: Float = 2000
    /// Highest frequency in Hz the basis carries information at (`sordino train --band-limit-hz`):
    /// the activations are solved on the `solvedBinCount` bins below it only, and the bins above
    /// follow the top band below it (`HighBand`). nil: every bin is solved. The basis must hold no
    /// weight at or above `solvedBinCount` except in atoms that hold none below (the flat high-band
    /// atoms, left out of the solve).
    public var bandLimitHertz: Float? = nil
    /// Lower bound on the NMF noise estimate N̂, in dB relative to each bin's mean spectrum over
    /// noise-only frames (−120…20; 500 ms memory); nil: no bound. See `boundNoiseEstimate`.
    public var noiseBoundDecibels: Float? = nil
    /// Mask floor in dB (−120…0) where speech is absent, with the speech-presence stage that also
    /// lifts the mask where speech is present (`SpeechPresence`); nil: no stage. `floorDecibels`
    /// then applies where speech is present. Needs no noise bound: the stage keeps the noise-only mean itself.
    public var absentFloorDecibels: Float? = nil
    /// The learned gain refinement after the mask (`GainRefinement`), and how its band gains meet
    /// the mask; nil: no stage. A mode other than `.observe` needs the engine's `gainModel`; with it,
    /// `absentFloorDecibels` is the floor where the network's gain is 0 (and `SpeechPresence` is off).
    public var gainRefinement: GainRefinementMode? = nil
    /// Time in ms (0…1000) in which a band gain of the learned stage may fall at most ×0.6 (the
    /// hold against falling, RNNoise's release; 10 ms unless a preset sets it); 0: no hold, each
    /// frame's network gain is taken as it is.
    public var gainReleaseMilliseconds: Float = 10
    /// p in G = Ŝ^p / (Ŝ^p + N̂^p): 1 or 2.
    public var maskExponent: Int = 2
    /// Attenuation limit in dB (≤ 0): the mask never goes below 10^(floor/20).
    public var floorDecibels: Float = -20
    /// Wet/dry mix, 0…1: 0 is the delayed input exactly, 1 is fully processed.
    public var wet: Float = 1
    /// Time constant in ms of one-pole smoothing of the mask across frames; 0 disables it.
    public var maskSmoothingMilliseconds: Float = 0
    /// Time constant in ms with which live control changes (floor, wet, bypass) are followed.
    public var controlSmoothingMilliseconds: Float = 20
    /// Audio channels processed in lockstep.
    public var channelCount: Int = 1
    /// Largest block the host means to pass, in samples (1…2²⁰). Advisory: `process` handles any
    /// length through its hop FIFO with the same arithmetic, so nothing is sized by it.
    public var maximumBlockLength: Int = 8192
    /// One mask for all channels, solved on their mean spectrum, instead of one per channel.
    public var linkChannels: Bool = false
    /// Spread each hop's work (analysis, solve iterations, mask, synthesis) over the blocks until the
    /// next hop instead of doing it in the block that completes the hop, at the cost of one hop of
    /// latency: a host whose period is shorter than the hop then has no period that carries a whole
    /// solve. The output is the same arithmetic, one hop later.
    public var spreadsHopWork: Bool = false

    public init() {}

    /// Bins per frame, `fftLength / 2 + 1`.
    public var binCount: Int { fftLength / 2 + 1 }

    /// Bins the activation solve covers: ⌈bandLimitHertz · fftLength / sampleRate⌉ (the first bin
    /// above the limit, as `sordino train --band-limit-hz` cuts the atoms), within 1…binCount − 1;
    /// `binCount` without a band limit. At 48 kHz with a 1536-point FFT and 7800 Hz: 250 of 769.
    public var solvedBinCount: Int {
        guard let bandLimitHertz else { return binCount }
        let bin = (Double(bandLimitHertz) * Double(fftLength) / Double(sampleRate)).rounded(.up)
        return bin.isFinite ? min(max(Int(bin), 1), binCount - 1) : binCount
    }

    /// Algorithmic latency in samples: the output at time t is the input at t − frameLength
    /// (t − frameLength − hopLength when `spreadsHopWork`), whatever the block length (the hop FIFO
    /// adds hop − 1 … 0 samples that the frame already covers).
    public var latencySamples: Int { frameLength + (spreadsHopWork ? hopLength : 0) }

    /// Latency in milliseconds at `sampleRate`.
    public var latencyMilliseconds: Double { Double(latencySamples) * 1000 / Double(sampleRate) }

    /// Sample rates the engine runs at, Hz.
    public static let sampleRates = 8000...384_000

    /// Throws the first setting the engine cannot run with, naming it and the allowed range.
    /// Returns the window pair it checked (the engine keeps it rather than building it again).
    @discardableResult
    public func validate(basis: Basis) throws(EngineError) -> WindowPair {
        try EngineError.check(Self.sampleRates.contains(sampleRate), .sampleRate, sampleRate, "8000…384000 Hz")
        guard fftLength >= frameLength else {
            throw .fftShorterThanFrame(fftLength: fftLength, frameLength: frameLength)
        }
        let windows = try WindowPair(shape: window, frameLength: frameLength, hopLength: hopLength)
        try EngineError.check(fftLength % 2 == 0 && fftLength <= 65_536, .fftLength, fftLength, "even, ≤ 65536")
        try EngineError.check(spectrumExponent == 1 || spectrumExponent == 2, .spectrumExponent, spectrumExponent, "1 or 2")
        try EngineError.check(beta.isLiveSolvable, .beta, beta.beta, "0, 1 or 2")
        try EngineError.check(maximumIterations >= 1 && maximumIterations <= 1000, .maximumIterations, maximumIterations, "1…1000")
        try EngineError.check(iterations >= 0 && iterations <= maximumIterations, .iterations, iterations, "0…\(maximumIterations)")
        try EngineError.check(sparsity.isFinite && sparsity >= 0, .sparsity, sparsity, "≥ 0")
        try EngineError.check(activationFloor.isFinite && activationFloor >= 0 && activationFloor <= 1,
                  .activationFloor, activationFloor, "0…1")
        try EngineError.check((0...32).contains(adaptiveNoiseRank), .adaptiveNoiseRank, adaptiveNoiseRank, "0…32")
        try EngineError.check(adaptiveNoiseMemoryMilliseconds.isFinite && adaptiveNoiseMemoryMilliseconds >= 10
                  && adaptiveNoiseMemoryMilliseconds <= 600_000,
                  .adaptiveNoiseMemoryMilliseconds, adaptiveNoiseMemoryMilliseconds, "10…600000 ms")
        if let noiseBoundDecibels {
            try EngineError.check(noiseBoundDecibels.isFinite && noiseBoundDecibels >= -120 && noiseBoundDecibels <= 20,
                      .noiseBoundDecibels, noiseBoundDecibels, "−120…20 dB")
        }
        if let absentFloorDecibels {
            try EngineError.check(absentFloorDecibels.isFinite && absentFloorDecibels >= -120 && absentFloorDecibels <= 0,
                      .absentFloorDecibels, absentFloorDecibels, "−120…0 dB")
        }
        try EngineError.check(gainReleaseMilliseconds.isFinite && gainReleaseMilliseconds >= 0
                  && gainReleaseMilliseconds <= 1000,
                  .gainReleaseMilliseconds, gainReleaseMilliseconds, "0…1000 ms")
        if let bandLimitHertz {
            try EngineError.check(bandLimitHertz.isFinite && bandLimitHertz > 0 && 2 * bandLimitHertz < Float(sampleRate),
                                  .bandLimitHertz, bandLimitHertz, "0…\(sampleRate / 2) Hz (below half the sample rate)")
        }
        try EngineError.check(maskExponent == 1 || maskExponent == 2, .maskExponent, maskExponent, "1 or 2")
        try EngineError.check(floorDecibels.isFinite && floorDecibels <= 0 && floorDecibels >= -120,
                  .floorDecibels, floorDecibels, "−120…0 dB")
        try EngineError.check(wet.isFinite && wet >= 0 && wet <= 1, .wet, wet, "0…1")
        try EngineError.check(maskSmoothingMilliseconds.isFinite && maskSmoothingMilliseconds >= 0 && maskSmoothingMilliseconds <= 10_000,
                  .maskSmoothingMilliseconds, maskSmoothingMilliseconds, "0…10000 ms")
        try EngineError.check(controlSmoothingMilliseconds.isFinite && controlSmoothingMilliseconds >= 0
                  && controlSmoothingMilliseconds <= 10_000,
                  .controlSmoothingMilliseconds, controlSmoothingMilliseconds, "0…10000 ms")
        try EngineError.check(channelCount >= 1 && channelCount <= 64, .channelCount, channelCount, "1…64")
        try EngineError.check(maximumBlockLength >= 1 && maximumBlockLength <= 1 << 20, .maximumBlockLength,
                  maximumBlockLength, "1…1048576 samples")
        guard basis.binCount == binCount else {
            throw .basisShape(expectedBins: binCount, basisBins: basis.binCount)
        }
        if bandLimitHertz != nil { try checkBandLimit(basis) }
        return windows
    }

    /// Throws unless every atom of `basis` holds weight either only below `solvedBinCount` or only
    /// at and above it: the band limit must be the one the basis was trained with.
    public func checkBandLimit(_ basis: Basis) throws(EngineError) {
        let limit = solvedBinCount
        for k in 0..<basis.rank {
            var below = false, above = false
            for f in 0..<basis.binCount where basis[bin: f, atom: k] > 0 {
                if f < limit { below = true } else { above = true }
            }
            if below && above {
                throw .invalidSetting(.bandLimitHertz, value: "\(bandLimitHertz ?? 0) Hz",
                                      allowed: "the limit the basis was trained with (atom \(k) has weight below and "
                                          + "above bin \(limit)); remove the band limit or retrain with --band-limit-hz")
            }
        }
    }
}
