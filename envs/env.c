/*
 * The environment registry, keyword options, and the dispatch from the
 * public interface (env.h) to each kind of environment.
 *
 * Dispatch is a switch on the kind with the classic-control physics inlined
 * from classic.h: CartPole's whole step is a few dozen flops, so the
 * interface costs a couple of predictable branches, not an indirect call.
 * The time limit (Gymnasium's TimeLimit wrapper), the episode return and the
 * "reset before step" rule live here, once, for every kind. builders keeps
 * its own episode length (ticks of the turn cycle), which ends the episode
 * as terminated with the shared score as the reward.
 */
#include "env.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "builders.h"
#include "classic.h"
#include "error.h"
#include "suggest.h"

typedef enum {
    KIND_CARTPOLE,
    KIND_ACROBOT,
    KIND_MOUNTAIN_CAR,
    KIND_MOUNTAIN_CAR_CONTINUOUS,
    KIND_PENDULUM,
    KIND_BUILDERS,
} env_kind_t;

/* ---- keyword options ---- */

typedef struct {
    long max_episode_steps;
    int sutton_barto_reward;
    double goal_velocity;
    double g;
    lux_builders_config_t builders;
} params_t;

typedef enum { OPT_INT, OPT_LONG, OPT_DOUBLE, OPT_BOOL } opt_type_t;

typedef struct {
    const char *name;
    opt_type_t type;
    size_t offset;
    double min, max;
} opt_def_t;

#define OPT_MAX_STEPS                                                                              \
    {                                                                                              \
        "max_episode_steps", OPT_LONG, offsetof(params_t, max_episode_steps), 0, 1e12              \
    }

static const opt_def_t cartpole_opts[] = {
    OPT_MAX_STEPS,
    {"sutton_barto_reward", OPT_BOOL, offsetof(params_t, sutton_barto_reward), 0, 1},
};
static const opt_def_t plain_opts[] = {OPT_MAX_STEPS};
static const opt_def_t mcar_opts[] = {
    OPT_MAX_STEPS,
    {"goal_velocity", OPT_DOUBLE, offsetof(params_t, goal_velocity), -1e9, 1e9},
};
static const opt_def_t pendulum_opts[] = {
    OPT_MAX_STEPS,
    {"g", OPT_DOUBLE, offsetof(params_t, g), -1e9, 1e9},
};
static const opt_def_t builders_opts[] = {OPT_MAX_STEPS,
#define BUILDERS_OPT(type, name, def, min, max, help)                                              \
    {#name, sizeof(type) == sizeof(int) ? OPT_INT : OPT_DOUBLE,                                    \
     offsetof(params_t, builders) + offsetof(lux_builders_config_t, name), (min), (max)},
                                          LUX_BUILDERS_CONFIG_MAP(BUILDERS_OPT)
#undef BUILDERS_OPT
};

#define NOPTS(a) (sizeof(a) / sizeof((a)[0]))

static const char cartpole_v0_help[] =
    "max_episode_steps (int, default 200): time limit (truncation); 0 for none\n"
    "sutton_barto_reward (bool, default false): reward 0 per step and -1 on termination\n";
static const char cartpole_v1_help[] =
    "max_episode_steps (int, default 500): time limit (truncation); 0 for none\n"
    "sutton_barto_reward (bool, default false): reward 0 per step and -1 on termination\n";
static const char acrobot_help[] =
    "max_episode_steps (int, default 500): time limit (truncation); 0 for none\n";
static const char mcar_help[] =
    "max_episode_steps (int, default 200): time limit (truncation); 0 for none\n"
    "goal_velocity (float, default 0): velocity needed at the goal\n";
static const char mcarc_help[] =
    "max_episode_steps (int, default 999): time limit (truncation); 0 for none\n"
    "goal_velocity (float, default 0): velocity needed at the goal\n";
static const char pendulum_help[] =
    "max_episode_steps (int, default 200): time limit (truncation); 0 for none\n"
    "g (float, default 10): gravity\n";
static const char builders_help[] =
    "max_episode_steps (int, default 10000): episode length in turns per agent (the "
    "episode ends as terminated)\n"
#define BUILDERS_HELP(type, name, def, min, max, help)                                             \
#name " (" #type ", default " #def "): " help "\n"
    LUX_BUILDERS_CONFIG_MAP(BUILDERS_HELP)
