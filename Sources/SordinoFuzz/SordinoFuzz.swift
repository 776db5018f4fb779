// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer's entry point for one parser (SORDINO_FUZZ_TARGET), or, built without the fuzzer, a replayer of saved inputs.

import FuzzTargets
import Foundation

#if SORDINO_FUZZING
import CFuzzer

/// The parser this process fuzzes, from `SORDINO_FUZZ_TARGET`; read once, before fuzzing starts.
nonisolated(unsafe) var fuzzTarget = FuzzTarget.preset

/// `SORDINO_FUZZ_TARGET=TARGET SordinoFuzz [libFuzzer options] [CORPUS…]`.
@main
struct Fuzz {
    static func main() {
        let name = ProcessInfo.processInfo.environment["SORDINO_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            FileHandle.standardError.write(Data("SordinoFuzz: set SORDINO_FUZZ_TARGET to one of \(names)\n".utf8))
            exit(64)
        }
        fuzzTarget = target
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            fuzzTarget.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
            return 0
        })
    }
}
#else
/// `SordinoFuzz TARGET FILE…`: runs each file through the parser once (what the fuzzer found,
/// replayed without it).
@main
struct Replay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
            print("usage: SordinoFuzz \(names) FILE…  (build with `make fuzz` to fuzz)")
            exit(64)
        }
        var count = 0
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("SordinoFuzz: cannot read \(path)")
                exit(66)
            }
            target.run([UInt8](data))
            count += 1
        }
        print("\(target.rawValue): \(count) inputs, none crashed")
    }
}
#endif
