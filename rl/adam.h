/*
 * Adam (Kingma & Ba 2015) as in openai/evolution-strategies-starter
 * (es_distributed/optimizers.py, docs/optimizers.md): first and second moment estimates m, v with
 * bias correction folded into the step size,
 *     t += 1; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 *     a = lr sqrt(1 - b2^t) / (1 - b1^t);  theta -= a m / (sqrt(v) + eps).
 * It minimises: pass the gradient of the loss (for ascent pass -g). The
 * instance owns m and v; one thread at a time.
 */
#ifndef LUX_ADAM_H
#define LUX_ADAM_H

#include <stddef.h>

typedef struct {
    double lr;    /* stepsize (0.01, the ES starter's humanoid config) */
    double beta1; /* 0.9 */
    double beta2; /* 0.999 */
    double eps;   /* 1e-8 */
} lux_adam_opts_t;

typedef struct lux_adam lux_adam_t;

/* lr 0.01, beta1 0.9, beta2 0.999, eps 1e-8. Cannot fail. */
void lux_adam_opts_default(lux_adam_opts_t *opts);

/* Creates an optimiser for n parameters with m = v = 0, t = 0 (opts may be
 * NULL). Returns 0, LUX_EINVAL (n == 0, lr <= 0, betas outside [0, 1), eps
 * < 0), LUX_ENOMEM. */
int lux_adam_new(size_t n, const lux_adam_opts_t *opts, lux_adam_t **out);

/* Frees and clears *self_p; accepts NULL. */
void lux_adam_destroy(lux_adam_t **self_p);

/* One update of theta (n values, in place) from grad (n values). Cannot fail. */
void lux_adam_step(lux_adam_t *self, double *theta, const double *grad);

/* Changes the stepsize (schedules). Cannot fail. */
void lux_adam_set_lr(lux_adam_t *self, double lr);

long lux_adam_steps(const lux_adam_t *self); /* t */

/* save writes t, m, v and the options; restore reads back t, m, v (the
 * learned state) and keeps the instance's own options, so that a trainable
 * restored under a new config (PBT exploit) uses the config's lr and betas,
 * while a restore under the same config continues bit-for-bit. The bytes are
 * lux_malloc'd; the caller frees them with lux_free. restore needs an
 * instance of the same n. Returns 0, LUX_ENOMEM / LUX_EINVAL. */
int lux_adam_save(const lux_adam_t *self, void **bytes, size_t *len);
int lux_adam_restore(lux_adam_t *self, const void *bytes, size_t len);

#endif
