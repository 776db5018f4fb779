// SPDX-License-Identifier: GPL-3.0-or-later
// The JSON half of a preset: settings, basis shape and checksum, provenance; and its mapping to an EngineConfiguration (PresetJSON.swift reads and writes it).

import Foundation
import SordinoDSP

/// The `NAME.json` document of a preset. Field names are the JSON keys; the file is written
/// pretty-printed with sorted keys. Settings the host chooses (channels, block length, channel
/// linking, control smoothing) are not part of a preset.
public struct PresetMetadata: Codable, Sendable, Equatable {
    /// The schema this build writes and reads.
    public static let currentSchemaVersion = 1

    /// Version of this document's layout; loading refuses any other.
    public var schemaVersion: Int
    /// Human-readable name, e.g. "speech-16k".
    public var name: String
    /// One line on what the preset is for.
    public var description: String
    /// Sample rate in Hz the basis was trained at; the audio must run at this rate.
    public var sampleRate: Int
    public var stft: STFT
    public var solver: Solver
    public var mask: Mask
    public var basis: BasisReference
    /// The learned gain refinement, when the preset has one (absent in older presets).
    public var gain: GainReference?
    public var provenance: Provenance

    /// Short-time Fourier transform settings, all in samples.
    public struct STFT: Codable, Sendable, Equatable {
        /// Window length N in samples; also the engine's latency.
        public var frameLength: Int
        /// Samples between consecutive frame starts.
        public var hopLength: Int
        /// FFT size in samples, ≥ frameLength; bins = fftLength / 2 + 1.
        public var fftLength: Int
        /// "sqrt-hann", "hann" or "hamming".
        public var window: WindowShape

        public init(frameLength: Int, hopLength: Int, fftLength: Int, window: WindowShape) {
            self.frameLength = frameLength
            self.hopLength = hopLength
            self.fftLength = fftLength
            self.window = window
        }
    }

    /// Activation solver settings.
    public struct Solver: Codable, Sendable, Equatable {
        /// β of the divergence: 0 Itakura–Saito, 1 Kullback–Leibler, 2 Euclidean.
        public var beta: BetaDivergence
        /// q in V = |X|^q: 1 magnitude, 2 power.
        public var spectrumExponent: Int
        /// Multiplicative updates per frame, 0…maximumIterations.
        public var iterations: Int
        /// Cap on `iterations`, also for live changes: fixes the worst-case cost per hop.
        public var maximumIterations: Int
        /// L1 penalty λ on activations, ≥ 0, in units of V.
        public var sparsity: Float
        /// Per-frame activation floor as a fraction of the cold-start activation ΣV/ΣW, 0…1.
        public var activationFloor: Float
        /// Extra noise atoms learned online from noise-only frames, 0…32.
        public var adaptiveNoiseRank: Int
        /// Memory of those atoms in ms of noise-only audio.
        public var adaptiveNoiseMemoryMilliseconds: Float
        /// The frequency in Hz the basis was band-limited at in training (`--band-limit-hz`): the
        /// activations are solved below it only (`EngineConfiguration.bandLimitHertz`). Absent: every bin.
        public var bandLimitHertz: Float?

        public init(beta: BetaDivergence, spectrumExponent: Int, iterations: Int, maximumIterations: Int, sparsity: Float,
                    activationFloor: Float = 0, adaptiveNoiseRank: Int = 0,
                    adaptiveNoiseMemoryMilliseconds: Float = 2000, bandLimitHertz: Float? = nil) {
            self.bandLimitHertz = bandLimitHertz
            self.activationFloor = activationFloor
            self.adaptiveNoiseRank = adaptiveNoiseRank
            self.adaptiveNoiseMemoryMilliseconds = adaptiveNoiseMemoryMilliseconds
            self.beta = beta
            self.spectrumExponent = spectrumExponent
            self.iterations = iterations
            self.maximumIterations = maximumIterations
            self.sparsity = sparsity
        }

