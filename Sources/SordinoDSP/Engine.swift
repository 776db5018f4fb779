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
/// Latency is `configuration.latencySamples` for every block length: an input sample at time t
/// appears at the output at t + frameLength, or one hop later when the configuration spreads each
/// hop's work over the blocks until the next hop (`spreadsHopWork`, the steps in `EngineHop.swift`).
/// Output depends only on the input samples, never on how they are split into blocks (the hop FIFO
/// changes buffering, not arithmetic); spreading delays it by one hop and changes nothing else.
///
/// `init` allocates everything and plans FFTW; `process` never allocates, locks, logs or throws.
public struct Engine: ~Copyable {
    public let configuration: EngineConfiguration
    /// Live controls (floor, wet, mask exponent, iterations, bypass); write from any thread. A host
    /// hands every engine it builds the same block, so a swap keeps them.
    public let controls: ControlBlock
    /// Counters written on the audio thread.
    public let telemetry: Telemetry

    let solver: ActivationSolver
    /// The bins above the band limit (`enabled` false without one).
    let highBand: HighBand
    /// Online noise atoms; `count` 0 when the configuration has none.
    let adaptation: NoiseAdaptation
    /// 10^(noiseBoundDecibels/20) for magnitude spectra (/10 for power); 0 = no bound. A bound
    /// set live in `controls` replaces it.
    let noiseBoundFactor: Float
    /// Speech presence after the mask (`enabled` false when the configuration has none, or a
    /// gain refinement takes its place).
    let presence: SpeechPresence
    /// The learned gain after the mask (`enabled` false when the configuration has none).
    let refinement: GainRefinement
    /// One-pole coefficient per noise-only frame of the mean noise spectrum (a 500 ms memory).
    let noiseSpectrumMemory: Float
    /// Per bin, in the units of V, the expected spectrum of white noise at −90 dBFS RMS through the
    /// analysis window: what a frame of digital silence averages into the noise-only mean.
    let silenceSpectrum: Float
    /// Σx² of a hop, and Σ|X|² of a frame, below which they count as digital silence: −100 dBFS RMS,
    /// 10 dB under the training mixtures' floor. A resampler's or filter's ringing before the first
    /// sound (10⁻¹⁵ and less) is silence as zeros are, not a noise for the noise-only mean to start on.
    let silentHopEnergy: Float, silentFrameEnergy: Float
    /// A sample below which (in magnitude) it is digital silence: −100 dBFS, as `silentHopEnergy`.
    let silentSample: Float = 1e-5
    let fft: RealFFT
    let channelCount: Int
    /// Spectra solved per hop: the channels, or 1 when they are linked (their mean spectrum).
    let streamCount: Int
    let frameLength: Int
    let hopLength: Int
    let fftLength: Int
    let binCount: Int
    /// Floats per spectrum buffer: binCount rounded up to 8 (the solver's stride unless band-limited).
    let binStride: Int
    let spectrumExponent: Int
    let maskSmoothing: Float          // α per hop, 0 = off
    let controlSmoothing: Float       // fraction of the remaining distance covered per hop
    let storage: FloatArena
    let analysisWindow: UnsafeMutablePointer<Float>      // frameLength
    let synthesisWindow: UnsafeMutablePointer<Float>     // frameLength, includes 1/fftLength
    let masks: UnsafeMutablePointer<Float>               // streamCount × binStride: each stream's mask
    let linkedSpectrum: UnsafeMutablePointer<Float>      // binStride
    /// Band-limited copies of the streams' spectra (streamCount × the solver's binStride; none
    /// without a band limit).
    let solverInputs: UnsafeMutablePointer<Float>
    /// The hop's solve, per stream (set by its prepare step): the solver's input (nil: no sound, no
    /// solve), the activation floor, and the activations (fixed: the channel's, or channel 0's when linked).
    let streamInputs: UnsafeMutablePointer<UnsafePointer<Float>?>
    let streamFloors: UnsafeMutablePointer<Float>
    let streamActivations: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    let channels: UnsafeMutablePointer<ChannelState>
    /// Samples of the current hop received so far (0 ..< hopLength).
    var fill = 0
    /// The hop whose work is in flight (steps done of how many).
    var job = HopJob()
    var floorGain: Float
    var wet: Float

