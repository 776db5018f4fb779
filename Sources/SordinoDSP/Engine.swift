// SPDX-License-Identifier: GPL-3.0-or-later
// The streaming enhancer: hop FIFO, STFT, activation solve, Wiener mask, ISTFT, overlap-add, wet/dry.

import RealModule

/// Multi-channel NMF speech enhancer for any block length from 1 to `maximumBlockLength`.
///
/// Per hop and channel: the last `frameLength` input samples are windowed, transformed (FFT of
/// `fftLength`), V = |X|^q is explained as W·h by `ActivationSolver` (warm-started; on the bins
/// below the band limit only when the configuration has one, the bins above following `HighBand`), the mask
/// G = Ŝ^p/(Ŝ^p + N̂^p) with its floor scales X, and the inverse FFT is synthesis-windowed and
/// overlap-added. The wet output is mixed with the input delayed by the same latency.
///
/// Latency is `frameLength` samples for every block length: an input sample at time t appears at
/// the output at t + frameLength. Output depends only on the input samples, never on how they are
/// split into blocks (the hop FIFO changes buffering, not arithmetic).
///
/// `init` allocates everything and plans FFTW; `process` never allocates, locks, logs or throws.
public struct Engine: ~Copyable {
    /// Peak magnitude the output is clamped to (+18 dBFS): a safety net, never reached by sane input.
    public static var outputLimit: Float { 8 }

    public let configuration: EngineConfiguration
    /// Live controls (floor, wet, mask exponent, iterations, bypass); write from any thread. A host
    /// hands every engine it builds the same block, so a swap keeps them.
    public let controls: ControlBlock
    /// Counters written on the audio thread.
    public let telemetry: Telemetry

    private let solver: ActivationSolver
    /// The bins above the band limit (`enabled` false without one).
    private let highBand: HighBand
    /// Online noise atoms; `count` 0 when the configuration has none.
    private let adaptation: NoiseAdaptation
    /// 10^(noiseBoundDecibels/20) for magnitude spectra (/10 for power); 0 = no bound. A bound
    /// set live in `controls` replaces it.
    private let noiseBoundFactor: Float
    /// Speech presence after the mask (`enabled` false when the configuration has none, or a
    /// gain refinement takes its place).
    private let presence: SpeechPresence
    /// The learned gain after the mask (`enabled` false when the configuration has none).
    let refinement: GainRefinement
    /// One-pole coefficient per noise-only frame of the mean noise spectrum (a 500 ms memory).
    private let noiseSpectrumMemory: Float
    private let fft: RealFFT
    private let channelCount: Int
    private let frameLength: Int
    private let hopLength: Int
    private let fftLength: Int
    private let binCount: Int
    /// Floats per spectrum buffer: binCount rounded up to 8 (the solver's stride unless band-limited).
    private let binStride: Int
    private let spectrumExponent: Int
    private let maskSmoothing: Float          // α per hop, 0 = off
    private let controlSmoothing: Float       // fraction of the remaining distance covered per hop
    private let storage: FloatArena
    private let analysisWindow: UnsafeMutablePointer<Float>      // frameLength
    private let synthesisWindow: UnsafeMutablePointer<Float>     // frameLength, includes 1/fftLength
    private let mask: UnsafeMutablePointer<Float>                // binStride
    private let linkedSpectrum: UnsafeMutablePointer<Float>      // binStride
    private let channels: UnsafeMutablePointer<ChannelState>
    private var fill = 0
    private var floorGain: Float
    private var wet: Float

    /// Buffers of one channel, all inside `storage`.
    private struct ChannelState {
        var history: UnsafeMutablePointer<Float>       // last frameLength input samples
        var pending: UnsafeMutablePointer<Float>       // hop FIFO in: hopLength
        var ready: UnsafeMutablePointer<Float>         // hop FIFO out: hopLength
        var overlap: UnsafeMutablePointer<Float>       // overlap-add accumulator: frameLength
        var spectrum: UnsafeMutablePointer<Float>      // X: 2 · binCount
        var magnitude: UnsafeMutablePointer<Float>     // V: binStride, zero-padded
        var activations: UnsafeMutablePointer<Float>   // h: activationStride
        var smoothedMask: UnsafeMutablePointer<Float>  // binStride
        var noiseSpectrum: UnsafeMutablePointer<Float>  // binStride: mean V over noise-only frames
        var noiseSpectrumPrimed: Bool                  // false: the next sound frame starts the mean
        var coldStart: Bool
        var silent: Bool
        var framePower: Float                          // Σ|X|² of the current frame
        var noiseFloor: NoiseFloorTracker              // of framePower
    }

