/*
 * The connection of this process (a driver or a worker) to its node, shared
 * by the driver API (client.c) and the worker loop (worker.c): one DEALER
 * socket serialised by one mutex, the stash of records that arrived while a
 * request waited for its answer, and the node's shared arena mapped once.
 * Internal to the runtime layer; no public header includes it.
 *
 * The state is one process-wide object (lux_conn) because the API of lux.h
 * has no handle: a process has one connection, made by lux_init or
 * lux_worker_main and closed by lux_shutdown or the worker's exit.
 * Functions named *_locked expect lux_conn.mu to be held by the caller.
 */
#ifndef LUX_RUNTIME_CONN_H
#define LUX_RUNTIME_CONN_H

#include "lux.h"
#include "node.h"
#include "objstore.h"
#include "proto.h"

#include <zmq.h>

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct stash {
    uint8_t *data;
    size_t len;
    struct stash *next;
} stash_t;

/* The process's one connection to its node and what it learnt from it.
 * Every field is guarded by mu, except where a function says otherwise. */
typedef struct {
    pthread_mutex_t mu;
    int inited;
    int is_worker;
    void *ctx;
    int own_ctx;
    void *sock;
    lux_node_t *node;
    uint64_t tag;
    uint64_t seq;
    uint64_t req;
    char ident[5];
    uint8_t *arena;
    uint64_t arena_size;
    lux_resnames_t names;
    lux_resv_t total;
    stash_t *stash_head, *stash_tail;
    lux_wbuf_t out;
    lux_idmap_t my_actors; /* actor id -> class, for method checks */
    lux_idmap_t owned;     /* small objects this process put: id -> cached_t */
    size_t owned_bytes;
    lux_id_t cur_pg;
    pid_t node_pid;
    int closed;
    int in_task;        /* a worker inside a plain task */
    int node_same_host; /* the node's pid means something here (ipc) */
} lux_conn_t;

extern lux_conn_t lux_conn;

/* Microseconds for a timeout in seconds (negative or infinite: LUX_FOREVER).
 * Cannot fail. */
uint64_t lux_conn_timeout_us(double timeout_s);

/* A new task id: the process tag << 40 | a sequence number. Locked. */
uint64_t lux_conn_next_task_id(void);

/* Encodes and sends one record. Returns 0, LUX_EINVAL, LUX_ENOMEM or
 * LUX_ECLOSED. Locked. */
int lux_conn_send_locked(const lux_msg_t *m);

/* Puts records back at the front of the stash (the worker loop runs them
 * next). Drops them when out of memory. Locked. */
void lux_conn_stash_push_front(const void *data, size_t len);

/* Sends m as a request (gives it a request id) and waits for its answer;
 * returns 0 with the answer decoded in *reply, pointing into *frame (the
 * caller calls lux_msg_fini and zmq_msg_close), or LUX_ECLOSED when the
 * node is gone. Inside a plain task, first hands the tasks sent ahead back
 * to the node. Blocks. Locked. */
int lux_conn_rpc_locked(lux_msg_t *m, lux_msg_t *reply, zmq_msg_t *frame);

/* A request whose answer is a REPLY with a code (returned) and a (into
 * *a_out, may be NULL). Takes the lock; LUX_ECLOSED when not initialised. */
int lux_conn_rpc_simple(lux_msg_t *m, uint64_t *a_out);

/* Connects to the node at endpoint (HELLO, WELCOME, maps its arena).
 * Returns 0, LUX_ECLOSED when no node answers within 3 s, LUX_ESYS.
 * Locked. */
int lux_conn_connect(const char *endpoint, uint64_t tag);

/* Closes the socket, unmaps the arena, frees the stash and caches. Cannot
 * fail. Locked. */
void lux_conn_disconnect(void);

/* Writes a large value into the arena under object id (a put or a task's
 * return): asks the node for an extent (PUT_ALLOC, waiting up to timeout_s
 * for room) and copies data into it. Returns 0 and the offset, LUX_EFULL,
 * LUX_EPROTO, LUX_ECLOSED. Locked. */
int lux_conn_arena_write_locked(const lux_id_t *id, const void *data, size_t len, double timeout_s,
                                uint64_t *off_out);

#endif
