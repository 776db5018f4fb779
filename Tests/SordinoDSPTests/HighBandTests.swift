// SPDX-License-Identifier: GPL-3.0-or-later
// The band-limited solve: it computes the lower of the two problems a band-limited basis splits into, and the band above follows it.

@testable import SordinoDSP
import Testing
import TestSupport

struct HighBandTests {
    /// 48 kHz, 1536-point FFT, limit 7800 Hz: bins 0 ..< 250 solved, 769 in all.
    static func config(bandLimit: Float? = 7800) -> EngineConfiguration {
        var c = EngineConfiguration()
        c.sampleRate = 48_000; c.frameLength = 1536; c.hopLength = 384; c.fftLength = 1536
        c.bandLimitHertz = bandLimit
        return c
    }

    /// A random basis cut as `sordino train --band-limit-hz` cuts it: learned atoms 0 from `limit`
    /// up, and one more noise atom, flat above `limit` and 0 below.
    static func bandLimitedBasis(binCount: Int, limit: Int, speechRank: Int = 16, noiseRank: Int = 8) throws -> Basis {
        let random = Signal.randomBasis(binCount: binCount, speechRank: speechRank, noiseRank: noiseRank, seed: 4)
        let rank = random.rank + 1
        var values = [Float](repeating: 0, count: binCount * rank)
        for f in 0..<binCount {
            for k in 0..<random.rank where f < limit { values[f * rank + k] = random[bin: f, atom: k] }
            if f >= limit { values[f * rank + rank - 1] = 1 / Float(binCount - limit) }
        }
        return try Basis(binCount: binCount, speechRank: speechRank, noiseRank: noiseRank + 1, values: values)
    }

    @Test func solvedBinsFollowTheTrainingCut() {
        #expect(Self.config().solvedBinCount == 250)          // ⌈7800 · 1536 / 48000⌉ = ⌈249.6⌉
        #expect(Self.config(bandLimit: nil).solvedBinCount == 769)
        var c = Self.config(bandLimit: 7812.5)                 // bin 250 exactly: not below the limit
        #expect(c.solvedBinCount == 250)
        c.bandLimitHertz = 1
        #expect(c.solvedBinCount == 1)
    }

    /// With the activations' relative floor off, a band-limited basis splits the full KL solve into
    /// two independent problems; the band-limited solver, started from the same h, computes the
    /// lower one bit for bit (same slots and lanes, the other bins add exact zeros).
    @Test func theSolveBelowTheLimitIsTheFullSolveRestricted() throws {
        let config = Self.config()
        let basis = try Self.bandLimitedBasis(binCount: config.binCount, limit: config.solvedBinCount)
        let full = try ActivationSolver(basis: basis, beta: 1, sparsity: 0.01)
        let part = try ActivationSolver(basis: basis.solvedPart(binCount: config.solvedBinCount), beta: 1, sparsity: 0.01)
        #expect(part.binCount == 250 && part.noiseRank == 8 && part.activationStride == full.activationStride - 8)
        let spectrum = Signal.whiteNoise(count: full.binStride, amplitude: 1, seed: 8).map { abs($0) }
        var v = spectrum, low = [Float](repeating: 0, count: part.binStride)
        for f in config.binCount..<full.binStride { v[f] = 0 }
        for f in 0..<part.binCount { low[f] = v[f] }
        var hFull = [Float](repeating: 0, count: full.activationStride)
        var hPart = [Float](repeating: 0, count: part.activationStride)
        for k in 0..<part.activationStride where k < 16 || (k >= part.noiseOffset && k < part.noiseOffset + 8) {
            hFull[k] = 0.01 * Float(k + 1)
            hPart[k] = hFull[k]
        }
        hFull[full.slot(ofAtom: basis.rank - 1)] = 0.5            // the high-band atom
        full.solve(v, activations: &hFull, iterations: 20)
        part.solve(low, activations: &hPart, iterations: 20)
        #expect(Array(hFull[0..<16]) == Array(hPart[0..<16]))
        #expect(Array(hFull[part.noiseOffset..<(part.noiseOffset + 8)]) == Array(hPart[part.noiseOffset..<(part.noiseOffset + 8)]))
        #expect(hPart.allSatisfy { $0.isFinite } && hPart[0] != 0.01)   // it moved
    }

