/*
 * The scheduler front end: parameters and their checks, the trial table
 * every scheduler shares, the decision queue, and the common half of state
 * serialisation. The per-algorithm logic lives in sched_fifo.c, sched_asha.c
 * and sched_pbt.c behind lux_sched_ops_t.
 *
 * Trial records live in an array indexed by trial id (ids are the runner's
 * small trial indexes), so lookups are O(1) and iteration in add order needs
 * only a sort by `order`.
 */
#define LUX_SCHEDULER_INTERNAL
#include "scheduler.h"

#include "alloc.h"
#include "error.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {
#define LUX_SCHED_NAME(e, name) name,
    LUX_SCHEDULER_MAP(LUX_SCHED_NAME)
#undef LUX_SCHED_NAME
};

static const char *const decision_names[] = {
#define LUX_DECISION_NAME(e, name) name,
    LUX_DECISION_MAP(LUX_DECISION_NAME)
#undef LUX_DECISION_NAME
};

const char *lux_scheduler_type_name(lux_scheduler_type_t type)
{
    return (int)type >= 0 && type < LUX_SCHEDULER_COUNT ? type_names[type] : "?";
}

const char *lux_decision_name(lux_decision_kind_t kind)
{
    return (int)kind >= 0 && kind < LUX_DECISION_COUNT ? decision_names[kind] : "?";
}

const char *lux_sched_action_name(lux_sched_action_t action)
{
    switch (action) {
    case LUX_SCHED_CONTINUE:
        return "CONTINUE";
    case LUX_SCHED_PAUSE:
        return "PAUSE";
    case LUX_SCHED_STOP:
        return "STOP";
    }
    return "?";
}

void lux_scheduler_params_default(lux_scheduler_params_t *p, lux_scheduler_type_t type)
{
    memset(p, 0, sizeof *p);
    p->type = type;
    p->mode = LUX_MODE_MAX;
    p->time_attr = type == LUX_SCHEDULER_PBT ? "time_total_s" : "training_iteration";
    p->max_t = 100;
    p->grace_period = 1;
    p->reduction_factor = 4;
    p->brackets = 1;
    p->stop_last_trials = true;
    p->perturbation_interval = 60;
    p->burn_in_period = 0;
    p->quantile_fraction = 0.25;
    p->resample_probability = 0.25;
    p->perturbation_factors[0] = 1.2;
    p->perturbation_factors[1] = 0.8;
    p->num_perturbation_factors = 2;
    p->synch = false;
}

static int perr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int perr(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return LUX_ECONFIG;
}

