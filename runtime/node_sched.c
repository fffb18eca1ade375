/*
 * Scheduling in the node (node_int.h): where a task's resources come from
 * (the node's pool or a placement group's bundle), which worker runs it,
 * the task lifecycle from SUBMIT to done, cancellation, and placement groups
 * (PG_CREATE, PG_WAIT, PG_REMOVE).
 *
 * schedule() runs once per loop iteration when something changed
 * (n->dirty) and walks the ready queue in order, giving up after 32 tasks
 * that cannot start, so a long queue of blocked work costs little. When no
 * new lease is possible, tasks of the same shape are pipelined to busy
 * workers (see try_pipeline). Infeasible requests fail at once; merely busy
 * ones wait.
 */
#include "node_int.h"

#include "alloc.h"
#include "clock.h"
#include "error.h"
#include "log.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Messages are cut to their buffers on purpose. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

/* ---- resources, pools ---- */

/* Chooses where a task's resources come from. Returns 1 and fills pool/bundle
 * when they can be taken now, 0 when not now, -1 when never (error message
 * in why). */
static int pick_pool(lux_node_t *n, task_t *t, pg_t **pg_out, int *bundle_out, const char **why)
{
    *pg_out = NULL;
    *bundle_out = -1;
    if (lux_id_kind(&t->pg_id) != LUX_IDK_PG) {
        if (!lux_resv_fits(&n->total, &t->need)) {
            *why = "the request exceeds this node's total resources";
            return -1;
        }
        return lux_resv_fits(&n->avail, &t->need);
    }
    pg_t *pg = lux_idmap_get(&n->pgs, &t->pg_id);
    if (pg == NULL) {
        *why = "its placement group was removed";
        return -1;
    }
    if (!pg->ready)
        return 0;
    *pg_out = pg;
    if (t->bundle >= pg->nbundles) {
        *why = "bundle index out of range for its placement group";
        return -1;
    }
    int feasible = 0;
    for (int b = 0; b < pg->nbundles; b++) {
        if (t->bundle >= 0 && b != t->bundle)
            continue;
        if (lux_resv_fits(&pg->bundles[b].total, &t->need))
            feasible = 1;
        if (lux_resv_fits(&pg->bundles[b].avail, &t->need)) {
            *bundle_out = b;
            return 1;
        }
    }
    if (!feasible) {
        *why = "the request exceeds every eligible bundle of its placement group";
        return -1;
    }
    return 0;
}

lux_resv_t *lux_node_pool_avail(lux_node_t *n, pg_t *pg, int bundle)
{
    return pg ? &pg->bundles[bundle].avail : &n->avail;
}

/* ---- dispatch ---- */

static void fill_arg_blob(lux_node_t *n, task_t *t, uint32_t i, lux_blob_t *b)
{
    arg_t *a = &t->args[i];
    memset(b, 0, sizeof *b);
    if (!a->is_ref) {
        b->kind = LUX_BLOB_VALUE;
        b->data = t->argbuf + a->off;
        b->len = a->len;
        return;
    }
    obj_t *o = lux_node_obj_get(n, &a->id);
    if (o == NULL || o->state != OBJ_READY) {
        b->kind = LUX_BLOB_VALUE;
        b->len = 0;
        b->data = "";
        return;
    }
    if (o->in_arena) {
        b->kind = LUX_BLOB_SHM;
        b->id = o->id;
        b->off = o->off;
        b->len = o->len;
    } else {
        b->kind = LUX_BLOB_VALUE;
        b->data = o->data;
        b->len = o->len;
    }
}

void lux_node_send_execute(lux_node_t *n, worker_t *w, task_t *t)
{
    lux_blob_t stack[8];
    lux_blob_t *blobs = t->nargs <= 8 ? stack : lux_calloc(t->nargs, sizeof *blobs);
    if (blobs == NULL) {
        lux_log_error("node: out of memory sending a task");
        return;
    }
    for (uint32_t i = 0; i < t->nargs; i++)
        fill_arg_blob(n, t, i, &blobs[i]);
    lux_msg_t m = {.type = LUX_MSG_EXECUTE, .req = t->id, .a = t->kind};
    if (t->actor)
        m.id = t->actor->id;
    m.name = t->name;
    m.name_len = (uint32_t)strlen(t->name);
    m.blobs = blobs;
    m.nblobs = t->nargs;
    m.opts.num_returns = t->num_returns;
    m.opts.pg = t->pg_id;
    m.opts.bundle_index = t->bundle;
    lux_node_send_msg(n, w->ident, 5, &m);
    if (blobs != stack)
        lux_free(blobs);
}

