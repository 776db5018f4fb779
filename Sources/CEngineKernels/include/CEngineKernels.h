// SPDX-License-Identifier: GPL-3.0-or-later
// The engine's dense kernels (the activation solver's pass over W and estimates, a matrix by columns times a vector) and a multiply-add peak loop, in C so that each is built for AVX2 with FMA beside the baseline and chosen at run time.
#ifndef CENGINEKERNELS_H
#define CENGINEKERNELS_H

/// Adds the bins `first ..< end` (groups of eight, the last possibly shorter) of one stream into its
/// partial sums: for each group, Λ = W·h + ε of its rows, then P = V ⊙ Λ^(β−2) added as Wᵀ·P into
/// `numerator` (unless β = 2) and Q = Λ^(β−1) as Wᵀ·Q into `denominator` (unless β = 1). The group
/// starting at bin f goes to partial sum ((f / 8) mod 4), at offset ((f / 8) mod 4) × `stride` of
/// `numerator` and `denominator` (four partial sums of `stride` floats each); the row-by-row build
/// (`sordino_solver_pass_by_rows`) adds all of its bins into the first. `rows` is W bin-major,
/// `stride` floats per bin (a multiple of 8, zero-padded; rows up to `end` rounded up to a multiple
/// of 8 are read, those past the last bin must be zeros), `h` `stride` floats, `v` the frame's
/// spectrum, `beta` 0, 1 or 2. With `speech_estimate` not NULL, the pass also keeps the estimates of
/// the h it read (those of `SordinoEstimate` bit for bit, `speech` as there): Ŝ and N̂ of each bin
/// into `speech_estimate[f]` and `noise_estimate[f]`, and its Λ is then Ŝ + N̂ + ε. No allocation,
/// no lock, no system call.
typedef void (*SordinoSolverPass)(const float *rows, int first, int end, int stride, const float *h,
                                  const float *v, float epsilon, int beta, float *numerator, float *denominator,
                                  int speech, float *speech_estimate, float *noise_estimate);

/// The pass for this CPU: the AVX2 + FMA build where the CPU has both (one rounding per
/// multiply-add), else the baseline build (a multiply, then an add). `fused` is set to 1 or 0.
/// Where the CPU also has AVX-512F: row by row for rows that fit (`sordino_solver_pass_by_rows`),
/// h and the sums Wᵀ·P, Wᵀ·Q in registers and each row read once (its sums in another order, so
/// the fused build's output up to rounding); otherwise the fused pass with Wᵀ·P and Wᵀ·Q sixteen
/// floats a step (the fused build's output bit for bit).
SordinoSolverPass sordino_solver_pass(int *fused);

/// 1 when `sordino_solver_pass` runs row by row for rows of `stride` floats with `speech` speech
/// slots (the CPU has AVX-512F, `stride` ≤ 192, `speech` a multiple of 16): its sums then depend
/// on how the bins are split between calls, so a stream's bins go to it in one call.
int sordino_solver_pass_by_rows(int stride, int speech);

/// The pass of eight-float vectors only (the fused or baseline build), which `sordino_solver_pass`
/// must equal bit for bit on any CPU (the tests compare them).
SordinoSolverPass sordino_solver_pass_eight(void);

/// The pass for eight streams at once, a stream in each lane (built as `sordino_solver_pass`'s
/// choice is): the same arguments, but `h` holds `stride` × 8 floats (atom k of stream s at 8·k + s),
/// `v` 8 floats per bin (bin f of stream s at 8·f + s), and `numerator` and `denominator` four
/// partial sums of `stride` × 8 floats each, laid out as `h`, and the estimates, when kept, 8 floats
/// per bin (those of `sordino_estimate_lanes` bit for bit). Each stream's sums are those of
/// `sordino_solver_pass` up to rounding: its Λ is summed over the atoms in order, not in eight
/// interleaved chains. No allocation, no lock, no system call.
SordinoSolverPass sordino_solver_pass_lanes(void);

