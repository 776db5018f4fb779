// SPDX-License-Identifier: GPL-3.0-or-later
// The one β-NMF driver: passes, learning curve, timing and progress over a pluggable back-end.

import SordinoDSP

/// Where a β-NMF run's arithmetic happens. A back-end holds V, W and H (W and H updated in place)
/// and the scratch of its own update order; the driver (`FactorisationDriver`) only asks it for
/// objectives and passes, so every factorisation shares one loop, one learning curve and one
/// progress report. Two back-ends exist: `ChunkedBackend` (training: H then W per pass over chunks
/// of frames, scratch O(bins × chunk); its H step by GEMMs or by the live engine's
/// `ActivationSolver` for fixed-basis solves) and `WholeMatrixBackend` (decomposition: W then H
/// on the whole matrix, MU/MM/ME and SQUAREM; scratch 3 × bins × frames, ≈ 230 MB for training's
/// 257 × 75 000 against 3.3 MB chunked).
protocol FactorisationBackend {
    /// The objective of the current W and H; then, when `update`, one update pass from them.
    mutating func sweep(update: Bool) throws(NMFError) -> Double
}

/// A back-end SQUAREM can extrapolate: W and H in place, and a sweep's two halves apart.
protocol ExtrapolatableBackend: FactorisationBackend {
    /// W (bins × rank) and H (rank × frames), row-major.
    var basis: UnsafeMutablePointer<Float> { get }
    var activations: UnsafeMutablePointer<Float> { get }
    /// Prepares an update from the current W and H; returns their objective when `measure` (else 0).
    mutating func prepare(measure: Bool) -> Double
    /// One update pass from what `prepare` left.
    mutating func update()
}

extension ExtrapolatableBackend {
    mutating func sweep(update: Bool) throws(NMFError) -> Double {
        let objective = prepare(measure: true)
        if update { self.update() }
        return objective
    }
}

/// The learning curve of a run.
struct LearningCurve {
    /// The objective of the initial factors, then of the iterate held after each pass.
    var objective: [Double] = []
    /// Wall-clock seconds from the start until each entry of `objective` was reached (0 first).
    var elapsedSeconds: [Double] = []
    /// Why the run stopped.
    var stop: StopReason = .passes(0)
}

/// Runs a back-end until its `StoppingRule` says so and records its learning curve. Pass p's
/// objective is measured by the sweep that also makes pass p + 1, so a pass costs one sweep; the
/// last sweep only measures (a tolerance met at pass p therefore ends the run after pass p + 1).
/// Progress is called after every pass with its number (1-based) and objective. A non-finite
/// objective ends the run with `NMFError.diverged`.
struct FactorisationDriver {
    let stopping: StoppingRule
    let progress: ((_ iteration: Int, _ objective: Double) -> Void)?

    init(_ stopping: StoppingRule, progress: ((_ iteration: Int, _ objective: Double) -> Void)?) {
        self.stopping = stopping
        self.progress = progress
    }

    private final class Recorder {
        var curve = LearningCurve()
        let progress: ((Int, Double) -> Void)?
        let clock = ContinuousClock()
        let start: ContinuousClock.Instant

        init(progress: ((Int, Double) -> Void)?) {
            self.progress = progress
            start = clock.now
        }

        var seconds: Double {
            let d = start.duration(to: clock.now)
            return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }

        func record(_ value: Double, reachedAt time: Double) throws(NMFError) {
            curve.objective.append(value)
            curve.elapsedSeconds.append(time)
            let pass = curve.objective.count - 1
            if pass > 0 { progress?(pass, value) }
            guard value.isFinite else { throw .diverged(pass: pass, objective: value) }
        }
    }

    /// Plain passes θ ← F(θ).
    func run<Backend: FactorisationBackend>(_ backend: inout Backend) throws(NMFError) -> LearningCurve {
        let recorder = Recorder(progress: progress)
        var updating = stopping.passes > 0
        try recorder.record(try backend.sweep(update: updating), reachedAt: 0)
        var reason: StopReason?
        while updating {
            if reason == nil { reason = stopping.verdict(recorder.curve.objective) }
            updating = reason == nil && recorder.curve.objective.count < stopping.passes
            let reached = recorder.seconds
            try recorder.record(try backend.sweep(update: updating), reachedAt: reached)
        }
        recorder.curve.stop = reason ?? .passes(recorder.curve.objective.count - 1)
        return recorder.curve
    }

    /// Passes in SQUAREM cycles of three (`Acceleration.squarem`), plain passes when fewer than
    /// three are left. A cycle records θ₁, θ₂ and the iterate the safeguard keeps; the tolerance
    /// is checked at the end of each cycle on its mean decrease per pass (single passes after an
    /// extrapolation need not descend evenly), and after each plain pass.
    func runAccelerated<Backend: ExtrapolatableBackend>(_ backend: inout Backend,
                                                        cycle: SquaremCycle) throws(NMFError) -> LearningCurve {
        let recorder = Recorder(progress: progress)
        let w = backend.basis, h = backend.activations, iterations = stopping.passes
        /// Whether the tolerance is met over the last `span` passes (and records why).
        func converged(span: Int) -> Bool {
            guard let reason = stopping.verdict(recorder.curve.objective, span: span) else { return false }
            recorder.curve.stop = reason
            return true
        }
        try recorder.record(backend.prepare(measure: true), reachedAt: 0)
        recorder.curve.stop = .passes(iterations)
        var passes = 0
        while passes < iterations {
            guard iterations - passes >= 3 else {
                backend.update()
                let reached = recorder.seconds
                try recorder.record(backend.prepare(measure: true), reachedAt: reached)
                passes += 1
                if converged(span: 1) { break }
                continue
            }
            cycle.save(.start, basis: w, activations: h)
            backend.update()
            var reached = recorder.seconds
            try recorder.record(backend.prepare(measure: true), reachedAt: reached)
            cycle.save(.first, basis: w, activations: h)
            backend.update()
            reached = recorder.seconds
            let plain = backend.prepare(measure: true)
            try recorder.record(plain, reachedAt: reached)
            cycle.save(.second, basis: w, activations: h)
            cycle.extrapolate(basis: w, activations: h)
            _ = backend.prepare(measure: false)
            backend.update()
            let stabilised = backend.prepare(measure: true)
            let kept = stabilised <= plain   // false for NaN too
            cycle.settle(kept: kept)
            if !kept {
                cycle.restoreSecond(basis: w, activations: h)
                _ = backend.prepare(measure: false)
            }
            // Known only after the safeguard's objective (and the return to θ₂).
            try recorder.record(kept ? stabilised : plain, reachedAt: recorder.seconds)
            passes += 3
            if converged(span: 3) { break }
        }
        return recorder.curve
    }
}