int lux_scheduler_params_check(const lux_scheduler_params_t *p, char *err, size_t errlen)
{
    if ((int)p->type < 0 || p->type >= LUX_SCHEDULER_COUNT)
        return perr(err, errlen, "type: unknown scheduler type; use fifo, asha or pbt");
    if (p->type == LUX_SCHEDULER_FIFO)
        return 0;
    const char *t = type_names[p->type];
    if (p->metric == NULL || p->metric[0] == '\0')
        return perr(err, errlen,
                    "metric: %s needs the experiment's metric and mode; add e.g. metric: "
                    "episode_reward_mean and mode: max at the top level",
                    t);
    if (p->mode != LUX_MODE_MAX && p->mode != LUX_MODE_MIN)
        return perr(err, errlen, "mode: must be max or min");
    if (p->time_attr == NULL || p->time_attr[0] == '\0')
        return perr(err, errlen,
                    "time_attr: must name a result attribute such as "
                    "training_iteration");
    if (p->type == LUX_SCHEDULER_ASHA) {
        if (!(p->grace_period > 0) || !isfinite(p->grace_period))
            return perr(err, errlen, "grace_period: must be > 0, not %g; use e.g. 1",
                        p->grace_period);
        if (!(p->max_t >= p->grace_period) || !isfinite(p->max_t))
            return perr(err, errlen,
                        "max_t: must be >= grace_period (%g), not %g; raise max_t or lower "
                        "grace_period",
                        p->grace_period, p->max_t);
        if (!(p->reduction_factor > 1) || !isfinite(p->reduction_factor))
            return perr(err, errlen, "reduction_factor: must be > 1, not %g; use e.g. 3 or 4",
                        p->reduction_factor);
        /* At most LUX_SCHED_MAX_RUNGS rungs: x = log(max_t/grace)/log(rf) < 64. */
        double ratio = p->max_t / p->grace_period;
        if (!(ratio < 0x1p63))
            return perr(err, errlen,
                        "max_t: max_t / grace_period must be below 2^63 (ASHA has at most %d "
                        "rungs), not %g / %g; lower max_t or raise grace_period",
                        LUX_SCHED_MAX_RUNGS, p->max_t, p->grace_period);
        if (!(log(ratio) / log(p->reduction_factor) < LUX_SCHED_MAX_RUNGS)) {
            double min_rf = pow(ratio, 1.0 / LUX_SCHED_MAX_RUNGS);
            return perr(err, errlen,
                        "reduction_factor: %.17g would give ASHA more than %d rungs between "
                        "grace_period %g and max_t %g; use at least %.6g, or bring max_t and "
                        "grace_period closer",
                        p->reduction_factor, LUX_SCHED_MAX_RUNGS, p->grace_period, p->max_t,
                        min_rf * (1 + 1e-9));
        }
        if (p->brackets < 1 || p->brackets > LUX_SCHED_MAX_RUNGS)
            return perr(err, errlen, "brackets: must be within [1, %d], not %d",
                        LUX_SCHED_MAX_RUNGS, p->brackets);
        return 0;
    }
    /* pbt */
    if (!(p->perturbation_interval > 0) || !isfinite(p->perturbation_interval))
        return perr(err, errlen, "perturbation_interval: must be > 0, not %g",
                    p->perturbation_interval);
    if (!(p->burn_in_period >= 0) || !isfinite(p->burn_in_period))
        return perr(err, errlen, "burn_in_period: must be >= 0, not %g", p->burn_in_period);
    if (!(p->quantile_fraction >= 0 && p->quantile_fraction <= 0.5))
        return perr(err, errlen,
                    "quantile_fraction: must be within [0, 0.5], not %g; use e.g. 0.25",
                    p->quantile_fraction);
    if (!(p->resample_probability >= 0 && p->resample_probability <= 1))
        return perr(err, errlen, "resample_probability: must be within [0, 1], not %g",
                    p->resample_probability);
    if (p->num_perturbation_factors < 1 || p->num_perturbation_factors > LUX_SCHED_MAX_FACTORS)
        return perr(err, errlen, "perturbation_factors: give 1 to %d factors",
                    LUX_SCHED_MAX_FACTORS);
    for (size_t i = 0; i < p->num_perturbation_factors; i++)
        if (!(p->perturbation_factors[i] >= LUX_SCHED_MIN_FACTOR &&
              p->perturbation_factors[i] <= LUX_SCHED_MAX_FACTOR))
            return perr(err, errlen,
                        "perturbation_factors: factors must be within [%g, %g], not %g; use "
                        "e.g. 1.2 and 0.8",
                        LUX_SCHED_MIN_FACTOR, LUX_SCHED_MAX_FACTOR, p->perturbation_factors[i]);
    if (p->hyperparam_mutations == NULL || lux_space_num_variables(p->hyperparam_mutations) == 0)
        return perr(err, errlen,
                    "hyperparam_mutations: pbt needs hyperparameters to mutate; add e.g. "
                    "hyperparam_mutations: {lr: {loguniform: [1e-4, 1e-2]}}");
    return 0;
}

