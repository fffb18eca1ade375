/*
 * How big the node's object store may be (internal to the runtime): the
 * memory limits that apply to this process (physical memory, and the
 * cgroup's memory limit, which is what a container or a systemd unit
 * really gets), the default size taken from them, and the check that a
 * size asked for can be had at all. The store is one memfd: it is not in
 * /dev/shm, so /dev/shm's size does not limit it; memory and the cgroup do.
 */
#ifndef LUX_RUNTIME_STORESIZE_H
#define LUX_RUNTIME_STORESIZE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t physical;      /* bytes of physical memory (0: unknown) */
    uint64_t cgroup;        /* the tightest cgroup memory limit (0: none found) */
    char cgroup_file[4096]; /* where it was found, for messages */
} lux_memlimits_t;

/* Fills *l with the limits of this process: physical memory, and the
 * smallest memory limit of its cgroup and the cgroup's ancestors under
 * cgroup_root (NULL: /sys/fs/cgroup), cgroup v2 (memory.max) or v1
 * (memory/memory.limit_in_bytes), as /proc/self/cgroup names them; a limit
 * of "max", or above physical memory, is none. Cannot fail: what cannot be
 * read is left 0. */
void lux_memlimits_read(const char *cgroup_root, lux_memlimits_t *l);

/* The default object store size: 30% of physical memory, or 30% of the
 * cgroup limit when that is smaller (1 GiB when neither is known). Cannot
 * fail. */
uint64_t lux_storesize_default(const lux_memlimits_t *l);

/* Checks that an object store of `asked` bytes fits the limits in l (it
 * must not exceed physical memory nor the cgroup limit). Returns 0, or
 * LUX_ENOMEM with a message for a person in err naming the size asked, the
 * limit found and the options that lower it. */
int lux_storesize_check(uint64_t asked, const lux_memlimits_t *l, char *err, size_t errlen);

/* Writes the message for an object store of `asked` bytes that the system
 * refused (what failed, its errno) into err, with the limits in l and the
 * options that lower it. Cannot fail. */
void lux_storesize_refused(uint64_t asked, const lux_memlimits_t *l, const char *what, int errnum,
                           char *err, size_t errlen);

#endif
