// SPDX-License-Identifier: GPL-3.0-or-later
// The solver's pass chosen for this CPU equals the eight-float build bit for bit (the sixteen-float accumulation where AVX-512F is present).

import CEngineKernels
import Testing
import TestSupport

struct WidePassTests {
    /// W of `bins` rows (zero rows past them to the next multiple of 8), `stride` floats each;
    /// β = 0, 1, 2, with and without the estimates: numerator, denominator and estimates identical.
    /// Strides 136 (the shipped presets'), 40 (two sixteen-float steps and an eight-float rest) and
    /// 8 (the rest only).
    @Test(arguments: [(257, 136), (250, 40), (33, 8)])
    func chosenPassEqualsTheEightFloatBuild(bins: Int, stride: Int) throws {
        var fused: Int32 = 0
        let chosen = try #require(sordino_solver_pass(&fused)), eight = try #require(sordino_solver_pass_eight())
        let rowCount = (bins + 7) / 8 * 8, speech = stride / 16 * 8   // the kernels take whole groups of 8 speech slots
        var rows = Signal.whiteNoise(count: rowCount * stride, seed: 3).map { abs($0) }
        for i in (bins * stride)..<(rowCount * stride) { rows[i] = 0 }
        let h = Signal.whiteNoise(count: stride, seed: 5).map { abs($0) + 0.01 }
        let v = Signal.whiteNoise(count: bins, seed: 7).map { abs($0) }
        for beta in Int32(0)...2 {
            for estimating in [false, true] {
                func run(_ pass: SordinoSolverPass) -> [Float] {
                    var sums = [Float](repeating: 0, count: 8 * stride + 2 * bins)
                    sums.withUnsafeMutableBufferPointer { out in
                        let numerator = out.baseAddress!, denominator = numerator + 4 * stride
                        let speechEstimate = estimating ? denominator + 4 * stride : nil
                        let noiseEstimate = estimating ? denominator + 4 * stride + bins : nil
                        pass(rows, 0, Int32(bins), Int32(stride), h, v, 1e-9, beta, numerator, denominator,
                             Int32(speech), speechEstimate, noiseEstimate)
                    }
                    return sums
                }
                let a = run(chosen), b = run(eight)
                #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "β = \(beta), estimates \(estimating)")
                #expect(a.contains { $0 != 0 })
            }
        }
    }
}
