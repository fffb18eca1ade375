/*
 * The node (node.h): one thread owns every structure of node_int.h and
 * serves one ZeroMQ ROUTER socket; drivers and workers are DEALER peers
 * whose routing ids say who they are ("W" + worker id, "D" + driver pid).
 * Nothing is shared with another thread, so there are no locks.
 *
 * Tasks move WAITING (argument objects not ready) -> QUEUED (ready, waiting
 * for resources and a worker) -> RUNNING -> done. Objects are entries of an
 * id map with a reference count (clients' refs), a pin count (task
 * arguments, zero-copy get views) and a list of waiters (tasks and
 * get/wait requests, by id, so a finished waiter is simply not found).
 * Small objects are heap copies; large ones are extents of a memfd arena
 * that every process maps (opened through /proc/<node pid>/fd/<fd>).
 *
 * Resources are int64 vectors in 1/10000 units. A placement group reserves
 * its bundles out of the node's pool; tasks in a group draw from a bundle.
 * A worker blocked in get/wait gives its CPU back until it is answered.
 * Worker deaths are seen at once through pidfds in the poll set.
 *
 * This file is the loop and what surrounds it: creation and destruction,
 * the outgoing batches (messages to one peer within a loop iteration go in
 * one frame), drivers coming and going, status, and the dispatch table that
 * sends each message to its handler in the file of its part (node_int.h
 * has the map of files).
 */
#include "node_int.h"
#include "rundir.h"
#include "storesize.h"

#include "alloc.h"
#include "clock.h"
#include "error.h"
#include "log.h"

#include <jansson.h>
#include <zmq.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Messages and paths are cut to their buffers on purpose. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

/* ---- ids ---- */

lux_id_t lux_id_make(uint64_t task, uint32_t index, uint32_t kind)
{
    lux_id_t id;
    for (int i = 0; i < 8; i++)
        id.b[i] = (uint8_t)(task >> (8 * i));
    for (int i = 0; i < 4; i++) {
        id.b[8 + i] = (uint8_t)(index >> (8 * i));
        id.b[12 + i] = (uint8_t)(kind >> (8 * i));
    }
    return id;
}

uint64_t lux_id_task(const lux_id_t *id)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | id->b[i];
    return v;
}

uint32_t lux_id_kind(const lux_id_t *id)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | id->b[12 + i];
    return v;
}

double lux_node_deadline(uint64_t timeout_us)
{
    return timeout_us == LUX_FOREVER ? INFINITY
                                     : lux_clock_monotonic_s() + (double)timeout_us * 1e-6;
}

/* ---- small helpers ---- */

const char *lux_node_intern(lux_node_t *n, const char *s, size_t len)
{
    for (size_t i = 0; i < n->ninterned; i++)
        if (strlen(n->names_interned[i]) == len && memcmp(n->names_interned[i], s, len) == 0)
            return n->names_interned[i];
    const char **arr = lux_realloc(n->names_interned, (n->ninterned + 1) * sizeof *arr);
    if (arr == NULL)
        return "?";
    n->names_interned = arr;
    char *copy = lux_strndup(s, len);
    if (copy == NULL)
        return "?";
    arr[n->ninterned++] = copy;
    return copy;
}

void lux_node_q_push(tqueue_t *q, task_t *t, int front)
{
    t->next = t->prev = NULL;
    if (q->head == NULL) {
        q->head = q->tail = t;
    } else if (front) {
        t->next = q->head;
        q->head->prev = t;
        q->head = t;
    } else {
        t->prev = q->tail;
        q->tail->next = t;
        q->tail = t;
    }
    q->n++;
}

void lux_node_q_remove(tqueue_t *q, task_t *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        q->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        q->tail = t->prev;
    t->next = t->prev = NULL;
    q->n--;
}

