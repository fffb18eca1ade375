/*
 * Learning curves (curves.h).
 */
#include "curves.h"

#include "alloc.h"
#include "error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Classes of trials, in drawing order; then two blocks of end markers. */
enum { C_ERROR, C_STOPPED, C_OK, C_BEST, C_COUNT };

/* Columns of curves.dat. */
enum { COL_ITER = 1, COL_TIME = 2, COL_TATTR = 3, COL_METRIC = 4, COL_COLOUR = 5 };

static int curve_class(const lux_plot_data_t *d, size_t i)
{
    const lux_plot_trial_t *t = &d->trials[i];
    if ((long)i == d->best)
        return C_BEST;
    if (!t->has_metric)
        return -1;
    if (t->status == LUX_TRIAL_ERROR)
        return C_ERROR;
    return t->stopped ? C_STOPPED : C_OK;
}

static void put_point(FILE *f, const lux_plot_result_t *r, double colour)
{
    lux_plot_put_num(f, r->iteration);
    fputc(' ', f);
    lux_plot_put_num(f, r->time_total_s);
    fputc(' ', f);
    lux_plot_put_num(f, r->time_attr);
    fputc(' ', f);
    lux_plot_put_num(f, r->metric);
    fputc(' ', f);
    lux_plot_put_num(f, colour);
    fputc('\n', f);
}

/* The last result of a trial that reports the metric, or NULL. */
static const lux_plot_result_t *last_with_metric(const lux_plot_trial_t *t)
{
    for (size_t j = t->nresults; j > 0; j--)
        if (isfinite(t->results[j - 1].metric))
            return &t->results[j - 1];
    return NULL;
}

typedef struct {
    int block[C_COUNT];
    size_t count[C_COUNT];
    int ends_block;  /* crosses at the end of stopped trials, or -1 */
    bool has_col[4]; /* some point with a metric has a finite value in column 1..3 */
} layout_t;

static int write_data(lux_plot_ctx_t *ctx, layout_t *lay)
{
    const lux_plot_data_t *d = ctx->data;
    FILE *f = lux_plot_open(ctx, "curves", "dat");
    if (f == NULL)
        return LUX_EIO;
    fputs("# training_iteration time_total_s time_attr metric colour\n", f);
    int nblocks = 0;
    for (int c = 0; c < C_COUNT; c++) {
        lay->block[c] = -1;
        lay->count[c] = 0;
        for (size_t i = 0; i < d->ntrials; i++) {
            if (curve_class(d, i) != c)
                continue;
            const lux_plot_trial_t *t = &d->trials[i];
            for (size_t j = 0; j < t->nresults; j++) {
                const lux_plot_result_t *r = &t->results[j];
                put_point(f, r, t->last_metric);
                if (isfinite(r->metric)) {
                    lay->has_col[COL_ITER] |= isfinite(r->iteration);
                    lay->has_col[COL_TIME] |= isfinite(r->time_total_s);
                    lay->has_col[COL_TATTR] |= isfinite(r->time_attr);
                }
            }
            fputc('\n', f);
            lay->count[c]++;
        }
        if (lay->count[c] > 0) {
            fputc('\n', f);
            lay->block[c] = nblocks++;
        }
    }
    lay->ends_block = -1;
    size_t nends = 0;
    for (size_t i = 0; i < d->ntrials; i++) {
        const lux_plot_trial_t *t = &d->trials[i];
        const lux_plot_result_t *r = t->stopped && t->has_metric ? last_with_metric(t) : NULL;
        if (r == NULL)
            continue;
        put_point(f, r, t->last_metric);
        nends++;
    }
    if (nends > 0) {
        fputs("\n\n", f);
        lay->ends_block = nblocks++;
    }
    return lux_plot_close(ctx, f, "curves", "dat");
}

/* ASHA's rung milestones: grace_period * reduction_factor^k below max_t. */
static void put_rungs(FILE *f, const lux_plot_data_t *d)
{
    if (strcmp(d->scheduler, "asha") != 0 || !(d->grace_period > 0) || !(d->reduction_factor > 1) ||
        !(d->max_t > 0))
        return;
    int k = 0;
    for (double m = d->grace_period; m < d->max_t && k < 32; m *= d->reduction_factor, k++) {
        fprintf(f,
                "set arrow from %.10g, graph 0 to %.10g, graph 1 nohead dt 2 lw 1 "
                "lc rgb '#909090' back\n",
                m, m);
        fprintf(f,
                "set label 'rung %d' at %.10g, graph 1 left offset 0.4,-0.8 font ',8' "
                "tc rgb '#606060'\n",
                k, m);
    }
}

