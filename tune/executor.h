/*
 * The trial executor: how tune runs trials on the runtime.
 *
 * A trial runs inside a "trial host" actor that holds one trainable instance
 * (tune/trainable.h) at a time. The runner starts a trial, asks it for one
 * step or one checkpoint at a time, and collects what finished as events.
 * When a trial ends cleanly its host is parked and reused by the next trial
 * with the same resources (Ray Tune's reuse_actors), which is what makes
 * thousands of short trials cheap; a host whose process died is never
 * reused. A trial with more than one bundle holds a placement group (the
 * trainer's bundle first, then one per rollout worker) and its host runs in
 * bundle 0, so the trainable's rollout tasks land in the group's bundles.
 *
 * This module is the only part of tune that includes runtime/lux.h; the
 * runner core sees only this interface. One thread drives an executor.
 */
#ifndef LUX_EXECUTOR_H
#define LUX_EXECUTOR_H

#include "pg_strategy.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lux_executor lux_executor_t;
typedef struct lux_exec_trial lux_exec_trial_t;

typedef struct {
    double num_cpus;           /* CPUs the private node offers (0: all cores) */
    double num_gpus;           /* GPUs it offers */
    const char *log_dir;       /* worker logs (NULL: a temporary directory) */
    size_t object_store_bytes; /* 0: the runtime's default */
} lux_executor_opts_t;

typedef struct {
    double cpu, gpu;
} lux_exec_bundle_t;

/* What a trial needs to start. Strings are copied. */
typedef struct {
    const char *trial_id;
    const char *trainable; /* registered name */
    const json_t *config;  /* the trial's config */
    uint64_t seed;
    const char *log_dir;              /* may be NULL */
    const lux_exec_bundle_t *bundles; /* >= 1; bundles[0] is the trainer's */
    size_t num_bundles;
    lux_trial_pg_strategy_t strategy;
    const void *restore; /* checkpoint bytes to restore after setup, or NULL */
    size_t restore_len;
} lux_exec_trial_spec_t;

typedef enum {
    LUX_EXEC_STEP = 0, /* results: event.results */
    LUX_EXEC_SAVE = 1, /* a checkpoint: event.bytes/len */
} lux_exec_op_t;

/* One result as the trial host sent it: compact JSON, not NUL-terminated. */
typedef struct {
    const char *ptr;
    size_t len;
} lux_exec_text_t;

/* Whose fault a trial's failure was, which decides whether `lux run
 * --resume` restarts it (X(ENUM, "name"), the names stored):
 *   trainable:      its own code: setup or step returned an error, or its
 *                   process crashed (SIGSEGV, SIGABRT, SIGBUS, SIGFPE,
 *                   SIGILL, SIGTRAP, SIGSYS) or exited;
 *   infrastructure: anything else: its process was killed by a signal from
 *                   outside (SIGKILL, SIGTERM, SIGINT, SIGHUP, the OOM
 *                   killer...), the runtime lost it, a checkpoint could not
 *                   be written (disk full). */
#define LUX_FAILURE_KIND_MAP(X)                                                                    \
    X(TRAINABLE, "trainable")                                                                      \
    X(INFRASTRUCTURE, "infrastructure")

typedef enum {
#define LUX_FAILURE_KIND_ENUM(e, name) LUX_FAILURE_##e,
    LUX_FAILURE_KIND_MAP(LUX_FAILURE_KIND_ENUM)
#undef LUX_FAILURE_KIND_ENUM
        LUX_FAILURE_KIND_COUNT
} lux_failure_kind_t;

/* "trainable", "infrastructure"; "?" for a value out of range. */
const char *lux_failure_kind_name(lux_failure_kind_t kind);

/* The kind named `name`: 0, or LUX_EINVAL for an unknown name. */
int lux_failure_kind_parse(const char *name, lux_failure_kind_t *kind);

