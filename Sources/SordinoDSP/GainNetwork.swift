// SPDX-License-Identifier: GPL-3.0-or-later
// The learned gain's network: feature normalisation, a dense tanh layer, one GRU and a sigmoid band-gain layer.

import CEngineKernels
import RealModule

/// Weights of the gain network (trained by `training/train_gain.py`, stored in the preset's `.gain`
/// file). Shapes, with F features, D input units, H hidden units and B bands:
///
/// | field | shape | role |
/// |---|---|---|
/// | featureMean, featureScale | F | x̂ = (x − mean)·scale |
/// | inputWeights, inputBias | D×F, D | u = tanh(W x̂ + b) |
/// | gruInputWeights, gruInputBias | 3H×D, 3H | rows: reset, update, candidate (PyTorch's order) |
/// | gruRecurrentWeights, gruRecurrentBias | 3H×H, 3H | |
/// | outputWeights, outputBias | B×H, B | g = σ(W h + b), one gain per band |
///
/// The GRU: r = σ(Wᵢᵣu + bᵢᵣ + Wₕᵣh + bₕᵣ), z = σ(Wᵢ𝓏u + bᵢ𝓏 + Wₕ𝓏h + bₕ𝓏),
/// n = tanh(Wᵢₙu + bᵢₙ + r⊙(Wₕₙh + bₕₙ)), h ← (1 − z)⊙n + z⊙h. Matrices are row-major.
public struct GainModel: Sendable, Equatable {
    public let featureCount: Int
    public let inputUnits: Int
    public let hiddenUnits: Int
    public let bandCount: Int
    /// Every weight in the order of the table, `parameterCount(…)` floats.
    public let values: [Float]

    /// Floats a model of these sizes holds (normalisation included).
    public static func parameterCount(featureCount f: Int, inputUnits d: Int, hiddenUnits h: Int, bandCount b: Int) -> Int {
        2 * f + d * f + d + 3 * h * d + 3 * h + 3 * h * h + 3 * h + b * h + b
    }

    /// Checks the sizes (each 1…4096) against `values.count` and that every value is finite.
    public init(featureCount: Int, inputUnits: Int, hiddenUnits: Int, bandCount: Int, values: [Float]) throws(EngineError) {
        for (name, n) in [("featureCount", featureCount), ("inputUnits", inputUnits), ("hiddenUnits", hiddenUnits),
                          ("bandCount", bandCount)] where !(1...4096).contains(n) {
            throw .invalidSetting(.gainModel, value: "\(name) \(n)", allowed: "1…4096")
        }
        let expected = Self.parameterCount(featureCount: featureCount, inputUnits: inputUnits,
                                           hiddenUnits: hiddenUnits, bandCount: bandCount)
        guard values.count == expected else {
            throw .invalidSetting(.gainModel, value: "\(values.count) weights", allowed: "\(expected) for these sizes")
        }
        guard values.allSatisfy({ $0.isFinite }) else {
            throw .invalidSetting(.gainModel, value: "a non-finite weight", allowed: "finite weights; retrain the model")
        }
        self.featureCount = featureCount
        self.inputUnits = inputUnits
        self.hiddenUnits = hiddenUnits
        self.bandCount = bandCount
        self.values = values
    }

