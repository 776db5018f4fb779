// SPDX-License-Identifier: GPL-3.0-or-later
// Exposes the system <sndfile.h> to Swift.
#include <sndfile.h>
