// SPDX-License-Identifier: GPL-3.0-or-later
// Exposes the system <cblas.h> to Swift.
#include <cblas.h>
