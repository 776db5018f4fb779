// SPDX-License-Identifier: GPL-3.0-or-later
// The learning curves `sordino train` writes next to a preset as NAME.loss.json.

import Foundation
import SordinoNMF
import SystemReason

/// `NAME.loss.json`: the method, the command, and per part (speech, noise) and stage the objective
/// after each pass (index 0 is the starting point). Plot with anything that reads JSON.
struct LossCurves: Encodable {
    struct Entry: Encodable {
        let part: String
        let stage: String
        let objective: String
        let values: [Double]
        /// "passes" or "tolerance", the passes made, and why in words.
        let stopped: String
        let passes: Int
        let stoppedBecause: String

        enum CodingKeys: String, CodingKey {
            case part, stage, objective, values, stopped, passes
            case stoppedBecause = "stopped_because"
        }
    }

    let method: String
    let command: String
    let curves: [Entry]

    init(method: String, command: String, curves: [BasisTrainer.Curve]) {
        self.method = method
        self.command = command
        self.curves = curves.map {
            Entry(part: $0.part.rawValue, stage: $0.stage, objective: $0.objective,
                  values: $0.values.map { $0.isFinite ? $0 : 0 }, stopped: $0.stop.kind, passes: $0.values.count - 1,
                  stoppedBecause: $0.stop.description)
        }
    }

    func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CommandError("cannot write \(path): \(systemReason(error)). Check that the folder is writable.",
                               exitCode: .cannotCreate)
        }
    }
}
