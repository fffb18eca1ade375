/*
 * PBT as Ray's PopulationBasedTraining (pbt.py), asynchronous or synch.
 *
 * A trial is "ready" when time_attr has advanced perturbation_interval
 * since its last perturbation (and burn_in_period has passed). Then its
 * score (mode * metric) is recorded and the unfinished trials with a score
 * are split into quantiles: sorted ascending (ties in add order), k =
 * ceil(n * quantile_fraction) capped at floor(n/2); the lower k exploit, the
 * upper k are checkpointed. A lower trial clones a uniformly drawn upper
 * trial, but only one that holds a checkpoint (requested by this scheduler
 * or reported by the runner through on_checkpoint); it takes the donor's
 * explored config (Ray's _explore applied to the donor's config, not its
 * own), the donor's perturbation and train times, and a lineage entry.
 *
 * _explore: a plain list shifts to a neighbour (clamped at the ends, "noop")
 * or, with resample_probability or when the value is not in the list, is
 * redrawn; every other domain is redrawn with resample_probability, else
 * multiplied by a factor drawn from perturbation_factors; a value that was
 * an integer stays an integer (truncated, like Python's int()). Continuous
 * perturbations are not clipped to the domain's bounds, as in Ray: a
 * loguniform(1e-4, 1e-2) learning rate may drift outside [1e-4, 1e-2].
 * A non-numeric value under a non-list domain (e.g. a string from choice)
 * cannot be multiplied; it is redrawn (Ray would raise).
 *
 * Deviation: with quantile_fraction 0 no trial is in either quantile (Ray's
 * trials[-0:] slice puts every trial in the upper one).
 */
#define LUX_SCHEDULER_INTERNAL
#include "scheduler.h"

#include "alloc.h"
#include "error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double next_sync;
    long num_checkpoints, num_perturbations;
} pbt_t;

static int pbt_init(lux_scheduler_t *s, char *err, size_t errlen)
{
    pbt_t *p = lux_calloc(1, sizeof *p);
    if (p == NULL)
        return LUX_ENOMEM;
    p->next_sync = s->p.perturbation_interval > s->p.burn_in_period ? s->p.perturbation_interval
                                                                    : s->p.burn_in_period;
    s->impl = p;
    return 0;
}

static void pbt_fini(lux_scheduler_t *s)
{
    lux_free(s->impl);
    s->impl = NULL;
}

static int pbt_on_add(lux_scheduler_t *s, int trial, json_t *config)
{
    lux_sched_trial_t *t = lux_sched_trial(s, trial);
    const lux_space_t *m = s->p.hyperparam_mutations;
    for (size_t i = 0; i < lux_space_num_variables(m); i++) {
        const lux_domain_t *d = lux_space_variable(m, i);
        if (lux_space_get_path(t->config, d->path) != NULL)
            continue;
        json_t *v = lux_domain_sample(d, &s->rng);
        if (v == NULL)
            return LUX_ENOMEM;
        int rc = lux_space_set_path(t->config, d->path, v);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static bool finished(const lux_sched_trial_t *t)
{
    return t->status == LUX_TRIAL_TERMINATED || t->status == LUX_TRIAL_ERROR;
}

/* Fills lower[] and upper[] (capacity s->ntrials each). */
static void quantiles(const lux_scheduler_t *s, int *lower, size_t *nl, int *upper, size_t *nu)
{
    int *ids = lux_malloc((s->ntrials ? s->ntrials : 1) * sizeof *ids);
    *nl = *nu = 0;
    if (ids == NULL)
        return;
    size_t n = lux_sched_trials_in_order(s, ids), m = 0;
    for (size_t i = 0; i < n; i++) {
        const lux_sched_trial_t *t = lux_sched_trial(s, ids[i]);
        if (t->has_score && !finished(t))
            ids[m++] = ids[i];
    }
    /* Stable insertion sort by score, ascending. */
    for (size_t i = 1; i < m; i++) {
        int x = ids[i];
        size_t j = i;
        while (j > 0 &&
               lux_sched_trial(s, ids[j - 1])->last_score > lux_sched_trial(s, x)->last_score) {
            ids[j] = ids[j - 1];
            j--;
        }
        ids[j] = x;
    }
    if (m > 1) {
        size_t k = (size_t)ceil((double)m * s->p.quantile_fraction);
        if ((double)k > (double)m / 2)
            k = m / 2;
        for (size_t i = 0; i < k; i++) {
            lower[i] = ids[i];
            upper[i] = ids[m - k + i];
        }
        *nl = *nu = k;
    }
    lux_free(ids);
}

static bool contains(const int *a, size_t n, int x)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] == x)
            return true;
    return false;
}

