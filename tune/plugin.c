/*
 * Plugin loading with dlopen. Loaded plugins are remembered by their real
 * path so loading one twice (the driver, then a resume in the same process)
 * runs its init once and still knows which classes it registered.
 */
#include "plugin.h"

#include "error.h"
#include "trainable.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PLUGINS 16
#define MAX_NAMES   64

typedef struct {
    char path[PATH_MAX];
    const char *names[MAX_NAMES];
    size_t nnames;
} plugin_t;

static plugin_t plugins[MAX_PLUGINS];
static size_t nplugins;

int lux_trainable_plugin_is_spec(const char *trainable)
{
    return trainable != NULL &&
           (strchr(trainable, '/') != NULL || strstr(trainable, ".so") != NULL);
}

static int add_to_env(const char *path)
{
    const char *old = getenv("LUX_PLUGINS");
    if (old != NULL) {
        /* Already listed? */
        size_t len = strlen(path);
        for (const char *p = old; (p = strstr(p, path)) != NULL; p += len)
            if ((p == old || p[-1] == ':') && (p[len] == '\0' || p[len] == ':'))
                return 0;
    }
    size_t n = (old ? strlen(old) + 1 : 0) + strlen(path) + 1;
    char *v = malloc(n);
    if (v == NULL)
        return LUX_ENOMEM;
    snprintf(v, n, "%s%s%s", old ? old : "", old ? ":" : "", path);
    int rc = setenv("LUX_PLUGINS", v, 1);
    free(v);
    return rc == 0 ? 0 : LUX_ENOMEM;
}

/* Loads the library at path (not yet split from a class name). */
static int load_path(const char *path, plugin_t **out, char *err, size_t errlen)
{
    char real[PATH_MAX];
    if (realpath(path, real) == NULL) {
        snprintf(err, errlen, "plugin %s: no such file; give the path of a shared library", path);
        return LUX_ENOENT;
    }
    for (size_t i = 0; i < nplugins; i++)
        if (strcmp(plugins[i].path, real) == 0) {
            *out = &plugins[i];
            return 0;
        }
    if (nplugins >= MAX_PLUGINS) {
        snprintf(err, errlen,
                 "plugin %s: at most %d plugins are loaded; combine trainables into fewer plugins",
                 path, MAX_PLUGINS);
        return LUX_EFULL;
    }
    void *h = dlopen(real, RTLD_NOW | RTLD_GLOBAL);
    if (h == NULL) {
        snprintf(err, errlen,
                 "plugin %s: cannot load: %s; give the path of a shared library built as "
                 "docs/plugins.md "
                 "describes",
                 path, dlerror());
        return LUX_EINVAL;
    }
    int (*init)(void) = (int (*)(void))dlsym(h, "lux_plugin_init");
    if (init == NULL) {
        snprintf(err, errlen, "plugin %s: it has no lux_plugin_init(); see docs/plugins.md", path);
        dlclose(h);
        return LUX_EINVAL;
    }
    const char *before[MAX_NAMES];
    size_t n0 = lux_trainable_names(before, MAX_NAMES);
    int rc = init();
    if (rc != 0) {
        snprintf(err, errlen, "plugin %s: lux_plugin_init failed: %s; fix the plugin's init", path,
                 lux_strerror(rc));
        return LUX_EINVAL;
    }
    plugin_t *p = &plugins[nplugins++];
    snprintf(p->path, sizeof p->path, "%s", real);
    const char *after[MAX_NAMES];
    size_t n1 = lux_trainable_names(after, MAX_NAMES);
    for (size_t i = n0; i < n1 && i < MAX_NAMES; i++)
        p->names[p->nnames++] = after[i];
    *out = p;
    return add_to_env(real);
}

int lux_trainable_plugin_load(const char *spec, const char **name, char *err, size_t errlen)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", spec);
    const char *want = NULL;
    char *colon = strrchr(path, ':');
    if (colon != NULL && strchr(colon, '/') == NULL) {
        *colon = '\0';
        want = colon + 1;
    }
    plugin_t *p = NULL;
    int rc = load_path(path, &p, err, errlen);
    if (rc != 0)
        return rc;
    if (p->nnames == 0) {
        snprintf(err, errlen,
                 "plugin %s registered no trainable in lux_plugin_init(); register one with "
                 "lux_trainable_register()",
                 path);
        return LUX_ENOENT;
    }
    if (want == NULL || *want == '\0') {
        *name = p->names[0];
        return 0;
    }
    for (size_t i = 0; i < p->nnames; i++)
        if (strcmp(p->names[i], want) == 0) {
            *name = p->names[i];
            return 0;
        }
    snprintf(err, errlen, "plugin %s has no trainable named '%s'; it registers '%s'", path, want,
             p->names[0]);
    return LUX_ENOENT;
}

int lux_trainable_plugin_load_env(char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    const char *env = getenv("LUX_PLUGINS");
    if (env == NULL || *env == '\0')
        return 0;
    char *list = strdup(env);
    if (list == NULL)
        return LUX_ENOMEM;
    int first = 0;
    size_t used = 0;
    char *save = NULL;
    for (char *p = strtok_r(list, ":", &save); p != NULL; p = strtok_r(NULL, ":", &save)) {
        plugin_t *pl;
        char msg[1024];
        int rc = load_path(p, &pl, msg, sizeof msg);
        if (rc != 0) {
            if (err != NULL && used < errlen) {
                int n = snprintf(err + used, errlen - used, "%s%s", used ? "\n" : "", msg);
                used = n < 0 ? errlen : used + (size_t)n;
            }
            if (first == 0)
                first = rc;
        }
    }
    free(list);
    return first;
}
