/*
 * The driver API (lux.h) of one process: lux_init/lux_shutdown, tasks,
 * objects, actors and placement groups, all as messages to the node
 * (proto.h) over the process's connection (conn.h), so the same code serves
 * a private node (inproc) and a daemon (ipc:// or tcp://).
 *
 * Submissions are one-way (ids are made here: task id = process tag << 40 |
 * sequence), so async submission costs one send. Requests that need an
 * answer (get, wait, large put...) wait for the REPLY with their request id.
 * Large objects live in the node's shared arena, mapped here once; get
 * returns views into it and pins the object until lux_value_release. Small
 * objects this process put are also cached here (the owner's copy), so
 * getting them needs no message.
 */
#include "lux.h"
#include "conn.h"
#include "node.h"
#include "nodectl.h"
#include "objstore.h"

#include "alloc.h"
#include "error.h"
#include "log.h"

#include <zmq.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const lux_pg_t LUX_PG_NONE;

/* The owner's copy of a small object it put (Ray's in-process memory store
 * of the owner): lux_get of such objects needs no message. Dropped at the
 * first release, so it never outlives the object. */
typedef struct {
    size_t len;
    _Alignas(16) char data[];
} cached_t;

#define OWNED_MAX_BYTES (64u << 20)

#define OWNED_MAX_BYTES (64u << 20)

/* ---- ids and args ---- */

int lux_ref_eq(lux_ref_t a, lux_ref_t b)
{
    return memcmp(a.id, b.id, 16) == 0;
}

int lux_pg_is_none(lux_pg_t pg)
{
    static const uint8_t zero[16];
    return memcmp(pg.id, zero, 16) == 0;
}

void lux_ref_hex(lux_ref_t ref, char *buf)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        buf[2 * i] = hex[ref.id[i] >> 4];
        buf[2 * i + 1] = hex[ref.id[i] & 15];
    }
    buf[32] = '\0';
}

lux_arg_t lux_arg_value(const void *data, size_t len)
{
    lux_arg_t a = {data, len, 0, {{0}}};
    return a;
}

lux_arg_t lux_arg_str(const char *text)
{
    return lux_arg_value(text, strlen(text));
}

lux_arg_t lux_arg_ref(lux_ref_t ref)
{
    lux_arg_t a = {NULL, 0, 1, ref};
    return a;
}

static pid_t init_pid;

/* A driver that returns from main() without lux_shutdown() still stops its
 * private node cleanly (workers, files). Only in the process that called
 * lux_init (not in a forked child), and never while the lock is held. */
static void shutdown_at_exit(void)
{
    if (getpid() != init_pid || pthread_mutex_trylock(&lux_conn.mu) != 0)
        return;
    int needed = lux_conn.inited && !lux_conn.is_worker;
    pthread_mutex_unlock(&lux_conn.mu);
    if (needed)
        lux_shutdown();
}

