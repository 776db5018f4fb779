// SPDX-License-Identifier: GPL-3.0-or-later
// libjack loaded with dlopen when a JACK command first needs it: the functions Sordino calls, forwarded to it, and the shims Swift needs.
#include "CJACK.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

// Every libjack function Sordino calls: X(return type, name, parameters, arguments) for those that
// return a value, V(name, parameters, arguments) for those that do not. Each gets a pointer filled
// by `load` and a function of the same name that calls through it (the header's prototype checks
// the parameters). They are reached only through a client (which `CJACK_clientOpen` opens after
// loading) or after `CJACK_load`, except the two message hooks, which load first.
#define JACK_FUNCTIONS(X, V)                                                                                 \
    X(int, jack_activate, (jack_client_t * client), (client))                                               \
    X(int, jack_client_close, (jack_client_t * client), (client))                                           \
    X(int, jack_client_real_time_priority, (jack_client_t * client), (client))                              \
    X(int, jack_connect, (jack_client_t * client, const char *source, const char *destination),             \
      (client, source, destination))                                                                        \
    X(float, jack_cpu_load, (jack_client_t * client), (client))                                             \
    V(jack_free, (void *pointer), (pointer))                                                                \
    X(jack_nframes_t, jack_get_buffer_size, (jack_client_t * client), (client))                             \
    X(char *, jack_get_client_name, (jack_client_t * client), (client))                                     \
    X(const char **, jack_get_ports,                                                                        \
      (jack_client_t * client, const char *name_pattern, const char *type_pattern, unsigned long flags),    \
      (client, name_pattern, type_pattern, flags))                                                          \
    X(int, jack_get_property, (jack_uuid_t subject, const char *key, char **value, char **type),            \
      (subject, key, value, type))                                                                          \
    X(jack_nframes_t, jack_get_sample_rate, (jack_client_t * client), (client))                             \
    X(int, jack_is_realtime, (jack_client_t * client), (client))                                            \
    X(jack_nframes_t, jack_last_frame_time, (const jack_client_t *client), (client))                        \
    V(jack_on_info_shutdown, (jack_client_t * client, JackInfoShutdownCallback callback, void *argument),   \
      (client, callback, argument))                                                                         \
    V(jack_on_shutdown, (jack_client_t * client, JackShutdownCallback callback, void *argument),            \
      (client, callback, argument))                                                                         \
    X(jack_port_t *, jack_port_by_name, (jack_client_t * client, const char *name), (client, name))         \
    X(int, jack_port_connected_to, (const jack_port_t *port, const char *name), (port, name))               \
    X(void *, jack_port_get_buffer, (jack_port_t * port, jack_nframes_t frames), (port, frames))            \
    X(const char **, jack_port_get_connections, (const jack_port_t *port), (port))                          \
    V(jack_port_get_latency_range,                                                                          \
      (jack_port_t * port, jack_latency_callback_mode_t mode, jack_latency_range_t *range),                 \
      (port, mode, range))                                                                                  \
    X(const char *, jack_port_name, (const jack_port_t *port), (port))                                      \
    X(jack_port_t *, jack_port_register,                                                                    \
      (jack_client_t * client, const char *name, const char *type, unsigned long flags,                     \
       unsigned long buffer_size),                                                                          \
      (client, name, type, flags, buffer_size))                                                             \
    V(jack_port_set_latency_range,                                                                          \
      (jack_port_t * port, jack_latency_callback_mode_t mode, jack_latency_range_t *range),                 \
      (port, mode, range))                                                                                  \
    X(jack_uuid_t, jack_port_uuid, (const jack_port_t *port), (port))                                       \
    X(int, jack_recompute_total_latencies, (jack_client_t * client), (client))                              \
    X(int, jack_set_buffer_size, (jack_client_t * client, jack_nframes_t frames), (client, frames))         \
    X(int, jack_set_buffer_size_callback, (jack_client_t * client, JackBufferSizeCallback callback, void *a), \
      (client, callback, a))                                                                                \
    X(int, jack_set_freewheel_callback, (jack_client_t * client, JackFreewheelCallback callback, void *a),  \
      (client, callback, a))                                                                                \
    X(int, jack_set_latency_callback, (jack_client_t * client, JackLatencyCallback callback, void *a),      \
      (client, callback, a))                                                                                \
    X(int, jack_set_port_connect_callback, (jack_client_t * client, JackPortConnectCallback callback, void *a), \
      (client, callback, a))                                                                                \
    X(int, jack_set_port_registration_callback,                                                             \
      (jack_client_t * client, JackPortRegistrationCallback callback, void *a), (client, callback, a))      \
    X(int, jack_set_process_callback, (jack_client_t * client, JackProcessCallback callback, void *a),      \
      (client, callback, a))                                                                                \
    X(int, jack_set_property,                                                                               \
      (jack_client_t * client, jack_uuid_t subject, const char *key, const char *value, const char *type),  \
      (client, subject, key, value, type))                                                                  \
    X(int, jack_set_sample_rate_callback, (jack_client_t * client, JackSampleRateCallback callback, void *a), \
      (client, callback, a))                                                                                \
    X(int, jack_set_thread_init_callback, (jack_client_t * client, JackThreadInitCallback callback, void *a), \
      (client, callback, a))                                                                                \
    X(int, jack_set_xrun_callback, (jack_client_t * client, JackXRunCallback callback, void *a),            \
      (client, callback, a))

