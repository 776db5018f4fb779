// SPDX-License-Identifier: GPL-3.0-or-later
// One hop of the engine as a list of steps (analyse, prepare, iterate, mask, synthesise), run at once or spread over blocks.

import RealModule

/// The hop whose work is in flight: how many steps it has, how many are done, and what it read
/// from the controls when it began. (Each stream's solver input and floor: `Engine.streamInputs`.)
struct HopJob {
    var stepCount = 0
    var stepsDone = 0
    /// Solve iterations of this hop (the live value, capped, read at its start).
    var iterations = 0
    /// Mask exponent p of this hop.
    var exponent = 2
}

extension Engine {
    /// Peak magnitude the output is clamped to (+18 dBFS): a safety net, never reached by sane input.
    public static var outputLimit: Float { 8 }

    // MARK: - The steps of one hop
    //
    // In this order, with streams s the channels (or, linked, one stream: their mean spectrum):
    //   analyse(c)   every channel: new hop into the history, non-finite samples replaced, window,
    //                FFT, V = |X|^q
    //   prepare(s)   every stream: solver input (band-limited copy), cold start, activation floor
    //   iterate ×I   one multiplicative update of every stream's h (warm-started from the previous
    //                hop), W read once for all streams (`ActivationSolver.iterate(streams:…)`); the
    //                last one keeps every stream's Ŝ and N̂ of h before its update on the way
    //   estimate     a stream whose h is not finite restarts cold, its Ŝ and N̂ from there; with no
    //                iterations, every stream's Ŝ and N̂ of h (`ActivationSolver.estimate(streams:…)`)
    //   mask(s)      every stream: noise tracking and bound, Wiener mask, then speech presence, or
    //                the learned gain's features; a stream that heard noise only leaves its V/Λ
    //   gains        the online noise atoms' step from every stream that heard noise only
    //                (`NoiseAdaptation.adapt`), then the learned gain's network for every stream
    //                at once (`GainRefinement.step`)
    //   refine(s)    every stream: its band gains applied to its mask
    //   synthesise(c) every channel: X·G (its stream's mask), inverse FFT, overlap-add, wet/dry
    // Every stream's arithmetic is that of a solve of its own; with online noise atoms, every
    // stream's solve and estimates see them as the last hop's step left them.

    /// Starts the hop just received: follows the controls, fixes iterations and mask exponent, and
    /// counts its steps. Nothing runs yet.
    @_noLocks mutating func beginHop() {
        followControls()
        let iterations = min(max(controls.iterationsNow, 0), configuration.maximumIterations)
        job.stepCount = 2 * channelCount + 3 * streamCount + iterations + 2
        job.stepsDone = 0
        job.iterations = iterations
        job.exponent = controls.maskExponentNow
    }

    /// Runs the steps of the hop in flight that are still to do.
    @_noLocks mutating func completeHop() { runSteps(upTo: job.stepCount) }

    /// Runs the hop's steps until `target` of them are done (nothing if they already are).
    @_noLocks mutating func runSteps(upTo target: Int) {
        guard job.stepsDone < target else { return }
        while job.stepsDone < target {
            runStep(job.stepsDone)
            job.stepsDone += 1
        }
        if job.stepsDone == job.stepCount { telemetry.hops.wrappingAdd(1, ordering: .relaxed) }
    }

    /// The hop just received becomes the one to analyse and the one just synthesised the one to
    /// play; without spreading both pairs are the same buffers and nothing moves.
    @_noLocks func swapHopBuffers() {
        for c in 0..<channelCount {
            var state = channels[c]
            (state.pending, state.queued) = (state.queued, state.pending)
            (state.ready, state.produced) = (state.produced, state.ready)
            channels[c] = state
        }
    }

