// SPDX-License-Identifier: GPL-3.0-or-later
// The lock for state shared off the audio thread: exclusive, and visible to ThreadSanitizer (`make sanitize` runs these).

import Dispatch
import SordinoDSP
import SordinoLock
import Testing

struct LockedTests {
    /// Two threads contend for one lock 20,000 times each: no increment is lost. Under `make
    /// sanitize` this is the case `Synchronization.Mutex` failed (a contended hand-over ThreadSanitizer
    /// cannot see, reported as a race); the same loop over a `Mutex` fails there.
    @Test func contendedHoldersLoseNothing() {
        let counter = Locked((count: 0, lastWriter: -1))
        DispatchQueue.concurrentPerform(iterations: 2) { thread in
            for _ in 0..<20_000 {
                counter.withLock { state in state.count += 1; state.lastWriter = thread }
            }
        }
        #expect(counter.withLock { $0.count } == 40_000)
    }

    /// Engines made and dropped on two threads at once share FFTW's planner (not thread-safe) through
    /// this lock: every transform made this way is exact.
    @Test func fftsMadeOnTwoThreadsAtOnceAreExact() {
        let worst = Locked(Float(0))
        DispatchQueue.concurrentPerform(iterations: 2) { thread in
            for round in 0..<200 {
                guard let fft = try? RealFFT(length: 512 + 2 * (round % 3)) else { worst.withLock { $0 = .infinity }; return }
                for n in 0..<fft.length { fft.time[n] = Float((n * 7 + thread) % 13) - 6 }
                fft.forward()
                fft.inverse()
                var error: Float = 0
                for n in 0..<fft.length {
                    error = max(error, abs(fft.time[n] / Float(fft.length) - (Float((n * 7 + thread) % 13) - 6)))
                }
                worst.withLock { $0 = max($0, error) }
            }
        }
        #expect(worst.withLock { $0 } < 1e-5)
    }
}
