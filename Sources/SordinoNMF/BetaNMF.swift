// SPDX-License-Identifier: GPL-3.0-or-later
// β-divergence NMF by multiplicative updates: learns a basis W and activations H, or H for a fixed W.

import RealModule
import SordinoDSP

/// How atoms (columns of W) are scaled after every W update; H is rescaled by the inverse, so
/// W·H — and with λ = 0 the objective — is unchanged. Without it the L1 penalty λ·ΣH could be
/// dodged by growing W and shrinking H.
public enum AtomNormalisation: Sendable, Hashable {
    /// `.unitSum` when λ = 0 and β ≠ 2; `.unitEuclideanNorm` for β = 2 (the sparse-coding
    /// convention) and whenever λ > 0. Unit-sum atoms make Σ_f (W·H)_f = Σ_k h_k, so with λ = 0 the
    /// activations carry each frame's mass in units of V (and the KL denominator is 1); but then
    /// λ·ΣH = λ·Σ W·H penalises only the model's total, which the unpenalised W step absorbs — for KL
    /// a λ > 0 run is exactly a rescaled λ = 0 run — so a sparsity prior needs unit-L2 atoms
    /// (Le Roux, Weninger & Hershey 2015).
    case automatic
    /// Σ_f W[f, k] = 1 for every atom k.
    case unitSum
    /// √(Σ_f W[f, k]²) = 1 for every atom k.
    case unitEuclideanNorm
    /// Atoms keep whatever scale the updates give them.
    case none

    /// The concrete choice for β and λ.
    public func resolved(beta: BetaDivergence, sparsity: Float) -> AtomNormalisation {
        guard self == .automatic else { return self }
        return beta == 2 || sparsity > 0 ? .unitEuclideanNorm : .unitSum
    }
}

/// Which code performs the activation (H) step. Both apply the same update rule and give the same H
/// to float rounding (tested to 1e-4); they differ only in speed.
public enum ActivationKernel: Sendable, Hashable {
    /// `.blas`. Measured on the corpus' training speech (257 bins × 75 217 frames, rank 64, one core,
    /// OPENBLAS_NUM_THREADS=1, shared machine): a fixed-basis pass (H step + objective) takes 0.17 s
    /// with BLAS and 0.36 s through `ActivationSolver` for KL (β = 0: 0.19 vs 0.46 s, β = 2: 0.18 vs
    /// 0.41 s); a training iteration 0.25 vs 0.43 s. The solver's per-frame matrix–vector products
    /// cannot match GEMM's cache blocking.
    case automatic
    /// Two GEMMs (W·H, Wᵀ·P) around `UpdateRule`, the element-wise rule; any β.
    case blas
    /// The live engine's own `ActivationSolver.solve`, one iteration per frame per pass, on a solver
    /// rebuilt from W each pass. β ∈ {0, 1, 2} and rank ≥ 2 only (it splits atoms into its two groups).
    case engineSolver
}

/// Non-negative matrix factorisation V ≈ W·H (V: bins × frames, W: bins × rank, H: rank × frames)
/// minimising D_β(V | W·H + ε) + λ·ΣH by multiplicative updates for any real β, with the
/// majorisation-minimisation exponent γ(β) outside [1, 2] (Févotte & Idier 2011), so with λ = 0 the
/// objective never increases. With λ > 0 the update is the engine's h·(num/(den + λ))^γ, which is MM
/// for β ≤ 1 and β = 2 (Hoyer 2002); atom normalisation then changes λ·ΣH, so the curve may rise
/// slightly after a normalisation.
///
/// Each iteration updates all of H with W fixed, then W with the new H, then normalises atoms.
/// Frames are processed in chunks of `chunkFrames` columns so scratch stays O(bins × chunk).
/// Cost per iteration: 4 GEMMs of bins × rank × frames multiply-adds for β = 1, 6 otherwise, plus
/// one β-divergence evaluation per entry of V for the loss curve (in double precision through
/// `BetaDivergence.value`: ≈ 0.09 s per pass for 257 × 75 000 KL, about a third of an iteration).
/// All GEMMs go through cblas_sgemm. Measured: 200 KL iterations, rank 64, 257 × 50 000, one
/// OpenBLAS thread: 40 s on a loaded 2-core EPYC. Memory: V, W, H, plus (3·bins + 2·rank) × 1024
/// floats of chunk scratch and 2·bins·rank for the W step (≈ 3.3 MB at 257 bins, rank 64).
/// Deterministic: same options, seed and data ⇒ bit-identical W and H (with one OpenBLAS build and
/// thread count). Allocates; offline only.
public struct BetaNMF: Sendable {
    public struct Options: Sendable, Hashable {
        /// Atoms K (columns of W).
        public var rank: Int
        /// β of the divergence: any finite real; 0 Itakura–Saito, 1 KL, 2 Euclidean.
        public var beta: BetaDivergence
        /// Full passes (an H step then a W step); the cap when `tolerance` is set.
        public var iterations: Int
        /// Stops before `iterations` once a pass lowers the objective by less than this fraction of
        /// the initial one (`StoppingRule`); nil: fixed work.
        public var tolerance: Double?
        /// L1 penalty λ ≥ 0 on every activation, in units of V.
        public var sparsity: Float
        /// Seeds the SplitMix64 generator that draws the initial W and H.
        public var seed: UInt64
        public var atomNormalisation: AtomNormalisation
        public var activationKernel: ActivationKernel

