// SPDX-License-Identifier: GPL-3.0-or-later
// Offline analysis with the engine's own STFT: the matrix V that training and decomposition factorise.

/// V = |X|^q of a whole signal, with exactly the window, hop, FFT length and q the engine uses, so a
/// basis learned on it matches what the live solve sees. Frames are aligned like the engine's:
/// frame t covers input samples [(t+1)·H − N, (t+1)·H), zeros before the start; the last partial
/// hop is zero-padded. Allocates; not for the audio thread.
public struct Spectrogram: Sendable {
    /// Bins per frame (`fftLength / 2 + 1`).
    public let binCount: Int
    /// Number of frames T.
    public let frameCount: Int
    /// T × binCount values, frame-major: `values[t * binCount + f]`.
    public var values: [Float]

    /// Analyses `samples` (one channel) with `configuration`'s STFT and spectrum exponent.
    public init(samples: [Float], configuration: EngineConfiguration) throws(EngineError) {
        let windows = try WindowPair(shape: configuration.window, frameLength: configuration.frameLength,
                                     hopLength: configuration.hopLength)
        let fft = try RealFFT(length: configuration.fftLength)
        let n = configuration.frameLength, h = configuration.hopLength, bins = configuration.binCount
        let frames = (samples.count + h - 1) / h
        var values = [Float](repeating: 0, count: frames * bins)
        for t in 0..<frames {
            let end = (t + 1) * h
            for i in 0..<configuration.fftLength {
                let index = end - n + i
                fft.time[i] = i < n && index >= 0 && index < samples.count ? samples[index] * windows.analysis[i] : 0
            }
            fft.forward()
            for f in 0..<bins {
                let re = fft.spectrum[2 * f], im = fft.spectrum[2 * f + 1]
                let power = re * re + im * im
                values[t * bins + f] = configuration.spectrumExponent == 2 ? power : power.squareRoot()
            }
        }
        binCount = bins
        frameCount = frames
        self.values = values
    }
}
