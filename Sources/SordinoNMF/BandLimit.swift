// SPDX-License-Identifier: GPL-3.0-or-later
// A basis for audio wider than its training data: above the training band only a dedicated noise atom lives.

import SordinoDSP

extension Basis {
    /// This basis for a signal whose band above `cutoffBin` the training data did not cover (the
    /// corpus is 16 kHz, so a 48 kHz preset learns nothing above 8 kHz, and a live microphone has
    /// noise there). Every learned atom is set to 0 from `cutoffBin` up and scaled back to unit sum,
    /// and one noise atom is appended that is 0 below `cutoffBin` and flat above it. The KL solve then
    /// splits into two independent problems: below the cutoff the learned atoms see exactly what they
    /// were trained on, and everything above it is explained by the new atom, so Ŝ = 0 there and the
    /// mask sits at its floor (an attenuation of |floor| dB above the cutoff, whatever the signal).
    /// The appended atom's penalty is 0. Allocates; offline only.
    public func bandLimited(cutoffBin: Int) throws(NMFError) -> Basis {
        guard cutoffBin >= 1, cutoffBin < binCount else {
            throw .invalidOption(name: "cutoff bin", value: "\(cutoffBin)", allowed: "1…\(binCount - 1)")
        }
        let oldRank = rank, newRank = rank + 1
        var values = [Float](repeating: 0, count: binCount * newRank)
        for k in 0..<oldRank {
            var sum = 0.0
            for f in 0..<cutoffBin { sum += Double(self[bin: f, atom: k]) }
            let scale = sum > 0 ? 1 / sum : 1
            for f in 0..<cutoffBin { values[f * newRank + k] = Float(Double(self[bin: f, atom: k]) * scale) }
        }
        let flat = 1 / Float(binCount - cutoffBin)
        for f in cutoffBin..<binCount { values[f * newRank + oldRank] = flat }
        let penalties = atomPenalties.map { $0 + [0] }
        do throws(EngineError) {
            return try Basis(binCount: binCount, speechRank: speechRank, noiseRank: noiseRank + 1, values: values,
                             atomPenalties: penalties)
        } catch { throw .engine(error) }
    }
}
