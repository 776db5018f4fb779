// SPDX-License-Identifier: GPL-3.0-or-later
// Offline analysis with the engine's own STFT: the matrix V that training factorises.

/// V = |X|^q of a whole signal, with exactly the window, hop, FFT length and q the engine uses, so a
/// basis learned on it matches what the live solve sees: the first ⌈count/H⌉ frames of
/// `ShortTimeFourierTransform` (the engine's alignment; the last partial hop is zero-padded).
/// Allocates; not for the audio thread.
public struct Spectrogram: Sendable {
    /// Bins per frame (`fftLength / 2 + 1`).
    public let binCount: Int
    /// Number of frames T.
    public let frameCount: Int
    /// T × binCount values, frame-major: `values[t * binCount + f]`.
    public var values: [Float]

    /// Analyses `samples` (one channel) with `configuration`'s STFT and spectrum exponent.
    public init(samples: [Float], configuration: EngineConfiguration) throws(EngineError) {
        let h = configuration.hopLength
        let x = try ShortTimeFourierTransform(configuration).analyse(samples, frameCount: (samples.count + h - 1) / h)
        let magnitudes = x.magnitudes(power: Double(configuration.spectrumExponent))
        let bins = x.binCount, frames = x.frameCount
        var values = [Float](repeating: 0, count: frames * bins)
        for f in 0..<bins { for t in 0..<frames { values[t * bins + f] = magnitudes[f * frames + t] } }
        binCount = bins
        frameCount = frames
        self.values = values
    }
}
