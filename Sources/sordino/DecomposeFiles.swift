// SPDX-License-Identifier: GPL-3.0-or-later
// The files `sordino decompose` reads and writes: matrices as .npy, components, loss.json.

import Foundation
import RealModule
import SordinoDSP
import SordinoIO
import SordinoNMF

/// The output folder of one `decompose` run and the writers for what goes in it.
struct DecomposeFiles {
    let folder: String

    init(folder: String) { self.folder = folder }

    func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }

    func create() throws { try OutputFolder.make(folder) }

    /// component-01 … with at least two digits and as many as `count` needs, then `suffix`.
    func componentName(_ k: Int, of count: Int, suffix: String) -> String {
        let digits = max(2, String(count).count), number = String(k + 1)
        return "component-" + String(repeating: "0", count: max(0, digits - number.count)) + number + suffix
    }

    func writeAudio(_ audio: AudioBuffer, name: String) throws {
        try AudioFileWriter.write(audio, to: path(name), format: AudioFileFormat(container: .wav, encoding: .float32))
    }

    func writeMatrix(_ m: Matrix, name: String) throws {
        try Npy.write(NpyArray(shape: [m.rows, m.columns], values: m.values), to: path(name))
    }

    /// basis.npy (bins × K) and activations.npy (K × frames).
    func writeFactors(_ w: Matrix, _ h: Matrix) throws {
        try writeMatrix(w, name: "basis.npy")
        try writeMatrix(h, name: "activations.npy")
    }

    /// component-k.phase.npy (bins × frames, radians in (−π, π]) and component-k.spectrum.npy
    /// (bins × frames × 2: real, imaginary) of complex NMF's component k on the channel mean.
    func writeComplex(_ y: ComplexSpectrogram, component k: Int, of count: Int) throws {
        let bins = y.binCount, frames = y.frameCount
        var phase = [Float](repeating: 0, count: bins * frames), spectrum = [Float](repeating: 0, count: 2 * bins * frames)
        for i in 0..<(bins * frames) {
            phase[i] = Float.atan2(y: y.im[i], x: y.re[i])
            spectrum[2 * i] = y.re[i]
            spectrum[2 * i + 1] = y.im[i]
        }
        try Npy.write(NpyArray(shape: [bins, frames], values: phase), to: path(componentName(k, of: count, suffix: ".phase.npy")))
        try Npy.write(NpyArray(shape: [bins, frames, 2], values: spectrum),
                      to: path(componentName(k, of: count, suffix: ".spectrum.npy")))
    }

    /// loss.json: the settings, the objective per pass and the seconds to reach it, and why the run stopped.
    func writeLoss(_ settings: [String: Any], objective: [Double], seconds: [Double], stop: StopReason) throws {
        var loss = settings
        loss["objective"] = objective
        loss["seconds"] = seconds
        loss["passes"] = objective.count - 1
        loss["stopped"] = stop.kind
        loss["stopped_because"] = stop.description
        loss["note"] = "objective[0] is the initial value, objective[i] that of the iterate held after i update passes; "
            + "seconds[i] is wall time until it"
        let json = try JSONSerialization.data(withJSONObject: loss, options: [.prettyPrinted, .sortedKeys])
        guard FileManager.default.createFile(atPath: path("loss.json"), contents: json) else {
            throw CommandError("cannot write \(path("loss.json")): check that the folder is writable.", exitCode: .cannotCreate)
        }
    }

    /// A 2-D, finite, non-negative .npy matrix (`what` and `layout` name it in errors).
    static func readMatrix(_ file: String, what: String, layout: String) throws -> Matrix {
        let array = try Npy.read(path: file)
        guard array.shape.count == 2, array.shape[0] > 1, array.shape[1] >= 1 else {
            throw CommandError("\(file): shape \(array.shape) is not \(layout) (2-D). Save the \(what) as a 2-D array.")
        }
        guard array.values.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw CommandError("\(file): a \(what) must be finite and ≥ 0. Clip it (numpy.maximum(X, 0)) and save it again.")
        }
        return Matrix(rows: array.shape[0], columns: array.shape[1], values: array.values)
    }
}
