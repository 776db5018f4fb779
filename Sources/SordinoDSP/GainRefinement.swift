// SPDX-License-Identifier: GPL-3.0-or-later
// The learned, time-aware gain after the Wiener mask: features per band, a small GRU, band gains applied to the mask.

import RealModule

/// How the gain refinement's band gains g (interpolated to bins) meet the Wiener mask G.
public enum GainRefinementMode: String, Codable, Sendable, CaseIterable {
    /// G ← G·g: the network only removes what the NMF mask let through.
    case multiply
    /// G ← max(G, g): the network's gain is a speech-presence lift (like `SpeechPresence`).
    case lift
    /// G ← g: the network's gain alone (the NMF solve only informs it, through the features).
    case replace
    /// G ← g·(g⁴ + (1 − g⁴)·G/Ḡ_b): the network sets each band's level; where it is unsure (g < 1)
    /// the NMF mask's shape within the band (Ḡ_b its band mean) keeps harmonics above the gaps
    /// between them, and where it hears only speech (g → 1) the band passes whole. (With g in place
    /// of g⁴ clean speech passes as well but noisy mixtures lose 0.04 ΔPESQ; with the shape alone,
    /// g·G/Ḡ_b, the 4–8 kHz band of clean speech loses 3.2 dB: docs/QUALITY.md.)
    case shape
    /// Features only, G unchanged: for `sordino gain-features`, which records them to train a model.
    case observe
}

/// The stage (`EngineConfiguration.gainRefinement`). Per frame and stream: `GainFeatures`, one
/// `GainNetwork` step (state carried across frames: the time context the per-frame solve lacks),
/// band gains g held against falling faster than RNNoise lets them (×0.6 per 10 ms, Valin 2018:
/// a gain that drops at once between syllables is what PESQ punishes; the time is
/// `EngineConfiguration.gainReleaseMilliseconds`, 0 for no hold), interpolated to bins, then
/// G ← combine(G, g) by the mode, and the floor
/// `absentFloor + (floor − absentFloor)·g` (with no absent floor, `floor`). Latency: none.
/// A frame runs in three parts so that an engine of several streams steps their networks together
/// (`observe` each stream, one `step`, `apply` to each); `refine` runs them for one stream.
/// Allocation-free after `init`; one stream per channel (linked channels use stream 0).
public struct GainRefinement: ~Copyable {
    /// false: no stage; none of `refine`, `observe`, `step` and `apply` may be called.
    public let enabled: Bool
    let mode: GainRefinementMode
    let featureCount: Int
    let bandCount: Int
    private let binCount: Int
    private let absentFloor: Float?
    /// Fraction of the last frame's band gain that the next may not fall below: 0.6^(hop / release
    /// time), 0 without a hold.
    private let release: Float
    private let features: GainFeatures?
    private let network: GainNetwork?
    private let stateStride: Int
    /// bandCount + 1: the first bin whose band below (`BandInterpolation.lower`) is b, for each b
    /// (bins between two bands' centres, weighted towards the upper one by `weight`), then binCount.
    private let segments: UnsafeMutablePointer<Int>
    private let edges: UnsafeMutablePointer<Int>              // bandCount + 1: `GainBands.edges`
    private let storage: FloatArena
    private let weight: UnsafeMutablePointer<Float>           // binCount: share of the band above
    private let bandScale: UnsafeMutablePointer<Float>        // binCount: 1 / (the mask's band mean + 10⁻⁶) (`.shape`)
    private let binGain: UnsafeMutablePointer<Float>          // binCount: the band gains interpolated to bins
    private let featureBuffers: UnsafeMutablePointer<Float>   // streams × featureCount
    private let previous: UnsafeMutablePointer<Float>         // streams × bandCount
    private let hidden: UnsafeMutablePointer<Float>           // streams × stateStride
    private let gains: UnsafeMutablePointer<Float>            // streams × bandCount
    private let held: UnsafeMutablePointer<Float>             // streams × bandCount: release × last gains
    private let primed: UnsafeMutablePointer<Bool>            // streams
    private let observed: UnsafeMutablePointer<Bool>          // streams: features waiting for `step`
    /// Streams the stage serves (the engine's streams).
    private let streams: Int
    /// Up to eight streams' features, hidden states and gains for one step together.
    private let batchFeatures: UnsafeMutablePointer<UnsafePointer<Float>?>
    private let batchHidden: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    private let batchGains: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>