int lux_init(const lux_init_opts_t *opts)
{
    lux_init_opts_t defaults = {0};
    if (opts == NULL)
        opts = &defaults;
    pthread_mutex_lock(&lux_conn.mu);
    if (lux_conn.inited) {
        pthread_mutex_unlock(&lux_conn.mu);
        return LUX_EEXIST;
    }
    int rc;
    lux_conn.is_worker = 0;
    lux_conn.tag = (uint64_t)getpid() & 0x7fffff;
    lux_conn.ident[0] = 'D';
    uint32_t pid = (uint32_t)getpid();
    memcpy(lux_conn.ident + 1, &pid, 4);
    lux_idmap_init(&lux_conn.my_actors);
    lux_idmap_init(&lux_conn.owned);
    lux_wbuf_init(&lux_conn.out);
    if (opts->address == NULL) {
        lux_node_opts_t no = {
            .num_cpus = opts->num_cpus,
            .num_gpus = opts->num_gpus,
            .custom = opts->custom,
            .ncustom = opts->ncustom,
            .store_bytes = opts->object_store_bytes,
            .log_dir = opts->log_dir,
            .num_prestart = opts->num_prestart,
        };
        rc = lux_node_new(&no, &lux_conn.node);
        if (rc)
            goto fail;
        rc = lux_node_start_thread(lux_conn.node);
        if (rc)
            goto fail;
        lux_conn.ctx = lux_node_zmq_context(lux_conn.node);
        lux_conn.own_ctx = 0;
        rc = lux_conn_connect(lux_node_inproc_endpoint(lux_conn.node), lux_conn.tag);
    } else {
        char addr[4096];
        if (strcmp(opts->address, "auto") == 0) {
            int arc = lux_nodectl_address(NULL, addr, sizeof addr);
            if (arc != 0) {
                char path[4096];
                lux_nodectl_address_path(path, sizeof path);
                char msg[8192];
                if (arc == LUX_EINVAL) {
                    lux_log_error("the address file %s is empty or holds no node address; "
                                  "remove it, or set LUX_ADDRESS, or run 'lux start --head'",
                                  path);
                } else if (arc == LUX_EACCESS) {
                    lux_nodectl_access_message("the address file", path, msg, sizeof msg);
                    lux_log_error("%s", msg);
                    rc = LUX_EACCESS;
                    goto fail;
                } else
                    lux_log_error("no running node: set LUX_ADDRESS or run 'lux start --head'");
                rc = LUX_ECLOSED;
                goto fail;
            }
        } else {
            snprintf(addr, sizeof addr, "%s", opts->address);
        }
        if (lux_nodectl_check_access(addr) != 0) {
            char msg[8192];
            lux_nodectl_access_message("the node's socket", addr + 6, msg, sizeof msg);
            lux_log_error("%s", msg);
            rc = LUX_EACCESS;
            goto fail;
        }
        lux_conn.ctx = zmq_ctx_new();
        lux_conn.own_ctx = 1;
        lux_conn.node_same_host = strncmp(addr, "ipc://", 6) == 0;
        rc = lux_conn.ctx ? lux_conn_connect(addr, lux_conn.tag) : LUX_ESYS;
    }
    if (rc)
        goto fail;
    lux_conn.inited = 1;
    lux_conn.closed = 0;
    static int at_exit_registered;
    init_pid = getpid();
    if (!at_exit_registered && atexit(shutdown_at_exit) == 0)
        at_exit_registered = 1;
    pthread_mutex_unlock(&lux_conn.mu);
    return 0;
fail:
    if (lux_conn.node != NULL && lux_conn.sock != NULL) {
        lux_msg_t m = {.type = LUX_MSG_STOP};
        lux_conn_send_locked(&m);
    }
    lux_conn_disconnect();
    if (lux_conn.node) {
        if (lux_conn.sock == NULL) {
            /* The loop may run; stop it through a temporary socket. */
            void *s = zmq_socket(lux_node_zmq_context(lux_conn.node), ZMQ_DEALER);
            zmq_connect(s, lux_node_inproc_endpoint(lux_conn.node));
            lux_wbuf_t w;
            lux_wbuf_init(&w);
            lux_msg_t m = {.type = LUX_MSG_STOP};
            lux_msg_encode(&w, &m);
            zmq_send(s, w.data, w.len, 0);
            lux_wbuf_fini(&w);
            zmq_close(s);
        }
        lux_node_destroy(&lux_conn.node);
    }
    if (lux_conn.own_ctx && lux_conn.ctx)
        zmq_ctx_term(lux_conn.ctx);
    lux_conn.ctx = NULL;
    pthread_mutex_unlock(&lux_conn.mu);
    return rc;
}

void lux_shutdown(void)
{
    pthread_mutex_lock(&lux_conn.mu);
    if (!lux_conn.inited || lux_conn.is_worker) {
        pthread_mutex_unlock(&lux_conn.mu);
        return;
    }
    lux_msg_t m = {.type = lux_conn.node ? LUX_MSG_STOP : LUX_MSG_BYE};
    lux_msg_t r;
    zmq_msg_t f;
    if (lux_conn_rpc_locked(&m, &r, &f) == 0) {
        lux_msg_fini(&r);
        zmq_msg_close(&f);
    }
    lux_conn_disconnect();
    if (lux_conn.node)
        lux_node_destroy(&lux_conn.node);
    if (lux_conn.own_ctx && lux_conn.ctx)
        zmq_ctx_term(lux_conn.ctx);
    lux_conn.ctx = NULL;
    lux_conn.inited = 0;
    pthread_mutex_unlock(&lux_conn.mu);
}