    /// The same network with its band gains sharpened about `pivot`: logit g ← a·(logit g − logit p)
    /// + logit p, with `sharpness` a (1…4) and `pivot` p (0.01…0.99). A gain of p stays p, gains below it
    /// fall and gains above it rise (a network trained for the mean-square error hedges where it is
    /// unsure; docs/QUALITY.md, "sharpened band gains"). Only the output layer changes: W ← a·W,
    /// b ← a·b + (1 − a)·logit p, so the cost per step is the same.
    public func sharpened(by sharpness: Float, pivot: Float) throws(EngineError) -> GainModel {
        guard sharpness.isFinite, (1...4).contains(sharpness) else {
            throw .invalidSetting(.gainModel, value: "sharpness \(sharpness)", allowed: "1…4")
        }
        guard pivot.isFinite, (0.01...0.99).contains(pivot) else {
            throw .invalidSetting(.gainModel, value: "pivot \(pivot)", allowed: "0.01…0.99")
        }
        let logitPivot = Float.log(pivot / (1 - pivot)), output = bandCount * hiddenUnits + bandCount
        var sharper = values
        for i in (values.count - output)..<(values.count - bandCount) { sharper[i] *= sharpness }
        for i in (values.count - bandCount)..<values.count { sharper[i] = sharpness * sharper[i] + (1 - sharpness) * logitPivot }
        return try GainModel(featureCount: featureCount, inputUnits: inputUnits, hiddenUnits: hiddenUnits,
                             bandCount: bandCount, values: sharper)
    }
}

/// The network of a `GainModel`, ready to run: weights copied column by column (each column, the
/// weights of one input, padded to 8 floats; the GRU's three gates each padded to 8), so every
/// matrix–vector product keeps its outputs in SIMD lanes, and scratch for one step; the step itself
/// is `CEngineKernels`'s (`sordino_gain_step`, built for AVX2 with FMA beside the baseline). Per-stream
/// state (the hidden vector) belongs to the caller, so one network serves every channel, and up to
/// eight channels can step at once (`sordino_gain_step_streams`: each weight loaded once for four
/// of them, where one stream's step is bound by loading its weights). Cost per step and stream ≈
/// D·F + 3H·(D + H) + B·H multiply-adds. `step` is allocation-free.
struct GainNetwork: ~Copyable {
    let featureCount: Int, inputUnits: Int, hiddenUnits: Int, bandCount: Int
    /// `hiddenUnits` padded to 8: a stream's hidden state, and each GRU gate's rows.
    private let hiddenStride: Int
    private let storage: FloatArena
    /// The weights' and scratch's addresses and sizes, as the C step reads them.
    private let layout: UnsafeMutablePointer<SordinoGainNetwork>
    /// The step built for this CPU, and the step of up to eight streams at once.
    private let kernel: SordinoGainStep
    private let kernelStreams: SordinoGainStepStreams

    /// Hidden-state floats a stream needs (`hiddenUnits` padded to 8).
    var stateLength: Int { hiddenStride }