static outbox_t *outbox(lux_node_t *n, const char *who, size_t wholen)
{
    for (size_t i = 0; i < n->nout; i++)
        if (n->out[i].wholen == wholen && memcmp(n->out[i].who, who, wholen) == 0)
            return &n->out[i];
    if (n->nout == n->capout) {
        size_t cap = n->capout ? n->capout * 2 : 16;
        outbox_t *o = lux_realloc(n->out, cap * sizeof *o);
        if (o == NULL)
            return NULL;
        for (size_t i = n->capout; i < cap; i++)
            lux_wbuf_init(&o[i].buf);
        n->out = o;
        n->capout = cap;
    }
    outbox_t *o = &n->out[n->nout++];
    memcpy(o->who, who, wholen);
    o->wholen = (uint8_t)wholen;
    o->buf.len = 0;
    return o;
}

void lux_node_send_msg(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    outbox_t *o = outbox(n, who, wholen);
    if (o == NULL || lux_msg_encode(&o->buf, m) != 0)
        lux_log_error("node: cannot queue a %s message (out of memory); dropped",
                      lux_msg_name(m->type));
}

static void flush_out(lux_node_t *n)
{
    for (size_t i = 0; i < n->nout; i++) {
        outbox_t *o = &n->out[i];
        if (o->buf.len == 0)
            continue;
        if (zmq_send(n->router, o->who, o->wholen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
            zmq_send(n->router, o->buf.data, o->buf.len, ZMQ_DONTWAIT) < 0) {
            if (zmq_errno() != EHOSTUNREACH)
                lux_log_debug("node: send to peer failed: %s", zmq_strerror(zmq_errno()));
        }
        o->buf.len = 0;
        if (o->buf.cap > (1 << 20)) {
            lux_wbuf_fini(&o->buf);
        }
    }
    n->nout = 0;
}

void lux_node_reply(lux_node_t *n, const char *who, size_t wholen, uint64_t req, int code,
                    uint64_t a, const void *text, size_t text_len)
{
    lux_msg_t m = {.type = LUX_MSG_REPLY, .req = req, .code = code, .a = a};
    m.text = text;
    m.text_len = text_len;
    lux_node_send_msg(n, who, wholen, &m);
}

/* ---- peers, status, dispatch ---- */

static void driver_gone(lux_node_t *n, uint32_t pid)
{
    char who[5] = {'D'};
    memcpy(who + 1, &pid, 4);
    lux_node_drop_owned(n, who);
    /* Kill the actors it created. */
    for (size_t i = 0; i < n->actors.cap; i++) {
        actor_t *a = n->actors.vals[i];
        if (a == NULL || a->owner != pid || a->state == A_DEAD)
            continue;
        a->max_restarts = a->restarts;
        a->state = A_DEAD;
        if (a->worker)
            kill(a->worker->pid, SIGKILL);
    }
}

static json_t *resv_json(lux_node_t *n, const lux_resv_t *r)
{
    json_t *o = json_object();
    for (int i = 0; i < n->names.count; i++)
        if (n->total.v[i] != 0 || i == LUX_RES_CPU)
            json_object_set_new(o, n->names.names[i], json_real((double)r->v[i] / LUX_RES_UNIT));
    return o;
}

void lux_node_on_STATUS(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    json_t *s = json_object();
    json_object_set_new(s, "pid", json_integer(getpid()));
    json_object_set_new(s, "address", json_string(n->ipc_ep));
    json_object_set_new(s, "log_dir", json_string(n->log_dir));
    json_object_set_new(s, "resources_total", resv_json(n, &n->total));
    json_object_set_new(s, "resources_available", resv_json(n, &n->avail));
    lux_resv_t used = n->total;
    for (int i = 0; i < LUX_RES_MAX; i++)
        used.v[i] -= n->avail.v[i];
    json_object_set_new(s, "resources_used", resv_json(n, &used));
    size_t idle = 0, busy = 0, actors = 0, starting = 0;
    for (size_t i = 0; i < n->nworkers; i++) {
        worker_t *w = n->workers[i];
        idle += w->state == W_IDLE;
        busy += w->state == W_BUSY;
        actors += w->state == W_ACTOR;
        starting += w->state == W_STARTING;
    }
    json_t *ws = json_object();
    json_object_set_new(ws, "total", json_integer((json_int_t)n->nworkers));
    json_object_set_new(ws, "idle", json_integer((json_int_t)idle));
    json_object_set_new(ws, "busy", json_integer((json_int_t)busy));
    json_object_set_new(ws, "actors", json_integer((json_int_t)actors));
    json_object_set_new(ws, "starting", json_integer((json_int_t)starting));
    json_object_set_new(s, "workers", ws);
    size_t waiting = 0;
    for (size_t i = 0; i < n->tasks.cap; i++) {
        task_t *t = n->tasks.vals[i];
        waiting += t != NULL && t->state == TS_WAITING;
    }
    json_t *ts = json_object();
    json_object_set_new(ts, "queued", json_integer((json_int_t)n->ready.n));
    json_object_set_new(ts, "waiting_for_args", json_integer((json_int_t)waiting));
    json_object_set_new(ts, "running", json_integer((json_int_t)n->running));
    json_object_set_new(ts, "finished", json_integer((json_int_t)n->tasks_done));
    json_object_set_new(s, "tasks", ts);
    json_t *os = json_object();
    json_object_set_new(os, "objects", json_integer((json_int_t)n->objects.count));
    json_object_set_new(os, "capacity_bytes", json_integer((json_int_t)n->capacity));
    json_object_set_new(os, "used_bytes",
                        json_integer((json_int_t)(n->inline_used + n->arena.used)));
    json_object_set_new(os, "shared_bytes", json_integer((json_int_t)n->arena.used));
    json_object_set_new(s, "object_store", os);
    json_object_set_new(s, "actors", json_integer((json_int_t)n->actors.count));
    json_object_set_new(s, "placement_groups", json_integer((json_int_t)n->pgs.count));
    char *text = json_dumps(s, JSON_COMPACT);
    json_decref(s);
    lux_node_reply(n, who, wholen, m->req, text ? 0 : LUX_ENOMEM, 0, text, text ? strlen(text) : 0);
    free(text);
}

void lux_node_on_STOP(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    n->stop = 1;
    lux_node_reply(n, who, wholen, m->req, 0, 0, NULL, 0);
}

void lux_node_on_BYE(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    if (wholen == 5 && who[0] == 'D') {
        uint32_t pid;
        memcpy(&pid, who + 1, 4);
        driver_gone(n, pid);
    }
    lux_node_reply(n, who, wholen, m->req, 0, 0, NULL, 0);
}

/* Messages the node sends and never receives: a peer that sends one is
 * confused or hostile; the message is logged and dropped. */
static void unexpected(const lux_msg_t *m)
{
    lux_log_warn("node: unexpected %s message dropped", lux_msg_name(m->type));
}

void lux_node_on_WELCOME(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    unexpected(m);
}

void lux_node_on_EXECUTE(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    unexpected(m);
}

void lux_node_on_VALUES(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    unexpected(m);
}

void lux_node_on_REPLY(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    unexpected(m);
}

/* The handler of each message type, indexed by type, generated from the
 * message map: every type has exactly one, named lux_node_on_<TYPE>. */
#define HANDLER_ENTRY(name, code, fields) [LUX_MSG_##name] = lux_node_on_##name,
static lux_node_handler_fn *const handlers[LUX_MSG_MAX_] = {LUX_MSG_MAP(HANDLER_ENTRY)};
#undef HANDLER_ENTRY

static void handle(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    /* The decoder accepts only types of the map; the check keeps a bad
     * type from indexing past the table all the same. */
    if (m->type < LUX_MSG_MAX_ && handlers[m->type] != NULL)
        handlers[m->type](n, who, wholen, m);
    else
        unexpected(m);
}

static void handle_frame(lux_node_t *n, const char *who, size_t wholen, const void *data,
                         size_t len)
{
    size_t pos = 0;
    while (pos < len) {
        lux_msg_t m;
        int rc = lux_msg_decode(data, len, &pos, &m);
        if (rc != 0) {
            lux_log_warn("node: malformed message (%zu bytes at offset %zu) from a peer dropped: "
                         "%s",
                         len, pos, lux_strerror(rc));
            return;
        }
        handle(n, who, wholen, &m);
        lux_msg_fini(&m);
    }
}

/* ---- loop ---- */

static void check_drivers(lux_node_t *n)
{
    for (size_t i = 0; i < n->ndrivers;) {
        if (kill((pid_t)n->drivers[i].pid, 0) != 0 && errno == ESRCH) {
            lux_log_info("node: driver pid %u is gone; killing its actors", n->drivers[i].pid);
            driver_gone(n, n->drivers[i].pid);
            n->drivers[i] = n->drivers[--n->ndrivers];
        } else {
            i++;
        }
    }
}

/* Rebuilds the epoll set of the workers' pidfds (the node loop polls the
 * set as one fd, so its cost does not grow with the number of workers).
 * Returns the new epoll fd or -1. */
static int workers_epoll(lux_node_t *n, int old)
{
    if (old >= 0)
        close(old);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        return -1;
    for (size_t i = 0; i < n->nworkers; i++) {
        if (n->workers[i]->pidfd < 0)
            continue;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = n->workers[i]};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, n->workers[i]->pidfd, &ev) != 0) {
            close(ep);
            return -1;
        }
    }
    return ep;
}

