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
}

/// Runs a back-end for a number of passes and records its learning curve. Pass p's objective is
/// measured by the sweep that also makes pass p + 1, so a pass costs one sweep; the last sweep
/// only measures. Progress is called after every pass with its number (1-based) and objective.
struct FactorisationDriver {
    let iterations: Int
    let progress: ((_ iteration: Int, _ objective: Double) -> Void)?

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

        func record(_ value: Double, reachedAt time: Double) {
            curve.objective.append(value)
            curve.elapsedSeconds.append(time)
            if curve.objective.count > 1 { progress?(curve.objective.count - 1, value) }
        }
    }

    /// `iterations` plain passes: θ ← F(θ).
    func run<Backend: FactorisationBackend>(_ backend: inout Backend) throws(NMFError) -> LearningCurve {
        let recorder = Recorder(progress: progress)
        recorder.record(try backend.sweep(update: iterations > 0), reachedAt: 0)
        for pass in stride(from: 1, through: iterations, by: 1) {
            let reached = recorder.seconds
            recorder.record(try backend.sweep(update: pass < iterations), reachedAt: reached)
        }
        return recorder.curve
    }

    /// `iterations` passes in SQUAREM cycles of three (`Acceleration.squarem`), plain passes when
    /// fewer than three are left. A cycle records θ₁, θ₂ and the iterate the safeguard keeps.
    func runAccelerated<Backend: ExtrapolatableBackend>(_ backend: inout Backend,
                                                        cycle: SquaremCycle) throws(NMFError) -> LearningCurve {
        let recorder = Recorder(progress: progress)
        let w = backend.basis, h = backend.activations
        recorder.record(backend.prepare(measure: true), reachedAt: 0)
        var passes = 0
        while passes < iterations {
            guard iterations - passes >= 3 else {
                backend.update()
                let reached = recorder.seconds
                recorder.record(backend.prepare(measure: true), reachedAt: reached)
                passes += 1
                continue
            }
            cycle.save(.start, basis: w, activations: h)
            backend.update()
            var reached = recorder.seconds
            recorder.record(backend.prepare(measure: true), reachedAt: reached)
            cycle.save(.first, basis: w, activations: h)
            backend.update()
            reached = recorder.seconds
            let plain = backend.prepare(measure: true)
            recorder.record(plain, reachedAt: reached)
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
            recorder.record(kept ? stabilised : plain, reachedAt: recorder.seconds)
            passes += 3
        }
        return recorder.curve
    }
}