int lux_is_worker(void)
{
    return lux_conn.is_worker;
}

/* ---- options ---- */

static int add_res(lux_res_item_t *items, uint32_t *n, uint32_t bundle, const char *name, double v)
{
    if (!(v >= 0) || v > 1e12)
        return LUX_EINVAL;
    if (v == 0)
        return 0;
    if (*n >= LUX_RES_MAX || name == NULL || strlen(name) == 0 || strlen(name) > 31)
        return LUX_EINVAL;
    memset(&items[*n], 0, sizeof items[*n]);
    items[*n].bundle = bundle;
    snprintf(items[*n].name, sizeof items[*n].name, "%s", name);
    items[*n].amount = lux_res_from_double(v);
    (*n)++;
    return 0;
}

static int res_items(uint32_t bundle, double cpus, double gpus, double mem,
                     const lux_resource_t *custom, size_t ncustom, lux_res_item_t *items,
                     uint32_t *n)
{
    if (ncustom > LUX_MAX_CUSTOM_RESOURCES || (ncustom > 0 && custom == NULL))
        return LUX_EINVAL;
    if (gpus > 0 && gpus < 1)
        gpus = 1;
    gpus = ceil(gpus);
    int rc = add_res(items, n, bundle, "CPU", cpus);
    rc = rc ? rc : add_res(items, n, bundle, "GPU", gpus);
    rc = rc ? rc : add_res(items, n, bundle, "memory", mem);
    for (size_t i = 0; i < ncustom && rc == 0; i++)
        rc = add_res(items, n, bundle, custom[i].name, custom[i].amount);
    return rc;
}

/* Without a group, a request above the node's totals can never run. */
static int feasible(const lux_res_item_t *items, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        int k = lux_resnames_index(&lux_conn.names, items[i].name, 0);
        if (k < 0 || items[i].amount > lux_conn.total.v[k]) {
            lux_log_debug("infeasible request: %s %.4f", items[i].name,
                          (double)items[i].amount / LUX_RES_UNIT);
            return 0;
        }
    }
    return 1;
}

/* The resource items of a task or actor (bundle 0), refused at once with
 * LUX_EINFEASIBLE when, outside a placement group, no node could ever run it. */
static int request_items(double cpus, double gpus, double mem, const lux_resource_t *custom,
                         size_t ncustom, lux_pg_t pg, lux_res_item_t *items, uint32_t *n)
{
    int rc = res_items(0, cpus, gpus, mem, custom, ncustom, items, n);
    if (rc == 0 && lux_pg_is_none(pg) && !feasible(items, *n))
        rc = LUX_EINFEASIBLE;
    return rc;
}

static int build_blobs(const lux_arg_t *args, size_t nargs, lux_blob_t *blobs)
{
    for (size_t i = 0; i < nargs; i++) {
        memset(&blobs[i], 0, sizeof blobs[i]);
        if (args[i].is_ref) {
            blobs[i].kind = LUX_BLOB_REF;
            memcpy(blobs[i].id.b, args[i].ref.id, 16);
        } else {
            if (args[i].data == NULL && args[i].len > 0)
                return LUX_EINVAL;
            blobs[i].kind = LUX_BLOB_VALUE;
            blobs[i].data = args[i].data ? args[i].data : "";
            blobs[i].len = args[i].len;
        }
    }
    return 0;
}

static int send_task(lux_msg_t *m, const lux_arg_t *args, size_t nargs)
{
    lux_blob_t stack[8];
    lux_blob_t *blobs = nargs <= 8 ? stack : lux_calloc(nargs, sizeof *blobs);
    if (blobs == NULL)
        return LUX_ENOMEM;
    int rc = build_blobs(args, nargs, blobs);
    if (rc == 0) {
        m->blobs = blobs;
        m->nblobs = (uint32_t)nargs;
        pthread_mutex_lock(&lux_conn.mu);
        if (!lux_conn.inited) {
            rc = LUX_ECLOSED;
        } else {
            m->req = lux_conn_next_task_id();
            rc = lux_conn_send_locked(m);
        }
        pthread_mutex_unlock(&lux_conn.mu);
    }
    if (blobs != stack)
        lux_free(blobs);
    return rc;
}

