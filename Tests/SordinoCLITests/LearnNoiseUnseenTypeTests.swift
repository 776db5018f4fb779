// SPDX-License-Identifier: GPL-3.0-or-later
// learn-noise on a noise type a test preset was trained without (dev keyboard noise): the SI-SDR gain over that preset's atoms, live through sordino run.

import Foundation
import SordinoControl
import SordinoIO
import SordinoJACKRig
import Testing
import TestSupport

/// Dev keyboard noise and dev speech, copied from the corpus into the fixtures (their README says whence).
private enum DevAudio {
    static let folder = CLI.repository.appendingPathComponent("Tests/Fixtures/keyboard-noise")

    /// A mono 16 kHz file of the fixture folder.
    static func read(_ name: String) throws -> [Float] {
        try AudioFileReader.read(path: folder.appendingPathComponent(name).path).0.channels[0]
    }
}

@Suite("learn-noise through sordino run on a noise type the preset was trained without", .serialized, .inProcessJack,
       .enabled(if: CLI.shouldRun, CLI.skipReason),
       .enabled(if: JackdServer.shouldRun, Comment(rawValue: JackdServer.skipReason)))
struct LearnNoiseUnseenTypeTests {
    /// The test preset: speech-16k's settings (online noise atoms, noise bound, activation floor,
    /// mask floor), 32 + 32 atoms, trained on the corpus' training noise without the keyboard type
    /// (the command is in its provenance). Keyboard is the one type made of isolated broadband
    /// clicks with silence between them: nothing else in the training noise looks like it (hum,
    /// fan and hvac share tonal lines, water and wind are steady broadband).
    static let preset = CLI.repository.appendingPathComponent("Tests/Fixtures/no-keyboard-16k/no-keyboard-16k.json").path

    /// dB of SI-SDR learn-noise must add over the preset's atoms (online atoms on), after 3 s of the
    /// noise and after ~25 s of it (forget-noise): measured at −5 dB SNR 2.05 and 2.08 (release
    /// binary, 5 iterations), 2.14 to 2.45 and 2.20 to 2.51 (debug, 1 iteration, three runs). Issue 14's bar is
    /// 3 dB; docs/PROTOCOL.md shows why keyboard noise does not reach it (the solve, not the atoms).
    static let gain = 1.7

    @Test("learn-noise 5 on dev keyboard noise the preset never heard: ≥ 1.7 dB more SI-SDR on dev speech in it than the preset's atoms (online atoms on)")
    func keyboard() throws {
        let d = try ControlledDaemon(extraArguments: ["--preset", Self.preset, "--floor-db", "-30"])
        defer { d.stop(); try? FileManager.default.removeItem(at: d.folder) }
        let c = try d.client()
        // 15 s of dev keyboard noise: the first 7 s are played for learn-noise, the rest lies under the speech.
        let noise = try DevAudio.read("bucklespring_evenkeys_tail.flac")
        let speech = try DevAudio.read("codec2_f_part1.flac")
        let split = 7 * 16_000, lead = 3 * 16_000
        // −5 dB SNR, as the whine test (at 0 dB learning added 1.0 dB, release binary).
        let snr = -5.0
        try #require(noise.count >= split + lead + speech.count)
        let background = noise[split..<(split + lead + speech.count)]
        let scale = rms(speech) / rms(background.dropFirst(lead)) / Float(pow(10, snr / 20))
        var mixture = background.map { $0 * scale }
        for n in speech.indices { mixture[lead + n] += speech[n] }

        let fresh = try LearnNoiseDaemonTests.play(mixture, through: d)
        let learned: JSONValue
        do {
            let capture = noise[..<split].map { $0 * scale }
            let rig = try JackLoopback(serverName: d.server.name, signal: capture, recordingCount: 1)
            #expect(rig.connect(hostInput: "sordino:in_1", hostOutput: "sordino:out_1"))
            rig.arm()
            Thread.sleep(forTimeInterval: 0.5)
            learned = try c.request(.learnNoise, ["seconds": .number(5)])
        }
        #expect(learned["preset"]?.stringValue?.hasSuffix("with 32 learned noise atoms") == true, "\(learned.text)")
        let withLearned = try LearnNoiseDaemonTests.play(mixture, through: d)
        #expect(try c.request(.forgetNoise)["changed"] == .bool(true))
        let adapted = try LearnNoiseDaemonTests.play(mixture, through: d)

        let latency = 640   // frame 512 + hop 128 (the daemon spreads the hop's work)
        func score(_ recording: [Float]) -> Double {
            siSDR(reference: speech[..<(speech.count - latency)], estimate: recording[(lead + latency)...])
        }
        let input = siSDR(reference: speech, estimate: mixture[lead...])
        let (freshScore, learnedScore, adaptedScore) = (score(fresh), score(withLearned), score(adapted))
        print("live SI-SDR of dev speech in dev keyboard noise at \(snr) dB SNR, preset trained without keyboard: input \(input) dB; "
              + "its atoms after 3 s of the noise \(freshScore) dB; after learn-noise 5 \(learnedScore) dB; its atoms again after "
              + "forget-noise (the online atoms having heard the noise for ~25 s) \(adaptedScore) dB")
        #expect(learnedScore - freshScore >= Self.gain)
        #expect(learnedScore - adaptedScore >= Self.gain)
    }
}
