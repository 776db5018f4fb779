// SPDX-License-Identifier: GPL-3.0-or-later
// Every shipped preset's FFT length is one the shipped FFTW wisdom covers.

import Foundation
import SordinoDSP
import Testing
@testable import SordinoPresets
import TestSupport

@Suite struct PresetWisdomTests {
    /// A preset with a new FFT length needs the wisdom made again (the command is in FFTWisdom.swift);
    /// without it that preset's FFTs are estimated, slower by up to a fifth.
    @Test func everyShippedPresetsFFTLengthIsInTheWisdom() throws {
        let folder = BandLimitTests.presets
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { $0.hasSuffix(".json") && FileManager.default.fileExists(atPath: folder + "/" + $0.dropLast(5) + ".basis") }
        #expect(names.count >= 5)
        for name in names {
            let preset = try Preset.load(path: folder + "/" + name)
            let length = preset.engineConfiguration.fftLength
            #expect(RealFFT.plannedFromWisdom(length: length) == FFTWisdomProbe.cpuCanUseWisdom,
                    "\(name): FFT length \(length) is not planned from the shipped wisdom")
        }
    }
}
