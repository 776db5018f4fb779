// SPDX-License-Identifier: GPL-3.0-or-later
// Flush-to-zero and memory locking for the real-time thread, the hop worker's timed wait, and the daemon's signal forwarding: what Swift cannot express.
#define _GNU_SOURCE   // sem_clockwait
#include "CRealtime.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#include <pmmintrin.h>
#endif

void CRealtime_enableFlushToZero(void) {
#if defined(__x86_64__) || defined(__i386__)
    _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
    _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
#elif defined(__aarch64__)
    unsigned long fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    __asm__ volatile("msr fpcr, %0" : : "r"(fpcr | (1UL << 24)));
#endif
}

int CRealtime_flushToZeroEnabled(void) {
#if defined(__x86_64__) || defined(__i386__)
    return _MM_GET_FLUSH_ZERO_MODE() == _MM_FLUSH_ZERO_ON;
#elif defined(__aarch64__)
    unsigned long fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    return (fpcr >> 24) & 1;
#else
    return 0;
#endif
}

int CRealtime_lockMemory(void) {
#ifdef MCL_ONFAULT
    // Lock pages as they are first touched: without it every thread's whole stack reservation
    // (8 MB each) and every mapping becomes resident at once (≈ 150 MB for `sordino run`).
    if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0) return 0;
    if (errno != EINVAL) return errno;   // EINVAL: a kernel before 4.4, without MCL_ONFAULT
#endif
    return mlockall(MCL_CURRENT | MCL_FUTURE) == 0 ? 0 : errno;
}

int CRealtime_waitOrTimeout(sem_t *semaphore, long nanoseconds) {
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += nanoseconds / 1000000000L;
    deadline.tv_nsec += nanoseconds % 1000000000L;
    if (deadline.tv_nsec >= 1000000000L) { deadline.tv_sec += 1; deadline.tv_nsec -= 1000000000L; }
    return sem_clockwait(semaphore, CLOCK_MONOTONIC, &deadline) == 0 ? 0 : errno;
}

static pthread_t forwardTarget;

static void forwardSignal(int signal) {
    int saved = errno;
    if (!pthread_equal(pthread_self(), forwardTarget)) pthread_kill(forwardTarget, signal);
    errno = saved;
}

int CRealtime_forwardSignalsToThisThread(void) {
    forwardTarget = pthread_self();
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = forwardSignal;
    action.sa_flags = SA_RESTART;
    sigfillset(&action.sa_mask);
    const int signals[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2 };
    for (unsigned i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        if (sigaction(signals[i], &action, NULL) != 0) return errno;
    }
    return 0;
}
