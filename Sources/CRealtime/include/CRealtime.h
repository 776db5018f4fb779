// SPDX-License-Identifier: GPL-3.0-or-later
// What Swift cannot say on the audio thread's behalf: flush-to-zero / denormals-are-zero and memory locking.
#ifndef CREALTIME_H
#define CREALTIME_H

/// Sets MXCSR FTZ and DAZ (x86) or FPCR FZ (arm64) on the calling thread so that decaying
/// tails and tiny activations never become slow subnormals. Call from the audio thread's init.
void CRealtime_enableFlushToZero(void);

/// 1 when flush-to-zero is on for the calling thread, else 0.
int CRealtime_flushToZeroEnabled(void);

/// mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT): keeps the pages the process has touched, and
/// will touch, resident (without MCL_ONFAULT on kernels before 4.4). Returns 0 or errno.
int CRealtime_lockMemory(void);

#endif