static bool value_equal(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    return json_equal(a, b);
}

static char *dump(const json_t *v)
{
    return v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
}

/* Ray's _explore over every mutation, on a copy of `config`. Returns the new
 * config and, in *ops, {path: "old --- (op) --> new"}. */
static json_t *explore(lux_scheduler_t *s, const json_t *config, json_t **ops)
{
    const lux_space_t *m = s->p.hyperparam_mutations;
    double p = s->p.resample_probability;
    json_t *out = json_deep_copy(config);
    *ops = json_object();
    if (out == NULL || *ops == NULL)
        goto fail;
    for (size_t i = 0; i < lux_space_num_variables(m); i++) {
        const lux_domain_t *d = lux_space_variable(m, i);
        const json_t *cur = lux_space_get_path(config, d->path);
        json_t *nv = NULL;
        char op[64];
        if (d->kind == LUX_DOMAIN_LIST) {
            size_t n = json_array_size(d->values), idx = n;
            for (size_t j = 0; cur && j < n; j++)
                if (value_equal(json_array_get(d->values, j), cur)) {
                    idx = j;
                    break;
                }
            if (lux_rng_uniform(&s->rng) < p || idx == n) {
                nv = json_deep_copy(
                    json_array_get(d->values, (size_t)lux_rng_int(&s->rng, 0, (int64_t)n)));
                snprintf(op, sizeof op, "resample");
            } else {
                int shift = lux_rng_int(&s->rng, 0, 2) == 0 ? -1 : 1;
                size_t ni = shift < 0 ? (idx > 0 ? idx - 1 : 0) : (idx + 1 < n ? idx + 1 : idx);
                nv = json_deep_copy(json_array_get(d->values, ni));
                snprintf(op, sizeof op, "shift %s%s", shift < 0 ? "left" : "right",
                         ni == idx ? " (noop)" : "");
            }
        } else {
            if (lux_rng_uniform(&s->rng) < p || !json_is_number(cur)) {
                nv = lux_domain_sample(d, &s->rng);
                snprintf(op, sizeof op, "%s",
                         json_is_number(cur) || cur == NULL ? "resample"
                                                            : "resample (not a number)");
            } else {
                size_t f = (size_t)lux_rng_int(&s->rng, 0, (int64_t)s->p.num_perturbation_factors);
                double factor = s->p.perturbation_factors[f];
                nv = json_real(json_number_value(cur) * factor);
                snprintf(op, sizeof op, "* %g", factor);
            }
            if (json_is_integer(cur) && json_is_number(nv)) {
                double x = trunc(json_number_value(nv));
                json_decref(nv);
                nv = json_integer((json_int_t)x);
            }
        }
        if (nv == NULL)
            goto fail;
        char *a = dump(cur), *b = dump(nv);
        char line[512];
        snprintf(line, sizeof line, "%s --- (%s) --> %s", a ? a : "null", op, b ? b : "?");
        free(a);
        free(b);
        if (json_object_set_new(*ops, d->path, json_string(line)) != 0 ||
            lux_space_set_path(out, d->path, nv) != 0)
            goto fail;
    }
    return out;
fail:
    json_decref(out);
    json_decref(*ops);
    *ops = NULL;
    return NULL;
}