int lux_node_run(lux_node_t *n)
{
    zmq_pollitem_t items[2];
    size_t nitems = 1;
    int epfd = -1;
    double last_check = lux_clock_monotonic_s();
    zmq_msg_t id, body;
    zmq_msg_init(&id);
    zmq_msg_init(&body);
    n->poll_dirty = 1;
    int prestart = n->prestart < 0 ? 0 : n->prestart == 0 ? n->ncpus_int : n->prestart;
    for (int i = 0; i < prestart; i++) {
        worker_t *w;
        if (lux_node_spawn_worker(n, "", &w) != 0)
            break;
    }
    while (!n->stop) {
        if (n->poll_dirty) {
            epfd = workers_epoll(n, epfd);
            if (epfd < 0) {
                lux_log_error("node: cannot watch the workers (epoll): %s; stopping",
                              strerror(errno));
                break;
            }
            items[0] = (zmq_pollitem_t){.socket = n->router, .events = ZMQ_POLLIN};
            items[1] = (zmq_pollitem_t){.fd = epfd, .events = ZMQ_POLLIN};
            nitems = 2;
            n->poll_dirty = 0;
        }
        double now = lux_clock_monotonic_s();
        double next = now + 0.5;
        for (waiter_t *w = n->timed; w; w = w->next)
            if (w->deadline < next)
                next = w->deadline;
        long timeout_ms = (long)ceil((next - now) * 1000);
        if (timeout_ms < 0)
            timeout_ms = 0;
        int rc = zmq_poll(items, (int)nitems, timeout_ms);
        if (rc < 0 && zmq_errno() != EINTR) {
            lux_log_error("node: poll failed: %s", zmq_strerror(zmq_errno()));
            break;
        }
        if (rc > 0 && (items[0].revents & ZMQ_POLLIN)) {
            for (int burst = 0; burst < 4096 && !n->stop; burst++) {
                if (zmq_msg_recv(&id, n->router, ZMQ_DONTWAIT) < 0)
                    break;
                if (!zmq_msg_more(&id)) {
                    lux_log_warn("node: message without a body dropped");
                    continue;
                }
                if (zmq_msg_recv(&body, n->router, 0) < 0)
                    break;
                while (zmq_msg_more(&body)) { /* extra frames: drop them */
                    lux_log_warn("node: message with extra frames dropped");
                    zmq_msg_recv(&body, n->router, 0);
                }
                size_t wholen = zmq_msg_size(&id);
                if (wholen > 8 || wholen == 0) {
                    lux_log_warn("node: peer with unexpected identity dropped");
                    continue;
                }
                handle_frame(n, zmq_msg_data(&id), wholen, zmq_msg_data(&body),
                             zmq_msg_size(&body));
                if (n->dirty && burst % 64 == 63) {
                    lux_node_schedule(n);
                    flush_out(n);
                }
            }
        }
        if (rc > 0 && (items[1].revents & ZMQ_POLLIN)) {
            /* Level-triggered: a pidfd not handled now is reported again
             * after the set is rebuilt. */
            struct epoll_event evs[64];
            int ne = epoll_wait(epfd, evs, 64, 0);
            for (int i = 0; i < ne && !n->poll_dirty; i++)
                lux_node_reap(n, evs[i].data.ptr);
        }
        now = lux_clock_monotonic_s();
        if (n->timed)
            lux_node_check_deadlines(n, now);
        if (now - last_check > 0.5) {
            last_check = now;
            check_drivers(n);
            for (size_t i = 0; i < n->nworkers; i++)
                if (n->workers[i]->pidfd < 0)
                    lux_node_reap(n, n->workers[i]);
        }
        lux_node_pg_try_reserve(n);
        if (n->dirty)
            lux_node_schedule(n);
        flush_out(n);
    }
    zmq_msg_close(&id);
    zmq_msg_close(&body);
    if (epfd >= 0)
        close(epfd);
    flush_out(n);
    return 0;
}