/* Starts a SUBMIT or ACTOR_CREATE message: its name, the resource request
 * (written to items, which must outlive *m) and the placement options that
 * tasks and actors share; the caller adds its own options. Returns 0,
 * LUX_ECLOSED (not initialised), or what request_items returns. */
static int task_msg_init(lux_msg_t *m, uint8_t type, const char *name, double cpus, double gpus,
                         double mem, const lux_resource_t *custom, size_t ncustom, lux_pg_t pg,
                         int bundle_index, int no_capture, lux_res_item_t items[LUX_RES_MAX])
{
    if (!lux_conn.inited)
        return LUX_ECLOSED;
    uint32_t nres = 0;
    int rc = request_items(cpus, gpus, mem, custom, ncustom, pg, items, &nres);
    if (rc)
        return rc;
    *m = (lux_msg_t){.type = type, .name = name, .name_len = strlen(name)};
    m->res = items;
    m->nres = nres;
    m->opts.bundle_index = lux_pg_is_none(pg) ? -1 : bundle_index;
    memcpy(m->opts.pg.b, pg.id, 16);
    m->opts.flags = no_capture ? LUX_OPT_NO_CAPTURE : 0;
    return 0;
}

/* ---- tasks ---- */

int lux_submit(const lux_remote_desc_t *fn, const lux_arg_t *args, size_t nargs,
               const lux_task_opts_t *opts, lux_ref_t *refs_out)
{
    lux_task_opts_t defaults = LUX_TASK_OPTS_INIT;
    if (opts == NULL)
        opts = &defaults;
    if (fn == NULL || refs_out == NULL || (nargs > 0 && args == NULL) || nargs > 65536 ||
        opts->num_returns < 1 || opts->num_returns > LUX_MAX_RETURNS ||
        strlen(fn->name) > LUX_PROTO_MAX_NAME)
        return LUX_EINVAL;
    lux_res_item_t items[LUX_RES_MAX];
    lux_msg_t m;
    int rc = task_msg_init(&m, LUX_MSG_SUBMIT, fn->name, opts->num_cpus, opts->num_gpus,
                           opts->memory, opts->custom, opts->ncustom, opts->pg, opts->bundle_index,
                           opts->no_capture, items);
    if (rc)
        return rc;
    m.opts.max_retries = opts->max_retries;
    m.opts.retry_exceptions = opts->retry_exceptions;
    m.opts.num_returns = opts->num_returns;
    rc = send_task(&m, args, nargs);
    if (rc)
        return rc;
    for (int i = 0; i < opts->num_returns; i++) {
        lux_id_t id = lux_id_make(m.req, (uint32_t)i, LUX_IDK_RETURN);
        memcpy(refs_out[i].id, id.b, 16);
    }
    return 0;
}

/* ---- objects ---- */

