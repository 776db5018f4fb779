// SPDX-License-Identifier: GPL-3.0-or-later
// One self-contained HTML report: spectrograms and heatmaps as embedded PNG, curves and atoms as inline SVG.

import Foundation
import SystemReason

/// Why a report could not be written.
public enum ReportError: Error, CustomStringConvertible {
    case cannotWrite(path: String, reason: String)
    case image(PNGError)

    public var description: String {
        switch self {
        case let .cannotWrite(path, reason):
            "\(path): cannot write the report (\(reason)). Check that the folder exists and is writable."
        case let .image(error): error.description
        }
    }
}

/// A matrix to draw: `rows × columns` values, row-major (`values[r * columns + c]`).
public struct Heatmap: Sendable {
    public let rows: Int
    public let columns: Int
    public let values: [Float]

    public init(rows: Int, columns: Int, values: [Float]) {
        precondition(rows > 0 && columns > 0 && values.count == rows * columns, "heatmap size mismatch")
        self.rows = rows
        self.columns = columns
        self.values = values
    }
}

/// Builds the page section by section; `write(to:)` produces one HTML file with nothing external.
public struct Report: Sendable {
    public let title: String
    private var body: [String] = []

    public init(title: String) { self.title = title }

    public mutating func heading(_ text: String) { body.append("<h2>\(Self.escape(text))</h2>") }
    public mutating func paragraph(_ text: String) { body.append("<p>\(Self.escape(text))</p>") }

    /// Key–value rows (settings, numbers).
    public mutating func table(_ rows: [(String, String)]) {
        body.append("<table>" + rows.map { "<tr><th>\(Self.escape($0.0))</th><td>\(Self.escape($0.1))</td></tr>" }.joined() + "</table>")
    }

    /// A heatmap image: row 0 drawn at the bottom (frequency upwards), pooled (maximum) to at most
    /// `maxWidth` × `maxHeight` pixels, colour by `decibels` (20·log10 relative to the maximum, a
    /// `range` dB window) or linearly from 0 to the maximum.
    public mutating func image(_ title: String, _ map: Heatmap, decibels: Bool = true, range: Float = 80,
                               maxWidth: Int = 1000, maxHeight: Int = 320, caption: String = "") throws(ReportError) {
        let png: [UInt8]
        do { png = try Self.render(map, decibels: decibels, range: range, maxWidth: maxWidth, maxHeight: maxHeight).pngData() }
        catch { throw .image(error) }
        // Few rows (activations): stretch in the browser rather than up-sample the PNG.
        let style = map.rows < 48 ? " style=\"width: \(min(map.columns, maxWidth))px; height: \(map.rows * 14)px\"" : ""
        body.append("<figure><figcaption>\(Self.escape(title))</figcaption><img\(style) alt=\"\(Self.escape(title))\" "
            + "src=\"data:image/png;base64,\(Data(png).base64EncodedString())\"><div class=\"note\">\(Self.escape(caption))</div></figure>")
    }

    /// A line chart of one or more series against their index times `xStep` (in the units of
    /// `xLabel`). A logarithmic chart of data with a value ≤ 0 (ANMF's objective is negative) is
    /// drawn on a linear axis instead, and its title says so.
    public mutating func lineChart(_ title: String, series: [(name: String, values: [Double])], xLabel: String,
                                   yLabel: String, logarithmic: Bool = false, xStep: Double = 1,
                                   width: Int = 720, height: Int = 300) {
        let positive = series.allSatisfy { $0.values.allSatisfy { !$0.isFinite || $0 > 0 } }
        let caption = logarithmic && !positive
            ? title.replacingOccurrences(of: "(log scale)", with: "").trimmingCharacters(in: .whitespaces)
                + " (linear scale: some values ≤ 0)"
            : title
        body.append("<figure><figcaption>\(Self.escape(caption))</figcaption>"
            + Self.svgLines(series: series, xLabel: xLabel, yLabel: yLabel, logarithmic: logarithmic && positive,
                            width: width, height: height, xStep: xStep)
            + "</figure>")
    }

    /// A waveform: the minimum and maximum of `samples` in each of at most `columns` slices, against
    /// time in seconds (`sampleRate` Hz), amplitude in full-scale units.
    public mutating func waveform(_ title: String, samples: [Float], sampleRate: Int, columns: Int = 700) {
        let slices = max(1, min(columns, samples.count)), size = max(1, samples.count / slices)
        var upper: [Double] = [], lower: [Double] = []
        for c in 0..<slices {
            let slice = samples[(c * size)..<min(samples.count, (c + 1) * size)]
            upper.append(Double(slice.max() ?? 0))
            lower.append(Double(slice.min() ?? 0))
        }
        lineChart(title, series: [("maximum", upper), ("minimum", lower)], xLabel: "time (s)", yLabel: "amplitude",
                  xStep: Double(size) / Double(max(sampleRate, 1)), height: 160)
    }

    /// Small multiples: one little line plot per series (e.g. one per atom over frequency).
    public mutating func smallMultiples(_ title: String, series: [(name: String, values: [Double])], xLabel: String) {
        let plots = series.map { s in
            "<div class=\"cell\">" + Self.svgLines(series: [s], xLabel: xLabel, yLabel: "", logarithmic: false, width: 220, height: 120,
                                                  compact: true) + "</div>"
        }
        body.append("<figure><figcaption>\(Self.escape(title))</figcaption><div class=\"grid\">\(plots.joined())</div></figure>")
    }

