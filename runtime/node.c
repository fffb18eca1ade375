/*
 * The node (node.h): one thread owns every structure below and serves one
 * ZeroMQ ROUTER socket; drivers and workers are DEALER peers whose routing
 * ids say who they are ("W" + worker id, "D" + driver pid). Nothing here is
 * shared with another thread, so there are no locks.
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
 * Outgoing messages are batched per peer within one loop iteration.
 */
#include "node.h"
#include "objstore.h"

#include "alloc.h"
#include "error.h"
#include "log.h"

#include <jansson.h>
#include <zmq.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Messages and paths are cut to their buffers on purpose. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

extern char **environ;

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

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double deadline_of(uint64_t timeout_us)
{
    return timeout_us == LUX_FOREVER ? INFINITY : now_s() + (double)timeout_us * 1e-6;
}

/* ---- structures ---- */

enum { OBJ_PENDING, OBJ_READY, OBJ_ERROR };

typedef struct {
    lux_id_t id;
    uint8_t state;
    uint8_t in_arena;
    uint8_t alloc_pending; /* PUT_ALLOC done, not sealed */
    int32_t err;
    int64_t refs;
    int64_t pins;
    void *data; /* heap copy, or error message */
    uint64_t len, off;
    uint64_t producer; /* task id, 0 for a put */
    char owner[5];     /* routing id of the process that created it */
    uint8_t owner_released;
    uint64_t *waiters; /* task ids, or waiter ids with the top bit set */
    uint32_t nwait, capwait;
} obj_t;

#define WAITER_BIT (1ull << 63)

enum { T_TASK = 0, T_CTOR = 1, T_METHOD = 2 };
enum { TS_WAITING, TS_QUEUED, TS_RUNNING, TS_DONE };

typedef struct worker worker_t;
typedef struct actor actor_t;
typedef struct pg pg_t;

typedef struct arg {
    uint8_t is_ref;
    lux_id_t id;
    uint64_t off, len; /* into task->argbuf */
} arg_t;

typedef struct task {
    uint64_t id;
    uint8_t kind;
    uint8_t state;
    const char *name; /* interned */
    uint8_t *argbuf;
    arg_t *args;
    uint32_t nargs;
    int num_returns;
    int missing;
    int retries_left;
    int retry_exceptions;
    lux_resv_t need;
    lux_id_t pg_id;
    int bundle;
    uint32_t flags;
    worker_t *worker;
    actor_t *actor;
    struct task *next, *prev; /* queue links */
    int queued_in; /* which list: 0 none, 1 ready queue, 2 actor queue, 4 a worker pipe */
} task_t;

typedef struct {
    task_t *head, *tail;
    size_t n;
} tqueue_t;

enum { W_STARTING, W_IDLE, W_BUSY, W_ACTOR, W_DEAD };

struct worker {
    uint32_t wid;
    pid_t pid;
    int pidfd;
    uint8_t state;
    uint8_t blocked;
    uint8_t registered; /* said HELLO: messages reach it */
    char ident[5];
    char gpus[64];
    char log[PATH_MAX];
    task_t *task;    /* current task (plain workers) */
    tqueue_t pipe;   /* tasks sent behind it under the same lease */
    actor_t *actor;  /* dedicated actor */
    lux_resv_t held; /* resources held for its task/actor */
    lux_resv_t lent; /* given back while blocked */
    pg_t *pool_pg;   /* pool the resources came from (NULL: node) */
    int pool_bundle;
    int gpu_ids[16];
    int ngpu;
    worker_t *next_idle;
};

enum { A_PENDING, A_ALIVE, A_RESTARTING, A_DEAD };

struct actor {
    lux_id_t id;
    const char *cls;
    uint8_t state;
    int max_restarts, restarts;
    int max_task_retries;
    task_t *ctor; /* kept for restarts */
    worker_t *worker;
    tqueue_t queue;    /* calls not yet sent */
    tqueue_t inflight; /* calls sent, in order */
    char *death;       /* message once dead */
    uint32_t owner;    /* driver pid that created it */
};

typedef struct {
    lux_resv_t total, avail;
} bundle_t;

struct pg {
    lux_id_t id;
    int strategy;
    int ready;
    int nbundles;
    bundle_t *bundles;
    pg_t *next_pending;
};

enum { WT_GET, WT_WAIT, WT_PGWAIT, WT_ALLOC, WT_PUT };

typedef struct waiter {
    uint64_t wid;
    uint8_t kind;
    char who[8];
    uint8_t wholen;
    uint64_t req;
    lux_id_t *ids;
    uint32_t nids;
    uint32_t num_returns;
    uint32_t ready;
    double deadline;
    worker_t *lender;
    /* WT_ALLOC / WT_PUT */
    lux_id_t obj;
    uint64_t len;
    void *data;
    struct waiter *next;
} waiter_t;

typedef struct {
    char who[8];
    uint8_t wholen;
    lux_wbuf_t buf;
} outbox_t;

typedef struct {
    uint32_t pid;
    double last_seen;
} driver_t;

struct lux_node {
    void *ctx;
    void *router;
    pthread_t thread;
    int thread_started;
    int stop;
    int own_log_dir;
    char log_dir[PATH_MAX];
    char ipc_ep[PATH_MAX + 16];
    char inproc_ep[64];
    char exe[PATH_MAX];
    char arena_path[64];
    int arena_fd;
    uint64_t capacity;
    uint64_t inline_used;
    lux_arena_t arena;

    lux_resnames_t names;
    lux_resv_t total, avail;
    int ngpus;
    uint8_t gpu_used[64];
    int ncpus_int;

    lux_idmap_t objects, tasks, actors, pgs, waiters, workers_by_id;
    tqueue_t ready;
    worker_t **workers;
    size_t nworkers, capworkers;
    worker_t *idle;
    uint32_t next_wid;
    uint64_t next_waiter;
    waiter_t *timed; /* every waiter with a finite deadline or allocation */
    pg_t *pending_pgs;
    int dirty;
    int poll_dirty;
    size_t running;

    const char **names_interned;
    size_t ninterned;

    outbox_t *out;
    size_t nout, capout;

    driver_t *drivers;
    size_t ndrivers;
    int prestart;
    size_t pipe_depth;
    uint64_t tasks_done;
};

/* ---- small helpers ---- */

static const char *intern(lux_node_t *n, const char *s, size_t len)
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

static void q_push(tqueue_t *q, task_t *t, int front)
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

static void q_remove(tqueue_t *q, task_t *t)
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

