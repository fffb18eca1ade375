/*
 * The public API (lux.h) of one process: a driver or a worker. Each process
 * has one DEALER connection to its node, serialised by one mutex, and talks
 * to the node only in messages (proto.h), so the same code serves a private
 * node (inproc) and a daemon (ipc:// or tcp://).
 *
 * Submissions are one-way (ids are made here: task id = process tag << 40 |
 * sequence), so async submission costs one send. Requests that need an
 * answer (get, wait, large put...) wait for the REPLY with their request id;
 * anything else that arrives meanwhile (a worker's next EXECUTE) is stashed
 * for the worker loop. Large objects live in the node's shared arena, mapped
 * here once; get returns views into it and pins the object until
 * lux_value_release.
 */
#include "lux.h"
#include "node.h"
#include "nodectl.h"
#include "objstore.h"

#include "alloc.h"
#include "error.h"
#include "log.h"

#include <zmq.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

const lux_pg_t LUX_PG_NONE;

/* ---- registry ---- */

static lux_remote_desc_t *remote_list;
static lux_actor_class_t *class_list;

void lux_remote_register(lux_remote_desc_t *desc)
{
    for (lux_remote_desc_t *d = remote_list; d; d = d->next) {
        if (strcmp(d->name, desc->name) == 0) {
            if (d != desc)
                fprintf(stderr, "lux: remote function '%s' registered twice; keeping the first\n",
                        desc->name);
            return;
        }
    }
    desc->next = remote_list;
    remote_list = desc;
}

void lux_actor_class_register(lux_actor_class_t *cls)
{
    for (lux_actor_class_t *c = class_list; c; c = c->next) {
        if (strcmp(c->name, cls->name) == 0) {
            if (c != cls)
                fprintf(stderr, "lux: actor class '%s' registered twice; keeping the first\n",
                        cls->name);
            return;
        }
    }
    cls->next = class_list;
    class_list = cls;
}

static lux_remote_desc_t *find_remote(const char *name, size_t len)
{
    for (lux_remote_desc_t *d = remote_list; d; d = d->next)
        if (strlen(d->name) == len && memcmp(d->name, name, len) == 0)
            return d;
    return NULL;
}

static lux_actor_class_t *find_class(const char *name, size_t len)
{
    for (lux_actor_class_t *c = class_list; c; c = c->next)
        if (strlen(c->name) == len && memcmp(c->name, name, len) == 0)
            return c;
    return NULL;
}

const lux_remote_desc_t *lux_remote_find(const char *name)
{
    return name ? find_remote(name, strlen(name)) : NULL;
}

const lux_actor_class_t *lux_actor_class_find(const char *name)
{
    return name ? find_class(name, strlen(name)) : NULL;
}

int lux_plugin_load(const char *path)
{
    if (path == NULL || strchr(path, ':') != NULL)
        return LUX_EINVAL;
    void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (h == NULL) {
        lux_log_error("cannot load plugin %s: %s", path, dlerror());
        return LUX_ENOENT;
    }
    /* Workers started from now on load it too. */
    const char *old = getenv("LUX_PLUGINS");
    size_t len = (old ? strlen(old) + 1 : 0) + strlen(path) + 1;
    char *list = lux_malloc(len);
    if (list == NULL)
        return LUX_ENOMEM;
    snprintf(list, len, "%s%s%s", old ? old : "", old ? ":" : "", path);
    int rc = setenv("LUX_PLUGINS", list, 1) == 0 ? 0 : LUX_ENOMEM;
    lux_free(list);
    return rc;
}

static void load_worker_plugins(void)
{
    const char *list = getenv("LUX_PLUGINS");
    if (list == NULL || *list == '\0')
        return;
    char *copy = lux_strdup(list), *save = NULL;
    for (char *p = copy ? strtok_r(copy, ":", &save) : NULL; p; p = strtok_r(NULL, ":", &save))
        if (dlopen(p, RTLD_NOW | RTLD_GLOBAL) == NULL)
            fprintf(stderr, "lux worker: cannot load plugin %s: %s\n", p, dlerror());
    lux_free(copy);
}

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

/* ---- process state ---- */

/* The owner's copy of a small object it put (Ray's in-process memory store
 * of the owner): lux_get of such objects needs no message. Dropped at the
 * first release, so it never outlives the object. */
