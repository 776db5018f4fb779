// SPDX-License-Identifier: GPL-3.0-or-later
// The `--report` pages of decompose, train and process: what each command shows, built with SordinoReport.

import Foundation
import SordinoDSP
import SordinoIO
import SordinoNMF
import SordinoReport

enum DecompositionReport {
    /// How component k was resynthesised, in words, for its plots' titles.
    static func resynthesis(_ options: RecordingDecomposition.Options) -> String {
        switch (options.method, options.resynthesis) {
        case (.nmf, .mask): "mask: W_k·H_k / W·H applied to the mixture's STFT"
        case (.nmf, .magnitude): "magnitude: (W_k·H_k)^(1/p) under the mixture's phase"
        case (.complex, .mask): "complex: the auxiliary estimate Ȳ_k (components sum to the input)"
        case (.complex, .magnitude): "complex: W_k·H_k·e^(jφ_k), the component's own phase"
        }
    }

    static func write(to path: String, input: String, audio: AudioBuffer, output: RecordingDecomposition.Output,
                      options: RecordingDecomposition.Options, basis w: Matrix, activations h: Matrix) throws {
        var page = Report(title: "sordino decompose: \((input as NSString).lastPathComponent)")
        let bins = w.rows, frames = h.columns, rank = w.columns
        let hopSeconds = Double(options.hopLength) / Double(audio.sampleRate)
        page.table([
            ("input", "\(input): \(audio.channelCount) ch, \(audio.sampleRate) Hz, \(String(format: "%.2f", audio.durationSeconds)) s"),
            ("method", options.method == .complex ? "complex NMF (Kameoka et al. 2009), λ = \(options.complexSparsity)"
                : "β = \(options.nmf.beta.beta), \(options.nmf.algorithm.rawValue), domain p = \(options.domain)"),
            ("components", "\(rank)"), ("resynthesis", resynthesis(options)),
            ("passes", "\(output.objective.count - 1) of at most \(options.nmf.iterations): \(output.stop)"),
            ("initialisation", options.fixedBasis == nil ? options.initialisation.rawValue : "fixed basis"),
            ("STFT", "frame \(options.frameLength), hop \(options.hopLength), \(options.window.rawValue); \(bins) bins × \(frames) frames"),
            ("objective", String(format: "%.6g → %.6g in %.2f s", output.objective.first ?? .nan, output.objective.last ?? .nan,
                                 output.elapsedSeconds.last ?? .nan)),
        ])
        page.heading("Loss")
        page.lineChart("Objective per iteration (log scale)", series: [("objective", output.objective)],
                       xLabel: "iteration", yLabel: "objective", logarithmic: true)
        page.heading("Input")
        page.waveform("Input waveform, channel mean", samples: channelMean(audio.channels), sampleRate: audio.sampleRate)
        try page.image("Input spectrogram |X|^p, channel mean (80 dB range)", Heatmap(rows: bins, columns: frames, values: output.spectrogram.values))
        page.heading("Atoms and activations")
        page.smallMultiples("Atoms W (unit sum), over frequency bins", series: (0..<rank).map { k in
            ("atom \(k + 1)", (0..<bins).map { Double(w[$0, k]) })
        }, xLabel: "bin")
        try page.image("Activations H (rows: components, bottom = 1; 60 dB range)", Heatmap(rows: rank, columns: frames, values: h.values),
                       range: 60, maxHeight: max(rank * 12, 48))
        for k in 0..<min(rank, 32) {
            page.lineChart("Activation of component \(k + 1) (H row, atom scaled to unit sum)",
                           series: [("component \(k + 1)", (0..<frames).map { Double(h[k, $0]) })],
                           xLabel: "time (s)", yLabel: "activation", xStep: hopSeconds, height: 120)
        }
        page.heading("Components as resynthesised (\(resynthesis(options)))")
        var total = [Float](repeating: 0, count: bins * frames)
        for f in 0..<bins { for k in 0..<rank { let x = w[f, k]; for t in 0..<frames { total[f * frames + t] += x * h[k, t] } } }
        for k in 0..<rank {
            let samples = channelMean(output.components[k])
            page.waveform("Component \(k + 1): waveform of component-\(k + 1) (channel mean)", samples: samples,
                          sampleRate: audio.sampleRate)
            try page.image("Component \(k + 1): spectrogram of its resynthesised audio (80 dB range)",
                           SpectrogramPages.magnitude([samples], sampleRate: audio.sampleRate), maxHeight: 160)
            guard options.method == .nmf && options.resynthesis == .mask else { continue }
            var mask = [Float](repeating: 0, count: bins * frames)
            for f in 0..<bins {
                for t in 0..<frames {
                    let i = f * frames + t
                    mask[i] = total[i] > 0 ? w[f, k] * h[k, t] / total[i] : 0
                }
            }
            try page.image("Component \(k + 1): mask W_k·H_k / W·H (linear, 0…1)", Heatmap(rows: bins, columns: frames, values: mask),
                           decibels: false, maxHeight: 160)
        }
        try page.write(to: path)
    }

