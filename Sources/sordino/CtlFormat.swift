// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino ctl`'s text for people: the status page, settings, one status line, the terminal meters, learn-noise's lines.

import Foundation
import SordinoControl

enum CtlFormat {
    /// The `status` result as a short page.
    static func status(_ result: JSONValue) -> String {
        guard let s = DaemonStatus(json: result) else { return result.text }
        var lines = [
            "\(s.client) on JACK server '\(s.server)': \(state(s)), up \(duration(s.uptimeSeconds))",
            "preset     \(s.preset)",
            "audio      \(s.sampleRate) Hz, block \(s.blockLength) samples, latency \(s.latencySamples) samples (\(fixed(s.latencyMilliseconds, 1)) ms)",
        ]
        for (c, channel) in s.channels.enumerated() {
            lines.append("channel \(c + 1)  in peak \(dB(channel.inputPeakDecibels)) rms \(dB(channel.inputRMSDecibels)) dBFS, "
                         + "out peak \(dB(channel.outputPeakDecibels)) rms \(dB(channel.outputRMSDecibels)) dBFS, "
                         + "attenuation \(dB(channel.attenuationDecibels)) dB")
        }
        lines.append("estimate   speech-to-noise " + (s.speechToNoiseDecibels.map { "\(dB($0)) dB (the model's speech over noise energy, last 300 ms)" } ?? "- (silence)"))
        lines.append("callback   p50 \(fixed(s.callbackP50Microseconds, 0)) µs, p99 \(fixed(s.callbackP99Microseconds, 0)) µs, "
                     + "max \(fixed(s.callbackMaximumMicroseconds, 0)) µs (last 10 s); JACK DSP load \(fixed(s.dspLoadPercent, 1)) %")
        lines.append("counters   xruns \(s.xruns) (callbacks over the period \(s.overruns)), NaN/Inf replaced \(s.nonFiniteSamples), clipped \(s.clippedSamples), "
                     + "input clamped \(s.clampedInputSamples), "
                     + "reconnects \(s.reconnects), engine swaps \(s.engineSwaps)")
        if let settings = result["settings"] { lines.append("settings   " + Self.settings(settings)) }
        if let reason = s.passThrough { lines.insert("unprocessed \(reason)", at: 2) }
        return lines.joined(separator: "\n")
    }

    /// "running", "running, passing the input through unprocessed" or "waiting for the server".
    static func state(_ s: DaemonStatus) -> String {
        guard s.connected else { return "waiting for the server" }
        return s.passThrough == nil ? "running" : "running, passing the input through unprocessed"
    }

    /// "floor-db -12 (live), wet 1, …": every parameter, marking those set live.
    static func settings(_ result: JSONValue) -> String {
        guard let values = result["values"]?.objectValue else { return result.text }
        let live: Set<String> = {
            guard case .array(let names)? = result["live"] else { return [] }
            return Set(names.compactMap(\.stringValue))
        }()
        return LiveParameter.allCases.map { p in
            "\(p.rawValue) \(values[p.rawValue].map(word) ?? "?")\(live.contains(p.rawValue) ? " (live)" : "")"
        }.joined(separator: ", ")
    }

    /// "floor-db = -20 (live)".
    static func parameter(_ result: JSONValue) -> String {
        "\(result["name"]?.stringValue ?? "?") = \(result["value"].map(word) ?? "?") (\(result["source"]?.stringValue ?? "?"))"
    }

    /// One line per status event.
    static func statusLine(_ result: JSONValue) -> String {
        guard let s = DaemonStatus(json: result) else { return result.text }
        let levels = s.channels.enumerated().map { c, ch in
            "\(c + 1): in \(dB(ch.inputRMSDecibels)) out \(dB(ch.outputRMSDecibels)) att \(dB(ch.attenuationDecibels))"
        }.joined(separator: ", ")
        let state = s.connected ? (s.passThrough == nil ? "running" : "passing through") : "waiting"
        return "\(state): rms dBFS \(levels); speech/noise \(dB(s.speechToNoiseDecibels)) dB; callback p99 \(fixed(s.callbackP99Microseconds, 0)) µs; xruns \(s.xruns)"
    }

