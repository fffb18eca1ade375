/*
 * The node's object table (node_int.h): objects, the requests waiting on
 * them (get, wait, placement group wait, allocations that wait for room),
 * and the messages that create, read and release objects (PUT, PUT_ALLOC,
 * PUT_SEAL, GET, WAIT, RETAIN, RELEASE, UNPIN).
 *
 * An object is freed when no reference, no pin (a task argument, a
 * zero-copy view) and no waiter remains and it is not pending. Small values
 * are heap copies counted in inline_used; large ones are arena extents.
 * Requests that wait are waiters in an id map, so an object that becomes
 * ready finds only the waiters still alive; waiters with a deadline or an
 * allocation are also on the FIFO list n->timed, and allocations are served
 * first come, first served, so a large put cannot starve behind small ones.
 */
#include "node_int.h"

#include "alloc.h"
#include "clock.h"
#include "error.h"
#include "log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Messages are cut to their buffers on purpose. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

/* ---- objects ---- */

obj_t *lux_node_obj_get(lux_node_t *n, const lux_id_t *id)
{
    return lux_idmap_get(&n->objects, id);
}

obj_t *lux_node_obj_new(lux_node_t *n, const lux_id_t *id, uint64_t producer, const char *who,
                        size_t wholen)
{
    obj_t *o = lux_calloc(1, sizeof *o);
    if (o == NULL)
        return NULL;
    o->id = *id;
    if (wholen == 5)
        memcpy(o->owner, who, 5);
    o->refs = 1;
    o->producer = producer;
    if (lux_idmap_put(&n->objects, id, o) != 0) {
        lux_free(o);
        return NULL;
    }
    return o;
}

static void obj_free_data(lux_node_t *n, obj_t *o)
{
    if (o->in_arena) {
        lux_arena_free(&n->arena, o->off, o->len);
        o->in_arena = 0;
    } else if (o->state == OBJ_READY) {
        n->inline_used -= o->len;
    }
    lux_free(o->data);
    o->data = NULL;
}

static void retry_pending_allocs(lux_node_t *n);

void lux_node_obj_maybe_free(lux_node_t *n, obj_t *o)
{
    if (o->refs > 0 || o->pins > 0 || o->nwait > 0 || o->state == OBJ_PENDING)
        return;
    lux_idmap_del(&n->objects, &o->id);
    obj_free_data(n, o);
    lux_free(o->waiters);
    lux_free(o);
    retry_pending_allocs(n);
}

int lux_node_obj_add_waiter(obj_t *o, uint64_t w)
{
    if (o->nwait == o->capwait) {
        uint32_t cap = o->capwait ? o->capwait * 2 : 2;
        uint64_t *ws = lux_realloc(o->waiters, cap * sizeof *ws);
        if (ws == NULL)
            return LUX_ENOMEM;
        o->waiters = ws;
        o->capwait = cap;
    }
    o->waiters[o->nwait++] = w;
    return 0;
}

void lux_node_obj_set_error(lux_node_t *n, obj_t *o, int code, const char *msg)
{
    if (o->state != OBJ_PENDING)
        return;
    if (o->in_arena) {
        lux_arena_free(&n->arena, o->off, o->len);
        o->in_arena = 0;
    }
    o->state = OBJ_ERROR;
    o->err = code;
    o->data = lux_strdup(msg);
    o->len = o->data ? strlen(msg) : 0;
    lux_node_on_object_ready(n, o);
}

void lux_node_obj_set_value(lux_node_t *n, obj_t *o, const void *data, uint64_t len)
{
    if (o->state != OBJ_PENDING)
        return;
    o->data = lux_malloc(len ? len : 1);
    if (o->data == NULL) {
        lux_node_obj_set_error(n, o, LUX_ENOMEM, "node out of memory storing a value");
        return;
    }
    memcpy(o->data, data, len);
    o->len = len;
    n->inline_used += len;
    o->state = OBJ_READY;
    lux_node_on_object_ready(n, o);
}

/* ---- waiters ---- */

void lux_node_waiter_free(lux_node_t *n, waiter_t *w)
{
    lux_id_t key = lux_id_u64(w->wid);
    lux_idmap_del(&n->waiters, &key);
    for (waiter_t **p = &n->timed; *p; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            break;
        }
    }
    if (w->lender != NULL) {
        worker_t *wk = w->lender;
        /* Take the lent CPU back, even past the pool's limit for a moment. */
        if (wk->state != W_DEAD) {
            if (wk->pool_pg != NULL && lux_idmap_get(&n->pgs, &wk->pool_pg->id) == wk->pool_pg)
                lux_resv_sub(lux_node_pool_avail(n, wk->pool_pg, wk->pool_bundle), &wk->lent);
            else if (wk->pool_pg == NULL)
                lux_resv_sub(&n->avail, &wk->lent);
            memset(&wk->lent, 0, sizeof wk->lent);
            wk->blocked = 0;
        }
    }
    lux_free(w->ids);
    lux_free(w->data);
    lux_free(w);
}

