// SPDX-License-Identifier: GPL-3.0-or-later
// Loads OpenBLAS with dlopen on first use and calls its cblas_sgemm and openblas_set_num_threads.
#include "CLazyBLAS.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

// The CBLAS interface as OpenBLAS exports it (Debian builds it with 32-bit integers): the order and
// transpose arguments are C enums with the standard's values.
enum { ROW_MAJOR = 101, NO_TRANSPOSE = 111, TRANSPOSE = 112 };
typedef void (*Sgemm)(int order, int transpose_a, int transpose_b, int m, int n, int k, float alpha, const float *a,
                      int lda, const float *b, int ldb, float beta, float *c, int ldc);
typedef void (*SetThreads)(int);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static Sgemm sgemm;
static SetThreads set_threads;
static char failure[512];
static atomic_int one_thread;

static void load(void) {
    void *library = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        snprintf(failure, sizeof failure, "%s", dlerror());
        return;
    }
    sgemm = (Sgemm)dlsym(library, "cblas_sgemm");
    set_threads = (SetThreads)dlsym(library, "openblas_set_num_threads");
    if (!sgemm || !set_threads) {
        snprintf(failure, sizeof failure, "libopenblas.so.0 has no cblas_sgemm or openblas_set_num_threads");
        sgemm = NULL;
        return;
    }
    if (atomic_load(&one_thread)) set_threads(1);
}

const char *sordino_blas_load(void) {
    pthread_once(&once, load);
    return sgemm ? NULL : failure;
}

void sordino_blas_sgemm(int transpose_a, int transpose_b, int m, int n, int k, float alpha, const float *a, int lda,
                        const float *b, int ldb, float beta, float *c, int ldc) {
    const char *why = sordino_blas_load();
    if (why) {
        fprintf(stderr, "sordino: matrix products need OpenBLAS, which cannot be loaded (%s)\n", why);
        abort();
    }
    sgemm(ROW_MAJOR, transpose_a ? TRANSPOSE : NO_TRANSPOSE, transpose_b ? TRANSPOSE : NO_TRANSPOSE, m, n, k, alpha, a,
          lda, b, ldb, beta, c, ldc);
}

void sordino_blas_one_thread(void) {
    atomic_store(&one_thread, 1);
    if (sgemm) set_threads(1);
}
