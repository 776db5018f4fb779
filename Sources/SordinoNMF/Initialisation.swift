// SPDX-License-Identifier: GPL-3.0-or-later
// Initial factors for decomposition: seeded random, NNDSVD (randomised SVD), and harmonic templates.

import RealModule
import SordinoDSP

/// How `Initialisation.factors` starts W and H.
public enum InitialisationMethod: String, Sendable, CaseIterable, Hashable {
    /// W and H uniform in √(mean V / rank)·[0.5, 1.5), from SplitMix64.
    case random
    /// NNDSVD (Boutsidis & Gallopoulos 2008) on a randomised truncated SVD of V, zeros replaced by
    /// mean(V) as scikit-learn's 'nndsvda' does (a multiplicative update cannot move a zero).
    case nndsvd
    /// W = harmonic templates (`HarmonicTemplates`), H random as in `.random`.
    case harmonic
}

/// Initial factors for `Decomposer`. All seeded; same seed and V ⇒ same factors.
public enum Initialisation {
    /// Random W (bins × rank) and H (rank × frames) scaled so that mean(W·H) ≈ mean(V).
    public static func random(for v: Matrix, rank: Int, seed: UInt64) -> (basis: Matrix, activations: Matrix) {
        var generator = SplitMix64(seed: seed)
        let scale = Float((max(mean(v), Double(spectralEpsilon)) / Double(rank)).squareRoot())
        var w = Matrix(rows: v.rows, columns: rank), h = Matrix(rows: rank, columns: v.columns)
        for i in w.values.indices { w.values[i] = scale * (0.5 + generator.nextUnitFloat()) }
        for i in h.values.indices { h.values[i] = scale * (0.5 + generator.nextUnitFloat()) }
        return (w, h)
    }

    /// Activations for a given basis, random as in `random(for:rank:seed:)` but scaled so that
    /// mean(W·H) = mean(V).
    public static func activations(for v: Matrix, basis w: Matrix, seed: UInt64) -> Matrix {
        var generator = SplitMix64(seed: seed)
        var h = Matrix(rows: w.columns, columns: v.columns)
        for i in h.values.indices { h.values[i] = 0.5 + generator.nextUnitFloat() }
        var total = 0.0
        for x in w.values { total += Double(x) }
        // mean(W·H) ≈ ΣW · E[h] / bins with E[h] = 1.
        let scale = Float(max(mean(v), Double(spectralEpsilon)) * Double(w.rows) / max(total, 1e-30))
        for i in h.values.indices { h.values[i] *= scale }
        return h
    }

    /// NNDSVD-a of V for `rank` atoms; the SVD is randomised (rank + 10 columns, 4 power iterations),
    /// seeded. Cost ≈ 10 · bins · frames · (rank + 10) multiply-adds.
    public static func nndsvd(for v: Matrix, rank: Int, seed: UInt64) -> (basis: Matrix, activations: Matrix) {
        let svd = TruncatedSVD(v, rank: rank, seed: seed)
        let fill = Float(max(mean(v), Double(spectralEpsilon)))
        var w = Matrix(rows: v.rows, columns: rank), h = Matrix(rows: rank, columns: v.columns)
        for j in 0..<rank {
            let sigma = j < svd.values.count ? svd.values[j] : 0
            let u = svd.left[j], vv = svd.right[j]
            var wColumn: [Double], hRow: [Double]
            if j == 0 {
                wColumn = u.map { abs($0) }
                hRow = vv.map { abs($0) }
                let s = sigma.squareRoot()
                wColumn = wColumn.map { $0 * s }
                hRow = hRow.map { $0 * s }
            } else {
                let up = u.map { max($0, 0) }, un = u.map { max(-$0, 0) }
                let vp = vv.map { max($0, 0) }, vn = vv.map { max(-$0, 0) }
                let nup = norm(up), nun = norm(un), nvp = norm(vp), nvn = norm(vn)
                let positive = nup * nvp, negative = nun * nvn
                let (x, y, nx, ny, m) = positive >= negative ? (up, vp, nup, nvp, positive) : (un, vn, nun, nvn, negative)
                let s = (sigma * m).squareRoot()
                wColumn = x.map { nx > 0 ? s * $0 / nx : 0 }
                hRow = y.map { ny > 0 ? s * $0 / ny : 0 }
            }
            for f in 0..<v.rows { w[f, j] = Float(wColumn[f]) }
            for t in 0..<v.columns { h[j, t] = Float(hRow[t]) }
        }
        for i in w.values.indices where !(w.values[i] > 0) { w.values[i] = fill }
        for i in h.values.indices where !(h.values[i] > 0) { h.values[i] = fill }
        return (w, h)
    }

    static func mean(_ m: Matrix) -> Double {
        var sum = 0.0
        for x in m.values { sum += Double(x) }
        return sum / Double(max(1, m.values.count))
    }

