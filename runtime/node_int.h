/*
 * The node's insides, shared by its four files and by nothing else (no
 * public header includes this one). The node is one object owned by one
 * thread, split the way a bug report names its part:
 *
 *   node.c          the event loop, creation and destruction, the peers
 *                   (drivers coming and going), status, and the table that
 *                   sends each message type to its handler
 *   node_objects.c  the object table: readiness, get/wait waiters,
 *                   allocation of the shared arena, put/get/wait/refs
 *   node_sched.c    tasks and where they run: resource pools, dispatch and
 *                   pipelining, the task lifecycle, placement groups
 *   node_workers.c  worker processes and actors: spawn, idle pool, death
 *                   and reaping, actor calls and restarts, hello/result
 *
 * Each file takes the handlers of its own messages. A handler is named
 * lux_node_on_<TYPE>, spelled exactly as LUX_MSG_MAP (proto.h) spells the
 * type, because the dispatch table in node.c is generated from that map:
 * adding a message type without its handler does not link.
 *
 * Invariants (see node.c for the whole story): nothing here is touched by
 * another thread, so there are no locks; objects, tasks and waiters refer
 * to each other by id through the node's id maps, so a finished one is
 * simply not found; resources are int64 vectors in 1/10000 units.
 */
#ifndef LUX_RUNTIME_NODE_INT_H
#define LUX_RUNTIME_NODE_INT_H

#include "node.h"
#include "objstore.h"
#include "proto.h"

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Tasks sent ahead to a busy worker under its lease, by default;
 * LUX_PIPELINE_DEPTH overrides, 0 disables (node_sched.c). */
#define LUX_NODE_PIPE_DEPTH 8

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
    int own_log_dir;   /* log_dir is rundir_fd's entry log_name (rundir.h) */
    int rundir_fd;     /* the per-user runtime directory, or -1 */
    char log_name[64]; /* node-<pid>-XXXXXX */
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

/* ---- node.c ---- */

/* Every handler has this shape: the peer's routing id and one decoded
 * message (valid only during the call). */
typedef void lux_node_handler_fn(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m);

#define LUX_NODE_HANDLER_DECL(name, code, fields) lux_node_handler_fn lux_node_on_##name;
LUX_MSG_MAP(LUX_NODE_HANDLER_DECL)
#undef LUX_NODE_HANDLER_DECL

/* Monotonic-clock deadline timeout_us from now (LUX_FOREVER: infinity). */
double lux_node_deadline(uint64_t timeout_us);

/* The node's one copy of a name (function, class); "?" when out of memory.
 * Lives as long as the node. */
const char *lux_node_intern(lux_node_t *n, const char *s, size_t len);

/* Task queues (doubly linked through the task): push at the back or the
 * front, remove from anywhere. Cannot fail. */
void lux_node_q_push(tqueue_t *q, task_t *t, int front);
void lux_node_q_remove(tqueue_t *q, task_t *t);

/* Queues a message to a peer; sent with the peer's other messages at the
 * end of this loop iteration. Logs and drops it when out of memory. */
void lux_node_send_msg(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m);
/* Queues a REPLY to request req. */
void lux_node_reply(lux_node_t *n, const char *who, size_t wholen, uint64_t req, int code,
                    uint64_t a, const void *text, size_t text_len);

/* ---- node_objects.c ---- */

obj_t *lux_node_obj_get(lux_node_t *n, const lux_id_t *id);
/* A new pending object with one reference, owned by the peer who (its
 * creation reference is dropped if that peer goes away). NULL when out of
 * memory. */
obj_t *lux_node_obj_new(lux_node_t *n, const lux_id_t *id, uint64_t producer, const char *who,
                        size_t wholen);
/* Frees o if nothing refers to it any more (refs, pins, waiters), and then
 * retries allocations that wait for room. */
void lux_node_obj_maybe_free(lux_node_t *n, obj_t *o);
int lux_node_obj_add_waiter(obj_t *o, uint64_t w);
/* Completes a pending object (no effect on one that is not pending) and
 * wakes what waits on it. */
