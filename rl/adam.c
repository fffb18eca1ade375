/*
 * Adam (see adam.h). State: step count t and the moment vectors m, v. The
 * save format (optim_state.h) is a magic, n, t, the options and m, v as
 * host doubles.
 */
#include "adam.h"

#include "alloc.h"
#include "error.h"
#include "optim_state.h"

#include <math.h>
#include <stdint.h>

struct lux_adam {
    size_t n;
    long t;
    lux_adam_opts_t opts;
    double *m, *v;
};

void lux_adam_opts_default(lux_adam_opts_t *opts)
{
    opts->lr = 0.01;
    opts->beta1 = 0.9;
    opts->beta2 = 0.999;
    opts->eps = 1e-8;
}

static int valid(const void *opts)
{
    const lux_adam_opts_t *o = opts;
    return o->lr > 0 && isfinite(o->lr) && o->beta1 >= 0 && o->beta1 < 1 && o->beta2 >= 0 &&
           o->beta2 < 1 && o->eps >= 0 && isfinite(o->eps);
}

int lux_adam_new(size_t n, const lux_adam_opts_t *opts, lux_adam_t **out)
{
    if (out == NULL)
        return LUX_EINVAL;
    *out = NULL;
    lux_adam_opts_t def;
    if (opts == NULL) {
        lux_adam_opts_default(&def);
        opts = &def;
    }
    if (n == 0 || !valid(opts))
        return LUX_EINVAL;
    lux_adam_t *self = lux_calloc(1, sizeof *self);
    if (self == NULL)
        return LUX_ENOMEM;
    self->n = n;
    self->opts = *opts;
    self->m = lux_calloc(n, sizeof(double));
    self->v = lux_calloc(n, sizeof(double));
    if (self->m == NULL || self->v == NULL) {
        lux_adam_destroy(&self);
        return LUX_ENOMEM;
    }
    *out = self;
    return 0;
}

void lux_adam_destroy(lux_adam_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    lux_free((*self_p)->m);
    lux_free((*self_p)->v);
    lux_free(*self_p);
    *self_p = NULL;
}

void lux_adam_step(lux_adam_t *self, double *theta, const double *grad)
{
    const double b1 = self->opts.beta1, b2 = self->opts.beta2, eps = self->opts.eps;
    self->t++;
    double a =
        self->opts.lr * sqrt(1.0 - pow(b2, (double)self->t)) / (1.0 - pow(b1, (double)self->t));
    double *m = self->m, *v = self->v;
    for (size_t i = 0; i < self->n; i++) {
        double g = grad[i];
        m[i] = b1 * m[i] + (1.0 - b1) * g;
        v[i] = b2 * v[i] + (1.0 - b2) * g * g;
        theta[i] -= a * m[i] / (sqrt(v[i]) + eps);
    }
}

void lux_adam_set_lr(lux_adam_t *self, double lr)
{
    self->opts.lr = lr;
}

long lux_adam_steps(const lux_adam_t *self)
{
    return self->t;
}

#define ADAM_MAGIC "LUXADAM1"

int lux_adam_save(const lux_adam_t *self, void **bytes, size_t *len)
{
    if (self == NULL || bytes == NULL || len == NULL)
        return LUX_EINVAL;
    const double *vecs[2] = {self->m, self->v};
    return lux_optim_state_save(ADAM_MAGIC, self->n, self->t, &self->opts, sizeof self->opts, vecs,
                                2, bytes, len);
}

int lux_adam_restore(lux_adam_t *self, const void *bytes, size_t len)
{
    if (self == NULL || bytes == NULL)
        return LUX_EINVAL;
    lux_adam_opts_t stored; /* checked, not used: the options stay the instance's own (adam.h) */
    int64_t t;
    double *vecs[2] = {self->m, self->v};
    int rc = lux_optim_state_restore(ADAM_MAGIC, self->n, bytes, len, &stored, sizeof stored, valid,
                                     &t, vecs, 2);
    if (rc == 0)
        self->t = (long)t;
    return rc;
}