#undef BUILDERS_HELP
    ;

/* ---- the registry ---- */

static const double cartpole_high[4] = {LUX_CARTPOLE_X_THRESHOLD * 2, INFINITY,
                                        LUX_CARTPOLE_THETA_THRESHOLD * 2, INFINITY};
static const double cartpole_low[4] = {-LUX_CARTPOLE_X_THRESHOLD * 2, -INFINITY,
                                       -LUX_CARTPOLE_THETA_THRESHOLD * 2, -INFINITY};
static const double acrobot_high[6] = {1, 1, 1, 1, LUX_ACROBOT_MAX_VEL_1, LUX_ACROBOT_MAX_VEL_2};
static const double acrobot_low[6] = {
    -1, -1, -1, -1, -LUX_ACROBOT_MAX_VEL_1, -LUX_ACROBOT_MAX_VEL_2};
static const double mcar_low[2] = {LUX_MCAR_MIN_POSITION, -LUX_MCAR_MAX_SPEED};
static const double mcar_high[2] = {LUX_MCAR_MAX_POSITION, LUX_MCAR_MAX_SPEED};
static const double unit_low[1] = {-1.0};
static const double unit_high[1] = {1.0};
static const double pendulum_low[3] = {-1, -1, -LUX_PENDULUM_MAX_SPEED};
static const double pendulum_high[3] = {1, 1, LUX_PENDULUM_MAX_SPEED};
static const double torque_low[1] = {-LUX_PENDULUM_MAX_TORQUE};
static const double torque_high[1] = {LUX_PENDULUM_MAX_TORQUE};
static const double zeros24[LUX_BUILDERS_OBS] = {0};
static const double ones24[LUX_BUILDERS_OBS] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                                1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

#define BOX1(n_, lo, hi)                                                                           \
    {                                                                                              \
        LUX_ENV_SPACE_BOX, (n_), 1, {(n_)}, (lo), (hi)                                             \
    }
#define DISCRETE(n_)                                                                               \
    {                                                                                              \
        LUX_ENV_SPACE_DISCRETE, (n_), 0, {0}, NULL, NULL                                           \
    }

typedef struct {
    lux_env_info_t info;
    env_kind_t kind;
    const opt_def_t *opts;
    size_t nopts;
    const char *help;
} entry_t;

#define ENTRY(name_, summary_, obs_, act_, agents_, sdim_, steps_, has_thr_, thr_, layout_, kind_, \
              opts_, help_)                                                                        \
    {                                                                                              \
        {.name = (name_),                                                                          \
         .summary = (summary_),                                                                    \
         .observation = obs_,                                                                      \
         .action = act_,                                                                           \
         .num_agents = (agents_),                                                                  \
         .state_dim = (sdim_),                                                                     \
         .max_episode_steps = (steps_),                                                            \
         .has_reward_threshold = (has_thr_),                                                       \
         .reward_threshold = (thr_),                                                               \
         .state_layout = (layout_)},                                                               \
            (kind_), (opts_), NOPTS(opts_), (help_)                                                \
    }

