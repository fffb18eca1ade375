/*
 * The worker side of lux.h: lux_worker_main (the loop of a worker process:
 * receive EXECUTE, run the registered function, send RESULT) and the
 * lux_call_* accessors a remote function uses. A worker is the executable
 * re-executed by its node with LUX_WORKER_* variables; it runs one task at a
 * time, in arrival order, and dies with its node (PR_SET_PDEATHSIG, plus a
 * check of its parent while idle). An actor's worker keeps the actor's
 * state (W) between calls.
 */
#include "lux.h"
#include "conn.h"
#include "registry.h"

#include "alloc.h"
#include "error.h"
#include "log.h"

#include <zmq.h>

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Messages are cut to their buffers on purpose. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

/* ---- inside a worker ---- */

int lux_gpu_ids(int *ids, int max)
{
    if (!lux_conn.is_worker)
        return 0;
    const char *s = getenv("CUDA_VISIBLE_DEVICES");
    int n = 0;
    while (s && *s && n < max) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s)
            break;
        ids[n++] = (int)v;
        s = *end == ',' ? end + 1 : end;
    }
    return n;
}

lux_pg_t lux_current_pg(void)
{
    lux_pg_t pg;
    memcpy(pg.id, lux_conn.cur_pg.b, 16);
    return pg;
}

struct lux_call {
    const lux_blob_t *args;
    uint32_t nargs;
    int num_returns;
    struct {
        void *data;
        size_t len;
    } ret[LUX_MAX_RETURNS];
    char *error;
    void *self;
};

size_t lux_call_nargs(const lux_call_t *call)
{
    return call->nargs;
}

const void *lux_call_arg(const lux_call_t *call, size_t i, size_t *len)
{
    if (i >= call->nargs) {
        if (len)
            *len = 0;
        return NULL;
    }
    const lux_blob_t *b = &call->args[i];
    if (len)
        *len = b->len;
    if (b->kind == LUX_BLOB_SHM)
        return lux_conn.arena + b->off;
    return b->data;
}

int lux_call_num_returns(const lux_call_t *call)
{
    return call->num_returns;
}

int lux_call_return(lux_call_t *call, int i, const void *data, size_t len)
{
    if (i < 0 || i >= call->num_returns || (data == NULL && len > 0))
        return LUX_ERANGE;
    void *copy = lux_malloc(len ? len : 1);
    if (copy == NULL)
        return LUX_ENOMEM;
    if (len)
        memcpy(copy, data, len);
    lux_free(call->ret[i].data);
    call->ret[i].data = copy;
    call->ret[i].len = len;
    return 0;
}

int lux_call_fail(lux_call_t *call, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    lux_free(call->error);
    call->error = lux_strdup(buf);
    return LUX_ETASK;
}

void *lux_call_self(const lux_call_t *call)
{
    return call->self;
}

void lux_call_set_self(lux_call_t *call, void *self)
{
    call->self = self;
}

static struct {
    lux_actor_class_t *cls;
    void *self;
} W;

/* Argument bytes inside a message may sit at any offset; copies them to
 * 16-byte aligned places (shared-memory extents are already aligned) so a
 * function may read its arguments as arrays of doubles. Returns the buffer
 * to free, or NULL when nothing had to move. */
static void *align_args(lux_blob_t *blobs, uint32_t n)
{
    size_t total = 0;
    for (uint32_t i = 0; i < n; i++)
        if (blobs[i].kind == LUX_BLOB_VALUE && ((uintptr_t)blobs[i].data & 15) != 0)
            total += (blobs[i].len + 15) & ~(size_t)15;
    if (total == 0)
        return NULL;
    char *buf = aligned_alloc(16, total);
    if (buf == NULL)
        return NULL;
    size_t off = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (blobs[i].kind == LUX_BLOB_VALUE && ((uintptr_t)blobs[i].data & 15) != 0) {
            memcpy(buf + off, blobs[i].data, blobs[i].len);
            blobs[i].data = buf + off;
            off += (blobs[i].len + 15) & ~(size_t)15;
        }
    }
    return buf;
}