    /// Builds the engine. Not real-time safe: allocates, plans FFTW, may throw. `controls` is the
    /// block to follow (shared with other engines of the same host); nil makes one from
    /// `configuration`. Floor and wet start at the block's values.
    /// `gainModel` is the network of the gain refinement (`configuration.gainRefinement`).
    public init(configuration: EngineConfiguration, basis: Basis, gainModel: GainModel? = nil,
                controls: ControlBlock? = nil) throws(EngineError) {
        let windows = try configuration.validate(basis: basis)
        let solved = configuration.solvedBinCount < configuration.binCount
            ? try basis.solvedPart(binCount: configuration.solvedBinCount) : basis
        let extended = try Self.withAdaptiveAtoms(solved, count: configuration.adaptiveNoiseRank)
        let solver = try ActivationSolver(basis: extended, beta: configuration.beta, sparsity: configuration.sparsity,
                                          relativeFloor: configuration.activationFloor)
        let hopSeconds = Float(configuration.hopLength) / Float(configuration.sampleRate)
        let fft = try RealFFT(length: configuration.fftLength)
        let adaptation = NoiseAdaptation(
            firstSlot: solver.slot(ofAtom: solved.rank), count: configuration.adaptiveNoiseRank,
            binCount: solver.binCount, binStride: solver.binStride,
            forgetting: Float.exp(-hopSeconds * 1000 / configuration.adaptiveNoiseMemoryMilliseconds))
        let refinement = try GainRefinement(configuration, model: gainModel)
        let binStride = paddedToLanes(configuration.binCount), activationStride = solver.activationStride
        highBand = HighBand(configuration, solverStride: solver.binStride, binStride: binStride)
        self.binStride = binStride
        self.solver = solver
        self.fft = fft
        self.adaptation = adaptation
        noiseBoundFactor = configuration.noiseBoundDecibels.map {
            Float.pow(10, $0 / (configuration.spectrumExponent == 1 ? 20 : 10))
        } ?? 0
        noiseSpectrumMemory = Float.exp(-hopSeconds * 1000 / 500)
        self.refinement = refinement
        presence = SpeechPresence(absentFloorDecibels: configuration.gainRefinement == nil
                                      ? configuration.absentFloorDecibels : nil, basis: extended,
                                  binCount: configuration.binCount,
                                  relativeFloor: configuration.activationFloor, sampleRate: configuration.sampleRate,
                                  spectrumExponent: configuration.spectrumExponent)
        self.configuration = configuration
        let controls = controls ?? ControlBlock(configuration)
        self.controls = controls
        telemetry = Telemetry()
        channelCount = configuration.channelCount
        frameLength = configuration.frameLength
        hopLength = configuration.hopLength
        fftLength = configuration.fftLength
        binCount = configuration.binCount
        spectrumExponent = configuration.spectrumExponent
        maskSmoothing = configuration.maskSmoothingMilliseconds > 0
            ? Float.exp(-hopSeconds * 1000 / configuration.maskSmoothingMilliseconds) : 0
        controlSmoothing = configuration.controlSmoothingMilliseconds > 0
            ? 1 - Float.exp(-hopSeconds * 1000 / configuration.controlSmoothingMilliseconds) : 1
        floorGain = controls.floorGain
        wet = controls.wetTarget

        let perChannel = 2 * frameLength + 2 * hopLength + 2 * binCount + 3 * binStride + activationStride
        let total = 2 * frameLength + 2 * binStride + channelCount * perChannel
        var arena = FloatArena(capacity: total)
        analysisWindow = arena.take(frameLength)
        synthesisWindow = arena.take(frameLength)
        mask = arena.take(binStride)
        linkedSpectrum = arena.take(binStride)
        for n in 0..<frameLength {
            analysisWindow[n] = windows.analysis[n]
            synthesisWindow[n] = windows.synthesis[n] / Float(fftLength)   // FFTW's inverse is unnormalised
        }
        channels = .allocate(capacity: channelCount)
        for c in 0..<channelCount {
            (channels + c).initialize(to: ChannelState(
                history: arena.take(frameLength), pending: arena.take(hopLength), ready: arena.take(hopLength),
                overlap: arena.take(frameLength), spectrum: arena.take(2 * binCount), magnitude: arena.take(binStride),
                activations: arena.take(activationStride), smoothedMask: arena.take(binStride),
                noiseSpectrum: arena.take(binStride), noiseSpectrumPrimed: false,
                coldStart: true, silent: true, framePower: 0,
                noiseFloor: NoiseFloorTracker(hopLength: hopLength, frameLength: frameLength,
                                              sampleRate: configuration.sampleRate)))
        }
        storage = arena
    }

