// SPDX-License-Identifier: GPL-3.0-or-later
// The discrete controls (mask exponent, iterations, bypass) toggled mid-stream: no click on a sine.

import SordinoDSP
import Testing
import TestSupport

/// Largest |y[n] − y[n−1]|.
private func largestStep(_ y: ArraySlice<Float>) -> Float {
    zip(y.dropFirst(), y).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

@Suite("discrete controls switch without a click")
struct DiscreteControlTests {
    static let basis = Signal.randomBasis(binCount: 257, speechRank: 16, noiseRank: 16, seed: 8)

    /// 16 kHz, frame 512, hop 128 (the shipped 16 kHz preset's STFT), floor −40 dB so the mask moves a lot.
    static func configuration() -> EngineConfiguration {
        var c = EngineConfiguration()
        c.iterations = 4
        c.maskExponent = 1
        c.floorDecibels = -40
        c.noiseBoundDecibels = 6
        return c
    }

    /// A 440 Hz sine at 0.5 in white noise at 0.05, 3 s at 16 kHz.
    static let input: [Float] = {
        let noise = Signal.whiteNoise(count: 48_000, amplitude: 0.05, seed: 2)
        return (0..<48_000).map { 0.5 * Float.sin(2 * Float.pi * 440 * Float($0) / 16_000) + noise[$0] }
    }()

    /// Runs the input in blocks of 128, calling `change(block)` before each block.
    static func run(_ change: (Int, ControlBlock) -> Void) throws -> [Float] {
        var engine = try Engine(configuration: configuration(), basis: basis)
        var output: [Float] = []
        for block in 0..<(input.count / 128) {
            change(block, engine.controls)
            output += EngineHarness.run(&engine, [Array(input[(block * 128)..<((block + 1) * 128)])], blockLengths: [128])[0]
        }
        return output
    }

    @Test("mask exponent and iterations toggled every few hops, bypass every 40: the largest step stays that of the steady outputs")
    func togglesAreClickFree() throws {
        let settled = 2 * 512   // past the first frames
        func step(_ y: [Float]) -> Float { largestStep(y[settled...]) }
        let p1 = try Self.run { _, _ in }
        let p2 = try Self.run { _, controls in controls.maskExponent = 2 }
        let toggled = try Self.run { block, controls in
            if block % 3 == 0 { controls.maskExponent = controls.maskExponent == 1 ? 2 : 1 }
            if block % 5 == 0 { controls.iterations = controls.iterations == 4 ? 0 : 4 }
        }
        let bypassed = try Self.run { block, controls in
            if block % 40 == 20 { controls.bypass = !controls.bypass }
        }
        let dry: [Float] = [Float](repeating: 0, count: 512) + Array(Self.input.dropLast(512))   // bypass: the input, delayed
        let steady = max(step(p1), step(p2))
        // A hard switch at a hop boundary (what bypass would do without its glide): processed, then dry.
        var hard: Float = 0
        for cut in stride(from: 24 * 128, to: 300 * 128, by: 128) { hard = max(hard, abs(dry[cut] - p1[cut - 1])) }
        print("largest step: steady p = 1 \(step(p1)), p = 2 \(step(p2)), toggled \(step(toggled)); bypass toggled "
              + "\(step(bypassed)), the delayed input's own \(step(dry)); a hard bypass at a hop boundary \(hard)")
        #expect(step(toggled) < 1.15 * steady)
        #expect(step(bypassed) < 1.15 * max(steady, step(dry)))
        #expect(hard > 1.5 * max(steady, step(dry)), "the bounds would not see a hard switch")
    }
}
