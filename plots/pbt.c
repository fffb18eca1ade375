/*
 * PBT plots (pbt.h). A lineage entry is {time, donor (the donor's trial
 * index, which is its position in creation order), donor_time, old_config,
 * new_config}; entries that lack a field are skipped, never trusted.
 */
#include "pbt.h"

#include "alloc.h"
#include "error.h"
#include "table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PANELS 8

typedef enum { P_LINEAR, P_LOG, P_CAT } param_kind_t;

typedef struct {
    const char *path; /* borrowed from the space */
    param_kind_t kind;
    json_t *cats; /* P_CAT: values in axis order */
} param_t;

bool lux_pbt_plots_apply(const lux_plot_data_t *d)
{
    if (strcmp(d->scheduler, "pbt") == 0)
        return true;
    for (size_t i = 0; i < d->ntrials; i++)
        if (json_array_size(d->trials[i].lineage) > 0)
            return true;
    return false;
}

static param_kind_t kind_of(const lux_domain_t *dom)
{
    switch (dom->kind) {
    case LUX_DOMAIN_CHOICE:
    case LUX_DOMAIN_GRID:
    case LUX_DOMAIN_LIST:
        return P_CAT;
    case LUX_DOMAIN_LOGUNIFORM:
    case LUX_DOMAIN_QLOGUNIFORM:
    case LUX_DOMAIN_LOGRANDINT:
    case LUX_DOMAIN_QLOGRANDINT:
        return P_LOG;
    default:
        return P_LINEAR;
    }
}

/* True when some exploit changed the value at path. */
static bool changed_by_exploit(const lux_plot_data_t *d, const char *path)
{
    for (size_t i = 0; i < d->ntrials; i++) {
        size_t j;
        json_t *e;
        json_array_foreach(d->trials[i].lineage, j, e)
        {
            const json_t *a = lux_plot_config_value(json_object_get(e, "old_config"), path);
            const json_t *b = lux_plot_config_value(json_object_get(e, "new_config"), path);
            if (b != NULL && (a == NULL || !json_equal(a, b)))
                return true;
        }
    }
    return false;
}

static int add_param(param_t *ps, size_t *n, const lux_domain_t *dom)
{
    if (*n == MAX_PANELS || dom->kind == LUX_DOMAIN_CONSTANT)
        return 0;
    for (size_t i = 0; i < *n; i++)
        if (strcmp(ps[i].path, dom->path) == 0)
            return 0;
    param_t *p = &ps[*n];
    p->path = dom->path;
    p->kind = kind_of(dom);
    p->cats = NULL;
    if (p->kind == P_CAT) {
        p->cats = json_array();
        if (p->cats == NULL)
            return LUX_ENOMEM;
        size_t i;
        const json_t *v;
        json_array_foreach(dom->values, i, v)
        {
            if (json_array_append_new(p->cats, json_deep_copy(v)) != 0) {
                json_decref(p->cats);
                return LUX_ENOMEM;
            }
        }
    }
    (*n)++;
    return 0;
}

/* The category index of v, appending it when new; -1 on allocation
 * failure. */
static long cat_index(json_t *cats, const json_t *v)
{
    size_t i;
    json_t *c;
    json_array_foreach(cats, i, c)
    {
        if (json_equal(c, v))
            return (long)i;
    }
    if (json_array_append_new(cats, json_deep_copy(v)) != 0)
        return -1;
    return (long)json_array_size(cats) - 1;
}

/* A parameter's value as a y coordinate (NaN when absent or unplottable). */
static double param_y(param_t *p, const json_t *config)
{
    const json_t *v = lux_plot_config_value(config, p->path);
    if (v == NULL)
        return NAN;
    if (p->kind == P_CAT) {
        long k = cat_index(p->cats, v);
        return k < 0 ? NAN : (double)k;
    }
    if (!json_is_number(v))
        return NAN;
    double x = json_number_value(v);
    return p->kind == P_LOG && x <= 0 ? NAN : x;
}

/* The last finite time_attr a trial reported, NaN when none. */
static double end_time(const lux_plot_trial_t *t)
{
    for (size_t j = t->nresults; j > 0; j--)
        if (isfinite(t->results[j - 1].time_attr))
            return t->results[j - 1].time_attr;
    return NAN;
}

/* The trial's metric at its latest result with time_attr <= x, NaN when
 * none. */
