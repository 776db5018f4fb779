// SPDX-License-Identifier: GPL-3.0-or-later
// The noise-floor tracker: the running minimum and its rise, blindness to silence, a dip forgotten within the window.

@testable import SordinoDSP
import Testing
import TestSupport

struct NoiseFloorTrackerTests {
    /// 16 kHz, hop 128, frame 512: 125 hops per second, 4 hops per frame, sub-windows of 63 hops;
    /// past its first three hops (whose frames overlap the zeros the input history starts with).
    static func tracker() -> NoiseFloorTracker {
        var t = NoiseFloorTracker(hopLength: 128, frameLength: 512, sampleRate: 16000)
        for _ in 0..<3 { t.observe(hopEnergy: 1, framePower: 0) }
        return t
    }

    static let hopsPerSecond = 125

    /// Rises +2 dB/s (power) after its last minimum, and a lower frame resets it.
    @Test func runningMinimumRisesTwoDecibelsPerSecond() {
        var t = Self.tracker()
        t.observe(hopEnergy: 1, framePower: 1)
        #expect(t.floor == 1)
        for _ in 0..<Self.hopsPerSecond { t.observe(hopEnergy: 1, framePower: 100) }
        let decibels = 10 * Float.log10(t.floor)
        #expect(abs(decibels - 2) < 0.01, "rose \(decibels) dB in one second")
        t.observe(hopEnergy: 1, framePower: 0.5)
        #expect(t.floor == 0.5)
    }

    /// Frames overlapping a hop of digital silence (the hop itself and the three after it, as
    /// the frame is four hops long) are not observed, however low their power.
    @Test func framesOverlappingSilenceAreNotObserved() {
        var t = Self.tracker()
        t.observe(hopEnergy: 1, framePower: 10)
        t.observe(hopEnergy: 0, framePower: 1e-9)
        for _ in 0..<3 { t.observe(hopEnergy: 1, framePower: 1e-6) }
        #expect(t.floor > 9 && t.floor < 11, "a frame touching silence moved the floor to \(t.floor)")
        t.observe(hopEnergy: 1, framePower: 5)
        #expect(t.floor == 5)
    }

    /// The hop in which sound begins after silence, when its first sample is still silent, counts
    /// with the silence: its frame and the three after it hold the step from silence to sound and
    /// are not observed (nor is the noise-only mean started on them). A hop of sound from its first
    /// sample after silence, or one that starts silent in the midst of sound, is observed as before.
    @Test func theHopWhereSoundBeginsMidwayCountsWithTheSilence() {
        var t = Self.tracker()
        t.observe(hopEnergy: 1, framePower: 10)
        t.observe(hopEnergy: 0, framePower: 1e-9)
        t.observe(hopEnergy: 1, framePower: 1e-3, startsSilent: true)
        for _ in 0..<3 {
            #expect(t.overlapsSilence)
            t.observe(hopEnergy: 1, framePower: 1e-6)
        }
        #expect(t.overlapsSilence, "the fourth frame after the edge still holds its hop")
        #expect(t.floor > 9 && t.floor < 11, "a frame holding the step moved the floor to \(t.floor)")
        t.observe(hopEnergy: 1, framePower: 5)
        #expect(!t.overlapsSilence && t.floor == 5)
        // Sound from the hop's first sample: the edge is the frame's, as before.
        t.observe(hopEnergy: 0, framePower: 1e-9)
        for _ in 0..<3 { t.observe(hopEnergy: 1, framePower: 1e-6, startsSilent: false) }
        t.observe(hopEnergy: 1, framePower: 2)
        #expect(!t.overlapsSilence && t.floor == 2)
        // A first sample at zero amid sound is a zero crossing, not an edge.
        t.observe(hopEnergy: 1, framePower: 1, startsSilent: true)
        #expect(!t.overlapsSilence && t.floor == 1)
    }

    /// A frame of power 0 is never observed (it would pin the minimum at 0).
    @Test func zeroPowerIsNotObserved() {
        var t = Self.tracker()
        t.observe(hopEnergy: 1, framePower: 2)
        t.observe(hopEnergy: 1, framePower: 0)
        #expect(t.floor > 0)
    }

