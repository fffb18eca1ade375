/*
 * Trainable plugins: shared libraries that add trainables without
 * rebuilding lux.
 *
 * A plugin exports `int lux_plugin_init(void)`, which registers its classes
 * with lux_trainable_register() (tune/trainable.h) and returns 0. The lux
 * executable exports its symbols, so a plugin calls lux's functions (and
 * jansson's) directly and links nothing itself. An experiment names a
 * plugin as its trainable: a path to the library (`./my_trainable.so`, the
 * first class it registers) or `path.so:name`.
 *
 * The driver loads the plugin, then puts its absolute path in LUX_PLUGINS
 * (":"-separated, the list runtime/lux.h's lux_plugin_load also keeps) so
 * every worker the runtime starts loads it too before it
 * runs a trial: workers are the lux executable re-executed.
 */
#ifndef LUX_PLUGIN_H
#define LUX_PLUGIN_H

#include <stddef.h>

/* 1 when a trainable value names a plugin (contains '/' or ".so"). */
int lux_trainable_plugin_is_spec(const char *trainable);

/* Loads the plugin named by spec ("path.so" or "path.so:name"), runs its
 * lux_plugin_init once, adds it to LUX_PLUGINS, and sets *name to the
 * registered class to run (a static string). Returns 0, LUX_ENOENT (no such
 * file, or no such class in it), LUX_EINVAL (not a plugin: no
 * lux_plugin_init, or it failed) with a message in err. */
int lux_trainable_plugin_load(const char *spec, const char **name, char *err, size_t errlen);

/* Loads every plugin listed in LUX_PLUGINS (workers call this at start),
 * going on past a plugin that fails. Returns 0, or the first failure's code
 * with one message per failed plugin in err, a line each (err may be NULL). */
int lux_trainable_plugin_load_env(char *err, size_t errlen);

#endif
