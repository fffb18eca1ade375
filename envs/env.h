/*
 * The environment interface of lux, modelled on Gymnasium.
 *
 * An environment is made by name from a registry, with optional keyword
 * options (like gymnasium.make("CartPole-v1", max_episode_steps=1000)):
 *
 *     lux_env_t *env;
 *     char err[256];
 *     if (lux_env_make("CartPole-v1", "max_episode_steps=1000", &env, err, sizeof err) != 0)
 *         ... print err ...
 *     float obs[LUX_ENV_MAX_OBS];
 *     lux_env_reset(env, seed, obs);
 *     for (;;) {
 *         int action = ...;
 *         lux_env_step_discrete(env, action, obs, &reward, &terminated, &truncated);
 *         if (terminated || truncated) break;
 *     }
 *     lux_env_destroy(&env);
 *
 * Observations are float32 (as in Gymnasium); the physical state is float64
 * where Gymnasium keeps it in float64. Terminated means the task reached a
 * terminal state (no bootstrapping past it); truncated means the time limit
 * (max_episode_steps, Gymnasium's TimeLimit wrapper) cut the episode. Both
 * may be set by the same step.
 *
 * Multi-agent environments (builders) are turn-based, as in PettingZoo's AEC
 * API: the observation written by reset and step is the one of the agent
 * whose turn it is next (lux_env_current_agent), the action passed to step is
 * that agent's, and the reward is shared by all agents. Exhausted agents'
 * turns are skipped inside step. builders' episode ends, as terminated, when
 * every agent has had max_episode_steps turns (skipped ones included); the
 * reward of that last step is the score and every other reward is 0.
 * Single-agent environments have one agent, always agent 0.
 *
 * Options: NULL, "", a JSON object with number or boolean values
 * ({"max_episode_steps": 1000, "radius": 20}), or the same as
 * "key=value,key=value" (true/false for booleans). Every environment accepts
 * max_episode_steps; the others are listed by lux_env_options and in
 * docs/envs.md.
 *
 * Determinism: an environment owns its random number generator (no global
 * state), so the same seed gives the same episode on every machine, in any
 * thread or process. The generator is not NumPy's: distributions match
 * Gymnasium's, bit streams do not.
 *
 * Threads: an environment is used by one thread at a time; different
 * environments are independent. The registry is immutable and thread-safe.
 * The step functions never allocate.
 */
#ifndef LUX_ENV_H
#define LUX_ENV_H

#include <stddef.h>
#include <stdint.h>

typedef struct lux_env lux_env_t;

/* Largest observation / action / state length of any registered
 * environment, so callers may use fixed-size buffers. */
#define LUX_ENV_MAX_OBS    64
#define LUX_ENV_MAX_ACTION 8
#define LUX_ENV_MAX_STATE  8

typedef enum {
    LUX_ENV_SPACE_DISCRETE = 0, /* integers 0..n-1 */
    LUX_ENV_SPACE_BOX = 1,      /* reals in [low[i], high[i]] per element */
} lux_env_space_kind_t;

/* Earlier names of the two kinds, kept for code written against them. */
#define LUX_SPACE_DISCRETE LUX_ENV_SPACE_DISCRETE
#define LUX_SPACE_BOX      LUX_ENV_SPACE_BOX

typedef struct {
    lux_env_space_kind_t kind;
    int n;              /* discrete: number of values; box: number of elements */
    int ndim;           /* box: number of dimensions (shape); 0 for discrete */
    int shape[4];       /* box: the shape; the product is n */
    const double *low;  /* box: n lower bounds (may be -INFINITY); NULL for discrete */
    const double *high; /* box: n upper bounds (may be INFINITY); NULL for discrete */
} lux_env_space_t;

/* What the registry and `lux envs` say about an environment. For an
 * instance (lux_env_info), the values reflect its options. */
typedef struct {
    const char *name;            /* "CartPole-v1" */
    const char *summary;         /* one line */
    lux_env_space_t observation; /* float32 observations, always a box */
    lux_env_space_t action;
    int num_agents;         /* 1 for single-agent environments */
    int state_dim;          /* length of lux_env_set_state's vector; 0: not supported */
    long max_episode_steps; /* steps per agent before truncation / the end; 0: no limit */
    int has_reward_threshold;
    double reward_threshold;  /* Gymnasium's registered threshold when has_reward_threshold */
    const char *state_layout; /* names of the state values, "x,x_dot,theta,theta_dot"; NULL
                                 when state_dim == 0 */
} lux_env_info_t;

/* The registry: number of environments and the i-th one (NULL when i is out
 * of range), in a fixed order. Cannot fail. */
size_t lux_env_registry_count(void);
const lux_env_info_t *lux_env_registry_get(size_t i);

