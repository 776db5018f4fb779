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
    /// The whine with band noise at `scale`, `seconds` long.
    static func noise(seconds: Double, scale: Float, seed: UInt64) -> [Float] {
        Signal.whineNoise(seconds: seconds, fundamental: 240, pulsed: true, seed: seed).map { $0 * scale }
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

    /// dB of SI-SDR learn-noise must add over the shipped atoms that heard only the 3 s lead, with
    /// the learned gain off (what learning changes is the dictionary; docs/PROTOCOL.md has the
    /// figures with the learned gain on, where the network, trained with synthetic machine noises,
    /// already takes much of this whine and learning adds less). Measured: +4.1 with the
    /// release binary and the preset's 5 iterations (SORDINO_TEST_BINARY), +3.3 with the
    /// debug binary at 1 iteration (as `make test` runs it); the capture's stretch of the pulsed
    /// noise varies with the timing, and the atoms with it.
    static let gainOverFresh = ControlledDaemon.engineArguments.isEmpty ? 2.8 : 2.3
    /// dB it must add over the shipped atoms after forget-noise, which have adapted online to the
    /// noise for ~25 s: the issue's bar. Measured +4.8 (release), +4.7 (debug).
    static let gainOverAdapted = 3.0

    @Test("learn-noise 5 on a pulsed whine with band noise: more SI-SDR on speech in that noise than the shipped atoms; save-noise writes a preset reload finds; forget-noise returns")
    func learnSaveForget() throws {
        // A floor low enough that the noise model, not the floor, limits the result; the learned
        // gain off, so that the dictionary alone decides (speech presence from the first step).
        let d = try ControlledDaemon(extraArguments: ["--floor-db", "-30", "--gain-refinement", "off"])
        defer { d.stop(); try? FileManager.default.removeItem(at: d.folder) }
        let c = try d.client()
        let speech = try AudioFileReader.read(path: CLI.repository.appendingPathComponent("presets/samples/clean-speech-16k.wav").path).0.channels[0]
        // The speech at −5 dB SNR in the noise, after 3 s of the noise alone (the same for both passes).
        let lead = 3 * 16_000
        let background = Self.noise(seconds: Double(lead + speech.count) / 16_000, scale: 1, seed: 12)
        let scale = rms(speech) / rms(background[lead...]) * 1.778   // 10^(5/20)
        var mixture = background.map { $0 * scale }
        for n in speech.indices { mixture[lead + n] += speech[n] }

        // The preset as shipped, on a daemon that has heard only the mixture's 3 s lead of the noise.
        let fresh = try Self.play(mixture, through: d)

        // learn-noise while only the noise plays (another stretch of it: seed 11).
        var stages: [String] = []
        let learned: JSONValue
        do {
            let noise = Self.noise(seconds: 8, scale: scale, seed: 11)   // another stretch of the same machine
            let rig = try JackLoopback(serverName: d.server.name, signal: noise, recordingCount: 1)
            #expect(rig.connect(hostInput: "sordino:in_1", hostOutput: "sordino:out_1"))
            rig.arm()
            Thread.sleep(forTimeInterval: 0.5)
            learned = try c.request(.learnNoise, ["seconds": .number(5)]) { stages.append($0["stage"]?.stringValue ?? "?") }
        }
        #expect(learned["atoms"] == .number(32) && learned["seconds"] == .number(5) && learned["beta"] == .number(1), "\(learned.text)")
        #expect((learned["objective"]?.doubleValue ?? .infinity) < 0.5 * (learned["initial_objective"]?.doubleValue ?? 0))
        #expect(learned["preset"]?.stringValue?.hasSuffix("with 32 learned noise atoms") == true, "\(learned.text)")
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
        // (Still speech-16k: the user's folder, now holding "office", is not the default preset folder.)
        #expect(forgot["changed"] == .bool(true) && forgot["preset"]?.stringValue?.hasPrefix("speech-16k (") == true
                && forgot["preset"]?.stringValue?.contains("learned") == false, "\(forgot.text)")
        #expect(try c.request(.forgetNoise)["changed"] == .bool(false))
        let shipped = try Self.play(mixture, through: d)

        let latency = 640   // frame 512 + hop 128: the daemon spreads the hop's work (its default)
        func score(_ recording: [Float]) -> Double {
            siSDR(reference: speech[..<(speech.count - latency)], estimate: recording[(lead + latency)...])
        }
        let input = siSDR(reference: speech, estimate: mixture[lead...])
        let (freshScore, learnedScore, shippedScore) = (score(fresh), score(withLearned), score(shipped))
        print("live SI-SDR of speech in the pulsed whine at -5 dB SNR: input \(input) dB; shipped atoms after 3 s of the noise "
              + "\(freshScore) dB; after learn-noise 5 \(learnedScore) dB; shipped atoms again after forget-noise (the "
              + "online atoms having heard the noise for ~25 s) \(shippedScore) dB")
        // Measured (release binary, 5 iterations): 0.56 after 3 s, 4.64 learned, −0.14 after forget-noise;
        // (debug binary, 1 iteration): 0.95, 4.21, −0.51.
        #expect(learnedScore - freshScore >= Self.gainOverFresh)
        #expect(learnedScore - shippedScore >= Self.gainOverAdapted)

        // The saved preset is found by name, and save-noise has nothing to save now.
        let reloaded = try c.request(.reload, ["preset": .string("office")])
        #expect(reloaded["preset"]?.stringValue?.hasPrefix("office (\(presets.path)") == true, "\(reloaded.text)")
        do {
            _ = try c.request(.saveNoise, ["name": .string("again")])
            Issue.record("save-noise without learned atoms was accepted")
        } catch {
            #expect(error.code == .nothingLearned, "\(error.message)")
        }
        let other = try ControlClient(path: d.socket)
        for bad: [String: JSONValue] in [["seconds": .number(0.5)], ["seconds": .number(31)], ["seconds": .string("5")],
                                         ["seconds": .number(5), "atoms": .number(0)], ["seconds": .number(5), "atoms": .number(65)]] {
            #expect(throws: ControlFailure.self) { try other.request(.learnNoise, bad) }
        }

        // From the shell: the refusals' exit codes, and forget-noise with nothing learned.
        func ctl(_ arguments: [String]) throws -> CLI.Result { try CLI.run(["ctl"] + arguments + ["--control", d.socket], timeout: 30) }
        let forget = try ctl(["forget-noise"])
        #expect(forget.status == 0 && forget.stdout.hasPrefix("no learned noise atoms were in use: office ("), "\(forget.stdout)\(forget.stderr)")
        // A negative number is a value that gets the range (ArgumentParser took -1 for an option and
        // said "Missing expected argument"); a misspelt option is still named.
        for seconds in ["0.5", "-1", "nan"] {
            let refused = try ctl(["learn-noise", seconds])
            #expect(refused.status == 64 && refused.stderr.contains("\"seconds\" must be a number in 1…30"), "\(seconds): \(refused.stderr)")
        }
        let misspelt = try ctl(["learn-noise", "5", "--atom", "8"])
        #expect(misspelt.status == 64 && misspelt.stderr.contains("Unknown option '--atom'"), "\(misspelt.stderr)")
        let unsafe = try ctl(["save-noise", "../office"])
        #expect(unsafe.status == 64 && unsafe.stderr.contains("\"name\" must be 1 to 64 letters"), "\(unsafe.stderr)")
        let nothing = try ctl(["save-noise", "again"])
        #expect(nothing.status == 64 && nothing.stderr.contains("no learned noise atoms are in use"), "\(nothing.stderr)")
    }
}
