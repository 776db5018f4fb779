// SPDX-License-Identifier: GPL-3.0-or-later
// The Wiener mask: bounds, floor, finiteness on zeros, smoothing.

import SordinoDSP
import Testing
import TestSupport

struct MaskTests {
    static func mask(speech: [Float], noise: [Float], exponent: Int, floor: Float, alpha: Float = 0,
                     previous: [Float]? = nil) -> [Float] {
        var out = [Float](repeating: -1, count: speech.count)
        var prev = previous ?? [Float](repeating: 0, count: speech.count)
        wienerMask(speech: speech, noise: noise, binCount: speech.count, exponent: exponent, floor: floor,
                   smoothing: alpha, previous: &prev, into: &out)
        return out
    }

    @Test(arguments: [1, 2], [Float(0), 0.01, 0.1, 0.5, 1])
    func maskLiesBetweenFloorAndOne(exponent: Int, floor: Float) {
        let s = Signal.randomSpectrum(binCount: 300, seed: 1) + [0, 0, 1e30, 0, 1e-30]
        let n = Signal.randomSpectrum(binCount: 300, seed: 2) + [0, 1e30, 0, 1e-30, 0]
        let g = Self.mask(speech: s, noise: n, exponent: exponent, floor: floor)
        #expect(g.allSatisfy { $0.isFinite && $0 >= floor && $0 <= 1 })
        #expect(g.contains { $0 == floor } || floor == 0 || floor == 1)   // the floor is reached where noise dominates
    }

    @Test func equalEstimatesGiveOneHalfAndExponentSharpens() {
        let g1 = Self.mask(speech: [1, 3], noise: [1, 1], exponent: 1, floor: 0)
        let g2 = Self.mask(speech: [1, 3], noise: [1, 1], exponent: 2, floor: 0)
        #expect(abs(g1[0] - 0.5) < 1e-6 && abs(g2[0] - 0.5) < 1e-6)
        #expect(abs(g1[1] - 0.75) < 1e-6 && abs(g2[1] - 0.9) < 1e-6)
    }

    @Test func smoothingMovesTowardsTheNewMask() {
        let g = Self.mask(speech: [1], noise: [0], exponent: 2, floor: 0, alpha: 0.75, previous: [0])
        #expect(abs(g[0] - 0.25) < 1e-6)
    }
}