static void send_msg(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
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

static void reply(lux_node_t *n, const char *who, size_t wholen, uint64_t req, int code, uint64_t a,
                  const void *text, size_t text_len)
{
    lux_msg_t m = {.type = LUX_MSG_REPLY, .req = req, .code = code, .a = a};
    m.text = text;
    m.text_len = text_len;
    send_msg(n, who, wholen, &m);
}

/* ---- objects ---- */

static obj_t *obj_get(lux_node_t *n, const lux_id_t *id)
{
    return lux_idmap_get(&n->objects, id);
}

static obj_t *obj_new(lux_node_t *n, const lux_id_t *id, uint64_t producer, const char *who,
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
static void drop_owned(lux_node_t *n, const char *who);

static void obj_maybe_free(lux_node_t *n, obj_t *o)
{
    if (o->refs > 0 || o->pins > 0 || o->nwait > 0 || o->state == OBJ_PENDING)
        return;
    lux_idmap_del(&n->objects, &o->id);
    obj_free_data(n, o);
    lux_free(o->waiters);
    lux_free(o);
    retry_pending_allocs(n);
}

static int obj_add_waiter(obj_t *o, uint64_t w)
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

static void on_object_ready(lux_node_t *n, obj_t *o);

static void obj_set_error(lux_node_t *n, obj_t *o, int code, const char *msg)
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
    on_object_ready(n, o);
}

static void obj_set_value(lux_node_t *n, obj_t *o, const void *data, uint64_t len)
{
    if (o->state != OBJ_PENDING)
        return;
    o->data = lux_malloc(len ? len : 1);
    if (o->data == NULL) {
        obj_set_error(n, o, LUX_ENOMEM, "node out of memory storing a value");
        return;
    }
    memcpy(o->data, data, len);
    o->len = len;
    n->inline_used += len;
    o->state = OBJ_READY;
    on_object_ready(n, o);
}

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

static lux_resv_t *pool_avail(lux_node_t *n, pg_t *pg, int bundle)
{
    return pg ? &pg->bundles[bundle].avail : &n->avail;
}

/* ---- workers ---- */

static void worker_release_resources(lux_node_t *n, worker_t *w)
{
    lux_resv_t back = w->held;
    lux_resv_sub(&back, &w->lent);
    /* The pool may have been removed with its group. */
    if (w->pool_pg != NULL && lux_idmap_get(&n->pgs, &w->pool_pg->id) != w->pool_pg)
        w->pool_pg = NULL;
    else
        lux_resv_add(pool_avail(n, w->pool_pg, w->pool_bundle), &back);
    memset(&w->held, 0, sizeof w->held);
    memset(&w->lent, 0, sizeof w->lent);
    for (int i = 0; i < w->ngpu; i++)
        n->gpu_used[w->gpu_ids[i]] = 0;
    w->pool_pg = NULL;
    n->dirty = 1;
}

static int spawn_worker(lux_node_t *n, const char *gpus, worker_t **out)
{
    worker_t *w = lux_calloc(1, sizeof *w);
    if (w == NULL)
        return LUX_ENOMEM;
    w->wid = ++n->next_wid;
    w->ident[0] = 'W';
    memcpy(w->ident + 1, &w->wid, 4);
    snprintf(w->gpus, sizeof w->gpus, "%s", gpus ? gpus : "");
    snprintf(w->log, sizeof w->log, "%s/worker-%u.log", n->log_dir, w->wid);

    /* Environment: ours minus LUX_WORKER*, plus the worker's. */
    size_t nenv = 0;
    while (environ[nenv])
        nenv++;
    char **envp = lux_calloc(nenv + 8, sizeof *envp);
    char vars[6][PATH_MAX + 64];
    if (envp == NULL) {
        lux_free(w);
        return LUX_ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < nenv; i++)
        if (strncmp(environ[i], "LUX_WORKER", 10) != 0 &&
            strncmp(environ[i], "CUDA_VISIBLE_DEVICES=", 21) != 0 &&
            strncmp(environ[i], "LUX_NODE_PID=", 13) != 0)
            envp[k++] = environ[i];
    snprintf(vars[0], sizeof vars[0], "LUX_WORKER_ADDR=%s", n->ipc_ep);
    snprintf(vars[1], sizeof vars[1], "LUX_WORKER_ID=%u", w->wid);
    snprintf(vars[2], sizeof vars[2], "LUX_NODE_PID=%ld", (long)getpid());
    snprintf(vars[3], sizeof vars[3], "LUX_WORKER_LOG=%s", w->log);
    snprintf(vars[4], sizeof vars[4], "CUDA_VISIBLE_DEVICES=%s", w->gpus);
    for (int i = 0; i < 5; i++)
        if (i != 4 || w->gpus[0] != '\0')
            envp[k++] = vars[i];
    envp[k] = NULL;

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, w->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    /* The node thread blocks every signal; a worker starts with none blocked
     * and default dispositions, so a crash is reported as itself. */
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char *argv[] = {"lux-worker", NULL};
    pid_t pid;
    /* /proc/self/exe, not the path: a worker runs the very image of this
     * process even after its file was replaced or deleted (an upgrade or a
     * rebuild during a run), so it always speaks this node's protocol. */
    int rc = posix_spawn(&pid, "/proc/self/exe", &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    lux_free(envp);
    if (rc != 0) {
        lux_log_error("node: cannot start a worker (%s): %s", n->exe, strerror(rc));
        lux_free(w);
        return LUX_ESYS;
    }
    w->pid = pid;
    w->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    w->state = W_STARTING;
    if (n->nworkers == n->capworkers) {
        size_t cap = n->capworkers ? n->capworkers * 2 : 16;
        worker_t **ws = lux_realloc(n->workers, cap * sizeof *ws);
        if (ws == NULL) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            lux_free(w);
            return LUX_ENOMEM;
        }
        n->workers = ws;
        n->capworkers = cap;
    }
    n->workers[n->nworkers++] = w;
    lux_id_t key = lux_id_u64(w->wid);
    lux_idmap_put(&n->workers_by_id, &key, w);
    n->poll_dirty = 1;
    lux_log_debug("node: started worker %u pid %ld", w->wid, (long)pid);
    *out = w;
    return 0;
}

static void idle_remove(lux_node_t *n, worker_t *w)
{
    for (worker_t **p = &n->idle; *p; p = &(*p)->next_idle) {
        if (*p == w) {
            *p = w->next_idle;
            w->next_idle = NULL;
            return;
        }
    }
}

static void idle_push(lux_node_t *n, worker_t *w)
{
    w->state = W_IDLE;
    w->next_idle = n->idle;
    n->idle = w;
    n->dirty = 1;
}

static size_t count_plain_workers(lux_node_t *n, size_t *blocked)
{
    size_t c = 0;
    *blocked = 0;
    for (size_t i = 0; i < n->nworkers; i++) {
        worker_t *w = n->workers[i];
        if (w->state == W_DEAD || w->actor != NULL)
            continue;
        c++;
        if (w->blocked)
            (*blocked)++;
    }
    return c;
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
    obj_t *o = obj_get(n, &a->id);
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

static void send_execute(lux_node_t *n, worker_t *w, task_t *t)
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
    send_msg(n, w->ident, 5, &m);
    if (blobs != stack)
        lux_free(blobs);
}

static void task_fail(lux_node_t *n, task_t *t, int code, const char *msg);

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
    lux_resv_sub(pool_avail(n, pg, bundle), &t->need);
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
        send_execute(n, w, t);
}

/* Tasks beyond a worker's current one, sent ahead so that it never waits
 * for the node between two tasks (Ray's pipelining to a leased worker).
 * Only tasks of the same shape (resources, pool) as the lease, only when no
 * new lease is possible, and a worker that blocks in get hands them back
 * (DEFER), so nesting cannot deadlock behind a pipelined task. */
#define PIPE_DEPTH 8 /* default; LUX_PIPELINE_DEPTH overrides, 0 disables */

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
    q_remove(&n->ready, t);
    q_push(&best->pipe, t, 0);
    t->queued_in = 4;
    t->state = TS_RUNNING;
    t->worker = best;
    send_execute(n, best, t);
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
        q_remove(&n->ready, t);
        t->queued_in = 0;
        task_fail(n, t, LUX_EINFEASIBLE, msg);
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
            idle_remove(n, w);
        } else {
            size_t cap = (size_t)(4 * n->ncpus_int > 8 ? 4 * n->ncpus_int : 8);
            if (*plain - blocked >= cap) {
                /* Make room: retire an idle worker with other GPUs. */
                if (n->idle == NULL)
                    return try_pipeline(n, t);
                worker_t *victim = n->idle;
                idle_remove(n, victim);
                kill(victim->pid, SIGKILL);
            }
            if (spawn_worker(n, gpus, &w) != 0)
                return 0;
            (*plain)++;
        }
    } else if (spawn_worker(n, gpus, &w) != 0) {
        return 0;
    }
    for (int i = 0; i < nids; i++) {
        n->gpu_used[ids[i]] = 1;
        w->gpu_ids[i] = ids[i];
    }
    w->ngpu = nids;
    q_remove(&n->ready, t);
    t->queued_in = 0;
    run_on(n, t, w, pg, bundle);
    return 1;
}

