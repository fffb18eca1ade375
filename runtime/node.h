/*
 * A node: scheduler, object store and worker pool behind one ZeroMQ ROUTER
 * socket, with its own event loop. The same object runs as a thread inside
 * a driver (lux_init's private node) or as the main loop of the `lux start`
 * daemon; drivers and workers talk to it only through messages (proto.h), so
 * nothing depends on sharing the node's address space.
 *
 * Internal to the runtime layer; the public API is lux.h (and nodectl.h,
 * daemon.h for the command line). No public header includes this one.
 */
#ifndef LUX_RUNTIME_NODE_H
#define LUX_RUNTIME_NODE_H

#include "lux.h"
#include "proto.h"

#include <stddef.h>
#include <stdint.h>

typedef struct lux_node lux_node_t;

typedef struct {
    double num_cpus; /* 0: every online core */
    double num_gpus;
    const lux_resource_t *custom;
    size_t ncustom;
    size_t store_bytes;   /* 0: 30% of memory or of the cgroup limit (storesize.h) */
    const char *log_dir;  /* NULL: a fresh directory under $TMPDIR */
    const char *endpoint; /* extra endpoint to bind (tcp://127.0.0.1:6380), or NULL */
    int num_prestart;     /* -1 none, 0 one per CPU */
} lux_node_opts_t;

/* Creates a node and binds its sockets (ipc://<log_dir>/node.sock, an
 * inproc endpoint, and opts->endpoint). Returns 0 or a LUX_E* code. */
int lux_node_new(const lux_node_opts_t *opts, lux_node_t **node_out);

/* Runs the loop in a new thread / in the calling thread until a STOP
 * message arrives. */
int lux_node_start_thread(lux_node_t *node);
int lux_node_run(lux_node_t *node);

/* Stops the loop (if running in a thread), kills every worker and frees the
 * node. Accepts NULL. */
void lux_node_destroy(lux_node_t **node_p);

void *lux_node_zmq_context(lux_node_t *node);
const char *lux_node_inproc_endpoint(lux_node_t *node);
const char *lux_node_ipc_endpoint(lux_node_t *node);
const char *lux_node_log_dir(lux_node_t *node);

/* Object ids: bytes 0-7 task (or put) id, 8-11 return index, 12-15 kind. */
enum { LUX_IDK_RETURN = 1, LUX_IDK_PUT = 2, LUX_IDK_ACTOR = 3, LUX_IDK_PG = 4 };
lux_id_t lux_id_make(uint64_t task, uint32_t index, uint32_t kind);
uint64_t lux_id_task(const lux_id_t *id);
uint32_t lux_id_kind(const lux_id_t *id);

/* Objects above this size live in the shared arena. */
#define LUX_INLINE_MAX (64 * 1024)
#define LUX_FOREVER    UINT64_MAX

#endif