static void gpu_string(lux_node_t *n, int count, char *buf, size_t cap, int *ids, int *nids)
{
    buf[0] = '\0';
    *nids = 0;
    size_t len = 0;
    for (int g = 0; g < n->ngpus && *nids < count; g++) {
        if (n->gpu_used[g])
            continue;
        ids[(*nids)++] = g;
        len += (size_t)snprintf(buf + len, cap - len, "%s%d", len ? "," : "", g);
    }
}

static void run_on(lux_node_t *n, task_t *t, worker_t *w, pg_t *pg, int bundle)
{
    w->held = t->need;
    w->pool_pg = pg;
    w->pool_bundle = bundle;
    lux_resv_sub(lux_node_pool_avail(n, pg, bundle), &t->need);
    t->state = TS_RUNNING;
    t->worker = w;
    n->running++;
    if (t->kind == T_CTOR) {
        actor_t *a = t->actor;
        a->worker = w;
        w->actor = a;
        w->state = W_ACTOR;
    } else {
        w->state = W_BUSY;
        w->task = t;
    }
    if (w->registered)
        lux_node_send_execute(n, w, t);
}

/* Tasks beyond a worker's current one, sent ahead so that it never waits
 * for the node between two tasks (Ray's pipelining to a leased worker).
 * Only tasks of the same shape (resources, pool) as the lease, only when no
 * new lease is possible, and a worker that blocks in get hands them back
 * (DEFER), so nesting cannot deadlock behind a pipelined task. */

static int try_pipeline(lux_node_t *n, task_t *t)
{
    if (t->kind != T_TASK || t->need.v[LUX_RES_GPU] > 0)
        return 0;
    worker_t *best = NULL;
    for (size_t i = 0; i < n->nworkers; i++) {
        worker_t *w = n->workers[i];
        if (w->state != W_BUSY || !w->registered || w->blocked || w->task == NULL ||
            w->pipe.n >= n->pipe_depth || memcmp(&w->held, &t->need, sizeof t->need) != 0)
            continue;
        if (lux_id_kind(&t->pg_id) == LUX_IDK_PG) {
            if (w->pool_pg == NULL || memcmp(w->pool_pg->id.b, t->pg_id.b, 16) != 0 ||
                (t->bundle >= 0 && w->pool_bundle != t->bundle))
                continue;
        } else if (w->pool_pg != NULL) {
            continue;
        }
        if (best == NULL || w->pipe.n < best->pipe.n)
            best = w;
    }
    if (best == NULL)
        return 0;
    lux_node_q_remove(&n->ready, t);
    lux_node_q_push(&best->pipe, t, 0);
    t->queued_in = 4;
    t->state = TS_RUNNING;
    t->worker = best;
    lux_node_send_execute(n, best, t);
    return 1;
}

/* Tries to start one queued task. Returns 1 if started, 0 if it must wait,
 * -1 if it failed for good (removed from the queue). */
static int try_dispatch(lux_node_t *n, task_t *t, size_t *plain, size_t blocked)
{
    pg_t *pg;
    int bundle;
    const char *why = NULL;
    int ok = pick_pool(n, t, &pg, &bundle, &why);
    if (ok < 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "task '%s' cannot be scheduled: %s", t->name, why);
        lux_node_q_remove(&n->ready, t);
        t->queued_in = 0;
        lux_node_task_fail(n, t, LUX_EINFEASIBLE, msg);
        return -1;
    }
    if (ok == 0)
        return try_pipeline(n, t);
    int ngpu = (int)((t->need.v[LUX_RES_GPU] + LUX_RES_UNIT - 1) / LUX_RES_UNIT);
    char gpus[64] = "";
    int ids[16], nids = 0;
    if (ngpu > 0) {
        gpu_string(n, ngpu, gpus, sizeof gpus, ids, &nids);
        if (nids < ngpu)
            return 0;
    }
    worker_t *w = NULL;
    if (t->kind != T_CTOR) {
        for (worker_t *c = n->idle; c; c = c->next_idle) {
            if (strcmp(c->gpus, gpus) == 0) {
                w = c;
                break;
            }
        }
        if (w != NULL) {
            lux_node_idle_remove(n, w);
        } else {
            size_t cap = (size_t)(4 * n->ncpus_int > 8 ? 4 * n->ncpus_int : 8);
            if (*plain - blocked >= cap) {
                /* Make room: retire an idle worker with other GPUs. */
                if (n->idle == NULL)
                    return try_pipeline(n, t);
                worker_t *victim = n->idle;
                lux_node_idle_remove(n, victim);
                kill(victim->pid, SIGKILL);
            }
            if (lux_node_spawn_worker(n, gpus, &w) != 0)
                return 0;
            (*plain)++;
        }
    } else if (lux_node_spawn_worker(n, gpus, &w) != 0) {
        return 0;
    }
    for (int i = 0; i < nids; i++) {
        n->gpu_used[ids[i]] = 1;
        w->gpu_ids[i] = ids[i];
    }
    w->ngpu = nids;
    lux_node_q_remove(&n->ready, t);
    t->queued_in = 0;
    run_on(n, t, w, pg, bundle);
    return 1;
}

