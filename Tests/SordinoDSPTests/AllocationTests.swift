// SPDX-License-Identifier: GPL-3.0-or-later
// Zero heap allocations while the engine processes 10 s of audio, counted by a malloc interposer.

import Foundation
import Testing

struct AllocationTests {
    /// The AllocationProbe executable built next to the test bundle (same configuration).
    static var probe: URL? {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let url = directory.appendingPathComponent("AllocationProbe")
        return FileManager.default.isExecutableFile(atPath: url.path) ? url : nil
    }

    /// `SORDINO_REQUIRE_BINARIES=1` (set by `make test`): a missing probe fails instead of skipping.
    static let required = ProcessInfo.processInfo.environment["SORDINO_REQUIRE_BINARIES"] == "1"

    @Test(.enabled(if: probe != nil || required,
                   "AllocationProbe is not built: run `swift build --product AllocationProbe` (SORDINO_REQUIRE_BINARIES=1 makes this a failure)"))
    func processingTenSecondsAllocatesNothing() throws {
        let process = Process()
        process.executableURL = try #require(Self.probe)
        process.arguments = ["10", "kl-16k-mono"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("mallocCount=0 freeCount=0"), "\(text)")
        #expect(text.contains("1250 hops"), "the probe did not process 10 s: \(text)")
    }
}
