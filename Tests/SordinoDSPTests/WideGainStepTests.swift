// SPDX-License-Identifier: GPL-3.0-or-later
// The learned gain's step chosen for this CPU equals the eight-float build bit for bit (sixteen-float products where AVX-512F is present).

import CEngineKernels
import Testing
import TestSupport

struct WideGainStepTests {
    /// A network of F features, D input units, H hidden units and B bands with random weights, laid
    /// out as `GainNetwork` lays it (strides padded to 8, weights column by column, padding rows
    /// zero), stepped 6 times by the chosen and by the eight-float step from the same state: every
    /// hidden state and gain identical. Shapes: the shipped networks' (135, 48, 64, 22); input
    /// stride 40, gates 72, bands 16 (the 32-row block without the 16-row one, an 8-row rest); input
    /// stride 200 (three one-chain blocks and 8 rows), gates 216 (three, 16 rows, 8 rows).
    @Test(arguments: [(135, 48, 64, 22), (20, 40, 24, 9), (30, 200, 72, 16)])
    func chosenStepEqualsTheEightFloatBuild(features: Int, inputUnits: Int, hiddenUnits: Int, bands: Int) throws {
        let chosen = try #require(sordino_gain_step()), eight = try #require(sordino_gain_step_eight())
        func padded(_ n: Int) -> Int { (n + 7) / 8 * 8 }
        let inputStride = padded(inputUnits), hidden = padded(hiddenUnits), bandStride = padded(bands), gates = 3 * hidden
        var seed: UInt64 = 11
        /// `columns` columns of `stride` floats, rows past `rows` (per gate of `gate` rows padded to
        /// `hidden`, for the gates) zero.
        func weights(rows: Int, columns: Int, stride: Int, gate: Int? = nil, scale: Float = 0.3) -> [Float] {
            seed += 1
            let noise = Signal.whiteNoise(count: stride * columns, seed: seed)
            return (0..<(stride * columns)).map { i in
                let row = i % stride
                let used = gate.map { row % hidden < $0 && row < 3 * hidden } ?? (row < rows)
                return used ? scale * noise[i] : 0
            }
        }
        let mean = weights(rows: features, columns: 1, stride: features), scale = weights(rows: features, columns: 1, stride: features).map { 1 + abs($0) }
        let inputWeights = weights(rows: inputUnits, columns: features, stride: inputStride, scale: 0.2)
        let inputBias = weights(rows: inputUnits, columns: 1, stride: inputStride)
        let gruInput = weights(rows: 0, columns: inputUnits, stride: gates, gate: hiddenUnits)
        let gruInputBias = weights(rows: 0, columns: 1, stride: gates, gate: hiddenUnits)
        let gruRecurrent = weights(rows: 0, columns: hiddenUnits, stride: gates, gate: hiddenUnits)
        let gruRecurrentBias = weights(rows: 0, columns: 1, stride: gates, gate: hiddenUnits)
        let outputWeights = weights(rows: bands, columns: hiddenUnits, stride: bandStride)
        let outputBias = weights(rows: bands, columns: 1, stride: bandStride)
        var scratch = [Float](repeating: 0, count: features + inputStride + 2 * gates + bandStride)

        func run(_ step: SordinoGainStep) -> [[Float]] {
            var state = [Float](repeating: 0, count: hidden), trace: [[Float]] = []
            scratch.withUnsafeMutableBufferPointer { s in
                let base = s.baseAddress!
                var network = SordinoGainNetwork(
                    features: Int32(features), input_units: Int32(inputUnits), hidden_units: Int32(hiddenUnits),
                    band_count: Int32(bands), input_stride: Int32(inputStride), hidden_stride: Int32(hidden),
                    band_stride: Int32(bandStride), mean: mean, scale: scale, input_weights: inputWeights,
                    input_bias: inputBias, gru_input_weights: gruInput, gru_input_bias: gruInputBias,
                    gru_recurrent_weights: gruRecurrent, gru_recurrent_bias: gruRecurrentBias,
                    output_weights: outputWeights, output_bias: outputBias, normalised: base,
                    units: base + features, from_input: base + features + inputStride,
                    from_hidden: base + features + inputStride + gates, output: base + features + inputStride + 2 * gates,
                    stream_scratch: nil)
                for t in 0..<6 {
                    let input = Signal.whiteNoise(count: features, seed: 100 + UInt64(t)).map { 4 * $0 }
                    step(&network, input, &state)
                    trace.append(state + Array(UnsafeBufferPointer(start: network.output, count: bands)))
                }
            }
            return trace
        }
        let a = run(chosen), b = run(eight)
        for t in 0..<6 { #expect(a[t].map(\.bitPattern) == b[t].map(\.bitPattern), "step \(t)") }
        #expect(a.last!.contains { $0 != 0 && $0 != 0.5 })
    }
}
