// SPDX-License-Identifier: GPL-3.0-or-later
// The basis W = [Ws Wn]: speech atoms then noise atoms, one spectral template per column.

/// A non-negative basis of `binCount × rank` values, bin-major (row f holds atom weights for bin f),
/// speech atoms first. Built off the audio thread; the engine copies it into its own padded layout.
public struct Basis: Sendable, Equatable {
    public let binCount: Int
    public let speechRank: Int
    public let noiseRank: Int
    /// `binCount × rank` values, row-major by bin: `values[f * rank + k]`.
    public let values: [Float]
    /// Per-atom L1 penalty (sparsity λₖ, or the rate of an exponential prior), `rank` values ≥ 0;
    /// nil means the configuration's single `sparsity` for every atom.
    public let atomPenalties: [Float]?

    public var rank: Int { speechRank + noiseRank }

    /// Checks shapes and that every value is finite and ≥ 0.
    public init(binCount: Int, speechRank: Int, noiseRank: Int, values: [Float],
                atomPenalties: [Float]? = nil) throws(EngineError) {
        guard speechRank > 0, noiseRank > 0 else { throw .emptyBasis }
        guard binCount > 0, values.count == binCount * (speechRank + noiseRank) else {
            throw .basisShape(expectedBins: binCount, basisBins: values.count / max(1, speechRank + noiseRank))
        }
        guard Self.allFiniteAndNonNegative(values) else { throw .nonFiniteBasis }
        if let atomPenalties {
            guard atomPenalties.count == speechRank + noiseRank,
                  atomPenalties.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
                throw .invalidSetting(.atomPenalties, value: "\(atomPenalties.count) values",
                                      allowed: "\(speechRank + noiseRank) finite values ≥ 0")
            }
        }
        self.binCount = binCount
        self.speechRank = speechRank
        self.noiseRank = noiseRank
        self.values = values
        self.atomPenalties = atomPenalties
    }

    /// Whether every value is finite and ≥ 0: one pass over the floats, eight at a time (a basis is
    /// checked whenever an engine is made; `allSatisfy` with a closure cost a short `process` 3 % of
    /// its instructions).
    static func allFiniteAndNonNegative(_ values: [Float]) -> Bool {
        values.withUnsafeBufferPointer { buffer in
            var bad = SIMDMask<SIMD8<Int32>>(repeating: false), i = 0
            while i + 8 <= buffer.count {
                let x = SIMD8<Float>(buffer[i..<(i + 8)])
                bad .|= .!((x .>= 0) .& (x .<= .greatestFiniteMagnitude))   // NaN fails both
                i += 8
            }
            return !any(bad) && buffer[i...].allSatisfy { $0 >= 0 && $0 <= .greatestFiniteMagnitude }
        }
    }

    /// Weight of atom k in bin f.
    @inline(__always) public subscript(bin f: Int, atom k: Int) -> Float { values[f * rank + k] }
}