void lux_node_lender_forget(lux_node_t *n, worker_t *wk)
{
    for (size_t i = 0; i < n->waiters.cap; i++) {
        waiter_t *w = n->waiters.vals[i];
        if (w != NULL && w->lender == wk)
            w->lender = NULL;
    }
}

static void reply_get(lux_node_t *n, waiter_t *w)
{
    lux_blob_t *blobs = lux_calloc(w->nids ? w->nids : 1, sizeof *blobs);
    if (blobs == NULL) {
        lux_node_reply(n, w->who, w->wholen, w->req, LUX_ENOMEM, 0, NULL, 0);
        return;
    }
    for (uint32_t i = 0; i < w->nids; i++) {
        obj_t *o = lux_node_obj_get(n, &w->ids[i]);
        lux_blob_t *b = &blobs[i];
        if (o == NULL) {
            b->kind = LUX_BLOB_ERROR;
            b->code = LUX_ENOENT;
            b->data = "object was freed";
            b->len = strlen(b->data);
        } else if (o->state == OBJ_ERROR) {
            b->kind = LUX_BLOB_ERROR;
            b->code = o->err;
            b->data = o->data ? o->data : "";
            b->len = o->len;
        } else if (o->in_arena) {
            b->kind = LUX_BLOB_SHM;
            b->id = o->id;
            b->off = o->off;
            b->len = o->len;
            o->pins++; /* until the client's UNPIN */
        } else {
            b->kind = LUX_BLOB_VALUE;
            b->data = o->data;
            b->len = o->len;
        }
    }
    lux_msg_t m = {.type = LUX_MSG_VALUES, .req = w->req, .blobs = blobs, .nblobs = w->nids};
    lux_node_send_msg(n, w->who, w->wholen, &m);
    lux_free(blobs);
}

static void reply_wait(lux_node_t *n, waiter_t *w)
{
    uint8_t *bits = lux_calloc(w->nids ? w->nids : 1, 1);
    uint32_t count = 0;
    for (uint32_t i = 0; i < w->nids && bits; i++) {
        obj_t *o = lux_node_obj_get(n, &w->ids[i]);
        bits[i] = o == NULL || o->state != OBJ_PENDING;
        count += bits[i];
    }
    lux_node_reply(n, w->who, w->wholen, w->req, bits ? 0 : LUX_ENOMEM, count, bits,
                   bits ? w->nids : 0);
    lux_free(bits);
}

/* Detaches the waiter from the objects it still waits on. */
static void waiter_detach(lux_node_t *n, waiter_t *w)
{
    for (uint32_t i = 0; i < w->nids; i++) {
        obj_t *o = lux_node_obj_get(n, &w->ids[i]);
        if (o == NULL)
            continue;
        for (uint32_t j = 0; j < o->nwait; j++) {
            if (o->waiters[j] == (w->wid | WAITER_BIT)) {
                o->waiters[j] = o->waiters[--o->nwait];
                break;
            }
        }
        lux_node_obj_maybe_free(n, o);
    }
}

static void waiter_complete(lux_node_t *n, waiter_t *w, int timed_out)
{
    if (w->kind == WT_GET) {
        if (timed_out)
            lux_node_reply(n, w->who, w->wholen, w->req, LUX_ETIMEDOUT, 0, NULL, 0);
        else
            reply_get(n, w);
    } else if (w->kind == WT_WAIT) {
        reply_wait(n, w);
    }
    waiter_detach(n, w);
    lux_node_waiter_free(n, w);
}

/* ---- object readiness ---- */

void lux_node_on_object_ready(lux_node_t *n, obj_t *o)
{
    uint32_t nw = o->nwait;
    uint64_t *ws = o->waiters;
    o->waiters = NULL;
    o->nwait = o->capwait = 0;
    for (uint32_t i = 0; i < nw; i++) {
        if (ws[i] & WAITER_BIT) {
            lux_id_t key = lux_id_u64(ws[i] & ~WAITER_BIT);
            waiter_t *w = lux_idmap_get(&n->waiters, &key);
            if (w == NULL)
                continue;
            w->ready++;
            if (w->ready >= w->num_returns)
                waiter_complete(n, w, 0);
        } else {
            lux_id_t key = lux_id_u64(ws[i]);
            task_t *t = lux_idmap_get(&n->tasks, &key);
            if (t == NULL || t->state != TS_WAITING)
                continue;
            if (--t->missing == 0)
                lux_node_enqueue_ready(n, t, 0);
        }
    }
    lux_free(ws);
}

