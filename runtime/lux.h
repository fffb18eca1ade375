/*
 * lux runtime: the public C API of the task/actor runtime (Ray Core's model).
 *
 * A program calls lux_init() once (the "driver"); it starts a private node
 * (scheduler, object store, worker pool) as a thread of this process, or
 * connects to a node started by `lux start`. Remote functions and actor
 * classes are registered by name at file scope (LUX_REMOTE, LUX_ACTOR_CLASS);
 * workers are the same executable re-executed in worker mode, so every
 * process resolves the same names. A program's main() must call
 * lux_worker_main() first thing (tests: from lux_test_premain).
 *
 * Values are byte buffers. Object refs, actor handles and placement groups
 * are 16-byte value types that may be copied freely and passed to other
 * tasks as plain bytes (lux_arg_value(&ref, sizeof ref)).
 *
 * Reference counting: every ref returned by lux_submit, lux_actor_call or
 * lux_put holds one reference; lux_ref_release() drops it, and an object is
 * freed when no reference, no pending task argument and no lux_get view
 * remains. A task that keeps a ref it received beyond its own return must
 * lux_ref_retain() it.
 *
 * Threads: every function may be called from any thread of the driver; calls
 * are serialised internally (one connection per process). Blocking calls
 * (lux_get, lux_wait, lux_pg_wait, lux_put of a large object) take a timeout
 * in seconds; a negative timeout waits forever.
 *
 * Errors: functions return 0 or a negative LUX_E* code (common/error.h). A
 * task's failure is not a call failure: it is an error value stored in the
 * task's return objects and reported by lux_get (value.error, value.data =
 * message naming the function, pid, cause and the worker's log file).
 */
#ifndef LUX_RUNTIME_LUX_H
#define LUX_RUNTIME_LUX_H

#include <stddef.h>
#include <stdint.h>

/* ---- identifiers -------------------------------------------------------- */

/* An object ref: the future result of a task, or a put value. */
typedef struct {
    uint8_t id[16];
} lux_ref_t;

/* A handle on an actor; copy it into a task argument to share it. */
typedef struct {
    uint8_t id[16];
} lux_actor_t;

/* A placement group. The all-zero value (LUX_PG_NONE) means "no group". */
typedef struct {
    uint8_t id[16];
} lux_pg_t;

/* 1 if the ids are equal; 1 if a pg is LUX_PG_NONE. Cannot fail. */
int lux_ref_eq(lux_ref_t a, lux_ref_t b);
int lux_pg_is_none(lux_pg_t pg);
extern const lux_pg_t LUX_PG_NONE;

/* Writes the id as 32 hex digits plus NUL into buf (>= 33 bytes). */
void lux_ref_hex(lux_ref_t ref, char *buf);

/* ---- resources and options --------------------------------------------- */

/* A custom resource amount ({"accelerator_x", 2}). Names up to 31 bytes. */
typedef struct {
    const char *name;
    double amount;
} lux_resource_t;

#define LUX_MAX_CUSTOM_RESOURCES 8
#define LUX_MAX_RETURNS          64

/* Options of a task. Initialise with LUX_TASK_OPTS_INIT (or pass NULL for
 * the defaults: 1 CPU, 3 retries on worker death, 1 return). Amounts may be
 * fractional (num_cpus = 0.01); they are accounted in units of 1/10000. */
typedef struct {
    double num_cpus; /* default 1 */
    double num_gpus; /* whole GPUs; a fraction below 1 is rounded up to 1 */
    double memory;   /* bytes, accounted like Ray's "memory" resource */
    const lux_resource_t *custom;
    size_t ncustom;       /* at most LUX_MAX_CUSTOM_RESOURCES */
    int max_retries;      /* retries after the worker died; default 3, -1 = forever */
    int retry_exceptions; /* also retry when the function returned an error */
    int num_returns;      /* 1..LUX_MAX_RETURNS; default 1 */
    lux_pg_t pg;          /* run in this placement group (LUX_PG_NONE: see below) */
    int bundle_index;     /* bundle of pg, or -1 for any bundle (default) */
    int no_capture;       /* do not inherit the caller's placement group */
} lux_task_opts_t;