    /// Runs step `index` of the hop (see the list above).
    @_noLocks private mutating func runStep(_ index: Int) {
        var k = index
        if k < channelCount { return analyse(channel: k) }
        k -= channelCount
        if k < streamCount { return prepare(stream: k) }
        k -= streamCount
        if k < job.iterations {
            return solver.iterate(streams: streamCount, inputs: streamInputs, activations: streamActivations,
                                  floors: streamFloors, estimating: k == job.iterations - 1)
        }
        k -= job.iterations
        if k == 0 { return estimate() }
        k -= 1
        if k < streamCount { return mask(stream: k) }
        k -= streamCount
        if k == 0 { return afterMasks() }
        k -= 1
        if k < streamCount { return refine(stream: k) }
        synthesise(channel: k - streamCount)
    }

    /// Activations the solve left non-finite restart cold, and that stream's Ŝ and N̂ are taken from
    /// there; with no iterations this hop, every stream's Ŝ and N̂ are taken from its activations
    /// (otherwise the last iteration kept them: those of h before its update, docs/QUALITY.md).
    @_noLocks private func estimate() {
        let solved = job.iterations > 0
        for s in 0..<streamCount {
            guard let input = streamInputs[s] else { continue }
            let h = streamActivations[s]
            var finite = true
            for k in 0..<solver.activationStride where !h[k].isFinite { finite = false }
            if !finite {
                telemetry.nonFiniteResets.wrappingAdd(1, ordering: .relaxed)
                solver.initialise(h, from: input)
                if solved { solver.estimate(h, stream: s) }
            }
        }
        if !solved { solver.estimate(streams: streamCount, inputs: streamInputs, activations: streamActivations) }
    }

    /// After every stream's mask: the online noise atoms' step from the streams that heard noise
    /// only, and the learned gain's network for every stream.
    @_noLocks private func afterMasks() {
        if adaptation.count > 0 { adaptation.adapt(solver) }
        if refinement.enabled { refinement.step() }
    }

    /// After the network's step: stream `s`'s band gains applied to its mask (streams with sound,
    /// with the learned gain).
    @_noLocks private func refine(stream s: Int) {
        guard refinement.enabled, streamInputs[s] != nil else { return }
        refinement.apply(to: mask(of: s), stream: s, floor: floorGain)
    }

    /// Stream `s`'s spectrum: its channel's V, or the linked channels' mean.
    @_noLocks @inline(__always) private func spectrum(stream s: Int) -> UnsafeMutablePointer<Float> {
        configuration.linkChannels ? linkedSpectrum : channels[s].magnitude
    }

    /// Stream `s`'s mask, binStride floats.
    @_noLocks @inline(__always) private func mask(of s: Int) -> UnsafeMutablePointer<Float> { masks + s * binStride }

    /// After the solve: stream `s`'s mask, or a mask of 1 when it had no sound.
    @_noLocks private mutating func mask(stream s: Int) {
        guard let input = streamInputs[s] else { return silentMask(state: channels + s, into: mask(of: s)) }
        computeMask(spectrum: spectrum(stream: s), input: input, state: channels + s, stream: s)
    }

    /// Moves the floor a step towards its target (one-pole, ~controlSmoothing ms).
    @_noLocks @inline(__always) private mutating func followControls() {
        floorGain += controlSmoothing * (controls.floorGain - floorGain)
    }

