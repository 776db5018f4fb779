// SPDX-License-Identifier: GPL-3.0-or-later
// `/metrics`: the daemon's status as Prometheus text (swift-prometheus), refreshed at each scrape.

import Prometheus
import SordinoControl
import SordinoLock

/// One registry for the life of the server. A scrape copies the newest status into gauges and
/// counters and renders the registry; scrapes are serialised (a counter advances by the
/// difference since the last scrape, so the daemon's own totals are what Prometheus sees).
final class MetricsExporter: Sendable {
    private struct State {
        /// Last total added to each counter.
        var counted: [String: Int] = [:]
        var channelGauges: [[Gauge]] = []
    }

    private let registry = PrometheusCollectorRegistry()
    private let state = Locked(State())
    private let gauges: [String: Gauge]
    private let counters: [String: Counter]

    /// Gauges: name → help. Levels are dBFS (−Inf in digital silence), times seconds.
    private static let gaugeHelp: [String: String] = [
        "sordino_connected": "1 while connected to the JACK server, 0 while waiting for it",
        "sordino_sample_rate_hertz": "JACK sample rate",
        "sordino_block_length_frames": "JACK period (frames per cycle)",
        "sordino_latency_seconds": "the engine's latency reported to JACK",
        "sordino_callback_p50_seconds": "median time in the process callback over the last 10 s",
        "sordino_callback_p99_seconds": "99th percentile of the time in the process callback over the last 10 s",
        "sordino_callback_max_seconds": "longest time in the process callback over the last 10 s",
        "sordino_jack_dsp_load_percent": "JACK's DSP load of the whole graph",
        "sordino_speech_to_noise_db": "the model's speech-to-noise energy ratio over ~300 ms (-Inf: only silence)",
        "sordino_uptime_seconds": "seconds since the daemon started",
        "sordino_floor_db": "attenuation floor in force (dB)",
        "sordino_wet": "wet/dry mix in force (0 dry … 1 wet)",
        "sordino_bypass": "1 while bypassed",
        "sordino_pass_through": "1 while the input passes through unprocessed because no preset serves the server's sample rate",
    ]
    private static let counterHelp: [String: String] = [
        "sordino_xruns_total": "xruns JACK reported since start",
        "sordino_overruns_total": "process callbacks that took longer than the period",
        "sordino_nonfinite_replaced_total": "NaN/Inf input samples replaced by 0",
        "sordino_clipped_samples_total": "output samples clamped to ±8 (+18 dBFS) or non-finite and replaced by 0",
        "sordino_input_clamped_total": "input samples beyond ±8 (+18 dBFS) clamped to it",
        "sordino_frames_processed_total": "frames processed per channel",
        "sordino_reconnects_total": "reconnections to a JACK server that came back",
        "sordino_engine_swaps_total": "engines swapped in (reload, learn-noise, forget-noise)",
    ]
    private static let channelMetrics = [
        ("sordino_input_peak_dbfs", "input peak level over the last 300 ms (dBFS; -Inf: digital silence)"),
        ("sordino_input_rms_dbfs", "input RMS level over the last 300 ms (dBFS)"),
        ("sordino_output_peak_dbfs", "output peak level (dBFS)"),
        ("sordino_output_rms_dbfs", "output RMS level (dBFS)"),
        ("sordino_attenuation_db", "input RMS minus output RMS: what was removed (dB)"),
    ]

    init() {
        var gauges: [String: Gauge] = [:]
        for (name, help) in Self.gaugeHelp { gauges[name] = registry.makeGauge(descriptor: Self.descriptor(name, help)) }
        var counters: [String: Counter] = [:]
        for (name, help) in Self.counterHelp { counters[name] = registry.makeCounter(descriptor: Self.descriptor(name, help)) }
        self.gauges = gauges
        self.counters = counters
    }

    /// A full metric name (its unit already in it) with its help line.
    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// The Prometheus text of `status` (a `status` result, as `/status` serves it); only the
    /// registry's empty families before the daemon's first status.
    func scrape(_ status: JSONValue?) -> String {
        state.withLock { state in
            if let status { update(status, &state) }
            return registry.emitToString()
        }
    }

    private func update(_ status: JSONValue, _ state: inout State) {
        func number(_ value: JSONValue?) -> Double { value?.doubleValue ?? -.infinity }
        let values: [String: Double] = [
            "sordino_connected": status["connected"]?.boolValue == true ? 1 : 0,
            "sordino_sample_rate_hertz": number(status["sample_rate"]),
            "sordino_block_length_frames": number(status["block_length"]),
            "sordino_latency_seconds": number(status["latency_ms"]) / 1000,
            "sordino_callback_p50_seconds": number(status["callback_us"]?["p50"]) / 1e6,
            "sordino_callback_p99_seconds": number(status["callback_us"]?["p99"]) / 1e6,
            "sordino_callback_max_seconds": number(status["callback_us"]?["max"]) / 1e6,
            "sordino_jack_dsp_load_percent": number(status["dsp_load_percent"]),
            "sordino_speech_to_noise_db": number(status["speech_to_noise_db"]),
            "sordino_uptime_seconds": number(status["uptime_s"]),
            "sordino_floor_db": number(status["settings"]?["values"]?["floor-db"]),
            "sordino_wet": number(status["settings"]?["values"]?["wet"]),
            "sordino_bypass": status["settings"]?["values"]?["bypass"]?.boolValue == true ? 1 : 0,
            "sordino_pass_through": status["pass_through"]?.stringValue == nil ? 0 : 1,
        ]
        for (name, value) in values { gauges[name]?.set(value) }
        let totals = ["sordino_xruns_total": "xruns", "sordino_overruns_total": "overruns",
                      "sordino_nonfinite_replaced_total": "nonfinite_replaced",
                      "sordino_clipped_samples_total": "clipped", "sordino_input_clamped_total": "input_clamped",
                      "sordino_frames_processed_total": "frames_processed",
                      "sordino_reconnects_total": "reconnects", "sordino_engine_swaps_total": "engine_swaps"]
        for (name, field) in totals {
            guard let total = status[field]?.intValue else { continue }
            let step = total - state.counted[name, default: 0]
            if step > 0 { counters[name]?.increment(by: Int64(step)) }
            state.counted[name] = max(total, state.counted[name, default: 0])
        }
        guard case .array(let channels)? = status["channels"] else { return }
        while state.channelGauges.count < channels.count {
            let label = [("channel", String(state.channelGauges.count + 1))]
            state.channelGauges.append(Self.channelMetrics.map { registry.makeGauge(descriptor: Self.descriptor($0.0, $0.1), labels: label) })
        }
        let fields = ["in_peak_dbfs", "in_rms_dbfs", "out_peak_dbfs", "out_rms_dbfs", "attenuation_db"]
        for (channel, body) in channels.enumerated() {
            for (gauge, field) in zip(state.channelGauges[channel], fields) { gauge.set(number(body[field])) }
        }
    }
}
