/*
 * Id map, arena allocator and resource vectors (see objstore.h).
 */
#include "objstore.h"

#include "alloc.h"
#include "error.h"

#include <string.h>

/* ---- id map ---- */

static size_t id_hash(const lux_id_t *k)
{
    uint64_t a, b;
    memcpy(&a, k->b, 8);
    memcpy(&b, k->b + 8, 8);
    uint64_t h = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull) * 0xC2B2AE3D27D4EB4Full;
    h ^= h >> 29;
    return (size_t)h;
}

lux_id_t lux_id_u64(uint64_t v)
{
    lux_id_t id;
    memset(&id, 0, sizeof id);
    memcpy(id.b, &v, 8);
    return id;
}

void lux_idmap_init(lux_idmap_t *m)
{
    memset(m, 0, sizeof *m);
}

void lux_idmap_fini(lux_idmap_t *m)
{
    lux_free(m->keys);
    lux_free(m->vals);
    memset(m, 0, sizeof *m);
}

static size_t find_slot(const lux_idmap_t *m, const lux_id_t *key)
{
    size_t mask = m->cap - 1, i = id_hash(key) & mask;
    while (m->vals[i] != NULL && memcmp(m->keys[i].b, key->b, 16) != 0)
        i = (i + 1) & mask;
    return i;
}

void *lux_idmap_get(const lux_idmap_t *m, const lux_id_t *key)
{
    if (m->cap == 0)
        return NULL;
    return m->vals[find_slot(m, key)];
}

static int grow(lux_idmap_t *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    lux_id_t *keys = lux_malloc(cap * sizeof *keys);
    void **vals = lux_calloc(cap, sizeof *vals);
    if (keys == NULL || vals == NULL) {
        lux_free(keys);
        lux_free(vals);
        return LUX_ENOMEM;
    }
    lux_idmap_t n = {keys, vals, cap, 0};
    for (size_t i = 0; i < m->cap; i++) {
        if (m->vals[i] != NULL) {
            size_t j = find_slot(&n, &m->keys[i]);
            n.keys[j] = m->keys[i];
            n.vals[j] = m->vals[i];
            n.count++;
        }
    }
    lux_free(m->keys);
    lux_free(m->vals);
    *m = n;
    return 0;
}

int lux_idmap_put(lux_idmap_t *m, const lux_id_t *key, void *val)
{
    if ((m->count + 1) * 4 > m->cap * 3 && grow(m) != 0)
        return LUX_ENOMEM;
    size_t i = find_slot(m, key);
    if (m->vals[i] == NULL)
        m->count++;
    m->keys[i] = *key;
    m->vals[i] = val;
    return 0;
}

void *lux_idmap_del(lux_idmap_t *m, const lux_id_t *key)
{
    if (m->cap == 0)
        return NULL;
    size_t mask = m->cap - 1, i = find_slot(m, key);
    void *val = m->vals[i];
    if (val == NULL)
        return NULL;
    m->vals[i] = NULL;
    m->count--;
    /* Backward-shift deletion: move later members of the cluster into the
     * hole when their home slot allows it. */
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (m->vals[j] == NULL)
            break;
        size_t home = id_hash(&m->keys[j]) & mask;
        int between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!between) {
            m->keys[i] = m->keys[j];
            m->vals[i] = m->vals[j];
            m->vals[j] = NULL;
            i = j;
        }
    }
    return val;
}

/* ---- arena ---- */

uint64_t lux_arena_round(uint64_t len)
{
    if (len == 0)
        len = 1;
    return (len + LUX_ARENA_ALIGN - 1) & ~(uint64_t)(LUX_ARENA_ALIGN - 1);
}