static int exploit(lux_scheduler_t *s, int trial, int donor)
{
    pbt_t *pb = s->impl;
    lux_sched_trial_t *t = lux_sched_trial(s, trial), *d = lux_sched_trial(s, donor);
    json_t *ops = NULL;
    json_t *new_config = explore(s, d->config, &ops);
    if (new_config == NULL)
        return LUX_ENOMEM;
    int mode = s->p.mode;
    json_t *extra = json_pack(
        "{s:i,s:o,s:O,s:O,s:o,s:f,s:f,s:f,s:f}", "donor", donor, "donor_checkpoint",
        d->ckpt == LUX_CKPT_HELD && d->ckpt_label ? json_string(d->ckpt_label) : json_null(),
        "old_config", t->config, "new_config", new_config, "operations", ops, "score",
        mode * t->last_score, "donor_score", mode * d->last_score, "time", t->last_train_time,
        "donor_time", d->last_train_time);
    if (extra == NULL) {
        json_decref(new_config);
        return LUX_ENOMEM;
    }
    char *ops_text = dump(ops);
    int rc = lux_sched_decide(s, LUX_DECISION_EXPLOIT, trial, extra,
                              "EXPLOIT trial %d (%s=%g) clones trial %d (%s=%g): %s", trial,
                              s->p.metric, mode * t->last_score, donor, s->p.metric,
                              mode * d->last_score, ops_text ? ops_text : "");
    free(ops_text);
    json_t *entry =
        json_pack("{s:f,s:i,s:f,s:O,s:O}", "time", t->last_train_time, "donor", donor, "donor_time",
                  d->last_train_time, "old_config", t->config, "new_config", new_config);
    if (rc != 0 || entry == NULL || json_array_append_new(t->lineage, entry) != 0) {
        json_decref(new_config);
        return LUX_ENOMEM;
    }
    json_decref(t->config);
    t->config = new_config;
    t->last_perturbation_time = d->last_perturbation_time;
    t->last_train_time = d->last_train_time;
    t->status = LUX_TRIAL_PAUSED;
    pb->num_perturbations++;
    return 0;
}

/* Ray's _checkpoint_or_exploit. Sets *exploited when the trial was cloned. */
static int checkpoint_or_exploit(lux_scheduler_t *s, int trial, const int *upper, size_t nu,
                                 const int *lower, size_t nl, bool *exploited)
{
    pbt_t *pb = s->impl;
    lux_sched_trial_t *t = lux_sched_trial(s, trial);
    *exploited = false;
    int rc;
    if (contains(upper, nu, trial)) {
        if (t->ckpt != LUX_CKPT_HELD || t->ckpt_time < t->last_train_time) {
            t->ckpt = LUX_CKPT_REQUESTED;
            lux_free(t->ckpt_label);
            t->ckpt_label = NULL;
        }
        pb->num_checkpoints++;
        rc = lux_sched_decide(s, LUX_DECISION_CHECKPOINT, trial,
                              json_pack("{s:f}", "time", t->last_train_time),
                              "CHECKPOINT trial %d (upper quantile, %s=%g at t=%g)", trial,
                              s->p.metric, s->p.mode * t->last_score, t->last_train_time);
        if (rc != 0)
            return rc;
    } else {
        t->ckpt = LUX_CKPT_NONE;
        lux_free(t->ckpt_label);
        t->ckpt_label = NULL;
    }
    if (!contains(lower, nl, trial) || nu == 0)
        return 0;
    int donor = upper[lux_rng_int(&s->rng, 0, (int64_t)nu)];
    if (lux_sched_trial(s, donor)->ckpt == LUX_CKPT_NONE)
        return 0; /* Ray: "no checkpoint for trial X, skip exploit" */
    *exploited = true;
    return exploit(s, trial, donor);
}

