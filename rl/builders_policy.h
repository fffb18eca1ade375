/*
 * The policy the builders study evolved (docs/trainables.md): 35 inputs (24 cell
 * indicators, 8 memory values, 3 fresh uniform numbers), each mapped to
 * (x - 0.2) * 2.5, then one or two ReLU hidden layers and 18 linear outputs:
 * 10 action logits (times actions_scale, softmax, sampled) and 8 memory
 * targets u, with m <- clamp(r m + (1 - r) u, +-memory_clamp) and
 * r = ln 2 / max(memory_halftime, 0.001).
 *
 * As in the original, r is the RETENTION factor, so a larger
 * memory_halftime forgets faster; we keep that behaviour (and the name the
 * study's search space uses) so that the study's hyperparameters mean the
 * same thing here.
 *
 * The flat parameter vector is what CMA-ES searches (mean 0, sigma 1); each
 * block is multiplied by a fixed factor before use, so init_fac sets both the
 * starting weight scale and the search step scale. The output weights'
 * factor is sqrt(init_fac / (h1 + 18)) as in the builders study (docs/envs.md) and the original,
 * even with a second hidden layer, whose width h2 is the fan-in those
 * weights actually see; output_fac_h2 = 1 uses h2 instead (our correction,
 * off by default so the study's numbers mean the same thing here).
 *
 * Two ways to act. lux_builders_policy_act is the reference: one decision
 * in double precision with scalar loops. lux_builders_batch_t acts for many
 * episodes at once in float32 (rl/vecmath.h: one episode per vector lane,
 * eight lanes per block), with the same random draws from each episode's
 * own generator in the same order; a row's result does not depend on the
 * batch it is computed in, so an episode is a pure function of (parameters,
 * seed) whatever the batch size. Float32 rounding makes its action
 * probabilities differ from the reference's in the 7th digit, so an episode
 * may take another path than the double one after a near-tie.
 */
#ifndef LUX_RL_BUILDERS_POLICY_H
#define LUX_RL_BUILDERS_POLICY_H

#include "seeding.h"

#include <stddef.h>

#define LUX_BPOLICY_CELL_INPUTS 24
#define LUX_BPOLICY_MEMORY      8
#define LUX_BPOLICY_RANDOM      3
#define LUX_BPOLICY_INPUTS      35
#define LUX_BPOLICY_ACTIONS     10
#define LUX_BPOLICY_OUTPUTS     18
#define LUX_BPOLICY_MAX_AGENTS  64
#define LUX_BPOLICY_MAX_HIDDEN  256

typedef struct {
    int n_hidden;                         /* <= LUX_BPOLICY_MAX_HIDDEN; default 20 */
    int n_hidden2;                        /* 0: one hidden layer (the older variant); default 10 */
    double init_fac, init_fac2, bias_fac; /* 0.2, 1.0, 0.1 */
    double actions_scale;                 /* 10 */
    double memory_clamp;                  /* 10 */
    double memory_halftime;               /* 5 */
    int output_fac_h2;                    /* 0: sqrt(init_fac/(h1+18)) (the study); 1: h2+18 */
} lux_builders_policy_opts_t;

typedef struct {
    lux_builders_policy_opts_t opts;
    size_t num_params;
    size_t off[6];    /* w1, b1, w2, b2, wo, bo */
    double factor[6]; /* block scale factors */
    const double *params;
    int num_agents;
    double memory[LUX_BPOLICY_MAX_AGENTS][LUX_BPOLICY_MEMORY];
} lux_builders_policy_t;

/* The defaults above. Cannot fail. */
void lux_builders_policy_opts_default(lux_builders_policy_opts_t *opts);

/* Computes the layout for opts. Returns 0 or LUX_EINVAL (sizes out of range). */
int lux_builders_policy_init(lux_builders_policy_t *bp, const lux_builders_policy_opts_t *opts);

/* Number of parameters: 35 h1 + h1 + h1 h2 + h2 + h2 18 + 18 with two
 * layers (1,128 for 20/10), 35 h1 + h1 + h1 18 + 18 with one. */
size_t lux_builders_policy_num_params(const lux_builders_policy_t *bp);

/* Uses params (num_params values; the caller keeps them alive). */
void lux_builders_policy_set_params(lux_builders_policy_t *bp, const double *params);

/* Starts an episode: every agent's memory ~ U(-1, 1). num_agents <=
 * LUX_BPOLICY_MAX_AGENTS. */
void lux_builders_policy_begin(lux_builders_policy_t *bp, int num_agents, lux_rng_t *rng);

/* One decision of `agent` from its 24 cell indicators: updates its memory
 * and returns the action (0..9). Cannot fail. */
int lux_builders_policy_act(lux_builders_policy_t *bp, int agent, const float *cells,
                            lux_rng_t *rng);

/* ---- batched float32 acting ---- */

typedef struct lux_builders_batch lux_builders_batch_t;

/* A batched policy with bp's options and layout for up to max_episodes
 * concurrent episodes of up to max_agents agents (<= LUX_BPOLICY_MAX_AGENTS).
 * It needs lux_builders_batch_set_params before acting. NULL when out of
 * memory or a count is out of range. */
lux_builders_batch_t *lux_builders_batch_new(const lux_builders_policy_t *bp, int max_episodes,
                                             int max_agents);
void lux_builders_batch_destroy(lux_builders_batch_t **self_p);

/* Converts params (num_params doubles) into float32 weights with the block
 * factors applied; the batch keeps its own copy. Cannot fail. */
void lux_builders_batch_set_params(lux_builders_batch_t *b, const double *params);

/* Starts an episode in slot `episode` (< max_episodes): every agent's memory
 * ~ U(-1, 1), drawn from rng as lux_builders_policy_begin draws it. */
void lux_builders_batch_begin(lux_builders_batch_t *b, int episode, int num_agents, lux_rng_t *rng);

/* One decision for each of n rows: row j is agent agent[j] of the episode
 * in slot episode[j], seeing the 24 cell indicators cells[24 j ..], drawing
 * its 3 random inputs and then its action sample from rng[j]. Updates the
 * agents' memories and writes actions[j] (0..9). Two rows must not name
 * the same (episode, agent). Cannot fail. */
void lux_builders_batch_act(lux_builders_batch_t *b, int n, const int *episode, const int *agent,
                            const float *cells, lux_rng_t *const *rng, int *actions);

/* The memory of one agent (8 floats), for tests. */
const float *lux_builders_batch_memory(const lux_builders_batch_t *b, int episode, int agent);

#endif
