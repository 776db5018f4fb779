// SPDX-License-Identifier: GPL-3.0-or-later
// The level the offline analyses accept: no sample beyond the engine's ±8 (+18 dBFS).

import SordinoDSP
import SordinoIO

enum AudioLimit {
    /// Refuses `audio` (read from `path`) when a sample lies beyond ±`Engine.outputLimit` (+18
    /// dBFS): the engine would clamp it, but learned from or factorised, one such sample outweighs
    /// every other frame, and from about 1e17 its spectrum overflows to infinity (`train` and
    /// `decompose` then stopped with an error about V that named neither file nor remedy).
    /// `use` begins the sentence that says what must lie within the limit, e.g. "Training audio";
    /// `remedy` ends it, e.g. "repair or rescale the file, or leave it out of the folder".
    static func require(_ audio: AudioBuffer, path: String, use: String, remedy: String = "repair or rescale the file") throws {
        let limit = Engine.outputLimit
        var count = 0, first: (index: Int, value: Float)?
        for channel in audio.channels {
            for (i, x) in channel.enumerated() where abs(x) > limit {
                count += 1
                if first.map({ i < $0.index }) ?? true { first = (i, x) }
            }
        }
        guard let first else { return }
        let seconds = String(format: "%.3f", Double(first.index) / Double(audio.sampleRate))
        throw CommandError("\(path): \(count) sample\(count == 1 ? "" : "s") beyond ±\(Int(limit)) (+18 dBFS), the first "
                           + "\(first.value) at \(seconds) s. \(use) must lie within ±\(Int(limit)); \(remedy).", exitCode: .badData)
    }
}
