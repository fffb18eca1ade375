/*
 * Loading an experiment for plotting (plot_data.h). One pass over the
 * trials, one streamed pass over the results, one paged pass over the
 * decisions; trial ids are found through a jansson object used as a hash
 * map, and consecutive results of one trial skip even that.
 */
#include "plot_data.h"

#include "alloc.h"
#include "error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lux_plot_json_number(const json_t *obj, const char *path, double *out)
{
    if (!json_is_object(obj) || path == NULL)
        return -1;
    const json_t *v = json_object_get(obj, path);
    if (v == NULL && strchr(path, '/') != NULL) {
        const json_t *cur = obj;
        const char *p = path;
        while (cur != NULL) {
            const char *slash = strchr(p, '/');
            size_t len = slash ? (size_t)(slash - p) : strlen(p);
            cur = json_is_object(cur) ? json_object_getn(cur, p, len) : NULL;
            if (slash == NULL)
                break;
            p = slash + 1;
        }
        v = cur;
    }
    if (!json_is_number(v))
        return -1;
    *out = json_number_value(v);
    return isfinite(*out) ? 0 : -1;
}

const json_t *lux_plot_config_value(const json_t *config, const char *path)
{
    if (!json_is_object(config) || path == NULL)
        return NULL;
    const json_t *v = json_object_get(config, path);
    return v != NULL ? v : lux_space_get_path(config, path);
}

void lux_plot_data_counts(const lux_plot_data_t *data, size_t *errors, size_t *stopped,
                          size_t *others)
{
    size_t e = 0, s = 0, o = 0;
    for (size_t i = 0; i < data->ntrials; i++) {
        if (data->trials[i].status == LUX_TRIAL_ERROR)
            e++;
        else if (data->trials[i].stopped)
            s++;
        else
            o++;
    }
    *errors = e;
    *stopped = s;
    *others = o;
}

static void trial_fini(lux_plot_trial_t *t)
{
    lux_free(t->trial_id);
    lux_free(t->error);
    json_decref(t->config);
    json_decref(t->final_config);
    json_decref(t->lineage);
    lux_free(t->results);
}

void lux_plot_data_destroy(lux_plot_data_t **data_p)
{
    if (data_p == NULL || *data_p == NULL)
        return;
    lux_plot_data_t *d = *data_p;
    for (size_t i = 0; i < d->ntrials; i++)
        trial_fini(&d->trials[i]);
    lux_free(d->trials);
    json_decref(d->experiment);
    lux_free(d->metric);
    lux_free(d->scheduler);
    lux_free(d->time_attr);
    lux_space_destroy(&d->space);
    lux_space_destroy(&d->mutations);
    lux_free(d);
    *data_p = NULL;
}

/* ---- results -------------------------------------------------------------------- */

typedef struct {
    lux_plot_data_t *d;
    json_t *index; /* trial_id -> position */
    size_t cur;    /* the trial of the previous result */
    size_t *caps;  /* results capacity per trial */
    lux_store_t *store;
    char *err; /* the message of a row that cannot be read */
    size_t errlen;
    bool bad_row;
} loader_t;

static long find_trial(loader_t *l, const char *trial_id)
{
    if (l->cur < l->d->ntrials && strcmp(l->d->trials[l->cur].trial_id, trial_id) == 0)
        return (long)l->cur;
    const json_t *pos = json_object_get(l->index, trial_id);
    if (pos == NULL)
        return -1;
    l->cur = (size_t)json_integer_value(pos);
    return (long)l->cur;
}

static int on_result(void *arg, const char *trial_id, long iteration, double time_total_s,
                     const char *metrics_json)
{
    loader_t *l = arg;
    long k = find_trial(l, trial_id);
    if (k < 0)
        return 0; /* a result of a trial that has no row: nothing to attach it to */
    lux_plot_trial_t *t = &l->d->trials[k];
    if (t->nresults == l->caps[k]) {
        size_t cap = l->caps[k] ? 2 * l->caps[k] : 16;
        lux_plot_result_t *r = lux_realloc(t->results, cap * sizeof *r);
        if (r == NULL)
            return LUX_ENOMEM;
        t->results = r;
        l->caps[k] = cap;
    }
    lux_plot_result_t *r = &t->results[t->nresults++];
    r->iteration = (double)iteration;
    r->time_total_s = time_total_s;
    r->time_attr = NAN;
    r->metric = NAN;
    json_error_t e;
    json_t *m = json_loads(metrics_json != NULL ? metrics_json : "", 0, &e);
    if (!json_is_object(m)) {
        /* The store only writes objects: the row was damaged or written by
         * hand. Plotting around it would draw a curve with a silent gap. */
        snprintf(l->err, l->errlen,
                 "%s: the metrics of trial %s at iteration %ld are not a JSON object (%s); "
                 "repair or delete that row of the results table (docs/store.md) and plot again",
                 lux_store_path(l->store), trial_id, iteration,
                 m == NULL ? e.text : "another JSON value");
        json_decref(m);
        l->bad_row = true;
        t->nresults--;
        return LUX_ESTORE;
    }
    double v;
    if (lux_plot_json_number(m, l->d->metric, &v) == 0) {
        r->metric = v;
        t->has_metric = true;
        t->last_metric = v;
        t->last_iteration = r->iteration;
    }
    if (strcmp(l->d->time_attr, "training_iteration") == 0)
        r->time_attr = r->iteration;
    else if (strcmp(l->d->time_attr, "time_total_s") == 0)
        r->time_attr = time_total_s;
    else if (lux_plot_json_number(m, l->d->time_attr, &v) == 0)
        r->time_attr = v;
    json_decref(m);
    l->d->nresults++;
    return 0;
}

