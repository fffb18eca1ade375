/*
 * What the plot modules share: the list of figures a run produces, file
 * helpers for DIR/plots/data/, number and tick formatting, and the colour
 * palette, so every figure looks alike.
 *
 * A plot module writes data/<stem>.dat (numbers only) and data/<stem>.gp
 * (the script) under the output directory and registers the figure; the
 * driver (plots.c) then runs gnuplot in the output directory on each script,
 * which writes <stem>.<format> there.
 */
#ifndef LUX_PLOT_UTIL_H
#define LUX_PLOT_UTIL_H

#include "gnuplot.h"
#include "plot_data.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct {
    char stem[48]; /* file stem: "parcoords" -> data/parcoords.gp and parcoords.png */
    char *title;   /* heading in index.html (lux_malloc'd) */
    char *caption; /* one paragraph for index.html (lux_malloc'd) */
} lux_plot_figure_t;

typedef struct {
    const lux_plot_data_t *data;
    const char *outdir; /* the plot directory; scripts run there */
    lux_plot_format_t format;
    lux_plot_figure_t *figures;
    size_t nfigures;
    char *err; /* where a failure is described */
    size_t errlen;
} lux_plot_ctx_t;

/* Registers a figure (title and caption copied). 0 or LUX_ENOMEM. */
int lux_plot_add_figure(lux_plot_ctx_t *ctx, const char *stem, const char *title,
                        const char *caption);

/* Frees the figure list. Cannot fail. */
void lux_plot_ctx_fini(lux_plot_ctx_t *ctx);

/* Opens OUTDIR/data/<stem>.<ext> for writing (replacing it). NULL with a
 * message in ctx->err on failure. */
FILE *lux_plot_open(lux_plot_ctx_t *ctx, const char *stem, const char *ext);

/* Closes a file from lux_plot_open; LUX_EIO with a message when a write
 * failed. */
int lux_plot_close(lux_plot_ctx_t *ctx, FILE *f, const char *stem, const char *ext);

/* Writes a number for a data file: %.10g, or NaN (a gap for gnuplot). */
void lux_plot_put_num(FILE *f, double v);

/* Formats a tick value for a label ("0.001", "2e+05", "15"). */
void lux_plot_format_tick(double v, char *buf, size_t len);

/* Up to max "nice" tick values (1, 2 or 5 times a power of ten apart)
 * within [lo, hi]; returns how many. lo == hi gives that one value. */
size_t lux_plot_linear_ticks(double lo, double hi, double *ticks, size_t max);

/* Up to max tick values within [10^lo, 10^hi] (lo, hi are log10): powers of
 * ten, and 2x and 5x them when the range spans less than two decades.
 * Returns how many (the ends themselves when nothing nicer falls inside). */
size_t lux_plot_log_ticks(double lo, double hi, double *ticks, size_t max);

/* The palette lines: a perceptually uniform dark-to-bright scale (viridis
 * stops) with the bright end at the better metric (mode). */
void lux_plot_put_palette(FILE *f, bool mode_max);

/* The script's preamble: terminal, output <stem>.<ext>, and common style. */
void lux_plot_put_preamble(lux_plot_ctx_t *ctx, FILE *f, const char *stem, int width, int height);

/* A numeric config value at a dotted path: 0 and *out, or -1 when absent
 * or not a number (true/false count as 1/0). */
int lux_plot_config_number(const json_t *config, const char *path, double *out);

#endif