/* Tasks submitted from inside a task or actor that runs in a placement group
 * run in that group (any bundle) unless opts.pg is set or opts.no_capture
 * is 1 (Ray's placement_group_capture_child_tasks). */
#define LUX_TASK_OPTS_INIT                                                                         \
    {                                                                                              \
        .num_cpus = 1, .max_retries = 3, .num_returns = 1, .bundle_index = -1                      \
    }

/* Options of an actor. Initialise with LUX_ACTOR_OPTS_INIT (or NULL: 1 CPU,
 * no restarts). The actor holds its resources for its whole life. */
typedef struct {
    double num_cpus; /* default 1 (use 0.01 for a trainer that only waits) */
    double num_gpus;
    double memory;
    const lux_resource_t *custom;
    size_t ncustom;
    int max_restarts;     /* restarts after its process died; -1 = forever */
    int max_task_retries; /* retries of a call in flight when it died; -1 = forever */
    lux_pg_t pg;
    int bundle_index;
    int no_capture;
} lux_actor_opts_t;

#define LUX_ACTOR_OPTS_INIT                                                                        \
    {                                                                                              \
        .num_cpus = 1, .bundle_index = -1                                                          \
    }

/* ---- arguments, calls and values ---------------------------------------- */

/* One argument of a task or actor call: a value (copied at submit) or a ref
 * (the task waits, without holding a worker, until the object is ready; the
 * function then sees the object's bytes). */
typedef struct {
    const void *data;
    size_t len;
    int is_ref;
    lux_ref_t ref;
} lux_arg_t;

lux_arg_t lux_arg_value(const void *data, size_t len);
lux_arg_t lux_arg_str(const char *text); /* the bytes of text, without NUL */
lux_arg_t lux_arg_ref(lux_ref_t ref);

/* The context of one execution of a remote function, actor constructor or
 * method; valid only during that call. */
typedef struct lux_call lux_call_t;

/* Number of arguments, and a view of argument i (NULL and *len = 0 when i
 * is out of range), aligned to 16 bytes. Large objects are zero-copy views
 * into shared memory; small values may be copied to align them. */
size_t lux_call_nargs(const lux_call_t *call);
const void *lux_call_arg(const lux_call_t *call, size_t i, size_t *len);

/* Number of return values the caller asked for (num_returns). */
int lux_call_num_returns(const lux_call_t *call);

/* Sets return value i (copied). Returns 0, LUX_ERANGE for a bad i, or
 * LUX_ENOMEM. A return never set is an empty value. */
int lux_call_return(lux_call_t *call, int i, const void *data, size_t len);

/* Records a failure message for the caller's lux_get and returns LUX_ETASK,
 * so a function can end with `return lux_call_fail(call, "...", ...);`. */