int lux_scheduler_new(const lux_scheduler_params_t *p, lux_scheduler_t **out, char *err,
                      size_t errlen)
{
    *out = NULL;
    int rc = lux_scheduler_params_check(p, err, errlen);
    if (rc != 0)
        return rc;
    lux_scheduler_t *s = lux_calloc(1, sizeof *s);
    if (s == NULL)
        return LUX_ENOMEM;
    s->p = *p;
    s->ops = p->type == LUX_SCHEDULER_ASHA  ? &lux_sched_asha_ops
             : p->type == LUX_SCHEDULER_PBT ? &lux_sched_pbt_ops
                                            : &lux_sched_fifo_ops;
    s->metric = p->metric ? lux_strdup(p->metric) : NULL;
    s->time_attr = lux_strdup(p->time_attr ? p->time_attr : "training_iteration");
    s->decisions = json_array();
    s->journal = json_array();
    s->finished_max_train_time = -INFINITY;
    lux_rng_seed_stream(&s->rng, p->seed, 0x5c4edULL);
    if ((p->metric && s->metric == NULL) || s->time_attr == NULL || s->decisions == NULL ||
        s->journal == NULL) {
        lux_scheduler_destroy(&s);
        return LUX_ENOMEM;
    }
    s->p.metric = s->metric;
    s->p.time_attr = s->time_attr;
    if (s->ops->init != NULL && (rc = s->ops->init(s, err, errlen)) != 0) {
        lux_scheduler_destroy(&s);
        return rc;
    }
    *out = s;
    return 0;
}

static void trial_free(lux_sched_trial_t *t)
{
    if (t == NULL)
        return;
    json_decref(t->config);
    json_decref(t->last_result);
    json_decref(t->lineage);
    lux_free(t->ckpt_label);
    lux_free(t->recorded);
    lux_free(t);
}

static void free_table(lux_sched_trial_t **trials, size_t n)
{
    for (size_t i = 0; i < n; i++)
        trial_free(trials[i]);
    lux_free(trials);
}

void lux_scheduler_destroy(lux_scheduler_t **s_p)
{
    if (s_p == NULL || *s_p == NULL)
        return;
    lux_scheduler_t *s = *s_p;
    if (s->ops && s->ops->fini)
        s->ops->fini(s);
    free_table(s->trials, s->ntrials);
    json_decref(s->decisions);
    json_decref(s->journal);
    lux_free(s->metric);
    lux_free(s->time_attr);
    lux_free(s);
    *s_p = NULL;
}

lux_scheduler_type_t lux_scheduler_type(const lux_scheduler_t *s)
{
    return s->p.type;
}

/* The index of the first live trial with id >= trial. */
static size_t lower_bound(lux_sched_trial_t *const *trials, size_t n, int trial)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (trials[mid]->id < trial)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

lux_sched_trial_t *lux_sched_trial(const lux_scheduler_t *s, int trial)
{
    size_t i = lower_bound(s->trials, s->ntrials, trial);
    return i < s->ntrials && s->trials[i]->id == trial ? s->trials[i] : NULL;
}

/* Inserts a new record for trial (not known yet) into a sorted table. */
static lux_sched_trial_t *table_insert(lux_sched_trial_t ***trials, size_t *n, size_t *cap,
                                       int trial)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        lux_sched_trial_t **a = lux_realloc(*trials, c * sizeof *a);
        if (a == NULL)
            return NULL;
        *trials = a;
        *cap = c;
    }
    lux_sched_trial_t *t = lux_calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->id = trial;
    size_t i = lower_bound(*trials, *n, trial);
    memmove(&(*trials)[i + 1], &(*trials)[i], (*n - i) * sizeof **trials);
    (*trials)[i] = t;
    (*n)++;
    return t;
}

/* Drops a live trial's record: nothing of a finished trial stays in memory
 * but what the algorithm needs (PBT: the largest finished train time). */
static void forget(lux_scheduler_t *s, int trial)
{
    size_t i = lower_bound(s->trials, s->ntrials, trial);
    if (i >= s->ntrials || s->trials[i]->id != trial)
        return;
    lux_sched_trial_t *t = s->trials[i];
    if (t->last_train_time > s->finished_max_train_time)
        s->finished_max_train_time = t->last_train_time;
    trial_free(t);
    memmove(&s->trials[i], &s->trials[i + 1], (s->ntrials - i - 1) * sizeof *s->trials);
    s->ntrials--;
}

int lux_sched_decide(lux_scheduler_t *s, lux_decision_kind_t kind, int trial, json_t *extra,
                     const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *d = json_object();
    int rc = d == NULL;
    rc |= json_object_set_new(d, "decision", json_string(lux_decision_name(kind)));
    rc |= json_object_set_new(d, "trial", json_integer(trial));
    rc |= json_object_set_new(d, "message", json_string(msg));
    if (extra != NULL && d != NULL)
        rc |= json_object_update(d, extra);
    json_decref(extra);
    if (rc != 0 || json_array_append_new(s->decisions, d) != 0) {
        json_decref(d);
        return LUX_ENOMEM;
    }
    return 0;
}

