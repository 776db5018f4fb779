// SPDX-License-Identifier: GPL-3.0-or-later
// libjack for Swift: the JACK headers, the loader that opens libjack on first use, and prefixed shims for what Swift cannot call directly.
#ifndef CJACK_H
#define CJACK_H

#include <jack/jack.h>
#include <jack/metadata.h>
#include <jack/thread.h>
#include <jack/uuid.h>

/// Loads libjack (`libjack.so.0`, the search path's: JACK's own or PipeWire's under `pw-jack`) the
/// first time it is called: NULL when it is loaded, else why it could not be (dlopen's message, or a
/// function it lacks). Only the commands that talk to a server load it, so the others run where no
/// JACK is installed. Thread-safe; not for the audio thread (the first call opens a library).
const char *CJACK_load(void);

/// `jack_client_open` with a fixed arity, after `CJACK_load` (when libjack cannot be loaded: NULL,
/// with `JackFailure | JackLoadFailure` in `status`). It exists because `jack_client_open` is variadic (the
/// server name follows `options` only when `JackServerName` is set) and Swift does not import
/// variadic C functions. Delete it if libjack gains a fixed-arity open.
/// `serverName` may be NULL for the default server ($JACK_DEFAULT_SERVER, else "default");
/// otherwise `JackServerName` is added to `options`.
jack_client_t *CJACK_clientOpen(const char *name, jack_options_t options, jack_status_t *status,
                                 const char *serverName);

/// The metadata keys libjack exports as `extern const char *` globals (read from the loaded
/// library; NULL before `CJACK_load` succeeded).
const char *CJACK_metadataPrettyName(void);
const char *CJACK_metadataOrder(void);
const char *CJACK_metadataPortGroup(void);

#endif