    /// Above the limit Ŝ = r·V and N̂ = (1 − r)·V, with r the speech share of the solved bins.
    @Test func theBandAboveTakesTheSpeechShareBelow() {
        let config = Self.config()
        let band = HighBand(config, binStride: 776)
        let enabled = band.enabled, solved = band.solvedBinCount
        #expect(enabled && solved == 250)
        let speech = (0..<256).map { f in f < 250 ? Float(f % 3) : 0 }
        let noise = (0..<256).map { f in f < 250 ? Float(1 + f % 2) : 0 }
        let v = (0..<776).map { f in f < 769 ? Float(f) / 100 : 0 }
        band.extend(speech: speech, noise: noise, spectrum: v)
        let s = speech.reduce(0, +), n = noise.reduce(0, +)
        let r = s / (s + n)
        let extendedSpeech = Array(UnsafeBufferPointer(start: band.speech, count: 769))
        let extendedNoise = Array(UnsafeBufferPointer(start: band.noise, count: 769))
        #expect(Array(extendedSpeech[..<250]) == Array(speech[..<250]) && Array(extendedNoise[..<250]) == Array(noise[..<250]))
        for f in 250..<769 {
            #expect(abs(extendedSpeech[f] - r * v[f]) <= 1e-6 * v[f])
            #expect(abs(extendedSpeech[f] + extendedNoise[f] - v[f]) <= 1e-6 * v[f])
        }
        let off = HighBand(Self.config(bandLimit: nil), binStride: 776).enabled
        #expect(!off)
    }

    @Test func aBasisWithWeightAcrossTheLimitIsRefused() throws {
        let config = Self.config()
        let random = Signal.randomBasis(binCount: config.binCount, speechRank: 4, noiseRank: 4, seed: 1)
        #expect(throws: EngineError.self) { try Engine(configuration: config, basis: random) }
        do {
            _ = try Engine(configuration: config, basis: random)
        } catch {
            guard case .invalidSetting(.bandLimitHertz, _, let allowed) = error else {
                Issue.record("wrong error \(error)"); return
            }
            #expect(allowed.contains("atom 0") && allowed.contains("retrain with --band-limit-hz"))
        }
        var wrong = config
        wrong.bandLimitHertz = 24_000
        #expect(throws: EngineError.self) { try wrong.validate(basis: random) }
    }

    /// The band-limited engine keeps the engine's contracts: output independent of block lengths,
    /// finite, and the band above the limit neither removed nor passed whole.
    @Test func theBandLimitedEngineIsBlockInvariantAndKeepsTheHighBand() throws {
        var config = Self.config()
        config.adaptiveNoiseRank = 4; config.activationFloor = 0.7; config.noiseBoundDecibels = 6
        config.floorDecibels = -40; config.maskExponent = 1
        let basis = try Self.bandLimitedBasis(binCount: config.binCount, limit: config.solvedBinCount)
        let input = Signal.speechLike(seconds: 1.5, sampleRate: 48_000, noiseLevel: 0.05, seed: 3)
        let whole = try EngineHarness.runMono(input, configuration: config, basis: basis, blockLengths: [input.count])
        let blocked = try EngineHarness.runMono(input, configuration: config, basis: basis, blockLengths: [64, 1, 1000])
        #expect(whole == blocked)
        #expect(whole.allSatisfy { $0.isFinite } && rms(whole) > 0.001)
        // Share of the input's energy above the limit that the output keeps (aligned by the latency).
        func highBandShare(_ output: [Float]) throws -> Float {
            let stft = try ShortTimeFourierTransform(config)
            let d = config.latencySamples
            let x = try stft.analyse(Array(input[..<(input.count - d)])), y = try stft.analyse(Array(output[d...]))
            let range = (250 * x.frameCount)..<(x.binCount * x.frameCount)
            let energy = { (z: ComplexSpectrogram) in range.reduce(Float(0)) { $0 + z.re[$1] * z.re[$1] + z.im[$1] * z.im[$1] } }
            return energy(y) / energy(x)
        }
        // The full solve explains the band with the flat atom alone: Ŝ = 0 there, the mask at its floor (1e-4).
        config.bandLimitHertz = nil
        let floorOnly = try EngineHarness.runMono(input, configuration: config, basis: basis, blockLengths: [256])
        #expect(try highBandShare(floorOnly) < 2e-4)
        // Band-limited, the band follows the speech share below the limit: measured 0.057 (−12.4 dB).
        let share = try highBandShare(whole)
        #expect(share > 1e-3 && share < 0.5, "\(share)")
        config.bandLimitHertz = 7800
        // The online atoms follow the basis's own atoms (the high-band one left out) and all learn.
        var engine = try Engine(configuration: config, basis: basis)
        let before = (0..<4).map { engine.adaptiveNoiseAtom($0) }
        _ = EngineHarness.run(&engine, [Signal.whiteNoise(count: 48_000, amplitude: 0.05, seed: 6)], blockLengths: [384])
        for j in 0..<4 {
            let atom = engine.adaptiveNoiseAtom(j)
            #expect(atom.count == 769 && atom[250...].allSatisfy { $0 == 0 })
            #expect(maxAbsDifference(atom, before[j]) > 1e-4, "adaptive atom \(j) did not learn")
        }
    }
}