int lux_put(const void *data, size_t len, double timeout_s, lux_ref_t *ref_out)
{
    if ((data == NULL && len > 0) || ref_out == NULL)
        return LUX_EINVAL;
    pthread_mutex_lock(&lux_conn.mu);
    if (!lux_conn.inited) {
        pthread_mutex_unlock(&lux_conn.mu);
        return LUX_ECLOSED;
    }
    lux_id_t id = lux_id_make(lux_conn_next_task_id(), 0, LUX_IDK_PUT);
    int rc;
    if (len <= LUX_INLINE_MAX) {
        lux_blob_t b = {.kind = LUX_BLOB_VALUE, .data = data ? data : "", .len = len};
        lux_msg_t m = {.type = LUX_MSG_PUT, .id = id, .a = lux_conn_timeout_us(timeout_s)};
        m.blobs = &b;
        m.nblobs = 1;
        rc = lux_conn_send_locked(&m);
        cached_t *c = NULL;
        if (rc == 0 && lux_conn.owned_bytes + len <= OWNED_MAX_BYTES &&
            (c = lux_malloc(sizeof *c + len + 1)) != NULL) {
            c->len = len;
            if (len)
                memcpy(c->data, data, len);
            c->data[len] = '\0';
            if (lux_idmap_put(&lux_conn.owned, &id, c) == 0)
                lux_conn.owned_bytes += len;
            else
                lux_free(c);
        }
    } else if (len > lux_conn.arena_size) {
        rc = LUX_EFULL;
        lux_log_warn("put of %zu bytes exceeds the object store's capacity (%llu bytes)", len,
                     (unsigned long long)lux_conn.arena_size);
    } else {
        uint64_t off;
        rc = lux_conn_arena_write_locked(&id, data, len, timeout_s, &off);
        if (rc == 0) {
            lux_msg_t m = {.type = LUX_MSG_PUT_SEAL, .id = id, .a = off, .b = len};
            rc = lux_conn_send_locked(&m);
        }
    }
    pthread_mutex_unlock(&lux_conn.mu);
    if (rc == 0)
        memcpy(ref_out->id, id.b, 16);
    return rc;
}

/* What a lux_value_t holds: a pin on a shared object, or a copy whose
 * bytes are 16-byte aligned like every view the API hands out. */
typedef struct {
    int shm;
    lux_id_t id;
    _Alignas(16) char data[];
} held_t;

void lux_value_release(lux_value_t *v)
{
    if (v == NULL || v->internal == NULL)
        return;
    held_t *h = v->internal;
    if (h->shm) {
        pthread_mutex_lock(&lux_conn.mu);
        if (lux_conn.inited) {
            lux_msg_t m = {.type = LUX_MSG_UNPIN, .ids = &h->id, .nids = 1};
            lux_conn_send_locked(&m);
        }
        pthread_mutex_unlock(&lux_conn.mu);
    }
    free(h);
    memset(v, 0, sizeof *v);
}

int lux_get(const lux_ref_t *refs, size_t n, double timeout_s, lux_value_t *values)
{
    if ((n > 0 && (refs == NULL || values == NULL)) || n > LUX_PROTO_MAX_ITEMS)
        return LUX_EINVAL;
    for (size_t i = 0; i < n; i++)
        memset(&values[i], 0, sizeof values[i]);
    if (n == 0)
        return 0;
    pthread_mutex_lock(&lux_conn.mu);
    if (!lux_conn.inited) {
        pthread_mutex_unlock(&lux_conn.mu);
        return LUX_ECLOSED;
    }
    if (lux_conn.owned.count > 0) {
        size_t hits = 0;
        for (size_t i = 0; i < n; i++) {
            lux_id_t id;
            memcpy(id.b, refs[i].id, 16);
            hits += lux_idmap_get(&lux_conn.owned, &id) != NULL;
        }
        if (hits == n) {
            for (size_t i = 0; i < n; i++) {
                lux_id_t id;
                memcpy(id.b, refs[i].id, 16);
                cached_t *c = lux_idmap_get(&lux_conn.owned, &id);
                held_t *h = aligned_alloc(16, (sizeof *h + c->len + 1 + 15) & ~(size_t)15);
                if (h == NULL) {
                    for (size_t k = 0; k < i; k++)
                        lux_value_release(&values[k]);
                    pthread_mutex_unlock(&lux_conn.mu);
                    return LUX_ENOMEM;
                }
                h->shm = 0;
                memcpy(h->data, c->data, c->len + 1);
                values[i].data = h->data;
                values[i].len = c->len;
                values[i].internal = h;
            }
            pthread_mutex_unlock(&lux_conn.mu);
            return 0;
        }
    }
    lux_msg_t m = {.type = LUX_MSG_GET, .a = lux_conn_timeout_us(timeout_s)};
    m.ids = (const lux_id_t *)(const void *)refs;
    m.nids = (uint32_t)n;
    lux_msg_t r;
    zmq_msg_t f;
    int rc = lux_conn_rpc_locked(&m, &r, &f);
    if (rc) {
        pthread_mutex_unlock(&lux_conn.mu);
        return rc;
    }
    if (r.type != LUX_MSG_VALUES || r.nblobs != n) {
        rc = r.type == LUX_MSG_REPLY && r.code != 0 ? r.code : LUX_EPROTO;
        lux_msg_fini(&r);
        zmq_msg_close(&f);
        pthread_mutex_unlock(&lux_conn.mu);
        return rc;
    }
    int first_err = 0;
    for (size_t i = 0; i < n; i++) {
        const lux_blob_t *b = &r.blobs[i];
        held_t *h = NULL;
        if (b->kind == LUX_BLOB_SHM && b->off + b->len <= lux_conn.arena_size) {
            h = aligned_alloc(16, (sizeof *h + 15) & ~(size_t)15);
            if (h)
                memset(h, 0, sizeof *h);
            if (h) {
                h->shm = 1;
                h->id = b->id;
                values[i].data = lux_conn.arena + b->off;
                values[i].len = b->len;
            }
        } else if (b->kind == LUX_BLOB_VALUE || b->kind == LUX_BLOB_ERROR) {
            h = aligned_alloc(16, (sizeof *h + b->len + 1 + 15) & ~(size_t)15);
            if (h) {
                h->shm = 0;
                memcpy(h->data, b->data, b->len);
                h->data[b->len] = '\0';
                values[i].data = h->data;
                values[i].len = b->len;
                values[i].error = b->kind == LUX_BLOB_ERROR ? b->code : 0;
            }
        }
        if (h == NULL) {
            values[i].error = LUX_ENOMEM;
            values[i].data = "out of memory reading a value";
            values[i].len = strlen(values[i].data);
        }
        values[i].internal = h;
        if (values[i].error && !first_err)
            first_err = values[i].error;
    }
    lux_msg_fini(&r);
    zmq_msg_close(&f);
    pthread_mutex_unlock(&lux_conn.mu);
    return first_err;
}

