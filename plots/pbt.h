/*
 * Population Based Training plots, from each trial's lineage (the exploits
 * it received: time, donor, new config) and its results:
 *
 *   pbt_params   one panel per hyperparameter PBT changed (its
 *                hyperparam_mutations, then any other sampled parameter an
 *                exploit copied from a donor): every trial's value against
 *                the scheduler's time_attr as a step line, with a dot at each
 *                exploit; log axes for log-sampled parameters, value labels
 *                for categorical ones.
 *   pbt_lineage  who cloned whom: one row per trial over time, an arrow from
 *                the donor (at the donor's time) to the trial (at the time of
 *                the exploit) for every exploit.
 *   pbt_score    the population's score over time: every trial's metric,
 *                the population's best and mean (each trial counted with its
 *                latest result), and the exploits as dots.
 */
#ifndef LUX_PBT_PLOTS_H
#define LUX_PBT_PLOTS_H

#include "plot_util.h"

#include <stdbool.h>

/* True when the experiment ran PBT or a trial has a lineage. */
bool lux_pbt_plots_apply(const lux_plot_data_t *data);

/* Writes data/pbt_*.{dat,gp} and registers the three figures. 0, LUX_EIO or
 * LUX_ENOMEM with a message in ctx->err. */
int lux_pbt_plots_write(lux_plot_ctx_t *ctx);

#endif
