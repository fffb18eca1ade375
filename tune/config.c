/*
 * Experiment config loading.
 *
 * Two passes: tune/yaml_tree.c parses the text into a document tree in which
 * every node keeps its 1-based line and column, then the loader walks the
 * tree section by section, checking keys before values so that a typo is
 * reported as a typo and not as a missing field. Every check writes one
 * "FILE:LINE:COL: what; what to do" message (lux_yaml_error) and returns
 * LUX_ECONFIG; the first error wins. Which keys each scheduler takes is
 * asked of the scheduler (lux_sched_asha_config_keys, ...).
 *
 * The loaded config owns every string and JSON value it holds; the
 * scheduler parameters point into it. The canonical JSON form is built from
 * the typed fields (not from the text), so two files that mean the same
 * thing compare equal.
 */
#include "config.h"

#include "alloc.h"
#include "error.h"
#include "plugin.h"
#include "suggest.h"
#include "trainable.h"
#include "yaml_tree.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- the loader -------------------------------------------------------------- */

typedef struct {
    const char *file;
    char *err;
    size_t errlen;
    const lux_config_options_t *opts;
    lux_config_t *cfg;
    bool from_json; /* a stored config: its name was checked when it was stored */
} ctx_t;

static int cfail(ctx_t *c, const lux_yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int cfail(ctx_t *c, const lux_yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = lux_yaml_errorv(c->err, c->errlen, c->file, n != NULL ? n->line : 0,
                             n != NULL ? n->column : 0, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

/* Rejects keys of `map` outside allowed[], suggesting the closest. */
static int check_keys(ctx_t *c, const lux_yaml_node_t *map, const char *section,
                      const char *const *allowed, size_t n)
{
    for (size_t i = 0; i < map->count; i++) {
        const char *k = map->keys[i]->scalar;
        bool ok = false;
        for (size_t j = 0; j < n && !ok; j++)
            ok = strcmp(k, allowed[j]) == 0;
        if (ok)
            continue;
        const char *near = lux_suggest(k, allowed, n);
        if (near != NULL)
            return cfail(c, map->keys[i], "unknown key '%s' in %s; did you mean '%s'?", k, section,
                         near);
        return cfail(c, map->keys[i], "unknown key '%s' in %s; see docs/config.md for the keys", k,
                     section);
    }
    return 0;
}

/* The value node of key, NULL when absent or null. */
static const lux_yaml_node_t *field(const lux_yaml_node_t *map, const char *key)
{
    const lux_yaml_node_t *v = lux_yaml_node_get(map, key);
    return v != NULL && lux_yaml_node_is_null(v) ? NULL : v;
}

static int get_string(ctx_t *c, const lux_yaml_node_t *map, const char *key, char **out)
{
    const lux_yaml_node_t *v = field(map, key);
    if (v == NULL)
        return 0;
    json_t *j = v->kind == LUX_YAML_SCALAR ? lux_yaml_node_to_json(v) : NULL;
    bool ok = json_is_string(j) && v->scalar[0] != '\0';
    json_decref(j);
    if (!ok)
        return cfail(c, v, "%s must be a non-empty string, not %s; write %s: some_name", key,
                     lux_yaml_node_type_name(v), key);
    lux_free(*out);
    *out = lux_strdup(v->scalar);
    return *out ? 0 : LUX_ENOMEM;
}

/* YAML 1.2's spellings of infinity and NaN, which lux reads as strings: a
 * config number must be finite. */
static bool inf_or_nan_text(const lux_yaml_node_t *v)
{
    static const char *const t[] = {".inf",  ".Inf",  ".INF",  "+.inf", "+.Inf",    "+.INF",
                                    "-.inf", "-.Inf", "-.INF", ".nan",  ".NaN",     ".NAN",
                                    "inf",   "-inf",  "nan",   "NaN",   "Infinity", "-Infinity"};
    if (v->kind != LUX_YAML_SCALAR || v->quoted)
        return false;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(v->scalar, t[i]) == 0)
            return true;
    return false;
}

static int get_number(ctx_t *c, const lux_yaml_node_t *map, const char *key, double *out)
{
    const lux_yaml_node_t *v = field(map, key);
    if (v == NULL)
        return 0;
    json_t *j = v->kind == LUX_YAML_SCALAR ? lux_yaml_node_to_json(v) : NULL;
    bool ok = json_is_number(j);
    double d = ok ? json_number_value(j) : 0;
    json_decref(j);
    if (!ok && inf_or_nan_text(v))
        return cfail(c, v, "%s must be a finite number, not %s; write e.g. %s: 10", key, v->scalar,
                     key);
    if (!ok)
        return cfail(c, v, "%s must be a number, not %s; write e.g. %s: 10", key,
                     lux_yaml_node_type_name(v), key);
    *out = d;
    return 0;
}

/* An integer key within [min, max]. A float with no fractional part (2e6)
 * is accepted; one beyond the range (1e30, 9223372036854775808) is reported
 * as out of range, not as "not an integer". */
static int get_int(ctx_t *c, const lux_yaml_node_t *map, const char *key, long min, long max,
                   long *out)
{
    const lux_yaml_node_t *v = field(map, key);
    if (v == NULL)
        return 0;
    json_t *j = v->kind == LUX_YAML_SCALAR ? lux_yaml_node_to_json(v) : NULL;
    bool ok = json_is_integer(j), whole = false;
    json_int_t x = ok ? json_integer_value(j) : 0;
    double r = json_is_real(j) ? json_real_value(j) : 0;
    /* 2e6 reads as a float; accept it when it is a whole number. */
    if (!ok && json_is_real(j) && r == floor(r)) {
        whole = true;
        if (fabs(r) < 9e15) {
            ok = true;
            x = (json_int_t)r;
        }
    }
    json_decref(j);
    if (whole && !ok)
        return cfail(c, v, "%s must be within [%ld, %ld], not %s; %s it", key, min, max, v->scalar,
                     r < 0 ? "raise" : "lower");
    if (!ok && inf_or_nan_text(v))
        return cfail(c, v, "%s must be an integer within [%ld, %ld], not %s; write e.g. %s: %ld",
                     key, min, max, v->scalar, key, min > 1 ? min : 1);
    if (!ok)
        return cfail(c, v, "%s must be an integer, not %s; write e.g. %s: %ld", key,
                     lux_yaml_node_type_name(v), key, min > 1 ? min : 1);
    if (x < min)
        return cfail(c, v, "%s must be >= %ld, not %lld; raise it", key, min, (long long)x);
    if (x > max)
        return cfail(c, v, "%s must be within [%ld, %ld], not %s; lower it", key, min, max,
                     v->scalar);
    *out = (long)x;
    return 0;
}

static int get_bool(ctx_t *c, const lux_yaml_node_t *map, const char *key, bool *out)
{
    const lux_yaml_node_t *v = field(map, key);
    if (v == NULL)
        return 0;
    json_t *j = v->kind == LUX_YAML_SCALAR ? lux_yaml_node_to_json(v) : NULL;
    bool ok = json_is_boolean(j);
    if (ok)
        *out = json_is_true(j);
    json_decref(j);
    if (!ok)
        return cfail(c, v, "%s must be true or false, not %s", key, lux_yaml_node_type_name(v));
    return 0;
}

static int enum_node(ctx_t *c, const lux_yaml_node_t *v, const char *key, const char *const *names,
                     size_t n, int *out)
{
    if (v->kind == LUX_YAML_SCALAR)
        for (size_t i = 0; i < n; i++)
            if (strcmp(v->scalar, names[i]) == 0) {
                *out = (int)i;
                return 0;
            }
    char list[256] = "";
    for (size_t i = 0; i < n; i++) {
        strncat(list, names[i], sizeof list - strlen(list) - 1);
        if (i + 1 < n)
            strncat(list, i + 2 == n ? " or " : ", ", sizeof list - strlen(list) - 1);
    }
    const char *near = v->kind == LUX_YAML_SCALAR ? lux_suggest(v->scalar, names, n) : NULL;
    if (near != NULL)
        return cfail(c, v, "unknown %s '%s'; did you mean '%s'? (one of %s)", key, v->scalar, near,
                     list);
    return cfail(c, v, "%s must be one of %s, not %s%s%s; write e.g. %s: %s", key, list,
                 v->kind == LUX_YAML_SCALAR ? "'" : "",
                 v->kind == LUX_YAML_SCALAR ? v->scalar : lux_yaml_node_type_name(v),
                 v->kind == LUX_YAML_SCALAR ? "'" : "", key, names[0]);
}

static int get_enum(ctx_t *c, const lux_yaml_node_t *map, const char *key, const char *const *names,
                    size_t n, int *out)
{
    const lux_yaml_node_t *v = field(map, key);
    return v == NULL ? 0 : enum_node(c, v, key, names, n, out);
}

static int need_mapping(ctx_t *c, const lux_yaml_node_t *v, const char *key, const char *example)
{
    if (v->kind != LUX_YAML_MAPPING)
        return cfail(c, v, "%s must be a mapping, not %s; write e.g. %s", key,
                     lux_yaml_node_type_name(v), example);
    return 0;
}

static const char *const top_keys[] = {
    "name",
    "trainable",
    "run",
    "env",
    "metric",
    "mode",
    "num_samples",
    "seed",
    "stop",
    "time_budget_s",
    "resources_per_trial",
    "max_concurrent_trials",
    "max_failures",
    "checkpoint",
    "search",
    "scheduler",
    "config",
    "storage",
    "smoke",
};
#define NTOP (sizeof top_keys / sizeof top_keys[0])

static const char *const mode_names[] = {"max", "min"};
static const char *const search_names[] = {"random", "grid"};
static const char *const strategy_names[] = {
#define LUX_TRIAL_PG_NAME(e, name) name,
    LUX_TRIAL_PG_STRATEGY_MAP(LUX_TRIAL_PG_NAME)
#undef LUX_TRIAL_PG_NAME
};

const char *lux_trial_pg_strategy_name(lux_trial_pg_strategy_t s)
{
    if ((int)s < 0 || (size_t)s >= sizeof strategy_names / sizeof strategy_names[0])
        return "?";
    return strategy_names[s];
}

static int parse_stop(ctx_t *c, const lux_yaml_node_t *v)
{
    if (v == NULL)
        return 0;
    int rc = need_mapping(c, v, "stop", "stop: {training_iteration: 100}");
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < v->count; i++) {
        const lux_yaml_node_t *t = v->items[i];
        json_t *j = t->kind == LUX_YAML_SCALAR ? lux_yaml_node_to_json(t) : NULL;
        if (!json_is_number(j)) {
            json_decref(j);
            return cfail(c, t,
                         "stop threshold for '%s' must be a number, not %s; a trial stops when "
                         "result['%s'] >= this value",
                         v->keys[i]->scalar, lux_yaml_node_type_name(t), v->keys[i]->scalar);
        }
        if (json_object_set_new(c->cfg->stop, v->keys[i]->scalar, j) != 0)
            return LUX_ENOMEM;
    }
    return 0;
}

static int parse_bundle(ctx_t *c, const lux_yaml_node_t *v, lux_trial_bundle_t *b)
{
    int rc = need_mapping(c, v, "a bundle", "{CPU: 1}");
    if (rc != 0)
        return rc;
    if (v->count == 0)
        return cfail(c, v, "a bundle may not be empty; write e.g. {CPU: 1}");
    if ((b->resources = json_object()) == NULL)
        return LUX_ENOMEM;
    for (size_t i = 0; i < v->count; i++) {
        const char *k = v->keys[i]->scalar;
        if (strcmp(k, "cpu") == 0 || strcmp(k, "gpu") == 0 || strcmp(k, "Cpu") == 0 ||
            strcmp(k, "Gpu") == 0)
            return cfail(c, v->keys[i],
                         "resource names in bundles are upper case; did you mean '%s'?",
                         k[0] == 'c' || k[0] == 'C' ? "CPU" : "GPU");
        const lux_yaml_node_t *t = v->items[i];
        json_t *j = t->kind == LUX_YAML_SCALAR ? lux_yaml_node_to_json(t) : NULL;
        if (!json_is_number(j) || json_number_value(j) < 0) {
            json_decref(j);
            return cfail(c, t, "resource '%s' must be a number >= 0; write e.g. %s: 1", k, k);
        }
        double amount = json_number_value(j);
        json_decref(j);
        if (amount != 0 && !(amount >= LUX_CONFIG_MIN_AMOUNT && amount <= LUX_CONFIG_MAX_AMOUNT))
            return cfail(c, t, "resource '%s' must be 0 or within [%g, %g], not %s; %s it", k,
                         LUX_CONFIG_MIN_AMOUNT, LUX_CONFIG_MAX_AMOUNT, t->scalar,
                         amount < LUX_CONFIG_MIN_AMOUNT ? "raise" : "lower");
        if (strcmp(k, "CPU") == 0)
            b->cpu = amount;
        else if (strcmp(k, "GPU") == 0)
            b->gpu = amount;
        if (json_object_set_new(b->resources, k, json_real(amount)) != 0)
            return LUX_ENOMEM;
    }
    return 0;
}

static int parse_resources(ctx_t *c, const lux_yaml_node_t *v)
{
    lux_resources_t *r = &c->cfg->resources;
    static const char *const keys[] = {"cpu", "gpu", "bundles", "strategy"};
    double cpu = 1, gpu = 0;
    int rc;
    if (v != NULL) {
        if ((rc = need_mapping(c, v, "resources_per_trial", "resources_per_trial: {cpu: 1}")) ||
            (rc = check_keys(c, v, "resources_per_trial", keys, 4)))
            return rc;
        const lux_yaml_node_t *bundles = field(v, "bundles");
        if (bundles != NULL && (field(v, "cpu") || field(v, "gpu")))
            return cfail(c, lux_yaml_node_key(v, field(v, "cpu") ? "cpu" : "gpu"),
                         "resources_per_trial takes either cpu/gpu or bundles, not both; put the "
                         "trainer's CPU into the first bundle");
        int strategy = LUX_TRIAL_PG_PACK;
        if ((rc = get_enum(c, v, "strategy", strategy_names, LUX_TRIAL_PG_STRATEGY_COUNT,
                           &strategy)) != 0)
            return rc;
        r->strategy = (lux_trial_pg_strategy_t)strategy;
        if (bundles != NULL) {
            if (bundles->kind != LUX_YAML_SEQUENCE || bundles->count == 0)
                return cfail(c, bundles,
                             "bundles must be a non-empty list of mappings; write e.g. bundles: "
                             "[{CPU: 1}, {CPU: 1}]");
            if (bundles->count > LUX_CONFIG_MAX_BUNDLES)
                return cfail(c, bundles,
                             "bundles lists %zu bundles, more than %d; a trial has the trainer's "
                             "bundle and one per rollout worker: use fewer workers",
                             bundles->count, LUX_CONFIG_MAX_BUNDLES);
            r->bundles = lux_calloc(bundles->count, sizeof *r->bundles);
            if (r->bundles == NULL)
                return LUX_ENOMEM;
            r->num_bundles = bundles->count;
            for (size_t i = 0; i < bundles->count; i++)
                if ((rc = parse_bundle(c, bundles->items[i], &r->bundles[i])) != 0)
                    return rc;
            return 0;
        }
        if ((rc = get_number(c, v, "cpu", &cpu)) || (rc = get_number(c, v, "gpu", &gpu)))
            return rc;
        if (cpu < 0)
            return cfail(c, field(v, "cpu"), "cpu must be >= 0, not %g", cpu);
        if (gpu < 0)
            return cfail(c, field(v, "gpu"), "gpu must be >= 0, not %g", gpu);
        const char *names[2] = {"cpu", "gpu"};
        double amounts[2] = {cpu, gpu};
        for (int i = 0; i < 2; i++)
            if (amounts[i] != 0 &&
                !(amounts[i] >= LUX_CONFIG_MIN_AMOUNT && amounts[i] <= LUX_CONFIG_MAX_AMOUNT))
                return cfail(c, field(v, names[i]),
                             "%s must be 0 or within [%g, %g], not %s; %s it", names[i],
                             LUX_CONFIG_MIN_AMOUNT, LUX_CONFIG_MAX_AMOUNT,
                             field(v, names[i])->scalar,
                             amounts[i] < LUX_CONFIG_MIN_AMOUNT ? "raise" : "lower");
    }
    r->bundles = lux_calloc(1, sizeof *r->bundles);
    if (r->bundles == NULL)
        return LUX_ENOMEM;
    r->num_bundles = 1;
    r->bundles[0].cpu = cpu;
    r->bundles[0].gpu = gpu;
    r->bundles[0].resources = json_object();
    if (r->bundles[0].resources == NULL ||
        json_object_set_new(r->bundles[0].resources, "CPU", json_real(cpu)) != 0 ||
        (gpu > 0 && json_object_set_new(r->bundles[0].resources, "GPU", json_real(gpu)) != 0))
        return LUX_ENOMEM;
    return 0;
}

static int parse_checkpoint(ctx_t *c, const lux_yaml_node_t *v)
{
    static const char *const keys[] = {"frequency", "at_end", "num_to_keep", "score_attribute",
                                       "score_order"};
    lux_checkpoint_config_t *k = &c->cfg->checkpoint;
    k->score_order = LUX_MODE_MAX;
    if (v == NULL)
        return 0;
    int rc, order = 0;
    if ((rc = need_mapping(c, v, "checkpoint", "checkpoint: {frequency: 10, at_end: true}")) ||
        (rc = check_keys(c, v, "checkpoint", keys, 5)) ||
        (rc = get_int(c, v, "frequency", 0, LUX_CONFIG_MAX_COUNT, &k->frequency)) ||
        (rc = get_bool(c, v, "at_end", &k->at_end)) ||
        (rc = get_int(c, v, "num_to_keep", 1, LUX_CONFIG_MAX_COUNT, &k->num_to_keep)) ||
        (rc = get_string(c, v, "score_attribute", &k->score_attribute)) ||
        (rc = get_enum(c, v, "score_order", mode_names, 2, &order)))
        return rc;
    k->score_order = order == 0 ? LUX_MODE_MAX : LUX_MODE_MIN;
    return 0;
}

static const char *const fifo_keys[] = {"type"};
static const char *const sched_names[] = {
#define LUX_SCHED_NAME(e, name) name,
    LUX_SCHEDULER_MAP(LUX_SCHED_NAME)
#undef LUX_SCHED_NAME
};

static bool in_list(const char *k, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(k, list[i]) == 0)
            return true;
    return false;
}

