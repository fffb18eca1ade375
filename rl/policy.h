/*
 * Feed-forward policies for the evolution methods and A3C: a linear map or an
 * MLP (any hidden sizes, tanh or relu) followed by a head that turns the
 * outputs into an action.
 *
 *   discrete       logits -> softmax sample, or argmax ("argmax": true)
 *   deterministic  continuous; a = low + (tanh(y) + 1)/2 * (high - low)
 *   gaussian       continuous; a = clip(y + exp(log_std) * N(0, 1), low, high)
 *                  with a state-independent log_std vector
 *
 * An optional value output (A3C's critic) shares the trunk: it is one more
 * unit of the last layer.
 *
 * Numbers are double. The evolution methods keep their search state in
 * double (CMA-ES covariance, Adam moments), the gradient checks compare
 * finite differences that float32 would drown, and checkpoints must continue
 * bit-for-bit; the networks are small enough (4-64-64-2 is 4.6k parameters)
 * that a forward pass is dominated by call overhead, not flops.
 *
 * Parameters are one flat vector (the view the evolution methods search
 * over): for each layer its weights (out x in, row-major) then its biases,
 * and finally log_std for a gaussian head. Forward passes are batched through
 * cblas_dgemm; the last forward's activations stay in the policy's workspace
 * for lux_policy_backward. A policy is used by one thread at a time.
 */
#ifndef LUX_RL_POLICY_H
#define LUX_RL_POLICY_H

#include "seeding.h"

#include <stddef.h>

#define LUX_POLICY_MAX_LAYERS     8
#define LUX_POLICY_MAX_ACTION_DIM 8

typedef enum { LUX_ACTIVATION_TANH = 0, LUX_ACTIVATION_RELU = 1 } lux_activation_t;

typedef enum {
    LUX_HEAD_DISCRETE = 0,
    LUX_HEAD_DETERMINISTIC = 1,
    LUX_HEAD_GAUSSIAN = 2,
} lux_head_t;

typedef struct {
    int obs_dim;
    int num_hidden; /* 0: a linear policy */
    int hidden[LUX_POLICY_MAX_LAYERS];
    lux_activation_t activation;
    lux_head_t head;
    int action_dim; /* discrete: number of actions; continuous: action components */
    int argmax;     /* discrete: 1 = greedy, 0 = sample the softmax */
    double action_low[LUX_POLICY_MAX_ACTION_DIM];
    double action_high[LUX_POLICY_MAX_ACTION_DIM];
    int value_head;      /* 1: one extra output, the state value */
    double log_std_init; /* gaussian: initial log standard deviation */
} lux_policy_spec_t;

typedef struct lux_policy lux_policy_t;

/* Checks a spec: dimensions positive and within the limits above, bounds
 * ordered. Returns 0 or LUX_EINVAL. */
int lux_policy_spec_check(const lux_policy_spec_t *spec);

/* A new policy with zero parameters (call lux_policy_init_params for a
 * random start). Returns NULL for a bad spec or when out of memory. */
lux_policy_t *lux_policy_new(const lux_policy_spec_t *spec);
void lux_policy_destroy(lux_policy_t **self_p);

const lux_policy_spec_t *lux_policy_spec(const lux_policy_t *p);

/* Length of the flat parameter vector. */
size_t lux_policy_num_params(const lux_policy_t *p);

/* Number of network outputs (actions' logits or means, plus the value). */
int lux_policy_num_outputs(const lux_policy_t *p);

/* Offset of log_std in the flat vector (gaussian head); equals
 * num_params for the other heads. */
size_t lux_policy_log_std_offset(const lux_policy_t *p);

/* The flat parameter vector, owned by the policy (read and write). */
double *lux_policy_params(lux_policy_t *p);

/* Copies in/out the whole flat vector (length lux_policy_num_params). */
void lux_policy_set_params(lux_policy_t *p, const double *params);
void lux_policy_get_params(const lux_policy_t *p, double *params);

/* Normalised-column initialisation (OpenAI ES's normc): each weight row has
 * norm 1.0 for hidden layers and for the value unit, 0.01 for the action
 * outputs; biases 0; log_std = spec.log_std_init. Deterministic in rng. */
void lux_policy_init_params(lux_policy_t *p, lux_rng_t *rng);

/* Runs the network on obs[batch x obs_dim] (row-major) and points *out at
 * batch x num_outputs values in the policy's workspace (valid until the next
 * call). Returns 0 or LUX_ENOMEM (the workspace grows with the batch). */
int lux_policy_forward(lux_policy_t *p, const double *obs, int batch, const double **out);

/* Back-propagates d(loss)/d(outputs) (batch x num_outputs, for the last
 * forward) and ADDS d(loss)/d(params) into grad[num_params]. log_std gets no
 * gradient here (its loss terms do not pass through the network). */
void lux_policy_backward(lux_policy_t *p, const double *dout, double *grad);

/* Picks an action for one observation. action receives one value (the
 * index, as a double) for a discrete head, action_dim values otherwise, as
 * the environment should receive them. raw (may be NULL) receives the
 * unclipped gaussian sample (what A3C's log-likelihood needs); for the other
 * heads it equals action. rng is used only by sampling heads. Returns 0 or
 * LUX_ENOMEM. */
int lux_policy_act(lux_policy_t *p, const double *obs, lux_rng_t *rng, double *action, double *raw);

/* ---- batched float32 acting ----
 *
 * A float32 copy of a policy's network that acts for many episodes at once
 * (the rollouts of the evolution methods): 8 rows per block, one row per
 * vector lane (rl/vecmath.h), tanh and softmax through the vectorised
 * float32 exp. A row's action does not depend on the batch it is computed
 * in. The double lux_policy_act above stays the reference (A3C's learner
 * and its gradients use the double network). */

typedef struct lux_policy_f32 lux_policy_f32_t;

/* A float32 snapshot of p's weights and head; NULL when out of memory. */
lux_policy_f32_t *lux_policy_f32_new(const lux_policy_t *p);
void lux_policy_f32_destroy(lux_policy_f32_t **self_p);

/* Copies p's current parameters again (p must have f's spec). Cannot fail. */
void lux_policy_f32_sync(lux_policy_f32_t *f, const lux_policy_t *p);

/* Actions for n rows of observations obs[n x obs_dim] (already normalised):
 * action[j * action_dim ..] as lux_policy_act writes them (discrete: the
 * index as a double). Row j's sampling (softmax or gaussian) draws from
 * rng[j], as lux_policy_act draws. Cannot fail. */
void lux_policy_f32_act(lux_policy_f32_t *f, const float *obs, int n, lux_rng_t *const *rng,
                        double *action);

/* Parses "tanh" / "relu"; returns 0 or LUX_EINVAL. */
int lux_activation_parse(const char *text, lux_activation_t *act);
const char *lux_activation_name(lux_activation_t act);

#endif