    deinit {
        channels.deinitialize(count: channelCount)
        channels.deallocate()
    }

    /// Adaptive noise atom `index` (0 ..< adaptiveNoiseRank) as it stands now, binCount values summing
    /// to 1. For diagnostics and tests; not real-time safe (allocates).
    public func adaptiveNoiseAtom(_ index: Int) -> [Float] {
        precondition(index >= 0 && index < adaptation.count, "adaptive atom \(index) does not exist")
        let atom = solver.atom(slot: adaptation.firstSlot + index)
        return (0..<binCount).map { $0 < solver.binCount ? atom[$0] : 0 }
    }

    /// Algorithmic latency in samples (= frameLength).
    public var latencySamples: Int { configuration.latencySamples }

    /// Starts the smoothed floor and wet at the control block's targets instead of gliding to them:
    /// for a fresh engine whose block has just been given new defaults (a host builds the engine,
    /// then sets the defaults its preset brings).
    public mutating func settleControls() {
        floorGain = controls.floorGain
        wet = controls.wetTarget
    }

    /// Samples a fresh engine must process before its output is that of one that has been running:
    /// every frame overlapping the output sample then starts after the first input sample. Its
    /// noise trackers still need their own memory (≈ 0.5 s) to settle.
    public var warmUpSamples: Int { @_noLocks get { 2 * frameLength } }

    /// True when `adoptSignalState(from:)` can carry `other`'s signal state over: same channels,
    /// frame, hop and FFT length.
    @_noLocks
    public func canAdoptSignalState(from other: borrowing Engine) -> Bool {
        other.channelCount == channelCount && other.frameLength == frameLength && other.hopLength == hopLength
            && other.fftLength == fftLength && other.binStride == binStride
    }

    /// Takes over `other`'s signal state (input history, hop FIFOs, overlap-add, the noise
    /// trackers and, with the same atom count, the activations as a warm start) and its smoothed
    /// floor and wet, so that this engine continues the other's output without a gap or a fade-in.
    /// Call only when `canAdoptSignalState(from:)`. Real-time safe (copies preallocated buffers).
    @_noLocks
    public mutating func adoptSignalState(from other: borrowing Engine) {
        let sameAtoms = other.solver.activationStride == solver.activationStride
            && other.solver.binCount == solver.binCount
        for c in 0..<channelCount {
            let from = other.channels[c], to = channels + c
            copyFloats(to.pointee.history, from: from.history, count: frameLength)
            copyFloats(to.pointee.pending, from: from.pending, count: hopLength)
            copyFloats(to.pointee.ready, from: from.ready, count: hopLength)
            copyFloats(to.pointee.overlap, from: from.overlap, count: frameLength)
            copyFloats(to.pointee.smoothedMask, from: from.smoothedMask, count: binStride)
            copyFloats(to.pointee.noiseSpectrum, from: from.noiseSpectrum, count: binStride)
            to.pointee.noiseSpectrumPrimed = from.noiseSpectrumPrimed
            to.pointee.noiseFloor.adopt(from.noiseFloor)
            to.pointee.silent = from.silent
            if sameAtoms {
                copyFloats(to.pointee.activations, from: from.activations, count: solver.activationStride)
                to.pointee.coldStart = from.coldStart
            } else {
                to.pointee.coldStart = true
            }
        }
        fill = other.fill
        floorGain = other.floorGain
        wet = other.wet
    }