/// The pass for eight streams with sixteen-float vectors (AVX-512): `columns` is W transposed
/// (`column_stride` floats per atom, a multiple of 16, zeros past `bins`), `rows` W as for
/// `SordinoSolverPass` (`stride` floats per bin, a multiple of 8); `h` the eight streams'
/// activations interleaved (atom k of stream s at 8·k + s); `v[s]` stream s's spectrum (`bins`
/// floats; NULL: an absent stream, taken as zeros); Wᵀ·P and Wᵀ·Q of each stream added into its
/// `numerator[s]` and `denominator[s]` (`stride` floats each, NULL: not kept; the caller zeroes
/// them first); when `speech_estimate` is not NULL, each stream's Ŝ and N̂ of the h it read into
/// `speech_estimate[s]` and `noise_estimate[s]` (NULL: not kept) and Λ = Ŝ + N̂ + ε. For each bin
/// group of sixteen, Λ with the bins in the lanes and every stream's activation broadcast, then
/// Wᵀ·P with sixteen atoms in the lanes and every stream's weight at a bin broadcast: each stream's
/// sums are those of `sordino_solver_pass` up to rounding. No allocation, no lock, no system call.
typedef void (*SordinoWidePass)(const float *columns, int column_stride, const float *rows, int stride, int bins,
                                const float *h, float *const *v, float epsilon, int beta,
                                float *const *numerator, float *const *denominator, int speech,
                                float *const *speech_estimate, float *const *noise_estimate);

/// The wide pass where the CPU has AVX-512F (with AVX2 and FMA), else NULL.
SordinoWidePass sordino_solver_pass_wide(void);

/// Runs `steps` steps of twelve independent chains of eight lanes, x ← x·a + b, with the same
/// multiply-add as the pass chosen for this CPU, and returns the sum of the chains' lanes (so no
/// step is left out). 192 flops per step: for timing the machine's multiply-add peak.
typedef float (*SordinoPeakLoop)(long steps);

/// The peak loop for this CPU, built as `sordino_solver_pass`'s choice is.
SordinoPeakLoop sordino_peak_loop(void);

/// The same loop with twelve chains of sixteen lanes (384 flops per step), the multiply-add of
/// `sordino_solver_pass_wide`, where the CPU runs it; else NULL.
SordinoPeakLoop sordino_peak_loop_wide(void);

/// The speech and noise estimates Ŝ = Ws·hs, N̂ = Wn·hn for bins f < `bins`: `rows` is W bin-major
/// (`stride` floats per bin, a multiple of 8, zero-padded), the speech atoms in slots 0 ..< `speech`
/// (a multiple of 8), the noise atoms after; `h` `stride` floats. Writes `bins` floats of each.
/// No allocation, no lock, no system call.
typedef void (*SordinoEstimate)(const float *rows, int bins, int stride, int speech, const float *h,
                                float *speech_estimate, float *noise_estimate);

/// The estimates for this CPU, built as `sordino_solver_pass`'s choice is (row by row where it
/// runs row by row): those of its pass's estimates bit for bit.
SordinoEstimate sordino_estimate(void);

/// The estimates for eight streams at once, a stream in each lane (built as `sordino_solver_pass`'s
/// choice is): the same arguments, but `h` holds `stride` × 8 floats (atom k of stream s at 8·k + s)
/// and each estimate 8 floats per bin (bin f of stream s at 8·f + s, `bins` × 8 floats written).
/// Each stream's estimates are those of `sordino_estimate` up to rounding (each sum over its atoms in
/// order, not in eight interleaved chains). No allocation, no lock, no system call.
SordinoEstimate sordino_estimate_lanes(void);

/// The learned gain's network as `GainNetwork` (SordinoDSP) lays it out: sizes (F features, D input
/// units, H hidden units, B bands) and their strides padded to 8 (the gates' rows 3 × `hidden_stride`),
/// the weights stored column by column, and scratch; `stream_scratch` is scratch for up to eight
/// streams stepped together (8 × (F + `input_stride` + 6 × `hidden_stride` + `band_stride`) floats),
/// or NULL where `sordino_gain_step_streams` is not used.
typedef struct {
    int features, input_units, hidden_units, band_count;
    int input_stride, hidden_stride, band_stride;
    const float *mean, *scale, *input_weights, *input_bias, *gru_input_weights, *gru_input_bias;
    const float *gru_recurrent_weights, *gru_recurrent_bias, *output_weights, *output_bias;
    float *normalised, *units, *from_input, *from_hidden, *output;
    float *stream_scratch;
} SordinoGainNetwork;

