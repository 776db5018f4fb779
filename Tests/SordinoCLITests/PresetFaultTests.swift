// SPDX-License-Identifier: GPL-3.0-or-later
// Damaged presets given to `process` and `inspect`: exit 65 (66 when missing) and a line naming the fix.

import Foundation
import Testing

@Suite(.enabled(if: CLI.shouldRun, CLI.skipReason))
struct PresetFaultTests {
    /// Copies the shipped speech-16k into `directory` (its gain weights too), applies `damage` to its
    /// JSON and basis, returns the JSON path.
    static func damagedCopy(in directory: URL, damage: (_ json: inout String, _ basis: inout Data) -> Void) throws -> String {
        let source = CLI.repository.appendingPathComponent("presets")
        var json = try String(contentsOf: source.appendingPathComponent("speech-16k.json"), encoding: .utf8)
        var basis = try Data(contentsOf: source.appendingPathComponent("speech-16k.basis"))
        damage(&json, &basis)
        try json.write(to: directory.appendingPathComponent("speech-16k.json"), atomically: true, encoding: .utf8)
        try basis.write(to: directory.appendingPathComponent("speech-16k.basis"))
        let gain = source.appendingPathComponent("speech-16k.gain")   // the learned gain's weights
        if FileManager.default.fileExists(atPath: gain.path) {
            try FileManager.default.copyItem(at: gain, to: directory.appendingPathComponent("speech-16k.gain"))
        }
        return directory.appendingPathComponent("speech-16k.json").path
    }

    static let faults: [(String, String)] = [
        ("flipped payload byte", "checksum"), ("truncated basis", "truncated"), ("bad magic", "not a sordino basis file"),
        ("unknown format version", "version"), ("unknown schema version", "schema"), ("floor above 0 dB", "floordecibels"),
        ("hop breaking overlap-add", "hop"), ("wrong rank in JSON", "rank"), ("not JSON", "json"),
    ]

    @Test(arguments: faults)
    func damagedPresetIsRejectedWithTheField(fault: String, phrase: String) throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let preset = try Self.damagedCopy(in: dir) { json, basis in
            switch fault {
            case "flipped payload byte": basis[basis.count - 100] ^= 0x40
            case "truncated basis": basis = basis.prefix(basis.count / 2)
            case "bad magic": basis[0] = 0x58
            case "unknown format version": basis[8] = 9
            case "unknown schema version": json = json.replacingOccurrences(of: "\"schemaVersion\" : 1", with: "\"schemaVersion\" : 7")
            case "floor above 0 dB":
                json = json.replacingOccurrences(of: #""floorDecibels" : -[0-9.]+"#, with: #""floorDecibels" : 6"#,
                                                 options: .regularExpression)
            case "hop breaking overlap-add": json = json.replacingOccurrences(of: "\"hopLength\" : 128", with: "\"hopLength\" : 200")
            case "wrong rank in JSON": json = json.replacingOccurrences(of: "\"speechRank\" : 64", with: "\"speechRank\" : 65")
            default: json = "{ not json"
            }
        }
        for command in [["inspect", preset], ["process", "--preset", preset, "presets/samples/noisy-speech-16k.wav",
                                               dir.appendingPathComponent("out.wav").path]] {
            let r = try CLI.run(command)
            #expect(r.status == 65, "\(fault): \(r.stderr)")
            #expect(r.stderr.lowercased().contains(phrase), "\(fault): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(fault): \(r.stderr)")
        }
    }

    /// A folder with the shipped speech-16k and a truncated speech-48k, or the other way round:
    /// `process` on a 16 kHz file warns about the 48 kHz file, or refuses with the 16 kHz file's cause.
    @Test(arguments: [false, true])
    func aBrokenPresetInAFolderIsNamed(brokenAtTheFilesRate: Bool) throws {
        let dir = try CLI.temporaryDirectory(); defer { try? FileManager.default.removeItem(at: dir) }
        let (good, bad) = brokenAtTheFilesRate ? ("speech-48k", "speech-16k") : ("speech-16k", "speech-48k")
        for ext in ["json", "basis", "gain"]
            where FileManager.default.fileExists(atPath: CLI.repository.appendingPathComponent("presets/\(good).\(ext)").path) {
            try FileManager.default.copyItem(at: CLI.repository.appendingPathComponent("presets/\(good).\(ext)"),
                                             to: dir.appendingPathComponent("\(good).\(ext)"))
        }
        try "{\n  \"basis\" : {\n".write(to: dir.appendingPathComponent("\(bad).json"), atomically: true, encoding: .utf8)
        let r = try CLI.run(["process", "--quiet", "--preset", dir.path, "presets/samples/noisy-speech-16k.wav",
                             dir.appendingPathComponent("out.wav").path])
        let cause = "\(dir.appendingPathComponent("\(bad).json").path): not valid JSON (line 3, column 1: "
            + "Unexpected end of file during JSON parse)"
        if brokenAtTheFilesRate {
            #expect(r.status == 65 && r.stderr.hasPrefix("sordino process: error: \(cause)"), "\(r.stderr)")
            #expect(r.stderr.contains("the preset for 16000 Hz, so no other is used in its place"), "\(r.stderr)")
        } else {
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr.hasPrefix("warning: passed over a 48000 Hz preset file that does not load: \(cause)"),
                    "\(r.stderr)")
        }
    }

    @Test func missingPresetExits66AndListsWhereItLooked() throws {
        let r = try CLI.run(["inspect", "no-such-preset"])
        #expect(r.status == 66, "\(r.stderr)")
        #expect(r.stderr.contains("presets"))
    }

    @Test func shippedPresetsValidate() throws {
        let r = try CLI.run(["inspect", "speech-16k"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("checksum     CRC-32") && r.stdout.contains("OK"))
        #expect(r.stdout.contains("latency      512 samples (32.00 ms)"))
    }

    @Test func helpExplainsUnitsAndExitCodes() throws {
        let root = try CLI.run(["--help"])
        #expect(root.status == 0)
        #expect(root.stdout.contains("65 bad data") && root.stdout.contains("66 an input file is missing"))
        let process = try CLI.run(["help", "process"])
        #expect(process.stdout.contains("--floor-db") && process.stdout.contains("dB"))
        #expect(process.stdout.contains("(default: 256)"))
    }
}