/* The registered environment called `name` (exact match), or NULL. */
const lux_env_info_t *lux_env_registry_find(const char *name);

/* Closest registered name to a mistyped `name`, or NULL when none is close. */
const char *lux_env_suggest(const char *name);

/* A one-line-per-option description of the keyword options `name` accepts
 * ("max_episode_steps (int, default 500): ..."), or NULL for an unknown
 * name. The string is static. */
const char *lux_env_options(const char *name);

/* Makes environment `name` with keyword `options` (see above; may be NULL).
 * On success returns 0 and *out is the new environment, to be freed with
 * lux_env_destroy; it must be reset before its first step. On failure *out
 * is NULL, a message for a person is written to err (errlen bytes, may be 0)
 * and the result is LUX_ENOENT (unknown name; the message suggests the
 * closest one), LUX_EINVAL (malformed options, unknown key, value out of
 * range) or LUX_ENOMEM. */
int lux_env_make(const char *name, const char *options, lux_env_t **out, char *err, size_t errlen);

/* Frees the environment and sets *env_p to NULL. Accepts NULL and *env_p ==
 * NULL. */
void lux_env_destroy(lux_env_t **env_p);

/* The instance's facts (spaces, limits, agents); valid while it lives. */
const lux_env_info_t *lux_env_info(const lux_env_t *env);

/* Starts a new episode from `seed` (Gymnasium's reset(seed=...)): reseeds the
 * environment's generator, draws the initial state, and writes the first
 * observation to obs (info->observation.n floats; obs may be NULL). Returns
 * 0; it cannot fail today (builders allocates its world in lux_env_make) but
 * callers should still check, so that a future environment may report
 * errors. Never allocates. */
int lux_env_reset(lux_env_t *env, uint64_t seed, float *obs);

/* Takes one step with `action` for the current agent and writes the next
 * observation (obs may be NULL), the reward, and the terminated and truncated
 * flags. Returns 0, or:
 *   LUX_EINVAL  the environment was not reset, or the episode is over
 *               (terminated or truncated) and it was not reset since, or the
 *               action kind does not match the space (discrete vs box);
 *   LUX_ERANGE  a discrete action outside 0..n-1, or a box action that is not
 *               finite. Finite box actions outside the bounds are accepted
 *               and clipped exactly as Gymnasium's environments do (e.g.
 *               MountainCarContinuous penalises the unclipped action).
 * On error nothing changes. Never allocates. */
int lux_env_step_discrete(lux_env_t *env, int action, float *obs, double *reward, int *terminated,
                          int *truncated);
int lux_env_step_box(lux_env_t *env, const double *action, float *obs, double *reward,
                     int *terminated, int *truncated);

/* Either kind: action[0] holds the discrete action as an integral double for
 * a discrete space (LUX_ERANGE if it is not integral or out of range), the
 * info->action.n values for a box. Convenient for generic code. */
int lux_env_step(lux_env_t *env, const double *action, float *obs, double *reward, int *terminated,
                 int *truncated);

/* Turn-based multi-agent: the number of agents and the one whose turn it is
 * (whose observation the last reset/step wrote). 1 and 0 for single-agent
 * environments. Cannot fail. */
int lux_env_num_agents(const lux_env_t *env);
int lux_env_current_agent(const lux_env_t *env);

/* Sum of the rewards and number of steps since the last reset. */
double lux_env_episode_return(const lux_env_t *env);
long lux_env_episode_steps(const lux_env_t *env);

/* Replaces the physical state (Gymnasium's env.unwrapped.state = ...) with
 * state[0..n-1], as doubles, and writes the matching observation to obs (may
 * be NULL). The state layout per environment is in docs/envs.md (CartPole: x,
 * x_dot, theta, theta_dot; Acrobot: theta1, theta2, dtheta1, dtheta2;
 * MountainCar*: position, velocity; Pendulum: theta, theta_dot). Values are
 * taken as given (not clipped), except that environments storing float32
 * state round them. Must follow a reset (which sets the episode counters).
 * Returns 0, LUX_EINVAL (n != info->state_dim, a non-finite value, or not
 * reset) or LUX_EUNSUPPORTED (state_dim == 0, e.g. builders). */
int lux_env_set_state(lux_env_t *env, const double *state, size_t n, float *obs);

/* Copies the physical state into state[0..n-1]; returns the number of
 * values (state_dim), which may exceed n (then only n are written). */
size_t lux_env_get_state(const lux_env_t *env, double *state, size_t n);

/* Writes a text rendering of the current state into buf (like snprintf: at
 * most size bytes including the terminating NUL) and returns the length of
 * the full text. builders draws the hex world in ASCII; the classic
 * environments print their state on one line. */
size_t lux_env_render_text(const lux_env_t *env, char *buf, size_t size);

#endif
