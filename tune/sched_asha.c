/*
 * ASHA as Ray's AsyncHyperBandScheduler: a stopping rule over rungs.
 *
 * Bracket s has int(log(max_t/grace)/log(rf) - s + 1) rungs at milestones
 * grace * rf^(k+s), kept in descending order as Ray keeps them. A result at
 * time t is checked against the highest milestone <= t that the trial has
 * not recorded yet: the cutoff is the (1 - 1/rf) percentile, numpy's
 * nanpercentile with linear interpolation, of every value recorded at that
 * rung so far (stopped trials included); the trial stops when its value is
 * below it, and its value is recorded either way. Values are stored as
 * mode * metric so that larger is better. A new trial joins a bracket drawn
 * from softmax(#rungs) with the scheduler's seeded RNG.
 *
 * Memory: a rung keeps its values sorted (a cutoff is then O(1), a record
 * O(n) moves), and which rungs a trial has recorded lives in the trial's
 * record, so a finished trial leaves only its values behind. Every recorded
 * value is also a journal entry [bracket, rung index, value]: the saved
 * state holds live trials only, and a resume rebuilds the rungs from the
 * journal.
 *
 * Rung numbers in decisions count from the lowest milestone (rung 0 is
 * grace_period * rf^s).
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
    double milestone;
    size_t n, cap;
    double *value; /* mode * metric, ascending */
} rung_t;

typedef struct {
    size_t nrungs;
    rung_t *rungs; /* descending milestones */
} bracket_t;

typedef struct {
    size_t nbrackets;
    bracket_t *brackets;
    long num_stopped;
} asha_t;

static void brackets_free(bracket_t *b, size_t n)
{
    for (size_t i = 0; b && i < n; i++) {
        for (size_t j = 0; j < b[i].nrungs; j++)
            lux_free(b[i].rungs[j].value);
        lux_free(b[i].rungs);
    }
    lux_free(b);
}

static bracket_t *brackets_build(const lux_scheduler_params_t *p, size_t *n)
{
    size_t nb = (size_t)p->brackets;
    bracket_t *b = lux_calloc(nb, sizeof *b);
    if (b == NULL)
        return NULL;
    for (size_t s = 0; s < nb; s++) {
        double r = log(p->max_t / p->grace_period) / log(p->reduction_factor) - (double)s + 1;
        long max_rungs = r > 0 ? (long)r : 0;
        b[s].nrungs = (size_t)max_rungs;
        b[s].rungs = max_rungs ? lux_calloc((size_t)max_rungs, sizeof(rung_t)) : NULL;
        if (max_rungs && b[s].rungs == NULL) {
            brackets_free(b, nb);
            return NULL;
        }
        for (long k = 0; k < max_rungs; k++)
            b[s].rungs[max_rungs - 1 - k].milestone =
                p->grace_period * pow(p->reduction_factor, (double)(k + (long)s));
    }
    *n = nb;
    return b;
}

static int asha_init(lux_scheduler_t *s, char *err, size_t errlen)
{
    asha_t *a = lux_calloc(1, sizeof *a);
    if (a == NULL)
        return LUX_ENOMEM;
    a->brackets = brackets_build(&s->p, &a->nbrackets);
    if (a->brackets == NULL) {
        lux_free(a);
        return LUX_ENOMEM;
    }
    s->impl = a;
    return 0;
}

static void asha_fini(lux_scheduler_t *s)
{
    asha_t *a = s->impl;
    if (a == NULL)
        return;
    brackets_free(a->brackets, a->nbrackets);
    lux_free(a);
    s->impl = NULL;
}

/* Inserts value keeping the rung sorted. */
static int rung_record(rung_t *r, double value)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        double *v = lux_realloc(r->value, cap * sizeof *v);
        if (v == NULL)
            return LUX_ENOMEM;
        r->value = v;
        r->cap = cap;
    }
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->value[mid] <= value)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(&r->value[lo + 1], &r->value[lo], (r->n - lo) * sizeof *r->value);
    r->value[lo] = value;
    r->n++;
    return 0;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* numpy.percentile(v[0..m-1], pct), method "linear", of sorted values. */
