/*
 * Workers and actors in the node (node_int.h): starting worker processes
 * (posix_spawn of /proc/self/exe), the idle pool, deaths (retries of the
 * task, restarts of the actor, cleanup of what the worker owned), actor
 * calls in order, and the messages of workers and actors (HELLO, RESULT,
 * DEFER, ACTOR_CREATE, ACTOR_CALL, ACTOR_KILL, ACTOR_PID).
 *
 * A plain worker holds its task's resources while it runs (a lease) and
 * runs tasks sent ahead under that lease before going idle; an actor owns a
 * dedicated worker until it dies. A worker is known to the node from its
 * spawn, but messages reach it only after its HELLO (w->registered).
 */
#include "node_int.h"

#include "alloc.h"
#include "clock.h"
#include "error.h"
#include "log.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Messages and paths are cut to their buffers on purpose. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

extern char **environ;

/* ---- workers ---- */

static void worker_release_resources(lux_node_t *n, worker_t *w)
{
    lux_resv_t back = w->held;
    lux_resv_sub(&back, &w->lent);
    /* The pool may have been removed with its group. */
    if (w->pool_pg != NULL && lux_idmap_get(&n->pgs, &w->pool_pg->id) != w->pool_pg)
        w->pool_pg = NULL;
    else
        lux_resv_add(lux_node_pool_avail(n, w->pool_pg, w->pool_bundle), &back);
    memset(&w->held, 0, sizeof w->held);
    memset(&w->lent, 0, sizeof w->lent);
    for (int i = 0; i < w->ngpu; i++)
        n->gpu_used[w->gpu_ids[i]] = 0;
    w->pool_pg = NULL;
    n->dirty = 1;
}

int lux_node_spawn_worker(lux_node_t *n, const char *gpus, worker_t **out)
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
     * and default dispositions, so a crash is reported as itself.
     *
     * Each worker leads its own process group. A terminal's Ctrl-C (SIGINT
     * to the foreground process group), `timeout` and `kill -TERM -PGID`
     * signal a whole group: they are meant for the driver, which decides
     * what stopping means (`lux run` checkpoints and pauses its trials).
     * A worker in the driver's group would die of them first and fail its
     * task or actor for good. The worker stays in the driver's session and
     * still dies with the node (PR_SET_PDEATHSIG, see worker.c), and the
     * node kills its workers when it is destroyed. */
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                        POSIX_SPAWN_SETPGROUP);
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

void lux_node_idle_remove(lux_node_t *n, worker_t *w)
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

size_t lux_node_count_plain_workers(lux_node_t *n, size_t *blocked)
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

/* ---- actors ---- */

static void actor_fail_call(lux_node_t *n, actor_t *a, task_t *t, int code, const char *msg)
{
    (void)a;
    lux_node_task_fail(n, t, code, msg);
}

void lux_node_actor_send_calls(lux_node_t *n, actor_t *a)
{
    if (a->state == A_DEAD) {
        while (a->queue.head) {
            task_t *t = a->queue.head;
            lux_node_q_remove(&a->queue, t);
            actor_fail_call(n, a, t, LUX_EACTORDIED, a->death ? a->death : "actor is dead");
        }
        return;
    }
    if (a->state != A_ALIVE || a->worker == NULL)
        return;
    while (a->queue.head && a->queue.head->state == TS_QUEUED && a->inflight.n < 100000) {
        task_t *t = a->queue.head;
        lux_node_q_remove(&a->queue, t);
        lux_node_q_push(&a->inflight, t, 0);
        t->state = TS_RUNNING;
        t->worker = a->worker;
        lux_node_send_execute(n, a->worker, t);
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
        lux_node_q_remove(&a->inflight, t);
        if (t->retries_left != 0 && (a->max_restarts < 0 || a->restarts < a->max_restarts)) {
            if (t->retries_left > 0)
                t->retries_left--;
            t->state = TS_QUEUED;
            lux_node_q_push(&a->queue, t, 1);
        } else {
            lux_node_task_fail(n, t, LUX_EACTORDIED, msg);
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
                obj_t *o = lux_node_obj_get(n, &c->args[i].id);
                if (o)
                    o->pins++;
            }
        }
        lux_node_q_push(&n->ready, c, 1);
        c->queued_in = 1;
        n->dirty = 1;
    } else {
        a->state = A_DEAD;
        if (a->death == NULL)
            a->death = lux_strdup(msg);
        lux_node_actor_send_calls(n, a);
    }
}

/* ---- worker death ---- */

/* Writes how a worker died of signal sig into buf: "SIGSEGV (Segmentation
 * fault)", the name a user looks up and the C library's description
 * (glibc's sigabbrev_np and sigdescr_np, 2.32 and later), or "signal 40"
 * for a signal without a name (a real-time one). Cannot fail. */