static void *node_thread(void *arg)
{
    lux_node_run(arg);
    return NULL;
}

int lux_node_start_thread(lux_node_t *n)
{
    /* Workers get PR_SET_PDEATHSIG relative to this thread; block signals
     * the driver handles itself. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&n->thread, NULL, node_thread, n);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return LUX_ESYS;
    n->thread_started = 1;
    return 0;
}

/* ---- creation ---- */

void *lux_node_zmq_context(lux_node_t *n)
{
    return n->ctx;
}

const char *lux_node_inproc_endpoint(lux_node_t *n)
{
    return n->inproc_ep;
}

const char *lux_node_ipc_endpoint(lux_node_t *n)
{
    return n->ipc_ep;
}

const char *lux_node_log_dir(lux_node_t *n)
{
    return n->log_dir;
}

int lux_node_new(const lux_node_opts_t *opts, lux_node_t **node_out)
{
    lux_node_opts_t defaults = {0};
    if (opts == NULL)
        opts = &defaults;
    lux_node_t *n = lux_calloc(1, sizeof *n);
    if (n == NULL)
        return LUX_ENOMEM;
    n->arena_fd = -1;
    n->rundir_fd = -1;
    lux_resnames_init(&n->names);
    lux_idmap_init(&n->objects);
    lux_idmap_init(&n->tasks);
    lux_idmap_init(&n->actors);
    lux_idmap_init(&n->pgs);
    lux_idmap_init(&n->waiters);
    lux_idmap_init(&n->workers_by_id);
    int rc = LUX_ESYS;
    double cpus = opts->num_cpus > 0 ? opts->num_cpus : (double)sysconf(_SC_NPROCESSORS_ONLN);
    n->total.v[LUX_RES_CPU] = lux_res_from_double(cpus);
    n->ncpus_int = (int)ceil(cpus);
    n->ngpus = (int)(opts->num_gpus > 64 ? 64 : opts->num_gpus);
    n->total.v[LUX_RES_GPU] = (int64_t)n->ngpus * LUX_RES_UNIT;
    lux_memlimits_t limits;
    lux_memlimits_read(NULL, &limits);
    uint64_t default_store = lux_storesize_default(&limits);
    n->total.v[LUX_RES_MEMORY] = lux_res_from_double((double)default_store * 2);
    for (size_t i = 0; i < opts->ncustom; i++) {
        int k = lux_resnames_index(&n->names, opts->custom[i].name, 1);
        int64_t v = lux_res_from_double(opts->custom[i].amount);
        if (k < 0 || v < 0) {
            rc = LUX_EINVAL;
            goto fail;
        }
        n->total.v[k] = v;
    }
    n->avail = n->total;
    n->prestart = opts->num_prestart;
    const char *depth = getenv("LUX_PIPELINE_DEPTH");
    n->pipe_depth = depth && *depth ? (size_t)atol(depth) : LUX_NODE_PIPE_DEPTH;

    if (opts->log_dir != NULL) {
        snprintf(n->log_dir, sizeof n->log_dir, "%s", opts->log_dir);
        if (mkdir(n->log_dir, 0700) != 0 && errno != EEXIST)
            goto fail;
    } else {
        /* A private node lives in the per-user runtime directory, which is
         * checked before anything in it is touched (rundir.h). */
        char base[PATH_MAX - 80], err[PATH_MAX + 300];
        rc = lux_rundir_open(base, sizeof base, &n->rundir_fd, err, sizeof err);
        if (rc != 0) {
            lux_log_error("node: %s", err);
            goto fail;
        }
        lux_rundir_sweep(n->rundir_fd);
        rc = lux_rundir_make_node_dir(n->rundir_fd, n->log_name, sizeof n->log_name);
        if (rc != 0) {
            lux_log_error("node: cannot create a directory in %s: %s", base, lux_strerror(rc));
            goto fail;
        }
        snprintf(n->log_dir, sizeof n->log_dir, "%s/%s", base, n->log_name);
        n->own_log_dir = 1;
        rc = LUX_ESYS;
    }
    ssize_t el = readlink("/proc/self/exe", n->exe, sizeof n->exe - 1);
    if (el <= 0)
        goto fail;
    n->exe[el] = '\0';

    /* The store must be had now, not found missing at the first large
     * put: a size above the memory this process may use is refused, and so
     * is one the kernel will not size or map. */
    n->capacity = opts->store_bytes ? opts->store_bytes : default_store;
    char err[2048];
    if (lux_storesize_check(n->capacity, &limits, err, sizeof err) != 0) {
        lux_log_error("node: %s", err);
        rc = LUX_ENOMEM;
        goto fail;
    }
    n->arena_fd = memfd_create("lux-object-store", MFD_CLOEXEC);
    const char *what = NULL;
    int why = 0;
    if (n->arena_fd < 0) {
        what = "memfd_create";
        why = errno;
    } else if (n->capacity > (uint64_t)INT64_MAX) {
        what = "ftruncate";
        why = EFBIG;
    } else if (ftruncate(n->arena_fd, (off_t)n->capacity) != 0) {
        what = "ftruncate";
        why = errno;
    } else if (n->capacity > 0) {
        void *p = mmap(NULL, n->capacity, PROT_READ | PROT_WRITE, MAP_SHARED, n->arena_fd, 0);
        if (p == MAP_FAILED) {
            what = "mmap";
            why = errno;
        } else {
            munmap(p, n->capacity);
        }
    }
    if (what != NULL) {
        lux_storesize_refused(n->capacity, &limits, what, why, err, sizeof err);
        lux_log_error("node: %s", err);
        rc = LUX_ENOMEM;
        goto fail;
    }
    snprintf(n->arena_path, sizeof n->arena_path, "/proc/%ld/fd/%d", (long)getpid(), n->arena_fd);
    if (lux_arena_init(&n->arena, n->capacity) != 0) {
        rc = LUX_ENOMEM;
        goto fail;
    }

    n->ctx = zmq_ctx_new();
    if (n->ctx == NULL)
        goto fail;
    n->router = zmq_socket(n->ctx, ZMQ_ROUTER);
    int zero = 0, one = 1;
    zmq_setsockopt(n->router, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt(n->router, ZMQ_RCVHWM, &zero, sizeof zero);
    zmq_setsockopt(n->router, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(n->router, ZMQ_ROUTER_HANDOVER, &one, sizeof one);
    snprintf(n->ipc_ep, sizeof n->ipc_ep, "ipc://%s/node.sock", n->log_dir);
    snprintf(n->inproc_ep, sizeof n->inproc_ep, "inproc://lux-node-%p", (void *)n);
    if (strlen(n->ipc_ep) > 100) {
        lux_log_error("node: socket path too long: %s", n->ipc_ep);
        rc = LUX_EINVAL;
        goto fail;
    }
    if (zmq_bind(n->router, n->ipc_ep) != 0 || zmq_bind(n->router, n->inproc_ep) != 0) {
        lux_log_error("node: cannot bind %s: %s", n->ipc_ep, zmq_strerror(zmq_errno()));
        goto fail;
    }
    if (opts->endpoint != NULL && zmq_bind(n->router, opts->endpoint) != 0) {
        lux_log_error("node: cannot bind %s: %s", opts->endpoint, zmq_strerror(zmq_errno()));
        rc = LUX_EIO;
        goto fail;
    }
    *node_out = n;
    return 0;
fail:
    lux_node_destroy(&n);
    return rc;
}

void lux_node_destroy(lux_node_t **node_p)
{
    lux_node_t *n = node_p ? *node_p : NULL;
    if (n == NULL)
        return;
    *node_p = NULL;
    if (n->thread_started) {
        /* The loop stops on a STOP message; the caller's client sent it. */
        pthread_join(n->thread, NULL);
    }
    for (size_t i = 0; i < n->nworkers; i++)
        kill(n->workers[i]->pid, SIGKILL);
    for (size_t i = 0; i < n->nworkers; i++) {
        waitpid(n->workers[i]->pid, NULL, 0);
        if (n->workers[i]->pidfd >= 0)
            close(n->workers[i]->pidfd);
        lux_free(n->workers[i]);
    }
    lux_free(n->workers);
    for (size_t i = 0; i < n->objects.cap; i++) {
        obj_t *o = n->objects.vals[i];
        if (o) {
            lux_free(o->data);
            lux_free(o->waiters);
            lux_free(o);
        }
    }
    for (size_t i = 0; i < n->tasks.cap; i++) {
        task_t *t = n->tasks.vals[i];
        if (t) {
            lux_free(t->args);
            lux_free(t->argbuf);
            lux_free(t);
        }
    }
    for (size_t i = 0; i < n->actors.cap; i++) {
        actor_t *a = n->actors.vals[i];
        if (a) {
            lux_free(a->death);
            lux_free(a);
        }
    }
    for (size_t i = 0; i < n->pgs.cap; i++) {
        pg_t *p = n->pgs.vals[i];
        if (p) {
            lux_free(p->bundles);
            lux_free(p);
        }
    }
    for (size_t i = 0; i < n->waiters.cap; i++) {
        waiter_t *w = n->waiters.vals[i];
        if (w) {
            lux_free(w->ids);
            lux_free(w->data);
            lux_free(w);
        }
    }
    lux_idmap_fini(&n->objects);
    lux_idmap_fini(&n->tasks);
    lux_idmap_fini(&n->actors);
    lux_idmap_fini(&n->pgs);
    lux_idmap_fini(&n->waiters);
    lux_idmap_fini(&n->workers_by_id);
    for (size_t i = 0; i < n->capout; i++)
        lux_wbuf_fini(&n->out[i].buf);
    lux_free(n->out);
    for (size_t i = 0; i < n->ninterned; i++)
        lux_free((void *)n->names_interned[i]);
    lux_free(n->names_interned);
    lux_free(n->drivers);
    if (n->router)
        zmq_close(n->router);
    if (n->ctx)
        zmq_ctx_term(n->ctx);
    lux_arena_fini(&n->arena);
    if (n->arena_fd >= 0)
        close(n->arena_fd);
    if (n->log_dir[0] != '\0') {
        if (n->own_log_dir) {
            if (lux_rundir_remove_node_dir(n->rundir_fd, n->log_name))
                lux_log_info("node: worker logs kept in %s", n->log_dir);
        } else {
            char path[PATH_MAX + 32];
            snprintf(path, sizeof path, "%s/node.sock", n->log_dir);
            unlink(path);
        }
    }
    if (n->rundir_fd >= 0)
        close(n->rundir_fd);
    lux_free(n);
}
