// SPDX-License-Identifier: GPL-3.0-or-later
// Real FFT over FFTW single precision: plans made once on owned buffers, executed allocation-free.

internal import CFFTW
internal import SordinoLock

/// FFTW's planner, which is not thread-safe: every plan creation and destruction happens under this
/// lock. Execution needs no lock (FFTW documents `fftwf_execute` as thread-safe).
private let planner = Locked(WisdomState())

/// The shipped wisdom (`fftwWisdom`), imported before the first plan, and which lengths of
/// `fftwWisdomLengths` it gives both directions' plans for on this FFTW build and CPU. A length is
/// planned from the wisdom alone (`FFTW_WISDOM_ONLY`) the first time it is planned or asked about,
/// before any plan of it exists: FFTW adds every plan it makes to its wisdom, so asking later could
/// not tell (a plan of another length adds its own problems and their parts, not this length's
/// transform). One length at a time: a process that plans 512 points pays for no other length's
/// twiddle factors (checking all five at the first plan cost a `process` of a short file 5 % of its
/// instructions).
private struct WisdomState {
    /// nil until the first plan: then whether FFTW accepted the shipped wisdom.
    private var imported: Bool?
    private var coverage: [Int: Bool] = [:]

    /// Whether both of `length`'s plans come from the shipped wisdom; imports it on first use.
    mutating func covers(_ length: Int) -> Bool {
        if imported == nil { imported = fftwf_import_wisdom_from_string(fftwWisdom) != 0 }
        if let known = coverage[length] { return known }
        let covered = imported == true && fftwWisdomLengths.contains(length) && Self.plansFromWisdomAlone(length)
        coverage[length] = covered
        return covered
    }

    private static func plansFromWisdomAlone(_ length: Int) -> Bool {
        guard let time = fftwf_alloc_real(length), let spectrum = fftwf_alloc_complex(length / 2 + 1) else { return false }
        defer { fftwf_free(time); fftwf_free(spectrum) }
        let flags = UInt32(FFTW_ESTIMATE) | UInt32(FFTW_WISDOM_ONLY)
        let forward = fftwf_plan_dft_r2c_1d(Int32(length), time, spectrum, flags)
        let inverse = fftwf_plan_dft_c2r_1d(Int32(length), spectrum, time, flags)
        defer { if let forward { fftwf_destroy_plan(forward) }; if let inverse { fftwf_destroy_plan(inverse) } }
        return forward != nil && inverse != nil
    }
}

/// A forward (real → half-complex) and inverse transform of one length, on buffers it owns.
/// Forward: `time` (length floats) → `spectrum` (binCount interleaved re, im pairs).
/// Inverse: `spectrum` → `time`, unnormalised (scaled by `length`); the inverse overwrites `spectrum`.
/// Planned with `FFTW_ESTIMATE` after importing the shipped wisdom (`fftwWisdom`, the measured plans
/// for the shipped presets' lengths): no timing is taken at start, so two instances of one length
/// compute bit-identical results, in one process or in two.
public struct RealFFT: ~Copyable {
    /// Transform length in samples (the FFT size).
    public let length: Int
    /// Number of bins, `length / 2 + 1`.
    public let binCount: Int
    /// Time-domain buffer, `length` floats, 16-byte aligned by FFTW.
    public let time: UnsafeMutablePointer<Float>
    /// Spectrum, `2 · binCount` floats: re₀, im₀, re₁, im₁, …
    public let spectrum: UnsafeMutablePointer<Float>
    private let forwardPlan: OpaquePointer
    private let inversePlan: OpaquePointer

    /// Allocates the buffers and plans both directions. Not real-time safe.
    public init(length: Int) throws(EngineError) {
        guard length >= 4, length % 2 == 0 else { throw .invalidFFTLength(length) }
        let bins = length / 2 + 1
        guard let timeRaw = fftwf_alloc_real(length) else { throw .outOfMemory }
        guard let spectrumRaw = fftwf_alloc_complex(bins) else { fftwf_free(timeRaw); throw .outOfMemory }
        timeRaw.initialize(repeating: 0, count: length)
        let spectrumFloats = UnsafeMutableRawPointer(spectrumRaw).assumingMemoryBound(to: Float.self)
        spectrumFloats.initialize(repeating: 0, count: 2 * bins)
        let plans = planner.withLock { state in
            _ = state.covers(length)
            return (fftwf_plan_dft_r2c_1d(Int32(length), timeRaw, spectrumRaw, UInt32(FFTW_ESTIMATE)),
                    fftwf_plan_dft_c2r_1d(Int32(length), spectrumRaw, timeRaw, UInt32(FFTW_ESTIMATE)))
        }
        guard let forward = plans.0, let inverse = plans.1 else {
            fftwf_free(timeRaw); fftwf_free(spectrumRaw)
            throw .outOfMemory
        }
        self.length = length
        binCount = bins
        time = timeRaw
        spectrum = spectrumFloats
        forwardPlan = forward
        inversePlan = inverse
    }

    /// Whether both directions' plans for `length` come from the shipped wisdom, not from FFTW's
    /// estimate: true for the shipped presets' lengths where this FFTW build and CPU can use it.
    public static func plannedFromWisdom(length: Int) -> Bool {
        planner.withLock { $0.covers(length) }
    }

    /// `time` → `spectrum`. Real-time safe. Cost ≈ 2.5 · length · log₂(length) flops.
    @_noLocks @inline(__always) public func forward() { execute(forwardPlan) }

    /// `spectrum` → `time`, scaled by `length`. Real-time safe.
    @_noLocks @inline(__always) public func inverse() { execute(inversePlan) }

    @_noLocks @inline(__always) private func execute(_ plan: OpaquePointer) {
        // Safe: fftwf_execute neither allocates nor locks; the plan was made in init on these buffers.
        _unsafePerformance { fftwf_execute(plan) }
    }

    deinit {
        let plans = (forwardPlan, inversePlan)
        planner.withLock { _ in
            fftwf_destroy_plan(plans.0)
            fftwf_destroy_plan(plans.1)
        }
        fftwf_free(time)
        fftwf_free(UnsafeMutableRawPointer(spectrum))
    }
}