    public func html() -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(Self.escape(title))</title>
        <style>
        body { font-family: sans-serif; margin: 24px; background: #fff; color: #222; max-width: 1100px; }
        h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #ccc; }
        figure { margin: 12px 0; } figcaption { font-weight: bold; margin-bottom: 4px; }
        img { max-width: 100%; image-rendering: pixelated; border: 1px solid #999; }
        table { border-collapse: collapse; } th, td { text-align: left; padding: 2px 10px; border-bottom: 1px solid #eee; }
        .grid { display: flex; flex-wrap: wrap; gap: 6px; } .note { color: #666; font-size: 12px; }
        svg text { font-size: 11px; fill: #333; }
        </style></head><body>
        <h1>\(Self.escape(title))</h1>
        \(body.joined(separator: "\n"))
        </body></html>
        """
    }

    public func write(to path: String) throws(ReportError) {
        do { try Data(html().utf8).write(to: URL(fileURLWithPath: path), options: .atomic) }
        catch { throw .cannotWrite(path: path, reason: systemReason(error)) }
    }

    // MARK: - Rendering

    static func render(_ map: Heatmap, decibels: Bool, range: Float, maxWidth: Int, maxHeight: Int) -> RGBImage {
        let width = min(map.columns, maxWidth), height = min(map.rows, maxHeight)
        var pooled = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            let r0 = y * map.rows / height, r1 = max(r0 + 1, (y + 1) * map.rows / height)
            for x in 0..<width {
                let c0 = x * map.columns / width, c1 = max(c0 + 1, (x + 1) * map.columns / width)
                var m: Float = 0
                for r in r0..<r1 { for c in c0..<c1 { let v = map.values[r * map.columns + c]; if v.isFinite && v > m { m = v } } }
                pooled[y * width + x] = m
            }
        }
        let peak = pooled.max() ?? 0
        var pixels = [UInt8](repeating: 255, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let v = pooled[y * width + x]
                var level: Float
                if peak <= 0 { level = 0 } else if decibels {
                    level = v > 0 ? 1 + 20 * log10(v / peak) / range : 0
                } else { level = v / peak }
                level = min(max(level, 0), 1)
                let (r, g, b) = colour(level)
                let row = height - 1 - y   // row 0 (lowest frequency) at the bottom
                let i = (row * width + x) * 3
                pixels[i] = r; pixels[i + 1] = g; pixels[i + 2] = b
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// A perceptually ordered dark-blue → green → yellow map (after viridis), piecewise linear.
    static func colour(_ t: Float) -> (UInt8, UInt8, UInt8) {
        let stops: [(Float, Float, Float)] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
        let x = t * Float(stops.count - 1), i = min(Int(x), stops.count - 2), f = x - Float(i)
        let a = stops[i], b = stops[i + 1]
        return (UInt8(a.0 + f * (b.0 - a.0)), UInt8(a.1 + f * (b.1 - a.1)), UInt8(a.2 + f * (b.2 - a.2)))
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]

    static func svgLines(series: [(name: String, values: [Double])], xLabel: String, yLabel: String,
                         logarithmic: Bool, width: Int, height: Int, compact: Bool = false, xStep: Double = 1) -> String {
        let left = compact ? 6.0 : 70.0, right = 10.0, top = compact ? 14.0 : 10.0, bottom = compact ? 6.0 : 36.0
        let plotW = Double(width) - left - right, plotH = Double(height) - top - bottom
        func y(_ v: Double) -> Double? {
            guard v.isFinite, !logarithmic || v > 0 else { return nil }
            return logarithmic ? log10(v) : v
        }
        let all = series.flatMap { $0.values.compactMap(y) }
        var lo = all.min() ?? 0, hi = all.max() ?? 1
        if hi <= lo { hi = lo + 1; lo -= 1 }
        let count = max(2, series.map(\.values.count).max() ?? 2)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\">"
        svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotW)\" height=\"\(plotH)\" fill=\"#fafafa\" stroke=\"#999\"/>"
        for (index, s) in series.enumerated() {
            var points: [String] = []
            for (i, v) in s.values.enumerated() {
                guard let value = y(v) else { continue }
                let px = left + plotW * Double(i) / Double(count - 1), py = top + plotH * (1 - (value - lo) / (hi - lo))
                points.append(String(format: "%.1f,%.1f", px, py))
            }
            svg += "<polyline fill=\"none\" stroke=\"\(palette[index % palette.count])\" stroke-width=\"1.5\" points=\"\(points.joined(separator: " "))\"/>"
            if compact {
                svg += "<text x=\"\(left)\" y=\"11\">\(escape(s.name))</text>"
            } else {
                svg += "<text x=\"\(left + 8)\" y=\"\(top + 14 + 14 * Double(index))\" fill=\"\(palette[index % palette.count])\">\(escape(s.name))</text>"
            }
        }
        if !compact {
            func label(_ v: Double) -> String {
                let value = logarithmic ? pow(10, v) : v
                return String(format: "%.4g", value)
            }
            svg += "<text x=\"4\" y=\"\(top + 10)\">\(label(hi))</text><text x=\"4\" y=\"\(top + plotH)\">\(label(lo))</text>"
            svg += "<text x=\"\(left)\" y=\"\(Double(height) - 8)\">0</text>"
            svg += "<text x=\"\(left + plotW - 30)\" y=\"\(Double(height) - 8)\">\(String(format: "%.4g", Double(count - 1) * xStep))</text>"
            svg += "<text x=\"\(left + plotW / 2 - 40)\" y=\"\(Double(height) - 8)\">\(escape(xLabel))</text>"
            svg += "<text x=\"4\" y=\"\(top + plotH / 2)\">\(escape(yLabel))</text>"
        }
        return svg + "</svg>"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
