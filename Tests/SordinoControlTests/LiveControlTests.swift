// SPDX-License-Identifier: GPL-3.0-or-later
// The live parameters as the socket sets them: ranges, JSON values, the live noise bound's effect on the engine, the settings file.

import Foundation
import SordinoDSP
@testable import SordinoControl
import Testing
import TestSupport

@Suite("live parameters")
struct LiveControlTests {
    static func configuration(noiseBound: Float?) -> EngineConfiguration {
        var c = EngineConfiguration()
        c.noiseBoundDecibels = noiseBound
        return c
    }

    static func run(noiseBound: Float?, live: Float??) throws -> [Float] {
        let c = configuration(noiseBound: noiseBound)
        let basis = Signal.randomBasis(binCount: c.binCount, speechRank: 16, noiseRank: 8, seed: 4)
        var engine = try Engine(configuration: c, basis: basis)
        if let live { engine.controls.noiseBoundDecibels = live }
        let input = Signal.speechLike(seconds: 2, sampleRate: c.sampleRate, noiseLevel: 0.2, seed: 5)
        return EngineHarness.run(&engine, [input], blockLengths: [256])[0]
    }

    @Test("a live noise bound replaces the configured one exactly: on where the preset has none, off where it has one")
    func liveNoiseBound() throws {
        let without = try Self.run(noiseBound: nil, live: nil)
        let with6 = try Self.run(noiseBound: 6, live: nil)
        #expect(maxAbsDifference(without[...], with6[...]) > 0.01, "the bound changes the output")
        #expect(try Self.run(noiseBound: 6, live: .some(nil)) == without)
        #expect(try Self.run(noiseBound: nil, live: .some(6)) == with6)
        let block = ControlBlock(EngineConfiguration())
        block.noiseBoundDecibels = .some(40)
        #expect(block.noiseBoundDecibels == .some(.some(20)), "clamped to 20 dB")
        #expect(block.liveParameters == [.noiseBound])
        block.noiseBoundDecibels = nil
        #expect(block.liveParameters.isEmpty && block.noiseBoundGain.isNaN)
    }

    @Test("set checks each parameter's range and type; null returns to the default")
    func ranges() {
        let controls = ControlBlock(ControlValues(floorDecibels: -12, wet: 1, maskExponent: 2, iterations: 4))
        let limits = EngineLimits(maximumIterations: 8, configuredNoiseBoundDecibels: 6)
        let accepted: [(LiveParameter, JSONValue, JSONValue)] = [
            (.floorDecibels, .number(-120), .number(-120)), (.floorDecibels, .number(0), .number(0)),
            (.wet, .number(0), .number(0)), (.maskExponent, .number(1), .number(1)), (.iterations, .number(0), .number(0)),
            (.iterations, .number(64), .number(8)), (.noiseBoundDecibels, .number(-120), .number(-120)),
            (.noiseBoundDecibels, .string("off"), .string("off")), (.bypass, .bool(true), .bool(true)),
        ]
        for (parameter, value, applied) in accepted {
            #expect(parameter.set(value, in: controls) == nil)
            #expect(parameter.value(in: controls, engine: limits) == applied, "\(parameter) \(value.text)")
        }
        let refused: [(LiveParameter, JSONValue)] = [
            (.floorDecibels, .number(0.5)), (.floorDecibels, .number(-121)), (.floorDecibels, .string("-12")),
            (.wet, .number(1.01)), (.maskExponent, .number(1.5)), (.maskExponent, .number(0)), (.iterations, .number(65)),
            (.iterations, .number(-1)), (.noiseBoundDecibels, .number(20.5)), (.noiseBoundDecibels, .string("on")),
            (.bypass, .number(1)), (.wet, .bool(true)), (.wet, .array([])), (.wet, .object([:])),
        ]
        for (parameter, value) in refused {
            #expect(parameter.set(value, in: controls) != nil, "\(parameter) accepted \(value.text)")
        }
        #expect(LiveParameter.noiseBoundDecibels.set(.null, in: controls) == nil)
        #expect(LiveParameter.noiseBoundDecibels.value(in: controls, engine: limits) == .number(6), "the engine's configured bound")
        #expect(LiveParameter.noiseBoundDecibels.source(in: controls) == "default")
    }

    @Test("save-settings writes the live values atomically; restore applies them, and a bad file changes nothing")
    func settingsFile() throws {
        let folder = try temporaryDirectory(); defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = SettingsFile(path: "\(folder)/state/sordino/test.json")
        let controls = ControlBlock(EngineConfiguration())
        controls.floorDecibels = -25
        controls.noiseBoundDecibels = .some(nil)
        controls.bypass = true
        try file.save(controls)
        #expect(try String(contentsOfFile: file.path, encoding: .utf8)
                == "{\"live\":{\"bypass\":true,\"floor-db\":-25,\"noise-bound-db\":\"off\"},\"v\":1}\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(folder)/state/sordino") == ["test.json"], "no temporary left")
        let fresh = ControlBlock(EngineConfiguration())
        #expect(try file.restore(into: fresh) == ["bypass", "floor-db", "noise-bound-db"])
        #expect(fresh.floorDecibels == controls.floorDecibels && fresh.bypass && fresh.noiseBoundDecibels == .some(nil))
        #expect(try SettingsFile(path: "\(folder)/none.json").restore(into: fresh) == nil)

        try "{\"v\":1,\"live\":{\"wet\":0.5,\"floor-db\":9}}".write(toFile: file.path, atomically: true, encoding: .utf8)
        let untouched = ControlBlock(EngineConfiguration())
        #expect(throws: ControlFailure.self) { try file.restore(into: untouched) }
        #expect(untouched.liveParameters.isEmpty, "a file with one bad value applies none")
        try "not json".write(toFile: file.path, atomically: true, encoding: .utf8)
        #expect(throws: ControlFailure.self) { try file.restore(into: untouched) }
    }
}
