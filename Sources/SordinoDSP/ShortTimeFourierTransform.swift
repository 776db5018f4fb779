// SPDX-License-Identifier: GPL-3.0-or-later
// The one offline STFT (with phase) and its overlap-add inverse, on the engine's RealFFT and WindowPair.

/// A complex spectrogram X, bins × frames row-major (`re[f * frameCount + t]`), the layout of V.
public struct ComplexSpectrogram: Sendable, Equatable {
    public let binCount: Int
    public let frameCount: Int
    public var re: [Float]
    public var im: [Float]

    public init(binCount: Int, frameCount: Int, re: [Float], im: [Float]) {
        precondition(re.count == binCount * frameCount && im.count == re.count, "spectrogram size mismatch")
        self.binCount = binCount
        self.frameCount = frameCount
        self.re = re
        self.im = im
    }

    /// |X|^p, bins × frames row-major (p > 0; p = 2 is power, p = 1 magnitude).
    public func magnitudes(power p: Double) -> [Float] {
        var m = [Float](repeating: 0, count: re.count)
        for i in re.indices {
            let power = re[i] * re[i] + im[i] * im[i]
            m[i] = p == 2 ? power : (p == 1 ? power.squareRoot() : Float.pow(power, Float(p / 2)))
        }
        return m
    }
}

/// STFT with frame length N, hop H, FFT length ≥ N (zero padding) and a `WindowShape` whose pair
/// satisfies the overlap-add condition (`WindowPair` checks it), so `synthesise(analyse(x))` = x to
/// float rounding. Frames are aligned like the engine's: frame t covers samples
/// [(t+1)·H − N, (t+1)·H), zeros outside the signal. Training (`Spectrogram`), decomposition and the
/// reports all analyse with it. Allocates; offline.
public struct ShortTimeFourierTransform: Sendable {
    public let frameLength: Int
    public let hopLength: Int
    public let fftLength: Int
    public let windows: WindowPair

    public var binCount: Int { fftLength / 2 + 1 }

    public init(frameLength: Int, hopLength: Int, fftLength: Int? = nil, window: WindowShape = .sqrtHann)
        throws(EngineError)
    {
        guard frameLength >= 16, frameLength % 2 == 0 else { throw .invalidFFTLength(frameLength) }
        let fft = fftLength ?? frameLength
        guard fft >= frameLength else { throw .fftShorterThanFrame(fftLength: fft, frameLength: frameLength) }
        windows = try WindowPair(shape: window, frameLength: frameLength, hopLength: hopLength)
        self.frameLength = frameLength
        self.hopLength = hopLength
        self.fftLength = fft
    }

    /// The engine's STFT for `configuration` (frame, hop, FFT length, window).
    public init(_ configuration: EngineConfiguration) throws(EngineError) {
        try self.init(frameLength: configuration.frameLength, hopLength: configuration.hopLength,
                      fftLength: configuration.fftLength, window: configuration.window)
    }

    /// Frames that cover every sample of a signal of `sampleCount` samples N/H times (what
    /// `synthesise` needs): the engine's ⌈count/H⌉ plus N/H − 1 frames of tail.
    public func frameCount(sampleCount: Int) -> Int {
        max(1, (sampleCount - 1 + frameLength - hopLength) / hopLength + 1)
    }

    /// X of `samples`, `frameCount` frames (default: `frameCount(sampleCount:)`). Cost: one FFT per hop.
    public func analyse(_ samples: [Float], frameCount: Int? = nil) throws(EngineError) -> ComplexSpectrogram {
        let fft = try RealFFT(length: fftLength)
        let n = frameLength, frames = frameCount ?? self.frameCount(sampleCount: samples.count), bins = binCount
        var re = [Float](repeating: 0, count: bins * frames), im = re
        let offset = n - hopLength
        for t in 0..<frames {
            let start = t * hopLength - offset
            for i in 0..<fftLength {
                let index = start + i
                fft.time[i] = i < n && index >= 0 && index < samples.count ? samples[index] * windows.analysis[i] : 0
            }
            fft.forward()
            for f in 0..<bins {
                re[f * frames + t] = fft.spectrum[2 * f]
                im[f * frames + t] = fft.spectrum[2 * f + 1]
            }
        }
        return ComplexSpectrogram(binCount: bins, frameCount: frames, re: re, im: im)
    }

    /// The overlap-added inverse, `sampleCount` samples (the length given to `analyse`).
    public func synthesise(_ x: ComplexSpectrogram, sampleCount: Int) throws(EngineError) -> [Float] {
        let fft = try RealFFT(length: fftLength)
        let n = frameLength, frames = x.frameCount, bins = x.binCount, offset = n - hopLength
        var out = [Float](repeating: 0, count: sampleCount)
        let scale = 1 / Float(fftLength)
        for t in 0..<frames {
            for f in 0..<bins {
                fft.spectrum[2 * f] = x.re[f * frames + t]
                fft.spectrum[2 * f + 1] = x.im[f * frames + t]
            }
            fft.spectrum[1] = 0                 // DC and Nyquist are real for a real signal
            fft.spectrum[2 * (bins - 1) + 1] = 0
            fft.inverse()
            let start = t * hopLength - offset
            for i in 0..<n {
                let index = start + i
                if index >= 0 && index < sampleCount { out[index] += fft.time[i] * scale * windows.synthesis[i] }
            }
        }
        return out
    }
}
