/*
 * `lux plot DIR`: the experiment's figures (parallel coordinates, learning
 * curves, PBT schedules) and an index.html, drawn by gnuplot at run time
 * (plots/plots.h; docs/plots.md). Reads the store read-only, so it works
 * while the run is writing.
 */
#include "cli.h"
#include "plots.h"
#include "store.h"
#include "table.h"

#include "alloc.h"
#include "error.h"

#include <stdio.h>
#include <string.h>

const char lux_cmd_plot_help[] =
    "usage: lux plot DIR [--out OUTDIR] [--format png|svg|pdf] [--metric M] [--mode max|min]\n\n"
    "Draws the experiment in DIR with gnuplot (the Debian package gnuplot-nox, or\n"
    "$LUX_GNUPLOT): parallel coordinates of the trials, learning curves by\n"
    "iteration, time and the scheduler's time_attr, and for PBT each trial's\n"
    "hyperparameters, lineage and the population's score over time. Writes the\n"
    "images, their data and gnuplot scripts (data/) and index.html, which shows\n"
    "every figure and the best trials, into DIR/plots.\n\n"
    "options:\n"
    "  --out OUTDIR   write there instead of DIR/plots\n"
    "  --format F     png (default), svg or pdf\n"
    "  --metric M     the metric to plot; a nested one as a/b (default: the\n"
    "                 experiment's metric)\n"
    "  --mode MODE    max or min: which end is better (default: the experiment's)\n";

int lux_cmd_plot(int argc, char **argv)
{
    const char *out = NULL, *format = "png", *metric = NULL, *mode = NULL;
    const lux_opt_t opts[] = {
        {"--out", NULL, LUX_OPT_STRING, &out},
        {"--format", NULL, LUX_OPT_STRING, &format},
        {"--metric", NULL, LUX_OPT_STRING, &metric},
        {"--mode", NULL, LUX_OPT_STRING, &mode},
    };
    char *pos[1];
    int npos = 0;
    if (lux_cli_parse("plot", argc, argv, opts, 4, pos, 1, &npos) != 0)
        return LUX_EXIT_USAGE;
    if (npos != 1)
        return lux_cli_usage_error("plot", "needs the experiment directory");
    lux_plots_options_t o = {.outdir = out, .metric = metric, .mode = mode};
    if (lux_plot_format_parse(format, &o.format) != 0)
        return lux_cli_usage_error("plot", "--format must be png, svg or pdf, not '%s'", format);
    if (mode != NULL && strcmp(mode, "max") != 0 && strcmp(mode, "min") != 0)
        return lux_cli_usage_error("plot", "--mode must be max or min, not '%s'", mode);
    if (out != NULL && out[0] == '\0')
        return lux_cli_usage_error("plot", "--out needs a directory");

    lux_store_t *s = NULL;
    char err[1536];
    int rc = lux_store_open_reader(pos[0], &s, err, sizeof err);
    if (rc != 0) {
        lux_table_sanitize(err, 0); /* it may name trials and metrics */
        fprintf(stderr, "lux plot: %s\n", err);
        return rc == LUX_ENOENT ? LUX_EXIT_USAGE : LUX_EXIT_FAILURE;
    }
    char *index = NULL;
    size_t nfigures = 0;
    rc = lux_plots_make(s, &o, &index, &nfigures, err, sizeof err);
    lux_store_close(&s);
    if (rc != 0) {
        lux_table_sanitize(err, 0); /* it may name trials and metrics */
        fprintf(stderr, "lux plot: %s\n", err);
        return rc == LUX_EINVAL ? LUX_EXIT_USAGE : LUX_EXIT_FAILURE;
    }
    lux_table_sanitize(index, 0);
    printf("%zu figures and %s\n", nfigures, index);
    lux_free(index);
    return LUX_EXIT_OK;
}