    /// Features per frame for `bandCount` bands (`GainFeatures`).
    public static func featureCount(bandCount: Int) -> Int { GainFeatures.perBand * bandCount + GainFeatures.global }

    /// The stage `configuration.gainRefinement` asks for (disabled when nil). Not real-time safe.
    init(_ configuration: EngineConfiguration, model: GainModel?) throws(EngineError) {
        if let mode = configuration.gainRefinement {
            try self.init(mode: mode, model: model, absentFloorDecibels: configuration.absentFloorDecibels,
                          sampleRate: configuration.sampleRate, fftLength: configuration.fftLength,
                          spectrumExponent: configuration.spectrumExponent, streams: configuration.channelCount,
                          hopSeconds: Float(configuration.hopLength) / Float(configuration.sampleRate),
                          releaseSeconds: configuration.gainReleaseMilliseconds / 1000)
        } else {
            self.init()
        }
    }

    /// A disabled stage (allocates nothing worth mentioning).
    init() {
        enabled = false; mode = .observe; featureCount = 0; bandCount = 0; binCount = 0; absentFloor = nil; release = 0
        features = nil; network = nil; stateStride = 0
        segments = .allocate(capacity: 1)
        edges = .allocate(capacity: 1)
        var arena = FloatArena(capacity: 0)
        weight = arena.take(0); bandScale = arena.take(0); binGain = arena.take(0); featureBuffers = arena.take(0); previous = arena.take(0)
        hidden = arena.take(0); gains = arena.take(0); held = arena.take(0)
        storage = arena
        primed = .allocate(capacity: 1)
        observed = .allocate(capacity: 1)
        streams = 0
        batchFeatures = .allocate(capacity: 1)
        batchHidden = .allocate(capacity: 1)
        batchGains = .allocate(capacity: 1)
    }

    /// Not real-time safe. `model` is required unless `mode` is `.observe`, and must have the
    /// band and feature counts of this rate's `GainBands`. `releaseSeconds`: the time in which a
    /// band gain may fall at most ×0.6, 0 for no hold.
    init(mode: GainRefinementMode, model: GainModel?, absentFloorDecibels: Float?, sampleRate: Int,
         fftLength: Int, spectrumExponent: Int, streams: Int, hopSeconds: Float,
         releaseSeconds: Float = 0.010) throws(EngineError) {
        let bands = GainBands(sampleRate: sampleRate, fftLength: fftLength)
        let features = try GainFeatures(bands: bands, sampleRate: sampleRate, fftLength: fftLength,
                                        spectrumExponent: spectrumExponent)
        var network: GainNetwork?
        if mode != .observe {
            guard let model else {
                throw .invalidSetting(.gainModel, value: "none", allowed: "a trained model for mode \(mode.rawValue)")
            }
            guard model.bandCount == bands.bandCount, model.featureCount == features.featureCount else {
                throw .invalidSetting(.gainModel, value: "\(model.bandCount) bands, \(model.featureCount) features",
                                      allowed: "\(bands.bandCount) bands, \(features.featureCount) features at "
                                          + "\(sampleRate) Hz with FFT \(fftLength); train the model for this preset")
            }
            network = GainNetwork(model, streams: streams)
        }
        enabled = true
        self.mode = mode
        featureCount = features.featureCount
        bandCount = bands.bandCount
        binCount = bands.binCount
        absentFloor = absentFloorDecibels.map { Float.pow(10, $0 / 20) }
        release = releaseSeconds > 0 ? Float.pow(0.6, hopSeconds / releaseSeconds) : 0
        stateStride = network?.stateLength ?? 0
        let interpolation = BandInterpolation(bands)
        segments = .allocate(capacity: bands.bandCount + 1)
        let lower = interpolation.lower, bins = bands.binCount
        for b in 0...bands.bandCount { segments[b] = lower.firstIndex { $0 >= b } ?? bins }
        edges = .allocate(capacity: bands.edges.count)
        edges.initialize(from: bands.edges, count: bands.edges.count)
        var arena = FloatArena(capacity: 3 * binCount + streams * (featureCount + 3 * bandCount + stateStride))
        weight = arena.take(binCount)
        bandScale = arena.take(binCount)
        binGain = arena.take(binCount)
        featureBuffers = arena.take(streams * featureCount)
        previous = arena.take(streams * bandCount)
        hidden = arena.take(streams * stateStride)
        gains = arena.take(streams * bandCount)
        held = arena.take(streams * bandCount)
        storage = arena
        for f in 0..<binCount { weight[f] = interpolation.weight[f] }
        for i in 0..<(streams * bandCount) { gains[i] = 1 }
        primed = .allocate(capacity: streams)
        primed.initialize(repeating: false, count: streams)
        observed = .allocate(capacity: streams)
        observed.initialize(repeating: false, count: streams)
        self.streams = streams
        batchFeatures = .allocate(capacity: 8)
        batchFeatures.initialize(repeating: nil, count: 8)
        batchHidden = .allocate(capacity: 8)
        batchHidden.initialize(repeating: nil, count: 8)
        batchGains = .allocate(capacity: 8)
        batchGains.initialize(repeating: nil, count: 8)
        self.features = consume features
        self.network = consume network
    }

