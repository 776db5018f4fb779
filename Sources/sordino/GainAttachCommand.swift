// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino gain-attach`: puts a trained gain network (the trainer's gain.npy) into a copy of a preset.

import ArgumentParser
import Foundation
import SordinoDSP
import SordinoIO
import SordinoPresets

struct GainAttach: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gain-attach",
        abstract: "Write a preset with a learned gain refinement from a preset and trained weights.",
        discussion: """
        Reads --weights DIR/gain.npy (all weights, flat, in `GainModel`'s order) and DIR/gain.json \
        (featureCount, inputUnits, hiddenUnits, bandCount, command), as `training/train_gain.py` \
        writes them, checks them against the preset's gain bands, and writes OUT.json, OUT.basis \
        (the preset's basis) and OUT.gain (the weights, checksummed). With --sharpness A above 1 \
        the band gains are sharpened about --pivot P: logit g ← A·(logit g − logit P) + logit P, \
        folded into the output layer (GainModel.sharpened; docs/QUALITY.md, "sharpened band gains").
        """)

    @Option(help: "Preset to extend.") var preset: String = "speech-16k"
    @Option(help: "Folder with the trainer's gain.npy and gain.json.") var weights: String
    @Option(help: "How the band gains meet the mask: multiply, lift, replace or shape.") var mode: String = "lift"
    @Option(name: .customLong("absent-floor-db"), parsing: .unconditional,
            help: "Mask floor in dB (−120…0) where the network's gain is 0, or 'off' (the preset's floor).")
    var absentFloor = AbsentFloor(decibels: nil)
    @Option(name: .customLong("floor-db"), parsing: .unconditional,
            help: "Mask floor in dB (−120…0) where the network's gain is 1 (default: the preset's floor).")
    var floor: Float?
    @Option(name: .customLong("activation-floor"),
            parsing: .unconditional, help: "Per-frame activation floor of the solve, a fraction (0…1) of the cold-start value (default: the preset's).")
    var activationFloor: Float?
    @Option(parsing: .unconditional, help: "Solver iterations per frame (0 up to the preset's maximum, 64 in the shipped presets; default: the preset's).")
    var iterations: Int?
    @Option(name: .customLong("release-ms"), parsing: .unconditional,
            help: "Time in ms (0…1000) in which a band gain may fall at most ×0.6; 0: no hold.")
    var release: Float = 10
    @Option(parsing: .unconditional, help: "Sharpness A (1…4) of the band gains: logit g ← A·(logit g − logit P) + logit P; 1 leaves the network as trained.")
    var sharpness: Float = 1
    @Option(parsing: .unconditional, help: "Pivot P (0.01…0.99): the band gain --sharpness leaves where it is; gains below it fall, gains above it rise.")
    var pivot: Float = 0.5
    @Option(help: "Name of the new preset (default: the output's file name).") var name: String?
    @Option(name: .shortAndLong, help: "Output path without extension, e.g. presets/speech-16k (its folder is made if missing).") var output: String

    func run() throws {
        do { try attach() } catch { throw report(error, command: "gain-attach") }
    }

    private struct Sizes: Decodable {
        var featureCount: Int, inputUnits: Int, hiddenUnits: Int, bandCount: Int, command: String
    }

    private func attach() throws {
        guard let refinement = GainRefinementMode(rawValue: mode), refinement != .observe else {
            throw CommandError("--mode must be multiply, lift, replace or shape (got \(mode)).", exitCode: .usage)
        }
        guard release.isFinite, (0...1000).contains(release) else {
            throw CommandError("--release-ms must be 0…1000 ms (got \(release)).", exitCode: .usage)
        }
        guard sharpness.isFinite, (1...4).contains(sharpness) else {
            throw CommandError("--sharpness must be 1…4 (got \(sharpness)).", exitCode: .usage)
        }
        guard pivot.isFinite, (0.01...0.99).contains(pivot) else {
            throw CommandError("--pivot must be 0.01…0.99 (got \(pivot)).", exitCode: .usage)
        }
        if let floor, !(floor.isFinite && (-120...0).contains(floor)) {
            throw CommandError("--floor-db must be −120…0 dB (got \(floor)).", exitCode: .usage)
        }
        if let activationFloor, !(activationFloor.isFinite && (0...1).contains(activationFloor)) {
            throw CommandError("--activation-floor must be 0…1 (got \(activationFloor)).", exitCode: .usage)
        }
        var loaded = try Preset.load(path: try PresetLocator().resolve(preset, sampleRate: nil).path)
        let maximum = loaded.metadata.solver.maximumIterations
        if let iterations, !(0...maximum).contains(iterations) {
            throw CommandError("--iterations must be 0…\(maximum), the preset's maximum (got \(iterations)).", exitCode: .usage)
        }
        let array = try Npy.read(path: (weights as NSString).appendingPathComponent("gain.npy"))
        let jsonPath = (weights as NSString).appendingPathComponent("gain.json")
        guard let data = FileManager.default.contents(atPath: jsonPath),
              let sizes = try? JSONDecoder().decode(Sizes.self, from: data) else {
            throw CommandError("\(jsonPath) is missing or lacks featureCount, inputUnits, hiddenUnits, bandCount, "
                               + "command: run training/train_gain.py again.", exitCode: .noInput)
        }
        let model = try GainModel(featureCount: sizes.featureCount, inputUnits: sizes.inputUnits,
                                  hiddenUnits: sizes.hiddenUnits, bandCount: sizes.bandCount, values: array.values)
            .sharpened(by: sharpness, pivot: pivot)
        let base = ((output as NSString).lastPathComponent)
        let directory = (output as NSString).deletingLastPathComponent
        loaded.metadata.name = name ?? base
        loaded.metadata.mask.absentFloorDecibels = absentFloor.decibels
        if let floor { loaded.metadata.mask.floorDecibels = floor }
        if let activationFloor { loaded.metadata.solver.activationFloor = activationFloor }
        if let iterations { loaded.metadata.solver.iterations = iterations }
        loaded.metadata.gain = .init(file: "\(base).gain", mode: refinement, model: model, checksum: "",
                                     command: sizes.command, releaseMilliseconds: release == 10 ? nil : release)
        loaded.metadata.provenance.command += " && " + (["sordino"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        loaded.gainModel = model
        let path = try loaded.write(directory: directory.isEmpty ? "." : directory, name: base)
        note("wrote \(path)")
    }
}