/* Every scheduler's keys, each once, in the schedulers' table order (for
 * the closest-name suggestion when the type is missing). Returns the count;
 * out has room for max. */
static size_t all_sched_keys(const char **out, size_t max)
{
    size_t n = 0, na, np;
    const char *const *asha = lux_sched_asha_config_keys(&na);
    const char *const *pbt = lux_sched_pbt_config_keys(&np);
    for (size_t i = 0; i < na && n < max; i++)
        out[n++] = asha[i];
    for (size_t i = 0; i < np && n < max; i++)
        if (!in_list(pbt[i], out, n))
            out[n++] = pbt[i];
    return n;
}

static int parse_scheduler(ctx_t *c, const lux_yaml_node_t *v)
{
    lux_config_t *cfg = c->cfg;
    lux_scheduler_params_t *p = &cfg->scheduler;
    int type = LUX_SCHEDULER_FIFO, rc;
    const lux_yaml_node_t *where = v;
    if (v != NULL && v->kind == LUX_YAML_SCALAR) {
        /* scheduler: asha is shorthand for scheduler: {type: asha}. */
        if ((rc = enum_node(c, v, "scheduler", sched_names, LUX_SCHEDULER_COUNT, &type)) != 0)
            return rc;
        v = NULL;
    } else if (v != NULL) {
        if ((rc = need_mapping(c, v, "scheduler", "scheduler: {type: asha, max_t: 100}")) != 0)
            return rc;
        const lux_yaml_node_t *t = field(v, "type");
        if (t == NULL) {
            /* A misspelt "type" is the likely cause: report it as such. */
            const char *all_keys[64];
            size_t nall = all_sched_keys(all_keys, sizeof all_keys / sizeof all_keys[0]);
            if ((rc = check_keys(c, v, "scheduler", all_keys, nall)) != 0)
                return rc;
            return cfail(c, v, "scheduler needs a type; add type: fifo, asha or pbt");
        }
        if ((rc = get_enum(c, v, "type", sched_names, LUX_SCHEDULER_COUNT, &type)) != 0)
            return rc;
        size_t nasha, npbt, nkeys = 1;
        const char *const *asha_keys = lux_sched_asha_config_keys(&nasha);
        const char *const *pbt_keys = lux_sched_pbt_config_keys(&npbt);
        const char *const *keys = fifo_keys;
        if (type == LUX_SCHEDULER_ASHA) {
            keys = asha_keys;
            nkeys = nasha;
        } else if (type == LUX_SCHEDULER_PBT) {
            keys = pbt_keys;
            nkeys = npbt;
        }
        for (size_t i = 0; i < v->count; i++) {
            const char *k = v->keys[i]->scalar;
            if (in_list(k, keys, nkeys))
                continue;
            const char *owner = in_list(k, asha_keys, nasha) ? "asha"
                                : in_list(k, pbt_keys, npbt) ? "pbt"
                                                             : NULL;
            if (owner != NULL)
                return cfail(c, v->keys[i],
                             "'%s' is a parameter of the %s scheduler, not of %s; remove it or "
                             "set type: %s",
                             k, owner, sched_names[type], owner);
            if (strcmp(k, "metric") == 0 || strcmp(k, "mode") == 0)
                return cfail(c, v->keys[i],
                             "'%s' belongs at the top level of the experiment, not under "
                             "scheduler; move it there",
                             k);
            if ((rc = check_keys(c,
                                 &(lux_yaml_node_t){.kind = LUX_YAML_MAPPING,
                                                    .count = 1,
                                                    .keys = &v->keys[i],
                                                    .items = &v->items[i]},
                                 "scheduler", keys, nkeys)) != 0)
                return rc;
        }
    }
    lux_scheduler_params_default(p, (lux_scheduler_type_t)type);
    p->metric = cfg->metric;
    p->mode = cfg->mode;
    p->seed = cfg->seed;
    if (v != NULL && type != LUX_SCHEDULER_FIFO) {
        const lux_yaml_node_t *ta = field(v, "time_attr");
        if (ta != NULL) {
            char *s = NULL;
            if ((rc = get_string(c, v, "time_attr", &s)) != 0)
                return rc;
            lux_free(cfg->sched_time_attr_owned);
            cfg->sched_time_attr_owned = s;
            p->time_attr = s;
        }
    }
    if (v != NULL && type == LUX_SCHEDULER_ASHA) {
        long brackets = p->brackets;
        if ((rc = get_number(c, v, "max_t", &p->max_t)) ||
            (rc = get_number(c, v, "grace_period", &p->grace_period)) ||
            (rc = get_number(c, v, "reduction_factor", &p->reduction_factor)) ||
            (rc = get_int(c, v, "brackets", 1, LUX_SCHED_MAX_RUNGS, &brackets)) ||
            (rc = get_bool(c, v, "stop_last_trials", &p->stop_last_trials)))
            return rc;
        p->brackets = (int)brackets;
    }
    if (v != NULL && type == LUX_SCHEDULER_PBT) {
        if ((rc = get_number(c, v, "perturbation_interval", &p->perturbation_interval)) ||
            (rc = get_number(c, v, "burn_in_period", &p->burn_in_period)) ||
            (rc = get_number(c, v, "quantile_fraction", &p->quantile_fraction)) ||
            (rc = get_number(c, v, "resample_probability", &p->resample_probability)) ||
            (rc = get_bool(c, v, "synch", &p->synch)))
            return rc;
        const lux_yaml_node_t *f = field(v, "perturbation_factors");
        if (f != NULL) {
            if (f->kind != LUX_YAML_SEQUENCE || f->count == 0 || f->count > LUX_SCHED_MAX_FACTORS)
                return cfail(c, f,
                             "perturbation_factors must be a list of 1 to %d numbers; write e.g. "
                             "perturbation_factors: [1.2, 0.8]",
                             LUX_SCHED_MAX_FACTORS);
            for (size_t i = 0; i < f->count; i++) {
                json_t *j = f->items[i]->kind == LUX_YAML_SCALAR
                                ? lux_yaml_node_to_json(f->items[i])
                                : NULL;
                bool ok = json_is_number(j) && json_number_value(j) > 0;
                p->perturbation_factors[i] = ok ? json_number_value(j) : 0;
                json_decref(j);
                if (!ok)
                    return cfail(c, f->items[i],
                                 "perturbation factors must be positive numbers; write e.g. 1.2");
                if (p->perturbation_factors[i] < LUX_SCHED_MIN_FACTOR ||
                    p->perturbation_factors[i] > LUX_SCHED_MAX_FACTOR)
                    return cfail(c, f->items[i],
                                 "a perturbation factor must be within [%g, %g], not %s; write "
                                 "e.g. 1.2",
                                 LUX_SCHED_MIN_FACTOR, LUX_SCHED_MAX_FACTOR, f->items[i]->scalar);
            }
            p->num_perturbation_factors = f->count;
        }
        const lux_yaml_node_t *m = field(v, "hyperparam_mutations");
        if (m != NULL) {
            if ((rc = need_mapping(c, m, "hyperparam_mutations",
                                   "hyperparam_mutations: {lr: {loguniform: [1e-4, 1e-2]}}")))
                return rc;
            if ((rc = lux_space_from_node(m, c->file, LUX_SPACE_MUTATIONS, &cfg->mutations, c->err,
                                          c->errlen)) != 0)
                return rc;
            p->hyperparam_mutations = cfg->mutations;
        }
    }
    char msg[512];
    if ((rc = lux_scheduler_params_check(p, msg, sizeof msg)) != 0) {
        /* The message starts with the parameter's name: point at it. */
        const char *colon = strchr(msg, ':');
        const lux_yaml_node_t *at = where;
        if (colon != NULL && v != NULL) {
            char name[64];
            size_t len =
                (size_t)(colon - msg) < sizeof name - 1 ? (size_t)(colon - msg) : sizeof name - 1;
            memcpy(name, msg, len);
            name[len] = '\0';
            const lux_yaml_node_t *pn = field(v, name);
            if (pn != NULL)
                at = pn;
            else if (field(v, "type") != NULL)
                at = field(v, "type");
        }
        return cfail(c, at, "scheduler %s", msg);
    }
    return 0;
}