static void schedule(lux_node_t *n)
{
    n->dirty = 0;
    size_t blocked;
    size_t plain = count_plain_workers(n, &blocked);
    int misses = 0;
    for (task_t *t = n->ready.head, *next; t && misses < 32; t = next) {
        next = t->next;
        int r = try_dispatch(n, t, &plain, blocked);
        if (r == 0)
            misses++;
    }
}

/* ---- task lifecycle ---- */

static void unpin_args(lux_node_t *n, task_t *t)
{
    for (uint32_t i = 0; i < t->nargs; i++) {
        if (!t->args[i].is_ref)
            continue;
        obj_t *o = obj_get(n, &t->args[i].id);
        if (o != NULL) {
            o->pins--;
            obj_maybe_free(n, o);
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

static void task_done(lux_node_t *n, task_t *t)
{
    t->state = TS_DONE;
    unpin_args(n, t);
    if (t->kind == T_CTOR)
        return; /* the actor keeps its constructor for restarts */
    task_free(n, t);
}

static void task_fail(lux_node_t *n, task_t *t, int code, const char *msg)
{
    if (t->kind != T_CTOR) {
        for (int i = 0; i < t->num_returns; i++) {
            lux_id_t id = lux_id_make(t->id, (uint32_t)i, LUX_IDK_RETURN);
            obj_t *o = obj_get(n, &id);
            if (o != NULL) {
                obj_set_error(n, o, code, msg);
                obj_maybe_free(n, o);
            }
        }
    }
    task_done(n, t);
}

static void actor_send_calls(lux_node_t *n, actor_t *a);

static void enqueue_ready(lux_node_t *n, task_t *t, int front)
{
    if (t->kind == T_METHOD) {
        t->state = TS_QUEUED;
        actor_send_calls(n, t->actor);
        return;
    }
    t->state = TS_QUEUED;
    q_push(&n->ready, t, front);
    t->queued_in = 1;
    n->dirty = 1;
}

/* ---- waiters ---- */

static void waiter_free(lux_node_t *n, waiter_t *w)
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
                lux_resv_sub(pool_avail(n, wk->pool_pg, wk->pool_bundle), &wk->lent);
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

static void lender_forget(lux_node_t *n, worker_t *wk)
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
        reply(n, w->who, w->wholen, w->req, LUX_ENOMEM, 0, NULL, 0);
        return;
    }
    for (uint32_t i = 0; i < w->nids; i++) {
        obj_t *o = obj_get(n, &w->ids[i]);
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
    send_msg(n, w->who, w->wholen, &m);
    lux_free(blobs);
}

static void reply_wait(lux_node_t *n, waiter_t *w)
{
    uint8_t *bits = lux_calloc(w->nids ? w->nids : 1, 1);
    uint32_t count = 0;
    for (uint32_t i = 0; i < w->nids && bits; i++) {
        obj_t *o = obj_get(n, &w->ids[i]);
        bits[i] = o == NULL || o->state != OBJ_PENDING;
        count += bits[i];
    }
    reply(n, w->who, w->wholen, w->req, bits ? 0 : LUX_ENOMEM, count, bits, bits ? w->nids : 0);
    lux_free(bits);
}

/* Detaches the waiter from the objects it still waits on. */
static void waiter_detach(lux_node_t *n, waiter_t *w)
{
    for (uint32_t i = 0; i < w->nids; i++) {
        obj_t *o = obj_get(n, &w->ids[i]);
        if (o == NULL)
            continue;
        for (uint32_t j = 0; j < o->nwait; j++) {
            if (o->waiters[j] == (w->wid | WAITER_BIT)) {
                o->waiters[j] = o->waiters[--o->nwait];
                break;
            }
        }
        obj_maybe_free(n, o);
    }
}

static void waiter_complete(lux_node_t *n, waiter_t *w, int timed_out)
{
    if (w->kind == WT_GET) {
        if (timed_out)
            reply(n, w->who, w->wholen, w->req, LUX_ETIMEDOUT, 0, NULL, 0);
        else
            reply_get(n, w);
    } else if (w->kind == WT_WAIT) {
        reply_wait(n, w);
    }
    waiter_detach(n, w);
    waiter_free(n, w);
}

/* ---- object readiness ---- */

static void on_object_ready(lux_node_t *n, obj_t *o)
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
                enqueue_ready(n, t, 0);
        }
    }
    lux_free(ws);
}

/* ---- actors ---- */

static void actor_fail_call(lux_node_t *n, actor_t *a, task_t *t, int code, const char *msg)
{
    (void)a;
    task_fail(n, t, code, msg);
}

static void actor_send_calls(lux_node_t *n, actor_t *a)
{
    if (a->state == A_DEAD) {
        while (a->queue.head) {
            task_t *t = a->queue.head;
            q_remove(&a->queue, t);
            actor_fail_call(n, a, t, LUX_EACTORDIED, a->death ? a->death : "actor is dead");
        }
        return;
    }
    if (a->state != A_ALIVE || a->worker == NULL)
        return;
    while (a->queue.head && a->queue.head->state == TS_QUEUED && a->inflight.n < 100000) {
        task_t *t = a->queue.head;
        q_remove(&a->queue, t);
        q_push(&a->inflight, t, 0);
        t->state = TS_RUNNING;
        t->worker = a->worker;
        send_execute(n, a->worker, t);
    }
}

static void actor_died(lux_node_t *n, actor_t *a, const char *cause)
{
    worker_t *w = a->worker;
    a->worker = NULL;
    char msg[1024];
    snprintf(msg, sizeof msg, "actor '%s' died: %s (worker pid %ld, log %s)", a->cls, cause,
             w ? (long)w->pid : 0L, w ? w->log : "-");
    /* Calls in flight: retry under max_task_retries, else fail. */
    while (a->inflight.tail) {
        task_t *t = a->inflight.tail;
        q_remove(&a->inflight, t);
        if (t->retries_left != 0 && (a->max_restarts < 0 || a->restarts < a->max_restarts)) {
            if (t->retries_left > 0)
                t->retries_left--;
            t->state = TS_QUEUED;
            q_push(&a->queue, t, 1);
        } else {
            task_fail(n, t, LUX_EACTORDIED, msg);
        }
    }
    if (a->state != A_DEAD && (a->max_restarts < 0 || a->restarts < a->max_restarts)) {
        a->restarts++;
        a->state = A_RESTARTING;
        lux_log_info("node: restarting actor '%s' (%d/%d): %s", a->cls, a->restarts,
                     a->max_restarts, cause);
        task_t *c = a->ctor;
        c->state = TS_QUEUED;
        c->worker = NULL;
        /* Re-pin the constructor's arguments for the new run. */
        for (uint32_t i = 0; i < c->nargs; i++) {
            if (c->args[i].is_ref) {
                obj_t *o = obj_get(n, &c->args[i].id);
                if (o)
                    o->pins++;
            }
        }
        q_push(&n->ready, c, 1);
        c->queued_in = 1;
        n->dirty = 1;
    } else {
        a->state = A_DEAD;
        if (a->death == NULL)
            a->death = lux_strdup(msg);
        actor_send_calls(n, a);
    }
}