static int pbt_on_result(lux_scheduler_t *s, int trial, const json_t *result,
                         lux_sched_action_t *action, char *err, size_t errlen)
{
    pbt_t *pb = s->impl;
    lux_sched_trial_t *t = lux_sched_trial(s, trial);
    double time, metric;
    *action = LUX_SCHED_CONTINUE;
    const char *missing = !lux_sched_number(result, s->p.time_attr, &time)  ? s->p.time_attr
                          : !lux_sched_number(result, s->p.metric, &metric) ? s->p.metric
                                                                            : NULL;
    if (missing != NULL) {
        if (err && errlen)
            snprintf(err, errlen,
                     "pbt needs '%s' in every result of trial %d; report it from the trainable "
                     "or change %s",
                     missing, trial, missing == s->p.metric ? "metric" : "time_attr");
        return LUX_EINVAL;
    }
    if (time < s->p.burn_in_period)
        return 0;
    if (time - t->last_perturbation_time < s->p.perturbation_interval)
        return 0;
    t->last_score = s->p.mode * metric;
    t->has_score = true;
    t->last_train_time = time;
    json_decref(t->last_result);
    t->last_result = json_deep_copy(result);
    if (t->last_result == NULL)
        return LUX_ENOMEM;

    size_t cap = s->ntrials ? s->ntrials : 1, nl, nu;
    int *lower = lux_malloc(cap * sizeof *lower), *upper = lux_malloc(cap * sizeof *upper);
    int *ids = lux_malloc(cap * sizeof *ids);
    int rc = 0;
    if (lower == NULL || upper == NULL || ids == NULL) {
        rc = LUX_ENOMEM;
        goto out;
    }
    size_t n = lux_sched_trials_in_order(s, ids);
    if (!s->p.synch) {
        t->last_perturbation_time = time;
        quantiles(s, lower, &nl, upper, &nu);
        bool waiting = false;
        for (size_t i = 0; i < n && !waiting; i++) {
            lux_trial_status_t st = lux_sched_trial(s, ids[i])->status;
            waiting = ids[i] != trial && (st == LUX_TRIAL_PENDING || st == LUX_TRIAL_PAUSED);
        }
        bool exploited;
        if ((rc = checkpoint_or_exploit(s, trial, upper, nu, lower, nl, &exploited)) != 0)
            goto out;
        if (exploited) {
            *action = LUX_SCHED_PAUSE;
        } else if (waiting) {
            *action = LUX_SCHED_PAUSE;
            rc = lux_sched_decide(s, LUX_DECISION_PAUSE, trial,
                                  json_pack("{s:s}", "reason", "pbt time-multiplexing"),
                                  "PAUSE trial %d so that a waiting trial can run", trial);
        }
        goto out;
    }
    /* synch: wait until every live trial reached the sync point. */
    bool behind = false;
    for (size_t i = 0; i < n && !behind; i++) {
        const lux_sched_trial_t *o = lux_sched_trial(s, ids[i]);
        behind = ids[i] != trial && !finished(o) && o->last_train_time < pb->next_sync;
    }
    *action = LUX_SCHED_PAUSE;
    if (behind) {
        rc = lux_sched_decide(s, LUX_DECISION_PAUSE, trial,
                              json_pack("{s:s}", "reason", "pbt synch barrier"),
                              "PAUSE trial %d at the synch point t=%g until every trial reaches "
                              "it",
                              trial, pb->next_sync);
        goto out;
    }
    quantiles(s, lower, &nl, upper, &nu);
    /* Upper quantile first (their checkpoints), then the middle, then the
     * lower quantile (exploits). */
    int *order = lux_malloc(cap * sizeof *order);
    if (order == NULL) {
        rc = LUX_ENOMEM;
        goto out;
    }
    size_t no = 0;
    for (size_t i = 0; i < nu; i++)
        order[no++] = upper[i];
    for (size_t i = 0; i < n; i++)
        if (!contains(upper, nu, ids[i]) && !contains(lower, nl, ids[i]))
            order[no++] = ids[i];
    for (size_t i = 0; i < nl; i++)
        order[no++] = lower[i];
    for (size_t i = 0; i < no && rc == 0; i++) {
        bool exploited;
        lux_sched_trial(s, order[i])->last_perturbation_time = time;
        rc = checkpoint_or_exploit(s, order[i], upper, nu, lower, nl, &exploited);
    }
    lux_free(order);
    /* Ray takes the largest last_train_time over all trials, finished ones
     * included (they are kept as one number). */
    double max_ltt = s->finished_max_train_time;
    for (size_t i = 0; i < n; i++)
        if (lux_sched_trial(s, ids[i])->last_train_time > max_ltt)
            max_ltt = lux_sched_trial(s, ids[i])->last_train_time;
    double next = pb->next_sync + s->p.perturbation_interval;
    pb->next_sync = next > max_ltt ? next : max_ltt;
out:
    lux_free(lower);
    lux_free(upper);
    lux_free(ids);
    return rc;
}