    /// After 1 s at −60 dB the floor is back at the noise's level once the window (2 s) has passed
    /// the dip, instead of climbing back at 2 dB/s (30 s for 60 dB).
    @Test func aDipIsForgottenWithinTheWindow() {
        var t = Self.tracker()
        var g = SeededGenerator(seed: 5)
        func noise() -> Float { 1 + 9 * g.unit() }   // power 1…10
        for _ in 0..<(3 * Self.hopsPerSecond) { t.observe(hopEnergy: 1, framePower: noise()) }
        for _ in 0..<Self.hopsPerSecond { t.observe(hopEnergy: 1, framePower: 1e-6 * noise()) }
        #expect(t.floor < 1e-5)
        for _ in 0..<(Self.hopsPerSecond * 5 / 2) { t.observe(hopEnergy: 1, framePower: noise()) }
        #expect(t.floor >= 1 && t.floor < 1.2, "floor \(t.floor) 2.5 s after the dip")
    }

    /// When a frame near the floor comes within every window, the floor is the running minimum
    /// alone: speech with pauses keeps its floor, and 3 s of louder frames lift it only by the rise.
    @Test func theWindowDoesNotLiftAFloorThatIsMet() {
        var t = Self.tracker()
        for i in 0..<(4 * Self.hopsPerSecond) {
            t.observe(hopEnergy: 1, framePower: i % 50 == 0 ? 1 : 1000)
        }
        #expect(t.floor < Float.pow(10, 0.2 * 0.4) * 1.0001, "floor \(t.floor)")
    }

    /// After more than a window of silence the floor from before holds until a whole window of
    /// sound has been observed: the first (loud) frames after it do not become the floor.
    @Test func afterLongSilenceTheOldFloorHolds() {
        var t = Self.tracker()
        for _ in 0..<(3 * Self.hopsPerSecond) { t.observe(hopEnergy: 1, framePower: 1) }
        for _ in 0..<(3 * Self.hopsPerSecond) { t.observe(hopEnergy: 0, framePower: 0) }
        for _ in 0..<(Self.hopsPerSecond / 2) { t.observe(hopEnergy: 1, framePower: 1000) }
        #expect(t.floor < 1.5, "floor \(t.floor) after silence and 0.5 s of loud frames")
    }

    /// Digital silence before the sound changes nothing (a live engine that waited for the music
    /// tracks exactly as the same file processed offline): the floors agree at every hop.
    @Test func leadingSilenceChangesNothing() {
        var fresh = NoiseFloorTracker(hopLength: 128, frameLength: 512, sampleRate: 16000)
        var waited = fresh
        for _ in 0..<777 { waited.observe(hopEnergy: 0, framePower: 0) }
        var g = SeededGenerator(seed: 11)
        for hop in 0..<(6 * Self.hopsPerSecond) {
            let power = hop % 300 < 150 ? 1 + 9 * g.unit() : 1e-4 * (1 + g.unit())
            fresh.observe(hopEnergy: 1, framePower: power)
            waited.observe(hopEnergy: 1, framePower: power)
            #expect(fresh.floor == waited.floor, "hop \(hop): \(fresh.floor) against \(waited.floor)")
            if fresh.floor != waited.floor { break }
        }
    }

    /// The first frames overlap the zeros the input history starts with: not observed.
    @Test func theFirstFramesAreNotObserved() {
        var t = NoiseFloorTracker(hopLength: 128, frameLength: 512, sampleRate: 16000)
        for _ in 0..<3 { t.observe(hopEnergy: 1, framePower: 1e-9) }
        #expect(t.floor == .infinity)
        t.observe(hopEnergy: 1, framePower: 2)
        #expect(t.floor == 2)
    }

    /// Adopting another tracker's state carries its floor over.
    @Test func adoptCarriesTheFloor() {
        var a = Self.tracker(), b = Self.tracker()
        a.observe(hopEnergy: 1, framePower: 3)
        b.adopt(a)
        #expect(b.floor == 3)
    }
}
