/*
 * RMSProp with shareable statistics (see rmsprop.h). The handle either owns
 * its statistics g or points at n doubles the caller owns; every step reads
 * and writes g in place, so handles pointing at one buffer share it.
 */
#include "rmsprop.h"

#include "alloc.h"
#include "error.h"
#include "optim_state.h"

#include <math.h>
#include <stdint.h>

struct lux_rmsprop {
    size_t n;
    long steps;
    lux_rmsprop_opts_t opts;
    double *g;
    int owns_g;
};

void lux_rmsprop_opts_default(lux_rmsprop_opts_t *opts)
{
    opts->lr = 7e-4;
    opts->alpha = 0.99;
    opts->eps = 0.1;
}

static int valid(const void *opts)
{
    const lux_rmsprop_opts_t *o = opts;
    return o->lr > 0 && isfinite(o->lr) && o->alpha >= 0 && o->alpha < 1 && o->eps > 0 &&
           isfinite(o->eps);
}

int lux_rmsprop_new(size_t n, const lux_rmsprop_opts_t *opts, double *shared_stats,
                    lux_rmsprop_t **out)
{
    if (out == NULL)
        return LUX_EINVAL;
    *out = NULL;
    lux_rmsprop_opts_t def;
    if (opts == NULL) {
        lux_rmsprop_opts_default(&def);
        opts = &def;
    }
    if (n == 0 || !valid(opts))
        return LUX_EINVAL;
    lux_rmsprop_t *self = lux_calloc(1, sizeof *self);
    if (self == NULL)
        return LUX_ENOMEM;
    self->n = n;
    self->opts = *opts;
    if (shared_stats != NULL) {
        self->g = shared_stats;
    } else {
        self->g = lux_calloc(n, sizeof(double));
        self->owns_g = 1;
        if (self->g == NULL) {
            lux_free(self);
            return LUX_ENOMEM;
        }
    }
    *out = self;
    return 0;
}

void lux_rmsprop_destroy(lux_rmsprop_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    if ((*self_p)->owns_g)
        lux_free((*self_p)->g);
    lux_free(*self_p);
    *self_p = NULL;
}

void lux_rmsprop_step(lux_rmsprop_t *self, double *theta, const double *grad)
{
    const double a = self->opts.alpha, lr = self->opts.lr, eps = self->opts.eps;
    double *g = self->g;
    for (size_t i = 0; i < self->n; i++) {
        double d = grad[i];
        g[i] = a * g[i] + (1.0 - a) * d * d;
        theta[i] -= lr * d / sqrt(g[i] + eps);
    }
    self->steps++;
}

void lux_rmsprop_set_lr(lux_rmsprop_t *self, double lr)
{
    self->opts.lr = lr;
}

double *lux_rmsprop_stats(lux_rmsprop_t *self)
{
    return self->g;
}

long lux_rmsprop_steps(const lux_rmsprop_t *self)
{
    return self->steps;
}

#define RMSPROP_MAGIC "LUXRMSP1"

int lux_rmsprop_save(const lux_rmsprop_t *self, void **bytes, size_t *len)
{
    if (self == NULL || bytes == NULL || len == NULL)
        return LUX_EINVAL;
    const double *vecs[1] = {self->g};
    return lux_optim_state_save(RMSPROP_MAGIC, self->n, self->steps, &self->opts, sizeof self->opts,
                                vecs, 1, bytes, len);
}

int lux_rmsprop_restore(lux_rmsprop_t *self, const void *bytes, size_t len)
{
    if (self == NULL || bytes == NULL)
        return LUX_EINVAL;
    lux_rmsprop_opts_t stored; /* checked, not used: the options stay the instance's own */
    int64_t steps;
    double *vecs[1] = {self->g};
    int rc = lux_optim_state_restore(RMSPROP_MAGIC, self->n, bytes, len, &stored, sizeof stored,
                                     valid, &steps, vecs, 1);
    if (rc == 0)
        self->steps = (long)steps;
    return rc;
}
