// SPDX-License-Identifier: GPL-3.0-or-later
// The engine's one way into its C kernels (CEngineKernels), and eight-lane helpers: partial sums, unaligned loads and stores.

import CEngineKernels

/// A call into `CEngineKernels`: the kernel, as chosen for this CPU where there is a choice, and
/// its arguments (each kernel's documentation is in `CEngineKernels.h`).
enum EngineKernelCall {
    /// The solver's pass over W for bins `first ..< end` (`sordino_solver_pass`), keeping the
    /// estimates of the h it read where `speechEstimate` is not nil.
    case pass(SordinoSolverPass, rows: UnsafePointer<Float>, first: Int, end: Int, stride: Int,
              h: UnsafePointer<Float>, v: UnsafePointer<Float>, epsilon: Float, beta: Int32,
              numerator: UnsafeMutablePointer<Float>, denominator: UnsafeMutablePointer<Float>, speech: Int,
              speechEstimate: UnsafeMutablePointer<Float>?, noiseEstimate: UnsafeMutablePointer<Float>?)
    /// The pass of eight streams with sixteen-float vectors (`sordino_solver_pass_wide`): `v`,
    /// `numerator`, `denominator`, `speechEstimate` and `noiseEstimate` eight pointers each.
    case widePass(SordinoWidePass, columns: UnsafePointer<Float>, columnStride: Int, rows: UnsafePointer<Float>,
                  stride: Int, bins: Int, h: UnsafePointer<Float>, v: UnsafePointer<UnsafeMutablePointer<Float>?>,
                  epsilon: Float, beta: Int32, numerator: UnsafePointer<UnsafeMutablePointer<Float>?>,
                  denominator: UnsafePointer<UnsafeMutablePointer<Float>?>, speech: Int,
                  speechEstimate: UnsafePointer<UnsafeMutablePointer<Float>?>?,
                  noiseEstimate: UnsafePointer<UnsafeMutablePointer<Float>?>?)
    /// Ŝ and N̂ from W's rows (`sordino_estimate`, or `sordino_estimate_lanes` for eight streams).
    case estimate(SordinoEstimate, rows: UnsafePointer<Float>, bins: Int, stride: Int, speech: Int,
                  h: UnsafePointer<Float>, speechEstimate: UnsafeMutablePointer<Float>,
                  noiseEstimate: UnsafeMutablePointer<Float>)
    /// One step of the learned gain's network (`sordino_gain_step`).
    case gainStep(SordinoGainStep, network: UnsafePointer<SordinoGainNetwork>, features: UnsafePointer<Float>,
                  hidden: UnsafeMutablePointer<Float>)
    /// One step of the learned gain's network for `count` ≤ 8 streams at once (`sordino_gain_step_streams`).
    case gainStepStreams(SordinoGainStepStreams, network: UnsafePointer<SordinoGainNetwork>, count: Int,
                       features: UnsafePointer<UnsafePointer<Float>?>, hidden: UnsafePointer<UnsafeMutablePointer<Float>?>,
                       gains: UnsafePointer<UnsafeMutablePointer<Float>?>)
    /// x[i] ← √x[i] for i < count (`sordino_square_root`).
    case squareRoot(UnsafeMutablePointer<Float>, count: Int)
    /// Eight streams' vectors (`columns`, nil for a lane of zeros) interleaved into `lanes`
    /// (`sordino_to_lanes`), and back (`sordino_from_lanes`, nil columns skipped; rows of
    /// `laneStride` floats, 8 for lanes).
    case toLanes(columns: UnsafePointer<UnsafeMutablePointer<Float>?>, count: Int, lanes: UnsafeMutablePointer<Float>)
    case fromLanes(lanes: UnsafePointer<Float>, laneStride: Int, count: Int,
                   columns: UnsafePointer<UnsafeMutablePointer<Float>?>)
    /// One step of the online noise atoms (`sordino_adapt_atoms`).
    case adaptAtoms(rows: UnsafeMutablePointer<Float>, bins: Int, stride: Int, firstLane: Int, groups: Int,
                    firstSlot: Int, count: Int, numerators: UnsafeMutablePointer<Float>, numeratorStride: Int,
                    streams: Int, activations: UnsafePointer<UnsafePointer<Float>?>,
                    ratios: UnsafePointer<UnsafePointer<Float>?>, forgetting: Float, sums: UnsafeMutablePointer<Float>)
}