    deinit {
        segments.deallocate()
        edges.deallocate()
        primed.deallocate()
        observed.deallocate()
        batchFeatures.deallocate()
        batchHidden.deallocate()
        batchGains.deallocate()
    }

    /// The last frame's features of `stream` (featureCount floats).
    func lastFeatures(stream: Int) -> UnsafePointer<Float> { UnsafePointer(featureBuffers + stream * featureCount) }

    /// The last frame's band gains of `stream` (bandCount floats; 1 in `.observe` mode).
    func lastGains(stream: Int) -> UnsafePointer<Float> { UnsafePointer(gains + stream * bandCount) }

    /// Forgets `stream`'s time context (hidden state, last band energies). Real-time safe.
    @_noLocks func reset(stream: Int) {
        primed[stream] = false
        for i in 0..<stateStride { hidden[stream * stateStride + i] = 0 }
        for b in 0..<bandCount { gains[stream * bandCount + b] = 1 }
    }

    /// Refines `mask` (the Wiener mask before any floor, 0…1) of `stream` and applies the floor; the
    /// other arguments as in `GainFeatures.compute`: `observe`, `step` and `apply` for one stream.
    /// Real-time safe.
    @_noLocks func refine(mask: UnsafeMutablePointer<Float>, stream: Int, spectrum v: UnsafePointer<Float>,
                          speech: UnsafePointer<Float>, noise: UnsafePointer<Float>, noiseMean: UnsafePointer<Float>,
                          floor: Float) {
        observe(mask: mask, stream: stream, spectrum: v, speech: speech, noise: noise, noiseMean: noiseMean)
        step()
        apply(to: mask, stream: stream, floor: floor)
    }

    /// The first of a frame's three parts: `stream`'s features from its mask (the Wiener mask before
    /// any floor, 0…1) and the other arguments as in `GainFeatures.compute`; the stream then waits
    /// for `step`. Real-time safe.
    @_noLocks func observe(mask: UnsafePointer<Float>, stream: Int, spectrum v: UnsafePointer<Float>,
                           speech: UnsafePointer<Float>, noise: UnsafePointer<Float>, noiseMean: UnsafePointer<Float>) {
        features?.compute(v: v, speech: speech, noise: noise, noiseMean: noiseMean, mask: mask,
                          previous: previous + stream * bandCount, primed: primed[stream],
                          into: featureBuffers + stream * featureCount)
        primed[stream] = true
        observed[stream] = true
    }

