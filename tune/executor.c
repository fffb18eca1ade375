/*
 * Trials on the runtime: the trial host actor class and the executor that
 * drives hosts from the runner.
 *
 * A host runs one trainable at a time; host_release frees it when the host is
 * parked. Its constructor and its host_reset method take the same two
 * arguments: a JSON spec {"trainable", "config",
 * "trial_id", "seed", "num_rollout_workers", "log_dir"} and the checkpoint
 * bytes to restore (empty for none). When setup fails in host_reset, the host
 * remembers the message and host_step reports it, so the runner can pipeline
 * reset and the first step without waiting for the reset.
 *
 * The executor keeps the trials that are running in one array and the
 * parked hosts in another; each running trial has at most one request in
 * flight, so waiting is one lux_wait over the in-flight refs.
 */
#include "executor.h"

#include "clock.h"
#include "alloc.h"
#include "error.h"
#include "log.h"
#include "lux.h"
#include "trainable.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- the host actor (runs in a worker process) ---------------------------- */

typedef struct {
    const lux_trainable_class_t *cls;
    void *state;
    char error[1024];           /* why the current trainable is not set up */
    char pending_failure[1200]; /* a step failed after others in the same call */
} trial_host_t;

/* Sets up the host's trainable from the call's arguments. On failure the
 * message is kept in h->error and returned through the call. */
static int host_setup(trial_host_t *h, lux_call_t *call)
{
    size_t len = 0, rlen = 0;
    const char *text = lux_call_arg(call, 0, &len);
    const void *restore = lux_call_arg(call, 1, &rlen);
    json_error_t jerr;
    json_t *spec = text ? json_loadb(text, len, 0, &jerr) : NULL;
    h->error[0] = '\0';
    if (spec == NULL) {
        snprintf(h->error, sizeof h->error, "trial host: malformed trial spec");
        return lux_call_fail(call, "%s", h->error);
    }
    const char *name = json_string_value(json_object_get(spec, "trainable"));
    const json_t *config = json_object_get(spec, "config");
    lux_trial_context_t ctx = {
        .trial_id = json_string_value(json_object_get(spec, "trial_id")),
        .seed = (uint64_t)json_integer_value(json_object_get(spec, "seed")),
        .log_dir = json_string_value(json_object_get(spec, "log_dir")),
        .num_rollout_workers =
            (int)json_integer_value(json_object_get(spec, "num_rollout_workers")),
    };
    if (ctx.trial_id == NULL)
        ctx.trial_id = "?";
    h->cls = name ? lux_trainable_find(name) : NULL;
    int rc = 0;
    if (h->cls == NULL) {
        snprintf(h->error, sizeof h->error, "trial %s: no trainable named '%s' in this process",
                 ctx.trial_id, name ? name : "(none)");
        rc = LUX_EINVAL;
    } else {
        char err[900] = "";
        rc = h->cls->setup(config, &ctx, &h->state, err, sizeof err);
        if (rc != 0) {
            h->state = NULL;
            snprintf(h->error, sizeof h->error, "trial %s: %s setup failed: %s", ctx.trial_id,
                     h->cls->name, err[0] ? err : lux_strerror(rc));
        } else if (rlen > 0) {
            rc = h->cls->restore(h->state, restore, rlen, err, sizeof err);
            if (rc != 0) {
                h->cls->cleanup(h->state);
                h->state = NULL;
                snprintf(h->error, sizeof h->error, "trial %s: restoring the checkpoint failed: %s",
                         ctx.trial_id, err[0] ? err : lux_strerror(rc));
            }
        }
    }
    json_decref(spec);
    return rc == 0 ? 0 : lux_call_fail(call, "%s", h->error);
}

static void host_clear(trial_host_t *h)
{
    h->pending_failure[0] = '\0';
    if (h->state != NULL && h->cls != NULL)
        h->cls->cleanup(h->state);
    h->state = NULL;
}

static int host_init(lux_call_t *call)
{
    trial_host_t *h = lux_calloc(1, sizeof *h);
    if (h == NULL)
        return lux_call_fail(call, "trial host: out of memory");
    lux_call_set_self(call, h);
    return host_setup(h, call);
}

static void host_fini(void *self)
{
    trial_host_t *h = self;
    if (h == NULL)
        return;
    host_clear(h);
    lux_free(h);
}

