/*
 * Adam (see adam.h). State: step count t and the moment vectors m, v. The
 * save format is a magic, n, t, the options and m, v as host doubles.
 */
#include "adam.h"

#include "alloc.h"
#include "error.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

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

static int valid(const lux_adam_opts_t *o)
{
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
    size_t vec = self->n * sizeof(double);
    size_t total = 8 + sizeof(uint64_t) + sizeof(int64_t) + sizeof self->opts + 2 * vec;
    unsigned char *buf = lux_malloc(total), *p = buf;
    if (buf == NULL)
        return LUX_ENOMEM;
    uint64_t n = self->n;
    int64_t t = self->t;
    memcpy(p, ADAM_MAGIC, 8), p += 8;
    memcpy(p, &n, sizeof n), p += sizeof n;
    memcpy(p, &t, sizeof t), p += sizeof t;
    memcpy(p, &self->opts, sizeof self->opts), p += sizeof self->opts;
    memcpy(p, self->m, vec), p += vec;
    memcpy(p, self->v, vec);
    *bytes = buf;
    *len = total;
    return 0;
}

int lux_adam_restore(lux_adam_t *self, const void *bytes, size_t len)
{
    if (self == NULL || bytes == NULL)
        return LUX_EINVAL;
    size_t vec = self->n * sizeof(double);
    size_t total = 8 + sizeof(uint64_t) + sizeof(int64_t) + sizeof self->opts + 2 * vec;
    const unsigned char *p = bytes;
    uint64_t n;
    int64_t t;
    lux_adam_opts_t o;
    if (len != total || memcmp(p, ADAM_MAGIC, 8) != 0)
        return LUX_EINVAL;
    p += 8;
    memcpy(&n, p, sizeof n), p += sizeof n;
    memcpy(&t, p, sizeof t), p += sizeof t;
    memcpy(&o, p, sizeof o), p += sizeof o;
    if (n != self->n || t < 0 || !valid(&o))
        return LUX_EINVAL;
    self->t = (long)t; /* the options stay the instance's own (adam.h) */
    memcpy(self->m, p, vec), p += vec;
    memcpy(self->v, p, vec);
    return 0;
}