int lux_sched_journal(lux_scheduler_t *s, json_t *entry)
{
    if (entry == NULL)
        return LUX_ENOMEM;
    return json_array_append_new(s->journal, entry) == 0 ? 0 : LUX_ENOMEM;
}

bool lux_sched_number(const json_t *result, const char *key, double *out)
{
    const json_t *v = json_object_get(result, key);
    if (!json_is_number(v))
        return false;
    double d = json_number_value(v);
    if (!isfinite(d))
        return false;
    *out = d;
    return true;
}

static int by_order(const void *a, const void *b, void *ctx)
{
    const lux_scheduler_t *s = ctx;
    long oa = lux_sched_trial(s, *(const int *)a)->order,
         ob = lux_sched_trial(s, *(const int *)b)->order;
    return oa < ob ? -1 : oa > ob;
}

size_t lux_sched_trials_in_order(const lux_scheduler_t *s, int *ids)
{
    size_t n = s->ntrials;
    int sorted = 1;
    for (size_t i = 0; i < n; i++) {
        ids[i] = s->trials[i]->id;
        sorted = sorted && (i == 0 || s->trials[i - 1]->order < s->trials[i]->order);
    }
    if (!sorted)
        qsort_r(ids, n, sizeof *ids, by_order, (void *)s);
    return n;
}

int lux_scheduler_on_trial_add(lux_scheduler_t *s, int trial, json_t *config)
{
    if (trial < 0 || (config != NULL && !json_is_object(config)))
        return LUX_EINVAL;
    if (lux_sched_trial(s, trial) != NULL)
        return LUX_EEXIST;
    json_t *cfg = config ? json_deep_copy(config) : json_object();
    json_t *lineage = json_array();
    lux_sched_trial_t *t =
        cfg && lineage ? table_insert(&s->trials, &s->ntrials, &s->cap, trial) : NULL;
    if (t == NULL) {
        json_decref(cfg);
        json_decref(lineage);
        return LUX_ENOMEM;
    }
    t->config = cfg;
    t->lineage = lineage;
    t->status = LUX_TRIAL_PENDING;
    t->order = s->next_order++;
    int rc = s->ops->on_add ? s->ops->on_add(s, trial, config) : 0;
    if (rc != 0) {
        forget(s, trial);
        s->next_order--;
        return rc;
    }
    if (config != NULL && !json_equal(config, t->config)) {
        json_t *copy = json_deep_copy(t->config);
        if (copy == NULL)
            return LUX_ENOMEM;
        json_object_clear(config);
        json_object_update(config, copy);
        json_decref(copy);
    }
    return 0;
}

int lux_scheduler_on_trial_start(lux_scheduler_t *s, int trial)
{
    lux_sched_trial_t *t = lux_sched_trial(s, trial);
    if (t == NULL)
        return LUX_ENOENT;
    t->status = LUX_TRIAL_RUNNING;
    return 0;
}

int lux_scheduler_on_trial_result(lux_scheduler_t *s, int trial, const json_t *result,
                                  lux_sched_action_t *action, char *err, size_t errlen)
{
    *action = LUX_SCHED_CONTINUE;
    lux_sched_trial_t *t = lux_sched_trial(s, trial);
    if (t == NULL) {
        if (err && errlen)
            snprintf(err, errlen, "trial %d was never added to the scheduler", trial);
        return LUX_ENOENT;
    }
    if (!json_is_object(result))
        return LUX_EINVAL;
    t->status = LUX_TRIAL_RUNNING;
    int rc = s->ops->on_result ? s->ops->on_result(s, trial, result, action, err, errlen) : 0;
    if (rc != 0)
        return rc;
    t = lux_sched_trial(s, trial);
    if (*action == LUX_SCHED_PAUSE)
        t->status = LUX_TRIAL_PAUSED;
    else if (*action == LUX_SCHED_STOP)
        t->status = LUX_TRIAL_TERMINATED;
    return 0;
}

