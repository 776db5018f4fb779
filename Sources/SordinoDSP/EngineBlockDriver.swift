// SPDX-License-Identifier: GPL-3.0-or-later
// Feeds an Engine from planar buffers in blocks: the one loop behind process, bench, the probe and the tests.

/// Splits a stretch of planar audio into `Engine.process` calls whose lengths cycle through a
/// schedule (one JACK period for `process` and `bench`, an irregular list in the tests and the
/// allocation probe). The schedule position carries over from one `run` to the next, so a stream
/// fed in chunks is cut exactly as if it came in one piece. The pointer tables are allocated in
/// `init`; `run` allocates nothing and is as real-time safe as its `afterBlock` closure.
public struct EngineBlockDriver: ~Copyable {
    public let channelCount: Int
    /// Engine calls made so far.
    public private(set) var blocksRun = 0
    private let schedule: UnsafeMutablePointer<Int>
    private let scheduleCount: Int
    /// Samples already taken from the current scheduled block (a chunk may end inside one).
    private var partial = 0
    private let inputs: UnsafeMutablePointer<UnsafePointer<Float>>
    private let outputs: UnsafeMutablePointer<UnsafeMutablePointer<Float>>

    /// `blockLengths`: the lengths of successive engine calls, repeated; each ≥ 1.
    public init(channelCount: Int, blockLengths: [Int]) {
        precondition(channelCount >= 1, "a driver needs at least one channel")
        precondition(!blockLengths.isEmpty && blockLengths.allSatisfy { $0 >= 1 }, "block lengths must be ≥ 1")
        self.channelCount = channelCount
        scheduleCount = blockLengths.count
        schedule = .allocate(capacity: blockLengths.count)
        schedule.initialize(from: blockLengths, count: blockLengths.count)
        inputs = .allocate(capacity: channelCount)
        outputs = .allocate(capacity: channelCount)
    }

    deinit {
        schedule.deallocate()
        inputs.deallocate()
        outputs.deallocate()
    }

    /// Processes `count` samples of every channel, `inputs[c][0 ..< count]` → `outputs[c][0 ..< count]`,
    /// in scheduled blocks; after each whole block calls `afterBlock` with the number of blocks run
    /// so far (1-based), e.g. to change a control between two calls as a control thread would.
    public mutating func run(_ engine: inout Engine, inputs: UnsafePointer<UnsafePointer<Float>>,
                             outputs: UnsafePointer<UnsafeMutablePointer<Float>>, count: Int,
                             afterBlock: (Int) -> Void = { _ in }) {
        var done = 0
        while done < count {
            let length = schedule[blocksRun % scheduleCount]
            let n = min(length - partial, count - done)
            for c in 0..<channelCount {
                self.inputs[c] = inputs[c] + done
                self.outputs[c] = outputs[c] + done
            }
            engine.process(inputs: self.inputs, outputs: self.outputs, blockLength: n)
            done += n
            partial += n
            if partial == length {
                partial = 0
                blocksRun += 1
                afterBlock(blocksRun)
            }
        }
    }

    /// `run` on arrays: every channel of `channels` (equal lengths) in, the same length out.
    /// Allocates the output; offline use.
    public mutating func run(_ engine: inout Engine, _ channels: [[Float]],
                             afterBlock: (Int) -> Void = { _ in }) -> [[Float]] {
        precondition(channels.count == channelCount, "\(channels.count) channels for a \(channelCount)-channel driver")
        let count = channels.first?.count ?? 0
        precondition(channels.allSatisfy { $0.count == count }, "channels differ in length")
        let input = UnsafeMutablePointer<Float>.allocate(capacity: max(channelCount * count, 1))
        let output = UnsafeMutablePointer<Float>.allocate(capacity: max(channelCount * count, 1))
        let inputTable = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: channelCount)
        let outputTable = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: channelCount)
        defer { input.deallocate(); output.deallocate(); inputTable.deallocate(); outputTable.deallocate() }
        for c in 0..<channelCount {
            (input + c * count).initialize(from: channels[c], count: count)
            inputTable[c] = UnsafePointer(input + c * count)
            outputTable[c] = output + c * count
        }
        run(&engine, inputs: inputTable, outputs: outputTable, count: count, afterBlock: afterBlock)
        return (0..<channelCount).map { c in Array(UnsafeBufferPointer(start: output + c * count, count: count)) }
    }
}