void lux_node_schedule(lux_node_t *n)
{
    n->dirty = 0;
    size_t blocked;
    size_t plain = lux_node_count_plain_workers(n, &blocked);
    int misses = 0;
    for (task_t *t = n->ready.head, *next; t && misses < 32; t = next) {
        next = t->next;
        int r = try_dispatch(n, t, &plain, blocked);
        if (r == 0)
            misses++;
    }
}

/* ---- task lifecycle ---- */

void lux_node_unpin_args(lux_node_t *n, task_t *t)
{
    for (uint32_t i = 0; i < t->nargs; i++) {
        if (!t->args[i].is_ref)
            continue;
        obj_t *o = lux_node_obj_get(n, &t->args[i].id);
        if (o != NULL) {
            o->pins--;
            lux_node_obj_maybe_free(n, o);
        }
    }
}

static void task_free(lux_node_t *n, task_t *t)
{
    lux_id_t key = lux_id_u64(t->id);
    lux_idmap_del(&n->tasks, &key);
    lux_free(t->argbuf);
    lux_free(t->args);
    lux_free(t);
}

void lux_node_task_done(lux_node_t *n, task_t *t)
{
    t->state = TS_DONE;
    lux_node_unpin_args(n, t);
    if (t->kind == T_CTOR)
        return; /* the actor keeps its constructor for restarts */
    task_free(n, t);
}

void lux_node_task_fail(lux_node_t *n, task_t *t, int code, const char *msg)
{
    if (t->kind != T_CTOR) {
        for (int i = 0; i < t->num_returns; i++) {
            lux_id_t id = lux_id_make(t->id, (uint32_t)i, LUX_IDK_RETURN);
            obj_t *o = lux_node_obj_get(n, &id);
            if (o != NULL) {
                lux_node_obj_set_error(n, o, code, msg);
                lux_node_obj_maybe_free(n, o);
            }
        }
    }
    lux_node_task_done(n, t);
}

void lux_node_enqueue_ready(lux_node_t *n, task_t *t, int front)
{
    if (t->kind == T_METHOD) {
        t->state = TS_QUEUED;
        lux_node_actor_send_calls(n, t->actor);
        return;
    }
    t->state = TS_QUEUED;
    lux_node_q_push(&n->ready, t, front);
    t->queued_in = 1;
    n->dirty = 1;
}

/* ---- placement groups ---- */

void lux_node_pg_try_reserve(lux_node_t *n)
{
    for (pg_t **p = &n->pending_pgs; *p;) {
        pg_t *pg = *p;
        lux_resv_t sum;
        memset(&sum, 0, sizeof sum);
        for (int b = 0; b < pg->nbundles; b++)
            lux_resv_add(&sum, &pg->bundles[b].total);
        if (lux_resv_fits(&n->avail, &sum)) {
            lux_resv_sub(&n->avail, &sum);
            pg->ready = 1;
            *p = pg->next_pending;
            pg->next_pending = NULL;
            /* Wake PG_WAIT waiters. */
            for (waiter_t *w = n->timed, *next; w; w = next) {
                next = w->next;
                if (w->kind == WT_PGWAIT && memcmp(w->obj.b, pg->id.b, 16) == 0) {
                    lux_node_reply(n, w->who, w->wholen, w->req, 0, 0, NULL, 0);
                    lux_node_waiter_free(n, w);
                }
            }
            n->dirty = 1;
        } else {
            /* Groups are reserved in order of creation. */
            break;
        }
    }
}