static double metric_at(const lux_plot_trial_t *t, double x)
{
    double m = NAN;
    for (size_t j = 0; j < t->nresults; j++) {
        if (t->results[j].time_attr <= x && isfinite(t->results[j].metric))
            m = t->results[j].metric;
    }
    return m;
}

static void put_xy(FILE *f, double x, double y, double c)
{
    lux_plot_put_num(f, x);
    fputc(' ', f);
    lux_plot_put_num(f, y);
    fputc(' ', f);
    lux_plot_put_num(f, c);
    fputc('\n', f);
}

static void put_title(FILE *f, const lux_plot_data_t *d, const char *what)
{
    char text[512];
    snprintf(text, sizeof text, "%s: %s", d->name, what);
    lux_gnuplot_put_string(f, text, 110, 0);
}

/* ---- pbt_params ------------------------------------------------------------------- */

static int write_params(lux_plot_ctx_t *ctx, param_t *ps, size_t np)
{
    const lux_plot_data_t *d = ctx->data;
    FILE *f = lux_plot_open(ctx, "pbt_params", "dat");
    if (f == NULL)
        return LUX_EIO;
    /* Per parameter: a block of step lines (one sub-block per trial), then a
     * block of exploit dots when there are any. */
    int line_block[MAX_PANELS], dot_block[MAX_PANELS];
    int nblocks = 0;
    for (size_t p = 0; p < np; p++) {
        fprintf(f, "# %zu: time value trial\n", p);
        size_t lines = 0;
        for (size_t i = 0; i < d->ntrials; i++) {
            const lux_plot_trial_t *t = &d->trials[i];
            double y = param_y(&ps[p], t->config);
            if (!isfinite(y))
                continue;
            double c = (double)(i % 8) + 1;
            put_xy(f, 0, y, c);
            size_t j;
            json_t *e;
            double last_x = 0;
            json_array_foreach(t->lineage, j, e)
            {
                double x;
                if (lux_plot_json_number(e, "time", &x) != 0)
                    continue;
                double ny = param_y(&ps[p], json_object_get(e, "new_config"));
                if (!isfinite(ny))
                    continue;
                /* A step: along at the old value, then up or down to the new. */
                put_xy(f, x, y, c);
                put_xy(f, x, ny, c);
                y = ny;
                last_x = x;
            }
            double end = end_time(t);
            put_xy(f, isfinite(end) && end > last_x ? end : last_x, y, c);
            fputc('\n', f);
            lines++;
        }
        line_block[p] = -1;
        if (lines > 0) {
            fputc('\n', f);
            line_block[p] = nblocks++;
        }
        size_t dots = 0;
        for (size_t i = 0; i < d->ntrials; i++) {
            size_t j;
            json_t *e;
            json_array_foreach(d->trials[i].lineage, j, e)
            {
                double x;
                double ny = param_y(&ps[p], json_object_get(e, "new_config"));
                if (lux_plot_json_number(e, "time", &x) != 0 || !isfinite(ny))
                    continue;
                put_xy(f, x, ny, (double)(i % 8) + 1);
                dots++;
            }
        }
        dot_block[p] = -1;
        if (dots > 0) {
            fputs("\n\n", f);
            dot_block[p] = nblocks++;
        }
    }
    int rc = lux_plot_close(ctx, f, "pbt_params", "dat");
    if (rc != 0)
        return rc;

    if ((f = lux_plot_open(ctx, "pbt_params", "gp")) == NULL)
        return LUX_EIO;
    size_t panels = np ? np : 1;
    lux_plot_put_preamble(ctx, f, "pbt_params", 1100, (int)(90 + 230 * panels));
    fprintf(f, "set multiplot layout %zu,1 title ", panels);
    put_title(f, d, "hyperparameters over time (dots: exploits)");
    fputs("\nset key off\n", f);
    for (size_t p = 0; p < np; p++) {
        fputs("set ylabel ", f);
        char *q = lux_gnuplot_string(ps[p].path, 40, 0);
        if (q != NULL)
            fprintf(f, "%.*s%s'", (int)strlen(q) - 1, q, ps[p].kind == P_LOG ? " (log)" : "");
        lux_free(q);
        fputs("\n", f);
        if (p + 1 == np) {
            fputs("set xlabel ", f);
            lux_gnuplot_put_string(f, d->time_attr, 80, 0);
            fputs("\n", f);
        }
        if (ps[p].kind == P_LOG)
            fputs("set logscale y\n", f);
        else
            fputs("unset logscale y\n", f);
        if (ps[p].kind == P_CAT) {
            size_t nc = json_array_size(ps[p].cats);
            fprintf(f, "set yrange [-0.5:%zu.5]\nset ytics (", nc ? nc - 1 : 0);
            for (size_t k = 0; k < nc; k++) {
                char text[256];
                lux_table_format(json_array_get(ps[p].cats, k), text, sizeof text);
                fputs(k ? ", " : "", f);
                lux_gnuplot_put_string(f, text, 20, LUX_GNUPLOT_TIC);
                fprintf(f, " %zu", k);
            }
            fputs(")\n", f);
        } else {
            fputs("set yrange [*:*]\nset ytics autofreq\n", f);
        }
        fputs("set autoscale x\n", f);
        if (line_block[p] < 0) {
            fputs("set yrange [0:1]\nplot 2 notitle\n", f);
            continue;
        }
        fprintf(f, "plot 'data/pbt_params.dat' index %d using 1:2:3 with lines lw 1.5 lc variable",
                line_block[p]);
        if (dot_block[p] >= 0)
            fprintf(f,
                    ", \\\n     'data/pbt_params.dat' index %d using 1:2:3 with points pt 7 ps 0.9 "
                    "lc variable",
                    dot_block[p]);
        fputs("\n", f);
    }
    if (np == 0)
        fputs("set xrange [0:1]\nset yrange [0:1]\n"
              "set label 'no hyperparameter changed' at graph 0.5, graph 0.5 center\n"
              "plot 2 notitle\n",
              f);
    fputs("unset multiplot\n", f);
    return lux_plot_close(ctx, f, "pbt_params", "gp");
}