static int host_reset(lux_call_t *call)
{
    trial_host_t *h = lux_call_self(call);
    host_clear(h);
    return host_setup(h, call);
}

/* Frees the trainable (and whatever it holds: nested actors, objects) so a
 * parked host holds nothing but its own resources. */
static int host_release(lux_call_t *call)
{
    trial_host_t *h = lux_call_self(call);
    host_clear(h);
    snprintf(h->error, sizeof h->error, "trial host: no trial assigned");
    return 0;
}

static int grow_text(char **text, size_t *cap, size_t need)
{
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    char *p = lux_realloc(*text, c);
    if (p == NULL)
        return LUX_ENOMEM;
    *text = p;
    *cap = c;
    return 0;
}

/* Runs up to `max_steps` steps (argument 0, an int64; 1 when absent), but
 * stops early once `max_seconds` (argument 1, a double) have passed or a
 * result says done, and returns the results as JSON lines, each with its
 * own time_this_iter_s. A failure after some steps returns those results and
 * reports the failure at the next call, so no finished step is lost. */
static int host_step(lux_call_t *call)
{
    trial_host_t *h = lux_call_self(call);
    if (h->pending_failure[0] != '\0') {
        char msg[sizeof h->pending_failure];
        snprintf(msg, sizeof msg, "%s", h->pending_failure);
        h->pending_failure[0] = '\0';
        return lux_call_fail(call, "%s", msg);
    }
    if (h->state == NULL)
        return lux_call_fail(call, "%s", h->error[0] ? h->error : "trial host: no trainable");
    int64_t max_steps = 1;
    double max_seconds = 0;
    size_t len = 0;
    const void *a0 = lux_call_arg(call, 0, &len);
    if (a0 != NULL && len == sizeof max_steps)
        memcpy(&max_steps, a0, sizeof max_steps);
    const void *a1 = lux_call_arg(call, 1, &len);
    if (a1 != NULL && len == sizeof max_seconds)
        memcpy(&max_seconds, a1, sizeof max_seconds);
    json_t *results = json_array();
    if (results == NULL)
        return lux_call_fail(call, "trial host: out of memory");
    double start = lux_clock_monotonic_s();
    for (int64_t i = 0; i < (max_steps < 1 ? 1 : max_steps); i++) {
        char err[1024] = "";
        json_t *result = NULL;
        double t0 = lux_clock_monotonic_s();
        int rc = h->cls->step(h->state, &result, err, sizeof err);
        double dt = lux_clock_monotonic_s() - t0;
        if (rc != 0 || result == NULL || !json_is_object(result)) {
            json_decref(result);
            snprintf(h->pending_failure, sizeof h->pending_failure, "%s step failed: %s",
                     h->cls->name, err[0] ? err : (rc ? lux_strerror(rc) : "no result object"));
            break;
        }
        json_object_set_new(result, "time_this_iter_s", json_real(dt));
        int done = json_is_true(json_object_get(result, "done"));
        json_array_append_new(results, result);
        if (done || lux_clock_monotonic_s() - start >= max_seconds)
            break;
    }
    if (json_array_size(results) == 0) {
        json_decref(results);
        char msg[sizeof h->pending_failure];
        snprintf(msg, sizeof msg, "%s", h->pending_failure);
        h->pending_failure[0] = '\0';
        return lux_call_fail(call, "%s", msg);
    }
    /* One compact JSON object per line (a compact dump never holds a raw
     * newline), so the driver can store each result's text as it came. */
    char *text = NULL;
    size_t used = 0, cap = 0;
    size_t i;
    json_t *one;
    json_array_foreach(results, i, one)
    {
        char *line = json_dumps(one, JSON_COMPACT);
        size_t n = line ? strlen(line) : 0;
        if (line == NULL || (used + n + 1 > cap && grow_text(&text, &cap, used + n + 1) != 0)) {
            free(line);
            json_decref(results);
            lux_free(text);
            return lux_call_fail(call, "%s step: result is not serialisable", h->cls->name);
        }
        if (used > 0)
            text[used++] = '\n';
        memcpy(text + used, line, n);
        used += n;
        free(line);
    }
    json_decref(results);
    int rc = lux_call_return(call, 0, text, used);
    lux_free(text);
    return rc;
}

