// SPDX-License-Identifier: GPL-3.0-or-later
// The engine's dense kernels (the solver's pass over W, the estimates, a matrix by columns times a vector, the gain network's step, the online noise atoms' step, eight streams to and from lanes), built twice (baseline and AVX2 with FMA) from one body; the CPU picks.
#include "CEngineKernels.h"

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

/// Neighbouring lanes of `a` and of `b` added: {a0+a1, a2+a3, a4+a5, a6+a7, b0+b1, b2+b3, b4+b5, b6+b7}.
static inline __attribute__((always_inline)) Lanes add_pairs(Lanes a, Lanes b) {
    return __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14)
        + __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15);
}

/// {sum8(x[0]), …, sum8(x[7])} in one vector, each summed in sum8's order, by three rounds of
/// `add_pairs` (21 shuffles and adds instead of 8 × 7 adds of single lanes).
static inline __attribute__((always_inline)) Lanes sum8x8(const Lanes x[8]) {
    const Lanes l01 = add_pairs(x[0], x[1]), l23 = add_pairs(x[2], x[3]);
    const Lanes l45 = add_pairs(x[4], x[5]), l67 = add_pairs(x[6], x[7]);
    return add_pairs(add_pairs(l01, l23), add_pairs(l45, l67));
}

/// Bins per group of the pass: each group's rows are read from memory once, and their eight dot
/// products with h run as eight independent chains.
#define GROUP 8

/// y += Σᵢ w[i] · row i over `stride` floats, i < GROUP (rows beyond the group's count have weight 0).
/// `a * b + c` in one expression: contracted to a fused multiply-add where the function's target has FMA.
static inline __attribute__((always_inline)) void add_rows(const float *const r[GROUP], const float w[GROUP],
                                                           int stride, float *y) {
    Lanes weight[GROUP];
    for (int i = 0; i < GROUP; i++) weight[i] = (Lanes){w[i], w[i], w[i], w[i], w[i], w[i], w[i], w[i]};
    for (int j = 0; j < stride; j += 8) {
        Lanes sum = load8(y + j);
        for (int i = 0; i < GROUP; i++) sum = load8(r[i] + j) * weight[i] + sum;
        store8(y + j, sum);
    }
}

typedef float Lanes16 __attribute__((vector_size(64)));

/// `add_rows` sixteen floats a step, then eight for a remainder: every float of y gets the same
/// terms in the same order (bit for bit `add_rows` where both fuse the multiply-add). Generic
/// vectors: one register a step where the function's target has AVX-512F.
static inline __attribute__((always_inline)) void add_rows16(const float *const r[GROUP], const float w[GROUP],
                                                             int stride, float *y) {
    Lanes16 weight[GROUP];
    for (int i = 0; i < GROUP; i++) {
        for (int l = 0; l < 16; l++) weight[i][l] = w[i];
    }
    int j = 0;
    for (; j + 16 <= stride; j += 16) {
        Lanes16 sum;
        __builtin_memcpy(&sum, y + j, sizeof sum);
        for (int i = 0; i < GROUP; i++) {
            Lanes16 row;
            __builtin_memcpy(&row, r[i] + j, sizeof row);
            sum = row * weight[i] + sum;
        }
        __builtin_memcpy(y + j, &sum, sizeof sum);
    }
    if (j < stride) {
        const float *rest[GROUP];
        for (int i = 0; i < GROUP; i++) rest[i] = r[i] + j;
        add_rows(rest, w, stride - j, y + j);
    }
}

/// One pass over W's rows `first ..< end` (`SordinoSolverPass`); `wide` (a constant where inlined)
/// takes `add_rows16` for Wᵀ·P and Wᵀ·Q.
static inline __attribute__((always_inline)) void pass_body(const float *rows, int first, int end, int stride,
                                                            const float *h, const float *v, float epsilon, int beta,
                                                            float *numerator, float *denominator, int speech,
                                                            float *speech_estimate, float *noise_estimate, int split,
                                                            int wide) {
    for (int f = first; f < end; f += GROUP) {
        const int count = end - f < GROUP ? end - f : GROUP;
        const float *r[GROUP];   // a last group's rows past `end` are zeros (see the header)
        for (int i = 0; i < GROUP; i++) r[i] = rows + (long)(f + i) * stride;
        Lanes a[GROUP] = {{0}};
        Lanes products;
        if (split) {   // the speech slots' sums, then the noise slots': `estimate`'s arithmetic
            for (int j = 0; j < speech; j += 8) {
                const Lanes x = load8(h + j);
                for (int i = 0; i < GROUP; i++) a[i] = load8(r[i] + j) * x + a[i];
            }
            const Lanes speech_sums = sum8x8(a);
            for (int i = 0; i < GROUP; i++) a[i] = (Lanes){0};
            for (int j = speech; j < stride; j += 8) {
                const Lanes x = load8(h + j);
                for (int i = 0; i < GROUP; i++) a[i] = load8(r[i] + j) * x + a[i];
            }
            const Lanes noise_sums = sum8x8(a);
            for (int i = 0; i < count; i++) {
                speech_estimate[f + i] = speech_sums[i];
                noise_estimate[f + i] = noise_sums[i];
            }
            products = speech_sums + noise_sums;
        } else {
            for (int j = 0; j < stride; j += 8) {
                const Lanes x = load8(h + j);
                for (int i = 0; i < GROUP; i++) a[i] = load8(r[i] + j) * x + a[i];
            }
            products = sum8x8(a);
        }
        // The group's weights P and Q as one vector each (a lane per bin: the same operations as
        // bin by bin), lanes past `count` zero.
        Lanes data = {0};
        if (count == GROUP) {
            data = load8(v + f);
        } else {
            for (int i = 0; i < count; i++) data[i] = v[f + i];
        }
        const Lanes model = products + (Lanes){epsilon, epsilon, epsilon, epsilon, epsilon, epsilon, epsilon, epsilon};
        Lanes pv = {0}, qv = {0};
        if (beta == 1) {
            pv = data / model;
        } else if (beta == 0) {
            const Lanes inverse = (Lanes){1, 1, 1, 1, 1, 1, 1, 1} / model;
            pv = data * inverse * inverse;
            qv = inverse;
        } else {
            qv = model;
        }
        float p[GROUP] = {0}, q[GROUP] = {0};
        for (int i = 0; i < count; i++) {
            p[i] = pv[i];
            q[i] = qv[i];
        }
        const long partial = (long)((f / GROUP) & 3) * stride;
        if (wide) {
            if (beta != 2) add_rows16(r, p, stride, numerator + partial);
            if (beta != 1) add_rows16(r, q, stride, denominator + partial);
        } else {
            if (beta != 2) add_rows(r, p, stride, numerator + partial);
            if (beta != 1) add_rows(r, q, stride, denominator + partial);
        }
    }
}

#define PASS_PARAMETERS                                                                                   \
    const float *rows, int first, int end, int stride, const float *h, const float *v, float epsilon, int beta, \
        float *numerator, float *denominator, int speech, float *speech_estimate, float *noise_estimate, int split
#define PASS_ARGUMENTS \
    rows, first, end, stride, h, v, epsilon, beta, numerator, denominator, speech, speech_estimate, noise_estimate, split
static inline __attribute__((always_inline)) void pass(PASS_PARAMETERS) { pass_body(PASS_ARGUMENTS, 0); }
static inline __attribute__((always_inline)) void pass16(PASS_PARAMETERS) { pass_body(PASS_ARGUMENTS, 1); }
#undef PASS_PARAMETERS
#undef PASS_ARGUMENTS

