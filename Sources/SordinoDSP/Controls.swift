// SPDX-License-Identifier: GPL-3.0-or-later
// Live controls written by a control thread and telemetry written by the audio thread, all atomics.

import RealModule
import Synchronization

/// Targets the engine follows, smoothed on the audio thread (no zipper noise, click-free bypass).
/// Written from any thread; read once per hop with relaxed ordering.
public final class ControlBlock: Sendable {
    /// Mask floor as a linear gain 0…1 (bit pattern of a Float).
    private let floorGainBits: Atomic<UInt32>
    /// Wet/dry mix 0…1 (bit pattern of a Float).
    private let wetBits: Atomic<UInt32>
    /// Mask exponent p, 1 or 2.
    private let maskExponentValue: Atomic<Int>
    /// Updates per frame, 0…the engine's maximum.
    private let iterationsValue: Atomic<Int>
    /// When true the output fades to the delayed input.
    private let bypassValue: Atomic<Bool>

    public init(_ configuration: EngineConfiguration) {
        floorGainBits = Atomic(Self.gain(decibels: configuration.floorDecibels).bitPattern)
        wetBits = Atomic(configuration.wet.bitPattern)
        maskExponentValue = Atomic(configuration.maskExponent)
        iterationsValue = Atomic(configuration.iterations)
        bypassValue = Atomic(false)
    }

    /// 10^(dB/20), computed on the caller's thread.
    public static func gain(decibels: Float) -> Float { Float.pow(10, decibels / 20) }

    /// Attenuation limit in dB (≤ 0); values are clamped to −120…0.
    public var floorDecibels: Float {
        get { 20 * Float.log10(max(floorGain, 1e-6)) }
        set { floorGainBits.store(Self.gain(decibels: min(0, max(-120, newValue))).bitPattern, ordering: .relaxed) }
    }

    /// Wet/dry mix, clamped to 0…1.
    public var wet: Float {
        get { Float(bitPattern: wetBits.load(ordering: .relaxed)) }
        set { wetBits.store(min(1, max(0, newValue.isFinite ? newValue : 1)).bitPattern, ordering: .relaxed) }
    }

    /// Mask exponent: 1 or 2 (other values are rounded to the nearer one).
    public var maskExponent: Int {
        get { maskExponentValue.load(ordering: .relaxed) }
        set { maskExponentValue.store(newValue <= 1 ? 1 : 2, ordering: .relaxed) }
    }

    /// Updates per frame; the engine clamps to its maximum.
    public var iterations: Int {
        get { iterationsValue.load(ordering: .relaxed) }
        set { iterationsValue.store(max(0, newValue), ordering: .relaxed) }
    }

    public var bypass: Bool {
        get { bypassValue.load(ordering: .relaxed) }
        set { bypassValue.store(newValue, ordering: .relaxed) }
    }

    /// Real-time read of the floor gain.
    public var floorGain: Float { @_noLocks get { Float(bitPattern: floorGainBits.load(ordering: .relaxed)) } }
    var wetTarget: Float {
        @_noLocks get { bypassValue.load(ordering: .relaxed) ? 0 : Float(bitPattern: wetBits.load(ordering: .relaxed)) }
    }
    var maskExponentNow: Int { @_noLocks get { maskExponentValue.load(ordering: .relaxed) } }
    var iterationsNow: Int { @_noLocks get { iterationsValue.load(ordering: .relaxed) } }
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
    /// Channel frames whose input was digital silence (solve skipped).
    public let silentFrames = Atomic<Int>(0)
    /// Channel frames judged noise-only that updated the adaptive noise atoms.
    public let adaptedFrames = Atomic<Int>(0)
    /// Output samples clamped to ±`Engine.outputLimit`.
    public let clippedSamples = Atomic<Int>(0)

    public init() {}
}