static void execute(const lux_msg_t *m)
{
    lux_call_t call;
    memset(&call, 0, sizeof call);
    void *aligned = align_args(m->blobs, m->nblobs);
    call.args = m->blobs;
    call.nargs = m->nblobs;
    call.num_returns = m->opts.num_returns > 0 ? m->opts.num_returns : 1;
    call.self = W.self;
    lux_conn.cur_pg = m->opts.pg;
    int rc;
    char why[512] = "";
    if (m->a == 0) {
        lux_remote_desc_t *d = lux_registry_find_remote(m->name, m->name_len);
        lux_conn.in_task = 1;
        if (d == NULL) {
            snprintf(why, sizeof why, "no remote function '%.*s' in this executable",
                     (int)m->name_len, m->name);
            rc = LUX_ENOENT;
        } else {
            rc = d->fn(&call);
        }
    } else if (m->a == 1) {
        lux_actor_class_t *cls = lux_registry_find_class(m->name, m->name_len);
        if (cls == NULL) {
            snprintf(why, sizeof why, "no actor class '%.*s' in this executable", (int)m->name_len,
                     m->name);
            rc = LUX_ENOENT;
        } else {
            rc = cls->init(&call);
            if (rc == 0) {
                W.cls = cls;
                W.self = call.self;
            }
        }
    } else {
        lux_remote_fn fn = NULL;
        for (size_t i = 0; W.cls && i < W.cls->nmethods && !fn; i++)
            if (strlen(W.cls->methods[i].name) == m->name_len &&
                memcmp(W.cls->methods[i].name, m->name, m->name_len) == 0)
                fn = W.cls->methods[i].fn;
        if (fn == NULL) {
            snprintf(why, sizeof why, "actor class '%s' has no method '%.*s'",
                     W.cls ? W.cls->name : "?", (int)m->name_len, m->name);
            rc = LUX_ENOENT;
        } else {
            rc = fn(&call);
            W.self = call.self;
        }
    }
    lux_conn.in_task = 0;
    fflush(stdout);
    lux_msg_t r = {.type = LUX_MSG_RESULT, .req = m->req, .code = rc};
    lux_blob_t blobs[LUX_MAX_RETURNS];
    if (rc != 0) {
        const char *text = call.error ? call.error : why[0] ? why : lux_strerror(rc);
        r.code = rc < 0 ? rc : LUX_ETASK;
        r.text = text;
        r.text_len = strlen(text);
    } else {
        pthread_mutex_lock(&lux_conn.mu);
        for (int i = 0; i < call.num_returns && r.code == 0; i++) {
            memset(&blobs[i], 0, sizeof blobs[i]);
            if (call.ret[i].len > LUX_INLINE_MAX) {
                lux_id_t id = lux_id_make(m->req, (uint32_t)i, LUX_IDK_RETURN);
                uint64_t off;
                int wrc =
                    lux_conn_arena_write_locked(&id, call.ret[i].data, call.ret[i].len, 60, &off);
                if (wrc) {
                    r.code = wrc;
                    snprintf(why, sizeof why, "cannot store return value %d (%zu bytes): %s", i,
                             call.ret[i].len, lux_strerror(wrc));
                    r.text = why;
                    r.text_len = strlen(why);
                    break;
                }
                blobs[i].kind = LUX_BLOB_SHM;
                blobs[i].id = id;
                blobs[i].off = off;
                blobs[i].len = call.ret[i].len;
            } else {
                blobs[i].kind = LUX_BLOB_VALUE;
                blobs[i].data = call.ret[i].data ? call.ret[i].data : "";
                blobs[i].len = call.ret[i].len;
            }
        }
        pthread_mutex_unlock(&lux_conn.mu);
        if (r.code == 0) {
            r.blobs = blobs;
            r.nblobs = (uint32_t)call.num_returns;
        }
    }
    pthread_mutex_lock(&lux_conn.mu);
    lux_conn_send_locked(&r);
    pthread_mutex_unlock(&lux_conn.mu);
    for (int i = 0; i < call.num_returns; i++)
        lux_free(call.ret[i].data);
    lux_free(call.error);
    free(aligned);
    memset(&lux_conn.cur_pg, 0, sizeof lux_conn.cur_pg);
}

