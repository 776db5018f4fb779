// SPDX-License-Identifier: GPL-3.0-or-later
// A preset's bases as .npy files (speech.npy, noise.npy; bins × atoms) and back, for `inspect --export` and `train --import-basis`.

import Foundation
import SordinoDSP
import SordinoIO

enum BasisExport {
    static let speechFile = "speech.npy", noiseFile = "noise.npy"

    /// Writes `folder`/speech.npy and `folder`/noise.npy (float32, C order, bins × atoms), creating the folder.
    static func write(_ basis: Basis, to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let rank = basis.rank
        func columns(_ range: Range<Int>) -> [Float] {
            var out: [Float] = []
            out.reserveCapacity(basis.binCount * range.count)
            for f in 0..<basis.binCount { for k in range { out.append(basis.values[f * rank + k]) } }
            return out
        }
        try Npy.write(NpyArray(shape: [basis.binCount, basis.speechRank], values: columns(0..<basis.speechRank)),
                      to: (folder as NSString).appendingPathComponent(speechFile))
        try Npy.write(NpyArray(shape: [basis.binCount, basis.noiseRank], values: columns(basis.speechRank..<rank)),
                      to: (folder as NSString).appendingPathComponent(noiseFile))
        note("wrote \(folder)/\(speechFile) (\(basis.binCount) × \(basis.speechRank)) and \(noiseFile) (\(basis.binCount) × \(basis.noiseRank))")
    }

    /// Reads `folder`/speech.npy and noise.npy (bins × atoms each) into a basis of `binCount` bins.
    static func read(from folder: String, binCount: Int) throws -> Basis {
        var parts: [(rank: Int, values: [Float])] = []
        for name in [speechFile, noiseFile] {
            let path = (folder as NSString).appendingPathComponent(name)
            let array = try Npy.read(path: path)
            guard array.shape.count == 2, array.shape[1] >= 1 else {
                throw CommandError("\(path): shape \(array.shape) is not bins × atoms. Save a 2-D array (numpy.save).")
            }
            guard array.shape[0] == binCount else {
                throw CommandError("\(path) has \(array.shape[0]) bins but the STFT options give \(binCount) "
                    + "(FFT length / 2 + 1). Pass the --frame-length/--fft-length the basis was made with.")
            }
            guard array.values.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
                throw CommandError("\(path): a basis must be finite and ≥ 0. Clip it (numpy.maximum(W, 0)) and save it again.")
            }
            parts.append((array.shape[1], array.values))
        }
        let rank = parts[0].rank + parts[1].rank
        var values = [Float](repeating: 0, count: binCount * rank)
        for f in 0..<binCount {
            for k in 0..<parts[0].rank { values[f * rank + k] = parts[0].values[f * parts[0].rank + k] }
            for k in 0..<parts[1].rank { values[f * rank + parts[0].rank + k] = parts[1].values[f * parts[1].rank + k] }
        }
        return try Basis(binCount: binCount, speechRank: parts[0].rank, noiseRank: parts[1].rank, values: values)
    }
}