/* ---- allocation waiters ---- */

static int store_room(lux_node_t *n, uint64_t len)
{
    return n->inline_used + n->arena.used + len <= n->capacity;
}

static int do_alloc(lux_node_t *n, obj_t *o, uint64_t len)
{
    if (!store_room(n, lux_arena_round(len)))
        return LUX_EFULL;
    uint64_t off;
    int rc = lux_arena_alloc(&n->arena, len, &off);
    if (rc)
        return rc;
    o->in_arena = 1;
    o->off = off;
    o->len = len;
    o->alloc_pending = 1;
    return 0;
}

static void retry_pending_allocs(lux_node_t *n)
{
    for (waiter_t *w = n->timed, *next; w; w = next) {
        next = w->next;
        if (w->kind == WT_ALLOC) {
            obj_t *o = lux_node_obj_get(n, &w->obj);
            if (o == NULL) {
                lux_node_waiter_free(n, w);
                continue;
            }
            if (do_alloc(n, o, w->len) == 0) {
                lux_node_reply(n, w->who, w->wholen, w->req, 0, o->off, NULL, 0);
                lux_node_waiter_free(n, w);
            } else {
                return; /* first come, first served */
            }
        } else if (w->kind == WT_PUT) {
            if (!store_room(n, w->len))
                return;
            obj_t *o = lux_node_obj_get(n, &w->obj);
            if (o != NULL)
                lux_node_obj_set_value(n, o, w->data, w->len);
            lux_node_waiter_free(n, w);
        }
    }
}

void lux_node_timed_add(lux_node_t *n, waiter_t *w)
{
    /* FIFO: append. */
    waiter_t **p = &n->timed;
    while (*p)
        p = &(*p)->next;
    *p = w;
    w->next = NULL;
}

waiter_t *lux_node_waiter_new(lux_node_t *n, int kind, const char *who, size_t wholen, uint64_t req,
                              double deadline)
{
    waiter_t *w = lux_calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    w->wid = ++n->next_waiter;
    w->kind = (uint8_t)kind;
    memcpy(w->who, who, wholen);
    w->wholen = (uint8_t)wholen;
    w->req = req;
    w->deadline = deadline;
    lux_id_t key = lux_id_u64(w->wid);
    if (lux_idmap_put(&n->waiters, &key, w) != 0) {
        lux_free(w);
        return NULL;
    }
    return w;
}

void lux_node_check_deadlines(lux_node_t *n, double now)
{
    for (waiter_t *w = n->timed, *next; w; w = next) {
        next = w->next;
        if (w->deadline > now)
            continue;
        switch (w->kind) {
        case WT_GET:
        case WT_WAIT:
            waiter_complete(n, w, 1);
            break;
        case WT_PGWAIT:
            lux_node_reply(n, w->who, w->wholen, w->req, LUX_ETIMEDOUT, 0, NULL, 0);
            lux_node_waiter_free(n, w);
            break;
        case WT_ALLOC: {
            obj_t *o = lux_node_obj_get(n, &w->obj);
            char msg[256];
            snprintf(msg, sizeof msg,
                     "object store full: no room for %llu bytes (capacity %llu, in use %llu)",
                     (unsigned long long)w->len, (unsigned long long)n->capacity,
                     (unsigned long long)(n->inline_used + n->arena.used));
            lux_node_reply(n, w->who, w->wholen, w->req, LUX_EFULL, 0, msg, strlen(msg));
            if (o != NULL) {
                lux_node_obj_set_error(n, o, LUX_EFULL, msg);
                lux_node_obj_maybe_free(n, o);
            }
            lux_node_waiter_free(n, w);
            break;
        }
        case WT_PUT: {
            obj_t *o = lux_node_obj_get(n, &w->obj);
            char msg[256];
            snprintf(msg, sizeof msg,
                     "object store full: put of %llu bytes timed out waiting for room "
                     "(capacity %llu)",
                     (unsigned long long)w->len, (unsigned long long)n->capacity);
            if (o != NULL) {
                lux_node_obj_set_error(n, o, LUX_EFULL, msg);
                lux_node_obj_maybe_free(n, o);
            }
            lux_node_waiter_free(n, w);
            break;
        }
        }
    }
}