static int write_script(lux_plot_ctx_t *ctx, const layout_t *lay, const char *stem, int xcol,
                        const char *xname, bool rungs)
{
    const lux_plot_data_t *d = ctx->data;
    FILE *f = lux_plot_open(ctx, stem, "gp");
    if (f == NULL)
        return LUX_EIO;
    lux_plot_put_preamble(ctx, f, stem, 1100, 640);
    char text[512];
    snprintf(text, sizeof text, "%s: %s of %zu trials against %s", d->name, d->metric, d->ntrials,
             xname);
    fputs("set title ", f);
    lux_gnuplot_put_string(f, text, 110, 0);
    fputs("\nset xlabel ", f);
    lux_gnuplot_put_string(f, xname, 80, 0);
    fputs("\nset ylabel ", f);
    lux_gnuplot_put_string(f, d->metric, 80, 0);
    fputs("\nset key below samplen 3 spacing 1.3\nset bmargin 5\n", f);
    lux_plot_put_palette(f, d->mode_max);
    bool any = false;
    for (int c = 0; c < C_COUNT; c++)
        any |= lay->block[c] >= 0;
    bool palette = lay->block[C_OK] >= 0 || lay->block[C_STOPPED] >= 0;
    if (palette) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < d->ntrials; i++) {
            if (!d->trials[i].has_metric)
                continue;
            lo = fmin(lo, d->trials[i].last_metric);
            hi = fmax(hi, d->trials[i].last_metric);
        }
        if (hi <= lo)
            hi = lo + 1;
        fprintf(f, "set cbrange [%.10g:%.10g]\nset cblabel ", lo, hi);
        snprintf(text, sizeof text, "last %s", d->metric);
        lux_gnuplot_put_string(f, text, 44, 0);
        fputs("\n", f);
    } else {
        fputs("unset colorbox\n", f);
    }
    if (rungs)
        put_rungs(f, d);
    if (!any || !lay->has_col[xcol]) {
        fputs("set xrange [0:1]\nset yrange [0:1]\n"
              "set label 'no results with the metric yet' at graph 0.5, graph 0.5 center\n"
              "plot 2 notitle\n",
              f);
        return lux_plot_close(ctx, f, stem, "gp");
    }
    double lw = d->ntrials > 1000 ? 0.5 : d->ntrials > 100 ? 1 : 1.5;
    fputs("plot ", f);
    int first = 1;
    for (int c = 0; c < C_COUNT; c++) {
        if (lay->block[c] < 0)
            continue;
        if (!first)
            fputs(", \\\n     ", f);
        first = 0;
        fprintf(f, "'data/curves.dat' index %d using %d:%d", lay->block[c], xcol, COL_METRIC);
        switch (c) {
        case C_ERROR:
            fprintf(f, " with lines lw %.1f dt 2 lc rgb '#8a8a8a'", lw);
            break;
        case C_STOPPED:
        case C_OK:
            fprintf(f, ":%d with lines lw %.1f lc palette", COL_COLOUR, lw);
            break;
        default:
            fputs(" with lines lw 3 lc rgb '#000000'", f);
            break;
        }
        if (c == C_BEST)
            snprintf(text, sizeof text, "best: %s", d->trials[d->best].trial_id);
        else
            snprintf(text, sizeof text, "%s (%zu)",
                     c == C_ERROR     ? "ERROR"
                     : c == C_STOPPED ? "stopped early"
                                      : "completed or running",
                     lay->count[c]);
        fputs(" title ", f);
        lux_gnuplot_put_string(f, text, 48, 0);
    }
    if (lay->ends_block >= 0)
        fprintf(f,
                ", \\\n     'data/curves.dat' index %d using %d:%d with points pt 2 ps 1.2 "
                "lw 2 lc rgb '#c0392b' title 'stopped by the scheduler'",
                lay->ends_block, xcol, COL_METRIC);
    fputs("\n", f);
    return lux_plot_close(ctx, f, stem, "gp");
}

int lux_curves_write(lux_plot_ctx_t *ctx)
{
    const lux_plot_data_t *d = ctx->data;
    layout_t lay = {0};
    int rc = write_data(ctx, &lay);
    if (rc != 0)
        return rc;
    const char *ta = d->time_attr;
    bool ta_iter = strcmp(ta, "training_iteration") == 0;
    bool ta_time = strcmp(ta, "time_total_s") == 0;
    struct {
        const char *stem, *xname, *title;
        int col;
        bool rungs;
    } figs[3] = {
        {"curves_iteration", "training_iteration", "Learning curves by iteration", COL_ITER,
         ta_iter},
        {"curves_time", "time_total_s", "Learning curves by time", COL_TIME, ta_time},
        {"curves_time_attr", ta, "Learning curves by the scheduler's time_attr", COL_TATTR, true},
    };
    size_t nfigs = ta_iter || ta_time || !lay.has_col[COL_TATTR] ? 2 : 3;
    size_t errors, stopped, others;
    lux_plot_data_counts(d, &errors, &stopped, &others);
    for (size_t i = 0; i < nfigs; i++) {
        rc = write_script(ctx, &lay, figs[i].stem, figs[i].col, figs[i].xname, figs[i].rungs);
        if (rc != 0)
            return rc;
        char caption[512];
        snprintf(caption, sizeof caption,
                 "%s of each trial against %s, coloured by its last value (bright is better)."
                 "%s Crosses: trials stopped early by the scheduler (%zu); grey dashed: ERROR "
                 "(%zu); black: the best trial.",
                 d->metric, figs[i].xname,
                 figs[i].rungs && strcmp(d->scheduler, "asha") == 0
                     ? " Dashed verticals: ASHA's rung milestones."
                     : "",
                 stopped, errors);
        if (lux_plot_add_figure(ctx, figs[i].stem, figs[i].title, caption) != 0) {
            snprintf(ctx->err, ctx->errlen, "out of memory");
            return LUX_ENOMEM;
        }
    }
    return 0;
}
