// SPDX-License-Identifier: GPL-3.0-or-later
// What Swift cannot say on the daemon's behalf: flush-to-zero / denormals-are-zero, memory locking, a semaphore wait with a monotonic timeout, and signals forwarded to the main thread.
#ifndef CREALTIME_H
#define CREALTIME_H

#include <semaphore.h>

/// Sets MXCSR FTZ and DAZ (x86) or FPCR FZ (arm64) on the calling thread so that decaying
/// tails and tiny activations never become slow subnormals. Call from the audio thread's init.
void CRealtime_enableFlushToZero(void);

/// 1 when flush-to-zero is on for the calling thread, else 0.
int CRealtime_flushToZeroEnabled(void);

/// mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT): keeps the pages the process has touched, and
/// will touch, resident (without MCL_ONFAULT on kernels before 4.4). Returns 0 or errno.
int CRealtime_lockMemory(void);

/// sem_clockwait on CLOCK_MONOTONIC for at most `nanoseconds` from now (glibc 2.30; Swift's Glibc
/// does not export it): 0 when posted, else errno (ETIMEDOUT, EINTR).
int CRealtime_waitOrTimeout(sem_t *semaphore, long nanoseconds);

/// Makes the calling thread the one that receives SIGINT, SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2:
/// installs a handler that, on any other thread, sends the signal on to the calling thread with
/// pthread_kill (where it stays pending for sigtimedwait, the thread blocking it). Threads that
/// libraries start before main (OpenBLAS's pool) have these signals unblocked, and without a
/// handler one delivered to them would take its default action and end the process.
/// Returns 0 or errno.
int CRealtime_forwardSignalsToThisThread(void);

#endif
