/*
 * The actor-critic loss of A3C and its gradient with respect to a policy's
 * flat parameters (discrete or gaussian head, with a value output):
 *
 *   L = -sum_t log pi(a_t|s_t) A_t + vf_loss_coeff * 0.5 * sum_t (V(s_t) - R_t)^2
 *       - entropy_coeff * sum_t H(pi(.|s_t))
 *
 * summed over the batch, as Ray's original A3C policy does (entropy_coeff is
 * the newer RLlib sign: positive rewards entropy).
 */
#ifndef LUX_RL_POLICY_LOSS_H
#define LUX_RL_POLICY_LOSS_H

#include "policy.h"

typedef struct {
    double policy_loss; /* -sum log pi * A */
    double vf_loss;     /* 0.5 * sum (V - R)^2 */
    double entropy;     /* sum H */
    double total;       /* L */
} lux_a3c_loss_t;

/* Computes L on a batch (obs: batch x obs_dim; actions: batch values for a
 * discrete head, batch x action_dim raw samples for a gaussian one;
 * advantages and value_targets: batch values) and, when grad is not NULL,
 * ADDS dL/dparams into grad[num_params]. The policy must have a value head
 * and a discrete or gaussian head. Returns 0, LUX_EINVAL or LUX_ENOMEM. */
int lux_a3c_loss(lux_policy_t *p, const double *obs, const double *actions,
                 const double *advantages, const double *value_targets, int batch,
                 double vf_loss_coeff, double entropy_coeff, double *grad, lux_a3c_loss_t *out);

/* GAE(gamma, lambda) over one fragment of n steps: values[0..n-1] are
 * V(s_t), bootstrap is V(s_n) (0 when the fragment ended in a terminal
 * state). Writes advantages and value targets (advantage + V). Cannot fail. */
void lux_gae(const double *rewards, const double *values, int n, double bootstrap, double gamma,
             double lambda, double *advantages, double *value_targets);

#endif