        public init(rank: Int, beta: BetaDivergence = 1, iterations: Int = 200, sparsity: Float = 0,
                    seed: UInt64 = 0x534F_5244_494E_4F00, atomNormalisation: AtomNormalisation = .automatic,
                    activationKernel: ActivationKernel = .automatic, tolerance: Double? = nil) {
            self.rank = rank
            self.tolerance = tolerance
            self.beta = beta
            self.iterations = iterations
            self.sparsity = sparsity
            self.seed = seed
            self.atomNormalisation = atomNormalisation
            self.activationKernel = activationKernel
        }
    }

    /// The outcome of a run.
    public struct Factorisation: Sendable {
        /// W, bins × rank (the given basis in fixed-basis mode).
        public var basis: Matrix
        /// H, rank × frames.
        public var activations: Matrix
        /// D_β(V | W·H + ε) + λ·ΣH after each iteration (`iterations` values, fewer when the
        /// tolerance stopped the run), in double precision.
        public var objective: [Double]
        /// Why the run stopped.
        public var stop: StopReason
        /// The same quantity for the initial W and H.
        public var initialObjective: Double
    }

    /// Callback after each iteration with its number (1-based) and objective; called on the caller's thread.
    public typealias Progress = (_ iteration: Int, _ objective: Double) -> Void

    public let options: Options
    /// Frames per chunk: 257 bins × 1024 frames × 4 bytes = 1 MB per scratch matrix.
    public static let chunkFrames = 1024

    /// Checks the options.
    public init(_ options: Options) throws(NMFError) {
        try NMFError.check(options.rank >= 1, "rank", options.rank, "at least 1 atom")
        try NMFError.check(options.beta.beta.isFinite, "beta", options.beta.beta, "a finite real (0 IS, 1 KL, 2 Euclidean)")
        try NMFError.check(options.iterations >= 0, "iterations", options.iterations, "0 or more")
        try StoppingRule(passes: options.iterations, tolerance: options.tolerance).check()
        try NMFError.check(options.sparsity.isFinite && options.sparsity >= 0, "sparsity", options.sparsity, "a finite λ ≥ 0")
        if options.activationKernel == .engineSolver {
            try NMFError.check(options.beta.isLiveSolvable, "beta", options.beta.beta,
                      "0, 1 or 2 with the engine-solver kernel, or the BLAS kernel for any β")
        }
        self.options = options
    }

    var resolvedKernel: ActivationKernel { options.activationKernel == .engineSolver ? .engineSolver : .blas }

    // MARK: - Public entry points

    /// The seeded initial factors for V (bins × frames): W then H drawn row-major as 0.5 + u, u uniform
    /// in [0, 1), H scaled so mean(W·H) = mean(V), then atoms normalised (H compensating).
    public func initialFactors(for v: Matrix) -> (basis: Matrix, activations: Matrix) {
        var generator = SplitMix64(seed: options.seed)
        var w = Matrix(rows: v.rows, columns: options.rank)
        var h = Matrix(rows: options.rank, columns: v.columns)
        for i in w.values.indices { w.values[i] = 0.5 + generator.nextUnitFloat() }
        var sum = 0.0
        for x in v.values { sum += Double(x) }
        let mean = max(sum / Double(max(1, v.values.count)), Double(spectralEpsilon))
        let scale = Float(mean / Double(options.rank))   // E[W] = E[H/scale] = 1
        for i in h.values.indices { h.values[i] = (0.5 + generator.nextUnitFloat()) * scale }
        let normalisation = options.atomNormalisation.resolved(beta: options.beta, sparsity: options.sparsity)
        w.values.withUnsafeMutableBufferPointer { pw in
            h.values.withUnsafeMutableBufferPointer { ph in
                normalise(pw.baseAddress!, ph.baseAddress!, bins: v.rows, rank: options.rank,
                          frames: v.columns, normalisation)
            }
        }
        return (w, h)
    }