static bool env_known(const lux_config_options_t *o, const char *env)
{
    if (o->env_exists != NULL)
        return o->env_exists(env, o->env_user);
    for (size_t i = 0; i < o->num_env_names; i++)
        if (o->env_names[i] && strcmp(o->env_names[i], env) == 0)
            return true;
    return false;
}

static int check_trainable(ctx_t *c, const lux_yaml_node_t *at)
{
    const char *t = c->cfg->trainable;
    if (c->opts->skip_trainable_check)
        return 0;
    if (lux_trainable_plugin_is_spec(t)) {
        /* Loaded now (as the runner would load it before any trial), so that
         * a missing file or a library that is not a plugin is reported at
         * the trainable's position. Loading twice runs its init once. */
        const char *cls = NULL;
        char msg[768] = "";
        int rc = lux_trainable_plugin_load(t, &cls, msg, sizeof msg);
        if (rc == LUX_ENOMEM)
            return rc;
        return rc == 0 ? 0 : cfail(c, at, "%s", msg);
    }
    if (lux_trainable_find(t) != NULL)
        return 0;
    const char *names[64];
    size_t n = lux_trainable_names(names, 64);
    if (n > 64)
        n = 64;
    char list[512] = "";
    for (size_t i = 0; i < n; i++) {
        strncat(list, names[i], sizeof list - strlen(list) - 1);
        if (i + 1 < n)
            strncat(list, ", ", sizeof list - strlen(list) - 1);
    }
    const char *near = lux_suggest(t, names, n);
    if (near != NULL)
        return cfail(c, at, "unknown trainable '%s'; did you mean '%s'?", t, near);
    if (n == 0)
        return cfail(c, at, "unknown trainable '%s'; no trainables are registered", t);
    return cfail(c, at, "unknown trainable '%s'; the trainables are: %s", t, list);
}

