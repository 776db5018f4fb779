// SPDX-License-Identifier: GPL-3.0-or-later
// learn-noise, save-noise and forget-noise through `sordino run` on a private jackd: the SI-SDR gain over the shipped atoms, live.

import Foundation
import SordinoControl
import SordinoIO
import SordinoJACKRig
import Testing
import TestSupport

@Suite("learn-noise through sordino run on a private jackd", .serialized, .inProcessJack,
       .enabled(if: CLI.shouldRun, CLI.skipReason),
       .enabled(if: JackdServer.shouldRun, Comment(rawValue: JackdServer.skipReason)))
struct LearnNoiseDaemonTests {
    /// The whine with band noise at `scale`, `seconds` long, from sample `offset` of the seed's noise.
    static func noise(seconds: Double, scale: Float, seed: UInt64) -> [Float] {
        Signal.whineNoise(seconds: seconds, seed: seed).map { $0 * scale }
    }

    /// Plays `input` through the daemon's in_1 → out_1 and returns the recording (sample n: the
    /// output for input sample n, so the engine's latency is still in it).
    static func play(_ input: [Float], through d: ControlledDaemon) throws -> [Float] {
        let rig = try JackLoopback(serverName: d.server.name, signal: input, recordingCount: input.count)
        #expect(rig.connect(hostInput: "sordino:in_1", hostOutput: "sordino:out_1"))
        Thread.sleep(forTimeInterval: 0.2)
        rig.arm()
        #expect(rig.waitUntilFull(timeout: .seconds(Double(input.count) / 16_000 * 4 + 10)))
        #expect(!rig.misaligned)
        return rig.recording
    }

    @Test("learn-noise 5 on a whine with band noise: ≥ 3 dB more SI-SDR on speech in that noise than the shipped atoms; save-noise writes a preset reload finds; forget-noise returns")
    func learnSaveForget() throws {
        let d = try ControlledDaemon()
        defer { d.stop(); try? FileManager.default.removeItem(at: d.folder) }
        let c = try d.client()
        let speech = try AudioFileReader.read(path: CLI.repository.appendingPathComponent("presets/samples/clean-speech-16k.wav").path).0.channels[0]
        // The speech at 0 dB SNR in the noise, after 3 s of the noise alone (the same for both passes).
        let lead = 3 * 16_000
        let background = Self.noise(seconds: Double(lead + speech.count) / 16_000, scale: 1, seed: 12)
        let scale = rms(speech) / rms(background[lead...])
        var mixture = background.map { $0 * scale }
        for n in speech.indices { mixture[lead + n] += speech[n] }

        // learn-noise while only the noise plays (another stretch of it: seed 11).
        var stages: [String] = []
        let learned: JSONValue
        do {
            let noise = Self.noise(seconds: 8, scale: scale, seed: 11)
            let rig = try JackLoopback(serverName: d.server.name, signal: noise, recordingCount: 1)
            #expect(rig.connect(hostInput: "sordino:in_1", hostOutput: "sordino:out_1"))
            rig.arm()
            Thread.sleep(forTimeInterval: 0.5)
            learned = try c.request(.learnNoise, ["seconds": .number(5)]) { stages.append($0["stage"]?.stringValue ?? "?") }
        }
        #expect(learned["atoms"] == .number(16) && learned["seconds"] == .number(5) && learned["beta"] == .number(1), "\(learned.text)")
        #expect((learned["objective"]?.doubleValue ?? .infinity) < 0.5 * (learned["initial_objective"]?.doubleValue ?? 0))
        #expect(learned["preset"]?.stringValue?.hasSuffix("with 16 learned noise atoms") == true, "\(learned.text)")
        #expect(stages.filter { $0 == "capturing" }.count == 4 && stages.contains("learning"), "\(stages)")
        #expect(try c.request(.status)["preset"] == learned["preset"])
        let withLearned = try Self.play(mixture, through: d)

        // save-noise: a bad name refused, a good one written where the search path looks.
        #expect(throws: ControlFailure.self) { try c.request(.saveNoise, ["name": .string("../office")]) }
        let saved = try c.request(.saveNoise, ["name": .string("office")])
        let presets = d.folder.appendingPathComponent("data/sordino/presets")
        #expect(saved["path"] == .string(presets.appendingPathComponent("office.json").path), "\(saved.text)")

        // forget-noise: back to the shipped atoms; the same mixture again.
        let forgot = try c.request(.forgetNoise)
        #expect(forgot["changed"] == .bool(true) && forgot["preset"]?.stringValue?.contains("learned") == false, "\(forgot.text)")
        #expect(try c.request(.forgetNoise)["changed"] == .bool(false))
        let shipped = try Self.play(mixture, through: d)

        let latency = 512
        func score(_ recording: [Float]) -> Double {
            siSDR(reference: speech[..<(speech.count - latency)], estimate: recording[(lead + latency)...])
        }
        let input = siSDR(reference: speech, estimate: mixture[lead...])
        let (learnedScore, shippedScore) = (score(withLearned), score(shipped))
        print("live SI-SDR of speech in the whine noise: input \(input) dB, shipped atoms \(shippedScore) dB, "
              + "after learn-noise 5 \(learnedScore) dB (\(learnedScore - shippedScore) dB more)")
        #expect(learnedScore - shippedScore >= 3)

        // The saved preset is found by name, and save-noise has nothing to save now.
        let reloaded = try c.request(.reload, ["preset": .string("office")])
        #expect(reloaded["preset"]?.stringValue?.hasPrefix("office (\(presets.path)") == true, "\(reloaded.text)")
        do {
            _ = try c.request(.saveNoise, ["name": .string("again")])
            Issue.record("save-noise without learned atoms was accepted")
        } catch {
            #expect(error.code == .nothingLearned, "\(error.message)")
        }
        let busy = try ControlClient(path: d.socket)
        for bad: [String: JSONValue] in [["seconds": .number(0.5)], ["seconds": .number(31)], ["seconds": .string("5")],
                                         ["seconds": .number(5), "atoms": .number(0)], ["seconds": .number(5), "atoms": .number(65)]] {
            #expect(throws: ControlFailure.self) { try busy.request(.learnNoise, bad) }
        }
    }
}
