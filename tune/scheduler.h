/*
 * Trial schedulers: FIFO, ASHA (Ray's AsyncHyperBandScheduler) and PBT
 * (Ray's PopulationBasedTraining), behind one interface with Ray Tune's
 * callbacks.
 *
 * The scheduler is pure logic. The trial runner drives it: it announces
 * trials (on_trial_add), hands it every result (on_trial_result -> CONTINUE,
 * PAUSE or STOP), tells it when a trial starts, gets a checkpoint, completes,
 * fails or is removed, and asks it which waiting trial to run next. The
 * scheduler never does I/O and never touches a trial itself; everything it
 * decides is also returned as data (decision objects, below) so the runner
 * can act on it and log it in the experiment store.
 *
 * Trials are small non-negative integers (the runner's trial index k).
 * Results are jansson objects; the scheduler reads `time_attr` and `metric`
 * from them (dotted paths "info/x" are not resolved: keys are flat) and keeps
 * no reference to them.
 *
 * Decisions. Each callback may queue decision objects; the runner drains them
 * with lux_scheduler_take_decisions() after every call. A decision is a JSON
 * object with at least
 *     "decision": one of the names in LUX_DECISION_MAP ("stop", "exploit", ...)
 *     "trial":    the trial it concerns (integer)
 *     "message":  one line for a person, e.g.
 *                 "STOP trial 7 at rung 2 (t=4): 10.5 < cutoff 12.3"
 * and kind-specific fields, documented at LUX_DECISION_MAP. Two kinds ask the
 * runner to act:
 *     "checkpoint": save the trial's checkpoint now (PBT upper quantile), then
 *                   call lux_scheduler_on_checkpoint(); for a trial that is
 *                   PAUSED (synch mode) the checkpoint it was paused with is
 *                   the one to report;
 *     "exploit":    the trial is PAUSED (told so by this result's action, or
 *                   already paused in synch mode); when the runner next starts
 *                   it, it restores it from "donor_checkpoint" of trial
 *                   "donor" (null: the checkpoint a "checkpoint" decision
 *                   earlier in the same batch asked the donor to save) and
 *                   runs it with "new_config" (which the scheduler has
 *                   already adopted as the trial's config).
 * The others are information for the log.
 *
 * Memory and state. The scheduler keeps records of live trials only: once
 * a trial completes, fails for good or is removed, its record is freed and
 * later calls about it return LUX_ENOENT, so memory does not grow with the
 * number of finished trials (what outlives a trial, such as ASHA's rung
 * values, is a number or two per trial). lux_scheduler_state() serialises
 * the live part (trial records, RNG, counters) to a JSON object whose size
 * depends on the live trials only; what only ever grows (ASHA's recorded
 * rung values) is instead handed out once as journal entries
 * (lux_scheduler_take_journal()) that the runner appends to the store.
 * lux_scheduler_restore() loads a state plus the journal written up to it
 * into a fresh scheduler built with the same parameters, so
 * `lux run --resume` continues with identical decisions.
 *
 * Threads: one scheduler is driven by one thread at a time.
 */
#ifndef LUX_SCHEDULER_H
#define LUX_SCHEDULER_H

