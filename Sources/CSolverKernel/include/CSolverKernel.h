// SPDX-License-Identifier: GPL-3.0-or-later
// The engine's dense kernels (the activation solver's pass over W and estimates, a matrix by columns times a vector) and a multiply-add peak loop, in C so that each is built for AVX2 with FMA beside the baseline and chosen at run time.
#ifndef CSOLVERKERNEL_H
#define CSOLVERKERNEL_H

/// Adds the bins `first ..< end` (groups of eight, the last possibly shorter) of one stream into its
/// partial sums: for each group, Λ = W·h + ε of its rows, then P = V ⊙ Λ^(β−2) added as Wᵀ·P into
/// `numerator` (unless β = 2) and Q = Λ^(β−1) as Wᵀ·Q into `denominator` (unless β = 1). The group
/// starting at bin f goes to partial sum ((f / 8) mod 4), at offset ((f / 8) mod 4) × `stride` of
/// `numerator` and `denominator` (four partial sums of `stride` floats each). `rows` is W bin-major,
/// `stride` floats per bin (a multiple of 8, zero-padded), `h` `stride` floats, `v` the frame's
/// spectrum, `beta` 0, 1 or 2. No allocation, no lock, no system call.
typedef void (*SordinoSolverPass)(const float *rows, int first, int end, int stride, const float *h,
                                  const float *v, float epsilon, int beta, float *numerator, float *denominator);

/// The pass for this CPU: the AVX2 + FMA build where the CPU has both (one rounding per
/// multiply-add), else the baseline build (a multiply, then an add). `fused` is set to 1 or 0.
SordinoSolverPass sordino_solver_pass(int *fused);

/// Runs `steps` steps of twelve independent chains of eight lanes, x ← x·a + b, with the same
/// multiply-add as the pass chosen for this CPU, and returns the sum of the chains' lanes (so no
/// step is left out). 192 flops per step: for timing the machine's multiply-add peak.
typedef float (*SordinoPeakLoop)(long steps);

/// The peak loop for this CPU, built as `sordino_solver_pass`'s choice is.
SordinoPeakLoop sordino_peak_loop(void);

/// The speech and noise estimates Ŝ = Ws·hs, N̂ = Wn·hn for bins f < `bins`: `rows` is W bin-major
/// (`stride` floats per bin, a multiple of 8, zero-padded), the speech atoms in slots 0 ..< `speech`
/// (a multiple of 8), the noise atoms after; `h` `stride` floats. Writes `bins` floats of each.
/// No allocation, no lock, no system call.
typedef void (*SordinoEstimate)(const float *rows, int bins, int stride, int speech, const float *h,
                                float *speech_estimate, float *noise_estimate);

/// The estimates for this CPU, built as `sordino_solver_pass`'s choice is.
SordinoEstimate sordino_estimate(void);

/// y = M·x for M stored column by column: `columns` columns of `stride` floats each (`stride` a
/// multiple of 8, padding rows 0), `x` `columns` floats, `y` `stride` floats. Each y[r] is summed
/// over the columns in order, one accumulator per row (no horizontal sums). Cost: columns × stride
/// multiply-adds. No allocation, no lock, no system call.
typedef void (*SordinoMultiplyColumns)(const float *m, int columns, int stride, const float *x, float *y);

/// The product for this CPU, built as `sordino_solver_pass`'s choice is.
SordinoMultiplyColumns sordino_multiply_columns(void);

/// x[i] ← √x[i] for i < `count` (x[i] ≥ 0), eight lanes at a time where the CPU has AVX2. No
/// allocation, no lock, no system call.
void sordino_square_root(float *x, int count);

/// How many of x[0 ..< count] are NaN or beyond ±`limit`. No allocation, no lock, no system call.
int sordino_count_outside(const float *x, int count, float limit);

#endif
