/*
 * Experiment configs: a YAML file in RLlib's experiment shape, loaded into a
 * typed lux_config_t with its search space, scheduler parameters and stop
 * criteria. docs/config.md documents every field.
 *
 * Loading parses the YAML into the document tree of tune/yaml_tree.h, whose
 * every node remembers its file:line:column (printed 1-based), then checks
 * it field by field. Every error is one message
 * "FILE:LINE:COL: what is wrong; what to do" in the caller's err buffer and
 * the code LUX_ECONFIG (LUX_EIO / LUX_ENOENT when the file cannot be read,
 * LUX_ENOMEM on allocation failure). Unknown keys get the closest valid
 * name; trainables are checked against the registry (tune/trainable.h) and
 * environments against the names the caller passes, so tune does not link
 * the environments.
 *
 * The canonical form: lux_config_to_json() gives the whole config as JSON
 * with every default filled in, in a fixed key order; the runner stores it
 * in the experiment DB, lux_config_from_json() loads it back, and
 * lux_config_diff() compares two configs field by field for `--resume`.
 *
 * A loaded config is immutable and may be shared between threads.
 */
#ifndef LUX_CONFIG_H
#define LUX_CONFIG_H

#include "pg_strategy.h"
#include "scheduler.h"
#include "space.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- limits (docs/config.md, "Limits") ------------------------------------ */

/* An experiment's name is one directory under storage and the prefix of its
 * trial ids (NAME_00042): 1 to 100 bytes of [A-Za-z0-9._-], not "." or "..". */
#define LUX_CONFIG_MAX_NAME 100
/* Experiment files larger than this are refused before they are parsed. */
#define LUX_CONFIG_MAX_FILE_BYTES (16L << 20)
/* Trials of one experiment (num_samples times the grid), and num_samples. */
#define LUX_CONFIG_MAX_TRIALS 1000000L
/* Placement-group bundles per trial. */
#define LUX_CONFIG_MAX_BUNDLES 1024
/* A resource amount is 0 or within [LUX_CONFIG_MIN_AMOUNT, LUX_CONFIG_MAX_AMOUNT]
 * (Ray's granularity is 0.0001; memory is counted in bytes). */
#define LUX_CONFIG_MIN_AMOUNT 0.0001
#define LUX_CONFIG_MAX_AMOUNT 1e15
/* time_budget_s within [0, this] (about 31 years). */
#define LUX_CONFIG_MAX_SECONDS 1e9
/* Counts: max_concurrent_trials, max_failures, checkpoint frequency and
 * num_to_keep at most this. */
#define LUX_CONFIG_MAX_COUNT 1000000000L

/* ---- the config ----------------------------------------------------------- */

typedef enum { LUX_SEARCH_RANDOM = 0, LUX_SEARCH_GRID = 1 } lux_search_t;

/* The name of a strategy ("PACK"), "?" for anything else. Cannot fail. */
const char *lux_trial_pg_strategy_name(lux_trial_pg_strategy_t s);

/* One placement-group bundle: resource name -> amount. CPU and GPU are also
 * broken out; `resources` (owned by the config) has every entry, custom
 * resources included. */
typedef struct {
    double cpu, gpu;
    json_t *resources;
} lux_trial_bundle_t;

typedef struct {
    /* The trial's bundles: bundles[0] is the trainer's, bundles[1..] one per
     * rollout worker. `cpu: 1, gpu: 0` gives a single bundle {CPU: 1}. */
    lux_trial_bundle_t *bundles;
    size_t num_bundles;               /* >= 1 */
    lux_trial_pg_strategy_t strategy; /* PACK */
} lux_resources_t;

typedef struct {
    long frequency;         /* checkpoint every N iterations; 0 = never (default) */
    bool at_end;            /* checkpoint when the trial ends (default false) */
    long num_to_keep;       /* 0 = keep all (Ray's None) */
    char *score_attribute;  /* rank kept checkpoints by this; NULL: by recency */
    lux_mode_t score_order; /* max (default) */
} lux_checkpoint_config_t;

