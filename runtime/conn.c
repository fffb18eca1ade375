/*
 * The process's connection to its node (conn.h). Requests that need an
 * answer carry a request id and wait for the REPLY, VALUES or WELCOME with
 * that id; anything else that arrives meanwhile (a worker's next EXECUTE)
 * is stashed, in order, for the worker loop. A worker inside a plain task
 * that blocks hands tasks sent ahead to it back to the node (DEFER), so
 * they can run elsewhere: nested waits cannot deadlock behind them.
 */
#include "conn.h"

#include "alloc.h"
#include "error.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

lux_conn_t lux_conn = {.mu = PTHREAD_MUTEX_INITIALIZER};

uint64_t lux_conn_timeout_us(double timeout_s)
{
    if (timeout_s < 0 || !isfinite(timeout_s))
        return LUX_FOREVER;
    return (uint64_t)(timeout_s * 1e6);
}

uint64_t lux_conn_next_task_id(void)
{
    return (lux_conn.tag << 40) | (++lux_conn.seq & ((1ull << 40) - 1));
}

int lux_conn_send_locked(const lux_msg_t *m)
{
    lux_conn.out.len = 0;
    int rc = lux_msg_encode(&lux_conn.out, m);
    if (rc)
        return rc;
    if (zmq_send(lux_conn.sock, lux_conn.out.data, lux_conn.out.len, 0) < 0)
        return LUX_ECLOSED;
    if (lux_conn.out.cap > (4u << 20))
        lux_wbuf_fini(&lux_conn.out);
    return 0;
}

/* A new, unlinked stash entry holding a copy of data, or NULL when memory
 * runs out (the caller then drops the record, as conn.h says). */
static stash_t *stash_new(const void *data, size_t len)
{
    stash_t *s = lux_malloc(sizeof *s);
    if (s == NULL)
        return NULL;
    s->data = lux_malloc(len);
    if (s->data == NULL) {
        lux_free(s);
        return NULL;
    }
    memcpy(s->data, data, len);
    s->len = len;
    s->next = NULL;
    return s;
}

static void stash_push(const void *data, size_t len)
{
    stash_t *s = stash_new(data, len);
    if (s == NULL)
        return;
    if (lux_conn.stash_tail)
        lux_conn.stash_tail->next = s;
    else
        lux_conn.stash_head = s;
    lux_conn.stash_tail = s;
}

void lux_conn_stash_push_front(const void *data, size_t len)
{
    stash_t *s = stash_new(data, len);
    if (s == NULL)
        return;
    s->next = lux_conn.stash_head;
    lux_conn.stash_head = s;
    if (lux_conn.stash_tail == NULL)
        lux_conn.stash_tail = s;
}

/* Receives until the record answering `req` arrives; returns it decoded in
 * *reply with the frame it points into in *frame (caller: lux_msg_fini and
 * zmq_msg_close). Other records are stashed. */