int lux_arena_init(lux_arena_t *a, uint64_t size)
{
    memset(a, 0, sizeof *a);
    a->size = size & ~(uint64_t)(LUX_ARENA_ALIGN - 1);
    a->free = lux_malloc(16 * sizeof *a->free);
    if (a->free == NULL)
        return LUX_ENOMEM;
    a->capfree = 16;
    if (a->size > 0)
        a->free[a->nfree++] = (lux_extent_t){0, a->size};
    return 0;
}

void lux_arena_fini(lux_arena_t *a)
{
    lux_free(a->free);
    memset(a, 0, sizeof *a);
}

int lux_arena_alloc(lux_arena_t *a, uint64_t len, uint64_t *off_out)
{
    len = lux_arena_round(len);
    for (size_t i = 0; i < a->nfree; i++) {
        if (a->free[i].len >= len) {
            *off_out = a->free[i].off;
            a->free[i].off += len;
            a->free[i].len -= len;
            if (a->free[i].len == 0) {
                memmove(&a->free[i], &a->free[i + 1], (a->nfree - i - 1) * sizeof *a->free);
                a->nfree--;
            }
            a->used += len;
            return 0;
        }
    }
    return LUX_EFULL;
}

void lux_arena_free(lux_arena_t *a, uint64_t off, uint64_t len)
{
    len = lux_arena_round(len);
    size_t i = 0;
    while (i < a->nfree && a->free[i].off < off)
        i++;
    a->used -= len;
    int merge_prev = i > 0 && a->free[i - 1].off + a->free[i - 1].len == off;
    int merge_next = i < a->nfree && off + len == a->free[i].off;
    if (merge_prev && merge_next) {
        a->free[i - 1].len += len + a->free[i].len;
        memmove(&a->free[i], &a->free[i + 1], (a->nfree - i - 1) * sizeof *a->free);
        a->nfree--;
    } else if (merge_prev) {
        a->free[i - 1].len += len;
    } else if (merge_next) {
        a->free[i].off = off;
        a->free[i].len += len;
    } else {
        if (a->nfree == a->capfree) {
            lux_extent_t *f = lux_realloc(a->free, 2 * a->capfree * sizeof *f);
            if (f == NULL) {
                /* Cannot record the extent: it is lost until the arena is
                 * reset, which is safe (never handed out twice). */
                return;
            }
            a->free = f;
            a->capfree *= 2;
        }
        memmove(&a->free[i + 1], &a->free[i], (a->nfree - i) * sizeof *a->free);
        a->free[i] = (lux_extent_t){off, len};
        a->nfree++;
    }
}

/* ---- resources ---- */

void lux_resnames_init(lux_resnames_t *t)
{
    memset(t, 0, sizeof *t);
    strcpy(t->names[0], "CPU");
    strcpy(t->names[1], "GPU");
    strcpy(t->names[2], "memory");
    t->count = 3;
}

int lux_resnames_index(lux_resnames_t *t, const char *name, int create)
{
    for (int i = 0; i < t->count; i++)
        if (strcmp(t->names[i], name) == 0)
            return i;
    if (!create || t->count >= LUX_RES_MAX || strlen(name) > 31 || name[0] == '\0')
        return -1;
    strcpy(t->names[t->count], name);
    return t->count++;
}

int lux_resv_fits(const lux_resv_t *have, const lux_resv_t *need)
{
    for (int i = 0; i < LUX_RES_MAX; i++)
        if (need->v[i] > 0 && need->v[i] > have->v[i])
            return 0;
    return 1;
}

void lux_resv_sub(lux_resv_t *have, const lux_resv_t *need)
{
    for (int i = 0; i < LUX_RES_MAX; i++)
        have->v[i] -= need->v[i];
}

void lux_resv_add(lux_resv_t *have, const lux_resv_t *need)
{
    for (int i = 0; i < LUX_RES_MAX; i++)
        have->v[i] += need->v[i];
}

int lux_resv_is_zero(const lux_resv_t *r)
{
    for (int i = 0; i < LUX_RES_MAX; i++)
        if (r->v[i] != 0)
            return 0;
    return 1;
}
