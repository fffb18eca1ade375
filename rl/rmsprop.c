/*
 * RMSProp with shareable statistics (see rmsprop.h). The handle either owns
 * its statistics g or points at n doubles the caller owns; every step reads
 * and writes g in place, so handles pointing at one buffer share it.
 */
#include "rmsprop.h"

#include "alloc.h"
#include "error.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

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

static int valid(const lux_rmsprop_opts_t *o)
{
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
    size_t vec = self->n * sizeof(double);
    size_t total = 8 + sizeof(uint64_t) + sizeof(int64_t) + sizeof self->opts + vec;
    unsigned char *buf = lux_malloc(total), *p = buf;
    if (buf == NULL)
        return LUX_ENOMEM;
    uint64_t n = self->n;
    int64_t steps = self->steps;
    memcpy(p, RMSPROP_MAGIC, 8), p += 8;
    memcpy(p, &n, sizeof n), p += sizeof n;
    memcpy(p, &steps, sizeof steps), p += sizeof steps;
    memcpy(p, &self->opts, sizeof self->opts), p += sizeof self->opts;
    memcpy(p, self->g, vec);
    *bytes = buf;
    *len = total;
    return 0;
}

int lux_rmsprop_restore(lux_rmsprop_t *self, const void *bytes, size_t len)
{
    if (self == NULL || bytes == NULL)
        return LUX_EINVAL;
    size_t vec = self->n * sizeof(double);
    size_t total = 8 + sizeof(uint64_t) + sizeof(int64_t) + sizeof self->opts + vec;
    const unsigned char *p = bytes;
    uint64_t n;
    int64_t steps;
    lux_rmsprop_opts_t o;
    if (len != total || memcmp(p, RMSPROP_MAGIC, 8) != 0)
        return LUX_EINVAL;
    p += 8;
    memcpy(&n, p, sizeof n), p += sizeof n;
    memcpy(&steps, p, sizeof steps), p += sizeof steps;
    memcpy(&o, p, sizeof o), p += sizeof o;
    if (n != self->n || steps < 0 || !valid(&o))
        return LUX_EINVAL;
    self->steps = (long)steps; /* the options stay the instance's own (rmsprop.h) */
    memcpy(self->g, p, vec);
    return 0;
}