/* ---- pbt_lineage ------------------------------------------------------------------- */

static int write_lineage(lux_plot_ctx_t *ctx)
{
    const lux_plot_data_t *d = ctx->data;
    FILE *f = lux_plot_open(ctx, "pbt_lineage", "dat");
    if (f == NULL)
        return LUX_EIO;
    size_t spans = 0, arrows = 0;
    fputs("# trial spans: time trial\n", f);
    for (size_t i = 0; i < d->ntrials; i++) {
        double end = end_time(&d->trials[i]);
        if (!isfinite(end))
            continue;
        put_xy(f, 0, (double)i, (double)(i % 8) + 1);
        put_xy(f, end, (double)i, (double)(i % 8) + 1);
        fputc('\n', f);
        spans++;
    }
    int span_block = -1, arrow_block = -1, nblocks = 0;
    if (spans > 0) {
        fputc('\n', f);
        span_block = nblocks++;
    }
    fputs("# exploits: donor_time donor dtime dtrial\n", f);
    for (size_t i = 0; i < d->ntrials; i++) {
        size_t j;
        json_t *e;
        json_array_foreach(d->trials[i].lineage, j, e)
        {
            double x, dx, donor;
            if (lux_plot_json_number(e, "time", &x) != 0 ||
                lux_plot_json_number(e, "donor", &donor) != 0 || donor < 0 ||
                donor >= (double)d->ntrials)
                continue;
            if (lux_plot_json_number(e, "donor_time", &dx) != 0)
                dx = x;
            fprintf(f, "%.10g %.10g %.10g %.10g\n", dx, donor, x - dx, (double)i - donor);
            arrows++;
        }
    }
    if (arrows > 0) {
        fputs("\n\n", f);
        arrow_block = nblocks++;
    }
    int rc = lux_plot_close(ctx, f, "pbt_lineage", "dat");
    if (rc != 0)
        return rc;

    if ((f = lux_plot_open(ctx, "pbt_lineage", "gp")) == NULL)
        return LUX_EIO;
    int height = (int)(160 + 26 * d->ntrials);
    height = height < 420 ? 420 : height > 2400 ? 2400 : height;
    lux_plot_put_preamble(ctx, f, "pbt_lineage", 1100, height);
    fputs("set title ", f);
    put_title(f, d, "lineage (arrows: donor -> trial at each exploit)");
    fputs("\nset xlabel ", f);
    lux_gnuplot_put_string(f, d->time_attr, 80, 0);
    fprintf(f, "\nset ylabel 'trial'\nset yrange [-0.7:%zu.7]\nset key off\n",
            d->ntrials ? d->ntrials - 1 : 0);
    if (d->ntrials > 0 && d->ntrials <= 60) {
        fputs("set ytics font ',8' (", f);
        for (size_t i = 0; i < d->ntrials; i++) {
            fputs(i ? ", " : "", f);
            lux_gnuplot_put_string(f, d->trials[i].trial_id, 32, LUX_GNUPLOT_TIC);
            fprintf(f, " %zu", i);
        }
        fputs(")\n", f);
    }
    if (span_block < 0 && arrow_block < 0) {
        fputs("set xrange [0:1]\nset label 'no results yet' at graph 0.5, graph 0.5 center\n"
              "plot 2 notitle\n",
              f);
        return lux_plot_close(ctx, f, "pbt_lineage", "gp");
    }
    fputs("plot ", f);
    if (span_block >= 0)
        fprintf(f, "'data/pbt_lineage.dat' index %d using 1:2:3 with lines lw 3 lc variable",
                span_block);
    if (arrow_block >= 0)
        fprintf(f,
                "%s'data/pbt_lineage.dat' index %d using 1:2:3:4 with vectors head filled "
                "size screen 0.012,20 lw 1.5 lc rgb '#202020'",
                span_block >= 0 ? ", \\\n     " : "", arrow_block);
    fputs("\n", f);
    return lux_plot_close(ctx, f, "pbt_lineage", "gp");
}

