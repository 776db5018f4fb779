// SPDX-License-Identifier: GPL-3.0-or-later
// A value behind a POSIX mutex, for state shared between threads off the audio thread.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A value that threads read and change only under its lock; never used on the audio thread.
///
/// Why not `Synchronization.Mutex`: on Linux it hands a contended lock over inside the kernel (a
/// priority-inheritance futex), where ThreadSanitizer cannot see it, so two holders of a contended
/// `Mutex` are reported as a race (`make sanitize` failed on the FFT planner's lock when two tests made
/// engines at once). `pthread_mutex_lock` is intercepted by ThreadSanitizer, so a real race under
/// this lock is still reported and a false one is not.
public final class Locked<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    public init(_ value: Value) {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        self.value = value
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` on the value with the lock held; blocks while another thread holds it.
    public func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