/// `pass` for up to eight streams at once, a stream in each lane: for each group of eight bins,
/// Λ[f] = W[f]·H + ε as eight lanes (one multiply-add per atom and bin for all streams), the
/// weights P and Q of the group's bins, then Wᵀ·P and Wᵀ·Q added per atom, each atom's eight bins
/// in order (the order `add_rows` adds them in). `h` is `stride` × 8 floats (atom k's activations of
/// the eight streams at 8·k), `v` the frames' spectra bin by bin (8 floats a bin), `numerator` and
/// `denominator` four partial sums of `stride` × 8 floats each, the group at f going to partial sum
/// (f / 8) mod 4. A lane whose h and v are zero stays zero.
static inline __attribute__((always_inline)) void pass_lanes(const float *rows, int first, int end, int stride,
                                                             const float *h, const float *v, float epsilon,
                                                             int beta, float *numerator, float *denominator,
                                                             int speech, float *speech_estimate,
                                                             float *noise_estimate, int split) {
    const Lanes eps = {epsilon, epsilon, epsilon, epsilon, epsilon, epsilon, epsilon, epsilon};
    for (int f = first; f < end; f += GROUP) {
        const int count = end - f < GROUP ? end - f : GROUP;
        const float *r[GROUP];   // as in `pass`
        for (int i = 0; i < GROUP; i++) r[i] = rows + (long)(f + i) * stride;
        Lanes model[GROUP] = {{0}};
        if (split) {   // the speech slots' sums, then the noise slots': `estimate_lanes`'s arithmetic
            for (int k = 0; k < speech; k++) {
                const Lanes x = load8(h + 8 * (long)k);
                for (int i = 0; i < GROUP; i++) {
                    const float w = r[i][k];
                    model[i] = (Lanes){w, w, w, w, w, w, w, w} * x + model[i];
                }
            }
            // Ŝ out to memory (its lanes would not fit in registers beside N̂'s), read back for Λ.
            for (int i = 0; i < count; i++) store8(speech_estimate + 8 * (long)(f + i), model[i]);
            for (int i = 0; i < GROUP; i++) model[i] = (Lanes){0};
            for (int k = speech; k < stride; k++) {
                const Lanes x = load8(h + 8 * (long)k);
                for (int i = 0; i < GROUP; i++) {
                    const float w = r[i][k];
                    model[i] = (Lanes){w, w, w, w, w, w, w, w} * x + model[i];
                }
            }
            for (int i = 0; i < count; i++) {
                store8(noise_estimate + 8 * (long)(f + i), model[i]);
                model[i] = load8(speech_estimate + 8 * (long)(f + i)) + model[i];
            }
        } else {
            for (int k = 0; k < stride; k++) {
                const Lanes x = load8(h + 8 * (long)k);
                for (int i = 0; i < GROUP; i++) {
                    const float w = r[i][k];
                    model[i] = (Lanes){w, w, w, w, w, w, w, w} * x + model[i];
                }
            }
        }
        Lanes p[GROUP], q[GROUP];
        for (int i = 0; i < GROUP; i++) {
            const Lanes data = i < count ? load8(v + 8 * (long)(f + i)) : (Lanes){0};
            const Lanes m = model[i] + eps;
            if (beta == 1) {
                p[i] = data / m;
                q[i] = (Lanes){0};
            } else if (beta == 0) {
                const Lanes inverse = 1 / m;
                p[i] = data * inverse * inverse;
                q[i] = i < count ? inverse : (Lanes){0};
            } else {
                p[i] = (Lanes){0};
                q[i] = i < count ? m : (Lanes){0};
            }
        }
        const long partial = (long)((f / GROUP) & 3) * stride * 8;
        for (int which = 0; which < 2; which++) {
            if (which == 0 ? beta == 2 : beta == 1) continue;
            const Lanes *weights = which == 0 ? p : q;
            float *sums = (which == 0 ? numerator : denominator) + partial;
            for (int k = 0; k < stride; k++) {
                Lanes sum = load8(sums + 8 * (long)k);
                for (int i = 0; i < GROUP; i++) {
                    const float w = r[i][k];
                    sum = (Lanes){w, w, w, w, w, w, w, w} * weights[i] + sum;
                }
                store8(sums + 8 * (long)k, sum);
            }
        }
    }
}

/// Rows r ..< r + 8·V of y = M·x, each row's sum split over the columns by their residue modulo K
/// (V·K = 8 independent chains, enough to cover the multiply-add's latency), the K partial sums
/// then added pairwise.
#define BLOCK(V, K)                                                                                        \
    do {                                                                                                   \
        Lanes a[K][V] = {{{0}}};                                                                           \
        int c = 0;                                                                                         \
        for (; c + K <= columns; c += K) {                                                                 \
            for (int k = 0; k < K; k++) {                                                              \
                const float *column = m + (long)(c + k) * stride + r;                                      \
                const float xc = x[c + k];                                                                 \
                const Lanes b = {xc, xc, xc, xc, xc, xc, xc, xc};                                          \
                for (int i = 0; i < V; i++) a[k][i] = load8(column + 8 * i) * b + a[k][i];                 \
            }                                                                                              \
        }                                                                                                  \
        for (int k = 0; c < columns; c++, k++) {                                                           \
            const float *column = m + (long)c * stride + r;                                                \
            const float xc = x[c];                                                                         \
            const Lanes b = {xc, xc, xc, xc, xc, xc, xc, xc};                                              \
            for (int i = 0; i < V; i++) a[k][i] = load8(column + 8 * i) * b + a[k][i];                     \
        }                                                                                                  \
        for (int width = K / 2; width > 0; width /= 2)                                                     \
            for (int k = 0; k < width; k++)                                                                \
                for (int i = 0; i < V; i++) a[k][i] = a[k][i] + a[k + width][i];                           \
        for (int i = 0; i < V; i++) store8(y + r + 8 * i, a[0][i]);                                        \
    } while (0)

/// Rows r ..< `stride` of `multiply_columns` (fewer than 64): a block of 32, 16 or 8 rows with the
/// columns dealt into 2, 4 or 8 interleaved partial sums, so every block runs eight independent chains.
static inline __attribute__((always_inline)) void multiply_columns_rest(const float *m, int columns, int stride,
                                                                        int r, const float *x, float *y) {
    if (r + 32 <= stride) {
        BLOCK(4, 2);
        r += 32;
    }
    if (r + 16 <= stride) {
        BLOCK(2, 4);
        r += 16;
    }
    if (r < stride) BLOCK(1, 8);
}

/// y = M·x for M stored column by column (`columns` columns of `stride` floats, `stride` a multiple
/// of 8): rows in lanes, no horizontal sums. Sixty-four rows at a time with the columns in order,
/// then the rest (`multiply_columns_rest`).
static inline __attribute__((always_inline)) void multiply_columns(const float *m, int columns, int stride,
                                                                   const float *x, float *y) {
    int r = 0;
    for (; r + 64 <= stride; r += 64) BLOCK(8, 1);
    multiply_columns_rest(m, columns, stride, r, x, y);
}

/// Ŝ[f] = Σ W[f,k]·h[k] over the speech slots (k < `speech`) and N̂[f] over the rest, for f < `bins`:
/// four rows at a time, each sum in eight lanes added up at the end.
static inline __attribute__((always_inline)) void estimate(const float *rows, int bins, int stride, int speech,
                                                           const float *h, float *speech_estimate,
                                                           float *noise_estimate) {
    for (int f = 0; f < bins; f += 4) {
        const int count = bins - f < 4 ? bins - f : 4;
        const float *r[4];
        for (int i = 0; i < 4; i++) r[i] = rows + (long)(f + (i < count ? i : 0)) * stride;
        // Four rows' speech sums, then their noise sums: eight independent chains, speech and noise
        // slots side by side while both last (each sum still runs over its slots in order).
        Lanes a[8] = {{0}};
        const int noise = stride - speech, both = speech < noise ? speech : noise;
        for (int j = 0; j < both; j += 8) {
            const Lanes x = load8(h + j), y = load8(h + speech + j);
            for (int i = 0; i < 4; i++) {
                a[i] = load8(r[i] + j) * x + a[i];
                a[4 + i] = load8(r[i] + speech + j) * y + a[4 + i];
            }
        }
        for (int j = both; j < speech; j += 8) {
            const Lanes x = load8(h + j);
            for (int i = 0; i < 4; i++) a[i] = load8(r[i] + j) * x + a[i];
        }
        for (int j = both; j < noise; j += 8) {
            const Lanes y = load8(h + speech + j);
            for (int i = 0; i < 4; i++) a[4 + i] = load8(r[i] + speech + j) * y + a[4 + i];
        }
        const Lanes sums = sum8x8(a);
        for (int i = 0; i < count; i++) {
            speech_estimate[f + i] = sums[i];
            noise_estimate[f + i] = sums[4 + i];
        }
    }
}

/// `estimate` for up to eight streams at once, a stream in each lane: `h` is `stride` × 8 floats
/// (atom k's activations of the eight streams at 8·k), and bin f's Ŝ and N̂ of the eight streams go
/// to 8·f of `speech_estimate` and `noise_estimate`. Eight bins at a time, each sum over its slots
/// in order (one multiply-add per atom and bin for all streams, no horizontal sums).
static inline __attribute__((always_inline)) void estimate_lanes(const float *rows, int bins, int stride, int speech,
                                                                 const float *h, float *speech_estimate,
                                                                 float *noise_estimate) {
    for (int f = 0; f < bins; f += GROUP) {
        const int count = bins - f < GROUP ? bins - f : GROUP;
        const float *r[GROUP];
        for (int i = 0; i < GROUP; i++) r[i] = rows + (long)(f + (i < count ? i : 0)) * stride;
        for (int which = 0; which < 2; which++) {
            const int from = which == 0 ? 0 : speech, to = which == 0 ? speech : stride;
            float *out = which == 0 ? speech_estimate : noise_estimate;
            Lanes a[GROUP] = {{0}};
            for (int k = from; k < to; k++) {
                const Lanes x = load8(h + 8 * (long)k);
                for (int i = 0; i < GROUP; i++) {
                    const float w = r[i][k];
                    a[i] = (Lanes){w, w, w, w, w, w, w, w} * x + a[i];
                }
            }
            for (int i = 0; i < count; i++) store8(out + 8 * (long)(f + i), a[i]);
        }
    }
}