int lux_call_fail(lux_call_t *call, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The actor instance (what the constructor set), NULL in a plain task. */
void *lux_call_self(const lux_call_t *call);
/* In a constructor: sets the instance passed to every method. */
void lux_call_set_self(lux_call_t *call, void *self);

/* A remote function: returns 0, or an error (conventionally via
 * lux_call_fail). It runs in a worker process. */
typedef int (*lux_remote_fn)(lux_call_t *call);

/* The descriptor that LUX_REMOTE defines; pass its address to lux_submit. */
typedef struct lux_remote_desc {
    const char *name;
    lux_remote_fn fn;
    struct lux_remote_desc *next; /* registry chain, internal */
} lux_remote_desc_t;

/* Registers a descriptor (done by LUX_REMOTE's constructor); a duplicate
 * name is reported on stderr and the first registration wins. */
void lux_remote_register(lux_remote_desc_t *desc);

/* At file scope:  LUX_REMOTE(add) { ... use call ... return 0; }
 * defines the function add(lux_call_t *call) and the global descriptor
 * `add_remote` registered under the name "add". Declare it elsewhere with
 * LUX_REMOTE_DECLARE(add). Names must be unique in the executable. */
#define LUX_REMOTE(fname)                                                                          \
    static int fname(lux_call_t *call);                                                            \
    lux_remote_desc_t fname##_remote = {#fname, fname, NULL};                                      \
    __attribute__((constructor)) static void lux_remote_reg_##fname(void)                          \
    {                                                                                              \
        lux_remote_register(&fname##_remote);                                                      \
    }                                                                                              \
    static int fname(lux_call_t *call)

#define LUX_REMOTE_DECLARE(fname) extern lux_remote_desc_t fname##_remote

/* The registered remote function / actor class of that name, or NULL. */
const lux_remote_desc_t *lux_remote_find(const char *name);
const struct lux_actor_class *lux_actor_class_find(const char *name);

/* Loads a plugin (a shared library whose LUX_REMOTE / LUX_ACTOR_CLASS
 * definitions register themselves when loaded) into this process and into
 * every worker started after this call (the path is passed to workers in
 * LUX_PLUGINS). The executable must export the runtime's symbols (link with
 * -rdynamic). Returns 0, LUX_ENOENT (with the loader's message logged). */
int lux_plugin_load(const char *path);

/* An actor method. */
typedef struct {
    const char *name;
    lux_remote_fn fn;
} lux_method_t;

/* An actor class: constructor (sets the instance with lux_call_set_self;
 * returns 0 or an error), destructor (may be NULL; called only when the
 * worker leaves its loop normally — a killed actor, and every actor at
 * lux_shutdown, is SIGKILLed without a call) and methods. */
typedef struct lux_actor_class {
    const char *name;
    lux_remote_fn init;
    void (*fini)(void *self);
    const lux_method_t *methods;
    size_t nmethods;
    struct lux_actor_class *next; /* registry chain, internal */
} lux_actor_class_t;

void lux_actor_class_register(lux_actor_class_t *cls);

#define LUX_METHOD(fn)                                                                             \
    {                                                                                              \
#fn, fn                                                                                    \
    }

/* At file scope:
 *   static int counter_init(lux_call_t *call) { ... lux_call_set_self(call, c); return 0; }
 *   static void counter_fini(void *self) { free(self); }
 *   static int incr(lux_call_t *call) { ... lux_call_self(call) ... }
 *   LUX_ACTOR_CLASS(counter, counter_init, counter_fini, LUX_METHOD(incr));
 * defines the global descriptor `counter_class` registered as "counter". */
#define LUX_ACTOR_CLASS(cname, init_fn, fini_fn, ...)                                              \
    static const lux_method_t cname##_methods[] = {__VA_ARGS__};                                   \
    lux_actor_class_t cname##_class = {#cname,                                                     \
                                       init_fn,                                                    \
                                       fini_fn,                                                    \
                                       cname##_methods,                                            \
                                       sizeof cname##_methods / sizeof cname##_methods[0],         \
                                       NULL};                                                      \
    __attribute__((constructor)) static void lux_actor_reg_##cname(void)                           \
    {                                                                                              \
        lux_actor_class_register(&cname##_class);                                                  \
    }

#define LUX_ACTOR_CLASS_DECLARE(cname) extern lux_actor_class_t cname##_class

/* A value read by lux_get. data/len are a view aligned to 16 bytes (zero-copy
 * in shared memory for large objects) valid until lux_value_release. When error is non-zero
 * (LUX_ETASK, LUX_EWORKERDIED, LUX_EACTORDIED, LUX_ECANCELLED,
 * LUX_EINFEASIBLE, LUX_EFULL) data is a NUL-terminated message naming the
 * function, the worker's pid, the cause and the worker's log file. */
typedef struct {
    const void *data;
    size_t len;
    int error;
    void *internal;
} lux_value_t;

/* Releases a value's view (and its pin in the store). Accepts a zeroed or
 * already released value. Cannot fail. */
void lux_value_release(lux_value_t *value);

/* JSON helpers (jansson): values travel as compact JSON text. */
struct json_t;
/* Encodes json as an argument; the text is owned by *buf_out (free() it
 * after lux_submit/lux_actor_call returned). Returns 0, LUX_EINVAL, LUX_ENOMEM. */
int lux_arg_json(const struct json_t *json, lux_arg_t *arg_out, char **buf_out);
/* Parses argument i as JSON into a new reference (json_decref it). Returns 0,
 * LUX_ERANGE (no such argument) or LUX_EINVAL (not JSON). */
int lux_call_arg_json(const lux_call_t *call, size_t i, struct json_t **json_out);
/* Sets return value i to the JSON text of json. Returns 0, LUX_ERANGE, LUX_ENOMEM. */
int lux_call_return_json(lux_call_t *call, int i, const struct json_t *json);
/* Parses a value read by lux_get as JSON (json_decref the result). Returns 0,
 * the value's error code, or LUX_EINVAL. */
int lux_value_json(const lux_value_t *value, struct json_t **json_out);

/* ---- lifecycle ------------------------------------------------------------ */

typedef struct {
    const char *address;          /* NULL: start a private node in this process;
                                     "auto": the node in LUX_ADDRESS or ~/.lux/node;
                                     else "ipc:///path" or "tcp://host:port" of a node */
    double num_cpus;              /* private node: CPUs to offer (0: all cores) */
    double num_gpus;              /* private node: GPUs to offer (0: none) */
    const lux_resource_t *custom; /* private node: custom resources */
    size_t ncustom;
    size_t object_store_bytes; /* private node: 0 = 30% of physical memory, or of
                                  the cgroup's memory limit when lower */
    const char *log_dir;       /* private node: worker logs (NULL: a fresh
                                  directory in the per-user runtime directory,
                                  $XDG_RUNTIME_DIR/lux or ${TMPDIR:-/tmp}/lux-<uid>,
                                  removed at shutdown unless it holds a failed
                                  worker's log) */
    int num_prestart;          /* private node: workers started at once (-1: none,
                                  0: one per CPU) */
} lux_init_opts_t;

/* Starts the runtime in this process (the driver). opts may be NULL.
 * Returns 0, LUX_EEXIST if already initialised, LUX_ECLOSED if no node
 * answers at the address, LUX_EACCESS (with a message on stderr) when the
 * node at the address or its address file is another user's, or when the
 * runtime directory is a link, another user's or open to others,
 * LUX_ENOMEM (with a message on stderr naming the size, the limit found
 * and the option) when the object store cannot be had, LUX_ESYS. */
int lux_init(const lux_init_opts_t *opts);

/* Stops the runtime: kills this driver's actors and, with a private node,
 * every worker; frees every object this driver owns. Safe to call twice. */
void lux_shutdown(void);

/* Worker entry: returns -1 when this process was not started as a worker;
 * otherwise runs the worker loop and returns the process exit code. Call it
 * first thing in main() (before any thread starts). */
int lux_worker_main(int argc, char **argv);

/* 1 inside a worker process, 0 in a driver. */
int lux_is_worker(void);

/* ---- tasks and objects ------------------------------------------------------ */

/* Submits fn(args) and returns at once with opts->num_returns refs in
 * refs_out (each holding one reference). Values are copied; refs are
 * pinned until the task ends. Returns 0, LUX_EINFEASIBLE when no node could
 * ever satisfy the resources (e.g. 64 CPUs on a 2-CPU node), LUX_EINVAL for
 * bad options, LUX_ECLOSED when not initialised, LUX_ENOMEM. */
int lux_submit(const lux_remote_desc_t *fn, const lux_arg_t *args, size_t nargs,
               const lux_task_opts_t *opts, lux_ref_t *refs_out);

/* Stores a copy of data[0..len) and returns a ref holding one reference.
 * Objects above 64 KiB go to shared memory; if the store cannot hold the
 * object, waits up to timeout_s for space and then fails with LUX_EFULL
 * (never a silent drop). LUX_EFULL at once if len exceeds the capacity. */
int lux_put(const void *data, size_t len, double timeout_s, lux_ref_t *ref_out);

/* Waits until every ref is ready (up to timeout_s) and fills values[0..n).
 * Returns 0 when every value is a value; the error code of the first value
 * that is an error (every value is still filled: release them all); or
 * LUX_ETIMEDOUT / LUX_ENOENT (unknown or released ref) / LUX_ECLOSED with
 * nothing filled. A worker blocked here lends its CPUs back to the node. */
int lux_get(const lux_ref_t *refs, size_t n, double timeout_s, lux_value_t *values);

/* Waits until num_returns of refs[0..n) are ready or timeout_s passes.
 * ready[i] is set to 1 for a ready ref (value or error), 0 otherwise;
 * *nready (may be NULL) gets the count. Returns 0 (also on timeout: check
 * *nready), LUX_EINVAL (num_returns > n), LUX_ENOENT, LUX_ECLOSED. */
int lux_wait(const lux_ref_t *refs, size_t n, size_t num_returns, double timeout_s,
             unsigned char *ready, size_t *nready);

/* Cancels the task producing ref: a queued task is removed and its values
 * become LUX_ECANCELLED errors; a running one is killed when force is 1
 * (else LUX_EBUSY). Returns 0, LUX_EBUSY, LUX_ENOENT (already finished or
 * unknown). */
int lux_cancel(lux_ref_t ref, int force);

/* Adds / drops one reference. Release of an unknown ref is ignored. */
void lux_ref_retain(lux_ref_t ref);
void lux_ref_release(lux_ref_t ref);
void lux_refs_release(const lux_ref_t *refs, size_t n);

/* ---- actors ----------------------------------------------------------------- */

/* Creates an actor of class cls (constructor run with args in a new worker
 * process) and returns its handle at once. Calls made before the
 * constructor finished are queued. Returns 0, LUX_EINFEASIBLE, LUX_EINVAL,
 * LUX_ECLOSED. A constructor failure makes every call fail with its message. */
int lux_actor_create(const lux_actor_class_t *cls, const lux_arg_t *args, size_t nargs,
                     const lux_actor_opts_t *opts, lux_actor_t *actor_out);

/* Calls method `method` of the actor; calls from one caller run in
 * submission order. num_returns (0 means 1) refs go to refs_out. Returns 0,
 * LUX_ENOENT (no such method in the class), LUX_ECLOSED. A dead actor's
 * calls resolve at once to LUX_EACTORDIED errors. */
int lux_actor_call(lux_actor_t actor, const char *method, const lux_arg_t *args, size_t nargs,
                   int num_returns, lux_ref_t *refs_out);

/* Kills the actor's process. With no_restart 0 it is restarted if
 * max_restarts allows; with 1 it is dead for good. Returns 0 or LUX_ENOENT. */
int lux_actor_kill(lux_actor_t actor, int no_restart);

/* Pid of the actor's current process (0 while it is starting or dead), or
 * a negative LUX_E* code. Meant for tests and diagnostics. */
long lux_actor_pid(lux_actor_t actor);

/* ---- placement groups ------------------------------------------------------- */

typedef enum {
    LUX_PG_PACK = 0,
    LUX_PG_SPREAD = 1,
    LUX_PG_STRICT_PACK = 2,
    LUX_PG_STRICT_SPREAD = 3,
} lux_pg_strategy_t;

typedef struct {
    double num_cpus;
    double num_gpus;
    double memory;
    const lux_resource_t *custom;
    size_t ncustom;
} lux_bundle_t;

/* Asks for a group of bundles; returns at once. The group becomes ready
 * when every bundle is reserved. Returns 0, LUX_EINFEASIBLE (a bundle, or
 * the STRICT_SPREAD group, can never be placed on the cluster), LUX_EINVAL. */
int lux_pg_create(const lux_bundle_t *bundles, size_t nbundles, lux_pg_strategy_t strategy,
                  lux_pg_t *pg_out);

/* Waits until the group is ready. Returns 0, LUX_ETIMEDOUT, LUX_ENOENT. */
int lux_pg_wait(lux_pg_t pg, double timeout_s);

/* Removes the group: kills the actors and tasks placed in it and returns
 * its resources. Returns 0 or LUX_ENOENT. */
int lux_pg_remove(lux_pg_t pg);

/* ---- inside a worker ----------------------------------------------------- */

/* GPU ids granted to this worker (from CUDA_VISIBLE_DEVICES as set by the
 * node); writes up to max ids and returns their count (0 in a driver). */
int lux_gpu_ids(int *ids, int max);

/* The placement group the current task or actor runs in (LUX_PG_NONE). */
lux_pg_t lux_current_pg(void);

/* ---- node status ---------------------------------------------------------- */

/* Node status as a JSON text (resources total/available, workers, queued and
 * running tasks, objects and store bytes); the caller frees it with free().
 * NULL when not initialised. */
char *lux_node_status_json(void);

#endif