static int await_reply(uint64_t req, lux_msg_t *reply, zmq_msg_t *frame, double limit_s)
{
    double waited = 0;
    for (;;) {
        zmq_pollitem_t it = {lux_conn.sock, 0, ZMQ_POLLIN, 0};
        int prc = zmq_poll(&it, 1, 1000);
        if (prc < 0) {
            if (zmq_errno() == EINTR)
                continue;
            return LUX_ECLOSED;
        }
        if (prc == 0) {
            waited += 1;
            if (lux_conn.is_worker && getppid() != lux_conn.node_pid)
                _exit(1); /* the node is gone */
            if (!lux_conn.is_worker && lux_conn.node == NULL && lux_conn.node_same_host &&
                lux_conn.node_pid > 0 && kill(lux_conn.node_pid, 0) != 0 && errno == ESRCH) {
                lux_log_error("the node (pid %ld) is gone", (long)lux_conn.node_pid);
                return LUX_ECLOSED;
            }
            if (limit_s > 0 && waited >= limit_s)
                return LUX_ECLOSED;
            continue;
        }
        zmq_msg_init(frame);
        if (zmq_msg_recv(frame, lux_conn.sock, 0) < 0) {
            zmq_msg_close(frame);
            return LUX_ECLOSED;
        }
        const uint8_t *data = zmq_msg_data(frame);
        size_t len = zmq_msg_size(frame), pos = 0;
        int found = 0;
        while (pos < len) {
            size_t start = pos;
            lux_msg_t m;
            if (lux_msg_decode(data, len, &pos, &m) != 0) {
                lux_log_warn("malformed message from the node dropped");
                break;
            }
            if (!found && m.req == req &&
                (m.type == LUX_MSG_REPLY || m.type == LUX_MSG_VALUES ||
                 m.type == LUX_MSG_WELCOME)) {
                *reply = m;
                found = 1;
                continue;
            }
            if (lux_conn.in_task && m.type == LUX_MSG_EXECUTE && m.a == 0) {
                /* A task sent ahead while we are blocked inside one: hand it
                 * back so that it can run elsewhere. */
                lux_msg_t d = {.type = LUX_MSG_DEFER, .req = m.req};
                lux_conn_send_locked(&d);
            } else {
                stash_push(data + start, pos - start);
            }
            lux_msg_fini(&m);
        }
        if (found)
            return 0;
        zmq_msg_close(frame);
    }
}

/* Inside a plain task: hands every task sent ahead (stashed) back to the
 * node before blocking, keeping the rest of the stash in order. */
static void defer_stashed_locked(void)
{
    for (stash_t *e = lux_conn.stash_head; e; e = e->next) {
        size_t pos = 0, keep = 0;
        while (pos < e->len) {
            size_t start = pos;
            lux_msg_t m;
            if (lux_msg_decode(e->data, e->len, &pos, &m) != 0) {
                pos = e->len;
                break;
            }
            if (m.type == LUX_MSG_EXECUTE && m.a == 0) {
                lux_msg_t d = {.type = LUX_MSG_DEFER, .req = m.req};
                lux_conn_send_locked(&d);
            } else {
                memmove(e->data + keep, e->data + start, pos - start);
                keep += pos - start;
            }
            lux_msg_fini(&m);
        }
        e->len = keep;
    }
}

int lux_conn_rpc_locked(lux_msg_t *m, lux_msg_t *reply, zmq_msg_t *frame)
{
    if (lux_conn.in_task && lux_conn.stash_head != NULL)
        defer_stashed_locked();
    m->req = ++lux_conn.req;
    int rc = lux_conn_send_locked(m);
    if (rc)
        return rc;
    return await_reply(m->req, reply, frame, 0);
}

/* An rpc whose answer is a REPLY with only a code (and a). */
int lux_conn_rpc_simple(lux_msg_t *m, uint64_t *a_out)
{
    pthread_mutex_lock(&lux_conn.mu);
    if (!lux_conn.inited) {
        pthread_mutex_unlock(&lux_conn.mu);
        return LUX_ECLOSED;
    }
    lux_msg_t r;
    zmq_msg_t f;
    int rc = lux_conn_rpc_locked(m, &r, &f);
    if (rc == 0) {
        rc = r.code;
        if (a_out)
            *a_out = r.a;
        if (rc != 0 && r.text_len > 0 && r.text_len < 4096)
            lux_log_debug("%.*s", (int)r.text_len, (const char *)r.text);
        lux_msg_fini(&r);
        zmq_msg_close(&f);
    }
    pthread_mutex_unlock(&lux_conn.mu);
    return rc;
}

/* ---- connecting ---- */

