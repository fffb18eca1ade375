/*
 * Learning curves: the metric of every trial against training_iteration,
 * against time_total_s, and against the scheduler's time_attr when that is
 * a third quantity (total_episodes, timesteps_total, ...). One line per
 * trial coloured by its last metric (the palette of the parallel
 * coordinates); trials the scheduler stopped early end in a cross, and under
 * ASHA the rung milestones are dashed vertical lines on the plot of its
 * time_attr, so a stopped trial visibly ends at its rung; ERROR trials are
 * grey and dashed; the best trial is thick and black, on top.
 *
 * One data file (data/curves.dat: iteration, time, time_attr, metric,
 * colour per result; one block per class of trial) serves all three
 * figures.
 */
#ifndef LUX_CURVES_H
#define LUX_CURVES_H

#include "plot_util.h"

/* Writes data/curves.dat and one script per figure ("curves_iteration",
 * "curves_time", and "curves_time_attr" when time_attr is neither), and
 * registers them. 0, LUX_EIO or LUX_ENOMEM with a message in ctx->err. */
int lux_curves_write(lux_plot_ctx_t *ctx);

#endif