typedef struct {
    char *path;      /* file it was loaded from ("<string>" / "<json>") */
    char *name;      /* default: the file's base name without extension */
    char *trainable; /* a registered trainable */
    char *env;       /* NULL when absent; also copied into each trial config */
    char *metric;    /* NULL when absent (fifo only) */
    lux_mode_t mode; /* LUX_MODE_MAX when absent */
    bool has_mode;
    long num_samples; /* 1 */
    uint64_t seed;    /* 0 when absent */
    bool has_seed;
    json_t *stop;         /* object key -> number (empty when absent) */
    double time_budget_s; /* 0 = none */
    lux_resources_t resources;
    long max_concurrent_trials; /* 0 = as many as resources allow */
    long max_failures;          /* 0 (Ray's default) */
    lux_checkpoint_config_t checkpoint;
    lux_search_t search;              /* random */
    lux_scheduler_params_t scheduler; /* strings point into the config */
    lux_space_t *space;               /* the `config:` search space */
    lux_space_t *mutations;           /* PBT hyperparam_mutations or NULL */
    char *storage;                    /* default "runs" */
    char *sched_time_attr_owned;      /* backs scheduler.time_attr when set in the file */
    /* Where each top-level field's value was written (1-based; absent for a
     * config loaded from JSON), for checks made after loading: see
     * lux_config_error(). `field` points to a static string. */
    struct {
        const char *field;
        int line, column;
    } where[24];
    size_t nwhere;
} lux_config_t;

/* Which names besides the trainable registry a config may use. Every field
 * may be zero: env is then not checked. */
typedef struct {
    const char *const *env_names; /* known environments, for checks and suggestions */
    size_t num_env_names;
    /* Alternatively a predicate (tried first when set). */
    bool (*env_exists)(const char *name, void *user);
    void *env_user;
    bool skip_trainable_check; /* tools that only read configs */
    /* Apply the file's `smoke:` mapping over the rest (deep merge; its
     * values win) and append "-smoke" to the name: `lux run --smoke`. */
    bool smoke;
} lux_config_options_t;

/* Loads a YAML experiment file. opts may be NULL (env unchecked). On
 * success *out is a new config the caller destroys. Errors: LUX_ECONFIG with
 * "FILE:LINE:COL: ...; ..." in err, LUX_ENOENT / LUX_EIO if the file cannot
 * be read, LUX_ENOMEM. */
int lux_config_load(const char *path, const lux_config_options_t *opts, lux_config_t **out,
                    char *err, size_t errlen);

/* The same from a YAML string; `name` stands for the file in messages. */
int lux_config_load_string(const char *yaml, size_t len, const char *name,
                           const lux_config_options_t *opts, lux_config_t **out, char *err,
                           size_t errlen);

/* Formats a message about a top-level field of a loaded config, for checks
 * that can only be made later (the runner's: resources_per_trial against
 * the machine). Writes "FILE:LINE:COL: " and the formatted text when the
 * file gave the field a position, "FILE: " and the text otherwise (a
 * config loaded from JSON or a field left out). Returns LUX_ECONFIG so that
 * a check can `return lux_config_error(...)` (callers may return another
 * code). Cannot fail. */
int lux_config_error(const lux_config_t *cfg, const char *field, char *err, size_t errlen,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Checks an experiment name (LUX_CONFIG_MAX_NAME above), e.g. one given as
 * `lux run --name NAME`. Returns 0, or LUX_ECONFIG with what is wrong and
 * what to do in err (no position: the caller prefixes where it came from,
 * e.g. "--name "). Cannot fail otherwise. */
int lux_config_name_check(const char *name, char *err, size_t errlen);

/* Frees a config and clears *cfg_p. Accepts NULL. */
void lux_config_destroy(lux_config_t **cfg_p);

/* The canonical JSON form: every field with its default filled in, fixed
 * key order, the search spaces in their spec form. New reference, NULL on
 * allocation failure. */
json_t *lux_config_to_json(const lux_config_t *cfg);

/* Loads a config from its canonical JSON (as stored in the DB). Same checks
 * and errors as lux_config_load; locations are JSON paths. */
int lux_config_from_json(const json_t *json, const lux_config_options_t *opts, lux_config_t **out,
                         char *err, size_t errlen);

/* Compares two configs' canonical forms. Writes the names of the top-level
 * fields that differ ("scheduler", "config", "stop", ...) into fields[] (at
 * most max; static strings) and returns how many differ (may exceed max). */
size_t lux_config_diff(const lux_config_t *a, const lux_config_t *b, const char **fields,
                       size_t max);

/* The `--resume` rule: returns 0 when `now` differs from `stored` only in
 * `stop`, `time_budget_s` and a num_samples that did not shrink; otherwise
 * LUX_ECONFIG with "FIELD changed since the experiment started; ..." in err.
 */
int lux_config_resume_check(const lux_config_t *stored, const lux_config_t *now, char *err,
                            size_t errlen);

/* Trial k's config: the space's trial config (lux_space_trial_config with
 * the experiment seed) with "env" added when the experiment names one.
 * Returns 0, LUX_ERANGE for k outside [0, num_trials) or LUX_ENOMEM. */
int lux_config_trial_config(const lux_config_t *cfg, long k, json_t **config);

/* Total trials: grid size * num_samples. */
long lux_config_num_trials(const lux_config_t *cfg);

#endif
