// SPDX-License-Identifier: GPL-3.0-or-later
// Exposes the system <zlib.h> to Swift.
#include <zlib.h>