typedef int IntLanes __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) Lanes splat(float x) { return (Lanes){x, x, x, x, x, x, x, x}; }

/// e^x lane by lane, to about 2e-7 relative error for x in −87…88 (clamped outside): x = k·ln 2 + r
/// with |r| ≤ ½ ln 2, e^r by its degree-7 Taylor polynomial, 2^k from the exponent bits. k is
/// x/ln 2 rounded to nearest by adding and subtracting 1.5·2²³ (the sum's low mantissa bits are
/// then k + 2²²).
static inline __attribute__((always_inline)) Lanes fast_exp(Lanes x) {
    x = __builtin_elementwise_max(__builtin_elementwise_min(x, splat(88)), splat(-87));
    const Lanes shifter = splat(12582912.0f);   // 1.5·2²³
    const Lanes shifted = x * splat(1.44269504f) + shifter;
    const Lanes kf = shifted - shifter;
    const IntLanes k = ((IntLanes)shifted & 0x007FFFFF) - 0x00400000;
    const Lanes r = (x - kf * splat(0.693145752f)) - kf * splat(1.4286068e-6f);   // ln 2, split for accuracy
    Lanes p = splat(1.0f / 5040);
    p = p * r + splat(1.0f / 720);
    p = p * r + splat(1.0f / 120);
    p = p * r + splat(1.0f / 24);
    p = p * r + splat(1.0f / 6);
    p = p * r + splat(0.5f);
    p = p * r + splat(1);
    p = p * r + splat(1);
    return p * (Lanes)((k + 127) << 23);
}

/// 1/(1 + e^−x) lane by lane.
static inline __attribute__((always_inline)) Lanes fast_sigmoid(Lanes x) { return splat(1) / (splat(1) + fast_exp(-x)); }

/// tanh x = 2·σ(2x) − 1 lane by lane (absolute error below 1e-6).
static inline __attribute__((always_inline)) Lanes fast_tanh(Lanes x) {
    return splat(2) / (splat(1) + fast_exp(splat(-2) * x)) - splat(1);
}

/// x[j] ← tanh(x[j] + bias[j]) for j < `count` (a multiple of 8): the input layer's units.
static inline __attribute__((always_inline)) void add_bias_tanh(float *x, const float *bias, int count) {
    for (int j = 0; j < count; j += 8) store8(x + j, fast_tanh(load8(x + j) + load8(bias + j)));
}

/// x[j] ← σ(x[j] + bias[j]) for j < `count` (a multiple of 8): the band gains.
static inline __attribute__((always_inline)) void add_bias_sigmoid(float *x, const float *bias, int count) {
    for (int j = 0; j < count; j += 8) store8(x + j, fast_sigmoid(load8(x + j) + load8(bias + j)));
}

/// The GRU's update of `hidden` (`stride` floats) from the gates' inputs W·x (`xi`) and W·h (`xh`),
/// 3 × `stride` floats each (reset, update, candidate), and their biases. Padding rows: r = z = ½,
/// n = 0, so the hidden state's padding stays 0.
static inline __attribute__((always_inline)) void gru_update(const SordinoGainNetwork *n, const float *xi,
                                                             const float *xh, float *hidden) {
    const int stride = n->hidden_stride;
    const float *bi = n->gru_input_bias, *bh = n->gru_recurrent_bias;
    for (int j = 0; j < stride; j += 8) {
        const int z0 = stride + j, n0 = 2 * stride + j;
        const Lanes r = fast_sigmoid(load8(xi + j) + load8(bi + j) + (load8(xh + j) + load8(bh + j)));
        const Lanes z = fast_sigmoid(load8(xi + z0) + load8(bi + z0) + (load8(xh + z0) + load8(bh + z0)));
        const Lanes c = fast_tanh(load8(xi + n0) + load8(bi + n0) + r * (load8(xh + n0) + load8(bh + n0)));
        store8(hidden + j, (splat(1) - z) * c + z * load8(hidden + j));
    }
}

/// The body of `gain_step` with `MULTIPLY` as y = M·x (its arguments those of `multiply_columns`):
/// a macro so that each build inlines its own products.
#define GAIN_STEP(MULTIPLY)                                                                                   \
    {                                                                                                         \
        for (int i = 0; i < n->features; i++) n->normalised[i] = (features[i] - n->mean[i]) * n->scale[i];    \
        MULTIPLY(n->input_weights, n->features, n->input_stride, n->normalised, n->units);                    \
        add_bias_tanh(n->units, n->input_bias, n->input_stride);                                              \
        const int gates = 3 * n->hidden_stride;                                                               \
        MULTIPLY(n->gru_input_weights, n->input_units, gates, n->units, n->from_input);                       \
        MULTIPLY(n->gru_recurrent_weights, n->hidden_units, gates, hidden, n->from_hidden);                   \
        gru_update(n, n->from_input, n->from_hidden, hidden);                                                 \
        MULTIPLY(n->output_weights, n->hidden_units, n->band_stride, hidden, n->output);                      \
        add_bias_sigmoid(n->output, n->output_bias, n->band_stride);                                          \
    }

static inline __attribute__((always_inline)) void gain_step(const SordinoGainNetwork *n, const float *features,
                                                            float *hidden) GAIN_STEP(multiply_columns)

/// y[s] = M·x[s] for the `n` (1…4, a constant where inlined) streams of `x` and `y`: sixteen rows at
/// a time, each pair of weight vectors loaded once for the n streams (2n independent chains; each
/// row's sum runs over the columns in order), then eight rows if `stride` leaves them.
static inline __attribute__((always_inline)) void multiply_columns_group(const float *m, int columns, int stride,
                                                                         int n, const float *const *x,
                                                                         float *const *y) {
    int r = 0;
    for (; r + 16 <= stride; r += 16) {
        Lanes a[4][2] = {{{0}}};
        for (int c = 0; c < columns; c++) {
            const float *column = m + (long)c * stride + r;
            const Lanes w0 = load8(column), w1 = load8(column + 8);
            for (int i = 0; i < n; i++) {
                const Lanes b = splat(x[i][c]);
                a[i][0] = w0 * b + a[i][0];
                a[i][1] = w1 * b + a[i][1];
            }
        }
        for (int i = 0; i < n; i++) {
            store8(y[i] + r, a[i][0]);
            store8(y[i] + r + 8, a[i][1]);
        }
    }
    if (r < stride) {   // eight rows left (`stride` is a multiple of 8)
        Lanes a[4] = {{0}};
        for (int c = 0; c < columns; c++) {
            const Lanes w = load8(m + (long)c * stride + r);
            for (int i = 0; i < n; i++) a[i] = w * splat(x[i][c]) + a[i];
        }
        for (int i = 0; i < n; i++) store8(y[i] + r, a[i]);
    }
}

/// y[s] = M·x[s] for `count` streams (M stored as `multiply_columns` takes it, each x[s] `columns`
/// floats, each y[s] `stride`): four streams at a time (the last group of one to four built for its
/// size), so each weight vector loaded serves every stream of its group.
static inline __attribute__((always_inline)) void multiply_columns_streams(const float *m, int columns, int stride,
                                                                           int count, const float *const *x,
                                                                           float *const *y) {
    for (int first = 0; first < count; first += 4) {
        const float *const *xs = x + first;
        float *const *ys = y + first;
        switch (count - first < 4 ? count - first : 4) {
        case 1: multiply_columns_group(m, columns, stride, 1, xs, ys); break;
        case 2: multiply_columns_group(m, columns, stride, 2, xs, ys); break;
        case 3: multiply_columns_group(m, columns, stride, 3, xs, ys); break;
        default: multiply_columns_group(m, columns, stride, 4, xs, ys); break;
        }
    }
}

