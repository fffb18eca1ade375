/*
 * Parallel coordinates of the trials: one vertical axis per sampled
 * hyperparameter plus the metric, one line per trial coloured by its last
 * metric value (colour bar on the right, the better end bright).
 *
 * Axes. The parameters are the variables of the experiment's search space
 * (and PBT's hyperparam_mutations), or, when the stored config has no
 * space, every config key whose value differs between trials. Log-sampled
 * parameters (loguniform, lograndint and their q- forms) get a log axis;
 * choice and grid_search (and PBT lists) a categorical axis with one tick
 * per value, labelled with the value; the rest a linear axis spanning the
 * domain's bounds and the values seen. PBT trials are placed at the config
 * they ended with. Every axis is normalised to [0, 1] in C and drawn with
 * gnuplot's ordinary lines, so ticks keep the original values.
 *
 * Trials that ended in ERROR are grey and dashed; trials the scheduler
 * stopped early (ASHA) are dotted in their colour; trials without any
 * result are light grey; the best trial is drawn on top, thick and black.
 * All trials are in one data file, each class one gnuplot data block, so
 * 10,000 trials are four plot elements.
 */
#ifndef LUX_PARCOORDS_H
#define LUX_PARCOORDS_H

#include "plot_util.h"

/* Writes data/parcoords.{dat,gp} and registers the figure "parcoords".
 * Returns 0, LUX_EIO or LUX_ENOMEM with a message in ctx->err. */
int lux_parcoords_write(lux_plot_ctx_t *ctx);

#endif
