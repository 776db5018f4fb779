// SPDX-License-Identifier: GPL-3.0-or-later
// Properties of β-NMF: descent, agreement with a double reference, seeds, fixed-basis mode, λ, norms.

import SordinoDSP
import SordinoNMF
import Testing

@Suite struct BetaNMFTests {
    static let betas: [Double] = [0, 0.5, 1, 1.5, 2, 3]

    /// Every iteration's objective ≤ the previous one × (1 + 1e-5) (rounding slack), and the run
    /// really descends: measured final/initial 0.68–0.75 on the random data, 0.03–0.16 on the spectrogram.
    func expectMonotone(_ run: BetaNMF.Factorisation, descentBelow fraction: Double) {
        var last = run.initialObjective
        for (i, value) in run.objective.enumerated() {
            #expect(value.isFinite)
            #expect(value <= last * (1 + 1e-5), "objective rose at iteration \(i + 1): \(last) → \(value)")
            last = value
        }
        #expect(last < fraction * run.initialObjective, "only \(last / run.initialObjective) of the start")
    }

    @Test(arguments: betas)
    func objectiveNeverIncreasesOnRandomData(beta: Double) throws {
        let v = Fixture.randomNonNegative(rows: 40, columns: 60, seed: 11)
        let nmf = try BetaNMF(.init(rank: 5, beta: BetaDivergence(beta), iterations: 100, seed: 3))
        expectMonotone(try nmf.factorise(v), descentBelow: 0.8)
    }

    @Test(arguments: betas)
    func objectiveNeverIncreasesOnASpectrogram(beta: Double) throws {
        let v = try Fixture.harmonicSpectrogram()
        let nmf = try BetaNMF(.init(rank: 8, beta: BetaDivergence(beta), iterations: 60, seed: 5))
        expectMonotone(try nmf.factorise(v), descentBelow: 0.25)
    }

    /// 20 iterations from the same initial factors as a plain double-precision implementation:
    /// objective within 1e-4 relative at every iteration, W within 1e-3 (relative Frobenius norm).
    @Test(arguments: betas)
    func agreesWithDoublePrecisionReference(beta: Double) throws {
        let v = Fixture.randomNonNegative(rows: 24, columns: 40, seed: 21)
        let sparsity: Float = beta == 1 ? 0.01 : 0
        let nmf = try BetaNMF(.init(rank: 4, beta: BetaDivergence(beta), iterations: 20, sparsity: sparsity, seed: 9))
        let (w0, h0) = nmf.initialFactors(for: v)
        let result = try nmf.factorise(v, initialBasis: w0, initialActivations: h0)
        var w = w0.doubleRows, h = h0.doubleRows
        let reference = ReferenceNMF(beta: beta, sparsity: Double(sparsity), normalisation: beta == 2 || sparsity > 0 ? 2 : 1)
            .run(v: v.doubleRows, w: &w, h: &h, iterations: 20)
        for (i, (value, expected)) in zip(result.objective, reference).enumerated() {
            #expect(abs(value - expected) <= 1e-4 * expected, "iteration \(i + 1): \(value) vs \(expected)")
        }
        var difference = 0.0, norm = 0.0
        for f in 0..<v.rows {
            for k in 0..<4 {
                difference += (Double(result.basis[f, k]) - w[f][k]) * (Double(result.basis[f, k]) - w[f][k])
                norm += w[f][k] * w[f][k]
            }
        }
        #expect((difference / norm).squareRoot() < 1e-3)
    }

    @Test func sameSeedGivesIdenticalBasisAndAnotherSeedDoesNot() throws {
        let v = try Fixture.harmonicSpectrogram()
        func basis(seed: UInt64) throws -> Matrix {
            try BetaNMF(.init(rank: 6, beta: 1, iterations: 15, seed: seed)).factorise(v).basis
        }
        let first = try basis(seed: 42)
        #expect(try basis(seed: 42).values == first.values)
        let other = try basis(seed: 43)
        #expect(other.values != first.values)
        let change = zip(other.values, first.values).map { abs($0 - $1) }.max() ?? 0
        #expect(change > 1e-3, "a new seed should move atoms, not just round differently")
    }