static void signal_text(int sig, char *buf, size_t cap)
{
    const char *abbrev = sigabbrev_np(sig), *descr = sigdescr_np(sig);
    if (abbrev == NULL)
        snprintf(buf, cap, "signal %d", sig);
    else if (descr == NULL)
        snprintf(buf, cap, "SIG%s", abbrev);
    else
        snprintf(buf, cap, "SIG%s (%s)", abbrev, descr);
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
    if (WIFSIGNALED(status)) {
        char sig[128];
        signal_text(WTERMSIG(status), sig, sizeof sig);
        snprintf(cause, sizeof cause, "killed by %s", sig);
    } else
        snprintf(cause, sizeof cause, "exited with status %d", WEXITSTATUS(status));
    lux_log_debug("node: worker %u pid %ld %s", w->wid, (long)w->pid, cause);
    if (w->state == W_IDLE)
        lux_node_idle_remove(n, w);
    lux_node_lender_forget(n, w);
    int was_state = w->state;
    w->state = W_DEAD;
    /* Tasks sent ahead never started: back to the front, in order. */
    while (w->pipe.tail != NULL) {
        task_t *p = w->pipe.tail;
        lux_node_q_remove(&w->pipe, p);
        p->queued_in = 0;
        p->worker = NULL;
        lux_node_enqueue_ready(n, p, 1);
    }
    worker_release_resources(n, w);
    if (w->actor != NULL) {
        actor_t *a = w->actor;
        n->running -= a->ctor->state == TS_RUNNING;
        if (a->ctor->state == TS_RUNNING)
            lux_node_task_done(n, a->ctor);
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
            lux_node_enqueue_ready(n, t, 1);
        } else {
            char msg[1024];
            snprintf(msg, sizeof msg, "task '%s' failed: worker pid %ld %s; worker log: %s",
                     t->name, (long)w->pid, cause, w->log);
            lux_node_task_fail(n, t, LUX_EWORKERDIED, msg);
        }
    } else if (was_state == W_STARTING) {
        lux_log_error("node: worker pid %ld %s before registering; see %s", (long)w->pid, cause,
                      w->log);
    }
    lux_node_drop_owned(n, w->ident);
    worker_remove(n, w);
    n->dirty = 1;
}

void lux_node_reap(lux_node_t *n, worker_t *w)
{
    int status;
    pid_t r = waitpid(w->pid, &status, WNOHANG);
    if (r == w->pid)
        on_worker_exit(n, w, status);
}

/* ---- message handlers ---- */

worker_t *lux_node_worker_of(lux_node_t *n, const char *who, size_t wholen)
{
    if (wholen != 5 || who[0] != 'W')
        return NULL;
    uint32_t wid;
    memcpy(&wid, who + 1, 4);
    lux_id_t key = lux_id_u64(wid);
    return lux_idmap_get(&n->workers_by_id, &key);
}

void lux_node_on_ACTOR_CREATE(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    actor_t *a = lux_calloc(1, sizeof *a);
    task_t *t = a ? lux_node_task_from_msg(n, m, T_CTOR) : NULL;
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
    int bad = lux_node_parse_need(n, m, &t->need, 0) != 0;
    lux_node_capture_pg(n, who, wholen, t);
    lux_node_start_task(n, t, bad);
    if (t->state == TS_DONE) { /* failed at once */
        a->state = A_DEAD;
        a->death = lux_strdup("actor could not be created: its resource request can never be "
                              "satisfied or an argument is missing");
    }
}

void lux_node_on_ACTOR_CALL(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    (void)who;
    (void)wholen;
    actor_t *a = lux_idmap_get(&n->actors, &m->id);
    task_t *t = lux_node_task_from_msg(n, m, T_METHOD);
    if (t == NULL)
        return;
    for (int i = 0; i < t->num_returns; i++) {
        lux_id_t id = lux_id_make(t->id, (uint32_t)i, LUX_IDK_RETURN);
        lux_node_obj_new(n, &id, t->id, who, wholen);
    }
    if (a == NULL) {
        t->nargs = 0;
        lux_node_task_fail(n, t, LUX_EACTORDIED, "no such actor (killed, or never created)");
        return;
    }
    t->actor = a;
    t->retries_left = a->max_task_retries;
    if (a->state == A_DEAD) {
        t->nargs = 0;
        char msg[1200];
        snprintf(msg, sizeof msg, "method '%s' not run: %s", t->name,
                 a->death ? a->death : "actor is dead");
        lux_node_task_fail(n, t, LUX_EACTORDIED, msg);
        return;
    }
    lux_node_start_task(n, t, 0);
}

/* A plain worker finished its task: the next one is already there under
 * the same lease, or the worker goes idle. */
static void next_or_idle(lux_node_t *n, worker_t *w)
{
    if (w->pipe.head != NULL) {
        task_t *next = w->pipe.head;
        lux_node_q_remove(&w->pipe, next);
        next->queued_in = 0;
        w->task = next;
        n->running++;
    } else {
        worker_release_resources(n, w);
        idle_push(n, w);
    }
}