    /// Learns W and H for V (bins × frames, finite, ≥ 0) from `initialFactors(for:)`.
    public func factorise(_ v: Matrix, progress: Progress? = nil) throws(NMFError) -> Factorisation {
        try v.checkData()
        let (w, h) = initialFactors(for: v)
        return try factorise(v, initialBasis: w, initialActivations: h, progress: progress)
    }

    /// Learns W and H for V starting from the given factors (bins × rank and rank × frames, > 0).
    public func factorise(_ v: Matrix, initialBasis: Matrix, initialActivations: Matrix,
                          progress: Progress? = nil) throws(NMFError) -> Factorisation {
        try v.checkData()
        try initialBasis.checkFactor("initial basis", rows: v.rows, columns: options.rank)
        try initialActivations.checkFactor("initial activations", rows: options.rank, columns: v.columns)
        var w = initialBasis, h = initialActivations
        let curve = try run(v, &w, &h, learnBasis: true, progress: progress)
        return Factorisation(basis: w, activations: h, objective: Array(curve.objective.dropFirst()), stop: curve.stop,
                             initialObjective: curve.objective[0])
    }

    /// Fixed-basis mode (for `decompose --basis`): solves H for V with W (bins × atoms) given and
    /// untouched, `options.iterations` passes; `options.rank` is ignored (W's columns count). Every frame
    /// starts like `ActivationSolver.initialise`: all activations Σ_f v / (Σ W + ε). With β ∈ {0, 1, 2}
    /// the result equals running `ActivationSolver.solve` for that many iterations per frame.
    public func activations(of v: Matrix, basis w: Matrix, progress: Progress? = nil) throws(NMFError) -> Factorisation {
        try v.checkData()
        try w.checkFactor("basis", rows: v.rows, columns: w.columns)
        if resolvedKernel == .engineSolver && w.columns < 2 {
            throw .invalidOption(name: "rank", value: "\(w.columns)", allowed: "≥ 2 with the engine-solver kernel")
        }
        let rank = w.columns, bins = v.rows, frames = v.columns
        var basisTotal: Float = 0
        for k in 0..<rank {
            var atomSum: Float = 0
            for f in 0..<bins { atomSum += w[f, k] }
            basisTotal += atomSum
        }
        var h = Matrix(rows: rank, columns: frames)
        for t in 0..<frames {
            var energy: Float = 0
            for f in 0..<bins { energy += v[f, t] }
            let value = max(energy / (basisTotal + spectralEpsilon), activationFloor)
            for k in 0..<rank { h[k, t] = value }
        }
        var fixed = w
        let curve = try run(v, &fixed, &h, learnBasis: false, progress: progress)
        return Factorisation(basis: w, activations: h, objective: Array(curve.objective.dropFirst()), stop: curve.stop,
                             initialObjective: curve.objective[0])
    }

    // MARK: - The iteration

    /// Runs up to `options.iterations` passes on V, W, H in place through `ChunkedBackend`.
    func run(_ v: Matrix, _ w: inout Matrix, _ h: inout Matrix, learnBasis: Bool,
             progress: Progress?) throws(NMFError) -> LearningCurve {
        let bins = v.rows, frames = v.columns, rank = w.columns, kernel = resolvedKernel, options = options
        let driver = FactorisationDriver(StoppingRule(passes: options.iterations, tolerance: options.tolerance),
                                         progress: progress)
        var outcome: Result<LearningCurve, NMFError> = .success(LearningCurve())
        v.values.withUnsafeBufferPointer { vBuffer in
            w.values.withUnsafeMutableBufferPointer { wBuffer in
                h.values.withUnsafeMutableBufferPointer { hBuffer in
                    guard let pv = vBuffer.baseAddress, let pw = wBuffer.baseAddress,
                          let ph = hBuffer.baseAddress else { return }
                    var backend = ChunkedBackend(data: pv, basis: pw, activations: ph, bins: bins, frames: frames,
                                                 rank: rank, options: options, kernel: kernel, learnBasis: learnBasis)
                    outcome = Result { () throws(NMFError) in try driver.run(&backend) }
                }
            }
        }
        return try outcome.get()
    }

    /// How the engine-solver kernel splits `rank` atoms into its speech and noise groups (the split
    /// does not change the result; it only keeps padding small): a multiple of 8 then the rest.
    static func solverSplit(rank: Int) -> (Int, Int) {
        let noise = rank > 8 ? (rank % 8 == 0 ? 8 : rank % 8) : max(1, rank / 2)
        return (rank - noise, noise)
    }
}