static int pbt_choose(lux_scheduler_t *s, const int *candidates, const lux_trial_status_t *status,
                      size_t n, int *chosen)
{
    pbt_t *pb = s->impl;
    double best = INFINITY;
    *chosen = -1;
    for (size_t i = 0; i < n; i++) {
        if (status[i] != LUX_TRIAL_PENDING && status[i] != LUX_TRIAL_PAUSED)
            continue;
        const lux_sched_trial_t *t = lux_sched_trial(s, candidates[i]);
        double ltt = t ? t->last_train_time : 0;
        if (s->p.synch && !(ltt < pb->next_sync))
            continue;
        if (ltt < best) {
            best = ltt;
            *chosen = candidates[i];
        }
    }
    return 0;
}

static int pbt_state(const lux_scheduler_t *s, json_t *obj)
{
    const pbt_t *p = s->impl;
    int rc = json_object_set_new(obj, "next_sync", json_real(p->next_sync));
    rc |= json_object_set_new(obj, "num_checkpoints", json_integer(p->num_checkpoints));
    rc |= json_object_set_new(obj, "num_perturbations", json_integer(p->num_perturbations));
    return rc ? LUX_ENOMEM : 0;
}

static int pbt_restore(lux_scheduler_t *s, const json_t *obj, const json_t *journal, char *err,
                       size_t errlen)
{
    pbt_t *p = s->impl;
    (void)journal; /* PBT journals nothing */
    if (!json_is_number(json_object_get(obj, "next_sync"))) {
        if (err && errlen)
            snprintf(err, errlen, "PBT scheduler state lacks next_sync");
        return LUX_EINVAL;
    }
    p->next_sync = json_number_value(json_object_get(obj, "next_sync"));
    p->num_checkpoints = (long)json_integer_value(json_object_get(obj, "num_checkpoints"));
    p->num_perturbations = (long)json_integer_value(json_object_get(obj, "num_perturbations"));
    return 0;
}

static json_t *pbt_stats(const lux_scheduler_t *s)
{
    const pbt_t *p = s->impl;
    return json_pack("{s:I,s:I}", "num_checkpoints", (json_int_t)p->num_checkpoints,
                     "num_perturbations", (json_int_t)p->num_perturbations);
}

/* PBT's keys in an experiment's `scheduler:` mapping. */
static const char *const config_keys[] = {"type",
                                          "time_attr",
                                          "perturbation_interval",
                                          "burn_in_period",
                                          "quantile_fraction",
                                          "resample_probability",
                                          "perturbation_factors",
                                          "hyperparam_mutations",
                                          "synch"};

const char *const *lux_sched_pbt_config_keys(size_t *n)
{
    *n = sizeof config_keys / sizeof config_keys[0];
    return config_keys;
}

const lux_sched_ops_t lux_sched_pbt_ops = {
    .init = pbt_init,
    .fini = pbt_fini,
    .on_add = pbt_on_add,
    .on_result = pbt_on_result,
    .choose = pbt_choose,
    .state = pbt_state,
    .restore = pbt_restore,
    .stats = pbt_stats,
};
