// SPDX-License-Identifier: GPL-3.0-or-later
// The noise floor of one channel's frame power: a slowly rising minimum that forgets a dip and ignores digital silence.

/// Tracks the noise floor of a channel from its frame power Σ|X|² (the units of the frame's
/// power; 0 = none measured yet): the running minimum, rising +2 dB per second so it follows a
/// noise that gets louder while speech (louder for less than a second) does not lift it.
///
/// Two guards keep a fault from stalling it:
/// - frames that overlap a hop of digital silence (zero input, replaced non-finite samples,
///   denormals) are not observed: their energy is that of the few sound samples under the window's
///   tapered edge, not of the noise;
/// - the floor never stays below the lowest frame of the last `window` (≈ 2 s of sound, kept as
///   four sub-window minima): after a dip (a mute, a 60 dB step) it returns to the noise within
///   that time instead of climbing back at 2 dB/s. Where a frame near the floor comes at least every
///   two seconds, as between the words of speech, this changes nothing.
///
/// Real-time safe: fixed-size value, no allocation.
struct NoiseFloorTracker {
    /// Sub-windows that make up the window; `subWindowHops` hops each.
    static let subWindowCount = 4
    /// The window over which the floor's lower bound is the lowest frame, in seconds.
    static let windowSeconds: Float = 2

    /// Per hop, the factor by which the running minimum rises (power).
    private let rise: Float
    /// Hops per sub-window.
    private let subWindowHops: Int
    /// Hops per frame (rounded up): a hop of silence touches this many frames.
    private let hopsPerFrame: Int
    /// Running minimum with its rise; `.infinity` until the first observed frame.
    private var runningMinimum: Float = .infinity
    /// Lowest observed frame of each finished sub-window, `.infinity` where none was observed.
    private var subWindowMinima = InlineArray<4, Float>(repeating: .infinity)
    /// Lowest observed frame of the sub-window in progress.
    private var currentMinimum: Float = .infinity
    private var hopsInSubWindow = 0
    private var nextSubWindow = 0
    /// Hops since the last hop of digital silence (saturates at `hopsPerFrame`).
    private var hopsSinceSilence: Int

    init(hopLength: Int, frameLength: Int, sampleRate: Int) {
        let hopSeconds = Float(hopLength) / Float(sampleRate)
        rise = Float.pow(10, 0.2 * hopSeconds)
        subWindowHops = max(1, Int((Self.windowSeconds / Float(Self.subWindowCount) / hopSeconds).rounded()))
        hopsPerFrame = (frameLength + hopLength - 1) / hopLength
        hopsSinceSilence = 0   // the input history starts as zeros
    }

    /// The floor: the running minimum, raised to the lowest frame of the last window when every
    /// sub-window of it observed a frame (after digital silence the running minimum alone holds
    /// until a whole window of sound has been seen). `.infinity` before any frame was observed
    /// (every frame then counts as near the floor).
    var floor: Float {
        @_noLocks get {
            var windowMinimum = currentMinimum
            for i in 0..<Self.subWindowCount {
                guard subWindowMinima[i] < .infinity else { return runningMinimum }
                windowMinimum = Swift.min(windowMinimum, subWindowMinima[i])
            }
            return Swift.max(runningMinimum, windowMinimum)
        }
    }

    /// True while the current frame overlaps a hop of digital silence: the frame says nothing about
    /// the noise (neither its level nor its spectrum).
    var overlapsSilence: Bool { @_noLocks get { hopsSinceSilence < hopsPerFrame } }

    /// Takes over `other`'s state (its floor, window and silence count), keeping this tracker's
    /// constants: for an engine that continues another's signal.
    @_noLocks
    mutating func adopt(_ other: NoiseFloorTracker) {
        runningMinimum = other.runningMinimum
        subWindowMinima = other.subWindowMinima
        currentMinimum = other.currentMinimum
        hopsInSubWindow = Swift.min(other.hopsInSubWindow, subWindowHops - 1)
        nextSubWindow = other.nextSubWindow
        hopsSinceSilence = Swift.min(other.hopsSinceSilence, hopsPerFrame)
    }

    /// Takes one hop: `hopEnergy` Σx² of its new input samples (0 for digital silence) and
    /// `framePower` Σ|X|² of the frame that ends with it; `startsSilent`: its first sample is
    /// digital silence. A frame of power 0 is not observed (it would pin the minimum at 0).
    @_noLocks
    mutating func observe(hopEnergy: Float, framePower: Float, startsSilent: Bool = false) {
        // Digital silence stops the clock as well: the tracker's state depends on sound alone, so an
        // engine that heard silence first (a live host before the music starts) tracks exactly as
        // one that did not (the same file offline). The hop in which sound begins after silence,
        // unless it begins at the hop's first sample, counts with the silence: the frames that hold
        // it hold the step from silence to sound inside them, whose spectrum (splatter up to the
        // top bin) is not the noise's either; a 16-bit band-limited source whose lead of zeros was
        // not a whole number of hops had its noise-only mean started 100 times too high above
        // 8 kHz by that step (docs/QUALITY.md, "a 16-bit band-limited source at 48 kHz").
        guard hopEnergy > 0, !(startsSilent && hopsSinceSilence == 0) else {
            hopsSinceSilence = 0
            return
        }
        hopsSinceSilence = Swift.min(hopsSinceSilence + 1, hopsPerFrame)
        if hopsSinceSilence >= hopsPerFrame, framePower > 0 {
            runningMinimum = framePower < runningMinimum ? framePower : runningMinimum * rise
            currentMinimum = Swift.min(currentMinimum, framePower)
        }
        hopsInSubWindow += 1
        if hopsInSubWindow == subWindowHops {
            subWindowMinima[nextSubWindow] = currentMinimum
            nextSubWindow = (nextSubWindow + 1) % Self.subWindowCount
            currentMinimum = .infinity
            hopsInSubWindow = 0
        }
    }
}
