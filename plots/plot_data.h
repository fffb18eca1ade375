/*
 * What the plots need from an experiment store, read once: the experiment's
 * metric, mode and scheduler, its search space, and for every trial its
 * status, configs, PBT lineage, whether the scheduler stopped it early, and
 * its results reduced to four numbers each (iteration, time, the
 * scheduler's time_attr, the metric).
 *
 * The structs are public to the plots layer: each plot module reads them.
 * Results are streamed from the store (lux_store_results_each) and kept as
 * 32 bytes each, so 10,000 trials of 100 results take ~32 MB.
 */
#ifndef LUX_PLOT_DATA_H
#define LUX_PLOT_DATA_H

#include "space.h"
#include "store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    double iteration;    /* training_iteration */
    double time_total_s; /* time_total_s */
    double time_attr;    /* the scheduler's time attribute; NaN when the result lacks it */
    double metric;       /* NaN when the result lacks it or it is not a number */
} lux_plot_result_t;

typedef struct {
    char *trial_id;
    lux_trial_status_t status;
    char *error;           /* its last error message, or NULL */
    bool stopped;          /* stopped early by a scheduler STOP decision (not max_t) */
    double stop_milestone; /* the ASHA rung's milestone it stopped at, NaN when unknown */
    json_t *config;        /* the sampled config (object, owned) */
    json_t *final_config;  /* the config it ended with: PBT's last new_config, else config */
    json_t *lineage;       /* PBT exploits received: array of {time, donor, new_config, ...} */
    lux_plot_result_t *results;
    size_t nresults;
    bool has_metric; /* some result reports the metric */
    double last_metric;
    double last_iteration;
} lux_plot_trial_t;

typedef struct {
    json_t *experiment; /* the experiment row (lux_store_experiment_get), or an empty object */
    const char *name;   /* the experiment's name ("" when unknown); points into experiment */
    char *metric;       /* the metric plotted */
    bool mode_max;      /* larger is better */
    char *scheduler;    /* "fifo", "asha", "pbt" ("fifo" when unknown) */
    char *time_attr;    /* the scheduler's time attribute ("training_iteration" by default) */
    double max_t, grace_period, reduction_factor; /* ASHA; 0 when not ASHA */
    lux_space_t *space;                           /* the `config:` search space, or NULL */
    lux_space_t *mutations;                       /* PBT hyperparam_mutations, or NULL */
    lux_plot_trial_t *trials;                     /* in creation order */
    size_t ntrials;
    size_t nresults; /* over all trials */
    long best;       /* index of the best trial by its last metric, -1 when none */
} lux_plot_data_t;

/* Reads everything from an open store. metric and mode (may be NULL) override
 * the experiment's. On success *out is new (lux_plot_data_destroy). Errors:
 * LUX_EINVAL when there is no metric ("... pass --metric") or mode is bad,
 * LUX_ESTORE / LUX_EUNSUPPORTED from the store (LUX_ESTORE also for a
 * result row whose metrics are not a JSON object: err names its trial and
 * iteration), LUX_ENOMEM; err gets one line. */
int lux_plot_data_load(lux_store_t *store, const char *metric, const char *mode,
                       lux_plot_data_t **out, char *err, size_t errlen);

/* Frees and clears *data_p. Accepts NULL. */
void lux_plot_data_destroy(lux_plot_data_t **data_p);

/* A number at key or at the '/'-separated path ("info/learner/loss") inside
 * obj; 0 and *out, or -1 when absent or not a number (booleans are not
 * numbers). Cannot fail otherwise. */
int lux_plot_json_number(const json_t *obj, const char *path, double *out);

/* A value of a config at a dotted path ("model.lr"), borrowed, or NULL. */
const json_t *lux_plot_config_value(const json_t *config, const char *path);

/* Counts: trials that ended in ERROR, that were stopped early, and the rest. */
void lux_plot_data_counts(const lux_plot_data_t *data, size_t *errors, size_t *stopped,
                          size_t *others);

#endif