    static func channelMean(_ channels: [[Float]]) -> [Float] {
        let count = channels.first?.count ?? 0, scale = 1 / Float(max(channels.count, 1))
        var mean = [Float](repeating: 0, count: count)
        for c in channels { for i in 0..<count { mean[i] += c[i] * scale } }
        return mean
    }
}

/// Spectrogram pages for `process` and `train`.
enum SpectrogramPages {
    /// |X| of the channel mean of `channels`, bins × frames, with a frame of ~64 ms.
    static func magnitude(_ channels: [[Float]], sampleRate: Int) throws -> Heatmap {
        let count = channels.first?.count ?? 0
        var mean = [Float](repeating: 0, count: max(count, 1))
        for c in channels { for i in 0..<count { mean[i] += c[i] / Float(channels.count) } }
        let n = sampleRate >= 32_000 ? 2048 : 1024
        let m = try ShortTimeFourierTransform(frameLength: n, hopLength: n / 4).analyse(mean).magnitude(power: 1)
        return Heatmap(rows: m.rows, columns: m.columns, values: m.values)
    }
}

enum ProcessReport {
    /// Input and output spectrograms (output aligned by `latency` samples) and the effective mask |Y|/|X|.
    static func write(to path: String, input: String, audio: AudioBuffer, output: AudioBuffer, latency: Int,
                      presetName: String) throws {
        var page = Report(title: "sordino process: \((input as NSString).lastPathComponent)")
        let aligned = output.channels.map { channel -> [Float] in
            let start = min(latency, channel.count)
            return Array((Array(channel[start...]) + [Float](repeating: 0, count: audio.sampleCount)).prefix(audio.sampleCount))
        }
        let x = try SpectrogramPages.magnitude(audio.channels, sampleRate: audio.sampleRate)
        let y = try SpectrogramPages.magnitude(aligned, sampleRate: audio.sampleRate)
        page.table([("input", "\(input): \(audio.channelCount) ch, \(audio.sampleRate) Hz, \(String(format: "%.2f", audio.durationSeconds)) s"),
                    ("preset", presetName), ("latency", "\(latency) samples (compensated in the plots)")])
        try page.image("Input spectrogram |X| (80 dB range)", x)
        try page.image("Output spectrogram |Y| (80 dB range)", y)
        let mask = zip(x.values, y.values).map { pair -> Float in pair.0 > 1e-9 ? min(pair.1 / pair.0, 1) : 0 }
        try page.image("Effective mask |Y| / |X| (linear, 0…1)", Heatmap(rows: x.rows, columns: x.columns, values: mask), decibels: false)
        try page.write(to: path)
        note("wrote report \(path)")
    }
}

enum TrainReport {
    static func write(to path: String, basis: Basis, speechObjective: [Double], noiseObjective: [Double],
                      command: String) throws {
        var page = Report(title: "sordino train")
        page.table([("command", command), ("basis", "\(basis.binCount) bins × \(basis.speechRank) speech + \(basis.noiseRank) noise atoms")])
        page.lineChart("Objective per iteration (log scale)", series: [("speech", speechObjective), ("noise", noiseObjective)],
                       xLabel: "iteration", yLabel: "objective", logarithmic: true)
        func atoms(_ range: Range<Int>) -> [(name: String, values: [Double])] {
            range.prefix(32).map { k in ("atom \(k + 1)", (0..<basis.binCount).map { Double(basis[bin: $0, atom: k]) }) }
        }
        page.smallMultiples("Speech atoms (first 32), over frequency bins", series: atoms(0..<basis.speechRank), xLabel: "bin")
        page.smallMultiples("Noise atoms (first 32), over frequency bins", series: atoms(basis.speechRank..<basis.rank), xLabel: "bin")
        try page.image("Basis W (rows: bins, columns: atoms, speech then noise; 60 dB range)",
                       Heatmap(rows: basis.binCount, columns: basis.rank, values: basis.values), range: 60, maxWidth: 1000)
        try page.write(to: path)
    }
}