int lux_scheduler_on_trial_complete(lux_scheduler_t *s, int trial, const json_t *result)
{
    lux_sched_trial_t *t = lux_sched_trial(s, trial);
    if (t == NULL)
        return LUX_ENOENT;
    int rc = 0;
    if (t->status != LUX_TRIAL_TERMINATED && t->status != LUX_TRIAL_ERROR &&
        s->ops->on_complete != NULL)
        rc = s->ops->on_complete(s, trial, result);
    forget(s, trial);
    return rc;
}

int lux_scheduler_on_trial_error(lux_scheduler_t *s, int trial)
{
    if (lux_sched_trial(s, trial) == NULL)
        return LUX_ENOENT;
    int rc = s->ops->on_remove ? s->ops->on_remove(s, trial) : 0;
    forget(s, trial);
    return rc;
}

int lux_scheduler_on_trial_remove(lux_scheduler_t *s, int trial)
{
    if (lux_sched_trial(s, trial) == NULL)
        return LUX_ENOENT;
    int rc = s->ops->on_remove ? s->ops->on_remove(s, trial) : 0;
    forget(s, trial);
    return rc;
}

int lux_scheduler_on_checkpoint(lux_scheduler_t *s, int trial, double time, const char *label)
{
    lux_sched_trial_t *t = lux_sched_trial(s, trial);
    if (t == NULL)
        return LUX_ENOENT;
    char *copy = lux_strdup(label ? label : "");
    if (copy == NULL)
        return LUX_ENOMEM;
    lux_free(t->ckpt_label);
    t->ckpt_label = copy;
    t->ckpt_time = time;
    t->ckpt = LUX_CKPT_HELD;
    return 0;
}

int lux_sched_fifo_choose(lux_scheduler_t *s, const int *candidates,
                          const lux_trial_status_t *status, size_t n, int *chosen)
{
    (void)s;
    *chosen = -1;
    for (size_t i = 0; i < n; i++)
        if (status[i] == LUX_TRIAL_PENDING) {
            *chosen = candidates[i];
            return 0;
        }
    for (size_t i = 0; i < n; i++)
        if (status[i] == LUX_TRIAL_PAUSED) {
            *chosen = candidates[i];
            return 0;
        }
    return 0;
}

int lux_scheduler_choose_trial_to_run(lux_scheduler_t *s, const int *candidates,
                                      const lux_trial_status_t *status, size_t n, int *chosen)
{
    *chosen = -1;
    if (n > 0 && (candidates == NULL || status == NULL))
        return LUX_EINVAL;
    if (s->ops->choose != NULL)
        return s->ops->choose(s, candidates, status, n, chosen);
    return lux_sched_fifo_choose(s, candidates, status, n, chosen);
}

const json_t *lux_scheduler_trial_config(const lux_scheduler_t *s, int trial)
{
    lux_sched_trial_t *t = lux_sched_trial(s, trial);
    return t ? t->config : NULL;
}

int lux_scheduler_trial_status(const lux_scheduler_t *s, int trial, lux_trial_status_t *status)
{
    lux_sched_trial_t *t = lux_sched_trial(s, trial);
    if (t == NULL)
        return LUX_ENOENT;
    *status = t->status;
    return 0;
}

const json_t *lux_scheduler_trial_lineage(const lux_scheduler_t *s, int trial)
{
    lux_sched_trial_t *t = lux_sched_trial(s, trial);
    return t ? t->lineage : NULL;
}

static json_t *take(json_t **queue)
{
    json_t *fresh = json_array();
    if (fresh == NULL)
        return NULL;
    json_t *out = *queue;
    *queue = fresh;
    return out;
}

json_t *lux_scheduler_take_decisions(lux_scheduler_t *s)
{
    return take(&s->decisions);
}

json_t *lux_scheduler_take_journal(lux_scheduler_t *s)
{
    return take(&s->journal);
}

json_t *lux_scheduler_stats(const lux_scheduler_t *s)
{
    if (s->ops->stats != NULL)
        return s->ops->stats(s);
    return json_object();
}

/* ---- state ---------------------------------------------------------------------- */

#define STATE_FORMAT 2

