// SPDX-License-Identifier: GPL-3.0-or-later
// Spreading a hop's work over the blocks until the next hop: the same output one hop later, and no block carrying it all.

@testable import SordinoDSP
import Testing
import TestSupport

@Suite struct HopSpreadingTests {
    static let basis = Signal.randomBasis(binCount: 257, speechRank: 8, noiseRank: 8, seed: 11)

    static func configuration(spread: Bool, linked: Bool = false, iterations: Int = 5) -> EngineConfiguration {
        var c = EngineConfiguration()
        c.frameLength = 512
        c.hopLength = 384 / 3   // 128
        c.fftLength = 512
        c.iterations = iterations
        c.noiseBoundDecibels = 6
        c.adaptiveNoiseRank = 4
        c.maskSmoothingMilliseconds = 20
        c.absentFloorDecibels = -25
        c.channelCount = 2
        c.linkChannels = linked
        c.spreadsHopWork = spread
        return c
    }

    static let input: [[Float]] = {
        let a = Signal.speechLike(seconds: 1.5, sampleRate: 16_000, noiseLevel: 0.1, seed: 7)
        let b = Signal.speechLike(seconds: 1.5, sampleRate: 16_000, noiseLevel: 0.3, seed: 8)
        return [a, b]
    }()

    @Test("spread: the whole-hop output one hop later, bit for bit, whatever the blocks",
          arguments: [[1], [64], [100], [128], [1000], [7, 300, 64, 1]])
    func sameOutputOneHopLater(blockLengths: [Int]) throws {
        for linked in [false, true] {
            var whole = try Engine(configuration: Self.configuration(spread: false, linked: linked), basis: Self.basis)
            var spread = try Engine(configuration: Self.configuration(spread: true, linked: linked), basis: Self.basis)
            #expect(spread.latencySamples == whole.latencySamples + 128)
            let reference = EngineHarness.run(&whole, Self.input, blockLengths: [128])
            let output = EngineHarness.run(&spread, Self.input, blockLengths: blockLengths)
            for c in 0..<2 {
                #expect(output[c][..<128].allSatisfy { $0 == 0 }, "the first hop is silence")
                #expect(Array(output[c][128...]) == Array(reference[c].dropLast(128)),
                        "channel \(c), linked \(linked): spreading changed more than the delay")
            }
        }
    }

    @Test("spread: a block of a sixth of the hop runs at most its share of the hop's steps (rounded up)",
          arguments: [false, true])
    func workPerBlockIsBounded(linked: Bool) throws {
        var configuration = Self.configuration(spread: true, linked: linked)
        configuration.hopLength = 384   // speech-48k's STFT
        configuration.frameLength = 1536
        configuration.fftLength = 1536
        let basis = Signal.randomBasis(binCount: 769, speechRank: 8, noiseRank: 8, seed: 12)
        var engine = try Engine(configuration: configuration, basis: basis)
        let period = 64
        var most = 0, hopsSeen = 0
        let input = Self.input.map { Array($0[..<(64 * 150)]) }
        let outputs = [UnsafeMutablePointer<Float>.allocate(capacity: period), .allocate(capacity: period)]
        defer { outputs.forEach { $0.deallocate() } }
        for start in stride(from: 0, to: input[0].count, by: period) {
            let before = engine.job.stepsDone, beforeHops = engine.telemetry.hops.load(ordering: .relaxed)
            input[0].withUnsafeBufferPointer { a in
                input[1].withUnsafeBufferPointer { b in
                    let inputs = [UnsafePointer(a.baseAddress! + start), UnsafePointer(b.baseAddress! + start)]
                    inputs.withUnsafeBufferPointer { i in
                        outputs.withUnsafeBufferPointer { o in
                            engine.process(inputs: i.baseAddress!, outputs: o.baseAddress!, blockLength: period)
                        }
                    }
                }
            }
            let hops = engine.telemetry.hops.load(ordering: .relaxed) - beforeHops
            // A block that ends a hop finishes it and begins the next (0 steps done of it).
            let steps = hops > 0 ? engine.job.stepCount - before + engine.job.stepsDone : engine.job.stepsDone - before
            most = max(most, steps)
            hopsSeen += hops
        }
        let stepCount = engine.job.stepCount
        let share = (stepCount * period + configuration.hopLength - 1) / configuration.hopLength
        #expect(hopsSeen >= 20)
        // Analyse and synthesise per channel; prepare, mask and refine per stream; 5 iterations, the
        // estimates and the gains' step for all streams.
        #expect(stepCount == (linked ? 2 * 2 + 3 * 1 + 5 + 2 : 2 * 2 + 3 * 2 + 5 + 2))
        #expect(most <= share, "a 64-sample block ran \(most) of \(stepCount) steps; its share is \(share)")
        #expect(most >= 1)
    }

    @Test("spread: an engine that adopts another's state inside a hop continues its output exactly")
    func adoptionIsSeamless() throws {
        // Adoption carries what HandOverTests checks; the online atoms and speech presence restart.
        var configuration = Self.configuration(spread: true)
        configuration.adaptiveNoiseRank = 0
        configuration.absentFloorDecibels = nil
        var reference = try Engine(configuration: configuration, basis: Self.basis)
        let whole = EngineHarness.run(&reference, Self.input, blockLengths: [64])
        let split = 12_345 - 12_345 % 64 + 32   // inside a hop and inside a block's worth of its steps
        var first = try Engine(configuration: configuration, basis: Self.basis)
        let head = EngineHarness.run(&first, Self.input.map { Array($0[..<split]) }, blockLengths: [64])
        var second = try Engine(configuration: configuration, basis: Self.basis)
        let adoptable = second.canAdoptSignalState(from: first)
        #expect(adoptable)
        second.adoptSignalState(from: &first)
        let tail = EngineHarness.run(&second, Self.input.map { Array($0[split...]) }, blockLengths: [64])
        for c in 0..<2 { #expect(head[c] + tail[c] == whole[c], "channel \(c): the hand-over changed the output") }
        let unspread = try Engine(configuration: Self.configuration(spread: false), basis: Self.basis)
        let mixed = unspread.canAdoptSignalState(from: second)
        #expect(!mixed, "a different latency cannot continue the output")
    }

    @Test("spread with 0 iterations: the mask of the cold start, one hop later")
    func zeroIterations() throws {
        var whole = try Engine(configuration: Self.configuration(spread: false, iterations: 0), basis: Self.basis)
        var spread = try Engine(configuration: Self.configuration(spread: true, iterations: 0), basis: Self.basis)
        let reference = EngineHarness.run(&whole, Self.input, blockLengths: [128])
        let output = EngineHarness.run(&spread, Self.input, blockLengths: [50])
        for c in 0..<2 { #expect(Array(output[c][128...]) == Array(reference[c].dropLast(128))) }
    }
}