/* ---- worker death ---- */

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGKILL:
        return "SIGKILL";
    case SIGSEGV:
        return "SIGSEGV (segmentation fault)";
    case SIGABRT:
        return "SIGABRT (abort)";
    case SIGTERM:
        return "SIGTERM";
    case SIGBUS:
        return "SIGBUS";
    case SIGFPE:
        return "SIGFPE";
    default:
        return "a signal";
    }
}

static void worker_remove(lux_node_t *n, worker_t *w)
{
    for (size_t i = 0; i < n->nworkers; i++) {
        if (n->workers[i] == w) {
            n->workers[i] = n->workers[--n->nworkers];
            break;
        }
    }
    lux_id_t key = lux_id_u64(w->wid);
    lux_idmap_del(&n->workers_by_id, &key);
    if (w->pidfd >= 0)
        close(w->pidfd);
    lux_free(w);
    n->poll_dirty = 1;
}

static void on_worker_exit(lux_node_t *n, worker_t *w, int status)
{
    char cause[256];
    if (WIFSIGNALED(status))
        snprintf(cause, sizeof cause, "killed by signal %d, %s", WTERMSIG(status),
                 signal_name(WTERMSIG(status)));
    else
        snprintf(cause, sizeof cause, "exited with status %d", WEXITSTATUS(status));
    lux_log_debug("node: worker %u pid %ld %s", w->wid, (long)w->pid, cause);
    if (w->state == W_IDLE)
        idle_remove(n, w);
    lender_forget(n, w);
    int was_state = w->state;
    w->state = W_DEAD;
    /* Tasks sent ahead never started: back to the front, in order. */
    while (w->pipe.tail != NULL) {
        task_t *p = w->pipe.tail;
        q_remove(&w->pipe, p);
        p->queued_in = 0;
        p->worker = NULL;
        enqueue_ready(n, p, 1);
    }
    worker_release_resources(n, w);
    if (w->actor != NULL) {
        actor_t *a = w->actor;
        n->running -= a->ctor->state == TS_RUNNING;
        if (a->ctor->state == TS_RUNNING)
            task_done(n, a->ctor);
        actor_died(n, a, cause);
    } else if (w->task != NULL) {
        task_t *t = w->task;
        w->task = NULL;
        n->running--;
        if (t->retries_left != 0) {
            if (t->retries_left > 0)
                t->retries_left--;
            lux_log_info("node: retrying task '%s' after worker pid %ld %s", t->name, (long)w->pid,
                         cause);
            t->worker = NULL;
            enqueue_ready(n, t, 1);
        } else {
            char msg[1024];
            snprintf(msg, sizeof msg, "task '%s' failed: worker pid %ld %s; worker log: %s",
                     t->name, (long)w->pid, cause, w->log);
            task_fail(n, t, LUX_EWORKERDIED, msg);
        }
    } else if (was_state == W_STARTING) {
        lux_log_error("node: worker pid %ld %s before registering; see %s", (long)w->pid, cause,
                      w->log);
    }
    drop_owned(n, w->ident);
    worker_remove(n, w);
    n->dirty = 1;
}

static void reap(lux_node_t *n, worker_t *w)
{
    int status;
    pid_t r = waitpid(w->pid, &status, WNOHANG);
    if (r == w->pid)
        on_worker_exit(n, w, status);
}

/* ---- placement groups ---- */

static void pg_try_reserve(lux_node_t *n)
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
                    reply(n, w->who, w->wholen, w->req, 0, 0, NULL, 0);
                    waiter_free(n, w);
                }
            }
            n->dirty = 1;
        } else {
            /* Groups are reserved in order of creation. */
            break;
        }
    }
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
            obj_t *o = obj_get(n, &w->obj);
            if (o == NULL) {
                waiter_free(n, w);
                continue;
            }
            if (do_alloc(n, o, w->len) == 0) {
                reply(n, w->who, w->wholen, w->req, 0, o->off, NULL, 0);
                waiter_free(n, w);
            } else {
                return; /* first come, first served */
            }
        } else if (w->kind == WT_PUT) {
            if (!store_room(n, w->len))
                return;
            obj_t *o = obj_get(n, &w->obj);
            if (o != NULL)
                obj_set_value(n, o, w->data, w->len);
            waiter_free(n, w);
        }
    }
}

static void timed_add(lux_node_t *n, waiter_t *w)
{
    /* FIFO: append. */
    waiter_t **p = &n->timed;
    while (*p)
        p = &(*p)->next;
    *p = w;
    w->next = NULL;
}

static waiter_t *waiter_new(lux_node_t *n, int kind, const char *who, size_t wholen, uint64_t req,
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

static void check_deadlines(lux_node_t *n, double now)
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
            reply(n, w->who, w->wholen, w->req, LUX_ETIMEDOUT, 0, NULL, 0);
            waiter_free(n, w);
            break;
        case WT_ALLOC: {
            obj_t *o = obj_get(n, &w->obj);
            char msg[256];
            snprintf(msg, sizeof msg,
                     "object store full: no room for %llu bytes (capacity %llu, in use %llu)",
                     (unsigned long long)w->len, (unsigned long long)n->capacity,
                     (unsigned long long)(n->inline_used + n->arena.used));
            reply(n, w->who, w->wholen, w->req, LUX_EFULL, 0, msg, strlen(msg));
            if (o != NULL) {
                obj_set_error(n, o, LUX_EFULL, msg);
                obj_maybe_free(n, o);
            }
            waiter_free(n, w);
            break;
        }
        case WT_PUT: {
            obj_t *o = obj_get(n, &w->obj);
            char msg[256];
            snprintf(msg, sizeof msg,
                     "object store full: put of %llu bytes timed out waiting for room "
                     "(capacity %llu)",
                     (unsigned long long)w->len, (unsigned long long)n->capacity);
            if (o != NULL) {
                obj_set_error(n, o, LUX_EFULL, msg);
                obj_maybe_free(n, o);
            }
            waiter_free(n, w);
            break;
        }
        }
    }
}

/* ---- message handlers ---- */

static int parse_need(lux_node_t *n, const lux_msg_t *m, lux_resv_t *need, int bundle)
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