/* Drops the creation reference of every object a gone process made and did
 * not release (a driver that exited or was killed, a dead worker's puts and
 * child tasks), so the store does not keep them forever. */
void lux_node_drop_owned(lux_node_t *n, const char *who)
{
    size_t count = 0, cap = 0;
    lux_id_t *ids = NULL;
    for (size_t i = 0; i < n->objects.cap; i++) {
        obj_t *o = n->objects.vals[i];
        if (o == NULL || o->owner_released || memcmp(o->owner, who, 5) != 0)
            continue;
        if (count == cap) {
            cap = cap ? 2 * cap : 64;
            lux_id_t *more = lux_realloc(ids, cap * sizeof *ids);
            if (more == NULL)
                break;
            ids = more;
        }
        ids[count++] = o->id;
    }
    for (size_t i = 0; i < count; i++) {
        obj_t *o = lux_node_obj_get(n, &ids[i]);
        if (o == NULL)
            continue;
        o->owner_released = 1;
        o->refs--;
        lux_node_obj_maybe_free(n, o);
    }
    lux_free(ids);
}

/* ---- message handlers ---- */

static void get_or_wait(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m, int kind)
{
    uint32_t num = kind == WT_GET ? m->nids : (uint32_t)m->b;
    waiter_t *w = lux_node_waiter_new(n, kind, who, wholen, m->req, lux_node_deadline(m->a));
    if (w == NULL) {
        lux_node_reply(n, who, wholen, m->req, LUX_ENOMEM, 0, NULL, 0);
        return;
    }
    w->ids = lux_malloc((m->nids ? m->nids : 1) * sizeof *w->ids);
    if (w->ids == NULL) {
        lux_node_waiter_free(n, w);
        lux_node_reply(n, who, wholen, m->req, LUX_ENOMEM, 0, NULL, 0);
        return;
    }
    memcpy(w->ids, m->ids, 16 * (size_t)m->nids);
    w->nids = m->nids;
    w->num_returns = num;
    for (uint32_t i = 0; i < m->nids; i++) {
        obj_t *o = lux_node_obj_get(n, &w->ids[i]);
        if (o == NULL) {
            if (kind == WT_GET) {
                char msg[128];
                snprintf(msg, sizeof msg, "object %u of the request is unknown or was freed", i);
                lux_node_reply(n, who, wholen, m->req, LUX_ENOENT, i, msg, strlen(msg));
                for (uint32_t j = 0; j < i; j++) {
                    obj_t *p = lux_node_obj_get(n, &w->ids[j]);
                    if (p == NULL)
                        continue;
                    for (uint32_t k = 0; k < p->nwait; k++) {
                        if (p->waiters[k] == (w->wid | WAITER_BIT)) {
                            p->waiters[k] = p->waiters[--p->nwait];
                            break;
                        }
                    }
                }
                lux_node_waiter_free(n, w);
                return;
            }
            w->ready++;
        } else if (o->state != OBJ_PENDING) {
            w->ready++;
        } else {
            lux_node_obj_add_waiter(o, w->wid | WAITER_BIT);
        }
    }
    if (w->ready >= w->num_returns || w->deadline <= lux_clock_monotonic_s()) {
        waiter_complete(n, w, w->ready < w->num_returns);
        return;
    }
    if (isfinite(w->deadline))
        lux_node_timed_add(n, w);
    /* A worker blocked here lends its CPU back. */
    worker_t *wk = lux_node_worker_of(n, who, wholen);
    if (wk != NULL && !wk->blocked && (wk->task != NULL || wk->actor != NULL)) {
        memset(&wk->lent, 0, sizeof wk->lent);
        wk->lent.v[LUX_RES_CPU] = wk->held.v[LUX_RES_CPU];
        if (wk->pool_pg == NULL || lux_idmap_get(&n->pgs, &wk->pool_pg->id) == wk->pool_pg)
            lux_resv_add(lux_node_pool_avail(n, wk->pool_pg, wk->pool_bundle), &wk->lent);
        wk->blocked = 1;
        w->lender = wk;
        n->dirty = 1;
    }
}

void lux_node_on_GET(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    get_or_wait(n, who, wholen, m, WT_GET);
}

void lux_node_on_WAIT(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    if (m->b > m->nids)
        lux_node_reply(n, who, wholen, m->req, LUX_EINVAL, 0, NULL, 0);
    else
        get_or_wait(n, who, wholen, m, WT_WAIT);
}