/// One step of the network: `features` (F floats) and a stream's `hidden` state (`hidden_stride`
/// floats, updated) → the band gains in `network->output` (B floats in 0…1). Normalisation, the
/// tanh layer, the GRU and the sigmoid layer, with exp by a degree-7 polynomial (about 2e-7
/// relative error). No allocation, no lock, no system call.
typedef void (*SordinoGainStep)(const SordinoGainNetwork *network, const float *features, float *hidden);

/// The step for this CPU, built as `sordino_solver_pass`'s choice is; where the CPU has AVX-512,
/// its products in sixteen-float vectors (the AVX2 build's results bit for bit: the same rows in the
/// same blocks, each row's partial sums over the same columns in order, fused).
SordinoGainStep sordino_gain_step(void);

/// The step of the eight-float builds (AVX2 with FMA, else the baseline), whatever the CPU: to
/// check `sordino_gain_step`'s sixteen-float build against it.
SordinoGainStep sordino_gain_step_eight(void);

/// One step of `count` ≤ 8 streams at once, each weight loaded once for four of them: stream s's
/// `features[s]` (F floats) and `hidden[s]` (`hidden_stride` floats, updated) → its band gains in
/// `gains[s]` (B floats in 0…1), with `network->stream_scratch` as scratch. Each stream's result is
/// `SordinoGainStep`'s up to rounding (every product's sums run over their inputs in order).
/// No allocation, no lock, no system call.
typedef void (*SordinoGainStepStreams)(const SordinoGainNetwork *network, int count, const float *const *features,
                                       float *const *hidden, float *const *gains);

/// The step of several streams for this CPU, built as `sordino_solver_pass`'s choice is; where the
/// CPU has AVX-512, eight streams' products in sixteen-float vectors (the AVX2 build's results bit
/// for bit: each row's sum over the columns in order, fused).
SordinoGainStepStreams sordino_gain_step_streams(void);

/// The step's e^x and tanh x on `count` floats (a multiple of 8), baseline build: for tests.
void sordino_fast_exp(const float *x, float *y, int count);
void sordino_fast_tanh(const float *x, float *y, int count);

/// x[i] ← √x[i] for i < `count` (x[i] ≥ 0), eight lanes at a time where the CPU has AVX2. No
/// allocation, no lock, no system call.
void sordino_square_root(float *x, int count);

/// Eight streams' vectors interleaved, a stream in each lane: lanes[8·i + l] = columns[l][i] for
/// i < `count`, l < 8, and 0 in the lanes whose column is NULL (8 × 8 blocks transposed, with AVX2
/// where the CPU has it). No allocation, no lock, no system call.
void sordino_to_lanes(float *const *columns, int count, float *lanes);

/// The reverse of `sordino_to_lanes` (`lane_stride` 8), or eight columns out of rows of `lane_stride`
/// floats: columns[l][i] = lanes[lane_stride·i + l] for i < `count` and every l < 8 whose column is
/// not NULL (each row's first eight floats read). No allocation, no lock, no system call.
void sordino_from_lanes(const float *lanes, int lane_stride, int count, float *const *columns);

/// One step of the online noise atoms, as `NoiseAdaptation.adapt` (SordinoDSP) documents it, eight
/// slots at a time where the CPU has AVX2 (its arithmetic unfused, so both builds agree bit for bit):
/// `rows` W bin-major (`stride` floats per bin, changed in place in the adaptive slots' lanes),
/// `groups` groups of eight slots from `first_lane`, the adaptive ones `first_slot ..< first_slot +
/// count`; `numerators` the statistics A (`numerator_stride` × 8 floats per group, bin by bin);
/// `h[s]` and `ratios[s]` the activations (`stride` floats) and V/Λ (`bins` floats) of the `streams`
/// ≥ 1 streams that heard noise only; `gamma` the forgetting; `sums` gets each group's new Σ_f w
/// (8 floats per group). No allocation, no lock, no system call.
void sordino_adapt_atoms(float *rows, int bins, int stride, int first_lane, int groups, int first_slot, int count,
                         float *numerators, int numerator_stride, int streams, const float *const *h,
                         const float *const *ratios, float gamma, float *sums);

#endif