int lux_wait(const lux_ref_t *refs, size_t n, size_t num_returns, double timeout_s,
             unsigned char *ready, size_t *nready)
{
    if (num_returns > n || (n > 0 && (refs == NULL || ready == NULL)) || n > LUX_PROTO_MAX_ITEMS)
        return LUX_EINVAL;
    pthread_mutex_lock(&lux_conn.mu);
    if (!lux_conn.inited) {
        pthread_mutex_unlock(&lux_conn.mu);
        return LUX_ECLOSED;
    }
    lux_msg_t m = {.type = LUX_MSG_WAIT, .a = lux_conn_timeout_us(timeout_s), .b = num_returns};
    m.ids = (const lux_id_t *)(const void *)refs;
    m.nids = (uint32_t)n;
    lux_msg_t r;
    zmq_msg_t f;
    int rc = lux_conn_rpc_locked(&m, &r, &f);
    if (rc == 0) {
        rc = r.code;
        if (rc == 0 && r.text_len == n) {
            memcpy(ready, r.text, n);
            if (nready)
                *nready = (size_t)r.a;
        } else if (rc == 0) {
            rc = LUX_EPROTO;
        }
        lux_msg_fini(&r);
        zmq_msg_close(&f);
    }
    pthread_mutex_unlock(&lux_conn.mu);
    return rc;
}

int lux_cancel(lux_ref_t ref, int force)
{
    lux_msg_t m = {.type = LUX_MSG_CANCEL, .a = force ? 1 : 0};
    memcpy(m.id.b, ref.id, 16);
    return lux_conn_rpc_simple(&m, NULL);
}

static void owned_drop_locked(const lux_ref_t *refs, size_t n)
{
    for (size_t i = 0; i < n && lux_conn.owned.count > 0; i++) {
        lux_id_t id;
        memcpy(id.b, refs[i].id, 16);
        cached_t *c = lux_idmap_del(&lux_conn.owned, &id);
        if (c != NULL) {
            lux_conn.owned_bytes -= c->len;
            lux_free(c);
        }
    }
}