static worker_t *worker_of(lux_node_t *n, const char *who, size_t wholen)
{
    if (wholen != 5 || who[0] != 'W')
        return NULL;
    uint32_t wid;
    memcpy(&wid, who + 1, 4);
    lux_id_t key = lux_id_u64(wid);
    return lux_idmap_get(&n->workers_by_id, &key);
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
        obj_t *o = obj_get(n, &t->args[i].id);
        if (o == NULL) {
            for (uint32_t j = 0; j < i; j++) {
                if (t->args[j].is_ref) {
                    obj_t *p = obj_get(n, &t->args[j].id);
                    if (p) {
                        p->pins--;
                        obj_maybe_free(n, p);
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
            obj_add_waiter(o, t->id);
        }
    }
    return 0;
}

/* The group a submitter's tasks inherit by default. */
static void capture_pg(lux_node_t *n, const char *who, size_t wholen, task_t *t)
{
    if (lux_id_kind(&t->pg_id) == LUX_IDK_PG || (t->flags & LUX_OPT_NO_CAPTURE))
        return;
    worker_t *w = worker_of(n, who, wholen);
    if (w == NULL)
        return;
    task_t *cur = w->actor ? w->actor->ctor : w->task;
    if (cur != NULL && lux_id_kind(&cur->pg_id) == LUX_IDK_PG) {
        t->pg_id = cur->pg_id;
        t->bundle = -1;
    }
}

static task_t *task_from_msg(lux_node_t *n, const lux_msg_t *m, int kind)
{
    task_t *t = lux_calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->id = m->req;
    t->kind = (uint8_t)kind;
    t->name = intern(n, m->name, m->name_len);
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

static void start_task(lux_node_t *n, task_t *t, int unknown_res)
{
    char why[512];
    if (unknown_res) {
        snprintf(why, sizeof why,
                 "task '%s' cannot be scheduled: it asks for a resource no node has", t->name);
        t->nargs = 0;
        task_fail(n, t, LUX_EINFEASIBLE, why);
        return;
    }
    int rc = resolve_args(n, t, why, sizeof why);
    if (rc) {
        task_fail(n, t, rc, why);
        return;
    }
    if (t->kind == T_METHOD) {
        t->state = t->missing ? TS_WAITING : TS_QUEUED;
        q_push(&t->actor->queue, t, 0);
        t->queued_in = 2;
        actor_send_calls(n, t->actor);
        return;
    }
    if (t->missing == 0)
        enqueue_ready(n, t, 0);
    else
        t->state = TS_WAITING;
}

static void on_submit(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    task_t *t = task_from_msg(n, m, T_TASK);
    if (t == NULL) {
        lux_log_error("node: out of memory accepting task '%.*s'", (int)m->name_len, m->name);
        return;
    }
    for (int i = 0; i < t->num_returns; i++) {
        lux_id_t id = lux_id_make(t->id, (uint32_t)i, LUX_IDK_RETURN);
        obj_new(n, &id, t->id, who, wholen);
    }
    int bad = parse_need(n, m, &t->need, 0) != 0;
    capture_pg(n, who, wholen, t);
    start_task(n, t, bad);
}

static void on_actor_create(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    actor_t *a = lux_calloc(1, sizeof *a);
    task_t *t = a ? task_from_msg(n, m, T_CTOR) : NULL;
    if (t == NULL) {
        lux_free(a);
        lux_log_error("node: out of memory creating an actor");
        return;
    }
    a->id = m->id;
    a->cls = t->name;
    a->max_restarts = m->opts.max_restarts;
    a->max_task_retries = m->opts.max_task_retries;
    a->ctor = t;
    a->state = A_PENDING;
    if (wholen == 5 && who[0] == 'D')
        memcpy(&a->owner, who + 1, 4);
    t->actor = a;
    t->retries_left = 0;
    lux_idmap_put(&n->actors, &a->id, a);
    int bad = parse_need(n, m, &t->need, 0) != 0;
    capture_pg(n, who, wholen, t);
    start_task(n, t, bad);
    if (t->state == TS_DONE) { /* failed at once */
        a->state = A_DEAD;
        a->death = lux_strdup("actor could not be created: its resource request can never be "
                              "satisfied or an argument is missing");
    }
}

static void on_actor_call(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    (void)who;
    (void)wholen;
    actor_t *a = lux_idmap_get(&n->actors, &m->id);
    task_t *t = task_from_msg(n, m, T_METHOD);
    if (t == NULL)
        return;
    for (int i = 0; i < t->num_returns; i++) {
        lux_id_t id = lux_id_make(t->id, (uint32_t)i, LUX_IDK_RETURN);
        obj_new(n, &id, t->id, who, wholen);
    }
    if (a == NULL) {
        t->nargs = 0;
        task_fail(n, t, LUX_EACTORDIED, "no such actor (killed, or never created)");
        return;
    }
    t->actor = a;
    t->retries_left = a->max_task_retries;
    if (a->state == A_DEAD) {
        t->nargs = 0;
        char msg[1200];
        snprintf(msg, sizeof msg, "method '%s' not run: %s", t->name,
                 a->death ? a->death : "actor is dead");
        task_fail(n, t, LUX_EACTORDIED, msg);
        return;
    }
    start_task(n, t, 0);
}

/* A plain worker finished its task: the next one is already there under
 * the same lease, or the worker goes idle. */
static void next_or_idle(lux_node_t *n, worker_t *w)
{
    if (w->pipe.head != NULL) {
        task_t *next = w->pipe.head;
        q_remove(&w->pipe, next);
        next->queued_in = 0;
        w->task = next;
        n->running++;
    } else {
        worker_release_resources(n, w);
        idle_push(n, w);
    }
}

static void on_result(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    worker_t *w = worker_of(n, who, wholen);
    if (w == NULL || w->state == W_DEAD)
        return;
    lux_id_t key = lux_id_u64(m->req);
    task_t *t = lux_idmap_get(&n->tasks, &key);
    if (t == NULL || t->worker != w) {
        lux_log_debug("node: result for unknown task %llu dropped", (unsigned long long)m->req);
        return;
    }
    n->tasks_done++;
    char msg[2048];
    if (m->code != 0) {
        snprintf(msg, sizeof msg, "task '%s' failed in worker pid %ld: %.*s (worker log: %s)",
                 t->name, (long)w->pid, (int)(m->text_len > 1500 ? 1500 : m->text_len),
                 (const char *)m->text, w->log);
    }
    if (t->kind == T_CTOR) {
        actor_t *a = t->actor;
        n->running--;
        task_done(n, t);
        if (m->code != 0) {
            a->state = A_DEAD;
            lux_free(a->death);
            a->death = lux_strdup(msg);
            actor_send_calls(n, a);
            kill(w->pid, SIGKILL);
        } else {
            a->state = A_ALIVE;
            actor_send_calls(n, a);
        }
        return;
    }
    if (t->kind == T_METHOD) {
        actor_t *a = t->actor;
        if (a->inflight.head != t)
            lux_log_warn("node: actor '%s' answered out of order", a->cls);
        q_remove(&a->inflight, t);
    } else {
        n->running--;
        w->task = NULL;
    }
    if (m->code != 0 && t->kind == T_TASK && t->retry_exceptions && t->retries_left != 0) {
        if (t->retries_left > 0)
            t->retries_left--;
        t->worker = NULL;
        next_or_idle(n, w);
        enqueue_ready(n, t, 1);
        return;
    }
    for (int i = 0; i < t->num_returns; i++) {
        lux_id_t id = lux_id_make(t->id, (uint32_t)i, LUX_IDK_RETURN);
        obj_t *o = obj_get(n, &id);
        if (o == NULL)
            continue;
        if (m->code != 0) {
            obj_set_error(n, o, m->code == LUX_ETASK ? LUX_ETASK : m->code, msg);
        } else if ((uint32_t)i < m->nblobs && m->blobs[i].kind == LUX_BLOB_SHM && o->in_arena &&
                   m->blobs[i].off == o->off && m->blobs[i].len == o->len) {
            o->alloc_pending = 0;
            o->state = OBJ_READY;
            on_object_ready(n, o);
        } else if ((uint32_t)i < m->nblobs && m->blobs[i].kind == LUX_BLOB_VALUE) {
            obj_set_value(n, o, m->blobs[i].data, m->blobs[i].len);
        } else {
            obj_set_value(n, o, "", 0);
        }
        obj_maybe_free(n, o);
    }
    int plain = t->kind == T_TASK;
    task_done(n, t);
    if (plain)
        next_or_idle(n, w);
}

static void send_welcome(lux_node_t *n, const char *who, size_t wholen, uint64_t req)
{
    lux_res_item_t items[LUX_RES_MAX];
    uint32_t ni = 0;
    for (int i = 0; i < n->names.count; i++) {
        if (n->total.v[i] == 0 && i != LUX_RES_CPU)
            continue;
        memset(&items[ni], 0, sizeof items[ni]);
        snprintf(items[ni].name, sizeof items[ni].name, "%s", n->names.names[i]);
        items[ni].amount = n->total.v[i];
        ni++;
    }
    lux_msg_t r = {
        .type = LUX_MSG_WELCOME, .req = req, .a = (uint64_t)getpid(), .b = n->arena.size};
    r.name = n->arena_path;
    r.name_len = (uint32_t)strlen(n->arena_path);
    r.text = n->log_dir;
    r.text_len = strlen(n->log_dir);
    r.res = items;
    r.nres = ni;
    send_msg(n, who, wholen, &r);
}

static void on_defer(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    worker_t *w = worker_of(n, who, wholen);
    lux_id_t key = lux_id_u64(m->req);
    task_t *t = lux_idmap_get(&n->tasks, &key);
    if (w == NULL || t == NULL || t->worker != w || t->queued_in != 4)
        return;
    q_remove(&w->pipe, t);
    t->queued_in = 0;
    t->worker = NULL;
    enqueue_ready(n, t, 1);
}

static void on_hello(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    if (wholen == 5 && who[0] == 'W') {
        worker_t *w = worker_of(n, who, wholen);
        if (w == NULL || w->state == W_DEAD || (long)m->a != (long)w->pid) {
            lux_log_warn("node: hello from an unknown worker dropped");
            return;
        }
        send_welcome(n, who, wholen, m->req);
        w->registered = 1;
        if (w->actor != NULL) {
            w->state = W_ACTOR;
            send_execute(n, w, w->actor->ctor);
        } else if (w->task != NULL) {
            w->state = W_BUSY;
            send_execute(n, w, w->task);
        } else {
            idle_push(n, w);
        }
        return;
    }
    /* A driver. */
    if (wholen == 5 && who[0] == 'D') {
        driver_t *d = lux_realloc(n->drivers, (n->ndrivers + 1) * sizeof *d);
        if (d != NULL) {
            n->drivers = d;
            d[n->ndrivers].pid = (uint32_t)m->a;
            d[n->ndrivers].last_seen = now_s();
            n->ndrivers++;
        }
    }
    send_welcome(n, who, wholen, m->req);
}

/* Drops the creation reference of every object a gone process made and did
 * not release (a driver that exited or was killed, a dead worker's puts and
 * child tasks), so the store does not keep them forever. */
static void drop_owned(lux_node_t *n, const char *who)
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
        obj_t *o = obj_get(n, &ids[i]);
        if (o == NULL)
            continue;
        o->owner_released = 1;
        o->refs--;
        obj_maybe_free(n, o);
    }
    lux_free(ids);
}

static void driver_gone(lux_node_t *n, uint32_t pid)
{
    char who[5] = {'D'};
    memcpy(who + 1, &pid, 4);
    drop_owned(n, who);
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

static void on_get_or_wait(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m,
                           int kind)
{
    uint32_t num = kind == WT_GET ? m->nids : (uint32_t)m->b;
    waiter_t *w = waiter_new(n, kind, who, wholen, m->req, deadline_of(m->a));
    if (w == NULL) {
        reply(n, who, wholen, m->req, LUX_ENOMEM, 0, NULL, 0);
        return;
    }
    w->ids = lux_malloc((m->nids ? m->nids : 1) * sizeof *w->ids);
    if (w->ids == NULL) {
        waiter_free(n, w);
        reply(n, who, wholen, m->req, LUX_ENOMEM, 0, NULL, 0);
        return;
    }
    memcpy(w->ids, m->ids, 16 * (size_t)m->nids);
    w->nids = m->nids;
    w->num_returns = num;
    for (uint32_t i = 0; i < m->nids; i++) {
        obj_t *o = obj_get(n, &w->ids[i]);
        if (o == NULL) {
            if (kind == WT_GET) {
                char msg[128];
                snprintf(msg, sizeof msg, "object %u of the request is unknown or was freed", i);
                reply(n, who, wholen, m->req, LUX_ENOENT, i, msg, strlen(msg));
                for (uint32_t j = 0; j < i; j++) {
                    obj_t *p = obj_get(n, &w->ids[j]);
                    if (p == NULL)
                        continue;
                    for (uint32_t k = 0; k < p->nwait; k++) {
                        if (p->waiters[k] == (w->wid | WAITER_BIT)) {
                            p->waiters[k] = p->waiters[--p->nwait];
                            break;
                        }
                    }
                }
                waiter_free(n, w);
                return;
            }
            w->ready++;
        } else if (o->state != OBJ_PENDING) {
            w->ready++;
        } else {
            obj_add_waiter(o, w->wid | WAITER_BIT);
        }
    }
    if (w->ready >= w->num_returns || w->deadline <= now_s()) {
        waiter_complete(n, w, w->ready < w->num_returns);
        return;
    }
    if (isfinite(w->deadline))
        timed_add(n, w);
    /* A worker blocked here lends its CPU back. */
    worker_t *wk = worker_of(n, who, wholen);
    if (wk != NULL && !wk->blocked && (wk->task != NULL || wk->actor != NULL)) {
        memset(&wk->lent, 0, sizeof wk->lent);
        wk->lent.v[LUX_RES_CPU] = wk->held.v[LUX_RES_CPU];
        if (wk->pool_pg == NULL || lux_idmap_get(&n->pgs, &wk->pool_pg->id) == wk->pool_pg)
            lux_resv_add(pool_avail(n, wk->pool_pg, wk->pool_bundle), &wk->lent);
        wk->blocked = 1;
        w->lender = wk;
        n->dirty = 1;
    }
}

static void on_put(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    if (m->nblobs != 1 || m->blobs[0].kind != LUX_BLOB_VALUE || obj_get(n, &m->id) != NULL)
        return;
    obj_t *o = obj_new(n, &m->id, 0, who, wholen);
    if (o == NULL)
        return;
    uint64_t len = m->blobs[0].len;
    if (store_room(n, len) && n->timed == NULL) {
        obj_set_value(n, o, m->blobs[0].data, len);
        return;
    }
    if (len > n->capacity) {
        char msg[200];
        snprintf(msg, sizeof msg, "object store full: %llu bytes exceed the capacity %llu",
                 (unsigned long long)len, (unsigned long long)n->capacity);
        obj_set_error(n, o, LUX_EFULL, msg);
        return;
    }
    waiter_t *w = waiter_new(n, WT_PUT, "", 0, 0, deadline_of(m->a));
    if (w == NULL || (w->data = lux_malloc(len ? len : 1)) == NULL) {
        if (w)
            waiter_free(n, w);
        obj_set_error(n, o, LUX_ENOMEM, "node out of memory");
        return;
    }
    memcpy(w->data, m->blobs[0].data, len);
    w->len = len;
    w->obj = m->id;
    timed_add(n, w);
}

static void on_put_alloc(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    obj_t *o = obj_get(n, &m->id);
    if (o == NULL) {
        if (lux_id_kind(&m->id) != LUX_IDK_PUT) {
            reply(n, who, wholen, m->req, LUX_ENOENT, 0, NULL, 0);
            return;
        }
        o = obj_new(n, &m->id, 0, who, wholen);
        if (o == NULL) {
            reply(n, who, wholen, m->req, LUX_ENOMEM, 0, NULL, 0);
            return;
        }
    } else if (o->state != OBJ_PENDING || o->in_arena) {
        reply(n, who, wholen, m->req, LUX_EEXIST, 0, NULL, 0);
        return;
    }
    if (m->a > n->arena.size) {
        char msg[200];
        snprintf(msg, sizeof msg, "object store full: %llu bytes exceed the capacity %llu",
                 (unsigned long long)m->a, (unsigned long long)n->arena.size);
        reply(n, who, wholen, m->req, LUX_EFULL, 0, msg, strlen(msg));
        obj_set_error(n, o, LUX_EFULL, msg);
        obj_maybe_free(n, o);
        return;
    }
    int has_alloc_waiters = 0;
    for (waiter_t *w = n->timed; w; w = w->next)
        has_alloc_waiters |= w->kind == WT_ALLOC || w->kind == WT_PUT;
    if (!has_alloc_waiters && do_alloc(n, o, m->a) == 0) {
        reply(n, who, wholen, m->req, 0, o->off, NULL, 0);
        return;
    }
    waiter_t *w = waiter_new(n, WT_ALLOC, who, wholen, m->req, deadline_of(m->b));
    if (w == NULL) {
        reply(n, who, wholen, m->req, LUX_ENOMEM, 0, NULL, 0);
        return;
    }
    w->obj = m->id;
    w->len = m->a;
    timed_add(n, w);
}

static void on_put_seal(lux_node_t *n, const lux_msg_t *m)
{
    obj_t *o = obj_get(n, &m->id);
    if (o == NULL || !o->in_arena || !o->alloc_pending || o->off != m->a || o->len != m->b)
        return;
    o->alloc_pending = 0;
    o->state = OBJ_READY;
    on_object_ready(n, o);
    obj_maybe_free(n, o);
}

static void on_refs(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    for (uint32_t i = 0; i < m->nids; i++) {
        lux_id_t id;
        memcpy(&id, &m->ids[i], sizeof id);
        obj_t *o = obj_get(n, &id);
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
        obj_maybe_free(n, o);
    }
}

static void on_cancel(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    lux_id_t key = lux_id_u64(lux_id_task(&m->id));
    task_t *t = lux_idmap_get(&n->tasks, &key);
    if (t == NULL || t->kind == T_CTOR) {
        reply(n, who, wholen, m->req, LUX_ENOENT, 0, NULL, 0);
        return;
    }
    char msg[300];
    snprintf(msg, sizeof msg, "task '%s' was cancelled", t->name);
    if (t->state == TS_WAITING || t->state == TS_QUEUED) {
        if (t->queued_in == 1)
            q_remove(&n->ready, t);
        else if (t->queued_in == 2)
            q_remove(&t->actor->queue, t);
        task_fail(n, t, LUX_ECANCELLED, msg);
        reply(n, who, wholen, m->req, 0, 0, NULL, 0);
        return;
    }
    if (t->queued_in == 4) {
        /* Sent ahead to a worker but not started: its result will be dropped. */
        q_remove(&t->worker->pipe, t);
        t->queued_in = 0;
        task_fail(n, t, LUX_ECANCELLED, msg);
        reply(n, who, wholen, m->req, 0, 0, NULL, 0);
        return;
    }
    if (t->state == TS_RUNNING && m->a && t->kind == T_TASK && t->worker) {
        worker_t *w = t->worker;
        t->retries_left = 0;
        w->task = NULL;
        n->running--;
        task_fail(n, t, LUX_ECANCELLED, msg);
        kill(w->pid, SIGKILL);
        reply(n, who, wholen, m->req, 0, 0, NULL, 0);
        return;
    }
    reply(n, who, wholen, m->req, LUX_EBUSY, 0, NULL, 0);
}

static void on_actor_kill(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    actor_t *a = lux_idmap_get(&n->actors, &m->id);
    if (a == NULL) {
        reply(n, who, wholen, m->req, LUX_ENOENT, 0, NULL, 0);
        return;
    }
    if (m->a) {
        a->max_restarts = a->restarts;
        if (a->death == NULL)
            a->death = lux_strdup("actor was killed by lux_actor_kill");
    }
    if (a->worker != NULL) {
        kill(a->worker->pid, SIGKILL);
    } else if (m->a && a->state != A_DEAD) {
        if (a->ctor->queued_in == 1) {
            q_remove(&n->ready, a->ctor);
            a->ctor->queued_in = 0;
            unpin_args(n, a->ctor);
        }
        a->state = A_DEAD;
        actor_send_calls(n, a);
    }
    reply(n, who, wholen, m->req, 0, 0, NULL, 0);
}

static void on_pg_create(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    int nb = (int)m->b;
    if (nb < 1 || nb > 1024 || m->a > 3 || lux_idmap_get(&n->pgs, &m->id)) {
        reply(n, who, wholen, m->req, LUX_EINVAL, 0, NULL, 0);
        return;
    }
    pg_t *pg = lux_calloc(1, sizeof *pg);
    if (pg)
        pg->bundles = lux_calloc((size_t)nb, sizeof *pg->bundles);
    if (pg == NULL || pg->bundles == NULL) {
        if (pg)
            lux_free(pg);
        reply(n, who, wholen, m->req, LUX_ENOMEM, 0, NULL, 0);
        return;
    }
    pg->id = m->id;
    pg->strategy = (int)m->a;
    pg->nbundles = nb;
    lux_resv_t sum;
    memset(&sum, 0, sizeof sum);
    const char *why = NULL;
    for (int b = 0; b < nb; b++) {
        if (parse_need(n, m, &pg->bundles[b].total, b) != 0)
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
        reply(n, who, wholen, m->req, LUX_EINFEASIBLE, 0, msg, strlen(msg));
        lux_free(pg->bundles);
        lux_free(pg);
        return;
    }
    lux_idmap_put(&n->pgs, &pg->id, pg);
    pg_t **p = &n->pending_pgs;
    while (*p)
        p = &(*p)->next_pending;
    *p = pg;
    pg_try_reserve(n);
    reply(n, who, wholen, m->req, 0, 0, NULL, 0);
}

static void on_pg_remove(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    pg_t *pg = lux_idmap_del(&n->pgs, &m->id);
    if (pg == NULL) {
        reply(n, who, wholen, m->req, LUX_ENOENT, 0, NULL, 0);
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
            reply(n, w->who, w->wholen, w->req, LUX_ENOENT, 0, NULL, 0);
            waiter_free(n, w);
        }
    }
    lux_free(pg->bundles);
    lux_free(pg);
    pg_try_reserve(n);
    n->dirty = 1;
    reply(n, who, wholen, m->req, 0, 0, NULL, 0);
}

static void on_pg_wait(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    pg_t *pg = lux_idmap_get(&n->pgs, &m->id);
    if (pg == NULL || pg->ready) {
        reply(n, who, wholen, m->req, pg ? 0 : LUX_ENOENT, 0, NULL, 0);
        return;
    }
    waiter_t *w = waiter_new(n, WT_PGWAIT, who, wholen, m->req, deadline_of(m->a));
    if (w == NULL) {
        reply(n, who, wholen, m->req, LUX_ENOMEM, 0, NULL, 0);
        return;
    }
    w->obj = m->id;
    timed_add(n, w);
}

static json_t *resv_json(lux_node_t *n, const lux_resv_t *r)
{
    json_t *o = json_object();
    for (int i = 0; i < n->names.count; i++)
        if (n->total.v[i] != 0 || i == LUX_RES_CPU)
            json_object_set_new(o, n->names.names[i], json_real((double)r->v[i] / LUX_RES_UNIT));
    return o;
}

static void on_status(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
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
    reply(n, who, wholen, m->req, text ? 0 : LUX_ENOMEM, 0, text, text ? strlen(text) : 0);
    free(text);
}

static void on_actor_pid(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    actor_t *a = lux_idmap_get(&n->actors, &m->id);
    if (a == NULL) {
        reply(n, who, wholen, m->req, LUX_ENOENT, 0, NULL, 0);
        return;
    }
    uint64_t pid = a->worker && a->state == A_ALIVE ? (uint64_t)a->worker->pid : 0;
    reply(n, who, wholen, m->req, 0, pid, NULL, 0);
}

static void handle(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    switch (m->type) {
    case LUX_MSG_HELLO:
        on_hello(n, who, wholen, m);
        break;
    case LUX_MSG_SUBMIT:
        on_submit(n, who, wholen, m);
        break;
    case LUX_MSG_ACTOR_CREATE:
        on_actor_create(n, who, wholen, m);
        break;
    case LUX_MSG_ACTOR_CALL:
        on_actor_call(n, who, wholen, m);
        break;
    case LUX_MSG_RESULT:
        on_result(n, who, wholen, m);
        break;
    case LUX_MSG_DEFER:
        on_defer(n, who, wholen, m);
        break;
    case LUX_MSG_PUT:
        on_put(n, who, wholen, m);
        break;
    case LUX_MSG_PUT_ALLOC:
        on_put_alloc(n, who, wholen, m);
        break;
    case LUX_MSG_PUT_SEAL:
        on_put_seal(n, m);
        break;
    case LUX_MSG_GET:
        on_get_or_wait(n, who, wholen, m, WT_GET);
        break;
    case LUX_MSG_WAIT:
        if (m->b > m->nids)
            reply(n, who, wholen, m->req, LUX_EINVAL, 0, NULL, 0);
        else
            on_get_or_wait(n, who, wholen, m, WT_WAIT);
        break;
    case LUX_MSG_RETAIN:
    case LUX_MSG_RELEASE:
    case LUX_MSG_UNPIN:
        on_refs(n, who, wholen, m);
        break;
    case LUX_MSG_CANCEL:
        on_cancel(n, who, wholen, m);
        break;
    case LUX_MSG_ACTOR_KILL:
        on_actor_kill(n, who, wholen, m);
        break;
    case LUX_MSG_ACTOR_PID:
        on_actor_pid(n, who, wholen, m);
        break;
    case LUX_MSG_PG_CREATE:
        on_pg_create(n, who, wholen, m);
        break;
    case LUX_MSG_PG_WAIT:
        on_pg_wait(n, who, wholen, m);
        break;
    case LUX_MSG_PG_REMOVE:
        on_pg_remove(n, who, wholen, m);
        break;
    case LUX_MSG_STATUS:
        on_status(n, who, wholen, m);
        break;
    case LUX_MSG_STOP:
        n->stop = 1;
        reply(n, who, wholen, m->req, 0, 0, NULL, 0);
        break;
    case LUX_MSG_BYE:
        if (wholen == 5 && who[0] == 'D') {
            uint32_t pid;
            memcpy(&pid, who + 1, 4);
            driver_gone(n, pid);
        }
        reply(n, who, wholen, m->req, 0, 0, NULL, 0);
        break;
    default:
        lux_log_warn("node: unexpected %s message dropped", lux_msg_name(m->type));
    }
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
    double last_check = now_s();
    zmq_msg_t id, body;
    zmq_msg_init(&id);
    zmq_msg_init(&body);
    n->poll_dirty = 1;
    int prestart = n->prestart < 0 ? 0 : n->prestart == 0 ? n->ncpus_int : n->prestart;
    for (int i = 0; i < prestart; i++) {
        worker_t *w;
        if (spawn_worker(n, "", &w) != 0)
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
        double now = now_s();
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
                    schedule(n);
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
                reap(n, evs[i].data.ptr);
        }
        now = now_s();
        if (n->timed)
            check_deadlines(n, now);
        if (now - last_check > 0.5) {
            last_check = now;
            check_drivers(n);
            for (size_t i = 0; i < n->nworkers; i++)
                if (n->workers[i]->pidfd < 0)
                    reap(n, n->workers[i]);
        }
        pg_try_reserve(n);
        if (n->dirty)
            schedule(n);
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

/* Removes the node's files from dir; worker logs that are not empty (a
 * crash report, a failed task's output) are kept with the directory.
 * Returns 1 when something was kept. */
static int rm_tree(const char *dir, int only_if_clean)
{
    char path[PATH_MAX + 300];
    int kept = 0;
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strncmp(e->d_name, "worker-", 7) != 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            struct stat st;
            if (only_if_clean && stat(path, &st) == 0 && st.st_size > 0)
                kept = 1;
            else
                unlink(path);
        }
        closedir(d);
    }
    snprintf(path, sizeof path, "%s/node.sock", dir);
    unlink(path);
    if (!kept)
        rmdir(dir);
    return kept;
}