    /// The second part: one network step of every stream observed since the last `step`, its band
    /// gains then held against falling faster than the release allows. With more than one stream,
    /// up to eight are stepped at once (each weight loaded once for four of them; each stream's gains
    /// its own step's up to rounding). Real-time safe.
    @_noLocks func step() {
        guard mode != .observe else {   // a network exists in every other mode
            for s in 0..<streams { observed[s] = false }
            return
        }
        var waiting = 0
        for s in 0..<streams where observed[s] {
            let g = gains + s * bandCount
            for b in 0..<bandCount { held[s * bandCount + b] = release * g[b] }
            if streams > 1 {
                batchFeatures[waiting] = UnsafePointer(featureBuffers + s * featureCount)
                batchHidden[waiting] = hidden + s * stateStride
                batchGains[waiting] = g
                waiting += 1
                if waiting == 8 {
                    network?.step(count: 8, features: batchFeatures, hidden: batchHidden, gains: batchGains)
                    waiting = 0
                }
            } else {
                network?.step(features: featureBuffers + s * featureCount, hidden: hidden + s * stateStride, gains: g)
            }
        }
        if waiting > 0 { network?.step(count: waiting, features: batchFeatures, hidden: batchHidden, gains: batchGains) }
        for s in 0..<streams where observed[s] {
            observed[s] = false
            let g = gains + s * bandCount
            for b in 0..<bandCount { g[b] = max(g[b], held[s * bandCount + b]) }
        }
    }

    /// The last part: `stream`'s band gains (after `step`) meet its `mask` by the mode, and the
    /// floor. Real-time safe.
    @_noLocks func apply(to mask: UnsafeMutablePointer<Float>, stream: Int, floor: Float) {
        let g = gains + stream * bandCount
        if mode == .shape {
            for b in 0..<bandCount {
                let width = edges[b + 1] - edges[b]
                let mean = sumOfFloats(mask + edges[b], count: width) / Float(width)
                let scale = 1 / (mean + 1e-6)
                for f in edges[b]..<edges[b + 1] { bandScale[f] = scale }
            }
        }
        for b in 0..<bandCount {   // the band gains interpolated to bins, band by band (weight 0: g[b] exactly)
            let below = g[b], rise = b + 1 < bandCount ? g[b + 1] - below : 0
            for f in segments[b]..<segments[b + 1] { binGain[f] = below + weight[f] * rise }
        }
        combine(into: mask, floor: floor)
    }

    /// G ← min(max(combine(G, g), floor(g)), 1) on every bin, `binGain` holding g: one loop per
    /// mode, so that each is a plain loop the compiler vectorises. Real-time safe.
    @_noLocks @inline(__always) private func combine(into mask: UnsafeMutablePointer<Float>, floor: Float) {
        let absent = absentFloor ?? floor, rise = floor - absent
        switch mode {
        case .multiply:
            for f in 0..<binCount { mask[f] = min(max(mask[f] * binGain[f], absent + rise * binGain[f]), 1) }
        case .lift:
            for f in 0..<binCount { mask[f] = min(max(max(mask[f], binGain[f]), absent + rise * binGain[f]), 1) }
        case .replace:
            for f in 0..<binCount { mask[f] = min(max(binGain[f], absent + rise * binGain[f]), 1) }
        case .shape:
            for f in 0..<binCount {
                let gain = binGain[f], pass = gain * gain * gain * gain
                let combined = gain * (pass + (1 - pass) * mask[f] * bandScale[f])
                mask[f] = min(max(combined, absent + rise * gain), 1)
            }
        case .observe:
            for f in 0..<binCount { mask[f] = min(max(mask[f], absent + rise * binGain[f]), 1) }
        }
    }
}

extension Engine {
    /// The gain refinement's features of `channel` (0 for linked channels) from the last hop that
    /// was not digital silence, `gainFeatureCount` floats; nil without the stage. For
    /// `sordino gain-features`; valid until the next `process`.
    public func lastGainFeatures(channel: Int) -> UnsafePointer<Float>? {
        refinement.enabled ? refinement.lastFeatures(stream: channel) : nil
    }

    /// Features per frame of the gain refinement (0 without the stage).
    public var gainFeatureCount: Int { refinement.featureCount }
}
