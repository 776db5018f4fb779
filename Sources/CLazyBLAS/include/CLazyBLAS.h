// SPDX-License-Identifier: GPL-3.0-or-later
// OpenBLAS's single-precision product, loaded on first use, so that commands without matrix products never load it.
#ifndef CLAZYBLAS_H
#define CLAZYBLAS_H

/// Loads OpenBLAS (`libopenblas.so.0`) once, on the first call from any thread. Returns NULL when
/// it is loaded, or why it could not be (the loader's message), the same on every later call.
/// Loading it costs 2–3 ms of CPU (its thread pool and libgfortran), which `process`, `run`
/// without `learn-noise` and every short command no longer pay.
const char *sordino_blas_load(void);

/// C ← α·op(A)·op(B) + β·C, row-major, through OpenBLAS's `cblas_sgemm`; `transpose_a` and
/// `transpose_b` 0 or 1. OpenBLAS must be loaded (`sordino_blas_load` returned NULL): otherwise
/// this aborts with the loader's message.
void sordino_blas_sgemm(int transpose_a, int transpose_b, int m, int n, int k, float alpha, const float *a, int lda,
                        const float *b, int ldb, float beta, float *c, int ldc);

/// From now on OpenBLAS runs every product on the calling thread (`openblas_set_num_threads(1)`),
/// applied when it loads if it has not yet.
void sordino_blas_one_thread(void);

#endif
