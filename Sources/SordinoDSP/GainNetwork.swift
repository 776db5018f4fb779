// SPDX-License-Identifier: GPL-3.0-or-later
// The learned gain's network: feature normalisation, a dense tanh layer, one GRU and a sigmoid band-gain layer.

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
}

/// The network of a `GainModel`, ready to run: weights copied into rows padded to 8 floats, scratch
/// for one step. Per-stream state (the hidden vector) belongs to the caller, so one network serves
/// every channel. Cost per step ≈ D·F + 3H·(D + H) + B·H multiply-adds. `step` is allocation-free.
struct GainNetwork: ~Copyable {
    let featureCount: Int, inputUnits: Int, hiddenUnits: Int, bandCount: Int
    private let featureStride: Int, inputStride: Int, hiddenStride: Int
    private let storage: FloatArena
    private let mean: UnsafeMutablePointer<Float>, scale: UnsafeMutablePointer<Float>
    private let inputWeights: UnsafeMutablePointer<Float>, inputBias: UnsafeMutablePointer<Float>
    private let gruInputWeights: UnsafeMutablePointer<Float>, gruInputBias: UnsafeMutablePointer<Float>
    private let gruRecurrentWeights: UnsafeMutablePointer<Float>, gruRecurrentBias: UnsafeMutablePointer<Float>
    private let outputWeights: UnsafeMutablePointer<Float>, outputBias: UnsafeMutablePointer<Float>
    private let normalised: UnsafeMutablePointer<Float>      // featureStride
    private let units: UnsafeMutablePointer<Float>           // inputStride
    private let fromInput: UnsafeMutablePointer<Float>       // 3H
    private let fromHidden: UnsafeMutablePointer<Float>      // 3H

    /// Hidden-state floats a stream needs (`hiddenUnits` padded to 8).
    var stateLength: Int { hiddenStride }

    init(_ model: GainModel) {
        let f = model.featureCount, d = model.inputUnits, h = model.hiddenUnits, b = model.bandCount
        featureCount = f; inputUnits = d; hiddenUnits = h; bandCount = b
        featureStride = paddedToLanes(f); inputStride = paddedToLanes(d); hiddenStride = paddedToLanes(h)
        var arena = FloatArena(capacity: 2 * f + d * featureStride + d + 3 * h * inputStride + 3 * h
                                   + 3 * h * hiddenStride + 3 * h + b * hiddenStride + b
                                   + featureStride + inputStride + 6 * h)
        mean = arena.take(f); scale = arena.take(f)
        inputWeights = arena.take(d * featureStride); inputBias = arena.take(d)
        gruInputWeights = arena.take(3 * h * inputStride); gruInputBias = arena.take(3 * h)
        gruRecurrentWeights = arena.take(3 * h * hiddenStride); gruRecurrentBias = arena.take(3 * h)
        outputWeights = arena.take(b * hiddenStride); outputBias = arena.take(b)
        normalised = arena.take(featureStride); units = arena.take(inputStride)
        fromInput = arena.take(3 * h); fromHidden = arena.take(3 * h)
        storage = arena
        var i = 0
        func read(_ into: UnsafeMutablePointer<Float>, rows: Int, columns: Int, stride: Int) {
            for r in 0..<rows {
                for c in 0..<columns { into[r * stride + c] = model.values[i]; i += 1 }
            }
        }
        read(mean, rows: 1, columns: f, stride: f); read(scale, rows: 1, columns: f, stride: f)
        read(inputWeights, rows: d, columns: f, stride: featureStride); read(inputBias, rows: 1, columns: d, stride: d)
        read(gruInputWeights, rows: 3 * h, columns: d, stride: inputStride)
        read(gruInputBias, rows: 1, columns: 3 * h, stride: 3 * h)
        read(gruRecurrentWeights, rows: 3 * h, columns: h, stride: hiddenStride)
        read(gruRecurrentBias, rows: 1, columns: 3 * h, stride: 3 * h)
        read(outputWeights, rows: b, columns: h, stride: hiddenStride); read(outputBias, rows: 1, columns: b, stride: b)
    }

    /// One step: `features` (featureCount) and the stream's `hidden` state (stateLength, zeros to
    /// start; padding stays 0) → `gains` (bandCount, each in 0…1). Real-time safe.
    @_noLocks func step(features: UnsafePointer<Float>, hidden: UnsafeMutablePointer<Float>,
                        gains: UnsafeMutablePointer<Float>) {
        let h = hiddenUnits
        for i in 0..<featureCount { normalised[i] = (features[i] - mean[i]) * scale[i] }
        for j in 0..<inputUnits {
            units[j] = fastTanh(dot(inputWeights + j * featureStride, normalised, count: featureStride) + inputBias[j])
        }
        for j in 0..<3 * h {
            fromInput[j] = dot(gruInputWeights + j * inputStride, units, count: inputStride) + gruInputBias[j]
            fromHidden[j] = dot(gruRecurrentWeights + j * hiddenStride, hidden, count: hiddenStride) + gruRecurrentBias[j]
        }
        for j in 0..<h {
            let r = fastSigmoid(fromInput[j] + fromHidden[j])
            let z = fastSigmoid(fromInput[h + j] + fromHidden[h + j])
            let n = fastTanh(fromInput[2 * h + j] + r * fromHidden[2 * h + j])
            hidden[j] = (1 - z) * n + z * hidden[j]
        }
        for b in 0..<bandCount {
            gains[b] = fastSigmoid(dot(outputWeights + b * hiddenStride, hidden, count: hiddenStride) + outputBias[b])
        }
    }
}
