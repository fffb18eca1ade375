/*
 * Building blocks of the node's object store and scheduler, kept free of
 * I/O so they can be unit-tested alone:
 *
 * - lux_idmap_t: an open-addressing hash map from 16-byte ids to pointers
 *   (objects, tasks, actors, groups, waiters). Lookups are one probe
 *   sequence; deletion uses backward shifting, so there are no tombstones.
 * - lux_arena_t: a first-fit allocator of extents of the shared-memory
 *   arena (offsets only; the memory itself is mapped by the node and the
 *   clients). Free extents are kept sorted and coalesced.
 * - lux_resv_t: a resource vector in units of 1/10000 (CPU, GPU, memory and
 *   custom names, indexed through a lux_resnames_t table) with the checks the
 *   scheduler needs (fits, acquire, release).
 *
 * None of these is thread-safe; the node owns them from its loop thread.
 * Named objstore (not store) so it cannot be confused with tune/store.h, the
 * experiment database, when both folders are on a target's include path.
 */
#ifndef LUX_RUNTIME_OBJSTORE_H
#define LUX_RUNTIME_OBJSTORE_H

#include "proto.h"

#include <stddef.h>
#include <stdint.h>

/* ---- id map ---- */

typedef struct {
    lux_id_t *keys;
    void **vals;
    size_t cap, count;
} lux_idmap_t;

void lux_idmap_init(lux_idmap_t *m);
void lux_idmap_fini(lux_idmap_t *m);
/* Value for key, or NULL. */
void *lux_idmap_get(const lux_idmap_t *m, const lux_id_t *key);
/* Inserts or replaces. Returns 0 or LUX_ENOMEM. val must not be NULL. */
int lux_idmap_put(lux_idmap_t *m, const lux_id_t *key, void *val);
/* Removes key; returns its value or NULL. */
void *lux_idmap_del(lux_idmap_t *m, const lux_id_t *key);
/* Iteration: for (size_t i = 0; i < m->cap; i++) if (m->vals[i]) ... */

lux_id_t lux_id_u64(uint64_t v);

/* ---- arena ---- */

typedef struct {
    uint64_t off, len;
} lux_extent_t;

typedef struct {
    uint64_t size, used;
    lux_extent_t *free; /* sorted by offset, coalesced */
    size_t nfree, capfree;
} lux_arena_t;

#define LUX_ARENA_ALIGN 64

int lux_arena_init(lux_arena_t *a, uint64_t size);
void lux_arena_fini(lux_arena_t *a);
/* Allocates len bytes (rounded up to LUX_ARENA_ALIGN). Returns 0 and the
 * offset, LUX_EFULL when no free extent is large enough now, LUX_ENOMEM. */
int lux_arena_alloc(lux_arena_t *a, uint64_t len, uint64_t *off_out);
/* Frees an extent returned by lux_arena_alloc (same len). */
void lux_arena_free(lux_arena_t *a, uint64_t off, uint64_t len);
uint64_t lux_arena_round(uint64_t len);

/* ---- resources ---- */

#define LUX_RES_MAX 16
enum { LUX_RES_CPU = 0, LUX_RES_GPU = 1, LUX_RES_MEMORY = 2 };

typedef struct {
    char names[LUX_RES_MAX][32];
    int count;
} lux_resnames_t;

typedef struct {
    int64_t v[LUX_RES_MAX];
} lux_resv_t;

void lux_resnames_init(lux_resnames_t *t); /* CPU, GPU, memory */
/* Index of name, added if new (create != 0). -1 if unknown or full. */
int lux_resnames_index(lux_resnames_t *t, const char *name, int create);

/* 1 if every amount of need is <= have. */
int lux_resv_fits(const lux_resv_t *have, const lux_resv_t *need);
void lux_resv_sub(lux_resv_t *have, const lux_resv_t *need);
void lux_resv_add(lux_resv_t *have, const lux_resv_t *need);
int lux_resv_is_zero(const lux_resv_t *r);

#endif
