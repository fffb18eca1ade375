/*
 * IPOP / BIPOP restart driver around lux_cmaes_t (see restarts.h).
 *
 * The driver keeps the totals over runs (evaluations split into the small
 * and large regimes for BIPOP, the best point) and replaces its current
 * lux_cmaes_t when that run stops. BIPOP's uniform draws come from the
 * driver's own splitmix64 stream seeded from the base seed, so a run of the
 * driver is reproducible.
 */
#include "restarts.h"

#include "alloc.h"
#include "error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

struct lux_restarts {
    size_t n;
    double *x0, *best_x;
    double sigma0, best_f;
    lux_cmaes_opts_t base;
    lux_restarts_opts_t ropts;
    lux_cmaes_t *es;
    int lambda0, runs, large_runs, current_large, done;
    long maxiter0, evals, small_evals, large_evals, run_start_evals;
    uint64_t u_state;
    char reason[32];
};

void lux_restarts_opts_default(lux_restarts_opts_t *opts)
{
    opts->kind = LUX_RESTARTS_NONE;
    opts->max_restarts = 9;
    opts->incpopsize = 2;
    opts->max_evals = 0;
    opts->ftarget = -INFINITY;
}

int lux_restarts_parse_kind(const char *text, lux_restarts_kind_t *kind)
{
    static const char *names[] = {"none", "ipop", "bipop"};
    for (int i = 0; text != NULL && i < 3; i++)
        if (strcmp(text, names[i]) == 0) {
            *kind = (lux_restarts_kind_t)i;
            return 0;
        }
    return LUX_EINVAL;
}

