// SPDX-License-Identifier: GPL-3.0-or-later
// Speech presence from the NMF estimates and the noise-only mean: the mask is lifted towards 1 where speech is present and may fall to a deeper floor where it is absent.

import RealModule

/// The speech-presence stage after the Wiener mask (`EngineConfiguration.absentFloorDecibels`).
///
/// Per frame:
/// 1. Band presence: in bands a quarter of their start frequency wide (at least 2 bins), the power
///    ratio ρ of the frame over the noise-only mean M (the noise bound's mean) gives
///    P_b = ρ²/(ρ² + θ²), θ = 20 dB: ½ at 20 dB over what noise-only frames hold, ≈ 1 at 30 dB.
/// 2. Speech dominance: of the energy the NMF puts *above the activation floor's baseline* in the
///    bins below 4 kHz, weighted by P, the share of the speech atoms, r. The floor ρ gives every
///    atom a baseline activation, so the raw estimates share every bin and r would sit near ½ on
///    noise too; the excess separates (dev, 5 dB: median r 0.0–0.35 on noise-only frames, except
///    babble 0.48, against 0.65–0.84 on speech frames and 0.90 on clean speech). Below 4 kHz, because
///    above it speech (fricatives) and broadband noise atoms look alike within a frame, and a
///    band-limited basis has no speech atoms above its limit at all.
///    d = (r − 0.3)/(0.6 − 0.3), clamped to 0…1.
/// 3. Mask: G ← max(G, P·d) (lifted where a band stands out of the noise and the frame is speech),
///    and the floor is `floor` where P·d = 1 and `absentFloor` where it is 0, linear in between.
///
/// The NMF mask stays the signal path: the stage only raises it in present bands and moves its floor.
/// Stateless across frames. Real-time: `apply` is allocation-free, O(binCount) per frame.
public struct SpeechPresence: ~Copyable {
    /// false: the configuration has no stage and `apply` must not be called.
    public let enabled: Bool
    private let binCount: Int
    /// Gain where speech is absent, 10^(absentFloorDecibels/20).
    private let absentFloor: Float
    /// θ² for θ = 20 dB (power ratio 100): band presence ½ there.
    private let thresholdSquared: Float
    /// d = (r − dominanceLow)·dominanceScale, clamped.
    private let dominanceLow: Float
    private let dominanceScale: Float
    /// Bins below 4 kHz: where the speech dominance is measured.
    private let dominanceBins: Int
    private let spectrumExponent: Int
    /// Activation floor ρ of the solver and ΣW over all atoms: the baseline activation ρ·ΣV/ΣW
    /// (ΣV over the solved bins, `solvedBinCount`).
    private let relativeFloor: Float
    private let totalWeight: Float
    private let solvedBinCount: Int
    /// `spectralEpsilon` as a stored value: unoptimised builds would call its getter on the real-time path.
    private let epsilon: Float
    private let bandCount: Int
    private let bandEdges: UnsafeMutablePointer<Int>       // bandCount + 1 bin indices
    private let storage: UnsafeMutablePointer<Float>
    private let speechRows: UnsafeMutablePointer<Float>    // Σₖ Ws[f, k], binCount
    private let noiseRows: UnsafeMutablePointer<Float>     // Σₖ Wn[f, k], binCount (adaptive atoms as they start)
    private let presence: UnsafeMutablePointer<Float>      // P per bin of the current frame, binCount

    /// Not real-time safe (allocates). `basis` is the solver's (adaptive atoms included);
    /// `relativeFloor` its activation floor; nil `absentFloorDecibels` builds a disabled stage.
    /// `binCount` is the spectrum's (default: the basis's); a band-limited solver's basis covers
    /// fewer bins (`EngineConfiguration.solvedBinCount`).
    public init(absentFloorDecibels: Float?, basis: Basis, binCount: Int? = nil, relativeFloor: Float, sampleRate: Int,
                spectrumExponent: Int) {
        enabled = absentFloorDecibels != nil
        let binCount = max(binCount ?? basis.binCount, basis.binCount)
        self.binCount = binCount
        solvedBinCount = basis.binCount
        absentFloor = Float.pow(10, (absentFloorDecibels ?? 0) / 20)
        thresholdSquared = 100 * 100
        dominanceLow = 0.3
        dominanceScale = 1 / (0.6 - 0.3)
        let fftLength = 2 * (binCount - 1)
        dominanceBins = min(basis.binCount, 4000 * fftLength / max(sampleRate, 1))
        self.spectrumExponent = spectrumExponent
        self.relativeFloor = relativeFloor
        epsilon = spectralEpsilon
        var edges = [0]
        while let last = edges.last, last < binCount { edges.append(min(binCount, last + max(2, last / 4))) }
        bandCount = edges.count - 1
        bandEdges = .allocate(capacity: edges.count)
        bandEdges.initialize(from: edges, count: edges.count)
        storage = .allocate(capacity: 3 * binCount)
        storage.initialize(repeating: 0, count: 3 * binCount)
        speechRows = storage
        noiseRows = storage + binCount
        presence = storage + 2 * binCount
        var total: Float = 0
        for f in 0..<basis.binCount {
            for k in 0..<basis.rank {
                let w = basis[bin: f, atom: k]
                if k < basis.speechRank { speechRows[f] += w } else { noiseRows[f] += w }
                total += w
            }
        }
        totalWeight = total
    }

    deinit {
        bandEdges.deallocate()
        storage.deallocate()
    }

    /// Lifts `mask` (the Wiener mask before any floor, 0…1) where speech is present and applies the
    /// floor: `floor` where speech is present, the absent floor where it is not. `v` is the frame's
    /// spectrum |X|^q, `speech` and `noise` the NMF estimates Ŝ and N̂ (N̂ after the noise bound),
    /// `noiseMean` the mean spectrum of noise-only frames, all binCount long. Real-time safe.
    @_noLocks public func apply(to mask: UnsafeMutablePointer<Float>, spectrum v: UnsafePointer<Float>,
                                speech: UnsafePointer<Float>, noise: UnsafePointer<Float>,
                                noiseMean: UnsafePointer<Float>, floor: Float) {
        for b in 0..<bandCount {
            var frame: Float = 0, mean: Float = 0
            for f in bandEdges[b]..<bandEdges[b + 1] {
                if spectrumExponent == 1 {
                    frame += v[f] * v[f]
                    mean += noiseMean[f] * noiseMean[f]
                } else {
                    frame += v[f]
                    mean += noiseMean[f]
                }
            }
            let rho = frame / (mean + epsilon)
            let p = rho * rho / (rho * rho + thresholdSquared)
            for f in bandEdges[b]..<bandEdges[b + 1] { presence[f] = p }
        }
        var energy: Float = 0
        for f in 0..<solvedBinCount { energy += v[f] }
        let baseline = relativeFloor * energy / (totalWeight + epsilon)
        var speechShare: Float = 0, total: Float = 0
        for f in 0..<dominanceBins {
            let s = max(speech[f] - baseline * speechRows[f], 0)
            let n = max(noise[f] - baseline * noiseRows[f], 0)
            speechShare += presence[f] * s
            total += presence[f] * (s + n)
        }
        let r = speechShare / (total + epsilon)
        let d = min(max((r - dominanceLow) * dominanceScale, 0), 1)
        for f in 0..<binCount {
            let present = presence[f] * d
            let binFloor = absentFloor + (floor - absentFloor) * present
            let g = max(max(mask[f], present), binFloor)
            mask[f] = g < 1 ? g : 1
        }
    }
}