static double percentile_sorted(const double *v, size_t m, double pct)
{
    double rank = pct / 100.0 * (double)(m - 1);
    size_t lo = (size_t)floor(rank);
    double t = rank - (double)lo;
    double a = v[lo], b = v[lo + 1 < m ? lo + 1 : lo];
    /* numpy's _lerp: a + (b - a) * t, computed from b's side when t >= 0.5. */
    double d = b - a;
    return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/* numpy.nanpercentile(values, pct), method "linear". NaN when every value is
 * NaN. */
static double nanpercentile(const double *values, size_t n, double pct)
{
    double *v = lux_malloc((n ? n : 1) * sizeof *v);
    if (v == NULL)
        return NAN;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(values[i]))
            v[m++] = values[i];
    double out = NAN;
    if (m > 0) {
        qsort(v, m, sizeof *v, dbl_cmp);
        out = percentile_sorted(v, m, pct);
    }
    lux_free(v);
    return out;
}

static bool recorded(const lux_sched_trial_t *t, size_t j)
{
    return j < t->nrecorded && t->recorded[j];
}

double lux_sched_asha_cutoff(const double *values, size_t n, double reduction_factor)
{
    return nanpercentile(values, n, (1 - 1 / reduction_factor) * 100);
}

static int asha_on_add(lux_scheduler_t *s, int trial, json_t *config)
{
    asha_t *a = s->impl;
    lux_sched_trial_t *t = lux_sched_trial(s, trial);
    size_t idx = 0;
    if (a->nbrackets > 1) {
        double maxsize = 0, total = 0;
        for (size_t i = 0; i < a->nbrackets; i++)
            if ((double)a->brackets[i].nrungs > maxsize)
                maxsize = (double)a->brackets[i].nrungs;
        for (size_t i = 0; i < a->nbrackets; i++)
            total += exp((double)a->brackets[i].nrungs - maxsize);
        double u = lux_rng_uniform(&s->rng) * total, c = 0;
        idx = a->nbrackets - 1;
        for (size_t i = 0; i < a->nbrackets; i++) {
            c += exp((double)a->brackets[i].nrungs - maxsize);
            if (u < c) {
                idx = i;
                break;
            }
        }
        json_t *extra = json_pack("{s:i}", "bracket", (int)idx);
        int rc = lux_sched_decide(s, LUX_DECISION_BRACKET, trial, extra,
                                  "trial %d joins ASHA bracket %zu (%zu rungs)", trial, idx,
                                  a->brackets[idx].nrungs);
        if (rc != 0)
            return rc;
    }
    t->bracket = (int)idx;
    t->nrecorded = a->brackets[idx].nrungs;
    t->recorded = t->nrecorded ? lux_calloc(t->nrecorded, 1) : NULL;
    return t->nrecorded && t->recorded == NULL ? LUX_ENOMEM : 0;
}

/* Ray's _Bracket.on_result, with decisions. */
static int bracket_on_result(lux_scheduler_t *s, int trial, double time, double value,
                             lux_sched_action_t *action, bool report)
{
    asha_t *a = s->impl;
    lux_sched_trial_t *t = lux_sched_trial(s, trial);
    bracket_t *b = &a->brackets[t->bracket];
    int mode = s->p.mode;
    *action = LUX_SCHED_CONTINUE;
    for (size_t j = 0; j < b->nrungs; j++) {
        rung_t *r = &b->rungs[j];
        bool done = recorded(t, j);
        if (time >= r->milestone && done && !s->p.stop_last_trials)
            break;
        if (time < r->milestone || done)
            continue;
        int k = (int)(b->nrungs - 1 - j);
        double cutoff =
            r->n ? percentile_sorted(r->value, r->n, (1 - 1 / s->p.reduction_factor) * 100) : NAN;
        bool stop = r->n > 0 && value < cutoff;
        if (stop)
            *action = LUX_SCHED_STOP;
        int rc = rung_record(r, value);
        if (rc == 0)
            rc = lux_sched_journal(s, json_pack("[i,i,f]", t->bracket, (int)j, value));
        if (rc != 0)
            return rc;
        if (j < t->nrecorded)
            t->recorded[j] = 1;
        if (!report)
            break;
        double uv = mode * value, uc = mode * cutoff;
        json_t *cut = r->n > 1 && !isnan(cutoff) ? json_real(uc) : json_null();
        rc = lux_sched_decide(s, LUX_DECISION_RUNG, trial,
                              json_pack("{s:i,s:f,s:f,s:f,s:o}", "rung", k, "milestone",
                                        r->milestone, "time", time, "value", uv, "cutoff", cut),
                              "trial %d reached rung %d (t=%g >= %g) with %s=%g", trial, k, time,
                              r->milestone, s->p.metric, uv);
        if (rc == 0 && stop)
            rc =
                lux_sched_decide(s, LUX_DECISION_STOP, trial,
                                 json_pack("{s:i,s:f,s:f,s:f,s:f}", "rung", k, "milestone",
                                           r->milestone, "time", time, "value", uv, "cutoff", uc),
                                 "STOP trial %d at rung %d (t=%g): %s=%g is %s the cutoff %g",
                                 trial, k, time, s->p.metric, uv, mode > 0 ? "below" : "above", uc);
        return rc;
    }
    return 0;
}