    /// Bars for every channel: input and output RMS with their peaks, and the attenuation.
    static func meters(_ result: JSONValue) -> String {
        guard let s = DaemonStatus(json: result) else { return result.text }
        var lines = ["\(s.client) — \(s.preset)   \(state(s))   xruns \(s.xruns)", ""]
        for (c, ch) in s.channels.enumerated() {
            lines.append("in_\(c + 1)  \(bar(ch.inputRMSDecibels, peak: ch.inputPeakDecibels)) \(dB(ch.inputRMSDecibels)) dBFS")
            lines.append("out_\(c + 1) \(bar(ch.outputRMSDecibels, peak: ch.outputPeakDecibels)) \(dB(ch.outputRMSDecibels)) dBFS")
            let removed = max(0, min(40, ch.attenuationDecibels ?? 0))
            lines.append("removed \(String(repeating: "#", count: Int(removed))) \(dB(ch.attenuationDecibels)) dB")
            lines.append("")
        }
        if let settings = result["settings"] { lines.append(Self.settings(settings)) }
        return lines.joined(separator: "\n")
    }

    /// 60 columns for −60…0 dBFS: '=' up to the RMS, '|' at the peak.
    private static func bar(_ rms: Float?, peak: Float?) -> String {
        func column(_ level: Float?) -> Int { Int(max(0, min(60, 60 + (level ?? -120)))) }
        var cells = Array(repeating: Character(" "), count: 60)
        for i in 0..<column(rms) { cells[i] = "=" }
        let p = column(peak)
        if p > 0 { cells[p - 1] = "|" }
        return "[" + String(cells) + "]"
    }

    private static func word(_ value: JSONValue) -> String {
        switch value {
        case .bool(let on): on ? "on" : "off"
        case .number(let v): v == v.rounded() && abs(v) < 1e9 ? "\(Int(v))" : "\(v)"
        case .string(let text): text
        default: value.text
        }
    }

    private static func dB(_ value: Float?) -> String { value.map { fixed(Double($0), 1) } ?? "-inf" }

    private static func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

    private static func duration(_ seconds: Double) -> String {
        let s = Int(seconds)
        return s >= 3600 ? "\(s / 3600) h \(s % 3600 / 60) min" : s >= 60 ? "\(s / 60) min \(s % 60) s" : "\(s) s"
    }

    /// One progress line of learn-noise (to stderr).
    static func learnProgress(_ p: JSONValue) -> String {
        switch p["stage"]?.stringValue {
        case "capturing"?:
            "capturing: \(fixed(p["seconds"]?.doubleValue ?? 0, 1)) of \(fixed(p["of"]?.doubleValue ?? 0, 1)) s"
        case "learning"? where p["pass"] != nil:
            "learning: pass \(p["pass"]?.intValue ?? 0) of \(p["of"]?.intValue ?? 0), objective \(fixed(p["objective"]?.doubleValue ?? 0, 0))"
        case "learning"?:
            "learning from \(fixed(p["seconds"]?.doubleValue ?? 0, 1)) s of input"
        default:
            p.text
        }
    }

    /// learn-noise's result.
    static func learned(_ r: JSONValue) -> String {
        "learned \(r["atoms"]?.intValue ?? 0) noise atoms from \(fixed(r["seconds"]?.doubleValue ?? 0, 1)) s "
            + "(\(r["frames"]?.intValue ?? 0) frames, \(r["passes"]?.intValue ?? 0) passes of β-NMF, β = \(r["beta"].map(word) ?? "?"); "
            + "objective \(fixed(r["initial_objective"]?.doubleValue ?? 0, 0)) → \(fixed(r["objective"]?.doubleValue ?? 0, 0)))\n"
            + "now running: \(r["preset"]?.stringValue ?? "?")"
    }
}