    /// Fixed-basis mode equals `ActivationSolver.initialise` then `solve(iterations: 12)`, frame by frame,
    /// within 1e-4 of each frame's largest activation, for both kernels, β ∈ {0, 1, 2}, with and without λ.
    @Test(arguments: [0, 1, 2], [ActivationKernel.blas, .engineSolver])
    func fixedBasisModeMatchesTheEngineSolver(beta: Int, kernel: ActivationKernel) throws {
        let v = try Fixture.harmonicSpectrogram()
        let bins = v.rows, speechRank = 5, noiseRank = 3, rank = speechRank + noiseRank
        var w = Fixture.randomNonNegative(rows: bins, columns: rank, seed: 31)
        for i in w.values.indices { w.values[i] += 0.05 }
        for sparsity: Float in [0, 0.05] {
            let fixed = try BetaNMF(.init(rank: rank, beta: BetaDivergence(Double(beta)), iterations: 12, sparsity: sparsity,
                                          activationKernel: kernel)).activations(of: v, basis: w)
            let solver = try ActivationSolver(basis: try Basis(binCount: bins, speechRank: speechRank,
                                                               noiseRank: noiseRank, values: w.values),
                                              beta: BetaDivergence(Double(beta)), sparsity: sparsity)
            var frame = [Float](repeating: 0, count: solver.binStride)
            var h = [Float](repeating: 0, count: solver.activationStride)
            var worst: Float = 0
            for t in 0..<v.columns {
                for f in 0..<bins { frame[f] = v[f, t] }
                frame.withUnsafeBufferPointer { pv in
                    h.withUnsafeMutableBufferPointer { ph in
                        solver.initialise(ph.baseAddress!, from: pv.baseAddress!)
                        solver.solve(pv.baseAddress!, activations: ph.baseAddress!, iterations: 12)
                    }
                }
                let expected = (0..<rank).map { h[solver.slot(ofAtom: $0)] }
                let scale = expected.max()!
                for k in 0..<rank { worst = max(worst, abs(fixed.activations[k, t] - expected[k]) / scale) }
            }
            #expect(worst < 1e-4, "λ = \(sparsity): worst relative difference \(worst)")
            #expect(fixed.basis == w)
        }
    }

