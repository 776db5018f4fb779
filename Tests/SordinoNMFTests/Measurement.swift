// SPDX-License-Identifier: GPL-3.0-or-later
// Timings for the training notes, run only with SORDINO_MEASURE=1 (and OPENBLAS_NUM_THREADS=1), never in CI.

import SordinoDSP
import SordinoNMF
import Testing

#if canImport(Glibc)
import Glibc
#endif

enum MeasurementGate {
    static var isEnabled: Bool { getenv("SORDINO_MEASURE").map { String(cString: $0) == "1" } ?? false }
}

@Suite(.enabled(if: MeasurementGate.isEnabled, "timing only: set SORDINO_MEASURE=1"), .serialized)
struct Measurement {
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock(), start = clock.now
        try body()
        let d = clock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    /// The brief's benchmark: 200 iterations of KL-NMF, rank 64, on 257 × 50 000 random data.
    @Test func klRank64On50000Frames() throws {
        let v = Fixture.randomNonNegative(rows: 257, columns: 50_000, seed: 1)
        let nmf = try BetaNMF(.init(rank: 64, beta: 1, iterations: 200, seed: 1))
        var run: BetaNMF.Factorisation?
        let total = try Self.seconds { run = try nmf.factorise(v) }
        let objectiveOnly = try Self.seconds {
            _ = try BetaNMF(.init(rank: 64, beta: 1, iterations: 0, seed: 1)).factorise(v)
        }
        let result = try #require(run)
        let final = try #require(result.objective.last)
        print("MEASURE kl rank 64, 257 × 50000, 200 iterations: \(total) s (\(total / 200) s/iteration); "
            + "one objective-only pass (GEMM + divergence): \(objectiveOnly) s; final objective \(final)")
        #expect(final < 0.9 * result.initialObjective, "200 KL iterations must descend")
    }

    /// H step through `ActivationSolver` against the BLAS H step, on real speech from the corpus (or the
    /// synthetic fixture without it): fixed-basis mode, rank 64, 20 passes, objective pass subtracted.
    @Test(arguments: [0, 1, 2])
    func activationKernelsOnSpeech(beta: Int) throws {
        let v = try Self.speech()
        let basis = try BetaNMF(.init(rank: 64, beta: BetaDivergence(Double(beta)), iterations: 10, seed: 3)).factorise(v).basis
        var finals: [ActivationKernel: Double] = [:]
        func time(_ kernel: ActivationKernel, iterations: Int) throws -> Double {
            let nmf = try BetaNMF(.init(rank: 64, beta: BetaDivergence(Double(beta)), iterations: iterations, activationKernel: kernel))
            var result: BetaNMF.Factorisation?
            let t = try Self.seconds { result = try nmf.activations(of: v, basis: basis) }
            if iterations > 0 { finals[kernel] = result?.objective.last }
            return t
        }
        let blas = (try time(.blas, iterations: 20) - (try time(.blas, iterations: 0))) / 20
        let solver = (try time(.engineSolver, iterations: 20) - (try time(.engineSolver, iterations: 0))) / 20
        // The parts every pass shares: Λ = W·H (one GEMM) and Σ d_β(V | Λ) in double precision.
        var model = Matrix(rows: v.rows, columns: v.columns)
        let h = Matrix(rows: 64, columns: v.columns, repeating: 0.01)
        let gemm = Self.seconds { Matrix.multiply(basis, h, into: &model) }
        let divergence = BetaDivergence(Double(beta))
        var sink = 0.0
        let cost = Self.seconds {
            for i in v.values.indices { sink += divergence.value(data: Double(v.values[i]), model: Double(model.values[i])) }
        }
        let train = { (kernel: ActivationKernel) throws -> Double in
            let nmf = try BetaNMF(.init(rank: 64, beta: BetaDivergence(Double(beta)), iterations: 10, seed: 3, activationKernel: kernel))
            return try Self.seconds { _ = try nmf.factorise(v) } / 10
        }
        print("MEASURE β=\(beta) speech \(v.rows) × \(v.columns), rank 64: fixed-basis pass (H step + objective) "
            + "BLAS \(blas) s, ActivationSolver \(solver) s; of which W·H GEMM \(gemm) s, divergence sum \(cost) s (\(sink > 0)); "
            + "training iteration BLAS \(try train(.blas)) s, ActivationSolver \(try train(.engineSolver)) s")
        // The timing compares like with like only if both kernels compute the same H.
        let b = try #require(finals[.blas]), e = try #require(finals[.engineSolver])
        #expect(abs(b - e) <= 1e-4 * abs(b), "kernels disagree: \(b) vs \(e)")
    }

    /// The corpus' training speech as V (16 kHz, the default STFT), or the fixture if it is absent.
    static func speech() throws -> Matrix {
        let root = "../shared/corpus/train/speech"
        var signals: [[Float]] = []
        if let dir = opendir(root) {
            defer { closedir(dir) }
            var speakers: [String] = []
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                if !name.hasPrefix(".") { speakers.append(name) }
            }
            for speaker in speakers.sorted() {
                guard let sub = opendir("\(root)/\(speaker)") else { continue }
                var files: [String] = []
                while let entry = readdir(sub) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                    if name.hasSuffix(".wav") { files.append(name) }
                }
                closedir(sub)
                for file in files.sorted() { if let s = readPCM16("\(root)/\(speaker)/\(file)") { signals.append(s) } }
            }
        }
        if signals.isEmpty { return try Fixture.harmonicSpectrogram(seconds: 60) }
        return try TrainingSet(signals: signals, configuration: EngineConfiguration()).spectrogram
    }

    /// Mono 16-bit PCM samples of a WAV file scaled to [−1, 1), or nil if it is not one.
    static func readPCM16(_ path: String) -> [Float]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        func u32(_ i: Int) -> Int { Int(bytes[i]) | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2]) << 16 | Int(bytes[i + 3]) << 24 }
        guard bytes.count > 12, bytes[0..<4].elementsEqual("RIFF".utf8) else { return nil }
        var i = 12, bits = 0, channels = 0
        while i + 8 <= bytes.count {
            let id = String(decoding: bytes[i..<i + 4], as: UTF8.self), size = u32(i + 4)
            if id == "fmt " { channels = Int(bytes[i + 10]); bits = Int(bytes[i + 22]) }
            if id == "data" {
                guard bits == 16, channels == 1 else { return nil }
                let end = min(bytes.count, i + 8 + size)
                return stride(from: i + 8, to: end - 1, by: 2).map {
                    Float(Int16(bitPattern: UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8)) / 32768
                }
            }
            i += 8 + size + (size & 1)
        }
        return nil
    }
}
