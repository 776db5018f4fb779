// SPDX-License-Identifier: GPL-3.0-or-later
// Live controls written by a control thread and telemetry written by the audio thread, all atomics.

import RealModule
import Synchronization

/// The values of the live controls, as one plain value: what a preset (with the command line's
/// overrides) sets, and what `ControlBlock` reports.
public struct ControlValues: Sendable, Equatable {
    /// Attenuation limit in dB, −120…0.
    public var floorDecibels: Float
    /// Wet/dry mix, 0…1.
    public var wet: Float
    /// Mask exponent p, 1 or 2.
    public var maskExponent: Int
    /// Solver updates per frame, ≥ 0 (each engine clamps to its own maximum).
    public var iterations: Int

    public init(floorDecibels: Float, wet: Float, maskExponent: Int, iterations: Int) {
        self.floorDecibels = floorDecibels
        self.wet = wet
        self.maskExponent = maskExponent
        self.iterations = iterations
    }

    /// The configuration's values.
    public init(_ configuration: EngineConfiguration) {
        self.init(floorDecibels: configuration.floorDecibels, wet: configuration.wet,
                  maskExponent: configuration.maskExponent, iterations: configuration.iterations)
    }
}

/// One live control, for saying which were set live.
public enum ControlParameter: String, Sendable, CaseIterable, CustomStringConvertible {
    case floorDecibels = "floor", wet, maskExponent = "mask exponent", iterations, noiseBound = "noise bound", bypass

    public var description: String { rawValue }
}

/// Targets the engine follows, smoothed on the audio thread (no zipper noise, click-free bypass).
///
/// Two layers per control: the *default* (the preset's value with the command line's override,
/// written by the host with `setDefaults(_:)` when it builds or reloads an engine) and the *live*
/// value (written through the setters, e.g. by a control socket). The live value wins while it is
/// set; a reload replaces the defaults and leaves live values alone. Both layers are atomics: a
/// host shares one block with every engine it builds, so an engine swap neither copies nor loses
/// a control, also one written during the swap. Written from any thread; read once per hop.
public final class ControlBlock: Sendable {
    /// Bit pattern of a Float; `unset` (a NaN) in the live layer means "not set live".
    private let floorGainDefault: Atomic<UInt32>
    private let floorGainLive = Atomic<UInt32>(ControlBlock.unsetFloat)
    private let wetDefault: Atomic<UInt32>
    private let wetLive = Atomic<UInt32>(ControlBlock.unsetFloat)
    /// `Int.min` in the live layer means "not set live".
    private let maskExponentDefault: Atomic<Int>
    private let maskExponentLive = Atomic<Int>(Int.min)
    private let iterationsDefault: Atomic<Int>
    private let iterationsLive = Atomic<Int>(Int.min)
    /// Live only (no preset sets it): −1 unset, 0 off, 1 on.
    private let bypassLive = Atomic<Int>(-1)
    /// Set by the host, not by a user: its engine does not fit the server (another sample rate).
    private let passThroughForced = Atomic<Bool>(false)
    /// Live only: the noise bound as a magnitude factor 10^(dB/20), 0 for off, `unset` for "each
    /// engine's configured bound" (the preset's, which a reload may change).
    private let noiseBoundGainLive = Atomic<UInt32>(ControlBlock.unsetFloat)

    private static var unsetFloat: UInt32 { 0x7FC0_0001 }

    public init(_ values: ControlValues) {
        floorGainDefault = Atomic(Self.gain(decibels: Self.clampFloor(values.floorDecibels)).bitPattern)
        wetDefault = Atomic(Self.clampWet(values.wet).bitPattern)
        maskExponentDefault = Atomic(Self.clampExponent(values.maskExponent))
        iterationsDefault = Atomic(max(0, values.iterations))
    }

    public convenience init(_ configuration: EngineConfiguration) { self.init(ControlValues(configuration)) }

    /// 10^(dB/20), computed on the caller's thread.
    public static func gain(decibels: Float) -> Float { Float.pow(10, decibels / 20) }

    // MARK: - Defaults (the host)

    /// Replaces the default layer (a preset's values with the command line's overrides). Live
    /// values stay in force; `liveParameters` says which.
    public func setDefaults(_ values: ControlValues) {
        floorGainDefault.store(Self.gain(decibels: Self.clampFloor(values.floorDecibels)).bitPattern, ordering: .relaxed)
        wetDefault.store(Self.clampWet(values.wet).bitPattern, ordering: .relaxed)
        maskExponentDefault.store(Self.clampExponent(values.maskExponent), ordering: .relaxed)
        iterationsDefault.store(max(0, values.iterations), ordering: .relaxed)
    }

