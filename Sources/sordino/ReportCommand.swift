// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino report LOSS.json… --out cmp.html`: the learning curves of several runs on one chart.

import ArgumentParser
import Foundation
import SordinoReport

struct LossReport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Overlay the learning curves of several runs (loss.json of decompose, NAME.loss.json of train).",
        discussion: """
        Each decompose loss.json gives one curve (its objective per pass); each train NAME.loss.json \
        one per part and stage. Curves are named by file and settings (method, β, algorithm, \
        acceleration). The page has the objectives on one chart (a log axis when every value is \
        positive, else linear), the objectives minus each curve's final value (how far from where \
        it stopped, log axis), and a table of each run's final objective, passes and why it stopped.
        """)

    @Argument(help: "loss.json files of decompose or train runs.") var files: [String]
    @Option(name: .customLong("out"), help: "HTML file to write.") var out: String
    @Flag(name: .shortAndLong, help: "Print nothing but errors.") var quiet = false

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one loss.json file.") }
    }

    func run() throws {
        do { try write() } catch { throw report(error, command: "report") }
    }

    /// One curve of a loss file.
    struct Curve {
        let name: String
        let values: [Double]
        let stopped: String
    }

    static func curves(in path: String) throws -> [Curve] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandError("\(path) does not exist or cannot be read.", exitCode: .noInput)
        }
        guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CommandError("\(path) is not a JSON object: give a loss.json of `sordino decompose` or `train`.")
        }
        let file = (path as NSString).lastPathComponent == "loss.json"
            ? ((path as NSString).deletingLastPathComponent as NSString).lastPathComponent + "/loss.json"
            : (path as NSString).lastPathComponent
        if let objective = json["objective"] as? [Double] {
            let settings = ["method", "beta", "algorithm", "acceleration", "tolerance"].compactMap { key in
                json[key].map { "\(key) \($0)" }
            }
            return [Curve(name: "\(file) (\(settings.joined(separator: ", ")))", values: objective,
                          stopped: json["stopped_because"] as? String ?? "not recorded")]
        }
        if let entries = json["curves"] as? [[String: Any]] {
            let method = json["method"] as? String ?? "?"
            return entries.compactMap { entry in
                guard let values = entry["values"] as? [Double] else { return nil }
                return Curve(name: "\(file) \(method) \(entry["part"] ?? "") \(entry["stage"] ?? "")", values: values,
                             stopped: entry["stopped_because"] as? String ?? "not recorded")
            }
        }
        throw CommandError("\(path) has neither `objective` (decompose) nor `curves` (train): give a loss.json of either.")
    }

    private func write() throws {
        let all = try files.flatMap(Self.curves(in:))
        guard !all.isEmpty else { throw CommandError("the files hold no curves.") }
        var page = Report(title: "sordino report: \(all.count) learning curves")
        page.table(all.map { curve in
            (curve.name, String(format: "%.8g after %d passes; ", curve.values.last ?? .nan, curve.values.count - 1) + curve.stopped)
        })
        let series = all.map { (name: $0.name, values: $0.values) }
        page.lineChart("Objective per pass (log scale)", series: series, xLabel: "pass", yLabel: "objective", logarithmic: true)
        page.lineChart("Objective minus its final value (log scale; the last pass, 0, is left out)",
                       series: series.map { s in (s.name, s.values.dropLast().map { $0 - (s.values.last ?? 0) }) },
                       xLabel: "pass", yLabel: "J − J_final", logarithmic: true)
        try page.write(to: out)
        if !quiet { note("wrote \(out): \(all.count) curve\(all.count == 1 ? "" : "s") from \(files.count) file\(files.count == 1 ? "" : "s")") }
    }
}