static int asha_on_result(lux_scheduler_t *s, int trial, const json_t *result,
                          lux_sched_action_t *action, char *err, size_t errlen)
{
    asha_t *a = s->impl;
    lux_sched_trial_t *t = lux_sched_trial(s, trial);
    double time, metric;
    *action = LUX_SCHED_CONTINUE;
    if (t->bracket < 0 || !lux_sched_number(result, s->p.time_attr, &time) ||
        !lux_sched_number(result, s->p.metric, &metric))
        return 0; /* Ray ignores such results */
    int rc = 0;
    if (time >= s->p.max_t && s->p.stop_last_trials) {
        *action = LUX_SCHED_STOP;
        rc = lux_sched_decide(
            s, LUX_DECISION_STOP, trial,
            json_pack("{s:s,s:f,s:f}", "reason", "max_t", "time", time, "value", metric),
            "STOP trial %d: %s=%g reached max_t=%g", trial, s->p.time_attr, time, s->p.max_t);
    } else {
        rc = bracket_on_result(s, trial, time, s->p.mode * metric, action, true);
    }
    if (*action == LUX_SCHED_STOP)
        a->num_stopped++;
    return rc;
}

static int asha_on_complete(lux_scheduler_t *s, int trial, const json_t *result)
{
    lux_sched_trial_t *t = lux_sched_trial(s, trial);
    double time, metric;
    int rc = 0;
    if (t->bracket >= 0 && result != NULL && lux_sched_number(result, s->p.time_attr, &time) &&
        lux_sched_number(result, s->p.metric, &metric)) {
        lux_sched_action_t ignored;
        rc = bracket_on_result(s, trial, time, s->p.mode * metric, &ignored, false);
    }
    t->bracket = -1;
    return rc;
}

static int asha_on_remove(lux_scheduler_t *s, int trial)
{
    lux_sched_trial(s, trial)->bracket = -1;
    return 0;
}

/* The rungs' milestones and how many values each holds (the values
 * themselves are in the journal). */
static int asha_state(const lux_scheduler_t *s, json_t *obj)
{
    const asha_t *a = s->impl;
    json_t *bs = json_array();
    int rc = bs == NULL;
    for (size_t i = 0; !rc && i < a->nbrackets; i++) {
        json_t *rs = json_array();
        rc |= json_array_append_new(bs, rs);
        for (size_t j = 0; !rc && j < a->brackets[i].nrungs; j++) {
            const rung_t *r = &a->brackets[i].rungs[j];
            rc |= json_array_append_new(
                rs, json_pack("{s:f,s:I}", "milestone", r->milestone, "n", (json_int_t)r->n));
        }
    }
    rc |= json_object_set_new(obj, "brackets", bs);
    rc |= json_object_set_new(obj, "num_stopped", json_integer(a->num_stopped));
    return rc ? LUX_ENOMEM : 0;
}

/* Rebuilds the rungs from the journal's [bracket, rung, value] entries and
 * checks the restored trials' brackets against them. */
