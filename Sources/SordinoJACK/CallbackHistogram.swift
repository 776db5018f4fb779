// SPDX-License-Identifier: GPL-3.0-or-later
// Lock-free histogram of process-callback durations: written on the audio thread, read by the main thread.

import Synchronization

/// Durations in nanoseconds, counted in log-linear buckets (8 per octave, so a reported
/// percentile is at most 12.5 % above the true value), plus the exact maximum.
///
/// The audio thread calls `record` (a relaxed atomic add and an atomic max: real-time safe);
/// the main thread reads with `snapshot()` and computes percentiles of any interval as the
/// difference of two snapshots. Counts are relaxed: a snapshot taken during a cycle may miss that
/// cycle, which a percentile over thousands of cycles does not notice.
struct CallbackHistogram: ~Copyable {
    /// Sub-buckets per octave (a power of two).
    static var subBuckets: Int { 8 }
    private static var subBucketBits: Int { 3 }
    /// Covers 0 ns … 2⁴⁰ ns (18 min); longer durations land in the last bucket.
    static var bucketCount: Int { subBuckets + (40 - subBucketBits) * subBuckets }

    private let counts: UnsafeMutablePointer<Atomic<Int>>
    /// Largest duration since the main thread last took it (`takeMaximum`), in ns.
    private let maximum = Atomic<Int>(0)

    init() {
        counts = .allocate(capacity: Self.bucketCount)
        for i in 0..<Self.bucketCount { (counts + i).initialize(to: Atomic(0)) }
    }

    deinit {
        counts.deinitialize(count: Self.bucketCount)
        counts.deallocate()
    }

    /// Bucket of a duration: exact below 8 ns, then 8 buckets per octave.
    @_noLocks @inline(__always)
    static func bucket(nanoseconds: Int) -> Int {
        let v = max(nanoseconds, 0)
        if v < subBuckets { return v }
        let octave = (Int.bitWidth - 1 - v.leadingZeroBitCount) - subBucketBits   // ≥ 0
        let sub = (v >> octave) & (subBuckets - 1)
        return min(subBuckets + octave * subBuckets + sub, bucketCount - 1)
    }

    /// Largest duration, in ns, that falls into `bucket` (the value percentiles report).
    static func upperBound(bucket: Int) -> Int {
        if bucket < subBuckets { return bucket }
        let octave = (bucket - subBuckets) / subBuckets, sub = (bucket - subBuckets) % subBuckets
        return ((subBuckets + sub + 1) << octave) - 1
    }

    /// Counts one callback of `nanoseconds`. Real-time safe.
    @_noLocks @inline(__always)
    func record(nanoseconds: Int) {
        counts[Self.bucket(nanoseconds: nanoseconds)].wrappingAdd(1, ordering: .relaxed)
        maximum.max(nanoseconds, ordering: .relaxed)
    }

    /// Current counts of every bucket (main thread).
    func snapshot() -> [Int] {
        (0..<Self.bucketCount).map { counts[$0].load(ordering: .relaxed) }
    }

    /// The maximum since the last call, resetting it (main thread).
    func takeMaximum() -> Int { maximum.exchange(0, ordering: .relaxed) }
}

/// Callback cost over an interval: how many callbacks ran and their duration percentiles.
public struct CallbackStatistics: Sendable, Equatable {
    /// Callbacks counted.
    public var count: Int
    /// Median duration in µs (bucket upper bound, ≤ 12.5 % high).
    public var p50Microseconds: Double
    /// 99th-percentile duration in µs (bucket upper bound).
    public var p99Microseconds: Double
    /// Longest callback in µs (exact).
    public var maximumMicroseconds: Double

    public static let empty = CallbackStatistics(count: 0, p50Microseconds: 0, p99Microseconds: 0, maximumMicroseconds: 0)

    public init(count: Int, p50Microseconds: Double, p99Microseconds: Double, maximumMicroseconds: Double) {
        self.count = count
        self.p50Microseconds = p50Microseconds
        self.p99Microseconds = p99Microseconds
        self.maximumMicroseconds = maximumMicroseconds
    }

    /// Percentiles of per-bucket `counts` (the difference of two snapshots).
    init(counts: [Int], maximumNanoseconds: Int) {
        let total = counts.reduce(0, +)
        func percentile(_ p: Double) -> Double {
            guard total > 0 else { return 0 }
            let rank = max(1, Int((p * Double(total)).rounded(.up)))
            var seen = 0
            for (bucket, n) in counts.enumerated() {
                seen += n
                if seen >= rank { return Double(CallbackHistogram.upperBound(bucket: bucket)) / 1000 }
            }
            return Double(CallbackHistogram.upperBound(bucket: counts.count - 1)) / 1000
        }
        // A bucket's upper bound may exceed the exact maximum: never report a percentile above it.
        let maximum = Double(maximumNanoseconds) / 1000
        let cap = maximumNanoseconds > 0 ? maximum : .infinity
        self.init(count: total, p50Microseconds: min(percentile(0.5), cap), p99Microseconds: min(percentile(0.99), cap),
                  maximumMicroseconds: maximum)
    }
}