    /// Buffers of one channel, all inside `storage`. Without spreading `queued` is `pending` and
    /// `produced` is `ready` (the hop is done at the boundary); with it they are buffers of their own,
    /// swapped at every hop boundary.
    struct ChannelState {
        var history: UnsafeMutablePointer<Float>       // last frameLength input samples
        var pending: UnsafeMutablePointer<Float>       // hop FIFO in: hopLength, being filled
        var queued: UnsafeMutablePointer<Float>        // the hop the job in flight analyses: hopLength
        var ready: UnsafeMutablePointer<Float>         // hop FIFO out: hopLength, being played
        var produced: UnsafeMutablePointer<Float>      // what the job in flight synthesises: hopLength
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
        let streams = configuration.linkChannels ? 1 : configuration.channelCount
        let solver = try ActivationSolver(basis: extended, beta: configuration.beta, sparsity: configuration.sparsity,
                                          relativeFloor: configuration.activationFloor, streams: streams)
        let hopSeconds = Float(configuration.hopLength) / Float(configuration.sampleRate)
        let fft = try RealFFT(length: configuration.fftLength)
        let adaptation = NoiseAdaptation(
            firstSlot: solver.slot(ofAtom: solved.rank), count: configuration.adaptiveNoiseRank,
            binCount: solver.binCount, binStride: solver.binStride,
            forgetting: Float.exp(-hopSeconds * 1000 / configuration.adaptiveNoiseMemoryMilliseconds), streams: streams)
        let refinement = try GainRefinement(configuration, model: gainModel)
        let binStride = paddedToLanes(configuration.binCount), activationStride = solver.activationStride
        let solverInputLength = configuration.solvedBinCount < configuration.binCount ? solver.binStride : 0
        highBand = HighBand(configuration, binStride: binStride)
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
        streamCount = streams
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

        let hopBuffers = configuration.spreadsHopWork ? 4 : 2
        let perChannel = 2 * frameLength + hopBuffers * hopLength + 2 * binCount + 3 * binStride + activationStride
        let total = 2 * frameLength + binStride + channelCount * perChannel
            + streams * (binStride + solverInputLength) + paddedToLanes(streams)
        var arena = FloatArena(capacity: total)
        analysisWindow = arena.take(frameLength)
        synthesisWindow = arena.take(frameLength)
        masks = arena.take(streams * binStride)
        linkedSpectrum = arena.take(binStride)
        solverInputs = arena.take(streams * solverInputLength)
        streamFloors = arena.take(paddedToLanes(streams))
        streamInputs = .allocate(capacity: streams)
        streamInputs.initialize(repeating: nil, count: streams)
        streamActivations = .allocate(capacity: streams)
        for n in 0..<frameLength {
            analysisWindow[n] = windows.analysis[n]
            synthesisWindow[n] = windows.synthesis[n] / Float(fftLength)   // FFTW's inverse is unnormalised
        }
        let windowPower = windows.analysis.reduce(Float(0)) { $0 + $1 * $1 }, silencePower = 1e-9 * windowPower
        silenceSpectrum = configuration.spectrumExponent == 1 ? silencePower.squareRoot() : silencePower
        silentHopEnergy = 1e-10 * Float(hopLength)
        silentFrameEnergy = 0.1 * silencePower * Float(binCount)
        channels = .allocate(capacity: channelCount)
        for c in 0..<channelCount {
            let pending = arena.take(hopLength), ready = arena.take(hopLength)
            let queued = configuration.spreadsHopWork ? arena.take(hopLength) : pending
            let produced = configuration.spreadsHopWork ? arena.take(hopLength) : ready
            (channels + c).initialize(to: ChannelState(
                history: arena.take(frameLength), pending: pending, queued: queued, ready: ready, produced: produced,
                overlap: arena.take(frameLength), spectrum: arena.take(2 * binCount), magnitude: arena.take(binStride),
                activations: arena.take(activationStride), smoothedMask: arena.take(binStride),
                noiseSpectrum: arena.take(binStride), noiseSpectrumPrimed: false,
                coldStart: true, silent: true, framePower: 0,
                noiseFloor: NoiseFloorTracker(hopLength: hopLength, frameLength: frameLength,
                                              sampleRate: configuration.sampleRate)))
        }
        for s in 0..<streams { (streamActivations + s).initialize(to: channels[s].activations) }
        storage = arena
    }

