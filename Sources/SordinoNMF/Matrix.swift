// SPDX-License-Identifier: GPL-3.0-or-later
// A row-major Float matrix for offline factorisation, with products through OpenBLAS's cblas_sgemm (loaded on first use).

internal import CLazyBLAS
import SordinoDSP

/// A dense `rows × columns` matrix of `Float`, row-major: element (r, c) is `values[r * columns + c]`.
/// In this module V is bins × frames, W bins × atoms and H atoms × frames.
/// Value semantics (copy-on-write through `[Float]`); allocates, so offline only.
public struct Matrix: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    /// `rows × columns` values, row-major.
    public var values: [Float]

    /// A matrix filled with `value`.
    public init(rows: Int, columns: Int, repeating value: Float = 0) {
        precondition(rows >= 0 && columns >= 0, "matrix dimensions must be ≥ 0")
        self.rows = rows
        self.columns = columns
        values = [Float](repeating: value, count: rows * columns)
    }

    /// Wraps `values` (row-major, exactly `rows × columns` of them).
    public init(rows: Int, columns: Int, values: [Float]) {
        precondition(rows >= 0 && columns >= 0 && values.count == rows * columns,
                     "\(values.count) values do not fill a \(rows) × \(columns) matrix")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// Element (row, column).
    @inline(__always) public subscript(row: Int, column: Int) -> Float {
        get { values[row * columns + column] }
        set { values[row * columns + column] = newValue }
    }

    /// The transpose, `columns × rows`. Cost: one pass over the values.
    public func transposed() -> Matrix {
        var result = Matrix(rows: columns, columns: rows)
        let (rows, columns) = (rows, columns)
        values.withUnsafeBufferPointer { source in
            result.values.withUnsafeMutableBufferPointer { target in
                for r in 0..<rows {
                    for c in 0..<columns { target[c * rows + r] = source[r * columns + c] }
                }
            }
        }
        return result
    }

    /// C ← α·op(A)·op(B) + s·C through `cblas_sgemm`, op(X) being Xᵀ when `transposed` is set
    /// (s = `accumulating`, 0 to overwrite C).
    /// Shapes: op(A) m × k, op(B) k × n, C m × n. Cost: m·n·k multiply-adds.
    public static func multiply(_ a: Matrix, transposed transposeA: Bool = false,
                                _ b: Matrix, transposed transposeB: Bool = false,
                                into c: inout Matrix, alpha: Float = 1, accumulating scale: Float = 0) {
        let m = transposeA ? a.columns : a.rows, k = transposeA ? a.rows : a.columns
        let kb = transposeB ? b.columns : b.rows, n = transposeB ? b.rows : b.columns
        precondition(k == kb && c.rows == m && c.columns == n,
                     "cannot multiply \(m) × \(k) by \(kb) × \(n) into \(c.rows) × \(c.columns)")
        let ldc = c.columns
        a.values.withUnsafeBufferPointer { pa in
            b.values.withUnsafeBufferPointer { pb in
                c.values.withUnsafeMutableBufferPointer { pc in
                    guard let pa = pa.baseAddress, let pb = pb.baseAddress, let pc = pc.baseAddress else { return }
                    gemm(transposeA, transposeB, m: m, n: n, k: k, alpha: alpha,
                         pa, lda: a.columns, pb, ldb: b.columns, beta: scale, pc, ldc: ldc)
                }
            }
        }
    }

    /// The product A·B, `a.rows × b.columns`.
    public static func * (a: Matrix, b: Matrix) -> Matrix {
        var c = Matrix(rows: a.rows, columns: b.columns)
        multiply(a, b, into: &c)
        return c
    }
}

/// Makes OpenBLAS run every product on the calling thread from now on. Its worker threads (one
/// per core, made when the library loads) then stay asleep: after each product they would
/// otherwise spin in `sched_yield` for a while, taking a core from whatever else runs (the daemon's
/// audio work during `learn-noise`). For processes whose products are small; training leaves the
/// threads as `OPENBLAS_NUM_THREADS` sets them.
public func runMatrixProductsOnOneThread() {
    sordino_blas_one_thread()
}

/// Loads OpenBLAS if it is not yet (the first product would; the factorisations check first, in
/// `checkData`, so that a missing library is an error and not an abort). Returns nil once loaded,
/// or what to do.
public func loadMatrixProducts() -> String? {
    guard let why = sordino_blas_load() else { return nil }
    return "matrix products need OpenBLAS, which cannot be loaded (\(String(cString: why))): install it "
        + "(Debian: apt-get install libopenblas0)"
}

/// C ← α·op(A)·op(B) + β·C on raw row-major storage with row strides `lda`, `ldb`, `ldc`.
/// The single entry to BLAS in this module. Cost: m·n·k multiply-adds; OpenBLAS runs as many
/// threads as `OPENBLAS_NUM_THREADS` allows.
@inline(__always)
func gemm(_ transposeA: Bool, _ transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
          _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
          beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
    guard m > 0, n > 0 else { return }
    precondition(max(m, n, k, lda, ldb, ldc) <= Int(Int32.max), "matrix too large for 32-bit BLAS indices")
    sordino_blas_sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(max(lda, 1)),
                       b, Int32(max(ldb, 1)), beta, c, Int32(max(ldc, 1)))
}

// MARK: - Checks at the factorisations' entry

extension Matrix {
    /// Throws unless this is usable NMF data V: at least one row and column, every entry finite and
    /// ≥ 0; and unless OpenBLAS, which every factorisation's products need, can be loaded.
    func checkData() throws(NMFError) {
        guard rows > 0, columns > 0 else { throw .noFrames(what: "V (\(rows) × \(columns))") }
        if let why = loadMatrixProducts() { throw .matrixProductsUnavailable(why) }
        for (i, x) in values.enumerated() where !(x.isFinite && x >= 0) {
            throw .invalidData(row: i / columns, column: i % columns, value: x)
        }
    }

    /// Throws unless this factor (`what`: "basis", "initial activations", …) is `rows × columns`
    /// with every entry finite and ≥ 0.
    func checkFactor(_ what: String, rows: Int, columns: Int) throws(NMFError) {
        guard self.rows == rows, self.columns == columns else {
            throw .shapeMismatch(what: what, expected: "\(rows) × \(columns)", actual: "\(self.rows) × \(self.columns)")
        }
        try NMFError.check(values.allSatisfy { $0.isFinite && $0 >= 0 }, what, "negative or non-finite entries",
                           "finite values ≥ 0")
    }
}

extension ComplexSpectrogram {
    /// |X|^p as a bins × frames matrix (p > 0; p = 2 is power).
    public func magnitude(power p: Double) -> Matrix {
        Matrix(rows: binCount, columns: frameCount, values: magnitudes(power: p))
    }
}