static int host_save(lux_call_t *call)
{
    trial_host_t *h = lux_call_self(call);
    if (h->state == NULL)
        return lux_call_fail(call, "%s", h->error[0] ? h->error : "trial host: no trainable");
    void *bytes = NULL;
    size_t len = 0;
    char err[1024] = "";
    int rc = h->cls->save(h->state, &bytes, &len, err, sizeof err);
    if (rc != 0)
        return lux_call_fail(call, "%s save failed: %s", h->cls->name,
                             err[0] ? err : lux_strerror(rc));
    rc = lux_call_return(call, 0, bytes, len);
    lux_free(bytes);
    return rc;
}

LUX_ACTOR_CLASS(lux_trial_host, host_init, host_fini, LUX_METHOD(host_reset), LUX_METHOD(host_step),
                LUX_METHOD(host_save), LUX_METHOD(host_release));

/* ---- the executor (runs in the driver) ------------------------------------- */

#define MAX_BUNDLES 64

/* Tune's strategy as the runtime names it: the one place the two types
 * meet. */
static lux_pg_strategy_t runtime_strategy(lux_trial_pg_strategy_t s)
{
    switch (s) {
    case LUX_TRIAL_PG_SPREAD:
        return LUX_PG_SPREAD;
    case LUX_TRIAL_PG_STRICT_PACK:
        return LUX_PG_STRICT_PACK;
    case LUX_TRIAL_PG_STRICT_SPREAD:
        return LUX_PG_STRICT_SPREAD;
    case LUX_TRIAL_PG_PACK:
    case LUX_TRIAL_PG_STRATEGY_COUNT:
        break;
    }
    return LUX_PG_PACK;
}

struct lux_exec_trial {
    lux_actor_t actor;
    lux_pg_t pg;
    int has_pg;
    lux_exec_bundle_t bundles[MAX_BUNDLES];
    size_t num_bundles;
    lux_trial_pg_strategy_t strategy;
    void *user;
    int busy;
    lux_ref_t ref;
    lux_exec_op_t op;
    int healthy;
};

struct lux_executor {
    lux_exec_trial_t **running;
    size_t nrunning, caprunning;
    lux_exec_trial_t **parked;
    size_t nparked, capparked;
    double cpus, gpus;
};

static int push(lux_exec_trial_t ***arr, size_t *n, size_t *cap, lux_exec_trial_t *t)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        lux_exec_trial_t **a = lux_realloc(*arr, c * sizeof *a);
        if (a == NULL)
            return LUX_ENOMEM;
        *arr = a;
        *cap = c;
    }
    (*arr)[(*n)++] = t;
    return 0;
}

static void remove_at(lux_exec_trial_t **arr, size_t *n, lux_exec_trial_t *t)
{
    for (size_t i = 0; i < *n; i++) {
        if (arr[i] == t) {
            arr[i] = arr[--*n];
            return;
        }
    }
}

int lux_executor_worker_main(int argc, char **argv)
{
    return lux_worker_main(argc, argv);
}

int lux_executor_new(const lux_executor_opts_t *opts, lux_executor_t **out, char *err,
                     size_t errlen)
{
    lux_executor_t *ex = lux_calloc(1, sizeof *ex);
    if (ex == NULL)
        return LUX_ENOMEM;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    ex->cpus = opts && opts->num_cpus > 0 ? opts->num_cpus : (double)(cores > 0 ? cores : 1);
    ex->gpus = opts ? opts->num_gpus : 0;
    lux_init_opts_t io = {
        .num_cpus = ex->cpus,
        .num_gpus = ex->gpus,
        .log_dir = opts ? opts->log_dir : NULL,
        .object_store_bytes = opts ? opts->object_store_bytes : 0,
        .num_prestart = -1,
    };
    int rc = lux_init(&io);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the runtime: %s", lux_strerror(rc));
        lux_free(ex);
        return rc;
    }
    *out = ex;
    return 0;
}

static void host_destroy(lux_exec_trial_t *t)
{
    if (t->busy)
        lux_ref_release(t->ref);
    lux_actor_kill(t->actor, 1);
    if (t->has_pg)
        lux_pg_remove(t->pg);
    lux_free(t);
}