    /// Shifts the queued hop into the history, replaces non-finite samples by 0 and clamps samples
    /// beyond ±`outputLimit` to it (a wild sample, e.g. from an uninitialised buffer upstream, would
    /// otherwise leave the synthesis spread over a frame at the output's limit: a 1e5 sample made 53 ms
    /// at ±8), windows, transforms and computes V = |X|^q.
    @_noLocks private mutating func analyse(channel c: Int) {
        var state = channels[c]
        var nonFinite = 0, clamped = 0
        var hopEnergy = sumOfSquares(state.queued, count: hopLength)
        let limit = Self.outputLimit
        if !(hopEnergy <= limit * limit) {   // NaN, ±Inf or a sample beyond the limit possible: look sample by sample
            (nonFinite, clamped) = sanitiseSamples(state.queued, count: hopLength, limit: limit)
            hopEnergy = sumOfSquares(state.queued, count: hopLength)
        }
        if clamped > 0 { telemetry.clampedInputSamples.wrappingAdd(clamped, ordering: .relaxed) }
        if nonFinite > 0 {
            telemetry.nonFiniteSamples.wrappingAdd(nonFinite, ordering: .relaxed)
            telemetry.nonFiniteResets.wrappingAdd(1, ordering: .relaxed)
            resetState(&state)
            if refinement.enabled { refinement.reset(stream: configuration.linkChannels ? 0 : c) }
        }
        copyFloats(state.history, from: state.history + hopLength, count: frameLength - hopLength)
        copyFloats(state.history + frameLength - hopLength, from: state.queued, count: hopLength)
        let time = fft.time
        for n in 0..<frameLength { time[n] = state.history[n] * analysisWindow[n] }
        for n in frameLength..<fftLength { time[n] = 0 }
        fft.forward()
        copyFloats(state.spectrum, from: fft.spectrum, count: 2 * binCount)
        for f in 0..<binCount {
            let re = state.spectrum[2 * f], im = state.spectrum[2 * f + 1]
            state.magnitude[f] = re * re + im * im
        }
        let energy = sumOfFloats(state.magnitude, count: binCount)
        if spectrumExponent == 1 { squareRootInPlace(state.magnitude, count: binCount) }
        state.silent = !(energy > silentFrameEnergy)
        state.framePower = energy
        state.noiseFloor.observe(hopEnergy: hopEnergy > silentHopEnergy ? hopEnergy : 0, framePower: energy,
                                 startsSilent: state.history[frameLength - hopLength].magnitude < silentSample)
        if state.silent { telemetry.silentFrames.wrappingAdd(1, ordering: .relaxed) }
        channels[c] = state
    }

    /// Stream `s`'s solver input and activation floor (no input when it has no sound); a cold start
    /// when the last frame had no sound or was reset. Linked channels first average the channels'
    /// spectra into `v`.
    @_noLocks private mutating func prepare(stream s: Int) {
        let v = spectrum(stream: s), state = channels + s
        let silent: Bool
        streamInputs[s] = nil
        if configuration.linkChannels {
            var anySound = false
            for f in 0..<binStride { linkedSpectrum[f] = 0 }
            for c in 0..<channelCount where !channels[c].silent {
                anySound = true
                let magnitude = channels[c].magnitude
                for f in 0..<binCount { linkedSpectrum[f] += magnitude[f] }
            }
            let scale = 1 / Float(channelCount)
            for f in 0..<binCount { linkedSpectrum[f] *= scale }
            silent = !anySound
        } else {
            silent = state.pointee.silent
        }
        guard !silent else { return }
        var input = v
        if highBand.enabled {   // the solved bins, zero-padded to the solver's stride
            input = solverInputs + s * solver.binStride
            copyFloats(input, from: v, count: highBand.solvedBinCount)
        }
        if state.pointee.coldStart {
            solver.initialise(state.pointee.activations, from: input)
            state.pointee.coldStart = false
        }
        streamInputs[s] = UnsafePointer(input)
        streamFloors[s] = solver.prepare(input, stream: s)
    }

    /// A frame of digital silence (below −100 dBFS, `silentFrameEnergy`; or of replaced non-finite
    /// samples) passes as it is and starts the next frame cold. Once the noise-only mean has been
    /// started by a frame of sound, a silent frame counts as a noise-only frame at the −90 dBFS floor
    /// the gain's training mixtures carry in their pauses, averaged in as one: pauses of digital zeros
    /// (a gated source, an edited file) pull the mean down as those pauses did in training, instead of
    /// leaving it where the last sound put it (docs/QUALITY.md, "speech after digital silence").
    /// Before any sound the mean stays unstarted.
    @_noLocks private func silentMask(state: UnsafeMutablePointer<ChannelState>, into mask: UnsafeMutablePointer<Float>) {
        state.pointee.coldStart = true
        for f in 0..<binCount { mask[f] = 1 }
        if state.pointee.noiseSpectrumPrimed {
            let mean = state.pointee.noiseSpectrum, keep = noiseSpectrumMemory
            for f in 0..<binCount { mean[f] = keep * mean[f] + (1 - keep) * silenceSpectrum }
        }
    }

