// SPDX-License-Identifier: GPL-3.0-or-later
// Counts heap allocations while engines process 10 s of audio; run by the allocation test under LD_PRELOAD.

import Glibc
import MallocInterposerSwift
import SordinoDSP
import TestSupport

/// One engine setup to measure: name, configuration (basis shape follows it) and gain model, if any.
struct Case {
    let name: String
    let configuration: EngineConfiguration
    var gainModel: GainModel? = nil
}

/// A gain model of the sizes `configuration` needs, with seeded weights in ±0.3.
func randomGainModel(for configuration: EngineConfiguration) -> GainModel? {
    let bands = GainBands(sampleRate: configuration.sampleRate, fftLength: configuration.fftLength).bandCount
    let features = GainRefinement.featureCount(bandCount: bands)
    var generator = SplitMix64(seed: 5)
    let count = GainModel.parameterCount(featureCount: features, inputUnits: 48, hiddenUnits: 64, bandCount: bands)
    let values = (0..<count).map { _ in 0.6 * generator.nextUnitFloat() - 0.3 }
    return try? GainModel(featureCount: features, inputUnits: 48, hiddenUnits: 64, bandCount: bands, values: values)
}

func makeCases() -> [Case] {
    var mono = EngineConfiguration()
    mono.maskSmoothingMilliseconds = 20
    mono.activationFloor = 1
    mono.adaptiveNoiseRank = 8
    mono.noiseBoundDecibels = 6
    mono.absentFloorDecibels = -25   // the speech-presence stage
    var is48 = EngineConfiguration()
    is48.sampleRate = 48_000; is48.frameLength = 1536; is48.hopLength = 384; is48.fftLength = 1536
    is48.beta = 0; is48.channelCount = 2; is48.linkChannels = true
    var euclid = EngineConfiguration()
    euclid.beta = 2; euclid.spectrumExponent = 2; euclid.channelCount = 2; euclid.maskExponent = 1
    euclid.noiseBoundDecibels = -3
    var gain = mono
    gain.gainRefinement = .lift           // the learned gain refinement
    var gainLinked = is48
    gainLinked.gainRefinement = .multiply
    gainLinked.spreadsHopWork = true          // the hop's steps spread over the blocks
    var banded = is48                         // the band-limited solve, with the learned gain shaping above it
    banded.beta = 1; banded.linkChannels = false; banded.bandLimitHertz = 7800; banded.adaptiveNoiseRank = 4
    banded.noiseBoundDecibels = 6; banded.gainRefinement = .shape
    var bandedSpread = banded
    bandedSpread.spreadsHopWork = true
    var eightChannels = banded                // streams solved eight at a time in the lanes of one pass
    eightChannels.channelCount = 8
    var bandedPresence = banded
    bandedPresence.gainRefinement = nil; bandedPresence.absentFloorDecibels = -25; bandedPresence.channelCount = 1
    var lowLatency = banded                   // lowlatency-48k's shape: 512-point frames, hop 128, a network
    lowLatency.frameLength = 512; lowLatency.hopLength = 128; lowLatency.fftLength = 512
    lowLatency.channelCount = 1; lowLatency.adaptiveNoiseRank = 8; lowLatency.absentFloorDecibels = -25
    return [Case(name: "kl-16k-mono", configuration: mono), Case(name: "is-48k-stereo-linked", configuration: is48),
            Case(name: "euclidean-16k-stereo", configuration: euclid),
            Case(name: "gain-lift-16k-mono", configuration: gain, gainModel: randomGainModel(for: gain)),
            Case(name: "gain-multiply-48k-stereo-linked-spread", configuration: gainLinked,
                 gainModel: randomGainModel(for: gainLinked)),
            Case(name: "band-limited-48k-stereo-gain", configuration: banded, gainModel: randomGainModel(for: banded)),
            Case(name: "band-limited-48k-stereo-gain-spread", configuration: bandedSpread,
                 gainModel: randomGainModel(for: bandedSpread)),
            Case(name: "band-limited-48k-8-channels-gain", configuration: eightChannels,
                 gainModel: randomGainModel(for: eightChannels)),
            Case(name: "band-limited-48k-mono-presence", configuration: bandedPresence),
            Case(name: "band-limited-48k-hop128-mono-gain", configuration: lowLatency,
                 gainModel: randomGainModel(for: lowLatency))]
}

