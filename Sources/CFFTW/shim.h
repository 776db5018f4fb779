// SPDX-License-Identifier: GPL-3.0-or-later
// Exposes the system <fftw3.h> to Swift.
#include <fftw3.h>