static void handle_record(const void *data, size_t len)
{
    size_t pos = 0;
    while (pos < len) {
        lux_msg_t m;
        if (lux_msg_decode(data, len, &pos, &m) != 0) {
            lux_log_warn("malformed message from the node dropped");
            return;
        }
        if (m.type == LUX_MSG_EXECUTE && pos < len) {
            /* Records behind this one go back to the stash first, so that a
             * task blocking in get can hand the tasks queued behind it back
             * to the node (they may be what it waits for). */
            pthread_mutex_lock(&lux_conn.mu);
            lux_conn_stash_push_front((const uint8_t *)data + pos, len - pos);
            pthread_mutex_unlock(&lux_conn.mu);
            len = pos;
        }
        if (m.type == LUX_MSG_EXECUTE)
            execute(&m);
        else
            lux_log_debug("worker: unexpected %s message dropped", lux_msg_name(m.type));
        lux_msg_fini(&m);
    }
}

int lux_worker_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const char *addr = getenv("LUX_WORKER_ADDR");
    const char *wid_s = getenv("LUX_WORKER_ID");
    const char *node_s = getenv("LUX_NODE_PID");
    if (addr == NULL || wid_s == NULL || node_s == NULL)
        return -1;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* Started from /proc/self/exe, the kernel would name us "exe" in ps,
     * top and pgrep; name ourselves as argv[0] says. */
    prctl(PR_SET_NAME, "lux-worker");
    pid_t node_pid = (pid_t)atol(node_s);
    if (getppid() != node_pid)
        return 1; /* the node died before we got here */
    char address[4200];
    snprintf(address, sizeof address, "%s", addr);
    uint32_t wid = (uint32_t)strtoul(wid_s, NULL, 10);
    unsetenv("LUX_WORKER_ADDR");
    unsetenv("LUX_WORKER_ID");
    unsetenv("LUX_NODE_PID");
    char prefix[64];
    snprintf(prefix, sizeof prefix, "lux-worker[%ld]", (long)getpid());
    lux_log_set_prefix(prefix);
    signal(SIGPIPE, SIG_IGN);
    lux_registry_load_worker_plugins();

    pthread_mutex_lock(&lux_conn.mu);
    lux_conn.is_worker = 1;
    lux_conn.node_pid = node_pid;
    lux_conn.tag = (1ull << 23) | (wid & 0x7fffff);
    lux_conn.ident[0] = 'W';
    memcpy(lux_conn.ident + 1, &wid, 4);
    lux_idmap_init(&lux_conn.my_actors);
    lux_idmap_init(&lux_conn.owned);
    lux_wbuf_init(&lux_conn.out);
    lux_conn.ctx = zmq_ctx_new();
    lux_conn.own_ctx = 1;
    int rc = lux_conn_connect(address, lux_conn.tag);
    if (rc == 0)
        lux_conn.inited = 1;
    pthread_mutex_unlock(&lux_conn.mu);
    if (rc) {
        fprintf(stderr, "lux worker %u: cannot reach the node at %s: %s\n", wid, address,
                lux_strerror(rc));
        return 1;
    }
    lux_conn.node_pid = node_pid;
    for (;;) {
        pthread_mutex_lock(&lux_conn.mu);
        stash_t *s = lux_conn.stash_head;
        if (s) {
            lux_conn.stash_head = s->next;
            if (lux_conn.stash_head == NULL)
                lux_conn.stash_tail = NULL;
        }
        pthread_mutex_unlock(&lux_conn.mu);
        if (s) {
            handle_record(s->data, s->len);
            lux_free(s->data);
            lux_free(s);
            continue;
        }
        zmq_pollitem_t it = {lux_conn.sock, 0, ZMQ_POLLIN, 0};
        int prc = zmq_poll(&it, 1, 1000);
        if (prc < 0 && zmq_errno() != EINTR)
            break;
        if (prc <= 0) {
            if (getppid() != node_pid)
                break;
            continue;
        }
        zmq_msg_t f;
        zmq_msg_init(&f);
        if (zmq_msg_recv(&f, lux_conn.sock, 0) < 0) {
            zmq_msg_close(&f);
            break;
        }
        handle_record(zmq_msg_data(&f), zmq_msg_size(&f));
        zmq_msg_close(&f);
    }
    if (W.cls && W.cls->fini && W.self)
        W.cls->fini(W.self);
    pthread_mutex_lock(&lux_conn.mu);
    lux_conn.inited = 0;
    lux_conn_disconnect();
    zmq_ctx_term(lux_conn.ctx);
    pthread_mutex_unlock(&lux_conn.mu);
    return 0;
}