/* The kind of a failed request from its LUX_E* code and message: LUX_ETASK
 * is the trainable's; a dead process is the trainable's when its message
 * says it crashed on one of the signals above or exited, else the
 * infrastructure's; every other code is the infrastructure's. Reads both
 * ways the runtime names a signal ("killed by signal 9, SIGKILL" and
 * "killed by SIGKILL (Killed)"). Cannot fail. */
lux_failure_kind_t lux_exec_failure_kind(int error, const char *message);

typedef struct {
    lux_exec_trial_t *trial;
    void *user; /* what lux_exec_trial_start was given */
    lux_exec_op_t op;
    int error;                  /* 0, or a LUX_E* code (LUX_ETASK: the trainable failed;
                                   LUX_EACTORDIED / LUX_EWORKERDIED: its process died) */
    char *message;              /* the error's message (heap, freed by lux_exec_event_clear) */
    lux_failure_kind_t failure; /* with an error: whose fault it was */
    json_t *results;            /* LUX_EXEC_STEP: an array of one or more results, each the
                                   trainable's metrics plus time_this_iter_s, in order */
    lux_exec_text_t *texts;     /* LUX_EXEC_STEP: texts[i] is results[i] as sent */
    char *text;                 /* holds what texts point into */
    void *bytes;                /* LUX_EXEC_SAVE: checkpoint bytes (heap) */
    size_t len;
} lux_exec_event_t;

/* Starts the runtime (a private node) for this process. Returns 0,
 * or a LUX_E* code with a message in err. */
int lux_executor_new(const lux_executor_opts_t *opts, lux_executor_t **out, char *err,
                     size_t errlen);

/* Stops every trial and the runtime. Accepts NULL; clears *ex_p. */
void lux_executor_destroy(lux_executor_t **ex_p);

/* CPUs and GPUs the node offers. */
void lux_executor_capacity(const lux_executor_t *ex, double *cpus, double *gpus);

/* Starts a trial (reusing a parked host with the same bundles when there is
 * one). Returns at once; setup errors arrive as the error of the trial's
 * first event. Returns 0, LUX_EINFEASIBLE (the bundles can never fit; a
 * message in err), LUX_ENOMEM, LUX_ECLOSED. */
int lux_exec_trial_start(lux_executor_t *ex, const lux_exec_trial_spec_t *spec, void *user,
                         lux_exec_trial_t **out, char *err, size_t errlen);

/* Asks the trial for training steps: at least one and at most max_steps,
 * fewer once a few milliseconds have passed or a result says done (so a fast
 * trainable returns many results per round trip and a slow one one), or for
 * one checkpoint. A trial has at most one request in flight: LUX_EBUSY
 * otherwise. */
int lux_exec_trial_step(lux_exec_trial_t *t, long max_steps);
int lux_exec_trial_save(lux_exec_trial_t *t);

/* 1 when the trial has a request in flight. */
int lux_exec_trial_busy(const lux_exec_trial_t *t);

/* Ends a trial. With reuse 1 and a healthy host, the host is parked for the
 * next trial with the same bundles; otherwise the host and its placement
 * group are removed. An in-flight request is abandoned. Accepts NULL;
 * clears *t_p. */
void lux_exec_trial_end(lux_executor_t *ex, lux_exec_trial_t **t_p, int reuse);

/* Waits up to timeout_s for finished requests and stores up to max of them
 * in events[] (*n of them). Returns 0 (also when nothing finished), or a
 * LUX_E* code when the runtime itself failed. */
int lux_executor_wait(lux_executor_t *ex, double timeout_s, lux_exec_event_t *events, size_t max,
                      size_t *n);

/* Frees an event's heap parts. */
void lux_exec_event_clear(lux_exec_event_t *ev);

/* The number of trials running (started and not ended). */
size_t lux_executor_num_trials(const lux_executor_t *ex);

/* Worker-side entry: call first in main() (after registering trainables);
 * returns -1 when this process is not a worker (see lux_worker_main). */
int lux_executor_worker_main(int argc, char **argv);

#endif