static double uniform01(lux_restarts_t *self)
{
    uint64_t z = (self->u_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

/* Starts run number self->runs with the given population, step size and
 * iteration cap (0: default). */
static int start_run(lux_restarts_t *self, int lambda, double sigma, long maxiter, int large)
{
    lux_cmaes_opts_t o = self->base;
    o.popsize = lambda;
    o.seed = self->base.seed + (uint64_t)self->runs;
    o.max_generations = maxiter;
    if (isfinite(self->ropts.ftarget))
        o.ftarget = self->ropts.ftarget;
    if (self->ropts.max_evals > 0) {
        long left = self->ropts.max_evals - self->evals;
        o.max_evals = left > 0 ? left : 1;
    }
    lux_cmaes_t *es = NULL;
    int rc = lux_cmaes_new(self->n, self->x0, sigma, &o, &es);
    if (rc != 0)
        return rc;
    lux_cmaes_destroy(&self->es);
    self->es = es;
    self->runs++;
    self->current_large = large;
    self->run_start_evals = self->evals;
    return 0;
}

int lux_restarts_new(size_t n, const double *x0, double sigma0, const lux_cmaes_opts_t *base,
                     const lux_restarts_opts_t *ropts, lux_restarts_t **out)
{
    if (out == NULL || x0 == NULL || n == 0)
        return LUX_EINVAL;
    *out = NULL;
    lux_restarts_t *self = lux_calloc(1, sizeof *self);
    if (self == NULL)
        return LUX_ENOMEM;
    if (base != NULL)
        self->base = *base;
    else
        lux_cmaes_opts_default(&self->base);
    if (ropts != NULL)
        self->ropts = *ropts;
    else
        lux_restarts_opts_default(&self->ropts);
    if (self->ropts.incpopsize < 1 || self->ropts.max_restarts < 0 || (int)self->ropts.kind < 0 ||
        self->ropts.kind > LUX_RESTARTS_BIPOP) {
        lux_free(self);
        return LUX_EINVAL;
    }
    self->n = n;
    self->sigma0 = sigma0;
    self->best_f = INFINITY;
    self->u_state = self->base.seed ^ 0x5bd1e9955bd1e995ULL;
    self->x0 = lux_malloc(n * sizeof(double));
    self->best_x = lux_malloc(n * sizeof(double));
    if (self->x0 == NULL || self->best_x == NULL) {
        lux_restarts_destroy(&self);
        return LUX_ENOMEM;
    }
    memcpy(self->x0, x0, n * sizeof(double));
    memcpy(self->best_x, x0, n * sizeof(double));
    int rc = start_run(self, self->base.popsize, sigma0, self->base.max_generations,
                       self->ropts.kind != LUX_RESTARTS_BIPOP);
    if (rc != 0) {
        lux_restarts_destroy(&self);
        return rc;
    }
    self->lambda0 = lux_cmaes_popsize(self->es);
    self->maxiter0 = self->base.max_generations;
    if (self->maxiter0 <= 0) {
        double nn = (double)n;
        self->maxiter0 = (long)(100.0 + 150.0 * (nn + 3) * (nn + 3) / sqrt(self->lambda0));
    }
    *out = self;
    return 0;
}

void lux_restarts_destroy(lux_restarts_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    lux_restarts_t *self = *self_p;
    lux_cmaes_destroy(&self->es);
    lux_free(self->x0);
    lux_free(self->best_x);
    lux_free(self);
    *self_p = NULL;
}

int lux_restarts_popsize(const lux_restarts_t *self)
{
    return lux_cmaes_popsize(self->es);
}

int lux_restarts_ask(lux_restarts_t *self, double *X)
{
    if (self == NULL || self->done)
        return LUX_EINVAL;
    return lux_cmaes_ask(self->es, X);
}

static void finish(lux_restarts_t *self, const char *reason)
{
    self->done = 1;
    snprintf(self->reason, sizeof self->reason, "%s", reason);
}

/* The current run stopped: choose and start the next one, or finish. */
static int next_run(lux_restarts_t *self, const char *why)
{
    long used = self->evals - self->run_start_evals;
    if (self->current_large)
        self->large_evals += used;
    else
        self->small_evals += used;
    if (self->ropts.kind == LUX_RESTARTS_NONE) {
        finish(self, why);
        return 0;
    }
    int small = self->ropts.kind == LUX_RESTARTS_BIPOP && self->small_evals < self->large_evals &&
                self->large_runs > 0;
    if (!small && self->large_runs >= self->ropts.max_restarts) {
        finish(self, "restarts");
        return 0;
    }
    double inc = (double)self->ropts.incpopsize;
    if (small) {
        double lambda_l = self->lambda0 * pow(inc, self->large_runs);
        double u = uniform01(self);
        int lambda_s = (int)floor(self->lambda0 * pow(lambda_l / self->lambda0, u * u));
        if (lambda_s < 2)
            lambda_s = 2;
        double sigma = self->sigma0 * pow(0.01, uniform01(self));
        long maxiter = (long)(0.5 * (double)self->large_evals / lambda_s);
        if (maxiter > self->maxiter0)
            maxiter = self->maxiter0;
        if (maxiter < 1)
            maxiter = 1;
        return start_run(self, lambda_s, sigma, maxiter, 0);
    }
    self->large_runs++;
    int lambda = (int)(self->lambda0 * pow(inc, self->large_runs));
    return start_run(self, lambda, self->sigma0, self->base.max_generations, 1);
}

int lux_restarts_tell(lux_restarts_t *self, const double *X, const double *f)
{
    if (self == NULL || X == NULL || f == NULL || self->done)
        return LUX_EINVAL;
    int rc = lux_cmaes_tell(self->es, X, f);
    if (rc != 0 && rc != LUX_ERANGE)
        return rc;
    self->evals += lux_cmaes_popsize(self->es);
    const double *bx;
    double bf = lux_cmaes_best(self->es, &bx);
    if (bf < self->best_f) {
        self->best_f = bf;
        memcpy(self->best_x, bx, self->n * sizeof(double));
    }
    if (self->best_f < self->ropts.ftarget) {
        finish(self, "ftarget");
        return 0;
    }
    if (self->ropts.max_evals > 0 && self->evals >= self->ropts.max_evals) {
        finish(self, "maxfevals");
        return 0;
    }
    char why[32];
    if (!lux_cmaes_stop(self->es, why, sizeof why))
        return 0;
    if (strcmp(why, "ftarget") == 0) {
        finish(self, why);
        return 0;
    }
    return next_run(self, why);
}

int lux_restarts_done(const lux_restarts_t *self, char *reason, size_t len)
{
    if (reason != NULL && len > 0)
        snprintf(reason, len, "%s", self->done ? self->reason : "");
    return self->done;
}

const lux_cmaes_t *lux_restarts_current(const lux_restarts_t *self)
{
    return self->es;
}

double lux_restarts_best(const lux_restarts_t *self, const double **x)
{
    if (x != NULL)
        *x = self->best_x;
    return self->best_f;
}

long lux_restarts_evaluations(const lux_restarts_t *self)
{
    return self->evals;
}

int lux_restarts_runs(const lux_restarts_t *self)
{
    return self->runs;
}

int lux_restarts_minimize(size_t n, const double *x0, double sigma0, const lux_cmaes_opts_t *base,
                          const lux_restarts_opts_t *ropts, lux_objective_fn f, void *ctx,
                          lux_restarts_t **self_out)
{
    if (self_out != NULL)
        *self_out = NULL;
    if (f == NULL)
        return LUX_EINVAL;
    lux_restarts_t *self = NULL;
    int rc = lux_restarts_new(n, x0, sigma0, base, ropts, &self);
    if (rc != 0)
        return rc;
    double *X = NULL, *fx = NULL;
    int cap = 0;
    while (!self->done) {
        int lam = lux_restarts_popsize(self);
        if (lam > cap) {
            lux_free(X);
            lux_free(fx);
            X = lux_malloc((size_t)lam * n * sizeof(double));
            fx = lux_malloc((size_t)lam * sizeof(double));
            cap = lam;
            if (X == NULL || fx == NULL) {
                rc = LUX_ENOMEM;
                break;
            }
        }
        if ((rc = lux_restarts_ask(self, X)) != 0)
            break;
        for (int k = 0; k < lam; k++)
            fx[k] = f(X + (size_t)k * n, n, ctx);
        if ((rc = lux_restarts_tell(self, X, fx)) != 0)
            break;
    }
    lux_free(X);
    lux_free(fx);
    if (rc == 0 && self_out != NULL)
        *self_out = self;
    else
        lux_restarts_destroy(&self);
    return rc;
}