    /// The controls that hold a live value, in `ControlParameter.allCases` order.
    public var liveParameters: [ControlParameter] {
        var set: [ControlParameter] = []
        if floorGainLive.load(ordering: .relaxed) != Self.unsetFloat { set.append(.floorDecibels) }
        if wetLive.load(ordering: .relaxed) != Self.unsetFloat { set.append(.wet) }
        if maskExponentLive.load(ordering: .relaxed) != Int.min { set.append(.maskExponent) }
        if iterationsLive.load(ordering: .relaxed) != Int.min { set.append(.iterations) }
        if noiseBoundGainLive.load(ordering: .relaxed) != Self.unsetFloat { set.append(.noiseBound) }
        if bypassLive.load(ordering: .relaxed) >= 0 { set.append(.bypass) }
        return set
    }

    /// Drops the live value of `parameter`: the default applies again.
    public func clearLive(_ parameter: ControlParameter) {
        switch parameter {
        case .floorDecibels: floorGainLive.store(Self.unsetFloat, ordering: .relaxed)
        case .wet: wetLive.store(Self.unsetFloat, ordering: .relaxed)
        case .maskExponent: maskExponentLive.store(Int.min, ordering: .relaxed)
        case .iterations: iterationsLive.store(Int.min, ordering: .relaxed)
        case .noiseBound: noiseBoundGainLive.store(Self.unsetFloat, ordering: .relaxed)
        case .bypass: bypassLive.store(-1, ordering: .relaxed)
        }
    }

    /// The values in force (live where set, else default); `bypass` is separate.
    public var values: ControlValues {
        ControlValues(floorDecibels: floorDecibels, wet: wet, maskExponent: maskExponent, iterations: iterations)
    }

    // MARK: - Live values (any thread)

    /// Attenuation limit in dB (≤ 0); setting it sets the live value, clamped to −120…0.
    public var floorDecibels: Float {
        get { 20 * Float.log10(max(floorGain, 1e-6)) }
        set { floorGainLive.store(Self.gain(decibels: Self.clampFloor(newValue)).bitPattern, ordering: .relaxed) }
    }

    /// Wet/dry mix; setting it sets the live value, clamped to 0…1 (non-finite: 1).
    public var wet: Float {
        get { Float(bitPattern: pick(wetLive, wetDefault)) }
        set { wetLive.store(Self.clampWet(newValue).bitPattern, ordering: .relaxed) }
    }

    /// Mask exponent: 1 or 2 (other values are rounded to the nearer one).
    public var maskExponent: Int {
        get { maskExponentNow }
        set { maskExponentLive.store(Self.clampExponent(newValue), ordering: .relaxed) }
    }

    /// Updates per frame; the engine clamps to its maximum.
    public var iterations: Int {
        get { iterationsNow }
        set { iterationsLive.store(max(0, newValue), ordering: .relaxed) }
    }

    /// When true the output fades to the delayed input.
    public var bypass: Bool {
        get { bypassLive.load(ordering: .relaxed) == 1 }
        set { bypassLive.store(newValue ? 1 : 0, ordering: .relaxed) }
    }

    /// Set by the host while its engine does not fit the server (the server changed its sample rate
    /// to one no preset serves): the output fades to the delayed input as with `bypass`, whatever
    /// `bypass` says, and the live `bypass` value is kept for when the host clears this.
    public var passThrough: Bool {
        get { passThroughForced.load(ordering: .relaxed) }
        set { passThroughForced.store(newValue, ordering: .relaxed) }
    }

    /// The live noise bound: nil when not set live (each engine uses its configuration's bound);
    /// `.some(nil)` when set live to off; else dB relative to the mean noise-only spectrum.
    /// Setting clamps to −120…20 dB; non-finite values turn the bound off.
    public var noiseBoundDecibels: Float?? {
        get {
            let bits = noiseBoundGainLive.load(ordering: .relaxed)
            guard bits != Self.unsetFloat else { return nil }
            let gain = Float(bitPattern: bits)
            return .some(gain > 0 ? 20 * Float.log10(gain) : nil)
        }
        set {
            switch newValue {
            case nil: clearLive(.noiseBound)
            case .some(nil): noiseBoundGainLive.store(Float(0).bitPattern, ordering: .relaxed)
            case .some(let decibels?):
                let gain = decibels.isFinite ? Self.gain(decibels: min(20, max(-120, decibels))) : 0
                noiseBoundGainLive.store(gain.bitPattern, ordering: .relaxed)
            }
        }
    }

    // MARK: - Real-time reads

