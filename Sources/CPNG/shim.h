// SPDX-License-Identifier: GPL-3.0-or-later
// Exposes the system <png.h> (libpng 1.6, simplified API) to Swift.
#include <png.h>