void lux_executor_destroy(lux_executor_t **ex_p)
{
    if (ex_p == NULL || *ex_p == NULL)
        return;
    lux_executor_t *ex = *ex_p;
    for (size_t i = 0; i < ex->nrunning; i++)
        host_destroy(ex->running[i]);
    for (size_t i = 0; i < ex->nparked; i++)
        host_destroy(ex->parked[i]);
    lux_free(ex->running);
    lux_free(ex->parked);
    lux_shutdown();
    lux_free(ex);
    *ex_p = NULL;
}

void lux_executor_capacity(const lux_executor_t *ex, double *cpus, double *gpus)
{
    if (cpus)
        *cpus = ex->cpus;
    if (gpus)
        *gpus = ex->gpus;
}

size_t lux_executor_num_trials(const lux_executor_t *ex)
{
    return ex->nrunning;
}

static int same_shape(const lux_exec_trial_t *t, const lux_exec_trial_spec_t *spec)
{
    if (t->num_bundles != spec->num_bundles || t->strategy != spec->strategy)
        return 0;
    for (size_t i = 0; i < spec->num_bundles; i++)
        if (t->bundles[i].cpu != spec->bundles[i].cpu || t->bundles[i].gpu != spec->bundles[i].gpu)
            return 0;
    return 1;
}

/* The host's two arguments as a JSON text (heap) for host_init/host_reset. */
static char *spec_text(const lux_exec_trial_spec_t *spec)
{
    json_t *j = json_object();
    json_object_set_new(j, "trainable", json_string(spec->trainable));
    json_object_set(j, "config", (json_t *)spec->config);
    json_object_set_new(j, "trial_id", json_string(spec->trial_id));
    json_object_set_new(j, "seed", json_integer((json_int_t)spec->seed));
    json_object_set_new(j, "num_rollout_workers", json_integer((json_int_t)spec->num_bundles - 1));
    if (spec->log_dir != NULL)
        json_object_set_new(j, "log_dir", json_string(spec->log_dir));
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return text;
}

int lux_exec_trial_start(lux_executor_t *ex, const lux_exec_trial_spec_t *spec, void *user,
                         lux_exec_trial_t **out, char *err, size_t errlen)
{
    if (spec->num_bundles < 1 || spec->num_bundles > MAX_BUNDLES) {
        snprintf(err, errlen, "a trial needs 1 to %d bundles", MAX_BUNDLES);
        return LUX_EINVAL;
    }
    char *text = spec_text(spec);
    if (text == NULL)
        return LUX_ENOMEM;
    lux_arg_t args[2] = {lux_arg_str(text), lux_arg_value(spec->restore, spec->restore_len)};
    lux_exec_trial_t *t = NULL;
    int rc = 0;
    for (size_t i = 0; i < ex->nparked; i++) {
        if (same_shape(ex->parked[i], spec)) {
            t = ex->parked[i];
            remove_at(ex->parked, &ex->nparked, t);
            break;
        }
    }
    if (t != NULL) {
        lux_ref_t ref;
        rc = lux_actor_call(t->actor, "host_reset", args, 2, 1, &ref);
        if (rc == 0)
            lux_ref_release(ref); /* a failed reset shows in the next step */
    } else {
        /* Parked hosts of other shapes hold resources this trial may need. */
        while (ex->nparked > 0)
            host_destroy(ex->parked[--ex->nparked]);
        t = lux_calloc(1, sizeof *t);
        if (t == NULL) {
            free(text);
            return LUX_ENOMEM;
        }
        t->num_bundles = spec->num_bundles;
        t->strategy = spec->strategy;
        memcpy(t->bundles, spec->bundles, spec->num_bundles * sizeof spec->bundles[0]);
        lux_actor_opts_t ao = LUX_ACTOR_OPTS_INIT;
        if (spec->num_bundles > 1) {
            lux_bundle_t b[MAX_BUNDLES];
            for (size_t i = 0; i < spec->num_bundles; i++)
                b[i] = (lux_bundle_t){.num_cpus = spec->bundles[i].cpu,
                                      .num_gpus = spec->bundles[i].gpu};
            rc = lux_pg_create(b, spec->num_bundles, runtime_strategy(spec->strategy), &t->pg);
            if (rc == 0) {
                t->has_pg = 1;
                ao.pg = t->pg;
                ao.bundle_index = 0;
            }
        }
        ao.num_cpus = spec->bundles[0].cpu;
        ao.num_gpus = spec->bundles[0].gpu;
        if (rc == 0)
            rc = lux_actor_create(&lux_trial_host_class, args, 2, &ao, &t->actor);
        if (rc != 0) {
            if (t->has_pg)
                lux_pg_remove(t->pg);
            lux_free(t);
            t = NULL;
        }
    }
    free(text);
    if (rc != 0) {
        if (rc == LUX_EINFEASIBLE)
            snprintf(err, errlen,
                     "trial %s asks for resources this node can never provide "
                     "(%zu bundle(s), the first {CPU: %g, GPU: %g}); lower resources_per_trial",
                     spec->trial_id, spec->num_bundles, spec->bundles[0].cpu, spec->bundles[0].gpu);
        else
            snprintf(err, errlen, "cannot start trial %s: %s", spec->trial_id, lux_strerror(rc));
        return rc;
    }
    t->user = user;
    t->busy = 0;
    t->healthy = 1;
    rc = push(&ex->running, &ex->nrunning, &ex->caprunning, t);
    if (rc != 0) {
        host_destroy(t);
        return rc;
    }
    *out = t;
    return 0;
}