    /// Processes `blockLength` samples of every channel: `inputs[c]` → `outputs[c]`, for c in
    /// 0 ..< channelCount. Input and output may be the same buffer. Any `blockLength` ≥ 0 works,
    /// whatever `maximumBlockLength` says: the hop FIFO splits it into the same per-hop arithmetic.
    /// Real-time safe: no allocation, lock, system call or throw; cost bounded by the iteration cap.
    @_noLocks
    public mutating func process(inputs: UnsafePointer<UnsafePointer<Float>>,
                                 outputs: UnsafePointer<UnsafeMutablePointer<Float>>,
                                 blockLength: Int) {
        var done = 0
        while done < blockLength {
            let n = min(hopLength - fill, blockLength - done)
            for c in 0..<channelCount {
                let state = channels[c]
                copyFloats(state.pending + fill, from: inputs[c] + done, count: n)
                copyFloats(outputs[c] + done, from: state.ready + fill, count: n)
            }
            fill += n
            done += n
            if fill == hopLength {
                processHop()
                fill = 0
            }
        }
        telemetry.samples.wrappingAdd(blockLength, ordering: .relaxed)
    }

    // MARK: - One hop

    @_noLocks private mutating func processHop() {
        followControls()
        let iterations = min(max(controls.iterationsNow, 0), configuration.maximumIterations)
        let exponent = controls.maskExponentNow
        for c in 0..<channelCount { analyse(channel: c) }
        if configuration.linkChannels {
            var anySound = false
            for f in 0..<binStride { linkedSpectrum[f] = 0 }
            for c in 0..<channelCount where !channels[c].silent {
                anySound = true
                let v = channels[c].magnitude
                for f in 0..<binCount { linkedSpectrum[f] += v[f] }
            }
            let scale = 1 / Float(channelCount)
            for f in 0..<binCount { linkedSpectrum[f] *= scale }
            computeMask(spectrum: linkedSpectrum, state: channels, stream: 0, silent: !anySound,
                        iterations: iterations, exponent: exponent)
            for c in 0..<channelCount { synthesise(channel: c) }
        } else {
            for c in 0..<channelCount {
                computeMask(spectrum: channels[c].magnitude, state: channels + c, stream: c, silent: channels[c].silent,
                            iterations: iterations, exponent: exponent)
                synthesise(channel: c)
            }
        }
        telemetry.hops.wrappingAdd(1, ordering: .relaxed)
    }

    /// Moves the floor and wet/dry values a step towards their targets (one-pole, ~controlSmoothing ms).
    @_noLocks @inline(__always) private mutating func followControls() {
        floorGain += controlSmoothing * (controls.floorGain - floorGain)
    }

    /// Shifts the new hop into the history, replaces non-finite samples, windows, transforms and
    /// computes V = |X|^q.
    @_noLocks private mutating func analyse(channel c: Int) {
        var state = channels[c]
        var nonFinite = 0
        var hopEnergy: Float = 0
        for i in 0..<hopLength {
            if !state.pending[i].isFinite {
                state.pending[i] = 0
                nonFinite += 1
            }
            hopEnergy += state.pending[i] * state.pending[i]
        }
        if nonFinite > 0 {
            telemetry.nonFiniteSamples.wrappingAdd(nonFinite, ordering: .relaxed)
            telemetry.nonFiniteResets.wrappingAdd(1, ordering: .relaxed)
            resetState(&state)
            if refinement.enabled { refinement.reset(stream: configuration.linkChannels ? 0 : c) }
        }
        copyFloats(state.history, from: state.history + hopLength, count: frameLength - hopLength)
        copyFloats(state.history + frameLength - hopLength, from: state.pending, count: hopLength)
        let time = fft.time
        for n in 0..<frameLength { time[n] = state.history[n] * analysisWindow[n] }
        for n in frameLength..<fftLength { time[n] = 0 }
        fft.forward()
        copyFloats(state.spectrum, from: fft.spectrum, count: 2 * binCount)
        var energy: Float = 0
        for f in 0..<binCount {
            let re = state.spectrum[2 * f], im = state.spectrum[2 * f + 1]
            let power = re * re + im * im
            state.magnitude[f] = power
            energy += power
        }
        if spectrumExponent == 1 { squareRootInPlace(state.magnitude, count: binCount) }
        state.silent = !(energy > 0)
        state.framePower = energy
        state.noiseFloor.observe(hopEnergy: hopEnergy, framePower: energy)
        if state.silent { telemetry.silentFrames.wrappingAdd(1, ordering: .relaxed) }
        channels[c] = state
    }

