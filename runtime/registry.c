/*
 * The registry (registry.h): two singly linked lists of descriptors that
 * live in the registering executable or plugin (static storage, never
 * freed). A name registered twice keeps its first descriptor, so a plugin
 * cannot replace a function of the executable by accident.
 */
#include "registry.h"

#include "alloc.h"
#include "error.h"
#include "log.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lux_remote_desc_t *remote_list;
static lux_actor_class_t *class_list;

void lux_remote_register(lux_remote_desc_t *desc)
{
    for (lux_remote_desc_t *d = remote_list; d; d = d->next) {
        if (strcmp(d->name, desc->name) == 0) {
            if (d != desc)
                fprintf(stderr, "lux: remote function '%s' registered twice; keeping the first\n",
                        desc->name);
            return;
        }
    }
    desc->next = remote_list;
    remote_list = desc;
}

void lux_actor_class_register(lux_actor_class_t *cls)
{
    for (lux_actor_class_t *c = class_list; c; c = c->next) {
        if (strcmp(c->name, cls->name) == 0) {
            if (c != cls)
                fprintf(stderr, "lux: actor class '%s' registered twice; keeping the first\n",
                        cls->name);
            return;
        }
    }
    cls->next = class_list;
    class_list = cls;
}

lux_remote_desc_t *lux_registry_find_remote(const char *name, size_t len)
{
    for (lux_remote_desc_t *d = remote_list; d; d = d->next)
        if (strlen(d->name) == len && memcmp(d->name, name, len) == 0)
            return d;
    return NULL;
}

lux_actor_class_t *lux_registry_find_class(const char *name, size_t len)
{
    for (lux_actor_class_t *c = class_list; c; c = c->next)
        if (strlen(c->name) == len && memcmp(c->name, name, len) == 0)
            return c;
    return NULL;
}

const lux_remote_desc_t *lux_remote_find(const char *name)
{
    return name ? lux_registry_find_remote(name, strlen(name)) : NULL;
}

const lux_actor_class_t *lux_actor_class_find(const char *name)
{
    return name ? lux_registry_find_class(name, strlen(name)) : NULL;
}

int lux_plugin_load(const char *path)
{
    if (path == NULL || strchr(path, ':') != NULL)
        return LUX_EINVAL;
    void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (h == NULL) {
        lux_log_error("cannot load plugin %s: %s", path, dlerror());
        return LUX_ENOENT;
    }
    /* Workers started from now on load it too. */
    const char *old = getenv("LUX_PLUGINS");
    size_t len = (old ? strlen(old) + 1 : 0) + strlen(path) + 1;
    char *list = lux_malloc(len);
    if (list == NULL)
        return LUX_ENOMEM;
    snprintf(list, len, "%s%s%s", old ? old : "", old ? ":" : "", path);
    int rc = setenv("LUX_PLUGINS", list, 1) == 0 ? 0 : LUX_ENOMEM;
    lux_free(list);
    return rc;
}

void lux_registry_load_worker_plugins(void)
{
    const char *list = getenv("LUX_PLUGINS");
    if (list == NULL || *list == '\0')
        return;
    char *copy = lux_strdup(list), *save = NULL;
    for (char *p = copy ? strtok_r(copy, ":", &save) : NULL; p; p = strtok_r(NULL, ":", &save))
        if (dlopen(p, RTLD_NOW | RTLD_GLOBAL) == NULL)
            fprintf(stderr, "lux worker: cannot load plugin %s: %s\n", p, dlerror());
    lux_free(copy);
}