static int check_env(ctx_t *c, const lux_yaml_node_t *at, const char *env)
{
    const lux_config_options_t *o = c->opts;
    if (env == NULL || (o->env_exists == NULL && o->num_env_names == 0) || env_known(o, env))
        return 0;
    const char *near = o->num_env_names ? lux_suggest(env, o->env_names, o->num_env_names) : NULL;
    if (near != NULL)
        return cfail(c, at, "unknown env '%s'; did you mean '%s'? (`lux envs` lists them)", env,
                     near);
    return cfail(c, at, "unknown env '%s'; `lux envs` lists the environments", env);
}

static bool name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == '-';
}

/* What is wrong with a name (no advice), or "" when nothing is. */
static void name_problem(const char *name, char *what, size_t len)
{
    size_t n = strlen(name);
    what[0] = '\0';
    if (n == 0) {
        snprintf(what, len, "is empty");
        return;
    }
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        snprintf(what, len, "may not be '%s' (that names the storage directory or its parent)",
                 name);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (!name_char(name[i])) {
            unsigned char ch = (unsigned char)name[i];
            char shown[16];
            if (ch > ' ' && ch < 127)
                snprintf(shown, sizeof shown, "'%c'", ch);
            else
                snprintf(shown, sizeof shown, "byte 0x%02x", ch);
            snprintf(what, len,
                     "may only contain letters, digits, '.', '_' and '-' (it is one directory "
                     "under storage), not %s at byte %zu",
                     shown, i + 1);
            return;
        }
    if (n > LUX_CONFIG_MAX_NAME)
        snprintf(what, len, "is %zu bytes long, more than %d", n, LUX_CONFIG_MAX_NAME);
}