/// The body of `gain_step` for `count` ≤ 8 streams at once with `MULTIPLY` as y[s] = M·x[s] (its
/// arguments those of `multiply_columns_streams`), with scratch of its own per stream in
/// `network->stream_scratch`: each stream's arithmetic is that of its own step up to the order of
/// the products' sums. A macro so that each build inlines its own products.
#define GAIN_STEP_STREAMS(MULTIPLY)                                                                              \
    {                                                                                                            \
        const int gates = 3 * n->hidden_stride;                                                                  \
        const long each = (long)n->features + n->input_stride + 2 * gates + n->band_stride;                      \
        const float *normalised[8], *units[8], *state[8];                                                        \
        float *normalised_out[8], *units_out[8], *from_input[8], *from_hidden[8], *output[8];                    \
        for (int s = 0; s < count; s++) {                                                                        \
            float *scratch = n->stream_scratch + s * each;                                                       \
            normalised_out[s] = scratch;                                                                         \
            units_out[s] = scratch + n->features;                                                                \
            from_input[s] = units_out[s] + n->input_stride;                                                      \
            from_hidden[s] = from_input[s] + gates;                                                              \
            output[s] = from_hidden[s] + gates;                                                                  \
            normalised[s] = normalised_out[s];                                                                   \
            units[s] = units_out[s];                                                                             \
            state[s] = hidden[s];                                                                                \
            for (int i = 0; i < n->features; i++)                                                                \
                normalised_out[s][i] = (features[s][i] - n->mean[i]) * n->scale[i];                              \
        }                                                                                                        \
        MULTIPLY(n->input_weights, n->features, n->input_stride, count, normalised, units_out);                  \
        for (int s = 0; s < count; s++) add_bias_tanh(units_out[s], n->input_bias, n->input_stride);             \
        MULTIPLY(n->gru_input_weights, n->input_units, gates, count, units, from_input);                         \
        MULTIPLY(n->gru_recurrent_weights, n->hidden_units, gates, count, state, from_hidden);                   \
        for (int s = 0; s < count; s++) gru_update(n, from_input[s], from_hidden[s], hidden[s]);                 \
        MULTIPLY(n->output_weights, n->hidden_units, n->band_stride, count, state, output);                      \
        for (int s = 0; s < count; s++) {                                                                        \
            add_bias_sigmoid(output[s], n->output_bias, n->band_stride);                                         \
            for (int b = 0; b < n->band_count; b++) gains[s][b] = output[s][b];                                  \
        }                                                                                                        \
    }

/// `gain_step` for `count` ≤ 8 streams at once, each weight loaded once for four of them.
static inline __attribute__((always_inline)) void gain_step_streams(const SordinoGainNetwork *n, int count,
                                                                    const float *const *features,
                                                                    float *const *hidden, float *const *gains)
    GAIN_STEP_STREAMS(multiply_columns_streams)

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

/// One step of the online noise atoms (`NoiseAdaptation.adapt`), with exactly its arithmetic (no
/// multiply-add is fused here, so both builds give its results bit for bit): for each group g of
/// eight slots from `first_lane`, A ← γ·A + (1/n)·Σ_s (w·h_s)·r_s[f] bin by bin (n = `streams`;
/// the factor left out for one) and Σ_f A in the lanes, then w ← A / Σ_f A in the lanes of slots
/// `first_slot ..< first_slot + count` whose sum is positive; each group's new Σ_f w into `sums`.
static inline __attribute__((always_inline)) void adapt_atoms(float *rows, int bins, int stride, int first_lane,
                                                              int groups, int first_slot, int count,
                                                              float *numerators, int numerator_stride, int streams,
                                                              const float *const *h, const float *const *ratios,
                                                              float gamma, float *sums) {
#pragma clang fp contract(off)
    const Lanes share = splat(1 / (float)streams), forget = splat(gamma), zero = {0};
    for (int g = 0; g < groups; g++) {
        const int base = first_lane + 8 * g;
        float *a = numerators + (long)g * numerator_stride * 8;
        IntLanes adaptive;
        for (int lane = 0; lane < 8; lane++)
            adaptive[lane] = base + lane >= first_slot && base + lane < first_slot + count ? -1 : 0;
        Lanes total = zero;
        for (int f = 0; f < bins; f++) {
            const Lanes row = load8(rows + (long)f * stride + base);
            Lanes heard = zero;
            for (int s = 0; s < streams; s++) heard = heard + row * load8(h[s] + base) * splat(ratios[s][f]);
            const Lanes numerator = forget * load8(a + 8 * f) + (streams == 1 ? heard : heard * share);
            store8(a + 8 * f, numerator);
            total = total + numerator;
        }
        const IntLanes renew = adaptive & (total > zero);
        const Lanes scale = splat(1) / total;
        Lanes new_sums = zero;
        for (int f = 0; f < bins; f++) {
            float *row = rows + (long)f * stride + base;
            const IntLanes kept = (IntLanes)load8(row), renewed = (IntLanes)(load8(a + 8 * f) * scale);
            const Lanes atom = (Lanes)((renewed & renew) | (kept & ~renew));
            store8(row, atom);
            new_sums = new_sums + atom;
        }
        store8(sums + 8 * g, new_sums);
    }
}