/* ---- pbt_score ----------------------------------------------------------------------- */

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int write_score(lux_plot_ctx_t *ctx)
{
    const lux_plot_data_t *d = ctx->data;
    FILE *f = lux_plot_open(ctx, "pbt_score", "dat");
    if (f == NULL)
        return LUX_EIO;
    int nblocks = 0, line_block = -1, pop_block = -1, dot_block = -1;
    size_t lines = 0, npoints = 0;
    fputs("# trials: time metric trial\n", f);
    for (size_t i = 0; i < d->ntrials; i++) {
        const lux_plot_trial_t *t = &d->trials[i];
        size_t n = 0;
        for (size_t j = 0; j < t->nresults; j++) {
            if (!isfinite(t->results[j].time_attr) || !isfinite(t->results[j].metric))
                continue;
            put_xy(f, t->results[j].time_attr, t->results[j].metric, (double)(i % 8) + 1);
            n++;
        }
        if (n > 0) {
            fputc('\n', f);
            lines++;
            npoints += n;
        }
    }
    if (lines > 0) {
        fputc('\n', f);
        line_block = nblocks++;
    }

    /* The population on a grid of the times reported (at most 400). */
    double *times = lux_malloc((npoints ? npoints : 1) * sizeof *times);
    if (times == NULL) {
        fclose(f);
        snprintf(ctx->err, ctx->errlen, "out of memory");
        return LUX_ENOMEM;
    }
    size_t nt = 0;
    for (size_t i = 0; i < d->ntrials; i++)
        for (size_t j = 0; j < d->trials[i].nresults; j++) {
            const lux_plot_result_t *r = &d->trials[i].results[j];
            if (isfinite(r->time_attr) && isfinite(r->metric))
                times[nt++] = r->time_attr;
        }
    qsort(times, nt, sizeof *times, by_double);
    size_t nu = 0;
    for (size_t k = 0; k < nt; k++)
        if (nu == 0 || times[k] != times[nu - 1])
            times[nu++] = times[k];
    size_t ngrid = nu > 400 ? 400 : nu;
    fputs("# population: time best mean\n", f);
    for (size_t g = 0; g < ngrid; g++) {
        double x = times[ngrid == nu ? g : (size_t)((double)g * (double)(nu - 1) / 399.0)];
        double best = NAN, sum = 0;
        size_t n = 0;
        for (size_t i = 0; i < d->ntrials; i++) {
            double m = metric_at(&d->trials[i], x);
            if (!isfinite(m))
                continue;
            if (!isfinite(best) || (d->mode_max ? m > best : m < best))
                best = m;
            sum += m;
            n++;
        }
        put_xy(f, x, best, n ? sum / (double)n : NAN);
    }
    lux_free(times);
    if (ngrid > 0) {
        fputs("\n\n", f);
        pop_block = nblocks++;
    }
    size_t dots = 0;
    fputs("# exploits: time metric trial\n", f);
    for (size_t i = 0; i < d->ntrials; i++) {
        size_t j;
        json_t *e;
        json_array_foreach(d->trials[i].lineage, j, e)
        {
            double x;
            if (lux_plot_json_number(e, "time", &x) != 0)
                continue;
            double m = metric_at(&d->trials[i], x);
            if (!isfinite(m))
                continue;
            put_xy(f, x, m, (double)(i % 8) + 1);
            dots++;
        }
    }
    if (dots > 0) {
        fputs("\n\n", f);
        dot_block = nblocks++;
    }
    int rc = lux_plot_close(ctx, f, "pbt_score", "dat");
    if (rc != 0)
        return rc;

    if ((f = lux_plot_open(ctx, "pbt_score", "gp")) == NULL)
        return LUX_EIO;
    lux_plot_put_preamble(ctx, f, "pbt_score", 1100, 640);
    fputs("set title ", f);
    put_title(f, d, "the population's score over time");
    fputs("\nset xlabel ", f);
    lux_gnuplot_put_string(f, d->time_attr, 80, 0);
    fputs("\nset ylabel ", f);
    lux_gnuplot_put_string(f, d->metric, 80, 0);
    fputs("\nset key below samplen 3 spacing 1.3\nset bmargin 5\n", f);
    if (line_block < 0) {
        fputs("set xrange [0:1]\nset yrange [0:1]\n"
              "set label 'no results with the metric yet' at graph 0.5, graph 0.5 center\n"
              "plot 2 notitle\n",
              f);
        return lux_plot_close(ctx, f, "pbt_score", "gp");
    }
    fprintf(f,
            "plot 'data/pbt_score.dat' index %d using 1:2:3 with lines lw 1 lc variable "
            "title 'trials'",
            line_block);
    if (pop_block >= 0)
        fprintf(f,
                ", \\\n     '' index %d using 1:2 with lines lw 3 lc rgb '#000000' "
                "title 'population best', \\\n     '' index %d using 1:3 with lines lw 3 "
                "dt (8,4) lc rgb '#555555' title 'population mean'",
                pop_block, pop_block);
    if (dot_block >= 0)
        fprintf(f,
                ", \\\n     '' index %d using 1:2 with points pt 7 ps 1 lc rgb '#c0392b' "
                "title 'exploit'",
                dot_block);
    fputs("\n", f);
    return lux_plot_close(ctx, f, "pbt_score", "gp");
}

