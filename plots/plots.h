/*
 * `lux plot` as a library call: every figure of one experiment, rendered by
 * gnuplot, and the index.html that shows them (docs/plots.md).
 *
 * Layout of the output directory (DIR/plots by default):
 *
 *     index.html                 the figures and a table of the best trials
 *     parcoords.png              parallel coordinates of the trials
 *     curves_iteration.png       learning curves (also curves_time,
 *                                curves_time_attr)
 *     pbt_params.png             PBT only (also pbt_lineage, pbt_score)
 *     data/<figure>.dat, .gp     the numbers and the gnuplot script of each
 *
 * The same experiment gives byte-identical scripts, data and SVG/PNG images
 * on every run.
 */
#ifndef LUX_PLOTS_H
#define LUX_PLOTS_H

#include "gnuplot.h"
#include "store.h"

#include <stddef.h>

typedef struct {
    const char *outdir;       /* NULL: DIR/plots */
    lux_plot_format_t format; /* png */
    const char *metric;       /* NULL: the experiment's metric */
    const char *mode;         /* NULL: the experiment's mode ("max" or "min") */
    const char *gnuplot;      /* the executable; NULL: lux_gnuplot_find() */
    double timeout_s;         /* per figure; 0: 300 s */
} lux_plots_options_t;

/* Reads the experiment from an open store (reader or writer) and writes
 * every figure and index.html into the output directory, creating it. The
 * figures that gnuplot renders are all attempted; the first failure is
 * reported. On success *index_path (may be NULL) gets the path of
 * index.html (lux_malloc'd) and *nfigures (may be NULL) the number of
 * figures. Errors, with one line in err: LUX_ENOENT when gnuplot is missing
 * (the message names the package), LUX_EINVAL (no metric, bad mode),
 * LUX_EIO (cannot write, gnuplot failed), LUX_ETIMEDOUT, LUX_ESTORE,
 * LUX_ENOMEM. Blocks while gnuplot runs. */
int lux_plots_make(lux_store_t *store, const lux_plots_options_t *opts, char **index_path,
                   size_t *nfigures, char *err, size_t errlen);

#endif
