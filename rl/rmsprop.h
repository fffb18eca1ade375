/*
 * RMSProp with shareable statistics, as in A3C (Mnih et al. 2016,
 * arXiv:1602.01783): g <- alpha g + (1 - alpha) d^2; theta <- theta - lr d /
 * sqrt(g + eps), where d is the gradient of the loss (minimisation).
 *
 * The statistics g may live in memory the caller provides (a buffer shared by
 * the workers of a node, or the driver's copy that every gradient passes
 * through), so that several optimiser handles update one g: that is "shared
 * RMSProp". Like the paper's Hogwild threads, concurrent steps on the same
 * shared g are not synchronised; callers that want determinism apply
 * gradients from one thread (as lux's A3C driver does). Defaults: alpha 0.99,
 * eps 0.1, lr 7e-4 (the values the A3C authors quoted; docs/optimizers.md).
 */
#ifndef LUX_RMSPROP_H
#define LUX_RMSPROP_H

#include <stddef.h>

typedef struct {
    double lr;    /* 7e-4 */
    double alpha; /* decay, 0.99 */
    double eps;   /* 0.1 (inside the square root) */
} lux_rmsprop_opts_t;

typedef struct lux_rmsprop lux_rmsprop_t;

/* lr 7e-4, alpha 0.99, eps 0.1. Cannot fail. */
void lux_rmsprop_opts_default(lux_rmsprop_opts_t *opts);

/* Creates an optimiser for n parameters (opts may be NULL). shared_stats:
 * NULL to own a zeroed g, or n doubles the caller owns and keeps alive
 * longer than the optimiser (it is used as g, not copied or cleared).
 * Returns 0, LUX_EINVAL (n == 0, lr <= 0, alpha outside [0,1), eps <= 0),
 * LUX_ENOMEM. */
int lux_rmsprop_new(size_t n, const lux_rmsprop_opts_t *opts, double *shared_stats,
                    lux_rmsprop_t **out);

/* Frees the handle (not caller-provided statistics); accepts NULL. */
void lux_rmsprop_destroy(lux_rmsprop_t **self_p);

/* One update of theta (in place) from grad. Cannot fail. */
void lux_rmsprop_step(lux_rmsprop_t *self, double *theta, const double *grad);

/* Changes the learning rate (A3C anneals it linearly). Cannot fail. */
void lux_rmsprop_set_lr(lux_rmsprop_t *self, double lr);

/* The statistics g (n values), owned or shared. */
double *lux_rmsprop_stats(lux_rmsprop_t *self);
long lux_rmsprop_steps(const lux_rmsprop_t *self);

/* save writes the options, step count and g; restore reads back the step
 * count and g (written into whichever buffer g is) and keeps the instance's
 * own options (a new config's lr wins, as for Adam). Bytes lux_malloc'd,
 * caller frees. Returns 0, LUX_ENOMEM / LUX_EINVAL (wrong size or magic). */
int lux_rmsprop_save(const lux_rmsprop_t *self, void **bytes, size_t *len);
int lux_rmsprop_restore(lux_rmsprop_t *self, const void *bytes, size_t len);

#endif