/* A valid name close to `name`, for the advice. */
static void name_suggestion(const char *name, char *out, size_t len)
{
    size_t j = 0;
    for (size_t i = 0; name[i] != '\0' && j + 1 < len && j < LUX_CONFIG_MAX_NAME; i++)
        out[j++] = name_char(name[i]) ? name[i] : '_';
    out[j] = '\0';
    if (j == 0 || strspn(out, ".") == j)
        snprintf(out, len, "my-experiment");
}

int lux_config_name_check(const char *name, char *err, size_t errlen)
{
    char what[256], good[LUX_CONFIG_MAX_NAME + 1];
    name_problem(name, what, sizeof what);
    if (what[0] == '\0')
        return 0;
    name_suggestion(name, good, sizeof good);
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "the experiment name %s; use e.g. %s", what, good);
    return LUX_ECONFIG;
}

/* Checks the final name (after --smoke's suffix). `at` is the node that
 * gave it; from_file: the name was taken from the file's name. */
static int check_name(ctx_t *c, const lux_yaml_node_t *at, bool from_file)
{
    const char *name = c->cfg->name;
    char what[256], good[LUX_CONFIG_MAX_NAME + 1];
    name_problem(name, what, sizeof what);
    if (what[0] == '\0')
        return 0;
    name_suggestion(name, good, sizeof good);
    if (from_file)
        return cfail(c, at,
                     "the experiment's name comes from the file name and %s; add e.g. name: %s "
                     "or rename the file",
                     what, good);
    if (c->opts->smoke && strlen(name) > LUX_CONFIG_MAX_NAME)
        return cfail(c, at, "name %s with --smoke's '-smoke'; use e.g. name: %.*s", what,
                     LUX_CONFIG_MAX_NAME - 6, good);
    return cfail(c, at, "name %s; write e.g. name: %s", what, good);
}

static char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strrchr(b, '.');
    size_t len = dot && dot != b ? (size_t)(dot - b) : strlen(b);
    return lux_strndup(b, len);
}

void lux_config_destroy(lux_config_t **cfg_p)
{
    if (cfg_p == NULL || *cfg_p == NULL)
        return;
    lux_config_t *c = *cfg_p;
    lux_free(c->path);
    lux_free(c->name);
    lux_free(c->trainable);
    lux_free(c->env);
    lux_free(c->metric);
    json_decref(c->stop);
    for (size_t i = 0; i < c->resources.num_bundles; i++)
        json_decref(c->resources.bundles[i].resources);
    lux_free(c->resources.bundles);
    lux_free(c->checkpoint.score_attribute);
    lux_space_destroy(&c->space);
    lux_space_destroy(&c->mutations);
    lux_free(c->storage);
    lux_free(c->sched_time_attr_owned);
    lux_free(c);
    *cfg_p = NULL;
}

