// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer's driver entry, for a fuzz target whose `main` is its own (SwiftPM names an executable's entry point).

#ifndef SORDINO_CFUZZER_H
#define SORDINO_CFUZZER_H

#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer with the process's arguments on `callback`; present only when linked with
/// -sanitize=fuzzer.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
