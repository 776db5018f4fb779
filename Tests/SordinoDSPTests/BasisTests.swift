// SPDX-License-Identifier: GPL-3.0-or-later
// A basis takes finite non-negative values only, wherever in its rows a bad one sits.

import SordinoDSP
import Testing

struct BasisTests {
    /// 7 bins × 3 atoms (21 values: two blocks of eight and a tail of five). A NaN, ±Inf or a
    /// negative value at any index is refused; zeros, −0 and the largest finite float are taken.
    @Test(arguments: [Float.nan, .infinity, -.infinity, -1e-30, -1])
    func everyBadValueIsRefusedWherever(bad: Float) {
        let good = (0..<21).map { Float($0 % 5) * 0.25 }
        for index in 0..<good.count {
            var values = good
            values[index] = bad
            #expect(throws: EngineError.nonFiniteBasis) {
                try Basis(binCount: 7, speechRank: 2, noiseRank: 1, values: values)
            }
        }
    }

    @Test func zerosAndTheLargestFloatAreTaken() throws {
        var values = [Float](repeating: 0, count: 21)
        values[3] = -0.0; values[16] = .greatestFiniteMagnitude; values[20] = .leastNonzeroMagnitude
        let basis = try Basis(binCount: 7, speechRank: 2, noiseRank: 1, values: values)
        #expect(basis.values[16] == .greatestFiniteMagnitude)
    }
}