    /// The live noise bound as a magnitude factor (0: off), or NaN when not set live.
    public var noiseBoundGain: Float { @_noLocks get { Float(bitPattern: noiseBoundGainLive.load(ordering: .relaxed)) } }

    /// The floor gain in force, linear.
    public var floorGain: Float { @_noLocks get { Float(bitPattern: pick(floorGainLive, floorGainDefault)) } }
    var wetTarget: Float {
        @_noLocks get {
            let bypassed = bypassLive.load(ordering: .relaxed) == 1, forced = passThroughForced.load(ordering: .relaxed)
            return bypassed || forced ? 0 : Float(bitPattern: pick(wetLive, wetDefault))
        }
    }
    var maskExponentNow: Int {
        @_noLocks get {
            let live = maskExponentLive.load(ordering: .relaxed)
            return live != Int.min ? live : maskExponentDefault.load(ordering: .relaxed)
        }
    }
    var iterationsNow: Int {
        @_noLocks get {
            let live = iterationsLive.load(ordering: .relaxed)
            return live != Int.min ? live : iterationsDefault.load(ordering: .relaxed)
        }
    }

    @_noLocks @inline(__always)
    private func pick(_ live: borrowing Atomic<UInt32>, _ fallback: borrowing Atomic<UInt32>) -> UInt32 {
        let value = live.load(ordering: .relaxed)
        return value != 0x7FC0_0001 ? value : fallback.load(ordering: .relaxed)   // unsetFloat
    }

    private static func clampFloor(_ decibels: Float) -> Float { decibels.isFinite ? min(0, max(-120, decibels)) : 0 }
    private static func clampWet(_ wet: Float) -> Float { wet.isFinite ? min(1, max(0, wet)) : 1 }
    private static func clampExponent(_ p: Int) -> Int { p <= 1 ? 1 : 2 }
}

/// Counters the audio thread increments (relaxed) and any thread reads.
public final class Telemetry: Sendable {
    /// Hops processed (per engine, not per channel).
    public let hops = Atomic<Int>(0)
    /// Samples processed per channel.
    public let samples = Atomic<Int>(0)
    /// Input samples that were NaN or ±Inf and were replaced by 0.
    public let nonFiniteSamples = Atomic<Int>(0)
    /// Channel-state resets caused by non-finite input or a diverged solve.
    public let nonFiniteResets = Atomic<Int>(0)
    /// Channel frames whose input was digital silence, below −100 dBFS (solve skipped, passed as is).
    public let silentFrames = Atomic<Int>(0)
    /// Channel frames judged noise-only that updated the adaptive noise atoms.
    public let adaptedFrames = Atomic<Int>(0)
    /// Output samples clamped to ±`Engine.outputLimit`.
    public let clippedSamples = Atomic<Int>(0)
    /// Input samples beyond ±`Engine.outputLimit` (finite), clamped to it before the analysis.
    public let clampedInputSamples = Atomic<Int>(0)
    /// Energy of the speech and of the noise estimate (Ŝ, N̂ after the noise bound) summed over
    /// bins and channel frames since the engine started, in the units of |X|² (bit patterns of
    /// Doubles; the audio thread is the only writer). Their ratio is the model's SNR estimate.
    public let speechEnergy = Atomic<UInt64>(0)
    public let noiseEnergy = Atomic<UInt64>(0)

    public init() {}
}

/// One frame's energy of the speech and of the noise estimate (`binCount` bins; magnitudes when
/// `spectrumExponent` is 1, powers when 2), for `Telemetry.speechEnergy` and `noiseEnergy`. Real-time safe.
@_noLocks @inline(__always)
public func estimateEnergies(speech: UnsafePointer<Float>, noise: UnsafePointer<Float>, binCount: Int,
                             spectrumExponent: Int) -> (speech: Float, noise: Float) {
    let squared = spectrumExponent == 1
    let speechEnergy = squared ? sumOfSquares(speech, count: binCount) : sumOfFloats(speech, count: binCount)
    let noiseEnergy = squared ? sumOfSquares(noise, count: binCount) : sumOfFloats(noise, count: binCount)
    return (speechEnergy, noiseEnergy)
}

extension Atomic where Value == UInt64 {
    /// Adds `x` to the Double whose bit pattern this holds; only for a cell with a single writer
    /// (a load and a store, not a read-modify-write). Non-finite values are ignored. Real-time safe.
    @_noLocks @inline(__always)
    public func addDouble(_ x: Float) {
        guard x.isFinite else { return }
        store((Double(bitPattern: load(ordering: .relaxed)) + Double(x)).bitPattern, ordering: .relaxed)
    }
}