static const entry_t registry[] = {
    ENTRY("CartPole-v0", "pole on a cart, push left or right (Barto, Sutton & Anderson 1983)",
          BOX1(4, cartpole_low, cartpole_high), DISCRETE(2), 1, 4, 200, 1, 195.0,
          "x,x_dot,theta,theta_dot", KIND_CARTPOLE, cartpole_opts, cartpole_v0_help),
    ENTRY("CartPole-v1", "pole on a cart, push left or right (Barto, Sutton & Anderson 1983)",
          BOX1(4, cartpole_low, cartpole_high), DISCRETE(2), 1, 4, 500, 1, 475.0,
          "x,x_dot,theta,theta_dot", KIND_CARTPOLE, cartpole_opts, cartpole_v1_help),
    ENTRY("Acrobot-v1", "two-link pendulum, swing the tip above the bar (Sutton 1996)",
          BOX1(6, acrobot_low, acrobot_high), DISCRETE(3), 1, 4, 500, 1, -100.0,
          "theta1,theta2,dtheta1,dtheta2", KIND_ACROBOT, plain_opts, acrobot_help),
    ENTRY("MountainCar-v0", "underpowered car in a valley, reach the flag (Moore 1990)",
          BOX1(2, mcar_low, mcar_high), DISCRETE(3), 1, 2, 200, 1, -110.0, "position,velocity",
          KIND_MOUNTAIN_CAR, mcar_opts, mcar_help),
    ENTRY("MountainCarContinuous-v0", "mountain car with a continuous force",
          BOX1(2, mcar_low, mcar_high), BOX1(1, unit_low, unit_high), 1, 2, 999, 1, 90.0,
          "position,velocity", KIND_MOUNTAIN_CAR_CONTINUOUS, mcar_opts, mcarc_help),
    ENTRY("Pendulum-v1", "swing a pendulum up and keep it upright",
          BOX1(3, pendulum_low, pendulum_high), BOX1(1, torque_low, torque_high), 1, 2, 200, 0, 0.0,
          "theta,theta_dot", KIND_PENDULUM, pendulum_opts, pendulum_help),
    ENTRY("builders", "hex world, agents in turn carry food and walls into clusters (multi-agent)",
          BOX1(LUX_BUILDERS_OBS, zeros24, ones24), DISCRETE(LUX_BUILDERS_ACTIONS), 5, 0, 10000, 0,
          0.0, NULL, KIND_BUILDERS, builders_opts, builders_help),
};

#define NREGISTRY (sizeof registry / sizeof registry[0])

size_t lux_env_registry_count(void)
{
    return NREGISTRY;
}

const lux_env_info_t *lux_env_registry_get(size_t i)
{
    return i < NREGISTRY ? &registry[i].info : NULL;
}

static const entry_t *find_entry(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < NREGISTRY; i++)
        if (strcmp(registry[i].info.name, name) == 0)
            return &registry[i];
    return NULL;
}

const lux_env_info_t *lux_env_registry_find(const char *name)
{
    const entry_t *e = find_entry(name);
    return e != NULL ? &e->info : NULL;
}