static int load_tree(ctx_t *c, const lux_yaml_node_t *root)
{
    lux_config_t *cfg = c->cfg;
    int rc;
    if (root->kind != LUX_YAML_MAPPING) {
        if (root->kind == LUX_YAML_SCALAR && root->scalar[0] == '\0')
            return cfail(c, root,
                         "the experiment file is empty; it needs at least trainable: "
                         "and config:");
        return cfail(c, root,
                     "the experiment must be a mapping of keys to values, not %s; "
                     "start with trainable: ...",
                     lux_yaml_node_type_name(root));
    }
    /* RLlib's shape: one top-level key naming the experiment. */
    const lux_yaml_node_t *name_at = NULL; /* what gave the name; NULL: the file name */
    if (root->count == 1 && !in_list(root->keys[0]->scalar, top_keys, NTOP) &&
        root->items[0]->kind == LUX_YAML_MAPPING) {
        lux_free(cfg->name);
        if ((cfg->name = lux_strdup(root->keys[0]->scalar)) == NULL)
            return LUX_ENOMEM;
        name_at = root->keys[0];
        root = root->items[0];
    }
    if ((rc = check_keys(c, root, "the experiment", top_keys, NTOP)) != 0)
        return rc;
    const lux_yaml_node_t *smoke = field(root, "smoke");
    if (smoke != NULL && smoke->kind != LUX_YAML_MAPPING)
        return cfail(c, smoke,
                     "smoke must be a mapping of the fields `lux run --smoke` overrides, "
                     "not %s",
                     lux_yaml_node_type_name(smoke));
    if (smoke == NULL && c->opts->smoke)
        return cfail(c, root,
                     "--smoke was given but the experiment has no smoke: section; add one "
                     "with the fields a quick check should override (num_samples, stop, "
                     "config), or run without --smoke");
    if (smoke != NULL && c->opts->smoke) {
        /* The tree is the caller's, but merging swaps nodes between two parts
         * of it, so nothing is lost or freed twice. */
        if ((rc = lux_yaml_node_merge((lux_yaml_node_t *)root, (lux_yaml_node_t *)smoke)) != 0)
            return rc;
        if ((rc = check_keys(c, root, "the experiment", top_keys, NTOP)) != 0)
            return rc;
    }
    if (field(root, "trainable") && field(root, "run"))
        return cfail(c, lux_yaml_node_key(root, "run"),
                     "both trainable and run are given; keep one (run is RLlib's name for it)");
    const char *tkey = field(root, "run") ? "run" : "trainable";
    if ((rc = get_string(c, root, "name", &cfg->name)) ||
        (rc = get_string(c, root, tkey, &cfg->trainable)) ||
        (rc = get_string(c, root, "env", &cfg->env)) ||
        (rc = get_string(c, root, "metric", &cfg->metric)) ||
        (rc = get_string(c, root, "storage", &cfg->storage)))
        return rc;
    if (cfg->trainable == NULL)
        return cfail(c, root, "the experiment needs a trainable; add e.g. trainable: sepcmaes");
    int mode = 0, search = 0;
    if ((rc = get_enum(c, root, "mode", mode_names, 2, &mode)) != 0)
        return rc;
    cfg->has_mode = field(root, "mode") != NULL;
    cfg->mode = mode == 0 ? LUX_MODE_MAX : LUX_MODE_MIN;
    if (cfg->has_mode && cfg->metric == NULL)
        return cfail(c, field(root, "mode"), "mode is given without metric; add metric: NAME");
    if (cfg->metric != NULL && !cfg->has_mode)
        return cfail(c, lux_yaml_node_key(root, "metric"),
                     "metric is given without mode; add mode: max or mode: min");
    long seed = 0;
    if ((rc = get_int(c, root, "num_samples", 1, LUX_CONFIG_MAX_TRIALS, &cfg->num_samples)) ||
        (rc = get_int(c, root, "seed", 0, LONG_MAX, &seed)) ||
        (rc = get_number(c, root, "time_budget_s", &cfg->time_budget_s)) ||
        (rc = get_int(c, root, "max_concurrent_trials", 0, LUX_CONFIG_MAX_COUNT,
                      &cfg->max_concurrent_trials)) ||
        (rc = get_int(c, root, "max_failures", -1, LUX_CONFIG_MAX_COUNT, &cfg->max_failures)) ||
        (rc = get_enum(c, root, "search", search_names, 2, &search)))
        return rc;
    cfg->seed = (uint64_t)seed;
    cfg->has_seed = field(root, "seed") != NULL;
    cfg->search = (lux_search_t)search;
    if (cfg->time_budget_s < 0 || !isfinite(cfg->time_budget_s))
        return cfail(c, field(root, "time_budget_s"),
                     "time_budget_s must be >= 0, not %g; use 0 or leave it out for no budget",
                     cfg->time_budget_s);
    if (cfg->time_budget_s > LUX_CONFIG_MAX_SECONDS)
        return cfail(c, field(root, "time_budget_s"),
                     "time_budget_s must be within [0, %g] seconds, not %s; lower it, or use 0 "
                     "for no budget",
                     LUX_CONFIG_MAX_SECONDS, field(root, "time_budget_s")->scalar);
    if ((rc = parse_stop(c, field(root, "stop"))) ||
        (rc = parse_resources(c, field(root, "resources_per_trial"))) ||
        (rc = parse_checkpoint(c, field(root, "checkpoint"))))
        return rc;
    const lux_yaml_node_t *space = field(root, "config");
    if (space != NULL &&
        (rc = need_mapping(c, space, "config", "config: {lr: {loguniform: [1e-4, 1e-2]}}")))
        return rc;
    if ((rc = lux_space_from_node(space, c->file, LUX_SPACE_CONFIG, &cfg->space, c->err,
                                  c->errlen)) != 0)
        return rc;
    if (cfg->search == LUX_SEARCH_GRID &&
        (rc = lux_space_make_grid(cfg->space, c->err, c->errlen)) != 0)
        return rc;
    if ((rc = parse_scheduler(c, lux_yaml_node_get(root, "scheduler"))) != 0)
        return rc;
    if ((rc = check_trainable(c, field(root, tkey))) ||
        (rc = check_env(c, field(root, "env"), cfg->env)))
        return rc;
    /* RLlib puts env inside config; check a constant one there too. */
    const lux_yaml_node_t *inner = field(space, "env");
    if (cfg->env == NULL && inner != NULL && inner->kind == LUX_YAML_SCALAR &&
        inner->scalar[0] != '\0' && (rc = check_env(c, inner, inner->scalar)) != 0)
        return rc;
    if (lux_space_num_trials(cfg->space, cfg->num_samples) > (size_t)LUX_CONFIG_MAX_TRIALS)
        return cfail(c, field(root, "num_samples") ? field(root, "num_samples") : space,
                     "the experiment would have %s%zu trials (num_samples %ld times a grid of "
                     "%s%zu), more than %ld; lower num_samples or the grid",
                     lux_space_num_trials(cfg->space, cfg->num_samples) == SIZE_MAX ? "over " : "",
                     lux_space_num_trials(cfg->space, cfg->num_samples), cfg->num_samples,
                     lux_space_grid_size(cfg->space) == SIZE_MAX ? "over " : "",
                     lux_space_grid_size(cfg->space), LUX_CONFIG_MAX_TRIALS);
    if (field(root, "name") != NULL)
        name_at = field(root, "name");
    bool name_from_file = cfg->name == NULL;
    if (cfg->name == NULL && (cfg->name = base_name(cfg->path)) == NULL)
        return LUX_ENOMEM;
    if (c->opts->smoke && field(root, "smoke") != NULL) {
        /* A smoke run never shares a directory with the real experiment. */
        size_t len = strlen(cfg->name) + sizeof "-smoke";
        char *name = lux_malloc(len);
        if (name == NULL)
            return LUX_ENOMEM;
        snprintf(name, len, "%s-smoke", cfg->name);
        lux_free(cfg->name);
        cfg->name = name;
    }
    /* The name becomes a directory under storage and every trial id's
     * prefix: a stored config's name was checked when it was stored (and is
     * kept as it was, so an experiment stored before this check resumes). */
    if (!c->from_json &&
        (rc = check_name(c, name_at ? name_at : root, name_at == NULL && name_from_file)) != 0)
        return rc;
    if (cfg->storage == NULL && (cfg->storage = lux_strdup("runs")) == NULL)
        return LUX_ENOMEM;
    /* Where each field was written, for lux_config_error(). */
    for (size_t i = 0; i < NTOP && cfg->nwhere < sizeof cfg->where / sizeof cfg->where[0]; i++) {
        const lux_yaml_node_t *fv = lux_yaml_node_get(root, top_keys[i]);
        if (fv == NULL || fv->line == 0)
            continue;
        cfg->where[cfg->nwhere].field = top_keys[i];
        cfg->where[cfg->nwhere].line = fv->line;
        cfg->where[cfg->nwhere].column = fv->column;
        cfg->nwhere++;
    }
    /* The trainable's own checks, on trial 0's config. */
    const lux_trainable_class_t *cls = lux_trainable_find(cfg->trainable);
    if (cls != NULL && cls->validate != NULL) {
        json_t *t0 = NULL;
        if ((rc = lux_config_trial_config(cfg, 0, &t0)) != 0)
            return rc;
        char msg[512] = "";
        rc = cls->validate(t0, msg, sizeof msg);
        json_decref(t0);
        if (rc != 0)
            return cfail(c, space ? lux_yaml_node_key(root, "config") : root,
                         "trainable '%s' rejects the config: %s; fix the config section (it "
                         "checked the first trial's sampled config)",
                         cfg->trainable, msg[0] ? msg : lux_strerror(rc));
    }
    return 0;
}