int lux_pbt_plots_write(lux_plot_ctx_t *ctx)
{
    const lux_plot_data_t *d = ctx->data;
    param_t ps[MAX_PANELS];
    size_t np = 0;
    int rc = 0;
    if (d->mutations != NULL)
        for (size_t i = 0; rc == 0 && i < lux_space_num_variables(d->mutations); i++)
            rc = add_param(ps, &np, lux_space_variable(d->mutations, i));
    if (d->space != NULL)
        for (size_t i = 0; rc == 0 && i < lux_space_num_variables(d->space); i++) {
            const lux_domain_t *dom = lux_space_variable(d->space, i);
            if (changed_by_exploit(d, dom->path))
                rc = add_param(ps, &np, dom);
        }
    if (rc == 0)
        rc = write_params(ctx, ps, np);
    for (size_t p = 0; p < np; p++)
        json_decref(ps[p].cats);
    if (rc == 0)
        rc = write_lineage(ctx);
    if (rc == 0)
        rc = write_score(ctx);
    if (rc == LUX_ENOMEM)
        snprintf(ctx->err, ctx->errlen, "out of memory");
    if (rc != 0)
        return rc;

    size_t exploits = 0;
    for (size_t i = 0; i < d->ntrials; i++)
        exploits += json_array_size(d->trials[i].lineage);
    char caption[512];
    snprintf(caption, sizeof caption,
             "Each trial's hyperparameters against %s as PBT changed them; a dot marks each of "
             "the %zu exploits (the trial took a donor's checkpoint and a perturbed copy of its "
             "config).",
             d->time_attr, exploits);
    if ((rc = lux_plot_add_figure(ctx, "pbt_params", "PBT: hyperparameters over time", caption)) !=
        0)
        goto nomem;
    snprintf(caption, sizeof caption,
             "Which trial cloned which: one row per trial over %s, an arrow from the donor at "
             "the time of its checkpoint to the trial that took it.",
             d->time_attr);
    if ((rc = lux_plot_add_figure(ctx, "pbt_lineage", "PBT: lineage", caption)) != 0)
        goto nomem;
    snprintf(caption, sizeof caption,
             "%s of every trial against %s, with the population's best and mean (each trial "
             "at its latest result); red dots: exploits.",
             d->metric, d->time_attr);
    if ((rc = lux_plot_add_figure(ctx, "pbt_score", "PBT: population score", caption)) != 0)
        goto nomem;
    return 0;
nomem:
    snprintf(ctx->err, ctx->errlen, "out of memory");
    return rc;
}