    /// Engine-solver and BLAS kernels give the same training run (H steps agree; W steps are shared).
    @Test(arguments: [0, 1, 2])
    func bothKernelsTrainTheSameBasis(beta: Int) throws {
        let v = try Fixture.harmonicSpectrogram()
        func train(_ kernel: ActivationKernel) throws -> BetaNMF.Factorisation {
            try BetaNMF(.init(rank: 6, beta: BetaDivergence(Double(beta)), iterations: 10, seed: 4, activationKernel: kernel)).factorise(v)
        }
        let a = try train(.blas), b = try train(.engineSolver)
        #expect(abs(a.objective.last! - b.objective.last!) <= 1e-4 * b.objective.last!)
        let worst = zip(a.basis.values, b.basis.values).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-3 * b.basis.values.max()!)
    }

    /// Fixed basis, KL, unit-sum atoms: at convergence Σ_k h_k = Σ_f v_f / (1 + λ) in every frame (the
    /// stationarity condition of the update), so λ = 0.25 must cut ΣH to 0.8 of its λ = 0 value.
    @Test func sparsityLowersTotalActivationWithAFixedBasis() throws {
        let v = try Fixture.harmonicSpectrogram()
        var w = Fixture.randomNonNegative(rows: v.rows, columns: 8, seed: 12)
        for k in 0..<8 {
            let sum = (0..<v.rows).reduce(Float(0)) { $0 + w[$1, k] }
            for f in 0..<v.rows { w[f, k] /= sum }
        }
        func total(_ sparsity: Float) throws -> Double {
            let h = try BetaNMF(.init(rank: 8, beta: 1, iterations: 300, sparsity: sparsity)).activations(of: v, basis: w)
            return h.activations.values.reduce(0.0) { $0 + Double($1) }
        }
        let plain = try total(0), sparse = try total(0.25)
        #expect(abs(sparse / plain - 0.8) < 1e-3, "ΣH(0.25) / ΣH(0) = \(sparse / plain)")
    }

    /// Learning W too, with unit-sum atoms ΣH = Σ W·H, so λ·ΣH only penalises the model's total,
    /// which the unpenalised W step absorbs: for KL the run is exactly a rescaling and ΣH does not move.
    /// That is why `.automatic` takes unit-L2 atoms when λ > 0.
    @Test func sparsityIsVoidWithUnitSumAtomsUnderKL() throws {
        let v = try Fixture.harmonicSpectrogram()
        func total(_ sparsity: Float) throws -> Double {
            try BetaNMF(.init(rank: 8, beta: 1, iterations: 60, sparsity: sparsity, seed: 2, atomNormalisation: .unitSum))
                .factorise(v).activations.values.reduce(0.0) { $0 + Double($1) }
        }
        let plain = try total(0), sparse = try total(1)
        #expect(abs(sparse / plain - 1) < 1e-5)
    }

    /// Learning W with unit-L2 atoms (β = 2): λ = 1 lowers ΣH and concentrates each frame's activations.
    /// Measured: ΣH falls to 0.921 of its λ = 0 value; mean ℓ1/ℓ2 of H's columns from 1.391 to 1.212.
    @Test func sparsityLowersAndConcentratesLearnedActivations() throws {
        let v = try Fixture.harmonicSpectrogram()
        func run(_ sparsity: Float) throws -> (spread: Double, total: Double) {
            let h = try BetaNMF(.init(rank: 8, beta: 2, iterations: 100, sparsity: sparsity, seed: 2)).factorise(v).activations
            var spread = 0.0
            for t in 0..<h.columns {
                var l1 = 0.0, l2 = 0.0
                for k in 0..<h.rows { l1 += Double(h[k, t]); l2 += Double(h[k, t]) * Double(h[k, t]) }
                spread += l1 / l2.squareRoot()
            }
            return (spread / Double(h.columns), h.values.reduce(0.0) { $0 + Double($1) })
        }
        let plain = try run(0), sparse = try run(1)
        #expect(sparse.total / plain.total < 0.95)
        #expect(sparse.spread < 1.3 && plain.spread > 1.35)
    }

    @Test(arguments: [(0.5, AtomNormalisation.automatic), (1, .automatic), (3, .unitSum), (2, .automatic), (1, .unitEuclideanNorm)])
    func normalisedAtomsHaveUnitNorm(beta: Double, normalisation: AtomNormalisation) throws {
        let v = Fixture.randomNonNegative(rows: 50, columns: 70, seed: 8)
        let w = try BetaNMF(.init(rank: 7, beta: BetaDivergence(beta), iterations: 25, seed: 1, atomNormalisation: normalisation))
            .factorise(v).basis
        let squared = normalisation.resolved(beta: BetaDivergence(beta), sparsity: 0) == .unitEuclideanNorm
        for k in 0..<w.columns {
            var norm = 0.0
            for f in 0..<w.rows { norm += squared ? Double(w[f, k]) * Double(w[f, k]) : Double(w[f, k]) }
            #expect(abs(norm - 1) < 1e-5, "atom \(k): \(norm)")
        }
    }

    @Test func rejectsBadInputWithAReason() throws {
        #expect(throws: NMFError.self) { try BetaNMF(.init(rank: 0)) }
        #expect(throws: NMFError.self) { try BetaNMF(.init(rank: 4, beta: 0.5, activationKernel: .engineSolver)) }
        var v = Fixture.randomNonNegative(rows: 4, columns: 5, seed: 1)
        v[2, 3] = -1
        #expect(throws: NMFError.invalidData(row: 2, column: 3, value: -1)) {
            try BetaNMF(.init(rank: 2)).factorise(v)
        }
    }

    @Test func progressReportsEveryIterationInOrder() throws {
        let v = Fixture.randomNonNegative(rows: 10, columns: 12, seed: 3)
        var seen: [(Int, Double)] = []
        let run = try BetaNMF(.init(rank: 3, iterations: 7)).factorise(v) { seen.append(($0, $1)) }
        #expect(seen.map(\.0) == Array(1...7))
        #expect(seen.map(\.1) == run.objective)
    }
}
