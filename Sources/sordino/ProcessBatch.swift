// SPDX-License-Identifier: GPL-3.0-or-later
// `sordino process IN… --out-dir DIR --jobs N`: a pool of workers, each enhancing one file at a time with its own engine.

import Dispatch
import Foundation

/// Enhances many files into one folder. `jobs` workers take the next file from a shared counter,
/// so a long file does not hold the others back; each builds the engine for its file (its rate
/// and channel count), runs `ProcessCommand.enhance` on it and drops it, so at most `jobs`
/// engines exist at once. A failure is reported on stderr with its file and does not stop the rest.
struct ProcessBatch {
    let command: ProcessCommand
    let directory: String

    /// Cores this process may use.
    static var cores: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Output path of each input: `directory`/its file name. Throws before anything runs when two
    /// inputs share a name or an output would overwrite its input.
    func outputs() throws -> [String] {
        let folder = URL(fileURLWithPath: directory)
        var seen: [String: String] = [:]
        return try command.paths.map { input in
            let name = URL(fileURLWithPath: input).lastPathComponent
            if let other = seen[name] {
                throw CommandError("\(other) and \(input) would both be written to \(directory)/\(name); "
                                   + "process them into different folders.", exitCode: .usage)
            }
            seen[name] = input
            let output = folder.appendingPathComponent(name).standardizedFileURL
            if output.resolvingSymlinksInPath() == URL(fileURLWithPath: input).standardizedFileURL.resolvingSymlinksInPath() {
                throw CommandError("\(input) would be overwritten by its own output; choose another --out-dir.",
                                   exitCode: .usage)
            }
            return output.path
        }
    }

    /// Runs every file with `jobs` workers; returns how many failed.
    func run(jobs: Int) throws -> Int {
        let outputs: [String]
        do {
            outputs = try self.outputs()
            try OutputFolder.make(directory, what: "--out-dir")
        } catch {
            throw report(error, command: "process")
        }
        let inputs = command.paths
        let started = ContinuousClock.now
        let queue = WorkQueue(count: inputs.count)
        let workers = min(jobs, inputs.count)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while Interruption.requested == nil, let i = queue.next() {
                do {
                    try command.enhance(input: inputs[i], output: outputs[i], showProgress: false)
                } catch is Interrupted {
                    // Stopped part-way, its output closed: said below with the count of files.
                } catch {
                    queue.fail()
                    _ = report(error, command: "process \(inputs[i])")
                }
            }
        }
        if let signal = Interruption.requested {
            let started = queue.started
            throw report(Interrupted(signal: signal, written: "\(started) of \(inputs.count) files were started into \(directory) "
                                     + "(those in progress stopped part-way, their outputs closed; \(queue.failures) failed), "
                                     + "\(inputs.count - started) not"), command: "process")
        }
        let failed = queue.failures
        if !command.quiet || failed > 0 {
            let elapsed = started.duration(to: .now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            note("\(inputs.count - failed) of \(inputs.count) files enhanced into \(directory) in "
                 + String(format: "%.2f", seconds) + " s with \(workers) job\(workers == 1 ? "" : "s")"
                 + (failed > 0 ? "; \(failed) failed (exit status \(min(failed, 100)))" : ""))
        }
        return failed
    }
}

/// The index of the next file to process and the count of failures, shared by the workers.
private final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private let count: Int
    private var taken = 0
    private var failed = 0

    init(count: Int) { self.count = count }

    /// The next unprocessed index, or nil when every file has been taken.
    func next() -> Int? {
        lock.withLock {
            guard taken < count else { return nil }
            taken += 1
            return taken - 1
        }
    }

    func fail() { lock.withLock { failed += 1 } }

    /// Indices handed out so far.
    var started: Int { lock.withLock { taken } }

    var failures: Int { lock.withLock { failed } }
}
