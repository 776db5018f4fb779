// SPDX-License-Identifier: GPL-3.0-or-later
// Exposes the system <soxr.h> to Swift.
#include <soxr.h>