/* Removes the clean directories of private nodes whose driver died without
 * lux_shutdown (killed, or exited early): $TMPDIR/lux-node-<pid>-* with a
 * dead pid and only empty logs. */
static void sweep_stale_dirs(const char *base)
{
    DIR *d = opendir(base);
    if (d == NULL)
        return;
    struct dirent *e;
    char path[PATH_MAX + 300];
    while ((e = readdir(d)) != NULL) {
        long pid;
        if (sscanf(e->d_name, "lux-node-%ld-", &pid) != 1 || pid <= 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        snprintf(path, sizeof path, "%s/%s", base, e->d_name);
        rm_tree(path, 1);
    }
    closedir(d);
}

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

static uint64_t default_store_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0)
        return 1ull << 30;
    return (uint64_t)pages * (uint64_t)page * 3 / 10;
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
    n->total.v[LUX_RES_MEMORY] = lux_res_from_double((double)default_store_bytes() * 2);
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
    n->pipe_depth = depth && *depth ? (size_t)atol(depth) : PIPE_DEPTH;

    if (opts->log_dir != NULL) {
        snprintf(n->log_dir, sizeof n->log_dir, "%s", opts->log_dir);
        if (mkdir(n->log_dir, 0755) != 0 && errno != EEXIST)
            goto fail;
    } else {
        const char *base = getenv("TMPDIR");
        sweep_stale_dirs(base && *base ? base : "/tmp");
        snprintf(n->log_dir, sizeof n->log_dir, "%s/lux-node-%ld-XXXXXX",
                 base && *base ? base : "/tmp", (long)getpid());
        if (mkdtemp(n->log_dir) == NULL)
            goto fail;
        n->own_log_dir = 1;
    }
    ssize_t el = readlink("/proc/self/exe", n->exe, sizeof n->exe - 1);
    if (el <= 0)
        goto fail;
    n->exe[el] = '\0';

    n->capacity = opts->store_bytes ? opts->store_bytes : default_store_bytes();
    n->arena_fd = memfd_create("lux-object-store", MFD_CLOEXEC);
    if (n->arena_fd < 0 || ftruncate(n->arena_fd, (off_t)n->capacity) != 0)
        goto fail;
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
            if (rm_tree(n->log_dir, 1))
                lux_log_info("node: worker logs kept in %s", n->log_dir);
        } else {
            char path[PATH_MAX + 32];
            snprintf(path, sizeof path, "%s/node.sock", n->log_dir);
            unlink(path);
        }
    }
    lux_free(n);
}