/* ---- decisions ------------------------------------------------------------------- */

static int read_decisions(lux_store_t *store, loader_t *l)
{
    long after = 0;
    for (;;) {
        json_t *page = NULL;
        int rc = lux_store_decisions(store, after, 4096, &page);
        if (rc != 0)
            return rc;
        size_t n = json_array_size(page), i;
        json_t *d;
        json_array_foreach(page, i, d)
        {
            after = (long)json_integer_value(json_object_get(d, "id"));
            const char *source = json_string_value(json_object_get(d, "source"));
            const char *action = json_string_value(json_object_get(d, "action"));
            const char *id = json_string_value(json_object_get(d, "trial_id"));
            if (source == NULL || action == NULL || id == NULL ||
                strcmp(source, "scheduler") != 0 || strcasecmp(action, "stop") != 0)
                continue;
            const json_t *detail = json_object_get(d, "detail");
            const char *reason = json_string_value(json_object_get(detail, "reason"));
            if (reason != NULL && strcmp(reason, "max_t") == 0)
                continue; /* reached the end, not stopped early */
            long k = find_trial(l, id);
            if (k < 0)
                continue;
            lux_plot_trial_t *t = &l->d->trials[k];
            t->stopped = true;
            double m;
            if (lux_plot_json_number(detail, "milestone", &m) == 0)
                t->stop_milestone = m;
        }
        json_decref(page);
        if (n < 4096)
            return 0;
    }
}

/* ---- the experiment ---------------------------------------------------------------- */

static char *dup_or(const char *s, const char *fallback)
{
    return lux_strdup(s != NULL && s[0] != '\0' ? s : fallback);
}

/* Scheduler, time_attr and spaces from the canonical config. A config that
 * does not parse (an old or hand-made store) leaves the spaces NULL: the
 * plots then treat every config key that varies between trials as sampled. */
static int read_config(lux_plot_data_t *d, const json_t *cfg)
{
    const json_t *sched = json_object_get(cfg, "scheduler");
    d->scheduler = dup_or(json_string_value(json_object_get(sched, "type")), "fifo");
    d->time_attr =
        dup_or(json_string_value(json_object_get(sched, "time_attr")), "training_iteration");
    if (d->scheduler == NULL || d->time_attr == NULL)
        return LUX_ENOMEM;
    if (strcmp(d->scheduler, "asha") == 0) {
        lux_plot_json_number(sched, "max_t", &d->max_t);
        lux_plot_json_number(sched, "grace_period", &d->grace_period);
        lux_plot_json_number(sched, "reduction_factor", &d->reduction_factor);
    }
    char err[256];
    const json_t *spec = json_object_get(cfg, "config");
    if (json_is_object(spec) &&
        lux_space_from_json(spec, LUX_SPACE_CONFIG, &d->space, err, sizeof err) == LUX_ENOMEM)
        return LUX_ENOMEM;
    const json_t *mut = json_object_get(sched, "hyperparam_mutations");
    if (json_is_object(mut) && json_object_size(mut) > 0 &&
        lux_space_from_json(mut, LUX_SPACE_MUTATIONS, &d->mutations, err, sizeof err) == LUX_ENOMEM)
        return LUX_ENOMEM;
    return 0;
}