static lux_config_t *config_alloc(const char *path)
{
    lux_config_t *cfg = lux_calloc(1, sizeof *cfg);
    if (cfg == NULL)
        return NULL;
    cfg->num_samples = 1;
    cfg->mode = LUX_MODE_MAX;
    cfg->path = lux_strdup(path);
    cfg->stop = json_object();
    lux_scheduler_params_default(&cfg->scheduler, LUX_SCHEDULER_FIFO);
    if (cfg->path == NULL || cfg->stop == NULL)
        lux_config_destroy(&cfg);
    return cfg;
}

static int load_root(const lux_yaml_node_t *root, const char *name,
                     const lux_config_options_t *opts, bool from_json, lux_config_t **out,
                     char *err, size_t errlen)
{
    static const lux_config_options_t none = {0};
    lux_config_t *cfg = config_alloc(name);
    if (cfg == NULL)
        return LUX_ENOMEM;
    ctx_t c = {name, err, errlen, opts ? opts : &none, cfg, from_json};
    int rc = load_tree(&c, root);
    if (rc != 0) {
        lux_config_destroy(&cfg);
        return rc;
    }
    *out = cfg;
    return 0;
}

int lux_config_load_string(const char *yaml, size_t len, const char *name,
                           const lux_config_options_t *opts, lux_config_t **out, char *err,
                           size_t errlen)
{
    *out = NULL;
    if (name == NULL)
        name = "<string>";
    lux_yaml_node_t *root = NULL;
    int rc = lux_yaml_parse(yaml, len, name, &root, err, errlen);
    if (rc != 0)
        return rc;
    rc = load_root(root, name, opts, false, out, err, errlen);
    lux_yaml_node_destroy(&root);
    return rc;
}

int lux_config_load(const char *path, const lux_config_options_t *opts, lux_config_t **out,
                    char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot open: %s; check the path", path, strerror(e));
        return e == ENOENT ? LUX_ENOENT : LUX_EIO;
    }
    /* Read at most one byte more than the limit: a device (/dev/zero) or a
     * huge file is refused by its size, never read to the end. */
    const size_t limit = (size_t)LUX_CONFIG_MAX_FILE_BYTES;
    struct stat st;
    size_t cap = 4096, len = 0;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 &&
        (uintmax_t)st.st_size < limit)
        cap = (size_t)st.st_size + 1;
    char *buf = lux_malloc(cap);
    int rc = 0, read_errno = 0;
    while (buf != NULL) {
        len += fread(buf + len, 1, cap - len, f);
        if (ferror(f)) {
            read_errno = errno;
            break;
        }
        if (len < cap || len > limit)
            break;
        size_t ncap = cap * 2 > limit + 1 ? limit + 1 : cap * 2;
        char *nb = lux_realloc(buf, ncap);
        if (nb == NULL) {
            lux_free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap = ncap;
    }
    if (buf == NULL) {
        rc = LUX_ENOMEM;
    } else if (read_errno != 0 || ferror(f)) {
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot read: %s; give the path of a YAML experiment file",
                     path, read_errno ? strerror(read_errno) : "read error");
        rc = LUX_EIO;
    } else if (len > limit) {
        if (err && errlen)
            snprintf(err, errlen,
                     "%s: the file is larger than %ld MiB, the limit for an experiment file; "
                     "give the path of a YAML experiment file",
                     path, LUX_CONFIG_MAX_FILE_BYTES >> 20);
        rc = LUX_ECONFIG;
    }
    fclose(f);
    if (rc == 0)
        rc = lux_config_load_string(buf, len, path, opts, out, err, errlen);
    lux_free(buf);
    return rc;
}

int lux_config_from_json(const json_t *json, const lux_config_options_t *opts, lux_config_t **out,
                         char *err, size_t errlen)
{
    *out = NULL;
    lux_yaml_node_t *root = lux_yaml_node_from_json(json);
    if (root == NULL)
        return LUX_ENOMEM;
    int rc = load_root(root, "<json>", opts, true, out, err, errlen);
    lux_yaml_node_destroy(&root);
    if (rc == 0) {
        /* Keep the stored name even though the file name is "<json>". */
        lux_free((*out)->path);
        (*out)->path = lux_strdup("<json>");
        if ((*out)->path == NULL) {
            lux_config_destroy(out);
            return LUX_ENOMEM;
        }
    }
    return rc;
}

