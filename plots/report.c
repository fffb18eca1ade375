/*
 * The HTML index of a plot run (report.h).
 */
#include "report.h"

#include "alloc.h"
#include "error.h"
#include "fs.h"
#include "table.h"
#include "text.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char style[] =
    "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;max-width:1240px;margin:1em "
    "auto;padding:0 1em;color:#202020}\n"
    "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}\n"
    "img{max-width:100%;border:1px solid #ddd}\n"
    "table{border-collapse:collapse;font-size:0.9em}\n"
    "th,td{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}\n"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "p.cap{color:#505050;max-width:60em}\n"
    "nav a{margin-right:1em}\n";

static void put_value(FILE *f, const json_t *v)
{
    char buf[512];
    lux_table_format(v, buf, sizeof buf);
    lux_text_put_html(f, buf);
}

static void put_number(FILE *f, double v)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.6g", v);
    fputs(buf, f);
}

/* The columns of the table: sampled and mutated parameters, in space order. */
static size_t param_paths(const lux_plot_data_t *d, const char **paths, size_t max)
{
    size_t n = 0;
    const lux_space_t *spaces[2] = {d->space, d->mutations};
    for (int s = 0; s < 2; s++) {
        if (spaces[s] == NULL)
            continue;
        for (size_t i = 0; i < lux_space_num_variables(spaces[s]) && n < max; i++) {
            const lux_domain_t *dom = lux_space_variable(spaces[s], i);
            if (dom->kind == LUX_DOMAIN_CONSTANT)
                continue;
            size_t k = 0;
            while (k < n && strcmp(paths[k], dom->path) != 0)
                k++;
            if (k == n)
                paths[n++] = dom->path;
        }
    }
    return n;
}

/* Indices of the best trials by last metric (ties: earlier first). */
static size_t best_trials(const lux_plot_data_t *d, size_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < d->ntrials; i++) {
        const lux_plot_trial_t *t = &d->trials[i];
        if (!t->has_metric)
            continue;
        /* Insertion into the sorted top list. */
        size_t pos = n;
        while (pos > 0) {
            const lux_plot_trial_t *u = &d->trials[out[pos - 1]];
            int better =
                d->mode_max ? t->last_metric > u->last_metric : t->last_metric < u->last_metric;
            if (!better)
                break;
            pos--;
        }
        if (pos >= max)
            continue;
        size_t last = n < max ? n : max - 1;
        for (size_t k = last; k > pos; k--)
            out[k] = out[k - 1];
        out[pos] = i;
        if (n < max)
            n++;
    }
    return n;
}

static void put_summary(FILE *f, const lux_plot_data_t *d)
{
    const json_t *cfg = json_object_get(d->experiment, "config");
    long counts[LUX_TRIAL_STATUS_COUNT] = {0};
    size_t stopped = 0;
    for (size_t i = 0; i < d->ntrials; i++) {
        counts[d->trials[i].status]++;
        stopped += d->trials[i].stopped;
    }
    fputs("<table>\n", f);
    const char *rows[][2] = {
        {"trainable", json_string_value(json_object_get(cfg, "trainable"))},
        {"environment", json_string_value(json_object_get(cfg, "env"))},
        {"scheduler", d->scheduler},
        {"time attribute", d->time_attr},
        {"status", json_string_value(json_object_get(d->experiment, "status"))},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (rows[i][1] == NULL)
            continue;
        fprintf(f, "<tr><th>%s</th><td>", rows[i][0]);
        lux_text_put_html(f, rows[i][1]);
        fputs("</td></tr>\n", f);
    }
    fputs("<tr><th>metric</th><td>", f);
    lux_text_put_html(f, d->metric);
    fprintf(f, " (%s)</td></tr>\n", d->mode_max ? "max" : "min");
    fprintf(f, "<tr><th>trials</th><td>%zu:", d->ntrials);
    const char *sep = " ";
    for (int s = 0; s < LUX_TRIAL_STATUS_COUNT; s++) {
        if (counts[s] == 0)
            continue;
        fprintf(f, "%s%ld %s", sep, counts[s], lux_trial_status_name((lux_trial_status_t)s));
        sep = ", ";
    }
    if (stopped > 0)
        fprintf(f, "; %zu stopped early by the scheduler", stopped);
    fprintf(f, "</td></tr>\n<tr><th>results</th><td>%zu</td></tr>\n</table>\n", d->nresults);
}

