// SPDX-License-Identifier: GPL-3.0-or-later
// Nothing to compile: CFuzzer only declares libFuzzer's driver entry (include/CFuzzer.h).