#define POINTER(type, name, parameters, arguments) static type(*loaded_##name) parameters;
#define VOID_POINTER(name, parameters, arguments) static void(*loaded_##name) parameters;
JACK_FUNCTIONS(POINTER, VOID_POINTER)
static jack_client_t *(*loaded_jack_client_open)(const char *, jack_options_t, jack_status_t *, ...);
static void (*loaded_jack_set_error_function)(void (*)(const char *));
static void (*loaded_jack_set_info_function)(void (*)(const char *));
static const char *pretty_name_key, *order_key, *port_group_key;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int ready;
static char failure[512];

/// Finds `name` in `library` into `*slot`; false (and `failure` says which) when it is missing.
static int find(void *library, const char *name, void **slot) {
    *slot = dlsym(library, name);
    if (!*slot) snprintf(failure, sizeof failure, "libjack.so.0 has no %s", name);
    return *slot != NULL;
}

#define FIND(type, name, parameters, arguments) \
    if (!find(library, #name, (void **)&loaded_##name)) return;
#define VOID_FIND(name, parameters, arguments) FIND(void, name, parameters, arguments)

static void load(void) {
    void *library = dlopen("libjack.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        snprintf(failure, sizeof failure, "%s", dlerror());
        return;
    }
    JACK_FUNCTIONS(FIND, VOID_FIND)
    FIND(, jack_client_open, , )
    FIND(, jack_set_error_function, , )
    FIND(, jack_set_info_function, , )
    // The metadata keys are `extern const char *` variables: their values are read once here.
    const char **keys[3];
    if (!find(library, "JACK_METADATA_PRETTY_NAME", (void **)&keys[0])
        || !find(library, "JACK_METADATA_ORDER", (void **)&keys[1])
        || !find(library, "JACK_METADATA_PORT_GROUP", (void **)&keys[2]))
        return;
    pretty_name_key = *keys[0];
    order_key = *keys[1];
    port_group_key = *keys[2];
    ready = 1;
}

const char *CJACK_load(void) {
    pthread_once(&once, load);
    return ready ? NULL : failure;
}

#define FORWARD(type, name, parameters, arguments) \
    type name parameters { return loaded_##name arguments; }
#define VOID_FORWARD(name, parameters, arguments) \
    void name parameters { loaded_##name arguments; }
JACK_FUNCTIONS(FORWARD, VOID_FORWARD)

void jack_set_error_function(void (*function)(const char *)) {
    if (!CJACK_load()) loaded_jack_set_error_function(function);
}

void jack_set_info_function(void (*function)(const char *)) {
    if (!CJACK_load()) loaded_jack_set_info_function(function);
}

jack_client_t *CJACK_clientOpen(const char *name, jack_options_t options, jack_status_t *status,
                                 const char *serverName) {
    if (CJACK_load()) {
        *status = (jack_status_t)(JackFailure | JackLoadFailure);
        return NULL;
    }
    if (serverName == NULL) {
        return loaded_jack_client_open(name, (jack_options_t)(options & ~JackServerName), status);
    }
    return loaded_jack_client_open(name, (jack_options_t)(options | JackServerName), status, serverName);
}

const char *CJACK_metadataPrettyName(void) { return pretty_name_key; }
const char *CJACK_metadataOrder(void) { return order_key; }
const char *CJACK_metadataPortGroup(void) { return port_group_key; }