/// A random basis for `config`; with a band limit, cut like `sordino train --band-limit-hz` cuts it:
/// every atom 0 from the first bin above the limit, and the last noise atom flat above it and 0 below.
func basis(for config: EngineConfiguration) -> Basis {
    let random = Signal.randomBasis(binCount: config.binCount, speechRank: 32, noiseRank: 16, seed: 1)
    guard config.bandLimitHertz != nil else { return random }
    let limit = config.solvedBinCount, rank = random.rank
    var values = random.values
    for f in 0..<config.binCount {
        for k in 0..<rank where (f >= limit) != (k == rank - 1) { values[f * rank + k] = 0 }
    }
    // The random basis is valid, and so is any non-negative cut of it.
    return try! Basis(binCount: config.binCount, speechRank: 32, noiseRank: 16, values: values)
}

/// Usage: AllocationProbe [SECONDS] [CASE-NAME-PREFIX]. Exit 0 when nothing allocated, 1 when
/// something did, 2 when the interposer is not counting (not loaded).
let arguments = CommandLine.arguments.dropFirst()
let seconds = arguments.first.flatMap { Int($0) } ?? 10
let only = arguments.dropFirst().first ?? ""

// Prove the counter is live: an allocation made on purpose must be seen.
MallocInterposerSwift.initialize()
MallocInterposerSwift.hook()
let canary = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 16)
canary.deallocate()
MallocInterposerSwift.unhook()
guard MallocInterposerSwift.getStatistics().mallocCount > 0 else {
    print("the malloc interposer is not counting: run with LD_PRELOAD=<build dir>/libMallocInterposerSwift.so")
    exit(2)
}

var failures = 0
for test in makeCases() where test.name.hasPrefix(only) {
    let config = test.configuration
    let basis = basis(for: config)
    var engine: Engine
    do { engine = try Engine(configuration: config, basis: basis, gainModel: test.gainModel) } catch {
        print("\(test.name): cannot build engine: \(error)")
        failures += 1
        continue
    }
    var signal = Signal.speechLike(seconds: Double(seconds), sampleRate: config.sampleRate, noiseLevel: 0.1, seed: 2)
    signal[1234] = .nan                                  // the non-finite path must not allocate either
    for i in (signal.count / 2)..<(signal.count / 2 + 4000) { signal[i] = 0 }   // nor the silent path
    let channels = config.channelCount
    let input = UnsafeMutablePointer<Float>.allocate(capacity: signal.count)
    input.initialize(from: signal, count: signal.count)
    let output = UnsafeMutablePointer<Float>.allocate(capacity: signal.count * channels)
    let inputs = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: channels)
    let outputs = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: channels)
    for c in 0..<channels {
        inputs[c] = UnsafePointer(input)
        outputs[c] = output + c * signal.count
    }
    var driver = EngineBlockDriver(channelCount: channels, blockLengths: [256, 1, 7, 1000, 4096, 64, 333])
    let controls = engine.controls

    MallocInterposerSwift.initialize()
    MallocInterposerSwift.hook()
    driver.run(&engine, inputs: inputs, outputs: outputs, count: signal.count) { block in
        if block == 10 { controls.bypass = true }     // control changes mid-stream
        if block == 40 { controls.bypass = false; controls.floorDecibels = -30 }
        if block == 60 { controls.noiseBoundDecibels = .some(3); controls.maskExponent = 2; controls.iterations = 2 }
        if block == 80 { controls.noiseBoundDecibels = .some(nil); controls.wet = 0.5 }   // the live bound off
        if block == 100 { controls.clearLive(.noiseBound); controls.clearLive(.wet) }
    }
    MallocInterposerSwift.unhook()
    let stats = MallocInterposerSwift.getStatistics()
    let hops = engine.telemetry.hops.load(ordering: .relaxed)
    print("\(test.name): \(seconds) s, \(hops) hops, \(driver.blocksRun) blocks: mallocCount=\(stats.mallocCount) "
          + "freeCount=\(stats.freeCount) bytes=\(stats.mallocBytesCount)")
    if stats.mallocCount != 0 || stats.freeCount != 0 { failures += 1 }
    input.deallocate(); output.deallocate(); inputs.deallocate(); outputs.deallocate()
}
if "jack-callback".hasPrefix(only) || only.isEmpty {
    for hopWorker in [false, true] {
        if let (line, clean) = probeJackCallback(seconds: seconds, hopWorker: hopWorker) {
            print(line)
            if !clean { failures += 1 }
        } else {
            print("jack-callback: skipped (jackd not installed; SORDINO_REQUIRE_JACKD=1 makes this a failure)")
        }
    }
}
print(failures == 0 ? "allocation-free" : "ALLOCATED in \(failures) case(s)")
exit(failures == 0 ? 0 : 1)
