/*
 * IPOP (Auger & Hansen 2005) and BIPOP (Hansen 2009) restarts around CMA-ES, as an ask/tell
 * driver so that the evaluations can be fanned out like plain CMA-ES.
 *
 * The driver owns one lux_cmaes_t at a time. When that run stops (any
 * lux_cmaes_stop criterion other than "ftarget"), the next tell() starts the
 * next run: IPOP doubles lambda (incpopsize) for every run; BIPOP follows
 * pycma's cma.fmin(bipop=True): the first run is default and counts as
 * small; then a small run (lambda_S = floor(lambda0 (lambda_L/lambda0)^(U^2)),
 * sigma = sigma0 * 0.01^U, maxiter = min(maxiter0, 0.5 * large evals /
 * lambda_S)) whenever the small-regime evaluations are below the
 * large-regime ones, else a large run (lambda_L = lambda0 * 2^i_L, sigma0).
 * Every run starts at x0; run k uses seed + k. The population size changes
 * between runs, so callers ask lux_restarts_popsize() before every ask().
 *
 * Not serialisable (a checkpoint of the current run is lux_cmaes_save() of
 * lux_restarts_current()). One thread at a time.
 */
#ifndef LUX_RESTARTS_H
#define LUX_RESTARTS_H

#include "cmaes.h"

#include <stddef.h>

typedef enum {
    LUX_RESTARTS_NONE = 0,
    LUX_RESTARTS_IPOP = 1,
    LUX_RESTARTS_BIPOP = 2,
} lux_restarts_kind_t;

typedef struct {
    lux_restarts_kind_t kind;
    int max_restarts; /* large restarts after the first run (pycma's default 9) */
    int incpopsize;   /* factor for lambda per large restart (2) */
    long max_evals;   /* total budget over all runs; 0: unlimited */
    double ftarget;   /* stop everything when best f < ftarget (-INFINITY: off) */
} lux_restarts_opts_t;

typedef struct lux_restarts lux_restarts_t;

/* An objective for lux_restarts_minimize: f(x) for x of n values. */
typedef double (*lux_objective_fn)(const double *x, size_t n, void *ctx);

/* kind NONE, 9 restarts, incpopsize 2, no budget, ftarget off. */
void lux_restarts_opts_default(lux_restarts_opts_t *opts);

/* Parses "none", "ipop", "bipop". Returns 0 or LUX_EINVAL. */
int lux_restarts_parse_kind(const char *text, lux_restarts_kind_t *kind);

/* Creates the driver and its first run: lux_cmaes_new(n, x0, sigma0, base)
 * where base (may be NULL) gives the first run's options (its popsize is
 * lambda0, its seed the first seed). ropts may be NULL (defaults). Returns 0,
 * LUX_EINVAL, LUX_ENOMEM. */
int lux_restarts_new(size_t n, const double *x0, double sigma0, const lux_cmaes_opts_t *base,
                     const lux_restarts_opts_t *ropts, lux_restarts_t **out);

/* Frees the driver and its current run; accepts NULL. */
void lux_restarts_destroy(lux_restarts_t **self_p);

/* Population size of the current run (rows for the next ask). */
int lux_restarts_popsize(const lux_restarts_t *self);

/* ask/tell of the current run. tell() starts the next run when the current
 * one stopped and the driver is not done. Returns 0, LUX_EINVAL, LUX_ENOMEM,
 * LUX_ERANGE (as lux_cmaes_tell). */
int lux_restarts_ask(lux_restarts_t *self, double *X);
int lux_restarts_tell(lux_restarts_t *self, const double *X, const double *f);

/* 1 when the whole driver is done ("ftarget", "maxfevals", "restarts" when
 * the restarts are spent, or the last run's reason when kind is NONE), with
 * the reason written as lux_cmaes_stop does. Cannot fail. */
int lux_restarts_done(const lux_restarts_t *self, char *reason, size_t len);

/* The current run (owned by the driver; valid until the next tell()). */
const lux_cmaes_t *lux_restarts_current(const lux_restarts_t *self);

/* Totals over all runs. *x (may be NULL) gets the best point (n values). */
double lux_restarts_best(const lux_restarts_t *self, const double **x);
long lux_restarts_evaluations(const lux_restarts_t *self);
int lux_restarts_runs(const lux_restarts_t *self); /* runs started, the first included */

/* Convenience loop: runs the driver on f until done. Returns 0 (the outcome
 * is in the accessors) or an error of new/ask/tell; *self_out (may be NULL)
 * receives the driver for inspection, else it is destroyed. */
int lux_restarts_minimize(size_t n, const double *x0, double sigma0, const lux_cmaes_opts_t *base,
                          const lux_restarts_opts_t *ropts, lux_objective_fn f, void *ctx,
                          lux_restarts_t **self_out);

#endif