int lux_conn_connect(const char *endpoint, uint64_t tag)
{
    lux_conn.sock = zmq_socket(lux_conn.ctx, ZMQ_DEALER);
    if (lux_conn.sock == NULL)
        return LUX_ESYS;
    int zero = 0;
    zmq_setsockopt(lux_conn.sock, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt(lux_conn.sock, ZMQ_RCVHWM, &zero, sizeof zero);
    zmq_setsockopt(lux_conn.sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(lux_conn.sock, ZMQ_ROUTING_ID, lux_conn.ident, 5);
    if (zmq_connect(lux_conn.sock, endpoint) != 0) {
        lux_log_error("cannot connect to the node at %s: %s", endpoint, zmq_strerror(zmq_errno()));
        return LUX_ECLOSED;
    }
    lux_msg_t m = {.type = LUX_MSG_HELLO, .a = (uint64_t)getpid(), .b = lux_conn.is_worker};
    m.req = ++lux_conn.req;
    int rc = lux_conn_send_locked(&m);
    if (rc)
        return rc;
    lux_msg_t r;
    zmq_msg_t f;
    rc = await_reply(m.req, &r, &f, 3);
    if (rc) {
        lux_log_error("no node answers at %s", endpoint);
        return LUX_ECLOSED;
    }
    lux_conn.node_pid = (pid_t)r.a;
    lux_resnames_init(&lux_conn.names);
    memset(&lux_conn.total, 0, sizeof lux_conn.total);
    for (uint32_t i = 0; i < r.nres; i++) {
        int k = lux_resnames_index(&lux_conn.names, r.res[i].name, 1);
        if (k >= 0)
            lux_conn.total.v[k] = r.res[i].amount;
    }
    char path[300];
    snprintf(path, sizeof path, "%.*s", (int)r.name_len, r.name);
    lux_conn.arena_size = r.b;
    lux_msg_fini(&r);
    zmq_msg_close(&f);
    (void)tag;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        lux_log_error("cannot open the node's object store %s: %s", path, strerror(errno));
        return LUX_ESYS;
    }
    void *p = mmap(NULL, lux_conn.arena_size ? lux_conn.arena_size : 1, PROT_READ | PROT_WRITE,
                   MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        lux_log_error("cannot map the object store: %s", strerror(errno));
        return LUX_ESYS;
    }
    lux_conn.arena = p;
    return 0;
}

void lux_conn_disconnect(void)
{
    if (lux_conn.sock)
        zmq_close(lux_conn.sock);
    lux_conn.sock = NULL;
    if (lux_conn.arena)
        munmap(lux_conn.arena, lux_conn.arena_size ? lux_conn.arena_size : 1);
    lux_conn.arena = NULL;
    while (lux_conn.stash_head) {
        stash_t *s = lux_conn.stash_head;
        lux_conn.stash_head = s->next;
        lux_free(s->data);
        lux_free(s);
    }
    lux_conn.stash_tail = NULL;
    lux_wbuf_fini(&lux_conn.out);
    lux_idmap_fini(&lux_conn.my_actors);
    for (size_t i = 0; i < lux_conn.owned.cap; i++)
        lux_free(lux_conn.owned.vals[i]);
    lux_idmap_fini(&lux_conn.owned);
    lux_conn.owned_bytes = 0;
}

/* ---- shared arena ---- */

/* Writes a large value into the arena under object id (a put or a task's
 * return). Returns 0 and the offset, or an error. Called with lux_conn.mu held. */
int lux_conn_arena_write_locked(const lux_id_t *id, const void *data, size_t len, double timeout_s,
                                uint64_t *off_out)
{
    lux_msg_t m = {
        .type = LUX_MSG_PUT_ALLOC, .id = *id, .a = len, .b = lux_conn_timeout_us(timeout_s)};
    lux_msg_t r;
    zmq_msg_t f;
    int rc = lux_conn_rpc_locked(&m, &r, &f);
    if (rc)
        return rc;
    rc = r.code;
    uint64_t off = r.a;
    if (rc != 0 && r.text_len > 0 && r.text_len < 1024)
        lux_log_warn("%.*s", (int)r.text_len, (const char *)r.text);
    lux_msg_fini(&r);
    zmq_msg_close(&f);
    if (rc)
        return rc;
    if (off + len > lux_conn.arena_size)
        return LUX_EPROTO;
    memcpy(lux_conn.arena + off, data, len);
    *off_out = off;
    return 0;
}