    /// The network of `model`, with scratch for up to eight of `streams` stepped together
    /// (`step(count:…)`, for more than one stream).
    init(_ model: GainModel, streams: Int = 1) {
        let f = model.featureCount, d = model.inputUnits, h = model.hiddenUnits, b = model.bandCount
        featureCount = f; inputUnits = d; hiddenUnits = h; bandCount = b
        // Floats per column: D, 3 gates of H, and B, each padded to 8 (locals: nothing reads `self`
        // before every stored property is set).
        let hidden = paddedToLanes(h), inputStride = paddedToLanes(d), gateStride = 3 * hidden
        let bandStride = paddedToLanes(b)
        hiddenStride = hidden
        let streamScratch = min(streams, 8) > 1 ? min(streams, 8) * (f + inputStride + 2 * gateStride + bandStride) : 0
        var arena = FloatArena(capacity: 2 * f + f * inputStride + inputStride + d * gateStride + gateStride
                                   + h * gateStride + gateStride + h * bandStride + bandStride
                                   + f + inputStride + 2 * gateStride + bandStride + streamScratch)
        let mean = arena.take(f), scale = arena.take(f)
        let inputWeights = arena.take(f * inputStride), inputBias = arena.take(inputStride)
        let gruInputWeights = arena.take(d * gateStride), gruInputBias = arena.take(gateStride)
        let gruRecurrentWeights = arena.take(h * gateStride), gruRecurrentBias = arena.take(gateStride)
        let outputWeights = arena.take(h * bandStride), outputBias = arena.take(bandStride)
        var i = 0
        /// Reads a row-major rows × columns matrix (rows in gates of `gate` rows, each padded to
        /// `gatePadding`) into column-major storage of `stride` floats per column.
        func read(_ into: UnsafeMutablePointer<Float>, rows: Int, columns: Int, stride: Int,
                  gate: Int = .max, gatePadding: Int = 0) {
            for r in 0..<rows {
                let row = r < gate ? r : (r / gate) * gatePadding + r % gate
                for c in 0..<columns { into[c * stride + row] = model.values[i]; i += 1 }
            }
        }
        read(mean, rows: f, columns: 1, stride: f); read(scale, rows: f, columns: 1, stride: f)
        read(inputWeights, rows: d, columns: f, stride: inputStride); read(inputBias, rows: d, columns: 1, stride: d)
        read(gruInputWeights, rows: 3 * h, columns: d, stride: gateStride, gate: h, gatePadding: hidden)
        read(gruInputBias, rows: 3 * h, columns: 1, stride: gateStride, gate: h, gatePadding: hidden)
        read(gruRecurrentWeights, rows: 3 * h, columns: h, stride: gateStride, gate: h, gatePadding: hidden)
        read(gruRecurrentBias, rows: 3 * h, columns: 1, stride: gateStride, gate: h, gatePadding: hidden)
        read(outputWeights, rows: b, columns: h, stride: bandStride); read(outputBias, rows: b, columns: 1, stride: b)
        layout = .allocate(capacity: 1)
        layout.initialize(to: SordinoGainNetwork(
            features: Int32(f), input_units: Int32(d), hidden_units: Int32(h), band_count: Int32(b),
            input_stride: Int32(inputStride), hidden_stride: Int32(hidden), band_stride: Int32(bandStride),
            mean: mean, scale: scale, input_weights: inputWeights, input_bias: inputBias,
            gru_input_weights: gruInputWeights, gru_input_bias: gruInputBias,
            gru_recurrent_weights: gruRecurrentWeights, gru_recurrent_bias: gruRecurrentBias,
            output_weights: outputWeights, output_bias: outputBias,
            normalised: arena.take(f), units: arena.take(inputStride), from_input: arena.take(gateStride),
            from_hidden: arena.take(gateStride), output: arena.take(bandStride),
            stream_scratch: streamScratch > 0 ? arena.take(streamScratch) : nil))
        storage = arena
        guard let kernel = sordino_gain_step() else { preconditionFailure("CEngineKernels chose no gain step") }
        self.kernel = kernel
        guard let kernelStreams = sordino_gain_step_streams() else { preconditionFailure("CEngineKernels chose no gain step") }
        self.kernelStreams = kernelStreams
    }

    deinit { layout.deallocate() }

    /// One step: `features` (featureCount) and the stream's `hidden` state (stateLength, zeros to
    /// start; padding stays 0) → `gains` (bandCount, each in 0…1). Real-time safe.
    @_noLocks func step(features: UnsafePointer<Float>, hidden: UnsafeMutablePointer<Float>,
                        gains: UnsafeMutablePointer<Float>) {
        run(.gainStep(kernel, network: layout, features: features, hidden: hidden))
        copyFloats(gains, from: layout.pointee.output, count: bandCount)
    }

    /// One step of `count` streams at once (up to eight, and no more than the network was built for),
    /// each weight loaded once for four of them: stream s's `features[s]`, `hidden[s]` and `gains[s]`
    /// as in `step(features:hidden:gains:)`, each stream's gains that step's up to rounding.
    /// Real-time safe.
    @_noLocks func step(count: Int, features: UnsafePointer<UnsafePointer<Float>?>,
                        hidden: UnsafePointer<UnsafeMutablePointer<Float>?>, gains: UnsafePointer<UnsafeMutablePointer<Float>?>) {
        run(.gainStepStreams(kernelStreams, network: layout, count: count, features: features, hidden: hidden, gains: gains))
    }
}
