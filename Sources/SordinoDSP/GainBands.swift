// SPDX-License-Identifier: GPL-3.0-or-later
// The bands of the learned gain: Bark-like edges fixed in Hz, mapped to bins, and band gains interpolated back to bins.

/// Bands of the gain refinement (`GainRefinement`), defined by frequency so that every preset rate
/// shares them: Zwicker's critical-band edges (Hz) up to the Nyquist frequency, the last band ending
/// there. Edges are rounded to bins and bands that would hold no bin are merged, so a band always
/// holds at least one bin (16 kHz, 512-point FFT: 22 bands; 48 kHz, 1536-point: 26).
public struct GainBands: Sendable, Equatable {
    /// Band edges in Hz below the last band's (the Nyquist frequency).
    public static let edgesHertz: [Double] = [
        0, 100, 200, 300, 400, 510, 630, 770, 920, 1080, 1270, 1480, 1720, 2000, 2320, 2700, 3150, 3700,
        4400, 5300, 6400, 7700, 9500, 12_000, 15_500, 20_500,
    ]

    /// `bandCount + 1` bin indices: band b holds bins `edges[b] ..< edges[b + 1]`; the last is binCount.
    public let edges: [Int]
    public var bandCount: Int { edges.count - 1 }
    public var binCount: Int { edges[edges.count - 1] }

    /// The layout for an STFT of `fftLength` at `sampleRate` Hz (binCount = fftLength/2 + 1).
    public init(sampleRate: Int, fftLength: Int) {
        let binCount = fftLength / 2 + 1
        var edges = [0]
        for hertz in Self.edgesHertz.dropFirst() {
            let bin = Int((hertz * Double(fftLength) / Double(sampleRate)).rounded())
            if bin > edges[edges.count - 1] && bin < binCount { edges.append(bin) }
        }
        edges.append(binCount)
        self.edges = edges
    }

    /// Centre of band b in (fractional) bins.
    public func centre(_ b: Int) -> Double { Double(edges[b] + edges[b + 1] - 1) / 2 }
}

/// Per-bin interpolation of band gains: linear between band centres, flat beyond the first and last
/// centre. `lower[f]` is the band below bin f, `weight[f]` the share of the band above it.
struct BandInterpolation {
    let lower: [Int]
    let weight: [Float]

    init(_ bands: GainBands) {
        var lower = [Int](repeating: 0, count: bands.binCount), weight = [Float](repeating: 0, count: bands.binCount)
        var b = 0
        for f in 0..<bands.binCount {
            let x = Double(f)
            while b + 1 < bands.bandCount && bands.centre(b + 1) <= x { b += 1 }
            lower[f] = b
            if b + 1 < bands.bandCount, x > bands.centre(b) {
                weight[f] = Float((x - bands.centre(b)) / (bands.centre(b + 1) - bands.centre(b)))
            }
        }
        self.lower = lower
        self.weight = weight
    }
}
