// SPDX-License-Identifier: GPL-3.0-or-later
// libjack for Swift: the JACK headers, plus prefixed shims for what Swift cannot call directly.
#ifndef CJACK_H
#define CJACK_H

#include <jack/jack.h>
#include <jack/metadata.h>
#include <jack/thread.h>
#include <jack/uuid.h>

/// `jack_client_open` with a fixed arity. It exists because `jack_client_open` is variadic (the
/// server name follows `options` only when `JackServerName` is set) and Swift does not import
/// variadic C functions. Delete it if libjack gains a fixed-arity open.
/// `serverName` may be NULL for the default server ($JACK_DEFAULT_SERVER, else "default");
/// otherwise `JackServerName` is added to `options`.
jack_client_t *CJACK_clientOpen(const char *name, jack_options_t options, jack_status_t *status,
                                 const char *serverName);

/// The metadata keys libjack exports as `extern const char *` globals, returned by functions so
/// that Swift's strict concurrency checking sees no mutable C globals. Delete once Swift imports
/// C `extern const` pointers as immutable.
const char *CJACK_metadataPrettyName(void);
const char *CJACK_metadataOrder(void);
const char *CJACK_metadataPortGroup(void);

#endif