/* How long a host may keep stepping in one call: fast trainables return
 * many results per round trip, slow ones one result per call as before. */
#define STEP_BATCH_SECONDS 0.005

static int request(lux_exec_trial_t *t, lux_exec_op_t op, long max_steps)
{
    if (t->busy)
        return LUX_EBUSY;
    int64_t n = max_steps < 1 ? 1 : max_steps;
    double secs = STEP_BATCH_SECONDS;
    lux_arg_t args[2] = {lux_arg_value(&n, sizeof n), lux_arg_value(&secs, sizeof secs)};
    int rc = op == LUX_EXEC_STEP ? lux_actor_call(t->actor, "host_step", args, 2, 1, &t->ref)
                                 : lux_actor_call(t->actor, "host_save", NULL, 0, 1, &t->ref);
    if (rc != 0)
        return rc;
    t->busy = 1;
    t->op = op;
    return 0;
}

int lux_exec_trial_step(lux_exec_trial_t *t, long max_steps)
{
    return request(t, LUX_EXEC_STEP, max_steps);
}

int lux_exec_trial_save(lux_exec_trial_t *t)
{
    return request(t, LUX_EXEC_SAVE, 1);
}

int lux_exec_trial_busy(const lux_exec_trial_t *t)
{
    return t->busy;
}

void lux_exec_trial_end(lux_executor_t *ex, lux_exec_trial_t **t_p, int reuse)
{
    if (t_p == NULL || *t_p == NULL)
        return;
    lux_exec_trial_t *t = *t_p;
    *t_p = NULL;
    remove_at(ex->running, &ex->nrunning, t);
    if (reuse && t->healthy && !t->busy) {
        /* The trainable goes now, not at the next reset: a parked host that
         * kept it would also keep what it holds (an A3C trainable's worker
         * actors), and trials still running could wait forever for those
         * CPUs. Calls are ordered, so the next reset comes after this. */
        lux_ref_t ref;
        if (lux_actor_call(t->actor, "host_release", NULL, 0, 1, &ref) == 0) {
            lux_ref_release(ref);
            if (push(&ex->parked, &ex->nparked, &ex->capparked, t) == 0)
                return;
        }
    }
    host_destroy(t);
}

static void exec_results_clear(lux_exec_event_t *ev)
{
    json_decref(ev->results);
    lux_free(ev->text);
    lux_free(ev->texts);
    ev->results = NULL;
    ev->text = NULL;
    ev->texts = NULL;
}

/* Splits a trial host's JSON lines into ev->results (parsed) and ev->texts
 * (each line as sent, pointing into ev->text). */