/* ---- message handlers ---- */

int lux_node_parse_need(lux_node_t *n, const lux_msg_t *m, lux_resv_t *need, int bundle)
{
    memset(need, 0, sizeof *need);
    for (uint32_t i = 0; i < m->nres; i++) {
        if ((int)m->res[i].bundle != bundle)
            continue;
        int k = lux_resnames_index(&n->names, m->res[i].name, 0);
        if (k < 0)
            return -1; /* unknown resource: no node has it */
        need->v[k] += m->res[i].amount;
    }
    return 0;
}

static int copy_args(task_t *t, const lux_msg_t *m)
{
    size_t total = 0;
    for (uint32_t i = 0; i < m->nblobs; i++)
        if (m->blobs[i].kind == LUX_BLOB_VALUE)
            total += m->blobs[i].len;
    t->nargs = m->nblobs;
    t->args = lux_calloc(m->nblobs ? m->nblobs : 1, sizeof *t->args);
    t->argbuf = lux_malloc(total ? total : 1);
    if (t->args == NULL || t->argbuf == NULL)
        return LUX_ENOMEM;
    size_t off = 0;
    for (uint32_t i = 0; i < m->nblobs; i++) {
        const lux_blob_t *b = &m->blobs[i];
        if (b->kind == LUX_BLOB_REF) {
            t->args[i].is_ref = 1;
            t->args[i].id = b->id;
        } else if (b->kind == LUX_BLOB_VALUE) {
            memcpy(t->argbuf + off, b->data, b->len);
            t->args[i].off = off;
            t->args[i].len = b->len;
            off += b->len;
        } else {
            return LUX_EPROTO;
        }
    }
    return 0;
}

/* Pins ref arguments and counts the ones not ready. Returns 0 or the code
 * of a missing argument. */
static int resolve_args(lux_node_t *n, task_t *t, char *why, size_t cap)
{
    t->missing = 0;
    for (uint32_t i = 0; i < t->nargs; i++) {
        if (!t->args[i].is_ref)
            continue;
        obj_t *o = lux_node_obj_get(n, &t->args[i].id);
        if (o == NULL) {
            for (uint32_t j = 0; j < i; j++) {
                if (t->args[j].is_ref) {
                    obj_t *p = lux_node_obj_get(n, &t->args[j].id);
                    if (p) {
                        p->pins--;
                        lux_node_obj_maybe_free(n, p);
                    }
                }
            }
            t->nargs = 0; /* nothing more to unpin */
            snprintf(why, cap, "argument %u of task '%s' refers to an unknown or freed object", i,
                     t->name);
            return LUX_ENOENT;
        }
        o->pins++;
        if (o->state == OBJ_PENDING) {
            t->missing++;
            lux_node_obj_add_waiter(o, t->id);
        }
    }
    return 0;
}

/* The group a submitter's tasks inherit by default. */
void lux_node_capture_pg(lux_node_t *n, const char *who, size_t wholen, task_t *t)
{
    if (lux_id_kind(&t->pg_id) == LUX_IDK_PG || (t->flags & LUX_OPT_NO_CAPTURE))
        return;
    worker_t *w = lux_node_worker_of(n, who, wholen);
    if (w == NULL)
        return;
    task_t *cur = w->actor ? w->actor->ctor : w->task;
    if (cur != NULL && lux_id_kind(&cur->pg_id) == LUX_IDK_PG) {
        t->pg_id = cur->pg_id;
        t->bundle = -1;
    }
}

task_t *lux_node_task_from_msg(lux_node_t *n, const lux_msg_t *m, int kind)
{
    task_t *t = lux_calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->id = m->req;
    t->kind = (uint8_t)kind;
    t->name = lux_node_intern(n, m->name, m->name_len);
    t->num_returns = m->opts.num_returns > 0 ? m->opts.num_returns : 1;
    t->retries_left = m->opts.max_retries;
    t->retry_exceptions = m->opts.retry_exceptions;
    t->pg_id = m->opts.pg;
    t->bundle = m->opts.bundle_index;
    t->flags = m->opts.flags;
    if (copy_args(t, m) != 0) {
        lux_free(t->args);
        lux_free(t->argbuf);
        lux_free(t);
        return NULL;
    }
    lux_id_t key = lux_id_u64(t->id);
    if (lux_idmap_put(&n->tasks, &key, t) != 0) {
        lux_free(t->args);
        lux_free(t->argbuf);
        lux_free(t);
        return NULL;
    }
    return t;
}

