// SPDX-License-Identifier: GPL-3.0-or-later
// The band above a preset's band limit: left out of the activation solve, its estimates take the speech share found below it.

/// The bins at and above `EngineConfiguration.solvedBinCount` of a band-limited engine.
///
/// A basis trained with `--band-limit-hz` (`SordinoNMF`'s `Basis.bandLimited`) learned nothing
/// above the limit: there only its flat high-band noise atom lives, so a solve over every bin spends
/// most of its work (two thirds at 48 kHz) to find Ŝ = 0 and hold the mask at its floor whatever
/// the signal. A band-limited engine solves on the bins below the limit only (without the
/// high-band atoms), and sets above it
///
///     Ŝ[f] = r·V[f],   N̂[f] = (1 − r)·V[f],   r = Σ Ŝ / Σ (Ŝ + N̂) over the solved bins,
///
/// in the units of V: the frame's speech share as the solve found it. The estimates then go
/// through the same stages as every other bin: the noise bound (N̂ ≥ factor · the bin's noise-only
/// mean, so a high band holding only its usual noise falls to the floor while speech is present
/// below), the Wiener mask, and speech presence or the learned gain. So the band above the limit
/// opens with speech instead of sitting at the floor. (The share of the top 1 kHz below the limit
/// alone was tried first: on clean speech the solve gives speech little of 6.8–7.8 kHz, and the
/// band stayed at the floor; `docs/PERFORMANCE.md`.) Allocation-free after `init`.
struct HighBand: ~Copyable {
    /// false: every bin is solved; the other members are not used.
    let enabled: Bool
    /// Bins of the spectrum.
    let binCount: Int
    /// Bins the solver sees (the first bin above the limit).
    let solvedBinCount: Int
    private let storage: FloatArena
    /// Ŝ and N̂ over every bin (binStride floats each), after `extend`.
    let speech: UnsafeMutablePointer<Float>
    let noise: UnsafeMutablePointer<Float>

    /// Not real-time safe. `binStride` is the engine's. (The solver's input, V on the solved bins,
    /// is a per-stream copy the engine keeps: `Engine.solverInputs`.)
    init(_ configuration: EngineConfiguration, binStride: Int) {
        binCount = configuration.binCount
        solvedBinCount = configuration.solvedBinCount
        enabled = solvedBinCount < binCount
        var arena = FloatArena(capacity: enabled ? 2 * binStride : 0)
        speech = arena.take(enabled ? binStride : 0)
        noise = arena.take(enabled ? binStride : 0)
        storage = arena
    }

    /// Fills `speech` and `noise` over every bin: the solver's estimates below the limit, the top
    /// speech share of the solved bins times `v` above it. Real-time safe.
    @_noLocks func extend(speech solvedSpeech: UnsafePointer<Float>, noise solvedNoise: UnsafePointer<Float>,
                          spectrum v: UnsafePointer<Float>) {
        copyFloats(speech, from: solvedSpeech, count: solvedBinCount)
        copyFloats(noise, from: solvedNoise, count: solvedBinCount)
        let s = sumOfFloats(solvedSpeech, count: solvedBinCount)
        let total = s + sumOfFloats(solvedNoise, count: solvedBinCount)
        let r = total > 0 ? s / total : 0
        for f in solvedBinCount..<binCount {
            speech[f] = r * v[f]
            noise[f] = v[f] - speech[f]
        }
    }
}

extension Basis {
    /// This basis on its first `binCount` bins, without the atoms that hold no weight there (the
    /// high-band atoms of a band-limited basis), penalties kept for the rest. Throws `.emptyBasis`
    /// when no speech or no noise atom is left. Allocates; not real-time safe.
    func solvedPart(binCount bins: Int) throws(EngineError) -> Basis {
        let kept = (0..<rank).filter { k in (0..<bins).contains { self[bin: $0, atom: k] > 0 } }
        let speech = kept.count { $0 < speechRank }
        var values = [Float](repeating: 0, count: bins * kept.count)
        for f in 0..<bins {
            for (j, k) in kept.enumerated() { values[f * kept.count + j] = self[bin: f, atom: k] }
        }
        let penalties = atomPenalties.map { all in kept.map { all[$0] } }
        return try Basis(binCount: bins, speechRank: speech, noiseRank: kept.count - speech, values: values,
                         atomPenalties: penalties)
    }
}