/// Runs `call`: the one place the engine calls into `CEngineKernels`. The performance checker
/// cannot see into C; the kernels there neither allocate, lock nor call the system, and every
/// pointer they get is the caller's. Inlined, so each call site keeps only its own case.
/// Real-time safe.
@_noLocks @inline(__always)
func run(_ call: EngineKernelCall) {
    _unsafePerformance {
        switch call {
        case let .pass(kernel, rows, first, end, stride, h, v, epsilon, beta, numerator, denominator, speech,
                       speechEstimate, noiseEstimate):
            kernel(rows, Int32(first), Int32(end), Int32(stride), h, v, epsilon, beta, numerator, denominator,
                   Int32(speech), speechEstimate, noiseEstimate)
        case let .widePass(kernel, columns, columnStride, rows, stride, bins, h, v, epsilon, beta, numerator,
                           denominator, speech, speechEstimate, noiseEstimate):
            kernel(columns, Int32(columnStride), rows, Int32(stride), Int32(bins), h, v, epsilon, beta, numerator,
                   denominator, Int32(speech), speechEstimate, noiseEstimate)
        case let .estimate(kernel, rows, bins, stride, speech, h, speechEstimate, noiseEstimate):
            kernel(rows, Int32(bins), Int32(stride), Int32(speech), h, speechEstimate, noiseEstimate)
        case let .gainStep(kernel, network, features, hidden):
            kernel(network, features, hidden)
        case let .gainStepStreams(kernel, network, count, features, hidden, gains):
            kernel(network, Int32(count), features, hidden, gains)
        case let .squareRoot(x, count):
            sordino_square_root(x, Int32(count))
        case let .toLanes(columns, count, lanes):
            sordino_to_lanes(columns, Int32(count), lanes)
        case let .fromLanes(lanes, laneStride, count, columns):
            sordino_from_lanes(lanes, Int32(laneStride), Int32(count), columns)
        case let .adaptAtoms(rows, bins, stride, firstLane, groups, firstSlot, count, numerators, numeratorStride,
                             streams, activations, ratios, forgetting, sums):
            sordino_adapt_atoms(rows, Int32(bins), Int32(stride), Int32(firstLane), Int32(groups), Int32(firstSlot),
                                Int32(count), numerators, Int32(numeratorStride), Int32(streams), activations, ratios,
                                forgetting, sums)
        }
    }
}

/// x[i] ← (x[i] + x[count + i]) + (x[2·count + i] + x[3·count + i]) for i < `count` (a multiple
/// of 8): four partial sums into the first. Real-time safe.
@_noLocks @inline(__always)
func addPartialSums(_ x: UnsafeMutablePointer<Float>, count: Int) {
    var j = 0
    while j < count {
        let sum = (load8(x + j) + load8(x + count + j)) + (load8(x + 2 * count + j) + load8(x + 3 * count + j))
        UnsafeMutableRawPointer(x + j).storeBytes(of: sum, as: SIMD8<Float>.self)
        j += 8
    }
}

/// Eight floats from `p`, any alignment.
@_noLocks @inline(__always)
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }

/// Stores eight floats at `p`, any alignment. Real-time safe.
@_noLocks @inline(__always)
func store8(_ value: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: value, as: SIMD8<Float>.self)
}

/// Σ x[i] for i < `count`, in eight partial sums (a sum's four-cycle latency does not bound the loop),
/// then the rest one by one. Real-time safe.
@_noLocks @inline(__always)
func sumOfFloats(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = SIMD8<Float>.zero, i = 0
    while i + 8 <= count {
        lanes += load8(x + i)
        i += 8
    }
    var total = lanes.sum()
    while i < count {
        total += x[i]
        i += 1
    }
    return total
}

/// Σ x[i]² for i < `count`, summed as `sumOfFloats` sums. Real-time safe.
@_noLocks @inline(__always)
func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = SIMD8<Float>.zero, i = 0
    while i + 8 <= count {
        let chunk = load8(x + i)
        lanes += chunk * chunk
        i += 8
    }
    var total = lanes.sum()
    while i < count {
        total += x[i] * x[i]
        i += 1
    }
    return total
}
