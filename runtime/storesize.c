/*
 * Object store sizing (storesize.h). /proc/self/cgroup names the process's
 * cgroup per hierarchy ("0::/path" for v2, "4:memory:/path" for v1); the
 * limit that binds is the smallest along the path up to the hierarchy's
 * root, and inside a container the path may not exist in the container's
 * view, so the root's own file counts too.
 */
#include "storesize.h"

#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Messages and paths are cut to their buffers on purpose. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

/* The number in the file at path, or 0 when there is none ("max", missing,
 * unreadable, not a number). */
static uint64_t read_limit(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    char buf[64];
    int got = fgets(buf, sizeof buf, f) != NULL;
    fclose(f);
    if (!got || buf[0] < '0' || buf[0] > '9')
        return 0;
    char *end;
    unsigned long long v = strtoull(buf, &end, 10);
    if (*end != '\0' && *end != '\n')
        return 0;
    return (uint64_t)v;
}

/* Considers the limit files `file` in dir/rel and each of its ancestors up
 * to dir, keeping the smallest real limit in *l. */
static void walk_up(lux_memlimits_t *l, const char *dir, const char *rel, const char *file)
{
    char path[4096], sub[4096];
    snprintf(sub, sizeof sub, "%s", rel);
    for (;;) {
        size_t len = strlen(sub);
        while (len > 0 && sub[len - 1] == '/')
            sub[--len] = '\0';
        snprintf(path, sizeof path, "%s%s/%s", dir, sub, file);
        uint64_t v = read_limit(path);
        /* "Unlimited" in v1 is a huge number; above physical memory is no
         * limit at all. */
        if (v > 0 && (l->physical == 0 || v < l->physical) && (l->cgroup == 0 || v < l->cgroup)) {
            l->cgroup = v;
            snprintf(l->cgroup_file, sizeof l->cgroup_file, "%s", path);
        }
        if (len == 0)
            return;
        char *slash = strrchr(sub, '/');
        if (slash == NULL)
            sub[0] = '\0';
        else
            *slash = '\0';
    }
}

void lux_memlimits_read(const char *cgroup_root, lux_memlimits_t *l)
{
    memset(l, 0, sizeof *l);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0)
        l->physical = (uint64_t)pages * (uint64_t)page;
    const char *root = cgroup_root ? cgroup_root : "/sys/fs/cgroup";
    char v1dir[4096];
    snprintf(v1dir, sizeof v1dir, "%s/memory", root);
    FILE *f = fopen("/proc/self/cgroup", "r");
    int v2_seen = 0, v1_seen = 0;
    if (f != NULL) {
        char line[4096];
        while (fgets(line, sizeof line, f) != NULL) {
            line[strcspn(line, "\n")] = '\0';
            char *c1 = strchr(line, ':');
            char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
            if (c2 == NULL)
                continue;
            *c2 = '\0';
            const char *controllers = c1 + 1, *rel = c2 + 1;
            if (strcmp(line, "0") == 0 && controllers[0] == '\0') {
                walk_up(l, root, rel, "memory.max");
                v2_seen = 1;
            } else {
                /* "memory" among the v1 hierarchy's controllers. */
                char list[256];
                snprintf(list, sizeof list, ",%s,", controllers);
                if (strstr(list, ",memory,") != NULL) {
                    walk_up(l, v1dir, rel, "memory.limit_in_bytes");
                    v1_seen = 1;
                }
            }
        }
        fclose(f);
    }
    if (!v2_seen)
        walk_up(l, root, "", "memory.max");
    if (!v1_seen)
        walk_up(l, v1dir, "", "memory.limit_in_bytes");
}

uint64_t lux_storesize_default(const lux_memlimits_t *l)
{
    uint64_t base = l->physical;
    if (l->cgroup != 0 && (base == 0 || l->cgroup < base))
        base = l->cgroup;
    if (base == 0)
        return 1ull << 30;
    return base / 10 * 3;
}

/* "2.0 GiB (2147483648 bytes)" */
static void human(uint64_t bytes, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.1f GiB (%llu bytes)", (double)bytes / (double)(1ull << 30),
             (unsigned long long)bytes);
}

static void limits_text(const lux_memlimits_t *l, char *buf, size_t cap)
{
    char phys[96], cg[96];
    human(l->physical, phys, sizeof phys);
    if (l->cgroup != 0) {
        human(l->cgroup, cg, sizeof cg);
        snprintf(buf, cap, "physical memory %s, cgroup limit %s in %s", phys, cg, l->cgroup_file);
    } else {
        snprintf(buf, cap, "physical memory %s, no cgroup memory limit", phys);
    }
}

static const char lower_it[] =
    "lower it with object_store_bytes in lux_init's options or --object-store-memory BYTES "
    "(lux start, lux run; e.g. 512M, 2G)";

int lux_storesize_check(uint64_t asked, const lux_memlimits_t *l, char *err, size_t errlen)
{
    uint64_t limit = l->physical;
    if (l->cgroup != 0 && (limit == 0 || l->cgroup < limit))
        limit = l->cgroup;
    if (limit == 0 || asked <= limit)
        return 0;
    char a[96], lim[512];
    human(asked, a, sizeof a);
    limits_text(l, lim, sizeof lim);
    snprintf(err, errlen,
             "an object store of %s was asked for, more than this process can have (%s); %s", a,
             lim, lower_it);
    return LUX_ENOMEM;
}

void lux_storesize_refused(uint64_t asked, const lux_memlimits_t *l, const char *what, int errnum,
                           char *err, size_t errlen)
{
    char a[96], lim[512];
    human(asked, a, sizeof a);
    limits_text(l, lim, sizeof lim);
    snprintf(err, errlen, "cannot have shared memory for an object store of %s (%s: %s; %s); %s", a,
             what, strerror(errnum), lim, lower_it);
}