typedef struct {
    size_t len;
    _Alignas(16) char data[];
} cached_t;

#define OWNED_MAX_BYTES (64u << 20)

typedef struct stash {
    uint8_t *data;
    size_t len;
    struct stash *next;
} stash_t;

static struct {
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
} C = {.mu = PTHREAD_MUTEX_INITIALIZER};

static uint64_t timeout_us(double timeout_s)
{
    if (timeout_s < 0 || !isfinite(timeout_s))
        return LUX_FOREVER;
    return (uint64_t)(timeout_s * 1e6);
}

static uint64_t next_task_id(void)
{
    return (C.tag << 40) | (++C.seq & ((1ull << 40) - 1));
}

static int send_msg_locked(const lux_msg_t *m)
{
    C.out.len = 0;
    int rc = lux_msg_encode(&C.out, m);
    if (rc)
        return rc;
    if (zmq_send(C.sock, C.out.data, C.out.len, 0) < 0)
        return LUX_ECLOSED;
    if (C.out.cap > (4u << 20))
        lux_wbuf_fini(&C.out);
    return 0;
}

static void stash_push(const void *data, size_t len)
{
    stash_t *s = lux_malloc(sizeof *s);
    if (s == NULL)
        return;
    s->data = lux_malloc(len);
    if (s->data == NULL) {
        lux_free(s);
        return;
    }
    memcpy(s->data, data, len);
    s->len = len;
    s->next = NULL;
    if (C.stash_tail)
        C.stash_tail->next = s;
    else
        C.stash_head = s;
    C.stash_tail = s;
}

static void stash_push_front(const void *data, size_t len)
{
    stash_t *s = lux_malloc(sizeof *s);
    if (s == NULL)
        return;
    s->data = lux_malloc(len);
    if (s->data == NULL) {
        lux_free(s);
        return;
    }
    memcpy(s->data, data, len);
    s->len = len;
    s->next = C.stash_head;
    C.stash_head = s;
    if (C.stash_tail == NULL)
        C.stash_tail = s;
}

/* Receives until the record answering `req` arrives; returns it decoded in
 * *reply with the frame it points into in *frame (caller: lux_msg_fini and
 * zmq_msg_close). Other records are stashed. */
