// SPDX-License-Identifier: GPL-3.0-or-later
// The engine's dense kernels (the solver's pass over W, a matrix by columns times a vector), built twice (baseline and AVX2 with FMA) from one body; the CPU picks.
#include "CSolverKernel.h"

// The baseline body's 8-lane vectors are passed in registers only inside inlined code: no ABI matters.
#pragma clang diagnostic ignored "-Wpsabi"

typedef float Lanes __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) Lanes load8(const float *p) {
    Lanes x;
    __builtin_memcpy(&x, p, sizeof x);
    return x;
}

static inline __attribute__((always_inline)) void store8(float *p, Lanes x) { __builtin_memcpy(p, &x, sizeof x); }

static inline __attribute__((always_inline)) float sum8(Lanes x) {
    return ((x[0] + x[1]) + (x[2] + x[3])) + ((x[4] + x[5]) + (x[6] + x[7]));
}

/// y += Σᵢ w[i] · row i over `stride` floats (rows beyond the group's count have weight 0). `a * b + c`
/// in one expression: contracted to a fused multiply-add where the function's target has FMA.
static inline __attribute__((always_inline)) void add_rows(const float *r0, const float *r1, const float *r2,
                                                           const float *r3, const float w[4], int stride, float *y) {
    const Lanes w0 = {w[0], w[0], w[0], w[0], w[0], w[0], w[0], w[0]};
    const Lanes w1 = {w[1], w[1], w[1], w[1], w[1], w[1], w[1], w[1]};
    const Lanes w2 = {w[2], w[2], w[2], w[2], w[2], w[2], w[2], w[2]};
    const Lanes w3 = {w[3], w[3], w[3], w[3], w[3], w[3], w[3], w[3]};
    for (int j = 0; j < stride; j += 8) {
        Lanes sum = load8(y + j);
        sum = load8(r0 + j) * w0 + sum;
        sum = load8(r1 + j) * w1 + sum;
        sum = load8(r2 + j) * w2 + sum;
        sum = load8(r3 + j) * w3 + sum;
        store8(y + j, sum);
    }
}

static inline __attribute__((always_inline)) void pass(const float *rows, int first, int end, int stride,
                                                       const float *h, const float *v, float epsilon, int beta,
                                                       float *numerator, float *denominator) {
    for (int f = first; f < end; f += 4) {
        const int count = end - f < 4 ? end - f : 4;
        const float *r0 = rows + (long)f * stride;
        const float *r1 = count > 1 ? r0 + stride : r0, *r2 = count > 2 ? r0 + 2 * stride : r0;
        const float *r3 = count > 3 ? r0 + 3 * stride : r0;
        Lanes a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        for (int j = 0; j < stride; j += 8) {
            const Lanes x = load8(h + j);
            a0 = load8(r0 + j) * x + a0;
            a1 = load8(r1 + j) * x + a1;
            a2 = load8(r2 + j) * x + a2;
            a3 = load8(r3 + j) * x + a3;
        }
        const float products[4] = {sum8(a0), sum8(a1), sum8(a2), sum8(a3)};
        float model[4], p[4] = {0, 0, 0, 0}, q[4] = {0, 0, 0, 0};
        for (int i = 0; i < 4; i++) model[i] = (i < count ? products[i] : 0) + epsilon;
        for (int i = 0; i < count; i++) {
            const float data = v[f + i];
            if (beta == 1) {
                p[i] = data / model[i];
            } else if (beta == 0) {
                const float inverse = 1 / model[i];
                p[i] = data * inverse * inverse;
                q[i] = inverse;
            } else {
                q[i] = model[i];
            }
        }
        const long partial = (long)((f / 4) & 3) * stride;
        if (beta != 2) add_rows(r0, r1, r2, r3, p, stride, numerator + partial);
        if (beta != 1) add_rows(r0, r1, r2, r3, q, stride, denominator + partial);
    }
}

