// SPDX-License-Identifier: GPL-3.0-or-later
// Analysis and synthesis windows, and the overlap-add condition that makes them reconstruct.

import RealModule

/// The window shape of an STFT. Analysis and synthesis use the same shape; the synthesis window
/// is rescaled so that Σₘ analysis(n + mH) · synthesis(n + mH) = 1 for every n.
public enum WindowShape: String, Sendable, CaseIterable, Codable {
    /// Square root of the periodic Hann window: the product is Hann, which overlap-adds to a
    /// constant for any hop H = N/k, k ≥ 2.
    case sqrtHann = "sqrt-hann"
    /// Periodic Hann; the product Hann² overlap-adds to a constant for H = N/k, k ≥ 3.
    case hann
    /// Periodic Hamming (0.54 − 0.46 cos); the product overlap-adds to a constant for H = N/k, k ≥ 3.
    case hamming

    /// `length` samples of the periodic window (DFT-even: w[0] is the minimum).
    public func samples(length: Int) -> [Float] {
        (0..<length).map { n in
            let c = Double.cos(2 * Double.pi * Double(n) / Double(length))
            switch self {
            case .sqrtHann: return Float((0.5 - 0.5 * c).squareRoot())
            case .hann: return Float(0.5 - 0.5 * c)
            case .hamming: return Float(0.54 - 0.46 * c)
            }
        }
    }
}

/// Windows of one STFT: analysis, and synthesis scaled for unit overlap-add gain.
public struct WindowPair: Sendable {
    public let analysis: [Float]
    public let synthesis: [Float]

    /// Relative deviation from a constant overlap-add sum above which a (shape, N, H) is rejected.
    public static let overlapAddTolerance = 1e-4

    /// Builds the pair and checks the overlap-add condition; throws when the hop does not fit the shape.
    public init(shape: WindowShape, frameLength: Int, hopLength: Int) throws(EngineError) {
        guard frameLength >= 16 else { throw .invalidFrameLength(frameLength) }
        guard hopLength >= 1, hopLength <= frameLength else {
            throw .invalidHopLength(hop: hopLength, frameLength: frameLength)
        }
        let w = shape.samples(length: frameLength)
        var sums = [Double](repeating: 0, count: hopLength)
        for n in 0..<frameLength { sums[n % hopLength] += Double(w[n]) * Double(w[n]) }
        let mean = sums.reduce(0, +) / Double(hopLength)
        let worst = sums.map { abs($0 - mean) }.max() ?? 0
        guard mean > 0, worst <= Self.overlapAddTolerance * mean else {
            throw .windowNotOverlapAdding(shape: shape, frameLength: frameLength, hopLength: hopLength)
        }
        analysis = w
        synthesis = w.map { Float(Double($0) / mean) }
    }
}