void lux_node_obj_set_error(lux_node_t *n, obj_t *o, int code, const char *msg);
void lux_node_obj_set_value(lux_node_t *n, obj_t *o, const void *data, uint64_t len);
void lux_node_on_object_ready(lux_node_t *n, obj_t *o);
/* Drops the creation reference of every object a gone peer made. */
void lux_node_drop_owned(lux_node_t *n, const char *who);

waiter_t *lux_node_waiter_new(lux_node_t *n, int kind, const char *who, size_t wholen, uint64_t req,
                              double deadline);
/* Adds w to the list of waiters with a deadline or an allocation (FIFO). */
void lux_node_timed_add(lux_node_t *n, waiter_t *w);
/* Unlinks and frees w; a worker that lent its CPU while blocked on w takes
 * it back. */
void lux_node_waiter_free(lux_node_t *n, waiter_t *w);
/* Forgets a dead worker in the waiters it lent its CPU to. */
void lux_node_lender_forget(lux_node_t *n, worker_t *wk);
/* Answers the waiters whose deadline is past (timeouts, full store). */
void lux_node_check_deadlines(lux_node_t *n, double now);

/* ---- node_sched.c ---- */

/* The resources a task or group takes from: the node's, or a bundle's. */
lux_resv_t *lux_node_pool_avail(lux_node_t *n, pg_t *pg, int bundle);
/* The resource vector of bundle `bundle` of a message. -1 when it names a
 * resource no node has. */
int lux_node_parse_need(lux_node_t *n, const lux_msg_t *m, lux_resv_t *need, int bundle);
/* A task from a SUBMIT, ACTOR_CREATE or ACTOR_CALL (arguments copied), in
 * the task map. NULL when out of memory. */
task_t *lux_node_task_from_msg(lux_node_t *n, const lux_msg_t *m, int kind);
/* A task submitted from inside a group's task runs in that group. */
void lux_node_capture_pg(lux_node_t *n, const char *who, size_t wholen, task_t *t);
/* Pins the task's arguments and queues it (or fails it at once). */
void lux_node_start_task(lux_node_t *n, task_t *t, int unknown_res);
/* A task whose arguments are ready goes to the ready queue (methods: to
 * their actor). */
void lux_node_enqueue_ready(lux_node_t *n, task_t *t, int front);
/* Starts what can start now; called when something changed (n->dirty). */
void lux_node_schedule(lux_node_t *n);
void lux_node_send_execute(lux_node_t *n, worker_t *w, task_t *t);
void lux_node_unpin_args(lux_node_t *n, task_t *t);
/* The task is over: arguments unpinned, freed (a constructor is kept for
 * restarts). task_fail first stores the error in its return objects. */
void lux_node_task_done(lux_node_t *n, task_t *t);
void lux_node_task_fail(lux_node_t *n, task_t *t, int code, const char *msg);
/* Reserves pending placement groups, in order of creation, while they fit. */
void lux_node_pg_try_reserve(lux_node_t *n);

/* ---- node_workers.c ---- */

/* Starts a worker process (GPU ids gpus, "" for none). Returns 0 and the
 * worker (state W_STARTING, until its HELLO), or LUX_ENOMEM, LUX_ESYS. */
int lux_node_spawn_worker(lux_node_t *n, const char *gpus, worker_t **out);
/* The worker behind a routing id "W<id>", or NULL. */
worker_t *lux_node_worker_of(lux_node_t *n, const char *who, size_t wholen);
void lux_node_idle_remove(lux_node_t *n, worker_t *w);
/* Live workers that are not actors, and how many of them are blocked. */
size_t lux_node_count_plain_workers(lux_node_t *n, size_t *blocked);
/* Sends an actor's queued calls to its worker (or fails them, when dead). */
void lux_node_actor_send_calls(lux_node_t *n, actor_t *a);
/* Collects a worker that exited and handles its death (retry, restart). */
void lux_node_reap(lux_node_t *n, worker_t *w);

#endif
