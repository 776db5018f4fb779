// SPDX-License-Identifier: GPL-3.0-or-later
// Engines sharing one control block, and one engine continuing another's signal: what a glitch-free swap rests on.

import SordinoDSP
import Testing
import TestSupport

@Suite struct HandOverTests {
    static let basis = Signal.randomBasis(binCount: 257, speechRank: 8, noiseRank: 8, seed: 3)

    static func configuration() -> EngineConfiguration {
        var c = EngineConfiguration()
        c.iterations = 4
        c.noiseBoundDecibels = 6
        c.adaptiveNoiseRank = 0
        c.maskSmoothingMilliseconds = 20
        c.channelCount = 2
        return c
    }

    @Test("an engine that adopts another's state mid-stream continues its output exactly")
    func adoptionIsSeamless() throws {
        let input = Signal.speechLike(seconds: 2, sampleRate: 16_000, noiseLevel: 0.1, seed: 5)
        let channels = [input, input.map { 0.5 * $0 }]
        var whole = try Engine(configuration: Self.configuration(), basis: Self.basis)
        let reference = EngineHarness.run(&whole, channels, blockLengths: [100])

        let split = 12_345   // inside a hop, not on a block boundary
        var first = try Engine(configuration: Self.configuration(), basis: Self.basis)
        let head = EngineHarness.run(&first, channels.map { Array($0[..<split]) }, blockLengths: [100])
        var second = try Engine(configuration: Self.configuration(), basis: Self.basis)
        let adoptable = second.canAdoptSignalState(from: first)
        #expect(adoptable)
        second.adoptSignalState(from: &first)
        let tail = EngineHarness.run(&second, channels.map { Array($0[split...]) }, blockLengths: [100])
        for c in 0..<2 {
            #expect(head[c] + tail[c] == reference[c], "channel \(c): the hand-over changed the output")
        }
    }

    @Test("another frame or hop length cannot be adopted")
    func shapesMustMatch() throws {
        let engine = try Engine(configuration: Self.configuration(), basis: Self.basis)
        var other = Self.configuration()
        other.hopLength = 64
        let otherHop = try Engine(configuration: other, basis: Self.basis).canAdoptSignalState(from: engine)
        other = Self.configuration()
        other.channelCount = 1
        let otherChannels = try Engine(configuration: other, basis: Self.basis).canAdoptSignalState(from: engine)
        #expect(!otherHop && !otherChannels)
        let warmUp = engine.warmUpSamples
        #expect(warmUp == 1024)
    }

    @Test("defaults give way to live values; clearing a live value brings the default back")
    func controlLayers() {
        let block = ControlBlock(ControlValues(floorDecibels: -12, wet: 1, maskExponent: 2, iterations: 5))
        block.wet = 0.5
        block.iterations = 2
        block.setDefaults(ControlValues(floorDecibels: -9, wet: 0.8, maskExponent: 1, iterations: 7))
        #expect(block.values == ControlValues(floorDecibels: block.values.floorDecibels, wet: 0.5, maskExponent: 1, iterations: 2))
        #expect(abs(block.floorDecibels - -9) < 1e-4)
        #expect(block.liveParameters == [.wet, .iterations])
        block.clearLive(.wet)
        #expect(block.wet == 0.8)
        #expect(block.liveParameters == [.iterations])
        block.bypass = false
        #expect(block.liveParameters == [.iterations, .bypass], "bypass off set live is still a live value")
        block.floorDecibels = -300
        #expect(abs(block.floorDecibels - -120) < 1e-3, "clamped to −120 dB")
        block.wet = .nan
        #expect(block.wet == 1, "a non-finite wet is taken as fully processed")
    }

    @Test("two engines on one block follow the same live change")
    func sharedBlock() throws {
        let block = ControlBlock(Self.configuration())
        let a = try Engine(configuration: Self.configuration(), basis: Self.basis, controls: block)
        let b = try Engine(configuration: Self.configuration(), basis: Self.basis, controls: block)
        block.floorDecibels = -30
        let (first, second) = (a.controls, b.controls)
        #expect(first === second)
        #expect(abs(second.floorDecibels - -30) < 1e-4)
    }
}