static int asha_restore(lux_scheduler_t *s, const json_t *obj, const json_t *journal, char *err,
                        size_t errlen)
{
    asha_t *a = s->impl;
    size_t nb = 0;
    bracket_t *b = brackets_build(&s->p, &nb);
    if (b == NULL)
        return LUX_ENOMEM;
    int rc = 0;
    size_t k;
    const json_t *e;
    json_array_foreach(journal, k, e)
    {
        const json_t *bj = json_array_get(e, 0), *rj = json_array_get(e, 1),
                     *vj = json_array_get(e, 2);
        json_int_t bi = json_integer_value(bj), ri = json_integer_value(rj);
        if (!json_is_integer(bj) || !json_is_integer(rj) || !json_is_number(vj) || bi < 0 ||
            (size_t)bi >= nb || ri < 0 || (size_t)ri >= b[bi].nrungs) {
            rc = LUX_EINVAL;
            break;
        }
        if ((rc = rung_record(&b[bi].rungs[ri], json_number_value(vj))) != 0)
            break;
    }
    /* The state's rungs: same milestones, and as many values as the journal
     * gave each. */
    const json_t *bs = json_object_get(obj, "brackets");
    if (rc == 0 && (!json_is_array(bs) || json_array_size(bs) != nb))
        rc = LUX_EINVAL;
    for (size_t i = 0; rc == 0 && i < nb; i++) {
        const json_t *rs = json_array_get(bs, i);
        if (!json_is_array(rs) || json_array_size(rs) != b[i].nrungs) {
            rc = LUX_EINVAL;
            break;
        }
        for (size_t j = 0; rc == 0 && j < b[i].nrungs; j++) {
            const json_t *r = json_array_get(rs, j);
            double m = json_number_value(json_object_get(r, "milestone"));
            if (fabs(m - b[i].rungs[j].milestone) > 1e-9 * fabs(m) ||
                json_integer_value(json_object_get(r, "n")) != (json_int_t)b[i].rungs[j].n)
                rc = LUX_EINVAL;
        }
    }
    for (size_t i = 0; rc == 0 && i < s->ntrials; i++) {
        lux_sched_trial_t *t = s->trials[i];
        if (t->bracket < 0)
            continue;
        if ((size_t)t->bracket >= nb || t->nrecorded > b[t->bracket].nrungs) {
            rc = LUX_EINVAL;
            break;
        }
        if (t->nrecorded < b[t->bracket].nrungs) {
            unsigned char *r = lux_realloc(t->recorded, b[t->bracket].nrungs);
            if (r == NULL) {
                rc = LUX_ENOMEM;
                break;
            }
            memset(r + t->nrecorded, 0, b[t->bracket].nrungs - t->nrecorded);
            t->recorded = r;
            t->nrecorded = b[t->bracket].nrungs;
        }
    }
    if (rc != 0) {
        brackets_free(b, nb);
        if (rc == LUX_EINVAL && err && errlen)
            snprintf(err, errlen,
                     "ASHA state or journal does not match this scheduler's brackets and rungs "
                     "(was it saved with other max_t, grace_period, reduction_factor or "
                     "brackets?)");
        return rc;
    }
    brackets_free(a->brackets, a->nbrackets);
    a->brackets = b;
    a->nbrackets = nb;
    a->num_stopped = (long)json_integer_value(json_object_get(obj, "num_stopped"));
    return 0;
}

static json_t *asha_stats(const lux_scheduler_t *s)
{
    const asha_t *a = s->impl;
    return json_pack("{s:I}", "num_stopped", (json_int_t)a->num_stopped);
}

/* ASHA's keys in an experiment's `scheduler:` mapping. */
static const char *const config_keys[] = {
    "type",     "time_attr",       "max_t", "grace_period", "reduction_factor",
    "brackets", "stop_last_trials"};

const char *const *lux_sched_asha_config_keys(size_t *n)
{
    *n = sizeof config_keys / sizeof config_keys[0];
    return config_keys;
}

const lux_sched_ops_t lux_sched_asha_ops = {
    .init = asha_init,
    .fini = asha_fini,
    .on_add = asha_on_add,
    .on_result = asha_on_result,
    .on_complete = asha_on_complete,
    .on_remove = asha_on_remove,
    .state = asha_state,
    .restore = asha_restore,
    .stats = asha_stats,
};
