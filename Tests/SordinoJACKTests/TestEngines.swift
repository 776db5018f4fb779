// SPDX-License-Identifier: GPL-3.0-or-later
// Small seeded engines for the JACK tests, and the offline reference run.

import Foundation
import SordinoDSP
import SordinoJACK
import TestSupport

enum TestEngines {
    /// 257 bins × (8 speech + 8 noise) atoms, seeded.
    static let basis = Signal.randomBasis(binCount: 257, speechRank: 8, noiseRank: 8, seed: 7)

    /// FFT 512, frame 512, hop 128, 4 iterations (cheap enough for the debug-built test engine).
    static func configuration(sampleRate: Int = 48_000, wet: Float = 1, channels: Int = 1,
                              maximumBlockLength: Int = 8192, spread: Bool = false) -> EngineConfiguration {
        var c = EngineConfiguration()
        c.sampleRate = sampleRate
        c.fftLength = 512
        c.frameLength = 512
        c.hopLength = 128
        c.iterations = 4
        c.wet = wet
        c.channelCount = channels
        c.maximumBlockLength = maximumBlockLength
        c.spreadsHopWork = spread
        return c
    }

    /// A factory building engines for whatever rate the server asks, or always at `presetHz`.
    static func factory(wet: Float = 1, channels: Int = 1, presetHz: Int? = nil, spread: Bool = false) -> EngineFactory {
        { rate, controls throws(EngineBuildError) in
            try build(configuration(sampleRate: presetHz ?? rate, wet: wet, channels: channels, spread: spread),
                      controls: controls)
        }
    }

    /// An engine of `configuration` on the test basis, following `controls`; `commandLine` as the
    /// factory of `sordino run` reports it.
    static func build(_ configuration: EngineConfiguration, controls: ControlBlock,
                      commandLine: Set<ControlParameter> = []) throws(EngineBuildError) -> EngineBuild {
        do {
            return EngineBuild(engine: try Engine(configuration: configuration, basis: basis, controls: controls),
                               defaults: ControlValues(configuration), commandLine: commandLine, origin: "test engine")
        } catch {
            throw EngineBuildError(error)
        }
    }

    /// `input` through a fresh engine in blocks of `blockLength`, one channel.
    static func offline(_ input: [Float], wet: Float = 1, blockLength: Int, spread: Bool = false) throws -> [Float] {
        try EngineHarness.runMono(input, configuration: configuration(wet: wet, spread: spread), basis: basis,
                                  blockLengths: [blockLength])
    }
}

extension Signal {
    static func sine(count: Int, frequency: Double, sampleRate: Double, amplitude: Float = 0.5) -> [Float] {
        (0..<count).map { amplitude * Float(sin(2 * Double.pi * frequency * Double($0) / sampleRate)) }
    }

    static func impulse(count: Int, at index: Int) -> [Float] {
        var x = [Float](repeating: 0, count: count)
        x[index] = 1
        return x
    }
}