static void refs_msg(int type, const lux_ref_t *refs, size_t n)
{
    pthread_mutex_lock(&lux_conn.mu);
    if (type == LUX_MSG_RELEASE)
        owned_drop_locked(refs, n);
    if (lux_conn.inited) {
        lux_msg_t m = {.type = (uint8_t)type};
        m.ids = (const lux_id_t *)(const void *)refs;
        m.nids = (uint32_t)n;
        lux_conn_send_locked(&m);
    }
    pthread_mutex_unlock(&lux_conn.mu);
}

void lux_ref_retain(lux_ref_t ref)
{
    refs_msg(LUX_MSG_RETAIN, &ref, 1);
}

void lux_ref_release(lux_ref_t ref)
{
    refs_msg(LUX_MSG_RELEASE, &ref, 1);
}

void lux_refs_release(const lux_ref_t *refs, size_t n)
{
    if (n > 0 && refs != NULL)
        refs_msg(LUX_MSG_RELEASE, refs, n);
}

/* ---- actors ---- */

int lux_actor_create(const lux_actor_class_t *cls, const lux_arg_t *args, size_t nargs,
                     const lux_actor_opts_t *opts, lux_actor_t *actor_out)
{
    lux_actor_opts_t defaults = LUX_ACTOR_OPTS_INIT;
    if (opts == NULL)
        opts = &defaults;
    if (cls == NULL || actor_out == NULL || (nargs > 0 && args == NULL) ||
        strlen(cls->name) > LUX_PROTO_MAX_NAME)
        return LUX_EINVAL;
    lux_res_item_t items[LUX_RES_MAX];
    lux_msg_t m;
    int rc = task_msg_init(&m, LUX_MSG_ACTOR_CREATE, cls->name, opts->num_cpus, opts->num_gpus,
                           opts->memory, opts->custom, opts->ncustom, opts->pg, opts->bundle_index,
                           opts->no_capture, items);
    if (rc)
        return rc;
    m.opts.max_restarts = opts->max_restarts;
    m.opts.max_task_retries = opts->max_task_retries;
    m.opts.num_returns = 1;
    /* The actor id is derived from a task id of ours, so it is unique. */
    pthread_mutex_lock(&lux_conn.mu);
    uint64_t aid = lux_conn_next_task_id();
    pthread_mutex_unlock(&lux_conn.mu);
    m.id = lux_id_make(aid, 0, LUX_IDK_ACTOR);
    rc = send_task(&m, args, nargs);
    if (rc)
        return rc;
    memcpy(actor_out->id, m.id.b, 16);
    pthread_mutex_lock(&lux_conn.mu);
    lux_idmap_put(&lux_conn.my_actors, &m.id, (void *)cls);
    pthread_mutex_unlock(&lux_conn.mu);
    return 0;
}

int lux_actor_call(lux_actor_t actor, const char *method, const lux_arg_t *args, size_t nargs,
                   int num_returns, lux_ref_t *refs_out)
{
    if (num_returns == 0)
        num_returns = 1;
    if (method == NULL || refs_out == NULL || num_returns < 1 || num_returns > LUX_MAX_RETURNS ||
        strlen(method) > LUX_PROTO_MAX_NAME || (nargs > 0 && args == NULL))
        return LUX_EINVAL;
    if (!lux_conn.inited)
        return LUX_ECLOSED;
    lux_id_t aid;
    memcpy(aid.b, actor.id, 16);
    pthread_mutex_lock(&lux_conn.mu);
    const lux_actor_class_t *cls = lux_idmap_get(&lux_conn.my_actors, &aid);
    pthread_mutex_unlock(&lux_conn.mu);
    if (cls != NULL) {
        int found = 0;
        for (size_t i = 0; i < cls->nmethods && !found; i++)
            found = strcmp(cls->methods[i].name, method) == 0;
        if (!found) {
            lux_log_error("actor class '%s' has no method '%s'", cls->name, method);
            return LUX_ENOENT;
        }
    }
    lux_msg_t m = {
        .type = LUX_MSG_ACTOR_CALL, .id = aid, .name = method, .name_len = strlen(method)};
    m.opts.num_returns = num_returns;
    m.opts.bundle_index = -1;
    int rc = send_task(&m, args, nargs);
    if (rc)
        return rc;
    for (int i = 0; i < num_returns; i++) {
        lux_id_t id = lux_id_make(m.req, (uint32_t)i, LUX_IDK_RETURN);
        memcpy(refs_out[i].id, id.b, 16);
    }
    return 0;
}

