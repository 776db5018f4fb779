// SPDX-License-Identifier: GPL-3.0-or-later
// Shims over libjack for Swift: a fixed-arity client open and the metadata key constants.
#include "CJACK.h"
#include <stddef.h>

jack_client_t *CJACK_clientOpen(const char *name, jack_options_t options, jack_status_t *status,
                                 const char *serverName) {
    if (serverName == NULL) {
        return jack_client_open(name, (jack_options_t)(options & ~JackServerName), status);
    }
    return jack_client_open(name, (jack_options_t)(options | JackServerName), status, serverName);
}

const char *CJACK_metadataPrettyName(void) { return JACK_METADATA_PRETTY_NAME; }
const char *CJACK_metadataOrder(void) { return JACK_METADATA_ORDER; }
const char *CJACK_metadataPortGroup(void) { return JACK_METADATA_PORT_GROUP; }