    static func norm(_ x: [Double]) -> Double { x.reduce(0) { $0 + $1 * $1 }.squareRoot() }
}

/// The leading singular triplets of V by a randomised range finder (Halko, Martinsson & Tropp 2011)
/// and the eigen-decomposition of the small Gram matrix B·Bᵀ (cyclic Jacobi), in double precision
/// except the two large products per power iteration (cblas_sgemm).
struct TruncatedSVD {
    /// σ₀ ≥ σ₁ ≥ …, `rank` values.
    var values: [Double] = []
    /// Left singular vectors (bins each) and right ones (frames each), `rank` of each.
    var left: [[Double]] = []
    var right: [[Double]] = []

    init(_ v: Matrix, rank: Int, seed: UInt64) {
        let l = min(rank + 10, min(v.rows, v.columns))
        var generator = SplitMix64(seed: seed ^ 0x5356_4400)
        var omega = Matrix(rows: v.columns, columns: l)
        for i in omega.values.indices { omega.values[i] = 2 * generator.nextUnitFloat() - 1 }
        var y = Matrix(rows: v.rows, columns: l)
        Matrix.multiply(v, omega, into: &y)
        Self.orthonormalise(&y)
        var z = Matrix(rows: v.columns, columns: l)
        for _ in 0..<4 {
            Matrix.multiply(v, transposed: true, y, into: &z)
            Self.orthonormalise(&z)
            Matrix.multiply(v, z, into: &y)
            Self.orthonormalise(&y)
        }
        var b = Matrix(rows: l, columns: v.columns)          // B = Qᵀ·V
        Matrix.multiply(y, transposed: true, v, into: &b)
        var gram = [Double](repeating: 0, count: l * l)      // B·Bᵀ in double
        for i in 0..<l {
            for j in i..<l {
                var s = 0.0
                for t in 0..<v.columns { s += Double(b[i, t]) * Double(b[j, t]) }
                gram[i * l + j] = s
                gram[j * l + i] = s
            }
        }
        let (eigenvalues, eigenvectors) = Self.jacobiEigen(gram, size: l)
        let order = eigenvalues.indices.sorted { eigenvalues[$0] > eigenvalues[$1] }
        for index in order.prefix(rank) {
            let sigma = max(eigenvalues[index], 0).squareRoot()
            var u = [Double](repeating: 0, count: v.rows)
            for f in 0..<v.rows {
                var s = 0.0
                for i in 0..<l { s += Double(y[f, i]) * eigenvectors[i * l + index] }
                u[f] = s
            }
            var r = [Double](repeating: 0, count: v.columns)
            if sigma > 0 {
                for t in 0..<v.columns {
                    var s = 0.0
                    for i in 0..<l { s += Double(b[i, t]) * eigenvectors[i * l + index] }
                    r[t] = s / sigma
                }
            }
            values.append(sigma)
            left.append(u)
            right.append(r)
        }
        while values.count < rank {   // V of lower rank than asked: zero triplets (filled later)
            values.append(0)
            left.append([Double](repeating: 0, count: v.rows))
            right.append([Double](repeating: 0, count: v.columns))
        }
    }

    /// Modified Gram–Schmidt on the columns of m, in double precision; a dependent column becomes 0.
    static func orthonormalise(_ m: inout Matrix) {
        let rows = m.rows, columns = m.columns
        var q = [[Double]](repeating: [], count: columns)
        for j in 0..<columns {
            var x = (0..<rows).map { Double(m[$0, j]) }
            for i in 0..<j {
                var d = 0.0
                for r in 0..<rows { d += q[i][r] * x[r] }
                for r in 0..<rows { x[r] -= d * q[i][r] }
            }
            let n = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
            q[j] = n > 1e-12 ? x.map { $0 / n } : [Double](repeating: 0, count: rows)
            for r in 0..<rows { m[r, j] = Float(q[j][r]) }
        }
    }

    /// Eigenvalues and eigenvectors (columns of a row-major size × size matrix) of a symmetric matrix.
    static func jacobiEigen(_ input: [Double], size n: Int) -> ([Double], [Double]) {
        var a = input
        var vectors = [Double](repeating: 0, count: n * n)
        for i in 0..<n { vectors[i * n + i] = 1 }
        for _ in 0..<60 {
            var off = 0.0
            for i in 0..<n { for j in (i + 1)..<max(i + 1, n) { off += a[i * n + j] * a[i * n + j] } }
            if off < 1e-22 * max(1, a.indices.reduce(0) { $0 + a[$1] * a[$1] }) { break }
            for p in 0..<n {
                for q in (p + 1)..<max(p + 1, n) where a[p * n + q] != 0 {
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {   // A ← A·J
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {   // A ← Jᵀ·A
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = vectors[k * n + p], vkq = vectors[k * n + q]
                        vectors[k * n + p] = c * vkp - s * vkq
                        vectors[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<n).map { a[$0 * n + $0] }, vectors)
    }
}