    deinit {
        channels.deinitialize(count: channelCount)
        channels.deallocate()
        streamInputs.deallocate()
        streamActivations.deallocate()
    }

    /// Adaptive noise atom `index` (0 ..< adaptiveNoiseRank) as it stands now, binCount values summing
    /// to 1. For diagnostics and tests; not real-time safe (allocates).
    public func adaptiveNoiseAtom(_ index: Int) -> [Float] {
        precondition(index >= 0 && index < adaptation.count, "adaptive atom \(index) does not exist")
        var atom = [Float](repeating: 0, count: binCount)
        atom.withUnsafeMutableBufferPointer { buffer in
            if let base = buffer.baseAddress { solver.copyAtom(slot: adaptation.firstSlot + index, into: base) }
        }
        return atom
    }

    /// Algorithmic latency in samples (`EngineConfiguration.latencySamples`).
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
    public var warmUpSamples: Int { @_noLocks get { 2 * frameLength + (configuration.spreadsHopWork ? hopLength : 0) } }

    /// True when `adoptSignalState(from:)` can carry `other`'s signal state over: same channels,
    /// frame, hop and FFT length, and both spreading the hop's work or neither (the same latency).
    @_noLocks
    public func canAdoptSignalState(from other: borrowing Engine) -> Bool {
        other.channelCount == channelCount && other.frameLength == frameLength && other.hopLength == hopLength
            && other.fftLength == fftLength && other.binStride == binStride
            && other.configuration.spreadsHopWork == configuration.spreadsHopWork
    }

    /// Takes over `other`'s signal state (input history, hop FIFOs, overlap-add, the noise
    /// trackers and, with the same atom count, the activations as a warm start) and its smoothed
    /// floor and wet, so that this engine continues the other's output without a gap or a fade-in.
    /// First finishes `other`'s hop in flight, so both hold the next hop's output and this engine
    /// starts with nothing in flight. Call only when `canAdoptSignalState(from:)`. Real-time safe
    /// (copies preallocated buffers; finishing the hop costs at most one hop's work).
    @_noLocks
    public mutating func adoptSignalState(from other: inout Engine) {
        other.completeHop()
        job.stepCount = 0   // nothing in flight: the other's hop is done and its output copied below
        job.stepsDone = 0
        let sameAtoms = other.solver.activationStride == solver.activationStride
            && other.solver.binCount == solver.binCount
        for c in 0..<channelCount {
            let from = other.channels[c], to = channels + c
            copyFloats(to.pointee.history, from: from.history, count: frameLength)
            copyFloats(to.pointee.pending, from: from.pending, count: hopLength)
            copyFloats(to.pointee.ready, from: from.ready, count: hopLength)
            copyFloats(to.pointee.produced, from: from.produced, count: hopLength)
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
                completeHop()
                swapHopBuffers()
                beginHop()
                if !configuration.spreadsHopWork { completeHop() }
                fill = 0
            } else if configuration.spreadsHopWork {
                runSteps(upTo: job.stepCount * fill / hopLength)
            }
        }
        telemetry.samples.wrappingAdd(blockLength, ordering: .relaxed)
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
}
