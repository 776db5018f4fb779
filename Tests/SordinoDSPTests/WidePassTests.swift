// SPDX-License-Identifier: GPL-3.0-or-later
// The solver's pass chosen for this CPU against the eight-float build: bit for bit where it accumulates sixteen floats a step, to rounding where it runs row by row; its estimates those of the chosen estimate kernel.

import CEngineKernels
import Testing
import TestSupport

struct WidePassTests {
    struct Shape: CustomTestStringConvertible, Sendable {
        let bins: Int, stride: Int, speech: Int
        var testDescription: String { "\(bins) bins, \(stride) floats a row, \(speech) speech slots" }
    }

    /// Strides 136 with 64 speech slots (the shipped presets'), 168 (with learn-noise's 32 atoms: h
    /// then read from L1 each row), 40 (two sixteen-float steps and an eight-float rest), 8 (the rest
    /// only); 200 (more than the row-by-row pass takes) and 24 with 8 speech slots (not a whole
    /// vector) take the sixteen-float accumulation wherever the CPU has AVX-512F.
    static let shapes = [Shape(bins: 257, stride: 136, speech: 64), Shape(bins: 257, stride: 168, speech: 64),
                         Shape(bins: 250, stride: 40, speech: 16), Shape(bins: 33, stride: 8, speech: 0),
                         Shape(bins: 100, stride: 200, speech: 64), Shape(bins: 60, stride: 24, speech: 8)]

    /// W of `bins` rows (zero rows past them to the next multiple of 8), h, V: positive.
    static func inputs(_ shape: Shape) -> (rows: [Float], h: [Float], v: [Float]) {
        let rowCount = (shape.bins + 7) / 8 * 8
        var rows = Signal.whiteNoise(count: rowCount * shape.stride, seed: 3).map { abs($0) }
        for i in (shape.bins * shape.stride)..<(rowCount * shape.stride) { rows[i] = 0 }
        let h = Signal.whiteNoise(count: shape.stride, seed: 5).map { abs($0) + 0.01 }
        let v = Signal.whiteNoise(count: shape.bins, seed: 7).map { abs($0) }
        return (rows, h, v)
    }

    /// One pass from zeroed sums: Wᵀ·P and Wᵀ·Q (each its four partial sums added), then Ŝ and N̂
    /// when `estimating`.
    static func run(_ pass: SordinoSolverPass, _ shape: Shape, beta: Int32, estimating: Bool) -> (sums: [Float], estimates: [Float]) {
        let (rows, h, v) = inputs(shape)
        let stride = shape.stride, bins = shape.bins
        var out = [Float](repeating: 0, count: 8 * stride + 2 * bins)
        out.withUnsafeMutableBufferPointer { out in
            let numerator = out.baseAddress!, denominator = numerator + 4 * stride
            let speechEstimate = estimating ? denominator + 4 * stride : nil
            let noiseEstimate = estimating ? denominator + 4 * stride + bins : nil
            pass(rows, 0, Int32(bins), Int32(stride), h, v, 1e-9, beta, numerator, denominator,
                 Int32(shape.speech), speechEstimate, noiseEstimate)
        }
        let sums = (0..<(2 * stride)).map { i in
            let base = (i / stride) * 4 * stride + i % stride
            return (out[base] + out[base + stride]) + (out[base + 2 * stride] + out[base + 3 * stride])
        }
        return (sums, Array(out[(8 * stride)...]))
    }

    /// β = 0, 1, 2, with and without the estimates: bit for bit the eight-float build's where the
    /// chosen pass does not run row by row; else each sum within 2e-6 of it, relatively (float
    /// rounding of sums over 257 bins in another order; a wrong row or slot changes them by 1e-2
    /// or more).
    @Test(arguments: shapes)
    func chosenPassEqualsTheEightFloatBuild(_ shape: Shape) throws {
        var fused: Int32 = 0
        let chosen = try #require(sordino_solver_pass(&fused)), eight = try #require(sordino_solver_pass_eight())
        let byRows = sordino_solver_pass_by_rows(Int32(shape.stride), Int32(shape.speech)) != 0
        for beta in Int32(0)...2 {
            for estimating in [false, true] {
                let a = Self.run(chosen, shape, beta: beta, estimating: estimating)
                let b = Self.run(eight, shape, beta: beta, estimating: estimating)
                let all = a.sums + a.estimates, reference = b.sums + b.estimates
                #expect(reference.contains { $0 != 0 })
                if byRows {
                    let worst = zip(all, reference).map { abs($0 - $1) / max(abs($1), 1e-30) }.max() ?? 0
                    #expect(worst <= 2e-6, "β = \(beta), estimates \(estimating): relative difference \(worst)")
                } else {
                    #expect(all.map(\.bitPattern) == reference.map(\.bitPattern), "β = \(beta), estimates \(estimating)")
                }
            }
        }
    }

    /// The chosen pass's estimates are those of the chosen estimate kernel bit for bit, whatever
    /// the CPU and the shape (the engine mixes them: the pass's in a solved hop, the kernel's after
    /// a cold restart or with no iterations).
    @Test(arguments: shapes)
    func passEstimatesAreTheEstimateKernels(_ shape: Shape) throws {
        var fused: Int32 = 0
        let chosen = try #require(sordino_solver_pass(&fused)), estimate = try #require(sordino_estimate())
        let (rows, h, _) = Self.inputs(shape)
        var kernel = [Float](repeating: 0, count: 2 * shape.bins)
        kernel.withUnsafeMutableBufferPointer { out in
            estimate(rows, Int32(shape.bins), Int32(shape.stride), Int32(shape.speech), h, out.baseAddress!,
                     out.baseAddress! + shape.bins)
        }
        for beta in Int32(0)...2 {
            let fromPass = Self.run(chosen, shape, beta: beta, estimating: true).estimates
            #expect(fromPass.map(\.bitPattern) == kernel.map(\.bitPattern), "β = \(beta)")
        }
    }
}