void lux_node_on_RESULT(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    worker_t *w = lux_node_worker_of(n, who, wholen);
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
        lux_node_task_done(n, t);
        if (m->code != 0) {
            a->state = A_DEAD;
            lux_free(a->death);
            a->death = lux_strdup(msg);
            lux_node_actor_send_calls(n, a);
            kill(w->pid, SIGKILL);
        } else {
            a->state = A_ALIVE;
            lux_node_actor_send_calls(n, a);
        }
        return;
    }
    if (t->kind == T_METHOD) {
        actor_t *a = t->actor;
        if (a->inflight.head != t)
            lux_log_warn("node: actor '%s' answered out of order", a->cls);
        lux_node_q_remove(&a->inflight, t);
    } else {
        n->running--;
        w->task = NULL;
    }
    if (m->code != 0 && t->kind == T_TASK && t->retry_exceptions && t->retries_left != 0) {
        if (t->retries_left > 0)
            t->retries_left--;
        t->worker = NULL;
        next_or_idle(n, w);
        lux_node_enqueue_ready(n, t, 1);
        return;
    }
    for (int i = 0; i < t->num_returns; i++) {
        lux_id_t id = lux_id_make(t->id, (uint32_t)i, LUX_IDK_RETURN);
        obj_t *o = lux_node_obj_get(n, &id);
        if (o == NULL)
            continue;
        if (m->code != 0) {
            lux_node_obj_set_error(n, o, m->code == LUX_ETASK ? LUX_ETASK : m->code, msg);
        } else if ((uint32_t)i < m->nblobs && m->blobs[i].kind == LUX_BLOB_SHM && o->in_arena &&
                   m->blobs[i].off == o->off && m->blobs[i].len == o->len) {
            o->alloc_pending = 0;
            o->state = OBJ_READY;
            lux_node_on_object_ready(n, o);
        } else if ((uint32_t)i < m->nblobs && m->blobs[i].kind == LUX_BLOB_VALUE) {
            lux_node_obj_set_value(n, o, m->blobs[i].data, m->blobs[i].len);
        } else {
            lux_node_obj_set_value(n, o, "", 0);
        }
        lux_node_obj_maybe_free(n, o);
    }
    int plain = t->kind == T_TASK;
    lux_node_task_done(n, t);
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
    lux_node_send_msg(n, who, wholen, &r);
}

void lux_node_on_DEFER(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    worker_t *w = lux_node_worker_of(n, who, wholen);
    lux_id_t key = lux_id_u64(m->req);
    task_t *t = lux_idmap_get(&n->tasks, &key);
    if (w == NULL || t == NULL || t->worker != w || t->queued_in != 4)
        return;
    lux_node_q_remove(&w->pipe, t);
    t->queued_in = 0;
    t->worker = NULL;
    lux_node_enqueue_ready(n, t, 1);
}

void lux_node_on_HELLO(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    if (wholen == 5 && who[0] == 'W') {
        worker_t *w = lux_node_worker_of(n, who, wholen);
        if (w == NULL || w->state == W_DEAD || (long)m->a != (long)w->pid) {
            lux_log_warn("node: hello from an unknown worker dropped");
            return;
        }
        send_welcome(n, who, wholen, m->req);
        w->registered = 1;
        if (w->actor != NULL) {
            w->state = W_ACTOR;
            lux_node_send_execute(n, w, w->actor->ctor);
        } else if (w->task != NULL) {
            w->state = W_BUSY;
            lux_node_send_execute(n, w, w->task);
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
            d[n->ndrivers].last_seen = lux_clock_monotonic_s();
            n->ndrivers++;
        }
    }
    send_welcome(n, who, wholen, m->req);
}

void lux_node_on_ACTOR_KILL(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    actor_t *a = lux_idmap_get(&n->actors, &m->id);
    if (a == NULL) {
        lux_node_reply(n, who, wholen, m->req, LUX_ENOENT, 0, NULL, 0);
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
            lux_node_q_remove(&n->ready, a->ctor);
            a->ctor->queued_in = 0;
            lux_node_unpin_args(n, a->ctor);
        }
        a->state = A_DEAD;
        lux_node_actor_send_calls(n, a);
    }
    lux_node_reply(n, who, wholen, m->req, 0, 0, NULL, 0);
}

void lux_node_on_ACTOR_PID(lux_node_t *n, const char *who, size_t wholen, const lux_msg_t *m)
{
    actor_t *a = lux_idmap_get(&n->actors, &m->id);
    if (a == NULL) {
        lux_node_reply(n, who, wholen, m->req, LUX_ENOENT, 0, NULL, 0);
        return;
    }
    uint64_t pid = a->worker && a->state == A_ALIVE ? (uint64_t)a->worker->pid : 0;
    lux_node_reply(n, who, wholen, m->req, 0, pid, NULL, 0);
}
