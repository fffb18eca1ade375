/*
 * Parallel coordinates (parcoords.h). The axes are built first (kind,
 * categories, range in axis units: log10 for log axes, the category index
 * for categorical ones), then every trial becomes one block of "axis y
 * colour" lines with y normalised to [0, 1], grouped by class into data
 * blocks that the script plots with one element each.
 */
#include "parcoords.h"

#include "alloc.h"
#include "error.h"
#include "table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum { AX_LINEAR, AX_LOG, AX_CAT } axis_kind_t;

typedef struct {
    char *path; /* dotted path in a trial's config */
    axis_kind_t kind;
    json_t *cats; /* AX_CAT: the values, in axis order */
    double lo, hi;
    bool has_range;
} axis_t;

typedef struct {
    axis_t *v;
    size_t n;
} axes_t;

/* Trial classes, in drawing order (later ones on top). */
enum { CLASS_NO_RESULT, CLASS_ERROR, CLASS_STOPPED, CLASS_OK, CLASS_BEST, CLASS_COUNT };

static void axes_fini(axes_t *a)
{
    for (size_t i = 0; i < a->n; i++) {
        lux_free(a->v[i].path);
        json_decref(a->v[i].cats);
    }
    lux_free(a->v);
}

static axis_t *axes_find(axes_t *a, const char *path)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].path, path) == 0)
            return &a->v[i];
    return NULL;
}

static axis_t *axes_add(axes_t *a, const char *path, axis_kind_t kind)
{
    axis_t *v = lux_realloc(a->v, (a->n + 1) * sizeof *v);
    if (v == NULL)
        return NULL;
    a->v = v;
    axis_t *ax = &v[a->n];
    memset(ax, 0, sizeof *ax);
    ax->kind = kind;
    ax->path = lux_strdup(path);
    ax->cats = kind == AX_CAT ? json_array() : NULL;
    if (ax->path == NULL || (kind == AX_CAT && ax->cats == NULL)) {
        lux_free(ax->path);
        json_decref(ax->cats);
        return NULL;
    }
    a->n++;
    return ax;
}

static void extend(axis_t *ax, double lo, double hi)
{
    if (!ax->has_range) {
        ax->lo = lo;
        ax->hi = hi;
        ax->has_range = true;
        return;
    }
    if (lo < ax->lo)
        ax->lo = lo;
    if (hi > ax->hi)
        ax->hi = hi;
}