static int parse_results(const void *data, size_t len, lux_exec_event_t *ev)
{
    size_t lines = 1;
    const char *src = data;
    for (size_t i = 0; i < len; i++)
        lines += src[i] == '\n';
    ev->results = json_array();
    ev->text = lux_malloc(len + 1);
    ev->texts = lux_calloc(lines, sizeof *ev->texts);
    if (ev->results == NULL || ev->text == NULL || ev->texts == NULL || len == 0)
        return LUX_EPROTO;
    memcpy(ev->text, data, len);
    ev->text[len] = '\0';
    char *p = ev->text;
    for (size_t k = 0; k < lines; k++) {
        char *nl = memchr(p, '\n', len - (size_t)(p - ev->text));
        size_t n = nl ? (size_t)(nl - p) : len - (size_t)(p - ev->text);
        json_error_t jerr;
        json_t *one = json_loadb(p, n, 0, &jerr);
        if (!json_is_object(one) || json_array_append_new(ev->results, one) != 0) {
            json_decref(one);
            return LUX_EPROTO;
        }
        ev->texts[k].ptr = p;
        ev->texts[k].len = n;
        p += n + 1;
    }
    return 0;
}

/* ---- failure kinds ------------------------------------------------------------- */

static const char *const failure_kind_names[] = {
#define LUX_FAILURE_KIND_NAME(e, name) name,
    LUX_FAILURE_KIND_MAP(LUX_FAILURE_KIND_NAME)
#undef LUX_FAILURE_KIND_NAME
};

const char *lux_failure_kind_name(lux_failure_kind_t kind)
{
    return (int)kind >= 0 && kind < LUX_FAILURE_KIND_COUNT ? failure_kind_names[kind] : "?";
}

int lux_failure_kind_parse(const char *name, lux_failure_kind_t *kind)
{
    for (int i = 0; name != NULL && i < LUX_FAILURE_KIND_COUNT; i++) {
        if (strcmp(name, failure_kind_names[i]) == 0) {
            *kind = (lux_failure_kind_t)i;
            return 0;
        }
    }
    return LUX_EINVAL;
}

/* Signals a process gets from its own code going wrong, by number and by
 * name without "SIG". */
static const struct {
    int signo;
    const char *name;
} crash_signals[] = {
    {SIGSEGV, "SEGV"}, {SIGABRT, "ABRT"}, {SIGABRT, "IOT"},  {SIGBUS, "BUS"},
    {SIGFPE, "FPE"},   {SIGILL, "ILL"},   {SIGTRAP, "TRAP"}, {SIGSYS, "SYS"},
};

static int is_crash_signal(int signo, const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++) {
        if (name == NULL ? crash_signals[i].signo == signo
                         : strlen(crash_signals[i].name) == len &&
                               strncmp(crash_signals[i].name, name, len) == 0)
            return 1;
    }
    return 0;
}

lux_failure_kind_t lux_exec_failure_kind(int error, const char *message)
{
    if (error == LUX_ETASK)
        return LUX_FAILURE_TRAINABLE;
    if ((error != LUX_EACTORDIED && error != LUX_EWORKERDIED) || message == NULL)
        return LUX_FAILURE_INFRASTRUCTURE;
    if (strstr(message, "exited with status") != NULL)
        return LUX_FAILURE_TRAINABLE;
    const char *k = strstr(message, "killed by ");
    if (k == NULL)
        return LUX_FAILURE_INFRASTRUCTURE;
    k += strlen("killed by ");
    if (strncmp(k, "signal ", 7) == 0) {
        int signo = atoi(k + 7);
        return is_crash_signal(signo, NULL, 0) ? LUX_FAILURE_TRAINABLE : LUX_FAILURE_INFRASTRUCTURE;
    }
    if (strncmp(k, "SIG", 3) == 0) {
        size_t len = 0;
        while (k[3 + len] >= 'A' && k[3 + len] <= 'Z')
            len++;
        return is_crash_signal(0, k + 3, len) ? LUX_FAILURE_TRAINABLE : LUX_FAILURE_INFRASTRUCTURE;
    }
    return LUX_FAILURE_INFRASTRUCTURE;
}