void lux_node_on_PUT(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    if (m->nblobs != 1 || m->blobs[0].kind != LUX_BLOB_VALUE || lux_node_obj_get(n, &m->id) != NULL)
        return;
    obj_t *o = lux_node_obj_new(n, &m->id, 0, who, wholen);
    if (o == NULL)
        return;
    uint64_t len = m->blobs[0].len;
    if (store_room(n, len) && n->timed == NULL) {
        lux_node_obj_set_value(n, o, m->blobs[0].data, len);
        return;
    }
    if (len > n->capacity) {
        char msg[200];
        snprintf(msg, sizeof msg, "object store full: %llu bytes exceed the capacity %llu",
                 (unsigned long long)len, (unsigned long long)n->capacity);
        lux_node_obj_set_error(n, o, LUX_EFULL, msg);
        return;
    }
    waiter_t *w = lux_node_waiter_new(n, WT_PUT, "", 0, 0, lux_node_deadline(m->a));
    if (w == NULL || (w->data = lux_malloc(len ? len : 1)) == NULL) {
        if (w)
            lux_node_waiter_free(n, w);
        lux_node_obj_set_error(n, o, LUX_ENOMEM, "node out of memory");
        return;
    }
    memcpy(w->data, m->blobs[0].data, len);
    w->len = len;
    w->obj = m->id;
    lux_node_timed_add(n, w);
}

void lux_node_on_PUT_ALLOC(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    obj_t *o = lux_node_obj_get(n, &m->id);
    if (o == NULL) {
        if (lux_id_kind(&m->id) != LUX_IDK_PUT) {
            lux_node_reply(n, who, wholen, m->req, LUX_ENOENT, 0, NULL, 0);
            return;
        }
        o = lux_node_obj_new(n, &m->id, 0, who, wholen);
        if (o == NULL) {
            lux_node_reply(n, who, wholen, m->req, LUX_ENOMEM, 0, NULL, 0);
            return;
        }
    } else if (o->state != OBJ_PENDING || o->in_arena) {
        lux_node_reply(n, who, wholen, m->req, LUX_EEXIST, 0, NULL, 0);
        return;
    }
    if (m->a > n->arena.size) {
        char msg[200];
        snprintf(msg, sizeof msg, "object store full: %llu bytes exceed the capacity %llu",
                 (unsigned long long)m->a, (unsigned long long)n->arena.size);
        lux_node_reply(n, who, wholen, m->req, LUX_EFULL, 0, msg, strlen(msg));
        lux_node_obj_set_error(n, o, LUX_EFULL, msg);
        lux_node_obj_maybe_free(n, o);
        return;
    }
    int has_alloc_waiters = 0;
    for (waiter_t *w = n->timed; w; w = w->next)
        has_alloc_waiters |= w->kind == WT_ALLOC || w->kind == WT_PUT;
    if (!has_alloc_waiters && do_alloc(n, o, m->a) == 0) {
        lux_node_reply(n, who, wholen, m->req, 0, o->off, NULL, 0);
        return;
    }
    waiter_t *w = lux_node_waiter_new(n, WT_ALLOC, who, wholen, m->req, lux_node_deadline(m->b));
    if (w == NULL) {
        lux_node_reply(n, who, wholen, m->req, LUX_ENOMEM, 0, NULL, 0);
        return;
    }
    w->obj = m->id;
    w->len = m->a;
    lux_node_timed_add(n, w);
}

void lux_node_on_PUT_SEAL(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    (void)who;
    (void)wholen;
    obj_t *o = lux_node_obj_get(n, &m->id);
    if (o == NULL || !o->in_arena || !o->alloc_pending || o->off != m->a || o->len != m->b)
        return;
    o->alloc_pending = 0;
    o->state = OBJ_READY;
    lux_node_on_object_ready(n, o);
    lux_node_obj_maybe_free(n, o);
}

static void refs(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    for (uint32_t i = 0; i < m->nids; i++) {
        lux_id_t id;
        memcpy(&id, &m->ids[i], sizeof id);
        obj_t *o = lux_node_obj_get(n, &id);
        if (o == NULL)
            continue;
        if (m->type == LUX_MSG_RETAIN)
            o->refs++;
        else if (m->type == LUX_MSG_RELEASE) {
            o->refs--;
            if (wholen == 5 && memcmp(o->owner, who, 5) == 0)
                o->owner_released = 1;
        } else
            o->pins--;
        lux_node_obj_maybe_free(n, o);
    }
}

void lux_node_on_RETAIN(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    refs(n, who, wholen, m);
}

void lux_node_on_RELEASE(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    refs(n, who, wholen, m);
}

void lux_node_on_UNPIN(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    refs(n, who, wholen, m);
}
