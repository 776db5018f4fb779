// SPDX-License-Identifier: GPL-3.0-or-later
// Small seeded engines and signals for the JACK tests, and the offline reference run.

import Foundation
import SordinoDSP
import SordinoJACK

/// SplitMix64: one seed, one sequence, on every machine.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum TestEngines {
    /// 257 bins × (8 speech + 8 noise) atoms, uniform in [0.01, 1).
    static func basis(seed: UInt64 = 7) throws -> Basis {
        var random = SplitMix64(seed: seed)
        let values = (0..<(257 * 16)).map { _ in Float.random(in: 0.01..<1, using: &random) }
        return try Basis(binCount: 257, speechRank: 8, noiseRank: 8, values: values)
    }

    /// FFT 512, frame 512, hop 128, 4 iterations (cheap enough for the debug-built test engine).
    static func configuration(sampleRate: Int = 48_000, wet: Float = 1, channels: Int = 1,
                              maximumBlockLength: Int = 8192) -> EngineConfiguration {
        var c = EngineConfiguration()
        c.sampleRate = sampleRate
        c.fftLength = 512
        c.frameLength = 512
        c.hopLength = 128
        c.iterations = 4
        c.wet = wet
        c.channelCount = channels
        c.maximumBlockLength = maximumBlockLength
        return c
    }

    /// A factory building engines for whatever rate the server asks, or always at `presetHz`.
    static func factory(wet: Float = 1, channels: Int = 1, presetHz: Int? = nil,
                        maximumBlockLength: Int? = nil) -> EngineFactory {
        let basis = try! TestEngines.basis()
        return { rate, maximum in
            try Engine(configuration: configuration(sampleRate: presetHz ?? rate, wet: wet, channels: channels,
                                                    maximumBlockLength: maximumBlockLength ?? maximum),
                       basis: basis)
        }
    }

    /// `input` through a fresh engine in blocks of `blockLength`, one channel.
    static func offline(_ input: [Float], wet: Float = 1, blockLength: Int) throws -> [Float] {
        var engine = try Engine(configuration: configuration(wet: wet), basis: basis())
        var output = [Float](repeating: 0, count: input.count)
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                var start = 0
                while start < x.count {
                    let n = min(blockLength, x.count - start)
                    var inputs = [x.baseAddress! + start]
                    var outputs = [y.baseAddress! + start]
                    inputs.withUnsafeMutableBufferPointer { i in
                        outputs.withUnsafeMutableBufferPointer { o in
                            engine.process(inputs: UnsafePointer(i.baseAddress!), outputs: UnsafePointer(o.baseAddress!),
                                           blockLength: n)
                        }
                    }
                    start += n
                }
            }
        }
        return output
    }
}

enum Signals {
    /// Uniform white noise in ±amplitude.
    static func noise(count: Int, amplitude: Float = 0.3, seed: UInt64) -> [Float] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in Float.random(in: -amplitude...amplitude, using: &random) }
    }

    static func sine(count: Int, frequency: Double, sampleRate: Double, amplitude: Float = 0.5) -> [Float] {
        (0..<count).map { amplitude * Float(sin(2 * Double.pi * frequency * Double($0) / sampleRate)) }
    }

    static func impulse(count: Int, at index: Int) -> [Float] {
        var x = [Float](repeating: 0, count: count)
        x[index] = 1
        return x
    }
}

func maxAbsDifference(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