const char *lux_env_suggest(const char *name)
{
    if (name == NULL)
        return NULL;
    const char *names[NREGISTRY];
    for (size_t i = 0; i < NREGISTRY; i++)
        names[i] = registry[i].info.name;
    const char *s = lux_suggest(name, names, NREGISTRY);
    if (s != NULL)
        return s;
    /* People type "cartpole" or "PENDULUM-v1": compare in lower case, newest
     * entries first so that "cartpole" suggests CartPole-v1. */
    char lower_name[64], lower[NREGISTRY][64];
    const char *lowers[NREGISTRY];
    snprintf(lower_name, sizeof lower_name, "%s", name);
    for (char *p = lower_name; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    for (size_t i = 0; i < NREGISTRY; i++) {
        snprintf(lower[i], sizeof lower[i], "%s", names[i]);
        for (char *p = lower[i]; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        lowers[NREGISTRY - 1 - i] = lower[i];
    }
    s = lux_suggest(lower_name, lowers, NREGISTRY);
    for (size_t i = 0; s != NULL && i < NREGISTRY; i++)
        if (s == lower[i])
            return names[i];
    return NULL;
}

const char *lux_env_options(const char *name)
{
    const entry_t *e = find_entry(name);
    return e != NULL ? e->help : NULL;
}

/* ---- option parsing ---- */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static const char *skip_ws(const char *p)
{
    while (*p != '\0' && isspace((unsigned char)*p))
        p++;
    return p;
}

/* Reads a key: "quoted" or a bare word of letters, digits and '_'. */
static const char *read_key(const char *p, char *key, size_t keylen)
{
    size_t n = 0;
    if (*p == '"') {
        p++;
        while (*p != '\0' && *p != '"') {
            if (n + 1 < keylen)
                key[n++] = *p;
            p++;
        }
        if (*p != '"')
            return NULL;
        p++;
    } else {
        while (isalnum((unsigned char)*p) || *p == '_') {
            if (n + 1 < keylen)
                key[n++] = *p;
            p++;
        }
    }
    key[n] = '\0';
    return n > 0 ? p : NULL;
}

static int apply_option(const entry_t *e, params_t *params, const char *key, const char *p,
                        const char **end, char *err, size_t errlen)
{
    const opt_def_t *def = NULL;
    for (size_t i = 0; i < e->nopts; i++)
        if (strcmp(e->opts[i].name, key) == 0)
            def = &e->opts[i];
    if (def == NULL) {
        const char *names[64];
        size_t n = e->nopts < 64 ? e->nopts : 64;
        for (size_t i = 0; i < n; i++)
            names[i] = e->opts[i].name;
        const char *s = lux_suggest(key, names, n);
        if (s != NULL)
            set_err(err, errlen, "%s: unknown option '%s'; did you mean '%s'?", e->info.name, key,
                    s);
        else
            set_err(err, errlen, "%s: unknown option '%s' (see 'lux envs --options %s')",
                    e->info.name, key, e->info.name);
        return LUX_EINVAL;
    }
    double v;
    if (strncmp(p, "true", 4) == 0 && !isalnum((unsigned char)p[4])) {
        v = 1;
        *end = p + 4;
    } else if (strncmp(p, "false", 5) == 0 && !isalnum((unsigned char)p[5])) {
        v = 0;
        *end = p + 5;
    } else {
        char *stop;
        errno = 0;
        v = strtod(p, &stop);
        if (stop == p || errno != 0 || !isfinite(v)) {
            set_err(err, errlen, "%s: option '%s' needs a number, not '%.20s'", e->info.name, key,
                    p);
            return LUX_EINVAL;
        }
        *end = stop;
    }
    if (def->type != OPT_DOUBLE && v != floor(v)) {
        set_err(err, errlen, "%s: option '%s' needs %s, not %g", e->info.name, key,
                def->type == OPT_BOOL ? "true or false" : "a whole number", v);
        return LUX_EINVAL;
    }
    if (v < def->min || v > def->max) {
        set_err(err, errlen, "%s: option '%s' = %g is out of range [%g, %g]", e->info.name, key, v,
                def->min, def->max);
        return LUX_EINVAL;
    }
    char *field = (char *)params + def->offset;
    switch (def->type) {
    case OPT_INT:
    case OPT_BOOL:
        *(int *)field = (int)v;
        break;
    case OPT_LONG:
        *(long *)field = (long)v;
        break;
    case OPT_DOUBLE:
        *(double *)field = v;
        break;
    }
    return 0;
}

/* Parses "{"k": v, ...}" or "k=v,k=v" into params. */
static int parse_options(const entry_t *e, const char *text, params_t *params, char *err,
                         size_t errlen)
{
    if (text == NULL)
        return 0;
    const char *p = skip_ws(text);
    int json = *p == '{';
    if (json)
        p = skip_ws(p + 1);
    for (;;) {
        if (*p == '\0' || (json && *p == '}'))
            break;
        char key[64];
        const char *q = read_key(p, key, sizeof key);
        if (q == NULL) {
            set_err(err, errlen, "%s: options: expected a name at '%.20s'", e->info.name, p);
            return LUX_EINVAL;
        }
        p = skip_ws(q);
        if (*p != ':' && *p != '=') {
            set_err(err, errlen, "%s: options: expected ':' or '=' after '%s'", e->info.name, key);
            return LUX_EINVAL;
        }
        p = skip_ws(p + 1);
        const char *end;
        int rc = apply_option(e, params, key, p, &end, err, errlen);
        if (rc != 0)
            return rc;
        p = skip_ws(end);
        if (*p == ',')
            p = skip_ws(p + 1);
        else if (*p != '\0' && !(json && *p == '}')) {
            set_err(err, errlen, "%s: options: expected ',' at '%.20s'", e->info.name, p);
            return LUX_EINVAL;
        }
    }
    if (json) {
        if (*p != '}') {
            set_err(err, errlen, "%s: options: missing '}'", e->info.name);
            return LUX_EINVAL;
        }
        p = skip_ws(p + 1);
        if (*p != '\0') {
            set_err(err, errlen, "%s: options: unexpected text after '}'", e->info.name);
            return LUX_EINVAL;
        }
    }
    return 0;
}

/* ---- instances ---- */

struct lux_env {
    env_kind_t kind;
    lux_env_info_t info;
    int ready; /* reset, and the episode is not over */
    int was_reset;
    long steps; /* since reset */
    long limit; /* truncation after this many steps; 0: none */
    double episode_return;
    lux_env_rng_t rng;
    union {
        lux_cartpole_t cartpole;
        lux_acrobot_t acrobot;
        lux_mcar_t mcar;
        lux_pendulum_t pendulum;
    } u;
    lux_builders_t *builders;
};

int lux_env_make(const char *name, const char *options, lux_env_t **out, char *err, size_t errlen)
{
    if (out == NULL)
        return LUX_EINVAL;
    *out = NULL;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    const entry_t *e = find_entry(name);
    if (e == NULL) {
        const char *s = lux_env_suggest(name);
        if (s != NULL)
            set_err(err, errlen, "unknown environment '%s'; did you mean '%s'?", name ? name : "",
                    s);
        else
            set_err(err, errlen, "unknown environment '%s' (run 'lux envs' for the list)",
                    name ? name : "");
        return LUX_ENOENT;
    }
    params_t params = {.max_episode_steps = e->info.max_episode_steps, .g = 10.0};
    lux_builders_config_default(&params.builders);
    int rc = parse_options(e, options, &params, err, errlen);
    if (rc != 0)
        return rc;
    lux_env_t *env = lux_calloc(1, sizeof *env);
    if (env == NULL) {
        set_err(err, errlen, "%s: out of memory", e->info.name);
        return LUX_ENOMEM;
    }
    env->kind = e->kind;
    env->info = e->info;
    env->info.max_episode_steps = params.max_episode_steps;
    env->limit = params.max_episode_steps;
    switch (e->kind) {
    case KIND_CARTPOLE:
        env->u.cartpole.sutton_barto_reward = params.sutton_barto_reward;
        break;
    case KIND_MOUNTAIN_CAR:
    case KIND_MOUNTAIN_CAR_CONTINUOUS:
        env->u.mcar.goal_velocity = params.goal_velocity;
        break;
    case KIND_PENDULUM:
        env->u.pendulum.g = params.g;
        break;
    case KIND_ACROBOT:
        break;
    case KIND_BUILDERS:
        env->limit = 0; /* builders ends its episodes itself */
        env->info.num_agents = params.builders.num_agents;
        long cells = 3L * params.builders.radius * (params.builders.radius + 1) + 1;
        if (params.builders.num_agents > cells) {
            set_err(err, errlen, "builders: %d agents do not fit in %ld cells",
                    params.builders.num_agents, cells);
            lux_free(env);
            return LUX_EINVAL;
        }
        env->builders = lux_builders_new(&params.builders, params.max_episode_steps);
        if (env->builders == NULL) {
            set_err(err, errlen, "builders: out of memory for the world");
            lux_free(env);
            return LUX_ENOMEM;
        }
        break;
    }
    *out = env;
    return 0;
}

void lux_env_destroy(lux_env_t **env_p)
{
    if (env_p == NULL || *env_p == NULL)
        return;
    lux_builders_destroy(&(*env_p)->builders);
    lux_free(*env_p);
    *env_p = NULL;
}

const lux_env_info_t *lux_env_info(const lux_env_t *env)
{
    return &env->info;
}

static void write_obs(lux_env_t *env, float *obs)
{
    switch (env->kind) {
    case KIND_CARTPOLE:
        lux_cartpole_obs(&env->u.cartpole, obs);
        break;
    case KIND_ACROBOT:
        lux_acrobot_obs(&env->u.acrobot, obs);
        break;
    case KIND_MOUNTAIN_CAR:
    case KIND_MOUNTAIN_CAR_CONTINUOUS:
        lux_mcar_obs(&env->u.mcar, obs);
        break;
    case KIND_PENDULUM:
        lux_pendulum_obs(&env->u.pendulum, obs);
        break;
    case KIND_BUILDERS:
        if (obs != NULL)
            lux_builders_observe(env->builders, lux_builders_current(env->builders), obs);
        break;
    }
}

int lux_env_reset(lux_env_t *env, uint64_t seed, float *obs)
{
    lux_rng_seed(&env->rng, seed);
    switch (env->kind) {
    case KIND_CARTPOLE:
        lux_cartpole_reset(&env->u.cartpole, &env->rng);
        break;
    case KIND_ACROBOT:
        lux_acrobot_reset(&env->u.acrobot, &env->rng);
        break;
    case KIND_MOUNTAIN_CAR:
        lux_mcar_reset(&env->u.mcar, &env->rng);
        break;
    case KIND_MOUNTAIN_CAR_CONTINUOUS:
        lux_mcarc_reset(&env->u.mcar, &env->rng);
        break;
    case KIND_PENDULUM:
        lux_pendulum_reset(&env->u.pendulum, &env->rng);
        break;
    case KIND_BUILDERS:
        lux_builders_reset(env->builders, &env->rng);
        break;
    }
    env->ready = 1;
    env->was_reset = 1;
    env->steps = 0;
    env->episode_return = 0;
    write_obs(env, obs);
    return 0;
}

/* Shared tail of every step: counters, time limit, flags. */
static inline int finish_step(lux_env_t *env, int term, double r, double *reward, int *terminated,
                              int *truncated)
{
    env->steps++;
    env->episode_return += r;
    int trunc = env->limit > 0 && env->steps >= env->limit;
    if (term || trunc)
        env->ready = 0;
    if (reward != NULL)
        *reward = r;
    if (terminated != NULL)
        *terminated = term;
    if (truncated != NULL)
        *truncated = trunc;
    return 0;
}

static int step_builders(lux_env_t *env, int action, float *obs, double *r)
{
    int over = lux_builders_step(env->builders, action);
    *r = over ? lux_builders_score(env->builders) : 0.0;
    if (obs != NULL)
        lux_builders_observe(env->builders, lux_builders_current(env->builders), obs);
    return over;
}

int lux_env_step_discrete(lux_env_t *env, int action, float *obs, double *reward, int *terminated,
                          int *truncated)
{
    if (env->info.action.kind != LUX_ENV_SPACE_DISCRETE || !env->ready)
        return LUX_EINVAL;
    if (action < 0 || action >= env->info.action.n)
        return LUX_ERANGE;
    double r = 0;
    int term = 0;
    switch (env->kind) {
    case KIND_CARTPOLE:
        term = lux_cartpole_step(&env->u.cartpole, action, obs, &r);
        break;
    case KIND_ACROBOT:
        term = lux_acrobot_step(&env->u.acrobot, action, obs, &r);
        break;
    case KIND_MOUNTAIN_CAR:
        term = lux_mcar_step(&env->u.mcar, action, obs, &r);
        break;
    case KIND_BUILDERS:
        term = step_builders(env, action, obs, &r);
        break;
    case KIND_MOUNTAIN_CAR_CONTINUOUS:
    case KIND_PENDULUM:
        return LUX_EINVAL;
    }
    return finish_step(env, term, r, reward, terminated, truncated);
}

int lux_env_step_box(lux_env_t *env, const double *action, float *obs, double *reward,
                     int *terminated, int *truncated)
{
    if (env->info.action.kind != LUX_ENV_SPACE_BOX || !env->ready || action == NULL)
        return LUX_EINVAL;
    for (int i = 0; i < env->info.action.n; i++)
        if (!isfinite(action[i]))
            return LUX_ERANGE;
    double r = 0;
    int term = 0;
    switch (env->kind) {
    case KIND_MOUNTAIN_CAR_CONTINUOUS:
        term = lux_mcarc_step(&env->u.mcar, action[0], obs, &r);
        break;
    case KIND_PENDULUM:
        term = lux_pendulum_step(&env->u.pendulum, action[0], obs, &r);
        break;
    default:
        return LUX_EINVAL;
    }
    return finish_step(env, term, r, reward, terminated, truncated);
}

int lux_env_step(lux_env_t *env, const double *action, float *obs, double *reward, int *terminated,
                 int *truncated)
{
    if (action == NULL)
        return LUX_EINVAL;
    if (env->info.action.kind == LUX_ENV_SPACE_BOX)
        return lux_env_step_box(env, action, obs, reward, terminated, truncated);
    double a = action[0];
    if (!isfinite(a) || a != floor(a) || a < 0 || a >= env->info.action.n)
        return env->ready ? LUX_ERANGE : LUX_EINVAL;
    return lux_env_step_discrete(env, (int)a, obs, reward, terminated, truncated);
}

int lux_env_num_agents(const lux_env_t *env)
{
    return env->info.num_agents;
}

int lux_env_current_agent(const lux_env_t *env)
{
    return env->kind == KIND_BUILDERS ? lux_builders_current(env->builders) : 0;
}

double lux_env_episode_return(const lux_env_t *env)
{
    return env->episode_return;
}

long lux_env_episode_steps(const lux_env_t *env)
{
    return env->steps;
}

int lux_env_set_state(lux_env_t *env, const double *state, size_t n, float *obs)
{
    if (env->info.state_dim == 0)
        return LUX_EUNSUPPORTED;
    if (!env->was_reset || state == NULL || n != (size_t)env->info.state_dim)
        return LUX_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(state[i]))
            return LUX_EINVAL;
    switch (env->kind) {
    case KIND_CARTPOLE:
        env->u.cartpole.x = state[0];
        env->u.cartpole.x_dot = state[1];
        env->u.cartpole.theta = state[2];
        env->u.cartpole.theta_dot = state[3];
        break;
    case KIND_ACROBOT:
        env->u.acrobot.theta1 = state[0];
        env->u.acrobot.theta2 = state[1];
        env->u.acrobot.dtheta1 = state[2];
        env->u.acrobot.dtheta2 = state[3];
        break;
    case KIND_MOUNTAIN_CAR:
        env->u.mcar.position = state[0];
        env->u.mcar.velocity = state[1];
        break;
    case KIND_MOUNTAIN_CAR_CONTINUOUS:
        env->u.mcar.position = (float)state[0];
        env->u.mcar.velocity = (float)state[1];
        break;
    case KIND_PENDULUM:
        env->u.pendulum.theta = state[0];
        env->u.pendulum.theta_dot = state[1];
        break;
    case KIND_BUILDERS:
        return LUX_EUNSUPPORTED;
    }
    env->ready = 1;
    write_obs(env, obs);
    return 0;
}

size_t lux_env_get_state(const lux_env_t *env, double *state, size_t n)
{
    double s[LUX_ENV_MAX_STATE] = {0};
    switch (env->kind) {
    case KIND_CARTPOLE:
        s[0] = env->u.cartpole.x;
        s[1] = env->u.cartpole.x_dot;
        s[2] = env->u.cartpole.theta;
        s[3] = env->u.cartpole.theta_dot;
        break;
    case KIND_ACROBOT:
        s[0] = env->u.acrobot.theta1;
        s[1] = env->u.acrobot.theta2;
        s[2] = env->u.acrobot.dtheta1;
        s[3] = env->u.acrobot.dtheta2;
        break;
    case KIND_MOUNTAIN_CAR:
    case KIND_MOUNTAIN_CAR_CONTINUOUS:
        s[0] = env->u.mcar.position;
        s[1] = env->u.mcar.velocity;
        break;
    case KIND_PENDULUM:
        s[0] = env->u.pendulum.theta;
        s[1] = env->u.pendulum.theta_dot;
        break;
    case KIND_BUILDERS:
        break;
    }
    size_t dim = (size_t)env->info.state_dim;
    for (size_t i = 0; i < dim && i < n && state != NULL; i++)
        state[i] = s[i];
    return dim;
}

size_t lux_env_render_text(const lux_env_t *env, char *buf, size_t size)
{
    if (env->kind == KIND_BUILDERS)
        return lux_builders_render(env->builders, buf, size);
    static const char *const names[KIND_BUILDERS][4] = {
        [KIND_CARTPOLE] = {"x", "x_dot", "theta", "theta_dot"},
        [KIND_ACROBOT] = {"theta1", "theta2", "dtheta1", "dtheta2"},
        [KIND_MOUNTAIN_CAR] = {"position", "velocity"},
        [KIND_MOUNTAIN_CAR_CONTINUOUS] = {"position", "velocity"},
        [KIND_PENDULUM] = {"theta", "theta_dot"},
    };
    double s[LUX_ENV_MAX_STATE];
    size_t dim = lux_env_get_state(env, s, LUX_ENV_MAX_STATE);
    size_t len = 0;
    int n = snprintf(buf, size, "%s step %ld:", env->info.name, env->steps);
    len += n > 0 ? (size_t)n : 0;
    for (size_t i = 0; i < dim; i++) {
        n = snprintf(len < size ? buf + len : NULL, len < size ? size - len : 0, " %s=%.17g",
                     names[env->kind][i], s[i]);
        len += n > 0 ? (size_t)n : 0;
    }
    n = snprintf(len < size ? buf + len : NULL, len < size ? size - len : 0, " return=%.17g\n",
                 env->episode_return);
    len += n > 0 ? (size_t)n : 0;
    return len;
}
