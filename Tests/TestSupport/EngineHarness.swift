// SPDX-License-Identifier: GPL-3.0-or-later
// Drives an Engine over whole signals with chosen block lengths, for tests.

import SordinoDSP

public enum EngineHarness {
    /// Processes planar `channels` through `engine`, splitting the input into blocks whose lengths
    /// cycle through `blockLengths`. Returns the planar output, same length as the input.
    public static func run(_ engine: inout Engine, _ channels: [[Float]], blockLengths: [Int]) -> [[Float]] {
        var driver = EngineBlockDriver(channelCount: channels.count, blockLengths: blockLengths)
        return driver.run(&engine, channels)
    }

    /// Mono convenience: one channel through a fresh engine built from `configuration` and `basis`.
    public static func runMono(_ input: [Float], configuration: EngineConfiguration, basis: Basis,
                               blockLengths: [Int]) throws -> [Float] {
        var engine = try Engine(configuration: configuration, basis: basis)
        return run(&engine, [input], blockLengths: blockLengths)[0]
    }

    /// A configuration whose mask is 1 everywhere (floor 0 dB): the engine must reconstruct its input.
    public static func transparent(frameLength: Int = 512, hopLength: Int = 128, fftLength: Int? = nil,
                                   window: WindowShape = .sqrtHann) -> EngineConfiguration {
        var c = EngineConfiguration()
        c.frameLength = frameLength
        c.hopLength = hopLength
        c.fftLength = fftLength ?? frameLength
        c.window = window
        c.floorDecibels = 0
        return c
    }
}