static void fill_event(lux_exec_trial_t *t, lux_value_t *v, lux_exec_event_t *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->trial = t;
    ev->user = t->user;
    ev->op = t->op;
    ev->error = v->error;
    if (v->error != 0) {
        const char *msg = v->data && v->len ? (const char *)v->data : lux_strerror(v->error);
        ev->message = lux_strndup(msg, v->len ? v->len : strlen(msg));
        ev->failure = lux_exec_failure_kind(v->error, ev->message);
        /* A host whose process died, or whose trainable failed, is not reused. */
        t->healthy = 0;
        return;
    }
    if (t->op == LUX_EXEC_STEP) {
        if (parse_results(v->data, v->len, ev) != 0) {
            exec_results_clear(ev);
            ev->error = LUX_EPROTO;
            ev->message = lux_strdup("trial host returned results that are not JSON objects");
            ev->failure = LUX_FAILURE_TRAINABLE;
            t->healthy = 0;
        }
    } else {
        ev->bytes = lux_malloc(v->len ? v->len : 1);
        if (ev->bytes == NULL) {
            ev->error = LUX_ENOMEM;
            ev->message = lux_strdup("out of memory copying a checkpoint");
            ev->failure = LUX_FAILURE_INFRASTRUCTURE;
            return;
        }
        memcpy(ev->bytes, v->data, v->len);
        ev->len = v->len;
    }
}

int lux_executor_wait(lux_executor_t *ex, double timeout_s, lux_exec_event_t *events, size_t max,
                      size_t *n)
{
    *n = 0;
    size_t nbusy = 0;
    for (size_t i = 0; i < ex->nrunning; i++)
        nbusy += ex->running[i]->busy;
    if (nbusy == 0 || max == 0) {
        if (timeout_s > 0)
            usleep((useconds_t)(timeout_s * 1e6));
        return 0;
    }
    lux_ref_t *refs = lux_malloc(nbusy * sizeof *refs);
    lux_exec_trial_t **owners = lux_malloc(nbusy * sizeof *owners);
    unsigned char *ready = lux_malloc(nbusy);
    if (refs == NULL || owners == NULL || ready == NULL) {
        lux_free(refs);
        lux_free(owners);
        lux_free(ready);
        return LUX_ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < ex->nrunning; i++) {
        if (ex->running[i]->busy) {
            owners[k] = ex->running[i];
            refs[k++] = ex->running[i]->ref;
        }
    }
    size_t nready = 0;
    int rc = lux_wait(refs, k, 1, timeout_s, ready, &nready);
    /* The ready refs, fetched with one lux_get (one round trip for all). */
    size_t m = 0;
    for (size_t i = 0; rc == 0 && i < k && m < max; i++) {
        if (ready[i]) {
            refs[m] = refs[i];
            owners[m++] = owners[i];
        }
    }
    lux_value_t *vals = m ? lux_calloc(m, sizeof *vals) : NULL;
    int grc = m && vals ? lux_get(refs, m, 0, vals) : LUX_ENOMEM;
    /* lux_get fills every value unless the call itself failed (an unknown or
     * released ref, a closed runtime): then fetch one by one to tell whose. */
    int filled = vals != NULL &&
                 (grc == 0 || grc == LUX_ETASK || grc == LUX_EWORKERDIED || grc == LUX_EACTORDIED ||
                  grc == LUX_ECANCELLED || grc == LUX_EINFEASIBLE || grc == LUX_EFULL);
    for (size_t i = 0; i < m; i++) {
        lux_exec_trial_t *t = owners[i];
        lux_value_t one = {0};
        lux_value_t *v = filled ? &vals[i] : &one;
        int orc = filled ? 0 : lux_get(&refs[i], 1, 0, &one);
        if (orc == LUX_ETIMEDOUT) {
            lux_value_release(&one);
            continue;
        }
        if (orc != 0 && one.error == 0) {
            /* The ref itself is gone (LUX_ENOENT/LUX_ECLOSED): report it. */
            memset(&events[*n], 0, sizeof events[*n]);
            events[*n].trial = t;
            events[*n].user = t->user;
            events[*n].op = t->op;
            events[*n].error = orc;
            events[*n].message = lux_strdup(lux_strerror(orc));
            events[*n].failure = LUX_FAILURE_INFRASTRUCTURE;
            t->healthy = 0;
        } else {
            fill_event(t, v, &events[*n]);
        }
        lux_value_release(v);
        t->busy = 0;
        (*n)++;
    }
    if (m > 0)
        lux_refs_release(refs, m);
    lux_free(vals);
    lux_free(refs);
    lux_free(owners);
    lux_free(ready);
    return rc;
}

void lux_exec_event_clear(lux_exec_event_t *ev)
{
    lux_free(ev->message);
    exec_results_clear(ev);
    lux_free(ev->bytes);
    memset(ev, 0, sizeof *ev);
}
