/*
 * Search spaces: the `config:` section of an experiment (Ray Tune's
 * param_space) and PBT's `hyperparam_mutations`. Every sampler draws from a
 * lux_rng_t (common/rng.h) that the caller passes in.
 *
 * Syntax (one form, documented in docs/config.md): a value is a constant
 * unless it is a mapping with exactly one key naming a distribution, whose
 * value is the list of that distribution's arguments in Ray's positional
 * order:
 *
 *     lr:      {loguniform: [1e-4, 1e-2]}        # base 10 unless a 3rd item
 *     popsize: {lograndint: [30, 200]}           # upper bound exclusive
 *     layers:  {grid_search: [1, 2, 3]}
 *     opt:     {choice: [cmaes, sepcmaes]}
 *
 * Distributions and Ray's bounds (arguments in brackets):
 *     choice [values], grid_search [values],
 *     uniform [lo, hi]            float in [lo, hi)
 *     quniform [lo, hi, q]        multiple of q in [lo, hi] (upper inclusive)
 *     loguniform [lo, hi, base?]  log-uniform float, lo > 0, base 10
 *     qloguniform [lo, hi, q, base?]
 *     randint [lo, hi]            integer in [lo, hi) (upper exclusive)
 *     qrandint [lo, hi, q?]       integer multiple of q in [lo, hi] (inclusive)
 *     lograndint [lo, hi, base?]  floor of log-uniform: [lo, hi) (exclusive)
 *     qlograndint [lo, hi, q, base?]  (upper inclusive)
 *     randn [mean?, sd?], qrandn [mean, sd, q]
 * Nested mappings nest.
 *
 * Trials: the space expands like Ray's BasicVariantGenerator. The grid is the
 * cross product of every grid_search (the variable whose dotted path sorts
 * first varies fastest), and the whole grid is repeated num_samples times;
 * every other distribution is drawn afresh for each trial. Trial k's config
 * is a pure function of (experiment seed, k), so a resumed experiment
 * regenerates exactly the configs it had.
 *
 * Threads: a space is immutable after parsing and may be shared by threads;
 * a lux_rng_t belongs to one thread at a time. Nothing here keeps global
 * state.
 */
#ifndef LUX_SPACE_H
#define LUX_SPACE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lux_yaml_node; /* yaml_tree.h: the YAML document tree with marks */

/* ---- random numbers ---------------------------------------------------- */

/* The generator is common/rng.h's (xoshiro256**); its state fits in a
 * scheduler's JSON state: */
#include "rng.h"

/* The state as a JSON array of four hex strings, and back. from_json returns
 * 0 or LUX_EINVAL for anything else. */
json_t *lux_rng_to_json(const lux_rng_t *rng);
int lux_rng_from_json(lux_rng_t *rng, const json_t *state);

/* ---- domains ------------------------------------------------------------ */

/* Limits of distribution arguments (docs/config.md, "Limits"): every
 * number's magnitude is at most LUX_SPACE_MAX_ABS, an integer domain's at
 * most 2^53 (exact in a double), and a quantised domain has at most 2^53
 * steps of q between 0 and its farthest value. */
#define LUX_SPACE_MAX_ABS 1e300
#define LUX_SPACE_MAX_INT 9007199254740992.0

/* X(ENUM, "yaml name") */
#define LUX_DOMAIN_MAP(X)                                                                          \
    X(CONSTANT, "constant")                                                                        \
    X(CHOICE, "choice")                                                                            \
    X(GRID, "grid_search")                                                                         \
    X(UNIFORM, "uniform")                                                                          \
    X(QUNIFORM, "quniform")                                                                        \
    X(LOGUNIFORM, "loguniform")                                                                    \
    X(QLOGUNIFORM, "qloguniform")                                                                  \
    X(RANDINT, "randint")                                                                          \
    X(QRANDINT, "qrandint")                                                                        \
    X(LOGRANDINT, "lograndint")                                                                    \
    X(QLOGRANDINT, "qlograndint")                                                                  \
    X(RANDN, "randn")                                                                              \
    X(QRANDN, "qrandn")                                                                            \
    X(LIST, "list") /* hyperparam_mutations only: a plain list, neighbour shifts */

typedef enum {
#define LUX_DOMAIN_ENUM(e, name) LUX_DOMAIN_##e,
    LUX_DOMAIN_MAP(LUX_DOMAIN_ENUM)
#undef LUX_DOMAIN_ENUM
        LUX_DOMAIN_COUNT
} lux_domain_kind_t;