int lux_actor_kill(lux_actor_t actor, int no_restart)
{
    lux_msg_t m = {.type = LUX_MSG_ACTOR_KILL, .a = no_restart ? 1 : 0};
    memcpy(m.id.b, actor.id, 16);
    return lux_conn_rpc_simple(&m, NULL);
}

long lux_actor_pid(lux_actor_t actor)
{
    lux_msg_t m = {.type = LUX_MSG_ACTOR_PID};
    memcpy(m.id.b, actor.id, 16);
    uint64_t pid = 0;
    int rc = lux_conn_rpc_simple(&m, &pid);
    return rc ? rc : (long)pid;
}

/* ---- placement groups ---- */

int lux_pg_create(const lux_bundle_t *bundles, size_t nbundles, lux_pg_strategy_t strategy,
                  lux_pg_t *pg_out)
{
    if (bundles == NULL || nbundles == 0 || nbundles > 1024 || pg_out == NULL ||
        (unsigned)strategy > LUX_PG_STRICT_SPREAD)
        return LUX_EINVAL;
    size_t cap = nbundles * LUX_RES_MAX;
    lux_res_item_t *items = lux_calloc(cap, sizeof *items);
    if (items == NULL)
        return LUX_ENOMEM;
    uint32_t n = 0;
    int rc = 0;
    for (size_t b = 0; b < nbundles && rc == 0; b++) {
        uint32_t k = 0;
        rc = res_items((uint32_t)b, bundles[b].num_cpus, bundles[b].num_gpus, bundles[b].memory,
                       bundles[b].custom, bundles[b].ncustom, items + n, &k);
        n += k;
    }
    if (rc) {
        lux_free(items);
        return rc;
    }
    pthread_mutex_lock(&lux_conn.mu);
    uint64_t id = lux_conn.inited ? lux_conn_next_task_id() : 0;
    pthread_mutex_unlock(&lux_conn.mu);
    lux_msg_t m = {.type = LUX_MSG_PG_CREATE, .a = (uint64_t)strategy, .b = nbundles};
    m.id = lux_id_make(id, 0, LUX_IDK_PG);
    m.res = items;
    m.nres = n;
    rc = lux_conn_rpc_simple(&m, NULL);
    lux_free(items);
    if (rc == 0)
        memcpy(pg_out->id, m.id.b, 16);
    return rc;
}

int lux_pg_wait(lux_pg_t pg, double timeout_s)
{
    lux_msg_t m = {.type = LUX_MSG_PG_WAIT, .a = lux_conn_timeout_us(timeout_s)};
    memcpy(m.id.b, pg.id, 16);
    return lux_conn_rpc_simple(&m, NULL);
}

int lux_pg_remove(lux_pg_t pg)
{
    lux_msg_t m = {.type = LUX_MSG_PG_REMOVE};
    memcpy(m.id.b, pg.id, 16);
    return lux_conn_rpc_simple(&m, NULL);
}

char *lux_node_status_json(void)
{
    pthread_mutex_lock(&lux_conn.mu);
    if (!lux_conn.inited) {
        pthread_mutex_unlock(&lux_conn.mu);
        return NULL;
    }
    lux_msg_t m = {.type = LUX_MSG_STATUS};
    lux_msg_t r;
    zmq_msg_t f;
    char *text = NULL;
    if (lux_conn_rpc_locked(&m, &r, &f) == 0) {
        if (r.code == 0 && (text = malloc(r.text_len + 1)) != NULL) {
            memcpy(text, r.text, r.text_len);
            text[r.text_len] = '\0';
        }
        lux_msg_fini(&r);
        zmq_msg_close(&f);
    }
    pthread_mutex_unlock(&lux_conn.mu);
    return text;
}
