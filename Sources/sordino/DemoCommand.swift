// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino demo`: the newcomer's first run — the bundled noisy sample through a JACK server and the daemon's engine.

import ArgumentParser
import Foundation
import Logging
import SordinoDSP
import SordinoIO
import SordinoJACK
import SordinoJACKRig
import SordinoPresets

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Enhance the bundled noisy sample through JACK and report before/after levels, latency and cost.",
        discussion: """
        Starts a private JACK server (jackd --no-realtime -S -n sordino-demo-PID -d dummy: no sound \
        card, no real-time privileges), runs the daemon's JACK host in this process with the preset \
        for the server's rate, plays the sample (converted to the server's rate with libsoxr) into \
        in_1 from a player client while a recorder client captures out_1, then stops everything — \
        the server too, also on errors and Ctrl-C. The output is written at the sample's rate, \
        aligned with the input (the reported latency removed), and as long as it.

        It prints the levels in and out (dBFS), the noise left in the quiet frames (where the \
        bundled clean reference is silent), the SI-SDR of input and output against that \
        reference, the latency (samples and ms, and the delay measured by cross-correlation), and \
        the process callback's cost (p50/p99/max µs and % of the period). Takes about the \
        sample's length (5.75 s) plus a second.

        Exit codes: 0 done; 65 preset or audio rejected (or no preset for the server's rate); 66 \
        input missing; 69 jackd missing, not starting within 10 s, or going away; 73/74 output \
        not writable; 130 interrupted (SIGINT/SIGTERM).
        """)

    @Option(help: "Use this running JACK server (a private one is started under this name if none answers). Default: a private server.")
    var server: String?

    @Option(name: .shortAndLong, help: "Output file (.wav or .flac), at the input's rate.")
    var output: String = "enhanced.wav"

    @Option(help: "Input file to play instead of the bundled presets/samples/noisy-speech-16k.wav (its first channel).")
    var input: String?

    @Option(name: .customLong("sample-rate"), parsing: .unconditional, help: "Sample rate of a private server, Hz (16000 or 48000 with the shipped presets).")
    var sampleRate: Int = 48_000

    @Option(parsing: .unconditional, help: "Period (JACK buffer size) of a private server, samples (16…8192).")
    var period: Int = 256

    @Option(name: .customLong("log-level"), help: "Log level on stderr: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .warning

    @OptionGroup var engine: EngineOptions

    mutating func validate() throws {
        try engine.refuseHopWorker(command: "demo")
        guard (8_000...192_000).contains(sampleRate) else { throw ValidationError("--sample-rate must lie in 8000…192000 Hz.") }
        guard (16...8192).contains(period) else { throw ValidationError("--period must lie in 16…8192 samples.") }
    }

    static let sampleName = "noisy-speech-16k.wav"
    static let referenceName = "clean-speech-16k.wav"

    func run() throws {
        // Before any thread exists: Ctrl-C is then collected by the loop below, which cleans up.
        let signals = SignalWaiter.blockTerminationSignals()
        bootstrapLogging(level: logLevel)
        do { try demo(signals: signals) } catch { throw report(error, command: "demo") }
    }

    private func demo(signals: SignalWaiter) throws {
        let logger = Logger(label: "sordino")
        let started = ContinuousClock.now

        // Refuse an output that cannot be written before starting anything.
        let format = try AudioFileFormat.inferred(fromPath: output)
        let outputDirectory = URL(fileURLWithPath: output).deletingLastPathComponent().path
        guard FileManager.default.isWritableFile(atPath: outputDirectory) else {
            throw CommandError("cannot write \(output): \(outputDirectory) does not exist or is not writable.",
                               exitCode: .cannotCreate)
        }
        // A file made and removed there: found by hand, root may "write" /proc by its permission
        // bits, and `--output /proc/x.wav` failed only after the whole run.
        let probe = "\(outputDirectory)/.\(URL(fileURLWithPath: output).lastPathComponent).\(getpid()).probe"
        let descriptor = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw CommandError("cannot write \(output): \(String(cString: strerror(errno))) in \(outputDirectory). Choose another --output.",
                               exitCode: .cannotCreate)
        }
        close(descriptor)
        unlink(probe)

        // The sample and, for the bundled one, its clean reference.
        let (inputPath, referencePath) = try Self.locateSample(input)
        let (audio, _) = try AudioFileReader.read(path: inputPath)
        guard let dry = audio.channels.first, !dry.isEmpty else {
            throw CommandError("\(inputPath) holds no samples.", exitCode: .badData)
        }
        let reference = try referencePath.map { try AudioFileReader.read(path: $0).0.channels.first ?? [] }

        // The server: the named one if it answers, else a private one (always stopped again).
        var privateServer: PrivateJackServer?
        defer { privateServer?.stop() }
        let serverName: String
        if let server, jackServerAnswers(name: server) {
            serverName = server
        } else {
            serverName = server ?? "sordino-demo-\(getpid())"
            privateServer = try PrivateJackServer(name: serverName, sampleRate: sampleRate, period: period)
        }

        // The daemon's host, opened as soon as the server answers.
        let factory = PresetEngineFactory(options: engine, channelCount: 1, logger: logger)
        let options = JackHostOptions(clientName: "sordino", serverName: serverName, channelCount: 1, reconnects: false)
        let host = try Self.openHost(options: options, factory: factory, server: privateServer, signals: signals, logger: logger)
        defer { host.close() }
        let rate = host.sampleRate, latency = host.latencySamples
        let played = try Resampler.resample(dry, from: audio.sampleRate, to: rate)

        guard let built = factory.loaded else { throw CommandError("the host built no engine.", exitCode: .internalError) }
        let (recording, cost) = try Self.play(played, through: host, hopLength: built.configuration.hopLength,
                                              serverName: serverName, recordingCount: played.count + latency, signals: signals)
        let blockLength = host.blockLength
        host.close()
        privateServer?.stop()

        // The same engine offline, as `sordino process` runs it: the JACK path must equal it.
        var offlineEngine = try Engine(configuration: built.configuration, basis: built.basis,
                                       gainModel: built.gainModel)
        let offline = EngineBlockDriver.enhance(&offlineEngine, [played], blockLength: blockLength, flush: latency)[0]
        let offlineDifference = zip(offline, recording).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }

        // Delay compensation by the reported latency, back to the input's rate and length.
        let measuredDelay = try AudioMeasures.delay(input: played, output: recording, maximumLag: 2 * latency)
        let aligned = Array(recording[latency..<(latency + played.count)])
        var enhanced = try Resampler.resample(aligned, from: rate, to: audio.sampleRate)
        enhanced = Array((enhanced + [Float](repeating: 0, count: dry.count)).prefix(dry.count))
        try AudioFileWriter.write(AudioBuffer(sampleRate: audio.sampleRate, channels: [enhanced]), to: output, format: format)

        // The report.
        let ms = { (samples: Int) in String(format: "%.2f", Double(samples) * 1000 / Double(rate)) }
        let db = { (value: Double) in value.isFinite ? String(format: "%.1f", value) : (value > 0 ? "∞" : "−∞") }
        let frameLength = audio.sampleRate / 50   // 20 ms
        let quiet = AudioMeasures.quietFrames(input: dry, reference: reference, frameLength: frameLength)
        let noiseBefore = AudioMeasures.rmsDecibels(dry, frames: quiet, frameLength: frameLength)
        let noiseAfter = AudioMeasures.rmsDecibels(enhanced, frames: quiet, frameLength: frameLength)
        let periodMicroseconds = Double(blockLength) * 1e6 / Double(rate)
        let c = cost.callback
        let percent = { (us: Double) in String(format: "%.1f", us * 100 / periodMicroseconds) }
        let serverText = privateServer != nil ? "private JACK server '\(serverName)' (jackd --no-realtime -S, dummy driver)"
                                              : "JACK server '\(serverName)'"
        var lines = [
            "\(serverText): \(rate) Hz, period \(blockLength) samples (\(ms(blockLength)) ms)",
            "preset        \(built.name) (\(Self.relative(built.path))), chosen for \(rate) Hz",
            "played        \(inputPath) (\(audio.sampleRate) Hz, \(String(format: "%.2f", audio.durationSeconds)) s"
                + "\(audio.sampleRate != rate ? ", converted to \(rate) Hz" : "")) → \(host.inputPortNames[0]) → "
                + "\(host.outputPortNames[0]) → recorder",
            "level         in \(db(AudioMeasures.rmsDecibels(dry))) dBFS, out \(db(AudioMeasures.rmsDecibels(enhanced))) dBFS",
            "noise         \(String(format: "%.2f", Double(quiet.count * frameLength) / Double(audio.sampleRate))) s of "
                + "\(reference != nil ? "noise-only frames (clean reference silent)" : "quietest frames"): "
                + "\(db(noiseBefore)) → \(db(noiseAfter)) dBFS, \(db(noiseBefore - noiseAfter)) dB removed",
        ]
        if let reference {
            let before = AudioMeasures.siSDR(reference: reference, estimate: dry)
            let after = AudioMeasures.siSDR(reference: reference, estimate: enhanced)
            lines.append("SI-SDR        vs the clean reference: in \(db(before)) dB, out \(db(after)) dB "
                         + "(\(after >= before ? "+" : "")\(db(after - before)) dB)")
        }
        lines += [
            "latency       \(latency) samples = \(ms(latency)) ms (reported to JACK); measured delay \(measuredDelay) samples"
                + (measuredDelay == latency ? " (agrees)" : " (DIFFERS from the reported latency)"),
            offline == recording
                ? "offline       identical to the same engine run offline (as `sordino process`, block \(blockLength)), sample for sample"
                : "offline       DIFFERS from the same engine run offline: max |difference| \(offlineDifference)",
            "callback      p50 \(formatted(c.p50Microseconds)) µs, p99 \(formatted(c.p99Microseconds)) µs, "
                + "max \(formatted(c.maximumMicroseconds)) µs over \(c.count) cycles = \(percent(c.p50Microseconds)) / "
                + "\(percent(c.p99Microseconds)) / \(percent(c.maximumMicroseconds)) % of the "
                + "\(String(format: "%.0f", periodMicroseconds)) µs period; \(cost.xruns) xruns",
            "wrote         \(output) (\(format), \(audio.sampleRate) Hz, \(dry.count) samples, aligned with the input) "
                + "in \(String(format: "%.1f", Self.seconds(since: started))) s",
        ]
        print(lines.joined(separator: "\n"))
    }

    // MARK: - Steps

    /// The input path and, for the bundled sample, the clean reference next to it.
    static func locateSample(_ input: String?) throws -> (input: String, reference: String?) {
        if let input {
            guard FileManager.default.fileExists(atPath: input) else {
                throw CommandError("\(input) does not exist.", exitCode: .noInput)
            }
            return (input, nil)
        }
        let locator = PresetLocator()
        for directory in locator.searchDirectories {
            let samples = URL(fileURLWithPath: directory).appendingPathComponent("samples")
            let noisy = samples.appendingPathComponent(sampleName).path
            guard FileManager.default.fileExists(atPath: noisy) else { continue }
            let clean = samples.appendingPathComponent(referenceName).path
            return (Self.relative(noisy), FileManager.default.fileExists(atPath: clean) ? Self.relative(clean) : nil)
        }
        throw CommandError("the bundled sample \(sampleName) was not found in a samples/ folder of "
                           + "\(locator.searchDirectories.joined(separator: ", ")). Run from the repository, "
                           + "or pass --input FILE.", exitCode: .noInput)
    }

    /// Opens the host, retrying for up to 10 s while a private server starts; fails fast if it dies.
    static func openHost(options: JackHostOptions, factory: PresetEngineFactory, server: PrivateJackServer?,
                         signals: SignalWaiter, logger: Logger) throws -> JackHost {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            do throws(JackHostError) {
                return try JackHost(options: options, logger: logger, makeEngine: factory.factory)
            } catch let error where server != nil && ContinuousClock.now < deadline && Self.isStarting(error) {
                if let status = server?.exitStatus() {
                    throw CommandError("jackd exited (\(status)) before answering. Its log: \(server?.logTail() ?? "")",
                                       exitCode: .serverUnavailable)
                }
                if let signal = signals.wait(timeout: .milliseconds(50)), signal != .hangup {
                    throw CommandError("interrupted by \(signal)", exitCode: ExitCode(130))
                }
            } catch let error where server != nil && Self.isStarting(error) {
                throw CommandError("jackd '\(options.serverName ?? "")' did not answer within 10 s: "
                                   + "its log: \(server?.logTail() ?? "(empty)")", exitCode: .serverUnavailable)
            } catch {
                throw error
            }
        }
    }

    /// Plays `signal` into the host's in_1 from a player client and records `recordingCount`
    /// samples of out_1 with a recorder client, aligned to the signal; returns the recording and
    /// the host's callback statistics over the playback. The player starts when the engine has
    /// processed a multiple of `hopLength` samples. Both clients are closed on return.
    static func play(_ signal: [Float], through host: JackHost, hopLength: Int, serverName: String, recordingCount: Int,
                     signals: SignalWaiter) throws -> (recording: [Float], cost: JackHostReport) {
        let rig = try JackLoopback(serverName: serverName, signal: signal, recordingCount: recordingCount,
                                   playerName: "sordino-demo-player", recorderName: "sordino-demo-recorder")
        guard rig.connect(hostInput: host.inputPortNames[0], hostOutput: host.outputPortNames[0]) else {
            throw CommandError("JACK server '\(serverName)' refused to connect the player and recorder to \(host.clientName).",
                               exitCode: .serverUnavailable)
        }
        try wait(for: .milliseconds(100), host: host, signals: signals)   // let the graph settle
        _ = host.takeReport()   // cost statistics from here on cover the playback only
        // Start on a hop boundary of an engine that has seen only silence: as a fresh engine would.
        rig.arm(alignedTo: host.engineTelemetry, hopLength: hopLength)
        let seconds = Double(recordingCount) / Double(host.sampleRate)
        let deadline = ContinuousClock.now + .seconds(seconds * 2 + 5)
        while !rig.isFull {
            try wait(for: .milliseconds(20), host: host, signals: signals)
            guard ContinuousClock.now < deadline else {
                throw CommandError("recorded only \(rig.recordedCount) of \(recordingCount) samples in "
                                   + "\(Int(seconds * 2 + 5)) s: the JACK server '\(serverName)' stalled.",
                                   exitCode: .serverUnavailable)
            }
        }
        let cost = host.takeReport()
        guard !rig.misaligned else {
            throw CommandError("the player and recorder did not start in the same JACK cycle.", exitCode: .internalError)
        }
        return (rig.recording, cost)
    }

    /// Errors a server that is still starting gives: no answer yet, or a refusal mid-initialisation.
    static func isStarting(_ error: JackHostError) -> Bool {
        switch error {
        case .serverNotRunning, .clientRefused: true
        default: false
        }
    }

    /// Runs the host's housekeeping for `duration`, stopping on SIGINT/SIGTERM and if the server died.
    static func wait(for duration: Duration, host: JackHost, signals: SignalWaiter) throws {
        if let signal = signals.wait(timeout: duration), signal != .hangup {
            throw CommandError("interrupted by \(signal)", exitCode: ExitCode(130))
        }
        try host.service()
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = start.duration(to: .now)
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    /// `path` relative to the working directory when it lies below it (shorter to print).
    static func relative(_ path: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath + "/"
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        return absolute.hasPrefix(cwd) ? String(absolute.dropFirst(cwd.count)) : path
    }
}

/// One decimal for values ≥ 10, two below (as the host's log lines).
private func formatted(_ value: Double) -> String {
    String(format: abs(value) >= 10 ? "%.1f" : "%.2f", value)
}