void lux_node_start_task(lux_node_t *n, task_t *t, int unknown_res)
{
    char why[512];
    if (unknown_res) {
        snprintf(why, sizeof why,
                 "task '%s' cannot be scheduled: it asks for a resource no node has", t->name);
        t->nargs = 0;
        lux_node_task_fail(n, t, LUX_EINFEASIBLE, why);
        return;
    }
    int rc = resolve_args(n, t, why, sizeof why);
    if (rc) {
        lux_node_task_fail(n, t, rc, why);
        return;
    }
    if (t->kind == T_METHOD) {
        t->state = t->missing ? TS_WAITING : TS_QUEUED;
        lux_node_q_push(&t->actor->queue, t, 0);
        t->queued_in = 2;
        lux_node_actor_send_calls(n, t->actor);
        return;
    }
    if (t->missing == 0)
        lux_node_enqueue_ready(n, t, 0);
    else
        t->state = TS_WAITING;
}

void lux_node_on_SUBMIT(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    task_t *t = lux_node_task_from_msg(n, m, T_TASK);
    if (t == NULL) {
        lux_log_error("node: out of memory accepting task '%.*s'", (int)m->name_len, m->name);
        return;
    }
    for (int i = 0; i < t->num_returns; i++) {
        lux_id_t id = lux_id_make(t->id, (uint32_t)i, LUX_IDK_RETURN);
        lux_node_obj_new(n, &id, t->id, who, wholen);
    }
    int bad = lux_node_parse_need(n, m, &t->need, 0) != 0;
    lux_node_capture_pg(n, who, wholen, t);
    lux_node_start_task(n, t, bad);
}

void lux_node_on_CANCEL(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    lux_id_t key = lux_id_u64(lux_id_task(&m->id));
    task_t *t = lux_idmap_get(&n->tasks, &key);
    if (t == NULL || t->kind == T_CTOR) {
        lux_node_reply(n, who, wholen, m->req, LUX_ENOENT, 0, NULL, 0);
        return;
    }
    char msg[300];
    snprintf(msg, sizeof msg, "task '%s' was cancelled", t->name);
    if (t->state == TS_WAITING || t->state == TS_QUEUED) {
        if (t->queued_in == 1)
            lux_node_q_remove(&n->ready, t);
        else if (t->queued_in == 2)
            lux_node_q_remove(&t->actor->queue, t);
        lux_node_task_fail(n, t, LUX_ECANCELLED, msg);
        lux_node_reply(n, who, wholen, m->req, 0, 0, NULL, 0);
        return;
    }
    if (t->queued_in == 4) {
        /* Sent ahead to a worker but not started: its result will be dropped. */
        lux_node_q_remove(&t->worker->pipe, t);
        t->queued_in = 0;
        lux_node_task_fail(n, t, LUX_ECANCELLED, msg);
        lux_node_reply(n, who, wholen, m->req, 0, 0, NULL, 0);
        return;
    }
    if (t->state == TS_RUNNING && m->a && t->kind == T_TASK && t->worker) {
        worker_t *w = t->worker;
        t->retries_left = 0;
        w->task = NULL;
        n->running--;
        lux_node_task_fail(n, t, LUX_ECANCELLED, msg);
        kill(w->pid, SIGKILL);
        lux_node_reply(n, who, wholen, m->req, 0, 0, NULL, 0);
        return;
    }
    lux_node_reply(n, who, wholen, m->req, LUX_EBUSY, 0, NULL, 0);
}