    /// Solves the activations for `spectrum` (warm start from `state`'s last h) and fills `mask`.
    /// `stream` is the gain refinement's stream: the channel, or 0 for linked channels.
    @_noLocks private func computeMask(spectrum v: UnsafeMutablePointer<Float>, state: UnsafeMutablePointer<ChannelState>,
                                       stream: Int, silent: Bool, iterations: Int, exponent: Int) {
        if silent {
            // Nothing to explain: skip the solve, restart cold on the next sound.
            state.pointee.coldStart = true
            for f in 0..<binCount { mask[f] = 1 }
            return
        }
        let h = state.pointee.activations
        let input = highBand.enabled ? highBand.solverInput(from: v) : v
        if state.pointee.coldStart {
            solver.initialise(h, from: input)
            state.pointee.coldStart = false
        }
        solver.solve(input, activations: h, iterations: iterations)
        var finite = true
        for k in 0..<solver.activationStride where !h[k].isFinite { finite = false }
        if !finite {
            telemetry.nonFiniteResets.wrappingAdd(1, ordering: .relaxed)
            solver.initialise(h, from: input)
        }
        solver.estimate(h)
        if highBand.enabled { highBand.extend(speech: solver.speechEstimate, noise: solver.noiseEstimate, spectrum: v) }
        let speech = highBand.enabled ? highBand.speech : solver.speechEstimate
        let noise = highBand.enabled ? highBand.noise : solver.noiseEstimate
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
        if adaptation.count > 0, noiseOnly {
            adaptation.adapt(solver, v: input, activations: h, speech: solver.speechEstimate, noise: solver.noiseEstimate)
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
                   exponent: exponent, floor: presence.enabled || refinement.enabled ? 0 : floorGain,
                   smoothing: maskSmoothing, previous: state.pointee.smoothedMask, into: mask)
        if refinement.enabled {
            refinement.refine(mask: mask, stream: stream, spectrum: v, speech: speech,
                              noise: noise, noiseMean: state.pointee.noiseSpectrum, floor: floorGain)
        } else if presence.enabled {
            presence.apply(to: mask, spectrum: v, speech: speech, noise: noise,
                           noiseMean: state.pointee.noiseSpectrum, floor: floorGain)
        }
    }

    /// Applies `mask` to the channel's spectrum, inverse-transforms, overlap-adds, and mixes the
    /// next hop of output with the dry input delayed by frameLength.
    @_noLocks private mutating func synthesise(channel c: Int) {
        let state = channels[c]
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
        var clipped = 0
        for n in 0..<hopLength {
            let w = start + step * Float(n + 1)
            let dry = state.history[n]      // the input sample frameLength before this output sample
            var y = w == 0 ? dry : (w == 1 ? overlap[n] : w * overlap[n] + (1 - w) * dry)
            if !y.isFinite { y = 0; clipped += 1 }
            if abs(y) > Self.outputLimit { y = y > 0 ? Self.outputLimit : -Self.outputLimit; clipped += 1 }
            state.ready[n] = y
        }
        if clipped > 0 { telemetry.clippedSamples.wrappingAdd(clipped, ordering: .relaxed) }
        if c == channelCount - 1 { wet = target }
        copyFloats(overlap, from: overlap + hopLength, count: frameLength - hopLength)
        for n in (frameLength - hopLength)..<frameLength { overlap[n] = 0 }
    }

    /// `basis` with `count` more noise atoms, atom j the average of the noise atoms k ≡ j (mod count),
    /// so the adaptive atoms start as distinct, plausible noise spectra.
    private static func withAdaptiveAtoms(_ basis: Basis, count: Int) throws(EngineError) -> Basis {
        guard count > 0 else { return basis }
        let rank = basis.rank, newRank = rank + count
        var values = [Float](repeating: 0, count: basis.binCount * newRank)
        for f in 0..<basis.binCount {
            for k in 0..<rank { values[f * newRank + k] = basis[bin: f, atom: k] }
            for n in 0..<basis.noiseRank {
                let j = n % count
                values[f * newRank + rank + j] += basis[bin: f, atom: basis.speechRank + n]
            }
        }
        for j in 0..<count {
            var sum: Float = 0
            for f in 0..<basis.binCount { sum += values[f * newRank + rank + j] }
            if sum > 0 { for f in 0..<basis.binCount { values[f * newRank + rank + j] /= sum } }
        }
        let penalties = basis.atomPenalties.map { $0 + [Float](repeating: 0, count: count) }
        return try Basis(binCount: basis.binCount, speechRank: basis.speechRank, noiseRank: basis.noiseRank + count,
                         values: values, atomPenalties: penalties)
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