    /// After the estimates: fills `mask` from them (noise tracking and bound, Wiener mask, then
    /// speech presence, or the learned gain's features for its step). `stream` is the gain
    /// refinement's stream: the channel, or 0 for linked channels.
    @_noLocks private func computeMask(spectrum v: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                                       state: UnsafeMutablePointer<ChannelState>, stream: Int) {
        let mask = mask(of: stream)
        let solved = solver.estimates(stream: stream)
        if highBand.enabled { highBand.extend(speech: solved.speech, noise: solved.noise, spectrum: v) }
        let speech = highBand.enabled ? highBand.speech : solved.speech
        let noise = highBand.enabled ? highBand.noise : solved.noise
        // Noise-only: within 10 dB of the tracked noise floor (power). Measured on the dev set, 10 dB
        // beat 3 and 6 dB: it adapts on half of the frames of a typical recording, speech onsets and
        // tails included, and the unit-sum KL step tolerates that leakage.
        // Frames overlapping digital silence hold only the few sound samples under the window's edge.
        let noiseOnly = !state.pointee.noiseFloor.overlapsSilence
            && state.pointee.framePower <= 10 * state.pointee.noiseFloor.floor
        // A live noise bound (the control block's, NaN when unset) replaces the configured one.
        let liveBound = controls.noiseBoundGain
        let boundFactor = liveBound.isNaN ? noiseBoundFactor : (spectrumExponent == 1 ? liveBound : liveBound * liveBound)
        // The mean is tracked even without a bound, so that one switched on live starts settled.
        if !state.pointee.noiseSpectrumPrimed, !state.pointee.noiseFloor.overlapsSilence {
            copyFloats(state.pointee.noiseSpectrum, from: v, count: binCount)
            state.pointee.noiseSpectrumPrimed = true
        } else if noiseOnly {
            averageNoiseSpectrum(v, into: state.pointee.noiseSpectrum, binCount: binCount, memory: noiseSpectrumMemory)
        }
        if adaptation.count > 0, noiseOnly {   // before the bound below changes N̂
            adaptation.observe(stream: stream, v: input, speech: solved.speech, noise: solved.noise)
            telemetry.adaptedFrames.wrappingAdd(1, ordering: .relaxed)
        }
        if boundFactor > 0 {
            boundNoiseEstimate(noise, mean: state.pointee.noiseSpectrum, factor: boundFactor,
                               binCount: binCount)
        }
        let energies = estimateEnergies(speech: speech, noise: noise, binCount: binCount,
                                        spectrumExponent: spectrumExponent)
        telemetry.speechEnergy.addDouble(energies.speech)
        telemetry.noiseEnergy.addDouble(energies.noise)
        wienerMask(speech: speech, noise: noise, binCount: binCount,
                   exponent: job.exponent, floor: presence.enabled || refinement.enabled ? 0 : floorGain,
                   smoothing: maskSmoothing, previous: state.pointee.smoothedMask, into: mask)
        if refinement.enabled {
            refinement.observe(mask: mask, stream: stream, spectrum: v, speech: speech, noise: noise,
                               noiseMean: state.pointee.noiseSpectrum)
        } else if presence.enabled {
            presence.apply(to: mask, spectrum: v, speech: speech, noise: noise,
                           noiseMean: state.pointee.noiseSpectrum, floor: floorGain)
        }
    }

