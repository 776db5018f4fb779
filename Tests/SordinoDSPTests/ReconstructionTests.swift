// SPDX-License-Identifier: GPL-3.0-or-later
// STFT → ISTFT through the engine: perfect reconstruction after the documented delay.

import SordinoDSP
import Testing
import TestSupport

struct ReconstructionTests {
    /// (frame, hop, FFT, window) pairs that meet the overlap-add condition.
    static let stfts: [(Int, Int, Int, WindowShape)] = [
        (512, 128, 512, .sqrtHann), (512, 256, 512, .sqrtHann), (1536, 384, 1536, .sqrtHann),
        (1024, 256, 1024, .hann), (480, 160, 480, .hann), (512, 128, 512, .hamming),
        (256, 64, 512, .hamming),   // zero-padded FFT, as in Kwon et al.'s 256-sample Hamming window
    ]

    @Test(arguments: stfts)
    func unitMaskReconstructsDelayedInput(stft: (Int, Int, Int, WindowShape)) throws {
        let (frame, hop, fftLength, window) = stft
        let config = EngineHarness.transparent(frameLength: frame, hopLength: hop, fftLength: fftLength, window: window)
        let basis = Signal.randomBasis(binCount: config.binCount, speechRank: 4, noiseRank: 4, seed: 1)
        let x = Signal.whiteNoise(count: 16_000, seed: 2)
        let y = try EngineHarness.runMono(x, configuration: config, basis: basis, blockLengths: [256])
        let d = config.latencySamples
        #expect(d == frame)
        // The first frame is preceded by zeros; compare from the first fully covered sample on.
        let error = maxAbsDifference(y[(d + frame)...], x[frame..<(x.count - d)])
        #expect(error / rms(x) < 1e-5, "relative reconstruction error \(error / rms(x))")
    }

    @Test(arguments: [(WindowShape.sqrtHann, 512, 300), (.sqrtHann, 512, 200), (.hann, 512, 256), (.hamming, 400, 200)])
    func windowsThatDoNotOverlapAddAreRejected(shape: WindowShape, frame: Int, hop: Int) {
        #expect(throws: EngineError.windowNotOverlapAdding(shape: shape, frameLength: frame, hopLength: hop)) {
            _ = try WindowPair(shape: shape, frameLength: frame, hopLength: hop)
        }
    }

    @Test func hopLongerThanFrameIsRejected() {
        #expect(throws: EngineError.invalidHopLength(hop: 600, frameLength: 512)) {
            _ = try WindowPair(shape: .sqrtHann, frameLength: 512, hopLength: 600)
        }
    }

    @Test func impulseAppearsAfterExactlyTheReportedLatency() throws {
        var config = EngineHarness.transparent()
        config.floorDecibels = -20
        let basis = Signal.randomBasis(binCount: config.binCount, speechRank: 4, noiseRank: 4, seed: 3)
        var x = [Float](repeating: 0, count: 8000)
        x[3000] = 1
        let y = try EngineHarness.runMono(x, configuration: config, basis: basis, blockLengths: [37])
        let peak = y.indices.max { abs(y[$0]) < abs(y[$1]) } ?? -1
        #expect(peak == 3000 + config.latencySamples)
    }
}