void lux_node_on_PG_CREATE(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    int nb = (int)m->b;
    if (nb < 1 || nb > 1024 || m->a > 3 || lux_idmap_get(&n->pgs, &m->id)) {
        lux_node_reply(n, who, wholen, m->req, LUX_EINVAL, 0, NULL, 0);
        return;
    }
    pg_t *pg = lux_calloc(1, sizeof *pg);
    if (pg)
        pg->bundles = lux_calloc((size_t)nb, sizeof *pg->bundles);
    if (pg == NULL || pg->bundles == NULL) {
        if (pg)
            lux_free(pg);
        lux_node_reply(n, who, wholen, m->req, LUX_ENOMEM, 0, NULL, 0);
        return;
    }
    pg->id = m->id;
    pg->strategy = (int)m->a;
    pg->nbundles = nb;
    lux_resv_t sum;
    memset(&sum, 0, sizeof sum);
    const char *why = NULL;
    for (int b = 0; b < nb; b++) {
        if (lux_node_parse_need(n, m, &pg->bundles[b].total, b) != 0)
            why = "a bundle asks for a resource no node has";
        pg->bundles[b].avail = pg->bundles[b].total;
        lux_resv_add(&sum, &pg->bundles[b].total);
    }
    if (why == NULL && pg->strategy == LUX_PG_STRICT_SPREAD && nb > 1)
        why = "STRICT_SPREAD needs one node per bundle and the cluster has 1 node";
    if (why == NULL && !lux_resv_fits(&n->total, &sum))
        why = "its bundles together exceed the node's total resources";
    if (why != NULL) {
        char msg[256];
        snprintf(msg, sizeof msg, "placement group is infeasible: %s", why);
        lux_node_reply(n, who, wholen, m->req, LUX_EINFEASIBLE, 0, msg, strlen(msg));
        lux_free(pg->bundles);
        lux_free(pg);
        return;
    }
    lux_idmap_put(&n->pgs, &pg->id, pg);
    pg_t **p = &n->pending_pgs;
    while (*p)
        p = &(*p)->next_pending;
    *p = pg;
    lux_node_pg_try_reserve(n);
    lux_node_reply(n, who, wholen, m->req, 0, 0, NULL, 0);
}

void lux_node_on_PG_REMOVE(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    pg_t *pg = lux_idmap_del(&n->pgs, &m->id);
    if (pg == NULL) {
        lux_node_reply(n, who, wholen, m->req, LUX_ENOENT, 0, NULL, 0);
        return;
    }
    if (pg->ready) {
        for (int b = 0; b < pg->nbundles; b++)
            lux_resv_add(&n->avail, &pg->bundles[b].total);
    } else {
        for (pg_t **p = &n->pending_pgs; *p; p = &(*p)->next_pending) {
            if (*p == pg) {
                *p = pg->next_pending;
                break;
            }
        }
    }
    /* Kill what runs in it: workers holding its resources. */
    for (size_t i = 0; i < n->nworkers; i++) {
        worker_t *w = n->workers[i];
        if (w->pool_pg == pg) {
            w->pool_pg = NULL;
            memset(&w->held, 0, sizeof w->held);
            memset(&w->lent, 0, sizeof w->lent);
            if (w->actor) {
                w->actor->max_restarts = w->actor->restarts;
                if (w->actor->death == NULL)
                    w->actor->death = lux_strdup("its placement group was removed");
            }
            if (w->task)
                w->task->retries_left = 0;
            kill(w->pid, SIGKILL);
        }
    }
    for (waiter_t *w = n->timed, *next; w; w = next) {
        next = w->next;
        if (w->kind == WT_PGWAIT && memcmp(w->obj.b, pg->id.b, 16) == 0) {
            lux_node_reply(n, w->who, w->wholen, w->req, LUX_ENOENT, 0, NULL, 0);
            lux_node_waiter_free(n, w);
        }
    }
    lux_free(pg->bundles);
    lux_free(pg);
    lux_node_pg_try_reserve(n);
    n->dirty = 1;
    lux_node_reply(n, who, wholen, m->req, 0, 0, NULL, 0);
}

void lux_node_on_PG_WAIT(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    pg_t *pg = lux_idmap_get(&n->pgs, &m->id);
    if (pg == NULL || pg->ready) {
        lux_node_reply(n, who, wholen, m->req, pg ? 0 : LUX_ENOENT, 0, NULL, 0);
        return;
    }
    waiter_t *w = lux_node_waiter_new(n, WT_PGWAIT, who, wholen, m->req, lux_node_deadline(m->a));
    if (w == NULL) {
        lux_node_reply(n, who, wholen, m->req, LUX_ENOMEM, 0, NULL, 0);
        return;
    }
    w->obj = m->id;
    lux_node_timed_add(n, w);
}