static int await_reply(uint64_t req, lux_msg_t *reply, zmq_msg_t *frame, double limit_s)
{
    double waited = 0;
    for (;;) {
        zmq_pollitem_t it = {C.sock, 0, ZMQ_POLLIN, 0};
        int prc = zmq_poll(&it, 1, 1000);
        if (prc < 0) {
            if (zmq_errno() == EINTR)
                continue;
            return LUX_ECLOSED;
        }
        if (prc == 0) {
            waited += 1;
            if (C.is_worker && getppid() != C.node_pid)
                _exit(1); /* the node is gone */
            if (!C.is_worker && C.node == NULL && C.node_same_host && C.node_pid > 0 &&
                kill(C.node_pid, 0) != 0 && errno == ESRCH) {
                lux_log_error("the node (pid %ld) is gone", (long)C.node_pid);
                return LUX_ECLOSED;
            }
            if (limit_s > 0 && waited >= limit_s)
                return LUX_ECLOSED;
            continue;
        }
        zmq_msg_init(frame);
        if (zmq_msg_recv(frame, C.sock, 0) < 0) {
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
            if (C.in_task && m.type == LUX_MSG_EXECUTE && m.a == 0) {
                /* A task sent ahead while we are blocked inside one: hand it
                 * back so that it can run elsewhere. */
                lux_msg_t d = {.type = LUX_MSG_DEFER, .req = m.req};
                send_msg_locked(&d);
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
    for (stash_t *e = C.stash_head; e; e = e->next) {
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
                send_msg_locked(&d);
            } else {
                memmove(e->data + keep, e->data + start, pos - start);
                keep += pos - start;
            }
            lux_msg_fini(&m);
        }
        e->len = keep;
    }
}

static int rpc_locked(lux_msg_t *m, lux_msg_t *reply, zmq_msg_t *frame)
{
    if (C.in_task && C.stash_head != NULL)
        defer_stashed_locked();
    m->req = ++C.req;
    int rc = send_msg_locked(m);
    if (rc)
        return rc;
    return await_reply(m->req, reply, frame, 0);
}

/* An rpc whose answer is a REPLY with only a code (and a). */
static int rpc_simple(lux_msg_t *m, uint64_t *a_out)
{
    pthread_mutex_lock(&C.mu);
    if (!C.inited) {
        pthread_mutex_unlock(&C.mu);
        return LUX_ECLOSED;
    }
    lux_msg_t r;
    zmq_msg_t f;
    int rc = rpc_locked(m, &r, &f);
    if (rc == 0) {
        rc = r.code;
        if (a_out)
            *a_out = r.a;
        if (rc != 0 && r.text_len > 0 && r.text_len < 4096)
            lux_log_debug("%.*s", (int)r.text_len, (const char *)r.text);
        lux_msg_fini(&r);
        zmq_msg_close(&f);
    }
    pthread_mutex_unlock(&C.mu);
    return rc;
}

/* ---- connecting ---- */

static int connect_node(const char *endpoint, uint64_t tag)
{
    C.sock = zmq_socket(C.ctx, ZMQ_DEALER);
    if (C.sock == NULL)
        return LUX_ESYS;
    int zero = 0;
    zmq_setsockopt(C.sock, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt(C.sock, ZMQ_RCVHWM, &zero, sizeof zero);
    zmq_setsockopt(C.sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(C.sock, ZMQ_ROUTING_ID, C.ident, 5);
    if (zmq_connect(C.sock, endpoint) != 0) {
        lux_log_error("cannot connect to the node at %s: %s", endpoint, zmq_strerror(zmq_errno()));
        return LUX_ECLOSED;
    }
    lux_msg_t m = {.type = LUX_MSG_HELLO, .a = (uint64_t)getpid(), .b = C.is_worker};
    m.req = ++C.req;
    int rc = send_msg_locked(&m);
    if (rc)
        return rc;
    lux_msg_t r;
    zmq_msg_t f;
    rc = await_reply(m.req, &r, &f, 3);
    if (rc) {
        lux_log_error("no node answers at %s", endpoint);
        return LUX_ECLOSED;
    }
    C.node_pid = (pid_t)r.a;
    lux_resnames_init(&C.names);
    memset(&C.total, 0, sizeof C.total);
    for (uint32_t i = 0; i < r.nres; i++) {
        int k = lux_resnames_index(&C.names, r.res[i].name, 1);
        if (k >= 0)
            C.total.v[k] = r.res[i].amount;
    }
    char path[300];
    snprintf(path, sizeof path, "%.*s", (int)r.name_len, r.name);
    C.arena_size = r.b;
    lux_msg_fini(&r);
    zmq_msg_close(&f);
    (void)tag;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        lux_log_error("cannot open the node's object store %s: %s", path, strerror(errno));
        return LUX_ESYS;
    }
    void *p =
        mmap(NULL, C.arena_size ? C.arena_size : 1, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        lux_log_error("cannot map the object store: %s", strerror(errno));
        return LUX_ESYS;
    }
    C.arena = p;
    return 0;
}

static void disconnect(void)
{
    if (C.sock)
        zmq_close(C.sock);
    C.sock = NULL;
    if (C.arena)
        munmap(C.arena, C.arena_size ? C.arena_size : 1);
    C.arena = NULL;
    while (C.stash_head) {
        stash_t *s = C.stash_head;
        C.stash_head = s->next;
        lux_free(s->data);
        lux_free(s);
    }
    C.stash_tail = NULL;
    lux_wbuf_fini(&C.out);
    lux_idmap_fini(&C.my_actors);
    for (size_t i = 0; i < C.owned.cap; i++)
        lux_free(C.owned.vals[i]);
    lux_idmap_fini(&C.owned);
    C.owned_bytes = 0;
}

static pid_t init_pid;

/* A driver that returns from main() without lux_shutdown() still stops its
 * private node cleanly (workers, files). Only in the process that called
 * lux_init (not in a forked child), and never while the lock is held. */
static void shutdown_at_exit(void)
{
    if (getpid() != init_pid || pthread_mutex_trylock(&C.mu) != 0)
        return;
    int needed = C.inited && !C.is_worker;
    pthread_mutex_unlock(&C.mu);
    if (needed)
        lux_shutdown();
}

int lux_init(const lux_init_opts_t *opts)
{
    lux_init_opts_t defaults = {0};
    if (opts == NULL)
        opts = &defaults;
    pthread_mutex_lock(&C.mu);
    if (C.inited) {
        pthread_mutex_unlock(&C.mu);
        return LUX_EEXIST;
    }
    int rc;
    C.is_worker = 0;
    C.tag = (uint64_t)getpid() & 0x7fffff;
    C.ident[0] = 'D';
    uint32_t pid = (uint32_t)getpid();
    memcpy(C.ident + 1, &pid, 4);
    lux_idmap_init(&C.my_actors);
    lux_idmap_init(&C.owned);
    lux_wbuf_init(&C.out);
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
        rc = lux_node_new(&no, &C.node);
        if (rc)
            goto fail;
        rc = lux_node_start_thread(C.node);
        if (rc)
            goto fail;
        C.ctx = lux_node_zmq_context(C.node);
        C.own_ctx = 0;
        rc = connect_node(lux_node_inproc_endpoint(C.node), C.tag);
    } else {
        char addr[4096];
        if (strcmp(opts->address, "auto") == 0) {
            int arc = lux_nodectl_address(NULL, addr, sizeof addr);
            if (arc != 0) {
                char path[4096];
                lux_nodectl_address_path(path, sizeof path);
                if (arc == LUX_EINVAL)
                    lux_log_error("the address file %s is empty or holds no node address; "
                                  "remove it, or set LUX_ADDRESS, or run 'lux start --head'",
                                  path);
                else
                    lux_log_error("no running node: set LUX_ADDRESS or run 'lux start --head'");
                rc = LUX_ECLOSED;
                goto fail;
            }
        } else {
            snprintf(addr, sizeof addr, "%s", opts->address);
        }
        C.ctx = zmq_ctx_new();
        C.own_ctx = 1;
        C.node_same_host = strncmp(addr, "ipc://", 6) == 0;
        rc = C.ctx ? connect_node(addr, C.tag) : LUX_ESYS;
    }
    if (rc)
        goto fail;
    C.inited = 1;
    C.closed = 0;
    static int at_exit_registered;
    init_pid = getpid();
    if (!at_exit_registered && atexit(shutdown_at_exit) == 0)
        at_exit_registered = 1;
    pthread_mutex_unlock(&C.mu);
    return 0;
fail:
    if (C.node != NULL && C.sock != NULL) {
        lux_msg_t m = {.type = LUX_MSG_STOP};
        send_msg_locked(&m);
    }
    disconnect();
    if (C.node) {
        if (C.sock == NULL) {
            /* The loop may run; stop it through a temporary socket. */
            void *s = zmq_socket(lux_node_zmq_context(C.node), ZMQ_DEALER);
            zmq_connect(s, lux_node_inproc_endpoint(C.node));
            lux_wbuf_t w;
            lux_wbuf_init(&w);
            lux_msg_t m = {.type = LUX_MSG_STOP};
            lux_msg_encode(&w, &m);
            zmq_send(s, w.data, w.len, 0);
            lux_wbuf_fini(&w);
            zmq_close(s);
        }
        lux_node_destroy(&C.node);
    }
    if (C.own_ctx && C.ctx)
        zmq_ctx_term(C.ctx);
    C.ctx = NULL;
    pthread_mutex_unlock(&C.mu);
    return rc;
}

void lux_shutdown(void)
{
    pthread_mutex_lock(&C.mu);
    if (!C.inited || C.is_worker) {
        pthread_mutex_unlock(&C.mu);
        return;
    }
    lux_msg_t m = {.type = C.node ? LUX_MSG_STOP : LUX_MSG_BYE};
    lux_msg_t r;
    zmq_msg_t f;
    if (rpc_locked(&m, &r, &f) == 0) {
        lux_msg_fini(&r);
        zmq_msg_close(&f);
    }
    disconnect();
    if (C.node)
        lux_node_destroy(&C.node);
    if (C.own_ctx && C.ctx)
        zmq_ctx_term(C.ctx);
    C.ctx = NULL;
    C.inited = 0;
    pthread_mutex_unlock(&C.mu);
}

int lux_is_worker(void)
{
    return C.is_worker;
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
        int k = lux_resnames_index(&C.names, items[i].name, 0);
        if (k < 0 || items[i].amount > C.total.v[k]) {
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
        pthread_mutex_lock(&C.mu);
        if (!C.inited) {
            rc = LUX_ECLOSED;
        } else {
            m->req = next_task_id();
            rc = send_msg_locked(m);
        }
        pthread_mutex_unlock(&C.mu);
    }
    if (blobs != stack)
        lux_free(blobs);
    return rc;
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
    if (!C.inited)
        return LUX_ECLOSED;
    lux_res_item_t items[LUX_RES_MAX];
    uint32_t nres = 0;
    int rc = request_items(opts->num_cpus, opts->num_gpus, opts->memory, opts->custom,
                           opts->ncustom, opts->pg, items, &nres);
    if (rc)
        return rc;
    lux_msg_t m = {.type = LUX_MSG_SUBMIT, .name = fn->name, .name_len = strlen(fn->name)};
    m.res = items;
    m.nres = nres;
    m.opts.max_retries = opts->max_retries;
    m.opts.retry_exceptions = opts->retry_exceptions;
    m.opts.num_returns = opts->num_returns;
    m.opts.bundle_index = lux_pg_is_none(opts->pg) ? -1 : opts->bundle_index;
    memcpy(m.opts.pg.b, opts->pg.id, 16);
    m.opts.flags = opts->no_capture ? LUX_OPT_NO_CAPTURE : 0;
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

/* Writes a large value into the arena under object id (a put or a task's
 * return). Returns 0 and the offset, or an error. Called with C.mu held. */
static int arena_write_locked(const lux_id_t *id, const void *data, size_t len, double timeout_s,
                              uint64_t *off_out)
{
    lux_msg_t m = {.type = LUX_MSG_PUT_ALLOC, .id = *id, .a = len, .b = timeout_us(timeout_s)};
    lux_msg_t r;
    zmq_msg_t f;
    int rc = rpc_locked(&m, &r, &f);
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
    if (off + len > C.arena_size)
        return LUX_EPROTO;
    memcpy(C.arena + off, data, len);
    *off_out = off;
    return 0;
}

int lux_put(const void *data, size_t len, double timeout_s, lux_ref_t *ref_out)
{
    if ((data == NULL && len > 0) || ref_out == NULL)
        return LUX_EINVAL;
    pthread_mutex_lock(&C.mu);
    if (!C.inited) {
        pthread_mutex_unlock(&C.mu);
        return LUX_ECLOSED;
    }
    lux_id_t id = lux_id_make(next_task_id(), 0, LUX_IDK_PUT);
    int rc;
    if (len <= LUX_INLINE_MAX) {
        lux_blob_t b = {.kind = LUX_BLOB_VALUE, .data = data ? data : "", .len = len};
        lux_msg_t m = {.type = LUX_MSG_PUT, .id = id, .a = timeout_us(timeout_s)};
        m.blobs = &b;
        m.nblobs = 1;
        rc = send_msg_locked(&m);
        cached_t *c = NULL;
        if (rc == 0 && C.owned_bytes + len <= OWNED_MAX_BYTES &&
            (c = lux_malloc(sizeof *c + len + 1)) != NULL) {
            c->len = len;
            if (len)
                memcpy(c->data, data, len);
            c->data[len] = '\0';
            if (lux_idmap_put(&C.owned, &id, c) == 0)
                C.owned_bytes += len;
            else
                lux_free(c);
        }
    } else if (len > C.arena_size) {
        rc = LUX_EFULL;
        lux_log_warn("put of %zu bytes exceeds the object store's capacity (%llu bytes)", len,
                     (unsigned long long)C.arena_size);
    } else {
        uint64_t off;
        rc = arena_write_locked(&id, data, len, timeout_s, &off);
        if (rc == 0) {
            lux_msg_t m = {.type = LUX_MSG_PUT_SEAL, .id = id, .a = off, .b = len};
            rc = send_msg_locked(&m);
        }
    }
    pthread_mutex_unlock(&C.mu);
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
        pthread_mutex_lock(&C.mu);
        if (C.inited) {
            lux_msg_t m = {.type = LUX_MSG_UNPIN, .ids = &h->id, .nids = 1};
            send_msg_locked(&m);
        }
        pthread_mutex_unlock(&C.mu);
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
    pthread_mutex_lock(&C.mu);
    if (!C.inited) {
        pthread_mutex_unlock(&C.mu);
        return LUX_ECLOSED;
    }
    if (C.owned.count > 0) {
        size_t hits = 0;
        for (size_t i = 0; i < n; i++) {
            lux_id_t id;
            memcpy(id.b, refs[i].id, 16);
            hits += lux_idmap_get(&C.owned, &id) != NULL;
        }
        if (hits == n) {
            for (size_t i = 0; i < n; i++) {
                lux_id_t id;
                memcpy(id.b, refs[i].id, 16);
                cached_t *c = lux_idmap_get(&C.owned, &id);
                held_t *h = aligned_alloc(16, (sizeof *h + c->len + 1 + 15) & ~(size_t)15);
                if (h == NULL) {
                    for (size_t k = 0; k < i; k++)
                        lux_value_release(&values[k]);
                    pthread_mutex_unlock(&C.mu);
                    return LUX_ENOMEM;
                }
                h->shm = 0;
                memcpy(h->data, c->data, c->len + 1);
                values[i].data = h->data;
                values[i].len = c->len;
                values[i].internal = h;
            }
            pthread_mutex_unlock(&C.mu);
            return 0;
        }
    }
    lux_msg_t m = {.type = LUX_MSG_GET, .a = timeout_us(timeout_s)};
    m.ids = (const lux_id_t *)(const void *)refs;
    m.nids = (uint32_t)n;
    lux_msg_t r;
    zmq_msg_t f;
    int rc = rpc_locked(&m, &r, &f);
    if (rc) {
        pthread_mutex_unlock(&C.mu);
        return rc;
    }
    if (r.type != LUX_MSG_VALUES || r.nblobs != n) {
        rc = r.type == LUX_MSG_REPLY && r.code != 0 ? r.code : LUX_EPROTO;
        lux_msg_fini(&r);
        zmq_msg_close(&f);
        pthread_mutex_unlock(&C.mu);
        return rc;
    }
    int first_err = 0;
    for (size_t i = 0; i < n; i++) {
        const lux_blob_t *b = &r.blobs[i];
        held_t *h = NULL;
        if (b->kind == LUX_BLOB_SHM && b->off + b->len <= C.arena_size) {
            h = aligned_alloc(16, (sizeof *h + 15) & ~(size_t)15);
            if (h)
                memset(h, 0, sizeof *h);
            if (h) {
                h->shm = 1;
                h->id = b->id;
                values[i].data = C.arena + b->off;
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
    pthread_mutex_unlock(&C.mu);
    return first_err;
}

int lux_wait(const lux_ref_t *refs, size_t n, size_t num_returns, double timeout_s,
             unsigned char *ready, size_t *nready)
{
    if (num_returns > n || (n > 0 && (refs == NULL || ready == NULL)) || n > LUX_PROTO_MAX_ITEMS)
        return LUX_EINVAL;
    pthread_mutex_lock(&C.mu);
    if (!C.inited) {
        pthread_mutex_unlock(&C.mu);
        return LUX_ECLOSED;
    }
    lux_msg_t m = {.type = LUX_MSG_WAIT, .a = timeout_us(timeout_s), .b = num_returns};
    m.ids = (const lux_id_t *)(const void *)refs;
    m.nids = (uint32_t)n;
    lux_msg_t r;
    zmq_msg_t f;
    int rc = rpc_locked(&m, &r, &f);
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
    pthread_mutex_unlock(&C.mu);
    return rc;
}

int lux_cancel(lux_ref_t ref, int force)
{
    lux_msg_t m = {.type = LUX_MSG_CANCEL, .a = force ? 1 : 0};
    memcpy(m.id.b, ref.id, 16);
    return rpc_simple(&m, NULL);
}

static void owned_drop_locked(const lux_ref_t *refs, size_t n)
{
    for (size_t i = 0; i < n && C.owned.count > 0; i++) {
        lux_id_t id;
        memcpy(id.b, refs[i].id, 16);
        cached_t *c = lux_idmap_del(&C.owned, &id);
        if (c != NULL) {
            C.owned_bytes -= c->len;
            lux_free(c);
        }
    }
}

static void refs_msg(int type, const lux_ref_t *refs, size_t n)
{
    pthread_mutex_lock(&C.mu);
    if (type == LUX_MSG_RELEASE)
        owned_drop_locked(refs, n);
    if (C.inited) {
        lux_msg_t m = {.type = (uint8_t)type};
        m.ids = (const lux_id_t *)(const void *)refs;
        m.nids = (uint32_t)n;
        send_msg_locked(&m);
    }
    pthread_mutex_unlock(&C.mu);
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
    if (!C.inited)
        return LUX_ECLOSED;
    lux_res_item_t items[LUX_RES_MAX];
    uint32_t nres = 0;
    int rc = request_items(opts->num_cpus, opts->num_gpus, opts->memory, opts->custom,
                           opts->ncustom, opts->pg, items, &nres);
    if (rc)
        return rc;
    lux_msg_t m = {.type = LUX_MSG_ACTOR_CREATE, .name = cls->name, .name_len = strlen(cls->name)};
    m.res = items;
    m.nres = nres;
    m.opts.max_restarts = opts->max_restarts;
    m.opts.max_task_retries = opts->max_task_retries;
    m.opts.num_returns = 1;
    m.opts.bundle_index = lux_pg_is_none(opts->pg) ? -1 : opts->bundle_index;
    memcpy(m.opts.pg.b, opts->pg.id, 16);
    m.opts.flags = opts->no_capture ? LUX_OPT_NO_CAPTURE : 0;
    /* The actor id is derived from a task id of ours, so it is unique. */
    pthread_mutex_lock(&C.mu);
    uint64_t aid = next_task_id();
    pthread_mutex_unlock(&C.mu);
    m.id = lux_id_make(aid, 0, LUX_IDK_ACTOR);
    rc = send_task(&m, args, nargs);
    if (rc)
        return rc;
    memcpy(actor_out->id, m.id.b, 16);
    pthread_mutex_lock(&C.mu);
    lux_idmap_put(&C.my_actors, &m.id, (void *)cls);
    pthread_mutex_unlock(&C.mu);
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
    if (!C.inited)
        return LUX_ECLOSED;
    lux_id_t aid;
    memcpy(aid.b, actor.id, 16);
    pthread_mutex_lock(&C.mu);
    const lux_actor_class_t *cls = lux_idmap_get(&C.my_actors, &aid);
    pthread_mutex_unlock(&C.mu);
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
    return rpc_simple(&m, NULL);
}

long lux_actor_pid(lux_actor_t actor)
{
    lux_msg_t m = {.type = LUX_MSG_ACTOR_PID};
    memcpy(m.id.b, actor.id, 16);
    uint64_t pid = 0;
    int rc = rpc_simple(&m, &pid);
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
    pthread_mutex_lock(&C.mu);
    uint64_t id = C.inited ? next_task_id() : 0;
    pthread_mutex_unlock(&C.mu);
    lux_msg_t m = {.type = LUX_MSG_PG_CREATE, .a = (uint64_t)strategy, .b = nbundles};
    m.id = lux_id_make(id, 0, LUX_IDK_PG);
    m.res = items;
    m.nres = n;
    rc = rpc_simple(&m, NULL);
    lux_free(items);
    if (rc == 0)
        memcpy(pg_out->id, m.id.b, 16);
    return rc;
}

int lux_pg_wait(lux_pg_t pg, double timeout_s)
{
    lux_msg_t m = {.type = LUX_MSG_PG_WAIT, .a = timeout_us(timeout_s)};
    memcpy(m.id.b, pg.id, 16);
    return rpc_simple(&m, NULL);
}

int lux_pg_remove(lux_pg_t pg)
{
    lux_msg_t m = {.type = LUX_MSG_PG_REMOVE};
    memcpy(m.id.b, pg.id, 16);
    return rpc_simple(&m, NULL);
}

char *lux_node_status_json(void)
{
    pthread_mutex_lock(&C.mu);
    if (!C.inited) {
        pthread_mutex_unlock(&C.mu);
        return NULL;
    }
    lux_msg_t m = {.type = LUX_MSG_STATUS};
    lux_msg_t r;
    zmq_msg_t f;
    char *text = NULL;
    if (rpc_locked(&m, &r, &f) == 0) {
        if (r.code == 0 && (text = malloc(r.text_len + 1)) != NULL) {
            memcpy(text, r.text, r.text_len);
            text[r.text_len] = '\0';
        }
        lux_msg_fini(&r);
        zmq_msg_close(&f);
    }
    pthread_mutex_unlock(&C.mu);
    return text;
}

/* ---- inside a worker ---- */

int lux_gpu_ids(int *ids, int max)
{
    if (!C.is_worker)
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
    memcpy(pg.id, C.cur_pg.b, 16);
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
        return C.arena + b->off;
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
    C.cur_pg = m->opts.pg;
    int rc;
    char why[512] = "";
    if (m->a == 0) {
        lux_remote_desc_t *d = find_remote(m->name, m->name_len);
        C.in_task = 1;
        if (d == NULL) {
            snprintf(why, sizeof why, "no remote function '%.*s' in this executable",
                     (int)m->name_len, m->name);
            rc = LUX_ENOENT;
        } else {
            rc = d->fn(&call);
        }
    } else if (m->a == 1) {
        lux_actor_class_t *cls = find_class(m->name, m->name_len);
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
    C.in_task = 0;
    fflush(stdout);
    lux_msg_t r = {.type = LUX_MSG_RESULT, .req = m->req, .code = rc};
    lux_blob_t blobs[LUX_MAX_RETURNS];
    if (rc != 0) {
        const char *text = call.error ? call.error : why[0] ? why : lux_strerror(rc);
        r.code = rc < 0 ? rc : LUX_ETASK;
        r.text = text;
        r.text_len = strlen(text);
    } else {
        pthread_mutex_lock(&C.mu);
        for (int i = 0; i < call.num_returns && r.code == 0; i++) {
            memset(&blobs[i], 0, sizeof blobs[i]);
            if (call.ret[i].len > LUX_INLINE_MAX) {
                lux_id_t id = lux_id_make(m->req, (uint32_t)i, LUX_IDK_RETURN);
                uint64_t off;
                int wrc = arena_write_locked(&id, call.ret[i].data, call.ret[i].len, 60, &off);
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
        pthread_mutex_unlock(&C.mu);
        if (r.code == 0) {
            r.blobs = blobs;
            r.nblobs = (uint32_t)call.num_returns;
        }
    }
    pthread_mutex_lock(&C.mu);
    send_msg_locked(&r);
    pthread_mutex_unlock(&C.mu);
    for (int i = 0; i < call.num_returns; i++)
        lux_free(call.ret[i].data);
    lux_free(call.error);
    free(aligned);
    memset(&C.cur_pg, 0, sizeof C.cur_pg);
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
            pthread_mutex_lock(&C.mu);
            stash_push_front((const uint8_t *)data + pos, len - pos);
            pthread_mutex_unlock(&C.mu);
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
    load_worker_plugins();

    pthread_mutex_lock(&C.mu);
    C.is_worker = 1;
    C.node_pid = node_pid;
    C.tag = (1ull << 23) | (wid & 0x7fffff);
    C.ident[0] = 'W';
    memcpy(C.ident + 1, &wid, 4);
    lux_idmap_init(&C.my_actors);
    lux_idmap_init(&C.owned);
    lux_wbuf_init(&C.out);
    C.ctx = zmq_ctx_new();
    C.own_ctx = 1;
    int rc = connect_node(address, C.tag);
    if (rc == 0)
        C.inited = 1;
    pthread_mutex_unlock(&C.mu);
    if (rc) {
        fprintf(stderr, "lux worker %u: cannot reach the node at %s: %s\n", wid, address,
                lux_strerror(rc));
        return 1;
    }
    C.node_pid = node_pid;
    for (;;) {
        pthread_mutex_lock(&C.mu);
        stash_t *s = C.stash_head;
        if (s) {
            C.stash_head = s->next;
            if (C.stash_head == NULL)
                C.stash_tail = NULL;
        }
        pthread_mutex_unlock(&C.mu);
        if (s) {
            handle_record(s->data, s->len);
            lux_free(s->data);
            lux_free(s);
            continue;
        }
        zmq_pollitem_t it = {C.sock, 0, ZMQ_POLLIN, 0};
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
        if (zmq_msg_recv(&f, C.sock, 0) < 0) {
            zmq_msg_close(&f);
            break;
        }
        handle_record(zmq_msg_data(&f), zmq_msg_size(&f));
        zmq_msg_close(&f);
    }
    if (W.cls && W.cls->fini && W.self)
        W.cls->fini(W.self);
    pthread_mutex_lock(&C.mu);
    C.inited = 0;
    disconnect();
    zmq_ctx_term(C.ctx);
    pthread_mutex_unlock(&C.mu);
    return 0;
}