static void put_best_table(FILE *f, const lux_plot_data_t *d)
{
    size_t best[LUX_REPORT_BEST];
    size_t nb = best_trials(d, best, LUX_REPORT_BEST);
    fputs("<h2 id=\"best\">Best trials</h2>\n", f);
    if (nb == 0) {
        fputs("<p>No trial has reported ", f);
        lux_text_put_html(f, d->metric);
        fputs(" yet.</p>\n", f);
        return;
    }
    fputs("<p class=\"cap\">By the last reported ", f);
    lux_text_put_html(f, d->metric);
    fprintf(f, " (%s is better)%s.</p>\n", d->mode_max ? "higher" : "lower",
            d->mutations != NULL || strcmp(d->scheduler, "pbt") == 0
                ? "; PBT trials with the config they ended with"
                : "");
    const char *paths[64];
    size_t np = param_paths(d, paths, 64);
    fputs("<table>\n<tr><th>#</th><th>trial</th><th>status</th><th>", f);
    lux_text_put_html(f, d->metric);
    fputs("</th><th>iteration</th>", f);
    for (size_t p = 0; p < np; p++) {
        fputs("<th>", f);
        lux_text_put_html(f, paths[p]);
        fputs("</th>", f);
    }
    if (np == 0)
        fputs("<th>config</th>", f);
    fputs("</tr>\n", f);
    for (size_t r = 0; r < nb; r++) {
        const lux_plot_trial_t *t = &d->trials[best[r]];
        fprintf(f, "<tr><td class=\"n\">%zu</td><td>", r + 1);
        lux_text_put_html(f, t->trial_id);
        fprintf(f, "%s</td><td>%s</td><td class=\"n\">", t->stopped ? " (stopped early)" : "",
                lux_trial_status_name(t->status));
        put_number(f, t->last_metric);
        fputs("</td><td class=\"n\">", f);
        put_number(f, t->last_iteration);
        fputs("</td>", f);
        for (size_t p = 0; p < np; p++) {
            fputs("<td>", f);
            put_value(f, lux_plot_config_value(t->final_config, paths[p]));
            fputs("</td>", f);
        }
        if (np == 0) {
            fputs("<td>", f);
            put_value(f, t->final_config);
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* Trials that ended in ERROR with the first line of their message. */
static void put_errors(FILE *f, const lux_plot_data_t *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->ntrials; i++)
        n += d->trials[i].status == LUX_TRIAL_ERROR;
    if (n == 0)
        return;
    fprintf(f,
            "<h2 id=\"errors\">Errored trials (%zu)</h2>\n<table>\n"
            "<tr><th>trial</th><th>iteration</th><th>error</th></tr>\n",
            n);
    size_t shown = 0;
    for (size_t i = 0; i < d->ntrials && shown < 50; i++) {
        const lux_plot_trial_t *t = &d->trials[i];
        if (t->status != LUX_TRIAL_ERROR)
            continue;
        char line[512] = "";
        if (t->error != NULL) {
            size_t len = strcspn(t->error, "\n");
            snprintf(line, sizeof line, "%.*s", (int)(len < 400 ? len : 400), t->error);
        }
        fputs("<tr><td>", f);
        lux_text_put_html(f, t->trial_id);
        fputs("</td><td class=\"n\">", f);
        put_number(f, t->nresults ? t->results[t->nresults - 1].iteration : 0);
        fputs("</td><td>", f);
        lux_text_put_html(f, line);
        fputs("</td></tr>\n", f);
        shown++;
    }
    fputs("</table>\n", f);
    if (shown < n)
        fprintf(f,
                "<p class=\"cap\">The first %zu of %zu; <code>lux status</code> lists them "
                "all.</p>\n",
                shown, n);
}

static void put_figure(FILE *f, const lux_plot_figure_t *fig, lux_plot_format_t format)
{
    const char *ext = lux_plot_format_name(format);
    fprintf(f, "<h2 id=\"%s\">", fig->stem);
    lux_text_put_html(f, fig->title);
    fputs("</h2>\n<p class=\"cap\">", f);
    lux_text_put_html(f, fig->caption);
    fputs("</p>\n", f);
    if (format == LUX_PLOT_PDF)
        fprintf(f,
                "<object data=\"%s.%s\" type=\"application/pdf\" width=\"100%%\" "
                "height=\"720\"><a href=\"%s.%s\">%s.%s</a></object>\n",
                fig->stem, ext, fig->stem, ext, fig->stem, ext);
    else
        fprintf(f, "<p><a href=\"%s.%s\"><img src=\"%s.%s\" alt=\"", fig->stem, ext, fig->stem,
                ext);
    if (format != LUX_PLOT_PDF) {
        lux_text_put_html(f, fig->title);
        fputs("\"></a></p>\n", f);
    }
}

int lux_report_write(lux_plot_ctx_t *ctx)
{
    const lux_plot_data_t *d = ctx->data;
    size_t n = strlen(ctx->outdir) + 64;
    char *path = lux_malloc(n), *tmp = lux_malloc(n);
    if (path == NULL || tmp == NULL) {
        lux_free(path);
        lux_free(tmp);
        snprintf(ctx->err, ctx->errlen, "out of memory");
        return LUX_ENOMEM;
    }
    snprintf(path, n, "%s/index.html", ctx->outdir);
    snprintf(tmp, n, "%s/.index.html.tmp.%ld", ctx->outdir, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        snprintf(ctx->err, ctx->errlen, "cannot create %s: %s", tmp, strerror(errno));
        lux_free(path);
        lux_free(tmp);
        return LUX_EIO;
    }
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", f);
    lux_text_put_html(f, d->name);
    fprintf(f, " &#8211; lux plots</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", style);
    lux_text_put_html(f, d->name[0] ? d->name : "experiment");
    fputs("</h1>\n", f);
    put_summary(f, d);
    fputs("<nav><p><a href=\"#best\">Best trials</a>", f);
    for (size_t i = 0; i < ctx->nfigures; i++) {
        fprintf(f, "<a href=\"#%s\">", ctx->figures[i].stem);
        lux_text_put_html(f, ctx->figures[i].title);
        fputs("</a>", f);
    }
    fputs("</p></nav>\n", f);
    put_best_table(f, d);
    put_errors(f, d);
    for (size_t i = 0; i < ctx->nfigures; i++)
        put_figure(f, &ctx->figures[i], ctx->format);
    fputs("<p class=\"cap\">Made by <code>lux plot</code> with gnuplot. The data and the gnuplot "
          "script of each figure are in <a href=\"data/\">data/</a>; run "
          "<code>gnuplot data/NAME.gp</code> in this directory to redraw one.</p>\n"
          "</body>\n</html>\n",
          f);
    long size = ftell(f); /* what index.html was to hold, for a full disk's message */
    int bad = ferror(f);
    if (fclose(f) != 0)
        bad = 1;
    int rc = 0;
    if (bad && lux_error_from_errno(errno) == LUX_ENOSPC) {
        /* The old index.html, if any, stays whole: the temporary goes. */
        lux_fs_nospc_message(ctx->err, ctx->errlen, path, size > 0 ? (unsigned long long)size : 1);
        rc = LUX_ENOSPC;
    } else if (bad) {
        snprintf(ctx->err, ctx->errlen, "cannot write %s: %s", tmp, strerror(errno ? errno : EIO));
        rc = LUX_EIO;
    } else if (rename(tmp, path) != 0) {
        snprintf(ctx->err, ctx->errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        rc = LUX_EIO;
    }
    if (rc != 0)
        unlink(tmp);
    lux_free(path);
    lux_free(tmp);
    return rc;
}