/* The YAML name of a kind ("loguniform"). Cannot fail. */
const char *lux_domain_name(lux_domain_kind_t kind);

/* One variable of a space. Read-only view into the space. */
typedef struct {
    lux_domain_kind_t kind;
    const char *path;     /* dotted path from the space's root: "model.lr" */
    double lower, upper;  /* uniform-type bounds as written (randn: mean, sd) */
    double q;             /* quantum, 0 when not quantised */
    double base;          /* log base (10 unless written) */
    const json_t *values; /* choice, grid_search, list, constant: borrowed */
    bool integer;         /* randint family: values are JSON integers */
} lux_domain_t;

/* Draws one value of a (non-grid) domain. Returns a new reference (choice,
 * list and constant return a copy of a value), or NULL on allocation
 * failure. GRID draws uniformly among its values. */
json_t *lux_domain_sample(const lux_domain_t *d, lux_rng_t *rng);

/* ---- spaces -------------------------------------------------------------- */

typedef struct lux_space lux_space_t;

/* How a space is read. */
typedef enum {
    LUX_SPACE_CONFIG = 0,    /* `config:`: a YAML list is a constant */
    LUX_SPACE_MUTATIONS = 1, /* `hyperparam_mutations:`: a YAML list is a
                                categorical LIST (PBT shifts neighbours), no
                                grid_search, no constants */
} lux_space_flavour_t;

/* Parses a space from a mapping node of the config tree. Errors name the
 * node: "FILE:LINE:COL: what; what to do" in err, and return LUX_ECONFIG
 * (unknown distribution with the closest name, wrong argument count or
 * type, empty or inverted range, non-positive log bound, q <= 0, empty
 * choice). LUX_ENOMEM on allocation failure. `file` names the source in
 * messages. On success *out is a new space the caller destroys. */
int lux_space_from_node(const struct lux_yaml_node *node, const char *file,
                        lux_space_flavour_t flavour, lux_space_t **out, char *err, size_t errlen);

/* Parses a space from its JSON spec (the form lux_space_spec returns, which
 * is the YAML syntax as JSON). Messages name JSON paths instead of lines. */
int lux_space_from_json(const json_t *spec, lux_space_flavour_t flavour, lux_space_t **out,
                        char *err, size_t errlen);

/* Frees a space and clears *space_p. Accepts NULL. */
void lux_space_destroy(lux_space_t **space_p);

/* The spec as JSON (borrowed; lives as long as the space): constants as
 * themselves, distributions as {"name": [args...]}. */
const json_t *lux_space_spec(const lux_space_t *space);

/* Variables (non-constant leaves, plus LIST and CHOICE in mutation spaces),
 * in sorted path order. */
size_t lux_space_num_variables(const lux_space_t *space);
const lux_domain_t *lux_space_variable(const lux_space_t *space, size_t i);
/* The variable at a dotted path, or NULL. */
const lux_domain_t *lux_space_find(const lux_space_t *space, const char *path);

/* Number of points in the grid (product of grid_search sizes; 1 without
 * grid_search). Saturates at SIZE_MAX. */
size_t lux_space_grid_size(const lux_space_t *space);

/* Total trials for num_samples: grid_size * num_samples (saturating). */
size_t lux_space_num_trials(const lux_space_t *space, long num_samples);

/* Treat CHOICE variables as grid_search (config's `search: grid`). Returns
 * LUX_ECONFIG with a message naming the first continuous variable when the
 * space is not finite. */
int lux_space_make_grid(lux_space_t *space, char *err, size_t errlen);

/* Builds trial k's config (k = 0 .. num_trials-1): grid point k % grid_size,
 * every other variable drawn from the stream (seed, k). Deterministic. On
 * success *config is a new object the caller releases. Returns 0, LUX_ERANGE
 * when k is negative, or LUX_ENOMEM. */
int lux_space_trial_config(const lux_space_t *space, uint64_t seed, long k, json_t **config);

/* Draws every variable of the space from rng into a new config (grid values
 * drawn uniformly); used by PBT to resample. Returns NULL on allocation
 * failure. */
json_t *lux_space_sample(const lux_space_t *space, lux_rng_t *rng);

/* Reads / writes a value at a dotted path inside a config object. get
 * returns a borrowed reference or NULL; set creates intermediate objects and
 * steals `value`; returns 0 or LUX_ENOMEM / LUX_EINVAL. */
json_t *lux_space_get_path(const json_t *config, const char *path);
int lux_space_set_path(json_t *config, const char *path, json_t *value);

#endif