static json_t *trial_state(const lux_sched_trial_t *t)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    int rc = 0;
    rc |= json_object_set_new(o, "id", json_integer(t->id));
    rc |= json_object_set_new(o, "status", json_integer(t->status));
    rc |= json_object_set_new(o, "order", json_integer(t->order));
    rc |= json_object_set(o, "config", t->config);
    rc |= json_object_set_new(o, "bracket", json_integer(t->bracket));
    if (t->recorded != NULL) {
        json_t *rec = json_array();
        for (size_t j = 0; rec != NULL && j < t->nrecorded; j++)
            if (t->recorded[j])
                rc |= json_array_append_new(rec, json_integer((json_int_t)j));
        rc |= json_object_set_new(o, "recorded", rec);
    }
    rc |= json_object_set_new(o, "has_score", json_boolean(t->has_score));
    rc |= json_object_set_new(o, "last_score", json_real(t->has_score ? t->last_score : 0));
    rc |= json_object_set_new(o, "last_perturbation_time", json_real(t->last_perturbation_time));
    rc |= json_object_set_new(o, "last_train_time", json_real(t->last_train_time));
    rc |= json_object_set(o, "last_result", t->last_result ? t->last_result : json_null());
    rc |= json_object_set_new(o, "ckpt", json_integer(t->ckpt));
    rc |= json_object_set_new(o, "ckpt_label",
                              t->ckpt_label ? json_string(t->ckpt_label) : json_null());
    rc |= json_object_set_new(o, "ckpt_time", json_real(t->ckpt_time));
    rc |= json_object_set(o, "lineage", t->lineage);
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *lux_scheduler_state(const lux_scheduler_t *s)
{
    json_t *o = json_object(), *trials = json_array();
    int rc = o == NULL || trials == NULL;
    if (!rc) {
        rc |= json_object_set_new(o, "format", json_integer(STATE_FORMAT));
        rc |= json_object_set_new(o, "type", json_string(type_names[s->p.type]));
        rc |= json_object_set_new(o, "rng", lux_rng_to_json(&s->rng));
        rc |= json_object_set_new(o, "next_order", json_integer(s->next_order));
        if (isfinite(s->finished_max_train_time))
            rc |= json_object_set_new(o, "finished_max_train_time",
                                      json_real(s->finished_max_train_time));
        for (size_t i = 0; i < s->ntrials && !rc; i++)
            rc |= json_array_append_new(trials, trial_state(s->trials[i]));
        rc |= json_object_set(o, "trials", trials);
        if (!rc && s->ops->state != NULL)
            rc |= s->ops->state(s, o);
    }
    json_decref(trials);
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static double num(const json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

/* Fills a new record from its saved form. LUX_EINVAL or LUX_ENOMEM. */
static int trial_load(lux_sched_trial_t *t, const json_t *tj)
{
    const json_t *cfg = json_object_get(tj, "config");
    if (!json_is_object(cfg))
        return LUX_EINVAL;
    t->status = (lux_trial_status_t)json_integer_value(json_object_get(tj, "status"));
    t->order = (long)json_integer_value(json_object_get(tj, "order"));
    t->config = json_deep_copy(cfg);
    t->bracket = (int)json_integer_value(json_object_get(tj, "bracket"));
    t->has_score = json_is_true(json_object_get(tj, "has_score"));
    t->last_score = num(tj, "last_score");
    t->last_perturbation_time = num(tj, "last_perturbation_time");
    t->last_train_time = num(tj, "last_train_time");
    const json_t *lr = json_object_get(tj, "last_result");
    t->last_result = json_is_object(lr) ? json_deep_copy(lr) : NULL;
    t->ckpt = (lux_ckpt_state_t)json_integer_value(json_object_get(tj, "ckpt"));
    const char *label = json_string_value(json_object_get(tj, "ckpt_label"));
    t->ckpt_label = label ? lux_strdup(label) : NULL;
    t->ckpt_time = num(tj, "ckpt_time");
    const json_t *lin = json_object_get(tj, "lineage");
    t->lineage = json_is_array(lin) ? json_deep_copy(lin) : json_array();
    const json_t *rec = json_object_get(tj, "recorded");
    if (json_is_array(rec)) {
        size_t k;
        const json_t *j;
        json_array_foreach(rec, k, j)
        {
            json_int_t v = json_integer_value(j);
            if (!json_is_integer(j) || v < 0 || v > 4096)
                return LUX_EINVAL;
            if ((size_t)v >= t->nrecorded) {
                unsigned char *r = lux_realloc(t->recorded, (size_t)v + 1);
                if (r == NULL)
                    return LUX_ENOMEM;
                memset(r + t->nrecorded, 0, (size_t)v + 1 - t->nrecorded);
                t->recorded = r;
                t->nrecorded = (size_t)v + 1;
            }
            t->recorded[v] = 1;
        }
    }
    if (t->config == NULL || t->lineage == NULL || (label && !t->ckpt_label))
        return LUX_ENOMEM;
    return 0;
}

int lux_scheduler_restore(lux_scheduler_t *s, const json_t *state, const json_t *journal, char *err,
                          size_t errlen)
{
    const char *type = json_string_value(json_object_get(state, "type"));
    if (type == NULL || strcmp(type, type_names[s->p.type]) != 0) {
        if (err && errlen)
            snprintf(err, errlen, "scheduler state is for '%s', this scheduler is %s",
                     type ? type : "?", type_names[s->p.type]);
        return LUX_EINVAL;
    }
    json_int_t format = json_integer_value(json_object_get(state, "format"));
    if (format != STATE_FORMAT) {
        if (err && errlen)
            snprintf(err, errlen,
                     "scheduler state has format %lld but this lux reads format %d (it was "
                     "saved by another version of lux); resume it with that version or start "
                     "the experiment anew",
                     (long long)format, STATE_FORMAT);
        return LUX_EINVAL;
    }
    lux_rng_t rng;
    const json_t *trials = json_object_get(state, "trials");
    if (lux_rng_from_json(&rng, json_object_get(state, "rng")) != 0 || !json_is_array(trials) ||
        (journal != NULL && !json_is_array(journal))) {
        if (err && errlen)
            snprintf(err, errlen, "scheduler state is malformed (rng, trials or journal)");
        return LUX_EINVAL;
    }
    /* Build the new table aside so that a bad state leaves s unchanged. */
    lux_sched_trial_t **table = NULL;
    size_t n = 0, cap = 0;
    size_t i;
    json_t *tj;
    int rc = 0;
    json_array_foreach(trials, i, tj)
    {
        json_int_t id = json_integer_value(json_object_get(tj, "id"));
        if (!json_is_integer(json_object_get(tj, "id")) || id < 0 || id > INT32_MAX) {
            rc = LUX_EINVAL;
            break;
        }
        size_t at = lower_bound(table, n, (int)id);
        if (at < n && table[at]->id == (int)id) {
            rc = LUX_EINVAL; /* twice */
            break;
        }
        lux_sched_trial_t *t = table_insert(&table, &n, &cap, (int)id);
        if (t == NULL) {
            rc = LUX_ENOMEM;
            break;
        }
        if ((rc = trial_load(t, tj)) != 0)
            break;
    }
    if (rc != 0) {
        free_table(table, n);
        if (rc == LUX_EINVAL && err && errlen)
            snprintf(err, errlen, "scheduler state is malformed (trial %zu)", i);
        return rc;
    }
    /* The implementation validates and swaps in its part only on success;
     * it reads the trial table being restored. */
    lux_sched_trial_t **old = s->trials;
    size_t oldn = s->ntrials, oldcap = s->cap;
    s->trials = table;
    s->ntrials = n;
    s->cap = cap;
    if (s->ops->restore != NULL && (rc = s->ops->restore(s, state, journal, err, errlen)) != 0) {
        s->trials = old;
        s->ntrials = oldn;
        s->cap = oldcap;
        free_table(table, n);
        return rc;
    }
    free_table(old, oldn);
    s->next_order = (long)json_integer_value(json_object_get(state, "next_order"));
    const json_t *fm = json_object_get(state, "finished_max_train_time");
    s->finished_max_train_time = json_is_number(fm) ? json_number_value(fm) : -INFINITY;
    s->rng = rng;
    return 0;
}
