/*
 * The registry of remote functions and actor classes of this executable
 * and its plugins (the public half is in lux.h: LUX_REMOTE,
 * LUX_ACTOR_CLASS, lux_remote_find, lux_plugin_load). Registration happens
 * in constructors before main, so the lists are built single-threaded and
 * only read afterwards. Internal: what the worker loop needs to resolve the
 * name in an EXECUTE without copying it into a C string.
 */
#ifndef LUX_RUNTIME_REGISTRY_H
#define LUX_RUNTIME_REGISTRY_H

#include "lux.h"

#include <stddef.h>

/* The function or class registered under the len bytes at name, or NULL.
 * Cannot fail. */
lux_remote_desc_t *lux_registry_find_remote(const char *name, size_t len);
lux_actor_class_t *lux_registry_find_class(const char *name, size_t len);

/* Loads every plugin of $LUX_PLUGINS (a worker does this at start, so it
 * knows the functions its driver loaded); a plugin that cannot be loaded is
 * reported on stderr and skipped. */
void lux_registry_load_worker_plugins(void);

#endif