    /// Applies `mask` to the channel's spectrum, inverse-transforms, overlap-adds, and mixes the
    /// hop of output it completes with the dry input delayed by the same latency, into `produced`.
    @_noLocks private mutating func synthesise(channel c: Int) {
        let state = channels[c], mask = mask(of: configuration.linkChannels ? 0 : c)
        let spectrum = fft.spectrum
        for f in 0..<binCount {
            spectrum[2 * f] = state.spectrum[2 * f] * mask[f]
            spectrum[2 * f + 1] = state.spectrum[2 * f + 1] * mask[f]
        }
        fft.inverse()
        let time = fft.time, overlap = state.overlap
        for n in 0..<frameLength { overlap[n] += time[n] * synthesisWindow[n] }

        // Wet/dry, ramped linearly across the hop towards the followed target (click-free bypass).
        let start = wet
        var target = start + controlSmoothing * (controls.wetTarget - start)
        if abs(target - controls.wetTarget) < 1e-4 { target = controls.wetTarget }   // settle exactly
        let step = (target - start) / Float(hopLength)
        let clipped = mixWetAndDry(overlap, dry: state.history, from: start, step: step, into: state.produced)
        if clipped > 0 { telemetry.clippedSamples.wrappingAdd(clipped, ordering: .relaxed) }
        if c == channelCount - 1 { wet = target }
        copyFloats(overlap, from: overlap + hopLength, count: frameLength - hopLength)
        for n in (frameLength - hopLength)..<frameLength { overlap[n] = 0 }
    }

    /// y = w·wet + (1 − w)·dry sample by sample with w ramped from `start` by `step` per sample,
    /// non-finite results replaced by 0 and magnitudes clamped to `outputLimit`, into `output`
    /// (hopLength samples); returns how many were replaced or clamped. Eight samples at a time (each
    /// lane's arithmetic the sample's own: w = 0 passes the dry sample and w = 1 the wet one
    /// exactly), a sample out of bounds fixed one by one. Real-time safe.
    @_noLocks private func mixWetAndDry(_ wet: UnsafePointer<Float>, dry: UnsafePointer<Float>, from start: Float,
                                        step: Float, into output: UnsafeMutablePointer<Float>) -> Int {
        var clipped = 0
        let counting = SIMD8<Float>(1, 2, 3, 4, 5, 6, 7, 8), limit = SIMD8<Float>(repeating: Self.outputLimit)
        var n = 0
        while n + 8 <= hopLength {
            let w = start + step * (SIMD8<Float>(repeating: Float(n)) + counting)
            let x = load8(wet + n), d = load8(dry + n)
            let y = (w * x + (1 - w) * d).replacing(with: x, where: w .== 1).replacing(with: d, where: w .== 0)
            store8(y, output + n)
            // NaN fails every comparison: `.<=` is false for it as for ±Inf and beyond the limit.
            if any(.!((y .<= limit) .& (y .>= -limit))) {
                for i in n..<(n + 8) { output[i] = mixSample(i, wet, dry: dry, from: start, step: step, clipped: &clipped) }
            }
            n += 8
        }
        while n < hopLength {
            output[n] = mixSample(n, wet, dry: dry, from: start, step: step, clipped: &clipped)
            n += 1
        }
        return clipped
    }

    /// Sample `n` of `mixWetAndDry`, for the tail and for lanes out of bounds; counts a replaced or
    /// clamped value in `clipped`. Real-time safe.
    @_noLocks @inline(__always)
    private func mixSample(_ n: Int, _ wet: UnsafePointer<Float>, dry: UnsafePointer<Float>, from start: Float,
                           step: Float, clipped: inout Int) -> Float {
        let w = start + step * Float(n + 1)
        let dryValue = dry[n]      // the input sample frameLength before this output sample
        var y = w == 0 ? dryValue : (w == 1 ? wet[n] : w * wet[n] + (1 - w) * dryValue)
        if !y.isFinite { y = 0; clipped += 1 }
        if abs(y) > Self.outputLimit { y = y > 0 ? Self.outputLimit : -Self.outputLimit; clipped += 1 }
        return y
    }

    /// Forgets the channel's signal-dependent state (activations, smoothed mask); the next frame starts cold.
    /// After non-finite input: the activations restart cold and the mask smoothing from 0. The
    /// noise-only mean and the noise floor are kept: the replaced samples are zeros, and frames
    /// overlapping them are neither observed nor averaged (`NoiseFloorTracker.overlapsSilence`).
    @_noLocks private func resetState(_ state: inout ChannelState) {
        state.coldStart = true
        for f in 0..<binStride { state.smoothedMask[f] = 0 }
    }
}