#include "space.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Optimisation direction. Values are stored internally as mode * metric so
 * that larger is always better (Ray's metric_op). */
typedef enum { LUX_MODE_MAX = 1, LUX_MODE_MIN = -1 } lux_mode_t;

/* X(ENUM, "name") */
#define LUX_SCHEDULER_MAP(X)                                                                       \
    X(FIFO, "fifo")                                                                                \
    X(ASHA, "asha")                                                                                \
    X(PBT, "pbt")

typedef enum {
#define LUX_SCHEDULER_ENUM(e, name) LUX_SCHEDULER_##e,
    LUX_SCHEDULER_MAP(LUX_SCHEDULER_ENUM)
#undef LUX_SCHEDULER_ENUM
        LUX_SCHEDULER_COUNT
} lux_scheduler_type_t;

const char *lux_scheduler_type_name(lux_scheduler_type_t type);

/* What the runner does with a trial after a result. */
typedef enum {
    LUX_SCHED_CONTINUE = 0,
    LUX_SCHED_PAUSE = 1, /* save, release resources, keep it waiting */
    LUX_SCHED_STOP = 2,  /* end the trial (terminated, not errored) */
} lux_sched_action_t;

const char *lux_sched_action_name(lux_sched_action_t action); /* "CONTINUE" ... */

/* Trial status as the runner reports it to choose_trial_to_run(). */
#include "trial_status.h"

/* X(ENUM, "name"): the decision kinds and their extra fields.
 *  stop:       "time", "value" (metric as reported), "rung" (ASHA index, 0 =
 *              lowest milestone), "milestone", "cutoff" (reported units) or
 *              "reason": "max_t"
 *  pause:      "reason" ("pbt time-multiplexing", "pbt synch barrier")
 *  rung:       ASHA recorded "value" at "rung"/"milestone"; "cutoff" (null when
 *              the rung was empty)
 *  checkpoint: "time"; the runner must save the trial now
 *  exploit:    "donor", "donor_checkpoint" (the label the runner gave in
 *              on_checkpoint), "old_config", "new_config", "operations"
 *              (per-parameter "old --- (op) --> new" strings), "score",
 *              "donor_score", "time", "donor_time"
 *  bracket:    ASHA placed a new trial in bracket "bracket" */
#define LUX_DECISION_MAP(X)                                                                        \
    X(STOP, "stop")                                                                                \
    X(PAUSE, "pause")                                                                              \
    X(RUNG, "rung")                                                                                \
    X(CHECKPOINT, "checkpoint")                                                                    \
    X(EXPLOIT, "exploit")                                                                          \
    X(BRACKET, "bracket")

typedef enum {
#define LUX_DECISION_ENUM(e, name) LUX_DECISION_##e,
    LUX_DECISION_MAP(LUX_DECISION_ENUM)
#undef LUX_DECISION_ENUM
        LUX_DECISION_COUNT
} lux_decision_kind_t;

const char *lux_decision_name(lux_decision_kind_t kind);

#define LUX_SCHED_MAX_FACTORS 8
/* ASHA's rungs per bracket (int(log(max_t/grace_period)/log(reduction_factor)
 * + 1)) and brackets are at most this: a reduction_factor barely above 1 or
 * a max_t/grace_period near the range of a double would otherwise ask for
 * billions of rungs. */
#define LUX_SCHED_MAX_RUNGS 64
/* PBT's perturbation factors lie within [MIN, MAX]. */
#define LUX_SCHED_MIN_FACTOR 0.001
#define LUX_SCHED_MAX_FACTOR 1000.0

/* Everything a scheduler is built from. Strings and the mutation space are
 * borrowed for the scheduler's lifetime (the loaded config owns them).
 * lux_scheduler_params_default() fills Ray's defaults. */
typedef struct {
    lux_scheduler_type_t type;
    const char *metric;    /* required for asha and pbt */
    lux_mode_t mode;       /* required for asha and pbt */
    const char *time_attr; /* asha: "training_iteration", pbt: "time_total_s" */
    uint64_t seed;         /* bracket draws and PBT's choices */

    /* asha */
    double max_t;            /* 100 */
    double grace_period;     /* 1 */
    double reduction_factor; /* 4 */
    int brackets;            /* 1 */
    bool stop_last_trials;   /* true */

    /* pbt */
    double perturbation_interval;                       /* 60 */
    double burn_in_period;                              /* 0 */
    double quantile_fraction;                           /* 0.25, in [0, 0.5] */
    double resample_probability;                        /* 0.25, in [0, 1] */
    double perturbation_factors[LUX_SCHED_MAX_FACTORS]; /* 1.2, 0.8 */
    size_t num_perturbation_factors;                    /* 2 */
    const lux_space_t *hyperparam_mutations;            /* LUX_SPACE_MUTATIONS */
    bool synch;                                         /* false */
} lux_scheduler_params_t;

/* Fills Ray's defaults for `type` (time_attr included). Cannot fail. */
void lux_scheduler_params_default(lux_scheduler_params_t *p, lux_scheduler_type_t type);

/* Checks parameters with Ray's assertions (max_t >= grace_period > 0,
 * reduction_factor > 1, brackets >= 1, quantile_fraction in [0, 0.5],
 * resample_probability in [0, 1], perturbation_interval > 0, metric and mode
 * set for asha/pbt, mutations given for pbt). Returns 0 or LUX_ECONFIG with
 * "<param>: what is wrong; what to do" in err (the config loader prefixes
 * file:line:col). */
int lux_scheduler_params_check(const lux_scheduler_params_t *p, char *err, size_t errlen);

/* The keys a `scheduler:` mapping of each type takes in an experiment file
 * (docs/config.md), "type" first, with the count in *n. Each table lives
 * with its scheduler (tune/sched_asha.c, tune/sched_pbt.c), so a new
 * parameter is added in one file; FIFO takes "type" only. Static tables.
 * Cannot fail. */
const char *const *lux_sched_asha_config_keys(size_t *n);
const char *const *lux_sched_pbt_config_keys(size_t *n);

typedef struct lux_scheduler lux_scheduler_t;

/* Builds a scheduler. Returns 0 and *out, LUX_ECONFIG (parameters rejected
 * by lux_scheduler_params_check, message in err) or LUX_ENOMEM. */
int lux_scheduler_new(const lux_scheduler_params_t *p, lux_scheduler_t **out, char *err,
                      size_t errlen);

/* Frees the scheduler and any undrained decisions; clears *s_p. Accepts
 * NULL. */
void lux_scheduler_destroy(lux_scheduler_t **s_p);

lux_scheduler_type_t lux_scheduler_type(const lux_scheduler_t *s);

/* A new trial with its sampled config. PBT fills in hyperparameters named
 * in hyperparam_mutations that the config lacks (sampled from the
 * mutations), so the runner must use `config` as it is after this call; the
 * scheduler keeps its own copy. ASHA draws the trial's bracket. The trial
 * starts PENDING. Returns 0, LUX_EEXIST (trial known), LUX_EINVAL or
 * LUX_ENOMEM. */
int lux_scheduler_on_trial_add(lux_scheduler_t *s, int trial, json_t *config);

/* The runner started (or resumed) the trial: it is RUNNING. */
int lux_scheduler_on_trial_start(lux_scheduler_t *s, int trial);

/* A result of a RUNNING trial. Sets *action. Results lacking time_attr or
 * metric get CONTINUE from asha (Ray ignores them) and LUX_EINVAL from pbt
 * (Ray's require_attrs), with a message in err. LUX_ENOENT for an unknown
 * trial. */
int lux_scheduler_on_trial_result(lux_scheduler_t *s, int trial, const json_t *result,
                                  lux_sched_action_t *action, char *err, size_t errlen);

/* The trial ended by itself (done, stop criteria). `result` is its last
 * result or NULL. ASHA records the final value at its rung. The scheduler
 * then forgets the trial. */
int lux_scheduler_on_trial_complete(lux_scheduler_t *s, int trial, const json_t *result);

/* The trial failed for good (the runner restarts failed trials itself,
 * without telling the scheduler, while max_failures allows). The scheduler
 * forgets it. */
int lux_scheduler_on_trial_error(lux_scheduler_t *s, int trial);

/* The trial was stopped without completing (by a STOP decision or the
 * user). After the scheduler answered STOP the trial is TERMINATED for it
 * but still known until this call (or on_trial_complete); then the
 * scheduler forgets it. */
int lux_scheduler_on_trial_remove(lux_scheduler_t *s, int trial);

/* The runner now holds a checkpoint of the trial taken at time `time`
 * (time_attr units), labelled `label` (a path or id, copied; it comes back in
 * exploit decisions). Only trials with a checkpoint can be PBT donors. */
int lux_scheduler_on_checkpoint(lux_scheduler_t *s, int trial, double time, const char *label);

/* Picks the waiting trial to run next among candidates[0..n-1] (trial ids
 * with their statuses; only PENDING and PAUSED ones qualify). FIFO and ASHA:
 * the first PENDING one in the given order, else the first PAUSED one. PBT:
 * the one with the smallest last training time (ties: the given order), and
 * in synch mode only those behind the next synchronisation point. Sets *chosen to the
 * trial or -1 when none should run now. Cannot fail except LUX_EINVAL. */
int lux_scheduler_choose_trial_to_run(lux_scheduler_t *s, const int *candidates,
                                      const lux_trial_status_t *status, size_t n, int *chosen);

/* The trial's current config as the scheduler knows it (PBT changes it on
 * exploit). Borrowed; NULL for an unknown or finished trial (the store keeps
 * its config). */
const json_t *lux_scheduler_trial_config(const lux_scheduler_t *s, int trial);

/* The status the scheduler holds for a known trial (TERMINATED once it
 * answered STOP, until on_trial_remove). LUX_ENOENT for an unknown or
 * finished trial. */
int lux_scheduler_trial_status(const lux_scheduler_t *s, int trial, lux_trial_status_t *status);

/* Returns the queued decisions as a new JSON array (possibly empty) and
 * empties the queue; the caller releases it. NULL only on allocation
 * failure. */
json_t *lux_scheduler_take_decisions(lux_scheduler_t *s);

/* Counters for the status line: ASHA stops, PBT checkpoints and perturbs.
 * Returns a new object like {"num_stopped": 3} or
 * {"num_checkpoints": 4, "num_perturbations": 2}. */
json_t *lux_scheduler_stats(const lux_scheduler_t *s);

/* Entries the scheduler wants appended to its journal, as a new JSON array
 * (possibly empty; the queue is emptied). The runner stores them, in
 * order, in the same transaction as the next lux_scheduler_state(). NULL
 * only on allocation failure. */
json_t *lux_scheduler_take_journal(lux_scheduler_t *s);

/* The live state as a new JSON object ({"format": 2, "type": "asha", ...});
 * NULL on allocation failure. Its size does not depend on the number of
 * finished trials. */
json_t *lux_scheduler_state(const lux_scheduler_t *s);

/* Replaces the state of a scheduler built with the same parameters by a
 * saved one and the journal saved with it (an array of the entries in
 * order; NULL: none). Returns 0, or LUX_EINVAL with a message when either
 * is malformed, of another type, or of an older format (the scheduler is
 * then unchanged). */
int lux_scheduler_restore(lux_scheduler_t *s, const json_t *state, const json_t *journal, char *err,
                          size_t errlen);

/* The trial's PBT lineage: an array of exploits it received, each
 * {"time", "donor", "donor_time", "old_config", "new_config"}. Borrowed;
 * NULL for an unknown or finished trial (read it before telling the
 * scheduler the trial ended); empty for other schedulers. */
const json_t *lux_scheduler_trial_lineage(const lux_scheduler_t *s, int trial);

/* ---- for the implementations (sched_*.c) only ------------------------------ */
#ifdef LUX_SCHEDULER_INTERNAL

typedef enum { LUX_CKPT_NONE = 0, LUX_CKPT_REQUESTED = 1, LUX_CKPT_HELD = 2 } lux_ckpt_state_t;

typedef struct {
    int id;
    lux_trial_status_t status;
    long order; /* add order: Ray iterates trials in this order */
    json_t *config;
    /* asha */
    int bracket;
    unsigned char *recorded; /* recorded[j]: a value at the bracket's rung j */
    size_t nrecorded;
    /* pbt */
    bool has_score;
    double last_score; /* mode * metric */
    double last_perturbation_time, last_train_time;
    json_t *last_result;
    lux_ckpt_state_t ckpt;
    char *ckpt_label;
    double ckpt_time;
    json_t *lineage;
} lux_sched_trial_t;

typedef struct lux_sched_ops {
    int (*init)(lux_scheduler_t *s, char *err, size_t errlen);
    void (*fini)(lux_scheduler_t *s);
    int (*on_add)(lux_scheduler_t *s, int trial, json_t *config);
    int (*on_result)(lux_scheduler_t *s, int trial, const json_t *result,
                     lux_sched_action_t *action, char *err, size_t errlen);
    int (*on_complete)(lux_scheduler_t *s, int trial, const json_t *result);
    int (*on_remove)(lux_scheduler_t *s, int trial);
    /* NULL: FIFO's rule. */
    int (*choose)(lux_scheduler_t *s, const int *candidates, const lux_trial_status_t *status,
                  size_t n, int *chosen);
    int (*state)(const lux_scheduler_t *s, json_t *obj);
    /* Validates obj and the journal (may be NULL) and swaps them in only on
     * success. */
    int (*restore)(lux_scheduler_t *s, const json_t *obj, const json_t *journal, char *err,
                   size_t errlen);
    json_t *(*stats)(const lux_scheduler_t *s);
} lux_sched_ops_t;

struct lux_scheduler {
    lux_scheduler_params_t p;
    char *metric, *time_attr; /* copies */
    const lux_sched_ops_t *ops;
    void *impl;
    lux_rng_t rng;
    lux_sched_trial_t **trials; /* live trials, ascending id */
    size_t ntrials, cap;
    long next_order;
    double finished_max_train_time; /* pbt: the largest last_train_time of finished trials */
    json_t *decisions;
    json_t *journal;
};

extern const lux_sched_ops_t lux_sched_fifo_ops, lux_sched_asha_ops, lux_sched_pbt_ops;

/* The record of a live trial, or NULL (O(log n)). */
lux_sched_trial_t *lux_sched_trial(const lux_scheduler_t *s, int trial);
/* Appends a decision {"decision": name, "trial": trial, "message": ...} plus
 * the fields of `extra` (stolen, may be NULL). Returns 0 or LUX_ENOMEM. */
int lux_sched_decide(lux_scheduler_t *s, lux_decision_kind_t kind, int trial, json_t *extra,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Queues a journal entry (stolen). Returns 0 or LUX_ENOMEM. */
int lux_sched_journal(lux_scheduler_t *s, json_t *entry);
/* A finite number at key in result. */
bool lux_sched_number(const json_t *result, const char *key, double *out);
/* Live trials in add order: fills ids (capacity s->ntrials), returns the
 * count. */
size_t lux_sched_trials_in_order(const lux_scheduler_t *s, int *ids);
int lux_sched_fifo_choose(lux_scheduler_t *s, const int *candidates,
                          const lux_trial_status_t *status, size_t n, int *chosen);
/* ASHA's cutoff: numpy.nanpercentile(values, (1 - 1/rf) * 100), linear. */
double lux_sched_asha_cutoff(const double *values, size_t n, double reduction_factor);

#endif /* LUX_SCHEDULER_INTERNAL */

#endif