/// x[i][j] ↔ x[j][i]: eight rows of eight floats turned into eight columns (pairs of lanes
/// interleaved, then pairs of pairs, then halves swapped: 24 shuffles).
static inline __attribute__((always_inline)) void transpose8x8(Lanes x[8]) {
    Lanes t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = __builtin_shufflevector(x[i], x[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[i + 1] = __builtin_shufflevector(x[i], x[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = __builtin_shufflevector(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        u[i + 1] = __builtin_shufflevector(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        u[i + 2] = __builtin_shufflevector(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        u[i + 3] = __builtin_shufflevector(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int i = 0; i < 4; i++) {
        x[i] = __builtin_shufflevector(u[i], u[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        x[i + 4] = __builtin_shufflevector(u[i], u[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

/// lanes[8·i + l] = columns[l][i] for i < count, l < 8; 0 where columns[l] is NULL.
static inline __attribute__((always_inline)) void to_lanes(float *const *columns, int count, float *lanes) {
    int i = 0;
    for (; i + 8 <= count; i += 8) {
        Lanes x[8];
        for (int l = 0; l < 8; l++) x[l] = columns[l] ? load8(columns[l] + i) : (Lanes){0};
        transpose8x8(x);
        for (int j = 0; j < 8; j++) store8(lanes + 8 * (long)(i + j), x[j]);
    }
    for (; i < count; i++)
        for (int l = 0; l < 8; l++) lanes[8 * (long)i + l] = columns[l] ? columns[l][i] : 0;
}

/// columns[l][i] = lanes[lane_stride·i + l] for i < count and each l < 8 whose column is not NULL.
static inline __attribute__((always_inline)) void from_lanes(const float *lanes, int lane_stride, int count,
                                                             float *const *columns) {
    int i = 0;
    for (; i + 8 <= count; i += 8) {
        Lanes x[8];
        for (int j = 0; j < 8; j++) x[j] = load8(lanes + lane_stride * (long)(i + j));
        transpose8x8(x);
        for (int l = 0; l < 8; l++)
            if (columns[l]) store8(columns[l] + i, x[l]);
    }
    for (; i < count; i++)
        for (int l = 0; l < 8; l++)
            if (columns[l]) columns[l][i] = lanes[lane_stride * (long)i + l];
}

// Each kernel body above is built twice: NAME_baseline for any CPU of the architecture and, on
// x86-64, NAME_fused for AVX2 with FMA (the same body: every `a * b + c` contracts to a fused
// multiply-add there); `CHOSEN(NAME)` is the one for this CPU.
#if defined(__x86_64__)
#define FUSED_BUILD(type, name, parameters, ...) \
    __attribute__((target("avx2,fma"))) static type name##_fused parameters __VA_ARGS__

/// True when this CPU runs the AVX2 + FMA builds.
static int cpu_fuses(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

#define CHOSEN(name) (cpu_fuses() ? name##_fused : name##_baseline)
#else
#define FUSED_BUILD(type, name, parameters, ...)
#define CHOSEN(name) (name##_baseline)
#endif

#define BOTH_BUILDS(type, name, parameters, ...)            \
    static type name##_baseline parameters __VA_ARGS__       \
    FUSED_BUILD(type, name, parameters, __VA_ARGS__)

// The passes are built twice more inside each build: with the estimates (`split`) and without;
// and each of those once more for W's rows of `SHIPPED_STRIDE` floats, the shipped presets' 128
// atoms and 8 online ones, a constant there: a group's eight rows are then one address and fixed
// offsets, not eight pointers (the same arithmetic; a speech-16k pass a tenth faster measured alone).
#define SHIPPED_STRIDE 136
#define PASS_SPLIT(name, stride)                                                                          \
    if (speech_estimate)                                                                                  \
        name(rows, first, end, stride, h, v, epsilon, beta, numerator, denominator, speech,               \
             speech_estimate, noise_estimate, 1);                                                         \
    else                                                                                                  \
        name(rows, first, end, stride, h, v, epsilon, beta, numerator, denominator, 0, 0, 0, 0);
#define PASS_SIGNATURE                                                                                    \
    (const float *rows, int first, int end, int stride, const float *h, const float *v, float epsilon, int beta, \
     float *numerator, float *denominator, int speech, float *speech_estimate, float *noise_estimate)
#define PASS_BODY(name)                                                                                   \
    {                                                                                                     \
        if (stride == SHIPPED_STRIDE) {                                                                   \
            PASS_SPLIT(name, SHIPPED_STRIDE)                                                              \
        } else {                                                                                          \
            PASS_SPLIT(name, stride)                                                                      \
        }                                                                                                 \
    }
#define PASS_BUILDS(name) BOTH_BUILDS(void, name, PASS_SIGNATURE, PASS_BODY(name))
PASS_BUILDS(pass)
PASS_BUILDS(pass_lanes)
#if defined(__x86_64__)
/// `pass` with Wᵀ·P and Wᵀ·Q sixteen floats a step (`add_rows16`), for CPUs with AVX-512F: bit for
/// bit the fused build's output, the multiply-adds of the accumulation in half as many instructions.
__attribute__((target("avx512f,avx2,fma"))) static void pass16_wide PASS_SIGNATURE PASS_BODY(pass16)
#endif
#undef PASS_BUILDS
#undef PASS_BODY
#undef PASS_SIGNATURE
#undef PASS_SPLIT
BOTH_BUILDS(float, peak, (long steps), { return peak(steps); })
BOTH_BUILDS(void, estimate, (const float *rows, int bins, int stride, int speech, const float *h,
                             float *speech_estimate, float *noise_estimate),
            { estimate(rows, bins, stride, speech, h, speech_estimate, noise_estimate); })
BOTH_BUILDS(void, estimate_lanes, (const float *rows, int bins, int stride, int speech, const float *h,
                                   float *speech_estimate, float *noise_estimate),
            { estimate_lanes(rows, bins, stride, speech, h, speech_estimate, noise_estimate); })
BOTH_BUILDS(void, gain_step, (const SordinoGainNetwork *network, const float *features, float *hidden),
            { gain_step(network, features, hidden); })
BOTH_BUILDS(void, adapt_atoms, (float *rows, int bins, int stride, int first_lane, int groups, int first_slot,
                                int count, float *numerators, int numerator_stride, int streams,
                                const float *const *h, const float *const *ratios, float gamma, float *sums),
            { adapt_atoms(rows, bins, stride, first_lane, groups, first_slot, count, numerators, numerator_stride,
                          streams, h, ratios, gamma, sums); })
BOTH_BUILDS(void, gain_step_streams, (const SordinoGainNetwork *network, int count, const float *const *features,
                                      float *const *hidden, float *const *gains),
            { gain_step_streams(network, count, features, hidden, gains); })

/// x[i] ← √x[i]: a loop the compiler vectorises (correctly rounded in both builds, so they agree
/// bit for bit).
static inline __attribute__((always_inline)) void square_root(float *x, int count) {
    for (int i = 0; i < count; i++) x[i] = __builtin_sqrtf(x[i]);
}

BOTH_BUILDS(void, square_root, (float *x, int count), { square_root(x, count); })

BOTH_BUILDS(void, to_lanes, (float *const *columns, int count, float *lanes),
            { to_lanes(columns, count, lanes); })
BOTH_BUILDS(void, from_lanes, (const float *lanes, int lane_stride, int count, float *const *columns),
            { from_lanes(lanes, lane_stride, count, columns); })

#if defined(__x86_64__)
#include <immintrin.h>

#define WIDE __attribute__((target("avx512f,avx2,fma")))

/// True when this CPU runs the sixteen-float builds (AVX-512F beside AVX2 and FMA).
static int cpu_is_wide(void) { return cpu_fuses() && __builtin_cpu_supports("avx512f"); }

/// Bins f0 ..< f0 + 16 of a spectrum (`v` NULL: an absent stream, zeros), zeros past `bins`.
WIDE static inline __attribute__((always_inline)) __m512 load_bins(const float *v, int f0, __mmask16 in_band) {
    return v ? _mm512_maskz_loadu_ps(in_band, v + f0) : _mm512_setzero_ps();
}

/// y[s] (+)= M·x[s] for eight streams, M stored column by column (`columns` columns of `stride`
/// floats, `stride` a multiple of 8, rows contiguous): sixteen rows to a vector, each column's
/// weight of stream s broadcast from x[s][c]; 32 rows at a time (sixteen chains, each column's 32
/// rows read once for both halves: a tenth faster than 16 at a time in the solver's pass, measured
/// alone), then 16 or 8 with masked loads; each row's sum over the columns in order. The sums are
/// added to y[s] (`accumulate`) or stored there; a NULL y[s] gets nothing.
WIDE static inline __attribute__((always_inline)) void columns_times_streams(const float *m, int stride, int columns,
                                                                           const float *const *x, float *const *y,
                                                                           int accumulate) {
    int r = 0;
    for (; r + 32 <= stride; r += 32) {
        __m512 sum[8], more[8];
        for (int s = 0; s < 8; s++) sum[s] = more[s] = _mm512_setzero_ps();
        for (int c = 0; c < columns; c++) {
            const float *column = m + (long)c * stride + r;
            const __m512 w = _mm512_loadu_ps(column), v = _mm512_loadu_ps(column + 16);
            for (int s = 0; s < 8; s++) {
                const __m512 weight = _mm512_set1_ps(x[s][c]);
                sum[s] = _mm512_fmadd_ps(w, weight, sum[s]);
                more[s] = _mm512_fmadd_ps(v, weight, more[s]);
            }
        }
        for (int s = 0; s < 8; s++) {
            if (!y[s]) continue;
            if (accumulate) {
                sum[s] = _mm512_add_ps(_mm512_loadu_ps(y[s] + r), sum[s]);
                more[s] = _mm512_add_ps(_mm512_loadu_ps(y[s] + r + 16), more[s]);
            }
            _mm512_storeu_ps(y[s] + r, sum[s]);
            _mm512_storeu_ps(y[s] + r + 16, more[s]);
        }
    }
    for (; r < stride; r += 16) {
        const __mmask16 rows = stride - r >= 16 ? (__mmask16)0xFFFF : (__mmask16)0x00FF;
        __m512 sum[8];
        for (int s = 0; s < 8; s++) sum[s] = _mm512_setzero_ps();
        for (int c = 0; c < columns; c++) {
            const __m512 w = _mm512_maskz_loadu_ps(rows, m + (long)c * stride + r);
            for (int s = 0; s < 8; s++) sum[s] = _mm512_fmadd_ps(w, _mm512_set1_ps(x[s][c]), sum[s]);
        }
        for (int s = 0; s < 8; s++) {
            if (!y[s]) continue;
            if (accumulate) sum[s] = _mm512_add_ps(_mm512_maskz_loadu_ps(rows, y[s] + r), sum[s]);
            _mm512_mask_storeu_ps(y[s] + r, rows, sum[s]);
        }
    }
}

/// Λ = W·h of `groups` (1 or 2) groups of sixteen bins for eight streams, atoms `first ..< end`,
/// added to `model[g]`: bins sixteen to a vector (Wᵀ's columns), each stream's activation broadcast
/// once for both groups (a tenth faster than a group at a time, measured alone: the broadcasts'
/// loads, one per multiply-add, bounded it; each sum is the same, over the atoms in order).
#define COLUMNS_TIMES_H(first, end)                                                                       \
    for (int k = (first); k < (end); k++) {                                                               \
        const float *column = columns + (long)k * column_stride + f0;                                     \
        const __m512 w0 = _mm512_loadu_ps(column);                                                        \
        if (groups == 2) {                                                                                \
            const __m512 w1 = _mm512_loadu_ps(column + 16);                                               \
            for (int s = 0; s < 8; s++) {                                                                 \
                const __m512 b = _mm512_set1_ps(h[8 * k + s]);                                            \
                model[0][s] = _mm512_fmadd_ps(w0, b, model[0][s]);                                        \
                model[1][s] = _mm512_fmadd_ps(w1, b, model[1][s]);                                        \
            }                                                                                             \
        } else {                                                                                          \
            for (int s = 0; s < 8; s++) model[0][s] = _mm512_fmadd_ps(w0, _mm512_set1_ps(h[8 * k + s]), model[0][s]); \
        }                                                                                                 \
    }

/// `SordinoWidePass`: the pass of eight streams with sixteen-float vectors, two groups of sixteen
/// bins at a time for Λ, then each group's P, Q and Wᵀ·P, Wᵀ·Q in turn.
WIDE static inline __attribute__((always_inline)) void pass_wide_groups(
    const float *columns, int column_stride, const float *rows, int stride, int bins, const float *h, float *const *v,
    float epsilon, int beta, float *const *numerator, float *const *denominator, int speech,
    float *const *speech_estimate, float *const *noise_estimate, int f0, const int groups, const float *const *p_weights,
    const float *const *q_weights, float (*weights)[8 * 16]) {
    __mmask16 in_band[2];
    for (int g = 0; g < groups; g++) {
        const int count = bins - (f0 + 16 * g) < 16 ? bins - (f0 + 16 * g) : 16;
        in_band[g] = count == 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << count) - 1);
    }
    __m512 model[2][8];
    for (int g = 0; g < 2; g++)
        for (int s = 0; s < 8; s++) model[g][s] = _mm512_setzero_ps();
    if (speech_estimate) {   // the speech slots' sums, then the noise slots'
        COLUMNS_TIMES_H(0, speech)
        __m512 speech_sums[2][8];
        for (int g = 0; g < groups; g++) {
            for (int s = 0; s < 8; s++) {
                speech_sums[g][s] = model[g][s];
                if (speech_estimate[s]) _mm512_mask_storeu_ps(speech_estimate[s] + f0 + 16 * g, in_band[g], model[g][s]);
                model[g][s] = _mm512_setzero_ps();
            }
        }
        COLUMNS_TIMES_H(speech, stride)
        for (int g = 0; g < groups; g++) {
            for (int s = 0; s < 8; s++) {
                if (noise_estimate[s]) _mm512_mask_storeu_ps(noise_estimate[s] + f0 + 16 * g, in_band[g], model[g][s]);
                model[g][s] = _mm512_add_ps(speech_sums[g][s], model[g][s]);
            }
        }
    } else {
        COLUMNS_TIMES_H(0, stride)
    }
    const __m512 eps = _mm512_set1_ps(epsilon);
    for (int g = 0; g < groups; g++) {
        const int first = f0 + 16 * g, count = bins - first < 16 ? bins - first : 16;
        for (int s = 0; s < 8; s++) {
            const __m512 m = _mm512_add_ps(model[g][s], eps), data = load_bins(v[s], first, in_band[g]);
            __m512 p = _mm512_setzero_ps(), q = _mm512_setzero_ps();
            if (beta == 1) {
                p = _mm512_div_ps(data, m);
            } else if (beta == 0) {
                const __m512 inverse = _mm512_div_ps(_mm512_set1_ps(1), m);
                p = _mm512_mul_ps(_mm512_mul_ps(data, inverse), inverse);
                q = _mm512_maskz_mov_ps(in_band[g], inverse);
            } else {
                q = _mm512_maskz_mov_ps(in_band[g], m);
            }
            _mm512_store_ps(weights[0] + 16 * s, p);
            _mm512_store_ps(weights[1] + 16 * s, q);
        }
        // Wᵀ·P and Wᵀ·Q: the group's rows of W are the columns of Wᵀ's block.
        const float *group_rows = rows + (long)first * stride;
        if (beta != 2) columns_times_streams(group_rows, stride, count, p_weights, numerator, 1);
        if (beta != 1) columns_times_streams(group_rows, stride, count, q_weights, denominator, 1);
    }
}
#undef COLUMNS_TIMES_H

WIDE static void pass_wide(const float *columns, int column_stride, const float *rows, int stride, int bins,
                           const float *h, float *const *v, float epsilon, int beta,
                           float *const *numerator, float *const *denominator, int speech,
                           float *const *speech_estimate, float *const *noise_estimate) {
    float weights[2][8 * 16] __attribute__((aligned(64)));   // P and Q of a group's bins, stream by stream
    const float *p_weights[8], *q_weights[8];   // each stream's P and Q in `weights`
    for (int s = 0; s < 8; s++) {
        p_weights[s] = weights[0] + 16 * s;
        q_weights[s] = weights[1] + 16 * s;
    }
    int f0 = 0;
    for (; f0 + 16 < bins; f0 += 32)
        pass_wide_groups(columns, column_stride, rows, stride, bins, h, v, epsilon, beta, numerator, denominator,
                         speech, speech_estimate, noise_estimate, f0, 2, p_weights, q_weights, weights);
    if (f0 < bins)
        pass_wide_groups(columns, column_stride, rows, stride, bins, h, v, epsilon, beta, numerator, denominator,
                         speech, speech_estimate, noise_estimate, f0, 1, p_weights, q_weights, weights);
}

/// y[s] = M·x[s] for `count` streams as `multiply_columns_streams` computes them (each row's sum
/// over the columns in order, fused: the same results bit for bit), eight streams at once with
/// `columns_times_streams`; fewer streams go to `multiply_columns_streams`.
WIDE static inline __attribute__((always_inline)) void multiply_columns_streams_wide(const float *m, int columns,
                                                                                   int stride, int count,
                                                                                   const float *const *x,
                                                                                   float *const *y) {
    if (count != 8) return multiply_columns_streams(m, columns, stride, count, x, y);
    columns_times_streams(m, stride, columns, x, y, 0);
}

static inline __attribute__((always_inline)) Lanes16 load16(const float *p) {
    Lanes16 x;
    __builtin_memcpy(&x, p, sizeof x);
    return x;
}

static inline __attribute__((always_inline)) void store16(float *p, Lanes16 x) { __builtin_memcpy(p, &x, sizeof x); }

/// Rows r ..< r + 16·V of y = M·x sixteen floats to a vector: `BLOCK(·, 1)`'s arithmetic lane for
/// lane (each row's sum over the columns in order, one multiply-add a column).
#define BLOCK16(V)                                                                                         \
    do {                                                                                                   \
        Lanes16 a[V] = {{0}};                                                                              \
        for (int c = 0; c < columns; c++) {                                                                \
            const float *column = m + (long)c * stride + r;                                                \
            Lanes16 b;                                                                                     \
            for (int l = 0; l < 16; l++) b[l] = x[c];                                                      \
            for (int i = 0; i < V; i++) a[i] = load16(column + 16 * i) * b + a[i];                         \
        }                                                                                                  \
        for (int i = 0; i < V; i++) store16(y + r + 16 * i, a[i]);                                         \
    } while (0)

/// Column c of `BLOCK(4, 2)` (rows r ..< r + 32, two partial sums) and of `BLOCK(2, 4)` (the next
/// 16 rows, four partial sums), sixteen rows to a vector: column c goes to partial sum c mod K, as
/// there.
#define TWO_AND_FOUR_COLUMN(c)                                                                             \
    do {                                                                                                   \
        const float *column = m + (long)(c) * stride + r;                                                  \
        Lanes16 b;                                                                                         \
        for (int l = 0; l < 16; l++) b[l] = x[c];                                                          \
        two[(c) & 1][0] = load16(column) * b + two[(c) & 1][0];                                            \
        two[(c) & 1][1] = load16(column + 16) * b + two[(c) & 1][1];                                       \
        four[(c) & 3] = load16(column + 32) * b + four[(c) & 3];                                           \
    } while (0)

/// `multiply_columns` sixteen floats to a vector (generic vectors: one register each where the
/// function it is inlined into targets AVX-512F): the same rows in the same blocks with the same
/// partial sums, so every row of y is bit for bit the fused build's. The rows summed in one chain
/// go 192, 128 or 64 at a time (12, 8 or 4 chains of sixteen instead of 8 of eight); a block of 32
/// rows with two partial sums and the 16 after it with four run in one loop (eight chains); the
/// rest as there.
static inline __attribute__((always_inline)) void multiply_columns16(const float *m, int columns, int stride,
                                                                     const float *x, float *y) {
    const int whole = stride / 64 * 64;
    int r = 0;
    for (; r + 192 <= whole; r += 192) BLOCK16(12);
    if (r + 128 <= whole) {
        BLOCK16(8);
        r += 128;
    }
    if (r < whole) {
        BLOCK16(4);
        r += 64;
    }
    if (stride - r >= 48) {
        Lanes16 two[2][2] = {{{0}}}, four[4] = {{0}};
        int c = 0;
        for (; c + 4 <= columns; c += 4) {
            TWO_AND_FOUR_COLUMN(c);
            TWO_AND_FOUR_COLUMN(c + 1);
            TWO_AND_FOUR_COLUMN(c + 2);
            TWO_AND_FOUR_COLUMN(c + 3);
        }
        for (; c < columns; c++) TWO_AND_FOUR_COLUMN(c);
        for (int i = 0; i < 2; i++) store16(y + r + 16 * i, two[0][i] + two[1][i]);
        store16(y + r + 32, (four[0] + four[2]) + (four[1] + four[3]));
        r += 48;
    }
    multiply_columns_rest(m, columns, stride, r, x, y);
}
#undef TWO_AND_FOUR_COLUMN
#undef BLOCK16

/// `gain_step` with `multiply_columns16`'s products: bit for bit the fused build's step.
WIDE static void gain_step_wide(const SordinoGainNetwork *n, const float *features, float *hidden)
    GAIN_STEP(multiply_columns16)

/// `gain_step_streams` with `multiply_columns_streams_wide`'s products.
WIDE static void gain_step_streams_wide(const SordinoGainNetwork *n, int count, const float *const *features,
                                        float *const *hidden, float *const *gains)
    GAIN_STEP_STREAMS(multiply_columns_streams_wide)
#undef GAIN_STEP_STREAMS

// The pass row by row for one stream (AVX-512F): h and the sums of Wᵀ·P and Wᵀ·Q held in
// registers for the whole pass, each row of W loaded once into registers and used for both
// products. The pass of eight-row groups above reads every row twice from the first level cache
// (for W·h, then for Wᵀ·P), and those loads, not the multiply-adds, bound it: a speech-16k pass
// took 1.36 µs against 1.00 µs this way, measured alone on the AMD EPYC of docs/PERFORMANCE.md.
// It needs rows of at most `ROW_VECTORS` sixteen-float vectors and the speech slots a whole number
// of them (`rows_fit`); its sums run in another order than the eight-row pass's (rounding apart,
// the same).

/// Sixteen-float vectors a row may have: strides up to 192 floats (the shipped presets' 136, and
/// with learn-noise's 32 atoms 168). Beyond nine, h no longer stays in registers beside the row and
/// the sums: the compiler reads it from L1 each row, still a sixth faster than the eight-row pass at
/// 192 floats, measured alone.
#define ROW_VECTORS 12

/// Whether rows of `stride` floats with `speech` speech slots suit the row-by-row kernels.
static inline int rows_fit(int stride, int speech) { return stride <= 16 * ROW_VECTORS && speech % 16 == 0; }

/// Lanes of vector j of a row of `stride` floats that lie in it.
WIDE static inline __attribute__((always_inline)) __mmask16 row_mask(int j, int stride) {
    const int rest = stride - 16 * j;
    return rest >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rest) - 1);
}

/// A row's Ŝ and N̂ (its vectors below `speech_vectors`, then the rest) against h in `hv`: each sum
/// in two chains (even and odd vectors), added, then across the lanes. The arithmetic of both the
/// row pass's estimates and `estimate_rows`, so that they agree bit for bit. `nz` must be a
/// constant where inlined: the loop is unrolled so that the chains stay in registers (with a
/// chain chosen at run time they went to the stack and the kernel ran at half speed).
WIDE static inline __attribute__((always_inline)) void row_estimates(const __m512 *w, const __m512 *hv, const int nz,
                                                                    const int speech_vectors, float *speech,
                                                                    float *noise) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), n0 = _mm512_setzero_ps(), n1 = _mm512_setzero_ps();
#pragma clang loop unroll(full)
    for (int j = 0; j < nz; j++) {
        if (j < speech_vectors) {
            if (j & 1) s1 = _mm512_fmadd_ps(w[j], hv[j], s1); else s0 = _mm512_fmadd_ps(w[j], hv[j], s0);
        } else {
            if (j & 1) n1 = _mm512_fmadd_ps(w[j], hv[j], n1); else n0 = _mm512_fmadd_ps(w[j], hv[j], n0);
        }
    }
    *speech = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
    *noise = _mm512_reduce_add_ps(_mm512_add_ps(n0, n1));
}

/// The pass over rows `first ..< end` as `SordinoSolverPass` describes it, with `nz` vectors a row
/// and `beta` constants where inlined; Wᵀ·P and Wᵀ·Q go to the first partial sum.
WIDE static inline __attribute__((always_inline)) void pass_rows(const float *rows, int first, int end, int stride,
                                                                const float *h, const float *v, float epsilon,
                                                                const int beta, float *numerator, float *denominator,
                                                                int speech, float *speech_estimate,
                                                                float *noise_estimate, const int nz) {
    __m512 hv[ROW_VECTORS], p_sums[ROW_VECTORS], q_sums[ROW_VECTORS];
    for (int j = 0; j < nz; j++) {
        hv[j] = _mm512_maskz_loadu_ps(row_mask(j, stride), h + 16 * j);
        p_sums[j] = q_sums[j] = _mm512_setzero_ps();
    }
    for (int f = first; f < end; f++) {
        const float *r = rows + (long)f * stride;
        __m512 w[ROW_VECTORS];
#pragma clang loop unroll(full)
        for (int j = 0; j < nz; j++) w[j] = _mm512_maskz_loadu_ps(row_mask(j, stride), r + 16 * j);
        float model;
        if (speech_estimate) {
            float speech_sum, noise_sum;
            row_estimates(w, hv, nz, speech / 16, &speech_sum, &noise_sum);
            speech_estimate[f] = speech_sum;
            noise_estimate[f] = noise_sum;
            model = speech_sum + noise_sum + epsilon;
        } else {   // three chains
            __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps();
#pragma clang loop unroll(full)
            for (int j = 0; j < nz; j++) {
                if (j % 3 == 0) a0 = _mm512_fmadd_ps(w[j], hv[j], a0);
                else if (j % 3 == 1) a1 = _mm512_fmadd_ps(w[j], hv[j], a1);
                else a2 = _mm512_fmadd_ps(w[j], hv[j], a2);
            }
            model = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), a2)) + epsilon;
        }
        if (beta == 1) {
            const __m512 p = _mm512_set1_ps(v[f] / model);
#pragma clang loop unroll(full)
            for (int j = 0; j < nz; j++) p_sums[j] = _mm512_fmadd_ps(w[j], p, p_sums[j]);
        } else if (beta == 2) {
            const __m512 q = _mm512_set1_ps(model);
#pragma clang loop unroll(full)
            for (int j = 0; j < nz; j++) q_sums[j] = _mm512_fmadd_ps(w[j], q, q_sums[j]);
        } else {   // β = 0: two sums; the row read again from the first level cache, as registers run out
            const float inverse = 1 / model;
            const __m512 p = _mm512_set1_ps(v[f] * inverse * inverse), q = _mm512_set1_ps(inverse);
#pragma clang loop unroll(full)
            for (int j = 0; j < nz; j++) {
                const __m512 again = _mm512_maskz_loadu_ps(row_mask(j, stride), r + 16 * j);
                p_sums[j] = _mm512_fmadd_ps(again, p, p_sums[j]);
                q_sums[j] = _mm512_fmadd_ps(again, q, q_sums[j]);
            }
        }
    }
    for (int j = 0; j < nz; j++) {
        const __mmask16 m = row_mask(j, stride);
        if (beta != 2)
            _mm512_mask_storeu_ps(numerator + 16 * j, m,
                                  _mm512_add_ps(_mm512_maskz_loadu_ps(m, numerator + 16 * j), p_sums[j]));
        if (beta != 1)
            _mm512_mask_storeu_ps(denominator + 16 * j, m,
                                  _mm512_add_ps(_mm512_maskz_loadu_ps(m, denominator + 16 * j), q_sums[j]));
    }
}

/// `pass_rows` with `beta` a constant.
#define PASS_ROWS_BETA(nz)                                                                                  \
    do {                                                                                                   \
        if (beta == 1)                                                                                     \
            pass_rows(rows, first, end, stride, h, v, epsilon, 1, numerator, denominator, speech,          \
                      speech_estimate, noise_estimate, nz);                                                \
        else if (beta == 2)                                                                                \
            pass_rows(rows, first, end, stride, h, v, epsilon, 2, numerator, denominator, speech,          \
                      speech_estimate, noise_estimate, nz);                                                \
        else                                                                                               \
            pass_rows(rows, first, end, stride, h, v, epsilon, 0, numerator, denominator, speech,          \
                      speech_estimate, noise_estimate, nz);                                                \
    } while (0)

/// The chosen pass where the CPU has AVX-512F: row by row (`pass_rows`, its vectors a row a
/// constant) where the rows fit, else `pass16_wide`.
WIDE static void pass_rows_wide(const float *rows, int first, int end, int stride, const float *h, const float *v,
                                float epsilon, int beta, float *numerator, float *denominator, int speech,
                                float *speech_estimate, float *noise_estimate) {
    if (!rows_fit(stride, speech)) {
        pass16_wide(rows, first, end, stride, h, v, epsilon, beta, numerator, denominator, speech, speech_estimate,
                    noise_estimate);
        return;
    }
    if (stride == SHIPPED_STRIDE) {   // the shipped presets' rows: every mask a constant
        const int shipped = SHIPPED_STRIDE;
#define stride shipped
        PASS_ROWS_BETA((SHIPPED_STRIDE + 15) / 16);
#undef stride
        return;
    }
    switch ((stride + 15) / 16) {
    case 1: PASS_ROWS_BETA(1); break;
    case 2: PASS_ROWS_BETA(2); break;
    case 3: PASS_ROWS_BETA(3); break;
    case 4: PASS_ROWS_BETA(4); break;
    case 5: PASS_ROWS_BETA(5); break;
    case 6: PASS_ROWS_BETA(6); break;
    case 7: PASS_ROWS_BETA(7); break;
    case 8: PASS_ROWS_BETA(8); break;
    case 9: PASS_ROWS_BETA(9); break;
    case 10: PASS_ROWS_BETA(10); break;
    case 11: PASS_ROWS_BETA(11); break;
    default: PASS_ROWS_BETA(12); break;
    }
}
#undef PASS_ROWS_BETA

/// Ŝ and N̂ row by row with `row_estimates` (`nz` a constant where inlined).
WIDE static inline __attribute__((always_inline)) void estimate_rows(const float *rows, int bins, int stride, int speech,
                                                                    const float *h, float *speech_estimate,
                                                                    float *noise_estimate, const int nz) {
    __m512 hv[ROW_VECTORS];
    for (int j = 0; j < nz; j++) hv[j] = _mm512_maskz_loadu_ps(row_mask(j, stride), h + 16 * j);
    for (int f = 0; f < bins; f++) {
        const float *r = rows + (long)f * stride;
        __m512 w[ROW_VECTORS];
#pragma clang loop unroll(full)
        for (int j = 0; j < nz; j++) w[j] = _mm512_maskz_loadu_ps(row_mask(j, stride), r + 16 * j);
        row_estimates(w, hv, nz, speech / 16, speech_estimate + f, noise_estimate + f);
    }
}

/// The chosen estimates where the CPU has AVX-512F: those of `pass_rows_wide`'s estimating pass,
/// bit for bit (row by row where the rows fit, else the fused build's, as `pass16_wide`'s).
WIDE static void estimate_rows_wide(const float *rows, int bins, int stride, int speech, const float *h,
                                    float *speech_estimate, float *noise_estimate) {
    if (!rows_fit(stride, speech)) {
        estimate_fused(rows, bins, stride, speech, h, speech_estimate, noise_estimate);
        return;
    }
    if (stride == SHIPPED_STRIDE) {   // the shipped presets' rows: every mask a constant
        estimate_rows(rows, bins, SHIPPED_STRIDE, speech, h, speech_estimate, noise_estimate,
                      (SHIPPED_STRIDE + 15) / 16);
        return;
    }
    switch ((stride + 15) / 16) {
    case 1: estimate_rows(rows, bins, stride, speech, h, speech_estimate, noise_estimate, 1); break;
    case 2: estimate_rows(rows, bins, stride, speech, h, speech_estimate, noise_estimate, 2); break;
    case 3: estimate_rows(rows, bins, stride, speech, h, speech_estimate, noise_estimate, 3); break;
    case 4: estimate_rows(rows, bins, stride, speech, h, speech_estimate, noise_estimate, 4); break;
    case 5: estimate_rows(rows, bins, stride, speech, h, speech_estimate, noise_estimate, 5); break;
    case 6: estimate_rows(rows, bins, stride, speech, h, speech_estimate, noise_estimate, 6); break;
    case 7: estimate_rows(rows, bins, stride, speech, h, speech_estimate, noise_estimate, 7); break;
    case 8: estimate_rows(rows, bins, stride, speech, h, speech_estimate, noise_estimate, 8); break;
    case 9: estimate_rows(rows, bins, stride, speech, h, speech_estimate, noise_estimate, 9); break;
    case 10: estimate_rows(rows, bins, stride, speech, h, speech_estimate, noise_estimate, 10); break;
    case 11: estimate_rows(rows, bins, stride, speech, h, speech_estimate, noise_estimate, 11); break;
    default: estimate_rows(rows, bins, stride, speech, h, speech_estimate, noise_estimate, 12); break;
    }
}
#endif
#undef GAIN_STEP
#undef BLOCK

/// `peak` with sixteen-float chains: the multiply-add of the sixteen-lane pass.
WIDE static float peak_wide(long steps) {
    const __m512 a = _mm512_set1_ps(0.9999f), b = _mm512_set1_ps(1e-4f);
    __m512 x[12];
    for (int c = 0; c < 12; c++) x[c] = _mm512_set1_ps(0.1f + 0.01f * (float)c);
    for (long step = 0; step < steps; step++)
        for (int c = 0; c < 12; c++) x[c] = _mm512_fmadd_ps(x[c], a, b);
    float sum = 0;
    for (int c = 0; c < 12; c++) sum += _mm512_reduce_add_ps(x[c]);
    return sum;
}

SordinoPeakLoop sordino_peak_loop_wide(void) {
#if defined(__x86_64__)
    if (cpu_is_wide()) return peak_wide;
#endif
    return 0;
}

SordinoWidePass sordino_solver_pass_wide(void) {
#if defined(__x86_64__)
    if (cpu_is_wide()) return pass_wide;
#endif
    return 0;
}

SordinoSolverPass sordino_solver_pass(int *fused) {
#if defined(__x86_64__)
    *fused = cpu_fuses();
    if (cpu_is_wide()) return pass_rows_wide;
#else
    *fused = 1;   // aarch64: every `a * b + c` above contracts to a fused multiply-add
#endif
    return CHOSEN(pass);
}

int sordino_solver_pass_by_rows(int stride, int speech) {
#if defined(__x86_64__)
    return cpu_is_wide() && rows_fit(stride, speech);
#else
    (void)stride;
    (void)speech;
    return 0;
#endif
}

SordinoSolverPass sordino_solver_pass_eight(void) { return CHOSEN(pass); }

SordinoSolverPass sordino_solver_pass_lanes(void) { return CHOSEN(pass_lanes); }

SordinoPeakLoop sordino_peak_loop(void) { return CHOSEN(peak); }

SordinoEstimate sordino_estimate(void) {
#if defined(__x86_64__)
    if (cpu_is_wide()) return estimate_rows_wide;
#endif
    return CHOSEN(estimate);
}

SordinoEstimate sordino_estimate_lanes(void) { return CHOSEN(estimate_lanes); }

SordinoGainStep sordino_gain_step(void) {
#if defined(__x86_64__)
    if (cpu_is_wide()) return gain_step_wide;
#endif
    return CHOSEN(gain_step);
}

SordinoGainStep sordino_gain_step_eight(void) { return CHOSEN(gain_step); }

SordinoGainStepStreams sordino_gain_step_streams(void) {
#if defined(__x86_64__)
    if (cpu_is_wide()) return gain_step_streams_wide;
#endif
    return CHOSEN(gain_step_streams);
}

// Chosen at each call (a few per hop): no function pointer to keep, and no resolver run by the
// loader before a sanitizer's runtime is up, as `target_clones` would need.
void sordino_square_root(float *x, int count) { CHOSEN(square_root)(x, count); }

void sordino_to_lanes(float *const *columns, int count, float *lanes) {
    CHOSEN(to_lanes)(columns, count, lanes);
}

void sordino_from_lanes(const float *lanes, int lane_stride, int count, float *const *columns) {
    CHOSEN(from_lanes)(lanes, lane_stride, count, columns);
}

void sordino_adapt_atoms(float *rows, int bins, int stride, int first_lane, int groups, int first_slot, int count,
                         float *numerators, int numerator_stride, int streams, const float *const *h,
                         const float *const *ratios, float gamma, float *sums) {
    CHOSEN(adapt_atoms)(rows, bins, stride, first_lane, groups, first_slot, count, numerators, numerator_stride,
                        streams, h, ratios, gamma, sums);
}

void sordino_fast_exp(const float *x, float *y, int count) {
    for (int i = 0; i + 8 <= count; i += 8) store8(y + i, fast_exp(load8(x + i)));
}

void sordino_fast_tanh(const float *x, float *y, int count) {
    for (int i = 0; i + 8 <= count; i += 8) store8(y + i, fast_tanh(load8(x + i)));
}