        /// The activation floor, the adaptive noise atoms and the band limit came later in schema 1:
        /// a preset without them means off (every bin solved), as it did when it was written.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            beta = try c.decode(BetaDivergence.self, forKey: .beta)
            spectrumExponent = try c.decode(Int.self, forKey: .spectrumExponent)
            iterations = try c.decode(Int.self, forKey: .iterations)
            maximumIterations = try c.decode(Int.self, forKey: .maximumIterations)
            sparsity = try c.decode(Float.self, forKey: .sparsity)
            activationFloor = try c.decodeIfPresent(Float.self, forKey: .activationFloor) ?? 0
            adaptiveNoiseRank = try c.decodeIfPresent(Int.self, forKey: .adaptiveNoiseRank) ?? 0
            adaptiveNoiseMemoryMilliseconds = try c.decodeIfPresent(Float.self, forKey: .adaptiveNoiseMemoryMilliseconds) ?? 2000
            bandLimitHertz = try c.decodeIfPresent(Float.self, forKey: .bandLimitHertz)
        }
    }

    /// Default mask settings (controls may change them live).
    public struct Mask: Codable, Sendable, Equatable {
        /// p in G = Ŝ^p / (Ŝ^p + N̂^p): 1 or 2.
        public var exponent: Int
        /// Attenuation limit in dB, −120…0.
        public var floorDecibels: Float
        /// Time constant in ms of the mask's smoothing across frames; 0 disables it.
        public var smoothingMilliseconds: Float
        /// Wet/dry mix 0…1; 1 is fully processed.
        public var wet: Float
        /// Lower bound on the noise estimate in dB relative to the mean noise-only spectrum
        /// (−120…20); absent: no bound.
        public var noiseBoundDecibels: Float?
        /// Floor in dB (−120…0) where speech is absent, with the speech-presence stage; absent: no stage.
        public var absentFloorDecibels: Float?

        public init(exponent: Int, floorDecibels: Float, smoothingMilliseconds: Float, wet: Float,
                    noiseBoundDecibels: Float? = nil, absentFloorDecibels: Float? = nil) {
            self.exponent = exponent
            self.floorDecibels = floorDecibels
            self.smoothingMilliseconds = smoothingMilliseconds
            self.wet = wet
            self.noiseBoundDecibels = noiseBoundDecibels
            self.absentFloorDecibels = absentFloorDecibels
        }
    }

    /// Where the basis is and what it must look like; `Preset.write` fills it in.
    public struct BasisReference: Codable, Sendable, Equatable {
        /// File name of the basis, next to the JSON (no directory part), e.g. "speech-16k.basis".
        public var file: String
        /// Speech atoms (the first columns of W).
        public var speechRank: Int
        /// Noise atoms (the last columns of W).
        public var noiseRank: Int
        /// Rows of W: fftLength / 2 + 1.
        public var binCount: Int
        /// CRC-32 (zlib) of the basis payload, 8 lowercase hexadecimal digits.
        public var checksum: String

        public init(file: String, speechRank: Int, noiseRank: Int, binCount: Int, checksum: String) {
            self.file = file
            self.speechRank = speechRank
            self.noiseRank = noiseRank
            self.binCount = binCount
            self.checksum = checksum
        }
    }

    /// Where the gain refinement's weights are, their sizes and how the gain meets the mask.
    public struct GainReference: Codable, Sendable, Equatable {
        /// File name of the weights next to the JSON, e.g. "speech-16k.gain" (`GainFile`).
        public var file: String
        /// How the band gains meet the Wiener mask (`GainRefinementMode`; not `observe`).
        public var mode: GainRefinementMode
        public var featureCount: Int
        public var inputUnits: Int
        public var hiddenUnits: Int
        public var bandCount: Int
        /// CRC-32 (zlib) of the weights, 8 lowercase hexadecimal digits.
        public var checksum: String
        /// How the weights were trained (the trainer's command and data).
        public var command: String
        /// Time in ms (0…1000) in which a band gain may fall at most ×0.6; 0: no hold; absent: 10
        /// (`EngineConfiguration.gainReleaseMilliseconds`).
        public var releaseMilliseconds: Float?

        public init(file: String, mode: GainRefinementMode, model: GainModel, checksum: String, command: String,
                    releaseMilliseconds: Float? = nil) {
            self.file = file
            self.mode = mode
            self.releaseMilliseconds = releaseMilliseconds
            featureCount = model.featureCount
            inputUnits = model.inputUnits
            hiddenUnits = model.hiddenUnits
            bandCount = model.bandCount
            self.checksum = checksum
            self.command = command
        }
    }

    /// How the basis was made, so that it can be made again.
    public struct Provenance: Codable, Sendable, Equatable {
        /// Training data, e.g. "../shared/corpus/train".
        public var trainingData: String
        /// The exact command line that wrote the preset.
        public var command: String
        /// When it was written, ISO 8601 (e.g. "2025-03-01T12:00:00Z").
        public var date: String
        /// Seed of the random initialisation; also stored in the basis header.
        public var seed: UInt64
        /// Factorisation method, e.g. "nmf β=1".
        public var method: String
        /// Scores on the dev set by metric name, e.g. ["dPESQ": 0.41]; absent when not measured.
        public var devScores: [String: Double]?

        public init(trainingData: String, command: String, date: String, seed: UInt64, method: String,
                    devScores: [String: Double]? = nil) {
            self.trainingData = trainingData
            self.command = command
            self.date = date
            self.seed = seed
            self.method = method
            self.devScores = devScores
        }

        /// `date` as ISO 8601 in UTC, to the second.
        public static func isoDate(_ date: Date = Date()) -> String { date.ISO8601Format() }
    }

    public init(schemaVersion: Int = PresetMetadata.currentSchemaVersion, name: String, description: String,
                sampleRate: Int, stft: STFT, solver: Solver, mask: Mask, basis: BasisReference,
                provenance: Provenance) {
        self.schemaVersion = schemaVersion
        self.name = name
        self.description = description
        self.sampleRate = sampleRate
        self.stft = stft
        self.solver = solver
        self.mask = mask
        self.basis = basis
        self.provenance = provenance
    }

    /// Takes the preset settings from `configuration` (its host settings are dropped). The basis
    /// reference gets file `NAME.basis` and an empty checksum; `Preset.write` fills in the checksum.
    public init(name: String, description: String, configuration c: EngineConfiguration,
                speechRank: Int, noiseRank: Int, provenance: Provenance) {
        self.init(name: name, description: description, sampleRate: c.sampleRate,
                  stft: STFT(frameLength: c.frameLength, hopLength: c.hopLength, fftLength: c.fftLength,
                             window: c.window),
                  solver: Solver(beta: c.beta, spectrumExponent: c.spectrumExponent, iterations: c.iterations,
                                 maximumIterations: c.maximumIterations, sparsity: c.sparsity,
                                 activationFloor: c.activationFloor, adaptiveNoiseRank: c.adaptiveNoiseRank,
                                 adaptiveNoiseMemoryMilliseconds: c.adaptiveNoiseMemoryMilliseconds,
                                 bandLimitHertz: c.bandLimitHertz),
                  mask: Mask(exponent: c.maskExponent, floorDecibels: c.floorDecibels,
                             smoothingMilliseconds: c.maskSmoothingMilliseconds, wet: c.wet,
                             noiseBoundDecibels: c.noiseBoundDecibels, absentFloorDecibels: c.absentFloorDecibels),
                  basis: BasisReference(file: "\(name).basis", speechRank: speechRank, noiseRank: noiseRank,
                                        binCount: c.binCount, checksum: ""),
                  provenance: provenance)
    }

    /// The engine settings of this preset plus the host's. Control smoothing keeps the engine default.
    public func engineConfiguration(channelCount: Int = 1, maximumBlockLength: Int = 8192,
                                    linkChannels: Bool = false) -> EngineConfiguration {
        var c = EngineConfiguration()
        c.sampleRate = sampleRate
        c.frameLength = stft.frameLength
        c.hopLength = stft.hopLength
        c.fftLength = stft.fftLength
        c.window = stft.window
        c.beta = solver.beta
        c.spectrumExponent = solver.spectrumExponent
        c.iterations = solver.iterations
        c.maximumIterations = solver.maximumIterations
        c.sparsity = solver.sparsity
        c.activationFloor = solver.activationFloor
        c.adaptiveNoiseRank = solver.adaptiveNoiseRank
        c.adaptiveNoiseMemoryMilliseconds = solver.adaptiveNoiseMemoryMilliseconds
        c.bandLimitHertz = solver.bandLimitHertz
        c.maskExponent = mask.exponent
        c.floorDecibels = mask.floorDecibels
        c.maskSmoothingMilliseconds = mask.smoothingMilliseconds
        c.wet = mask.wet
        c.noiseBoundDecibels = mask.noiseBoundDecibels
        c.absentFloorDecibels = mask.absentFloorDecibels
        c.gainRefinement = gain?.mode
        if let release = gain?.releaseMilliseconds { c.gainReleaseMilliseconds = release }
        c.channelCount = channelCount
        c.maximumBlockLength = maximumBlockLength
        c.linkChannels = linkChannels
        return c
    }
}
