// SPDX-License-Identifier: GPL-3.0-or-later
// What the test machine's CPU offers, for tests whose expectation depends on it.

import Foundation

public enum FFTWisdomProbe {
    /// The shipped FFTW wisdom names AVX codelets: on x86-64 it applies where the CPU has AVX, and
    /// nowhere else.
    public static var cpuCanUseWisdom: Bool {
        #if arch(x86_64)
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flags = info.split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        return flags.split(separator: " ").contains("avx")
        #else
        return false
        #endif
    }
}