/// y = M·x for M stored column by column (`columns` columns of `stride` floats, `stride` a multiple
/// of 8): rows in lanes, each y[r] summed over the columns in order. Eight chunks of eight rows at a
/// time (sixteen ymm registers hold the sums, the broadcast and a column's load), then four, then one.
static inline __attribute__((always_inline)) void multiply_columns(const float *m, int columns, int stride,
                                                                   const float *x, float *y) {
    int r = 0;
    for (; r + 64 <= stride; r += 64) {
        Lanes a[8] = {{0}};
        for (int c = 0; c < columns; c++) {
            const float *column = m + (long)c * stride + r;
            const float xc = x[c];
            const Lanes b = {xc, xc, xc, xc, xc, xc, xc, xc};
            for (int i = 0; i < 8; i++) a[i] = load8(column + 8 * i) * b + a[i];
        }
        for (int i = 0; i < 8; i++) store8(y + r + 8 * i, a[i]);
    }
    for (; r + 32 <= stride; r += 32) {
        Lanes a[4] = {{0}};
        for (int c = 0; c < columns; c++) {
            const float *column = m + (long)c * stride + r;
            const float xc = x[c];
            const Lanes b = {xc, xc, xc, xc, xc, xc, xc, xc};
            for (int i = 0; i < 4; i++) a[i] = load8(column + 8 * i) * b + a[i];
        }
        for (int i = 0; i < 4; i++) store8(y + r + 8 * i, a[i]);
    }
    for (; r < stride; r += 8) {
        Lanes a = {0};
        for (int c = 0; c < columns; c++) {
            const float xc = x[c];
            const Lanes b = {xc, xc, xc, xc, xc, xc, xc, xc};
            a = load8(m + (long)c * stride + r) * b + a;
        }
        store8(y + r, a);
    }
}

static inline __attribute__((always_inline)) float peak(long steps) {
    const Lanes a = {0.9999f, 0.9999f, 0.9999f, 0.9999f, 0.9999f, 0.9999f, 0.9999f, 0.9999f};
    const Lanes b = {1e-4f, 1e-4f, 1e-4f, 1e-4f, 1e-4f, 1e-4f, 1e-4f, 1e-4f};
    Lanes x[12];
    for (int c = 0; c < 12; c++) {
        const float start = 0.1f + 0.01f * (float)c;
        x[c] = (Lanes){start, start, start, start, start, start, start, start};
    }
    for (long step = 0; step < steps; step++) {
        for (int c = 0; c < 12; c++) x[c] = x[c] * a + b;
    }
    float sum = 0;
    for (int c = 0; c < 12; c++) sum += sum8(x[c]);
    return sum;
}

static void pass_baseline(const float *rows, int first, int end, int stride, const float *h, const float *v,
                          float epsilon, int beta, float *numerator, float *denominator) {
    pass(rows, first, end, stride, h, v, epsilon, beta, numerator, denominator);
}

static float peak_baseline(long steps) { return peak(steps); }

static void multiply_columns_baseline(const float *m, int columns, int stride, const float *x, float *y) {
    multiply_columns(m, columns, stride, x, y);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static void pass_fused(const float *rows, int first, int end, int stride, const float *h, const float *v,
                       float epsilon, int beta, float *numerator, float *denominator) {
    pass(rows, first, end, stride, h, v, epsilon, beta, numerator, denominator);
}

__attribute__((target("avx2,fma"))) static float peak_fused(long steps) { return peak(steps); }

__attribute__((target("avx2,fma")))
static void multiply_columns_fused(const float *m, int columns, int stride, const float *x, float *y) {
    multiply_columns(m, columns, stride, x, y);
}

/// True when this CPU runs the AVX2 + FMA builds.
static int cpu_fuses(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

SordinoSolverPass sordino_solver_pass(int *fused) {
#if defined(__x86_64__)
    *fused = cpu_fuses();
    return *fused ? pass_fused : pass_baseline;
#else
    *fused = 1;   // aarch64: every `a * b + c` above contracts to a fused multiply-add
    return pass_baseline;
#endif
}

SordinoPeakLoop sordino_peak_loop(void) {
#if defined(__x86_64__)
    return cpu_fuses() ? peak_fused : peak_baseline;
#else
    return peak_baseline;
#endif
}

SordinoMultiplyColumns sordino_multiply_columns(void) {
#if defined(__x86_64__)
    return cpu_fuses() ? multiply_columns_fused : multiply_columns_baseline;
#else
    return multiply_columns_baseline;
#endif
}