static int read_trials(lux_store_t *store, loader_t *l)
{
    lux_plot_data_t *d = l->d;
    json_t *rows = NULL;
    int rc = lux_store_trials(store, &rows);
    if (rc != 0)
        return rc;
    size_t n = json_array_size(rows);
    d->trials = lux_calloc(n ? n : 1, sizeof *d->trials);
    l->caps = lux_calloc(n ? n : 1, sizeof *l->caps);
    if (d->trials == NULL || l->caps == NULL) {
        json_decref(rows);
        return LUX_ENOMEM;
    }
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        lux_plot_trial_t *t = &d->trials[d->ntrials];
        const char *id = json_string_value(json_object_get(row, "trial_id"));
        if (id == NULL)
            continue;
        t->trial_id = lux_strdup(id);
        if (t->trial_id == NULL) {
            json_decref(rows);
            return LUX_ENOMEM;
        }
        d->ntrials++;
        const char *status = json_string_value(json_object_get(row, "status"));
        if (status == NULL || lux_trial_status_parse(status, &t->status) != 0)
            t->status = LUX_TRIAL_PENDING;
        t->stop_milestone = NAN;
        const char *error = json_string_value(json_object_get(row, "error"));
        if (error != NULL && (t->error = lux_strdup(error)) == NULL) {
            json_decref(rows);
            return LUX_ENOMEM;
        }
        json_t *cfg = json_object_get(row, "config");
        t->config = json_is_object(cfg) ? json_incref(cfg) : json_object();
        json_t *lin = json_object_get(row, "lineage");
        t->lineage = json_is_array(lin) ? json_incref(lin) : json_array();
        json_t *last = json_array_get(t->lineage, json_array_size(t->lineage) - 1);
        json_t *fin = json_object_get(last, "new_config");
        t->final_config = json_incref(json_is_object(fin) ? fin : t->config);
        if (t->config == NULL || t->lineage == NULL ||
            json_object_set_new(l->index, id, json_integer((json_int_t)(d->ntrials - 1))) != 0) {
            json_decref(rows);
            return LUX_ENOMEM;
        }
    }
    json_decref(rows);
    return 0;
}

int lux_plot_data_load(lux_store_t *store, const char *metric, const char *mode,
                       lux_plot_data_t **out, char *err, size_t errlen)
{
    *out = NULL;
    lux_plot_data_t *d = lux_calloc(1, sizeof *d);
    loader_t l = {.d = d, .index = json_object(), .store = store, .err = err, .errlen = errlen};
    int rc = LUX_ENOMEM;
    if (d == NULL || l.index == NULL)
        goto fail;
    d->best = -1;
    rc = lux_store_experiment_get(store, &d->experiment);
    if (rc == LUX_ENOENT) {
        d->experiment = json_object();
        rc = d->experiment ? 0 : LUX_ENOMEM;
    }
    if (rc != 0)
        goto fail_store;
    d->name = json_string_value(json_object_get(d->experiment, "name"));
    if (d->name == NULL)
        d->name = "";
    const json_t *cfg = json_object_get(d->experiment, "config");
    if ((rc = read_config(d, cfg)) != 0)
        goto fail;

    if (metric == NULL || metric[0] == '\0')
        metric = json_string_value(json_object_get(d->experiment, "metric"));
    if (metric == NULL || metric[0] == '\0')
        metric = json_string_value(json_object_get(cfg, "metric"));
    if (metric == NULL || metric[0] == '\0') {
        snprintf(err, errlen, "the experiment names no metric; pass --metric NAME");
        rc = LUX_EINVAL;
        goto fail;
    }
    if (mode == NULL || mode[0] == '\0')
        mode = json_string_value(json_object_get(d->experiment, "mode"));
    if (mode == NULL || mode[0] == '\0')
        mode = json_string_value(json_object_get(cfg, "mode"));
    if (mode == NULL || mode[0] == '\0')
        mode = "max";
    if (strcmp(mode, "max") != 0 && strcmp(mode, "min") != 0) {
        snprintf(err, errlen, "mode must be max or min, not '%s'", mode);
        rc = LUX_EINVAL;
        goto fail;
    }
    d->mode_max = strcmp(mode, "max") == 0;
    d->metric = lux_strdup(metric);
    if (d->metric == NULL)
        goto fail;

    if ((rc = read_trials(store, &l)) != 0)
        goto fail_store;
    l.cur = 0;
    if ((rc = lux_store_results_each(store, on_result, &l)) != 0)
        goto fail_row;
    if ((rc = read_decisions(store, &l)) != 0)
        goto fail_store;

    for (size_t i = 0; i < d->ntrials; i++) {
        const lux_plot_trial_t *t = &d->trials[i];
        if (!t->has_metric)
            continue;
        const lux_plot_trial_t *b = d->best >= 0 ? &d->trials[d->best] : NULL;
        if (b == NULL ||
            (d->mode_max ? t->last_metric > b->last_metric : t->last_metric < b->last_metric))
            d->best = (long)i;
    }
    lux_free(l.caps);
    json_decref(l.index);
    *out = d;
    return 0;

fail_row:
    if (l.bad_row)
        goto fail; /* on_result wrote the message */
fail_store:
    if (rc != LUX_ENOMEM)
        snprintf(err, errlen, "%s", lux_store_errmsg(store));
fail:
    if (rc == LUX_ENOMEM)
        snprintf(err, errlen, "out of memory while reading the experiment");
    lux_free(l.caps);
    json_decref(l.index);
    lux_plot_data_destroy(&d);
    return rc;
}