static int add_domain(axes_t *a, const lux_domain_t *d)
{
    if (d->kind == LUX_DOMAIN_CONSTANT || axes_find(a, d->path) != NULL)
        return 0;
    axis_kind_t kind = AX_LINEAR;
    switch (d->kind) {
    case LUX_DOMAIN_CHOICE:
    case LUX_DOMAIN_GRID:
    case LUX_DOMAIN_LIST:
        kind = AX_CAT;
        break;
    case LUX_DOMAIN_LOGUNIFORM:
    case LUX_DOMAIN_QLOGUNIFORM:
    case LUX_DOMAIN_LOGRANDINT:
    case LUX_DOMAIN_QLOGRANDINT:
        kind = AX_LOG;
        break;
    default:
        break;
    }
    axis_t *ax = axes_add(a, d->path, kind);
    if (ax == NULL)
        return LUX_ENOMEM;
    if (kind == AX_CAT) {
        size_t i;
        const json_t *v;
        json_array_foreach(d->values, i, v)
        {
            if (json_array_append_new(ax->cats, json_deep_copy(v)) != 0)
                return LUX_ENOMEM;
        }
    } else if (kind == AX_LOG && d->lower > 0 && d->upper > 0) {
        extend(ax, log10(d->lower), log10(d->upper));
    } else if (kind == AX_LINEAR && d->kind != LUX_DOMAIN_RANDN && d->kind != LUX_DOMAIN_QRANDN) {
        extend(ax, d->lower, d->upper);
    }
    return 0;
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Without a stored search space: every flattened config key whose value is
 * not the same in all trials; numeric ones linear, others categorical. */
static int infer_axes(axes_t *a, const lux_plot_data_t *d)
{
    json_t *first = json_object();   /* key -> first value seen */
    json_t *varies = json_object();  /* key -> true, in first-seen order of variation */
    json_t *numeric = json_object(); /* key -> false when a value is not a number */
    const char **keys = NULL;
    int rc = LUX_ENOMEM;
    if (first == NULL || varies == NULL || numeric == NULL)
        goto done;
    for (size_t t = 0; t < d->ntrials; t++) {
        json_t *flat = json_object();
        if (flat == NULL || lux_table_flatten(d->trials[t].final_config, NULL, flat) != 0) {
            json_decref(flat);
            goto done;
        }
        const char *k;
        json_t *v;
        json_object_foreach(flat, k, v)
        {
            json_t *f = json_object_get(first, k);
            if (f == NULL)
                json_object_set(first, k, v);
            else if (!json_equal(f, v) && json_object_get(varies, k) == NULL)
                json_object_set_new(varies, k, json_true());
            if (!json_is_number(v))
                json_object_set_new(numeric, k, json_false());
        }
        json_decref(flat);
    }
    /* A key missing from some trials varies too; those are rare and their
     * values show as gaps, so only keys with two distinct values count. */
    /* Axes in sorted path order, as a space lists its variables. */
    size_t nk = json_object_size(varies), i = 0;
    keys = lux_malloc((nk ? nk : 1) * sizeof *keys);
    if (keys == NULL)
        goto done;
    const char *k;
    json_t *v;
    json_object_foreach(varies, k, v) keys[i++] = k;
    qsort(keys, nk, sizeof *keys, by_string);
    for (i = 0; i < nk; i++) {
        char *path = lux_strdup(keys[i]);
        if (path == NULL)
            goto done;
        for (char *p = path; *p != '\0'; p++)
            if (*p == '/')
                *p = '.';
        axis_t *ax = axes_add(a, path, json_object_get(numeric, keys[i]) ? AX_CAT : AX_LINEAR);
        lux_free(path);
        if (ax == NULL)
            goto done;
    }
    rc = 0;
done:
    lux_free(keys);
    json_decref(first);
    json_decref(varies);
    json_decref(numeric);
    return rc;
}

/* Adds every trial's value to its axis: categories seen for the first time,
 * and the range of numeric axes. */
static int observe(axes_t *a, const lux_plot_data_t *d)
{
    for (size_t i = 0; i < a->n; i++) {
        axis_t *ax = &a->v[i];
        for (size_t t = 0; t < d->ntrials; t++) {
            const json_t *v = lux_plot_config_value(d->trials[t].final_config, ax->path);
            if (v == NULL)
                continue;
            if (ax->kind == AX_CAT) {
                size_t j;
                json_t *c;
                int found = 0;
                json_array_foreach(ax->cats, j, c)
                {
                    if (json_equal(c, v)) {
                        found = 1;
                        break;
                    }
                }
                if (!found && json_array_append_new(ax->cats, json_deep_copy(v)) != 0)
                    return LUX_ENOMEM;
            } else if (json_is_number(v)) {
                double x = json_number_value(v);
                if (ax->kind == AX_LOG) {
                    if (x <= 0)
                        continue;
                    x = log10(x);
                }
                extend(ax, x, x);
            }
        }
    }
    return 0;
}

/* A degenerate range gets some room so the line sits in the middle. */
static void widen(double *lo, double *hi, bool log_axis)
{
    if (*hi > *lo)
        return;
    double pad = log_axis ? 0.5 : (*lo == 0 ? 1 : fabs(*lo) * 0.1);
    *lo -= pad;
    *hi += pad;
}

/* The normalised position of a trial on an axis, NaN when it has none. */
static double position(const axis_t *ax, const json_t *config)
{
    const json_t *v = lux_plot_config_value(config, ax->path);
    if (v == NULL)
        return NAN;
    if (ax->kind == AX_CAT) {
        size_t n = json_array_size(ax->cats), j;
        json_t *c;
        json_array_foreach(ax->cats, j, c)
        {
            if (json_equal(c, v))
                return n > 1 ? (double)j / (double)(n - 1) : 0.5;
        }
        return NAN;
    }
    if (!json_is_number(v))
        return NAN;
    double x = json_number_value(v);
    if (ax->kind == AX_LOG) {
        if (x <= 0)
            return NAN;
        x = log10(x);
    }
    return (x - ax->lo) / (ax->hi - ax->lo);
}

static int trial_class(const lux_plot_data_t *d, size_t i)
{
    const lux_plot_trial_t *t = &d->trials[i];
    if (t->status == LUX_TRIAL_ERROR)
        return CLASS_ERROR;
    if (!t->has_metric)
        return CLASS_NO_RESULT;
    if (t->stopped)
        return CLASS_STOPPED;
    return CLASS_OK;
}

/* Sort order inside a class: worse metric first, so the better lines are
 * drawn on top; ties in creation order (deterministic). arg is the data. */
static int by_metric(const void *pa, const void *pb, void *arg)
{
    const lux_plot_data_t *d = arg;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    const lux_plot_trial_t *ta = &d->trials[a], *tb = &d->trials[b];
    double sign = d->mode_max ? 1 : -1;
    double ma = ta->has_metric ? sign * ta->last_metric : -INFINITY;
    double mb = tb->has_metric ? sign * tb->last_metric : -INFINITY;
    if (ma != mb)
        return ma < mb ? -1 : 1;
    return a < b ? -1 : a > b;
}

static void put_trial(FILE *f, const axes_t *a, const lux_plot_trial_t *t, double mlo, double mhi)
{
    for (size_t i = 0; i < a->n; i++) {
        fprintf(f, "%zu ", i + 1);
        lux_plot_put_num(f, position(&a->v[i], t->final_config));
        fputc(' ', f);
        lux_plot_put_num(f, t->has_metric ? t->last_metric : NAN);
        fputc('\n', f);
    }
    fprintf(f, "%zu ", a->n + 1);
    lux_plot_put_num(f, t->has_metric ? (t->last_metric - mlo) / (mhi - mlo) : NAN);
    fputc(' ', f);
    lux_plot_put_num(f, t->has_metric ? t->last_metric : NAN);
    fputs("\n\n", f);
}

/* Tick marks and labels of one axis at x. */
static void put_ticks(FILE *f, const axis_t *ax, size_t x)
{
    double ticks[64];
    size_t n = 0;
    if (ax->kind == AX_CAT) {
        size_t nc = json_array_size(ax->cats);
        size_t every = nc > 24 ? (nc + 23) / 24 : 1;
        for (size_t j = 0; j < nc; j += every) {
            char text[256];
            lux_table_format(json_array_get(ax->cats, j), text, sizeof text);
            double y = nc > 1 ? (double)j / (double)(nc - 1) : 0.5;
            fputs("set label ", f);
            lux_gnuplot_put_string(f, text, 24, 0);
            fprintf(f,
                    " at %zu,%.6f right offset character -0.8,0 front boxed font ',8' tc rgb "
                    "'#202020'\n",
                    x, y);
            fprintf(f, "set arrow from %zu,%.6f to %.4f,%.6f nohead front lc rgb '#303030'\n", x, y,
                    x - 0.03, y);
        }
        return;
    }
    if (ax->kind == AX_LOG)
        n = lux_plot_log_ticks(ax->lo, ax->hi, ticks, 64);
    else
        n = lux_plot_linear_ticks(ax->lo, ax->hi, ticks, 64);
    for (size_t j = 0; j < n; j++) {
        double u = ax->kind == AX_LOG ? log10(ticks[j]) : ticks[j];
        double y = (u - ax->lo) / (ax->hi - ax->lo);
        if (y < -1e-9 || y > 1 + 1e-9)
            continue;
        char text[64];
        lux_plot_format_tick(ticks[j], text, sizeof text);
        fprintf(f,
                "set label '%s' at %zu,%.6f right offset character -0.8,0 front boxed font ',8' "
                "tc rgb '#202020'\n",
                text, x, y);
        fprintf(f, "set arrow from %zu,%.6f to %.4f,%.6f nohead front lc rgb '#303030'\n", x, y,
                x - 0.03, y);
    }
}

int lux_parcoords_write(lux_plot_ctx_t *ctx)
{
    const lux_plot_data_t *d = ctx->data;
    axes_t axes = {0};
    size_t *order = NULL;
    FILE *dat = NULL, *gp = NULL;
    int rc = LUX_ENOMEM;

    if (d->space != NULL)
        for (size_t i = 0; i < lux_space_num_variables(d->space); i++)
            if (add_domain(&axes, lux_space_variable(d->space, i)) != 0)
                goto fail;
    if (d->mutations != NULL)
        for (size_t i = 0; i < lux_space_num_variables(d->mutations); i++)
            if (add_domain(&axes, lux_space_variable(d->mutations, i)) != 0)
                goto fail;
    if (d->space == NULL && d->mutations == NULL && infer_axes(&axes, d) != 0)
        goto fail;
    if (observe(&axes, d) != 0)
        goto fail;
    for (size_t i = 0; i < axes.n; i++) {
        axis_t *ax = &axes.v[i];
        if (ax->kind != AX_CAT) {
            if (!ax->has_range)
                extend(ax, 0, 1);
            widen(&ax->lo, &ax->hi, ax->kind == AX_LOG);
        }
    }
    double mlo = INFINITY, mhi = -INFINITY;
    for (size_t t = 0; t < d->ntrials; t++) {
        if (!d->trials[t].has_metric)
            continue;
        if (d->trials[t].last_metric < mlo)
            mlo = d->trials[t].last_metric;
        if (d->trials[t].last_metric > mhi)
            mhi = d->trials[t].last_metric;
    }
    if (mlo > mhi)
        mlo = 0, mhi = 1;
    widen(&mlo, &mhi, false);

    /* Data: one block per class, trials sorted inside it. */
    order = lux_malloc((d->ntrials ? d->ntrials : 1) * sizeof *order);
    if (order == NULL)
        goto fail;
    if ((dat = lux_plot_open(ctx, "parcoords", "dat")) == NULL) {
        rc = LUX_EIO;
        goto fail;
    }
    int block[CLASS_COUNT];
    size_t count[CLASS_COUNT] = {0};
    int nblocks = 0;
    for (int c = 0; c < CLASS_COUNT; c++) {
        size_t n = 0;
        for (size_t t = 0; t < d->ntrials; t++)
            if (c == CLASS_BEST ? (long)t == d->best : trial_class(d, t) == c)
                order[n++] = t;
        block[c] = -1;
        count[c] = n;
        if (n == 0)
            continue;
        qsort_r(order, n, sizeof *order, by_metric, (void *)d);
        fprintf(dat, "# %s\n", c == CLASS_BEST ? "best" : c == CLASS_OK ? "completed" : "other");
        for (size_t j = 0; j < n; j++)
            put_trial(dat, &axes, &d->trials[order[j]], mlo, mhi);
        fputs("\n", dat); /* two blank lines end a data block */
        block[c] = nblocks++;
    }
    rc = lux_plot_close(ctx, dat, "parcoords", "dat");
    dat = NULL;
    if (rc != 0)
        goto fail_closed;

    /* The script. */
    if ((gp = lux_plot_open(ctx, "parcoords", "gp")) == NULL) {
        rc = LUX_EIO;
        goto fail;
    }
    size_t naxes = axes.n + 1;
    int width = (int)(260 + 150 * naxes);
    width = width < 900 ? 900 : width > 3200 ? 3200 : width;
    lux_plot_put_preamble(ctx, gp, "parcoords", width, 640);
    char title[512];
    snprintf(title, sizeof title, "%s: %zu trials by their last %s (%s)", d->name, d->ntrials,
             d->metric, d->mode_max ? "max" : "min");
    fputs("set title ", gp);
    lux_gnuplot_put_string(gp, title, 110, 0);
    fputs("\nunset border\nunset ytics\nunset grid\n", gp);
    /* Tick labels on a white box, readable over thousands of lines. */
    fputs("set style textbox opaque noborder margins 1,1\n", gp);
    fprintf(gp, "set xrange [0.55:%zu.45]\nset yrange [-0.03:1.03]\n", naxes);
    fputs("set key below samplen 3 spacing 1.3\nset bmargin 5\n", gp);
    fputs("set xtics scale 0 nomirror font ',9' (", gp);
    for (size_t i = 0; i < naxes; i++) {
        if (i > 0)
            fputs(", ", gp);
        const char *name = i < axes.n ? axes.v[i].path : d->metric;
        bool log_axis = i < axes.n && axes.v[i].kind == AX_LOG;
        char *q = lux_gnuplot_string(name, 28, LUX_GNUPLOT_TIC);
        if (q != NULL)
            fprintf(gp, "%.*s%s'", (int)strlen(q) - 1, q, log_axis ? " (log)" : "");
        lux_free(q);
        fprintf(gp, " %zu", i + 1);
    }
    fputs(")\n", gp);
    for (size_t i = 0; i < naxes; i++)
        fprintf(gp, "set arrow from %zu,0 to %zu,1 nohead front lw 1.5 lc rgb '#303030'\n", i + 1,
                i + 1);
    for (size_t i = 0; i < axes.n; i++)
        put_ticks(gp, &axes.v[i], i + 1);
    axis_t maxis = {.kind = AX_LINEAR, .lo = mlo, .hi = mhi};
    put_ticks(gp, &maxis, naxes);

    bool palette = count[CLASS_OK] + count[CLASS_STOPPED] + count[CLASS_BEST] > 0;
    lux_plot_put_palette(gp, d->mode_max);
    if (palette) {
        fputs("set colorbox user origin graph 1.02, graph 0 size character 1.5, graph 1\n", gp);
        fprintf(gp, "set cbrange [%.10g:%.10g]\nset cblabel ", mlo, mhi);
        lux_gnuplot_put_string(gp, d->metric, 44, 0);
        fputs("\nset rmargin 14\n", gp);
    } else {
        fputs("unset colorbox\n", gp);
    }
    double lw = d->ntrials > 1000 ? 0.5 : d->ntrials > 100 ? 1 : 1.5;
    static const char *const names[CLASS_COUNT] = {"no result", "ERROR", "stopped early",
                                                   "completed", "best"};
    int first = 1;
    if (d->ntrials == 0)
        fputs("set label 'no trials yet' at graph 0.5, graph 0.5 center\n", gp);
    fputs("plot ", gp);
    for (int c = 0; c < CLASS_COUNT; c++) {
        if (block[c] < 0)
            continue;
        if (!first)
            fputs(", \\\n     ", gp);
        fprintf(gp, "'data/parcoords.dat' index %d using 1:2", block[c]);
        switch (c) {
        case CLASS_NO_RESULT:
            fprintf(gp, " with lines lw %.1f lc rgb '#d0d0d0'", lw);
            break;
        case CLASS_ERROR:
            fprintf(gp, " with lines lw %.1f dt 2 lc rgb '#8a8a8a'", lw);
            break;
        case CLASS_STOPPED:
            fprintf(gp, ":3 with lines lw %.1f dt 3 lc palette", lw);
            break;
        case CLASS_OK:
            fprintf(gp, ":3 with lines lw %.1f lc palette", lw);
            break;
        default:
            fputs(" with lines lw 3.5 lc rgb '#000000'", gp);
            break;
        }
        char key[320];
        if (c == CLASS_BEST)
            snprintf(key, sizeof key, "best: %s", d->trials[d->best].trial_id);
        else
            snprintf(key, sizeof key, "%s (%zu)", names[c], count[c]);
        fputs(" title ", gp);
        lux_gnuplot_put_string(gp, key, 48, 0);
        first = 0;
    }
    if (first) {
        /* No trials: an empty frame that says so (y = 2 is off the range). */
        fputs("2 notitle", gp);
    }
    fputs("\n", gp);
    rc = lux_plot_close(ctx, gp, "parcoords", "gp");
    gp = NULL;
    if (rc != 0)
        goto fail_closed;

    size_t errors, stopped, others;
    lux_plot_data_counts(d, &errors, &stopped, &others);
    char caption[512];
    snprintf(caption, sizeof caption,
             "One line per trial (%zu), through its sampled hyperparameters and its last %s, "
             "coloured by that value (bright is better). Dotted: stopped early by the scheduler "
             "(%zu); grey dashed: ended in ERROR (%zu); black: the best trial.",
             d->ntrials, d->metric, stopped, errors);
    rc = lux_plot_add_figure(ctx, "parcoords", "Parallel coordinates", caption);
    if (rc != 0)
        snprintf(ctx->err, ctx->errlen, "out of memory");
    lux_free(order);
    axes_fini(&axes);
    return rc;

fail:
    if (rc == LUX_ENOMEM)
        snprintf(ctx->err, ctx->errlen, "out of memory");
    if (dat != NULL)
        fclose(dat);
    if (gp != NULL)
        fclose(gp);
fail_closed:
    lux_free(order);
    axes_fini(&axes);
    return rc;
}