int lux_config_error(const lux_config_t *cfg, const char *field_name, char *err, size_t errlen,
                     const char *fmt, ...)
{
    int line = 0, column = 0;
    for (size_t i = 0; i < cfg->nwhere; i++)
        if (strcmp(cfg->where[i].field, field_name) == 0) {
            line = cfg->where[i].line;
            column = cfg->where[i].column;
        }
    va_list ap;
    va_start(ap, fmt);
    int rc = lux_yaml_errorv(err, errlen, cfg->path, line, column, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- canonical form ------------------------------------------------------------ */

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static int put(json_t *o, const char *k, json_t *v)
{
    return v == NULL ? -1 : json_object_set_new(o, k, v);
}

static json_t *scheduler_json(const lux_config_t *cfg)
{
    const lux_scheduler_params_t *p = &cfg->scheduler;
    json_t *o = json_object();
    int rc = o ? put(o, "type", json_string(lux_scheduler_type_name(p->type))) : -1;
    if (p->type == LUX_SCHEDULER_ASHA) {
        rc |= put(o, "time_attr", json_string(p->time_attr));
        rc |= put(o, "max_t", json_real(p->max_t));
        rc |= put(o, "grace_period", json_real(p->grace_period));
        rc |= put(o, "reduction_factor", json_real(p->reduction_factor));
        rc |= put(o, "brackets", json_integer(p->brackets));
        rc |= put(o, "stop_last_trials", json_boolean(p->stop_last_trials));
    } else if (p->type == LUX_SCHEDULER_PBT) {
        rc |= put(o, "time_attr", json_string(p->time_attr));
        rc |= put(o, "perturbation_interval", json_real(p->perturbation_interval));
        rc |= put(o, "burn_in_period", json_real(p->burn_in_period));
        rc |= put(o, "quantile_fraction", json_real(p->quantile_fraction));
        rc |= put(o, "resample_probability", json_real(p->resample_probability));
        json_t *f = json_array();
        for (size_t i = 0; f && i < p->num_perturbation_factors; i++)
            rc |= json_array_append_new(f, json_real(p->perturbation_factors[i]));
        rc |= put(o, "perturbation_factors", f);
        rc |= put(o, "hyperparam_mutations",
                  cfg->mutations ? json_deep_copy(lux_space_spec(cfg->mutations)) : json_null());
        rc |= put(o, "synch", json_boolean(p->synch));
    }
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *lux_config_to_json(const lux_config_t *cfg)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    int rc = 0;
    rc |= put(o, "name", json_string(cfg->name));
    rc |= put(o, "trainable", json_string(cfg->trainable));
    rc |= put(o, "env", str_or_null(cfg->env));
    rc |= put(o, "metric", str_or_null(cfg->metric));
    rc |= put(o, "mode",
              cfg->has_mode ? json_string(cfg->mode == LUX_MODE_MAX ? "max" : "min") : json_null());
    rc |= put(o, "num_samples", json_integer(cfg->num_samples));
    rc |= put(o, "seed", json_integer((json_int_t)cfg->seed));
    rc |= put(o, "stop", json_deep_copy(cfg->stop));
    rc |= put(o, "time_budget_s", json_real(cfg->time_budget_s));
    json_t *res = json_object(), *bundles = json_array();
    for (size_t i = 0; bundles && i < cfg->resources.num_bundles; i++)
        rc |= json_array_append_new(bundles, json_deep_copy(cfg->resources.bundles[i].resources));
    if (res) {
        rc |= put(res, "bundles", bundles);
        rc |=
            put(res, "strategy", json_string(lux_trial_pg_strategy_name(cfg->resources.strategy)));
    } else {
        json_decref(bundles);
    }
    rc |= put(o, "resources_per_trial", res);
    rc |= put(o, "max_concurrent_trials", json_integer(cfg->max_concurrent_trials));
    rc |= put(o, "max_failures", json_integer(cfg->max_failures));
    json_t *ck = json_object();
    if (ck) {
        const lux_checkpoint_config_t *k = &cfg->checkpoint;
        rc |= put(ck, "frequency", json_integer(k->frequency));
        rc |= put(ck, "at_end", json_boolean(k->at_end));
        rc |= put(ck, "num_to_keep", k->num_to_keep ? json_integer(k->num_to_keep) : json_null());
        rc |= put(ck, "score_attribute", str_or_null(k->score_attribute));
        rc |= put(ck, "score_order", json_string(k->score_order == LUX_MODE_MAX ? "max" : "min"));
    }
    rc |= put(o, "checkpoint", ck);
    rc |= put(o, "search", json_string(cfg->search == LUX_SEARCH_GRID ? "grid" : "random"));
    rc |= put(o, "scheduler", scheduler_json(cfg));
    rc |= put(o, "config", json_deep_copy(lux_space_spec(cfg->space)));
    rc |= put(o, "storage", json_string(cfg->storage));
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

size_t lux_config_diff(const lux_config_t *a, const lux_config_t *b, const char **fields,
                       size_t max)
{
    json_t *ja = lux_config_to_json(a), *jb = lux_config_to_json(b);
    size_t n = 0;
    for (size_t i = 0; i < NTOP; i++) {
        const char *k = top_keys[i];
        /* run is trainable's alias; smoke is already merged into the rest. */
        if (strcmp(k, "run") == 0 || strcmp(k, "smoke") == 0)
            continue;
        json_t *va = json_object_get(ja, k), *vb = json_object_get(jb, k);
        /* Reals and integers that are equal numbers are equal. */
        bool same = json_equal(va, vb) || (json_is_number(va) && json_is_number(vb) &&
                                           json_number_value(va) == json_number_value(vb));
        if (ja == NULL || jb == NULL || !same) {
            if (n < max)
                fields[n] = k;
            n++;
        }
    }
    json_decref(ja);
    json_decref(jb);
    return n;
}

int lux_config_resume_check(const lux_config_t *stored, const lux_config_t *now, char *err,
                            size_t errlen)
{
    const char *fields[NTOP];
    size_t n = lux_config_diff(stored, now, fields, NTOP);
    for (size_t i = 0; i < n && i < NTOP; i++) {
        const char *f = fields[i];
        if (strcmp(f, "stop") == 0 || strcmp(f, "time_budget_s") == 0)
            continue;
        if (strcmp(f, "num_samples") == 0 && now->num_samples >= stored->num_samples)
            continue;
        if (err && errlen) {
            if (strcmp(f, "num_samples") == 0)
                snprintf(err, errlen,
                         "%s: num_samples shrank from %ld to %ld since the experiment started; "
                         "--resume can only add samples, set it back to at least %ld",
                         now->path, stored->num_samples, now->num_samples, stored->num_samples);
            else
                snprintf(err, errlen,
                         "%s: '%s' changed since the experiment started; --resume accepts "
                         "changes to stop, time_budget_s and a larger num_samples only: restore "
                         "'%s' or start a new experiment (another name or storage)",
                         now->path, f, f);
        }
        return LUX_ECONFIG;
    }
    return 0;
}

long lux_config_num_trials(const lux_config_t *cfg)
{
    return (long)lux_space_num_trials(cfg->space, cfg->num_samples);
}

int lux_config_trial_config(const lux_config_t *cfg, long k, json_t **config)
{
    *config = NULL;
    if (k < 0 || k >= lux_config_num_trials(cfg))
        return LUX_ERANGE;
    int rc = lux_space_trial_config(cfg->space, cfg->seed, k, config);
    if (rc != 0)
        return rc;
    if (cfg->env != NULL && json_object_get(*config, "env") == NULL &&
        json_object_set_new(*config, "env", json_string(cfg->env)) != 0) {
        json_decref(*config);
        *config = NULL;
        return LUX_ENOMEM;
    }
    return 0;
}
