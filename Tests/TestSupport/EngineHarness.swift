// SPDX-License-Identifier: GPL-3.0-or-later
// Drives an Engine over whole signals with chosen block lengths, for tests.

import SordinoDSP

public enum EngineHarness {
    /// Processes planar `channels` through `engine`, splitting the input into blocks whose lengths
    /// cycle through `blockLengths`. Returns the planar output, same length as the input.
    public static func run(_ engine: inout Engine, _ channels: [[Float]], blockLengths: [Int]) -> [[Float]] {
        let count = channels.first?.count ?? 0
        var outputs = channels.map { [Float](repeating: 0, count: $0.count) }
        let inputBuffers = channels.map { channel -> UnsafeMutablePointer<Float> in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            p.initialize(from: channel, count: count)
            return p
        }
        let outputBuffers = channels.map { _ in UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1)) }
        defer { inputBuffers.forEach { $0.deallocate() }; outputBuffers.forEach { $0.deallocate() } }
        var inputPointers = [UnsafePointer<Float>](repeating: UnsafePointer(inputBuffers[0]), count: channels.count)
        var outputPointers = outputBuffers
        var done = 0, index = 0
        while done < count {
            let n = min(blockLengths[index % blockLengths.count], count - done)
            for c in channels.indices {
                inputPointers[c] = UnsafePointer(inputBuffers[c] + done)
                outputPointers[c] = outputBuffers[c] + done
            }
            inputPointers.withUnsafeBufferPointer { i in
                outputPointers.withUnsafeBufferPointer { o in
                    engine.process(inputs: i.baseAddress!, outputs: o.baseAddress!, blockLength: n)
                }
            }
            done += n
            index += 1
        }
        for c in channels.indices { outputs[c] = Array(UnsafeBufferPointer(start: outputBuffers[c], count: count)) }
        return outputs
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
