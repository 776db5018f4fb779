// SPDX-License-Identifier: GPL-3.0-or-later
// Times RNNoise's C library on the same seeded signal as `sordino bench`: CPU µs per 10 ms frame at 48 kHz.
//
// Build and run (the library of the eval venv's pyrnnoise wheel, or any librnnoise.so):
//   cc -O2 Benchmarks/rnnoise_timer.c -o /tmp/rnnoise_timer -ldl
//   /tmp/rnnoise_timer ~/.cache/sordino-eval/venv/lib/python3.11/site-packages/pyrnnoise/librnnoise.so [SECONDS]
// Prints the mean, p50, p99 and max CPU µs of one rnnoise_process_frame call (480 samples) and the
// CPU µs per second of audio (100 frames), the figure `docs/PERFORMANCE.md` divides by Sordino's.
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s LIBRNNOISE.so [SECONDS]\n", argv[0]); return 64; }
    void *lib = dlopen(argv[1], RTLD_NOW);
    if (!lib) { fprintf(stderr, "cannot load %s: %s\n", argv[1], dlerror()); return 69; }
    void *(*create)(void *) = (void *(*)(void *))dlsym(lib, "rnnoise_create");
    float (*process)(void *, float *, const float *) =
        (float (*)(void *, float *, const float *))dlsym(lib, "rnnoise_process_frame");
    void (*destroy)(void *) = (void (*)(void *))dlsym(lib, "rnnoise_destroy");
    if (!create || !process || !destroy) { fprintf(stderr, "not an RNNoise library: %s\n", argv[1]); return 69; }
    double seconds = argc > 2 ? atof(argv[2]) : 20;
    const int rate = 48000, frame = 480;
    int frames = (int)(seconds * rate / frame), warm = rate / frame;
    long count = (long)(frames + warm) * frame;
    float *x = malloc(sizeof(float) * count), *y = malloc(sizeof(float) * frame);
    double *times = malloc(sizeof(double) * frames);
    // The signal of `sordino bench` (Bench.testSignal), in RNNoise's int16 scale.
    uint64_t state = 0x5EED;
    double phase = 0;
    for (long n = 0; n < count; n++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        double noise = (double)(state >> 11) / (double)(1ULL << 53) * 2 - 1, t = (double)n / rate;
        phase += 2 * M_PI * (150 + 50 * sin(2 * M_PI * 0.5 * t)) / rate;
        double voiced = 0;
        for (int k = 1; k <= 10; k++) voiced += sin(k * phase) / k;
        double envelope = sin(2 * M_PI * 3 * t) > 0 ? sin(2 * M_PI * 3 * t) : 0;
        x[n] = (float)((0.1 * envelope * voiced + 0.01 * noise) * 32768);
    }
    void *st = create(NULL);
    for (int i = 0; i < warm; i++) process(st, y, x + (long)i * frame);
    // The mean from a run without a clock read per frame (as `sordino bench`'s), the percentiles
    // from a second run over the same frames with one around each.
    double started = cpu();
    for (int i = 0; i < frames; i++) process(st, y, x + (long)(warm + i) * frame);
    double total = cpu() - started;
    for (int i = 0; i < frames; i++) {
        double t0 = cpu();
        process(st, y, x + (long)(warm + i) * frame);
        times[i] = cpu() - t0;
    }
    destroy(st);
    qsort(times, frames, sizeof(double), compare);
    printf("rnnoise 48000 Hz, 480-sample frames, %d frames: mean %.1f µs, p50 %.1f, p99 %.1f, max %.1f; "
           "%.0f µs CPU per second of audio\n", frames, total / frames * 1e6, times[frames / 2] * 1e6,
           times[(int)(frames * 0.99)] * 1e6, times[frames - 1] * 1e6, total / frames * 1e6 * 100);
    return 0;
}
