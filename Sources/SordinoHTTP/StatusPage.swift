// SPDX-License-Identifier: GPL-3.0-or-later
// `/`: the status page, one self-contained HTML document (no external resources) with live meters and a floor slider over the websocket.

/// The page. It opens `/ws` on its own host (passing on a `?token=` it was opened with), draws
/// the `status` events the server pushes (10 per second) and sends the slider's value as a
/// control-protocol `set` of `floor-db`; the reply's applied value moves the slider back.
enum StatusPage {
    /// The slider's range, dB (the protocol accepts −120…0; below −60 the floor is inaudible anyway).
    static let floorRange = (-60, 0)

    static let html = """
    <!DOCTYPE html>
    <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
    <title>Sordino</title>
    <style>
    body{font:15px/1.4 system-ui,sans-serif;background:#15181d;color:#e6e6e6;margin:24px;max-width:760px}
    h1{font-size:20px;margin:0 0 4px}.dim{color:#9aa3ad}.bad{color:#ff6b6b}
    .row{display:grid;grid-template-columns:90px 1fr 80px;gap:10px;align-items:center;margin:6px 0}
    .track{position:relative;height:18px;background:#2a2f37;border-radius:3px;overflow:hidden}
    .rms{position:absolute;left:0;top:0;bottom:0;width:0;background:linear-gradient(90deg,#2fbf71,#e0c341 80%,#e5484d)}
    .peak{position:absolute;top:0;bottom:0;width:3px;left:0;background:#fff}
    .att{position:absolute;left:0;top:0;bottom:0;width:0;background:#4d8dff}
    .num{text-align:right;font-variant-numeric:tabular-nums}
    input[type=range]{width:100%}
    table{border-collapse:collapse;margin-top:14px}td{padding:2px 14px 2px 0;white-space:nowrap}
    </style></head><body>
    <h1>Sordino <span id="preset" class="dim"></span></h1>
    <div id="link" class="dim">connecting…</div>
    <div id="channels"></div>
    <div class="row"><label for="floor">floor</label>
    <input id="floor" type="range" min="\(floorRange.0)" max="\(floorRange.1)" step="0.5" value="-12">
    <span id="floorValue" class="num"></span></div>
    <table>
    <tr><td class="dim">attenuation</td><td id="attenuation" class="num"></td>
        <td class="dim">speech/noise</td><td id="snr" class="num"></td></tr>
    <tr><td class="dim">callback p50 / p99 / max</td><td id="cost" class="num"></td>
        <td class="dim">JACK DSP load</td><td id="load" class="num"></td></tr>
    <tr><td class="dim">xruns (callbacks over the period)</td><td id="xruns" class="num"></td>
        <td class="dim">latency</td><td id="latency" class="num"></td></tr>
    <tr><td class="dim">NaN/Inf replaced</td><td id="nonfinite" class="num"></td>
        <td class="dim">uptime, reconnects</td><td id="uptime" class="num"></td></tr>
    </table>
    <script>
    "use strict";
    const $ = id => document.getElementById(id);
    const token = new URLSearchParams(location.search).get("token");
    const pct = db => db === null ? 0 : Math.max(0, Math.min(100, (db + 60) / 60 * 100));
    const fmt = (v, unit) => v === null || v === undefined ? "–" : v.toFixed(1) + unit;
    let updates = 0, dragging = false, pending = false, socket = null;
    function rows(n) {
      const box = $("channels");
      if (box.children.length === 2 * n) return;
      box.innerHTML = "";
      for (let c = 1; c <= n; c++) for (const side of ["in", "out"]) {
        box.insertAdjacentHTML("beforeend", `<div class="row"><span>${side} ${c}</span>` +
          `<div class="track"><div class="rms" id="${side}-${c}-rms"></div><div class="peak" id="${side}-${c}-peak"></div></div>` +
          `<span class="num" id="${side}-${c}-text"></span></div>`);
      }
    }
    function draw(s) {
      updates++;
      document.body.dataset.updates = updates;
      $("preset").textContent = s.preset;
      $("link").textContent = s.connected ? `JACK server ${s.server}, client ${s.client}, ${s.sample_rate} Hz, ${s.block_length} frames`
                                          : "waiting for the JACK server…";
      rows(s.channels.length);
      s.channels.forEach((c, i) => {
        for (const [side, rms, peak] of [["in", c.in_rms_dbfs, c.in_peak_dbfs], ["out", c.out_rms_dbfs, c.out_peak_dbfs]]) {
          $(`${side}-${i + 1}-rms`).style.width = pct(rms) + "%";
          $(`${side}-${i + 1}-peak`).style.left = pct(peak) + "%";
          $(`${side}-${i + 1}-text`).textContent = fmt(rms, " dB");
        }
      });
      const att = s.channels.map(c => c.attenuation_db).filter(v => v !== null);
      $("attenuation").textContent = att.length ? att.map(v => v.toFixed(1) + " dB").join(", ") : "–";
      $("snr").textContent = fmt(s.speech_to_noise_db, " dB");
      $("cost").textContent = `${s.callback_us.p50} / ${s.callback_us.p99} / ${s.callback_us.max} µs`;
      $("load").textContent = s.dsp_load_percent.toFixed(1) + " %";
      $("xruns").textContent = `${s.xruns} (${s.overruns})`;
      $("latency").textContent = `${s.latency_samples} samples, ${s.latency_ms} ms`;
      $("nonfinite").textContent = s.nonfinite_replaced;
      $("uptime").textContent = `${Math.round(s.uptime_s)} s, ${s.reconnects}`;
      const floor = s.settings && s.settings.values["floor-db"];
      if (typeof floor === "number" && !dragging && !pending) { $("floor").value = floor; $("floorValue").textContent = floor + " dB"; }
    }
    function connect() {
      const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws" + (token ? "?token=" + encodeURIComponent(token) : "");
      socket = new WebSocket(url);
      socket.onmessage = e => {
        const m = JSON.parse(e.data);
        if (m.event === "status") { draw(m.status); return; }
        if (m.id === "floor") {
          pending = false;
          if (m.ok) { $("floor").value = m.result.value; $("floorValue").textContent = m.result.value + " dB"; }
          else $("link").textContent = m.error.message;
        }
      };
      socket.onclose = () => { $("link").innerHTML = '<span class="bad">disconnected: retrying</span>'; setTimeout(connect, 2000); };
    }
    const floor = $("floor");
    floor.addEventListener("pointerdown", () => { dragging = true; });
    floor.addEventListener("pointerup", () => { dragging = false; });
    floor.addEventListener("input", () => {
      $("floorValue").textContent = floor.value + " dB";
      if (socket && socket.readyState === WebSocket.OPEN) {
        pending = true;
        socket.send(JSON.stringify({v: 1, id: "floor", cmd: "set", name: "floor-db", value: Number(floor.value)}));
      }
    });
    connect();
    </script></body></html>
    """
}
