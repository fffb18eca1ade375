/*
 * Shared pieces of the rl trainables (trainable_int.h). Config getters accept integers where
 * doubles are expected (JSON writes 1 for 1.0) and reject everything else
 * with a message naming the key and the expected type.
 */
#include "trainable_int.h"

#include "lux.h"

#include "alloc.h"
#include "error.h"
#include "suggest.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* The config keys lux_rl_spec_from_config reads. */
static const char *const spec_keys[] = {
    "env",
    "env_config",
    "fcnet_hiddens",
    "fcnet_activation",
    "discrete_action",
    "continuous_action",
    "n_hidden",
    "n_hidden2",
    "init_fac",
    "init_fac2",
    "bias_fac",
    "actions_scale",
    "memory_clamp",
    "memory_halftime",
    "output_fac_h2",
    "observation_scaling",
};
#define NUM_SPEC_KEYS (sizeof spec_keys / sizeof spec_keys[0])

static int check_keys(const json_t *config, const char *trainable, const char *const *keys,
                      size_t n, char *err, size_t errlen)
{
    if (!json_is_object(config)) {
        snprintf(err, errlen, "%s: the config must be a JSON object", trainable);
        return LUX_ECONFIG;
    }
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)config, key, value)
    {
        int known = 0;
        for (size_t i = 0; i < n && !known; i++)
            known = strcmp(keys[i], key) == 0;
        if (known)
            continue;
        const char *s = lux_suggest(key, keys, n);
        if (s != NULL)
            snprintf(err, errlen, "%s: unknown config key '%s'; did you mean '%s'?", trainable, key,
                     s);
        else
            snprintf(err, errlen, "%s: unknown config key '%s' (see docs/trainables.md)", trainable,
                     key);
        return LUX_ECONFIG;
    }
    return 0;
}

int lux_rl_check_keys(const json_t *config, const char *trainable, const char *const *own,
                      size_t n_own, char *err, size_t errlen)
{
    /* The trainable's keys first, then the spec's: the order lux_suggest
     * breaks ties in. */
    const char *keys[64];
    assert(n_own + NUM_SPEC_KEYS <= sizeof keys / sizeof keys[0]);
    size_t n = 0;
    for (size_t i = 0; i < n_own; i++)
        keys[n++] = own[i];
    for (size_t i = 0; i < NUM_SPEC_KEYS; i++)
        keys[n++] = spec_keys[i];
    return check_keys(config, trainable, keys, n, err, errlen);
}

int lux_cfg_int(const json_t *c, const char *key, long def, long min, long max, long *out,
                char *err, size_t errlen)
{
    json_t *v = json_object_get(c, key);
    long x = def;
    if (v != NULL && !json_is_null(v)) {
        if (json_is_integer(v))
            x = (long)json_integer_value(v);
        else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
                 fabs(json_real_value(v)) < 9e15)
            x = (long)json_real_value(v);
        else {
            snprintf(err, errlen, "config key '%s' must be an integer", key);
            return LUX_ECONFIG;
        }
    }
    if (x < min || x > max) {
        snprintf(err, errlen, "config key '%s' is %ld; it must be in [%ld, %ld]", key, x, min, max);
        return LUX_ECONFIG;
    }
    *out = x;
    return 0;
}

int lux_cfg_double(const json_t *c, const char *key, double def, double min, double max,
                   double *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(c, key);
    double x = def;
    if (v != NULL && !json_is_null(v)) {
        if (!json_is_number(v)) {
            snprintf(err, errlen, "config key '%s' must be a number", key);
            return LUX_ECONFIG;
        }
        x = json_number_value(v);
    }
    if (!isfinite(x) || x < min || x > max) {
        snprintf(err, errlen, "config key '%s' is %g; it must be in [%g, %g]", key, x, min, max);
        return LUX_ECONFIG;
    }
    *out = x;
    return 0;
}

int lux_cfg_string(const json_t *c, const char *key, const char *def, const char *const *choices,
                   const char **out, char *err, size_t errlen)
{
    json_t *v = json_object_get(c, key);
    const char *x = def;
    if (v != NULL && !json_is_null(v)) {
        if (!json_is_string(v)) {
            snprintf(err, errlen, "config key '%s' must be a string", key);
            return LUX_ECONFIG;
        }
        x = json_string_value(v);
    }
    if (choices != NULL && x != NULL) {
        size_t n = 0;
        int ok = 0;
        for (; choices[n] != NULL; n++)
            ok |= strcmp(choices[n], x) == 0;
        if (!ok) {
            const char *s = lux_suggest(x, choices, n);
            char list[256] = "";
            for (size_t i = 0; i < n; i++) {
                strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
                strncat(list, choices[i], sizeof list - strlen(list) - 1);
            }
            if (s != NULL)
                snprintf(err, errlen, "config key '%s' is '%s'; did you mean '%s'? (one of %s)",
                         key, x, s, list);
            else
                snprintf(err, errlen, "config key '%s' is '%s'; it must be one of %s", key, x,
                         list);
            return LUX_ECONFIG;
        }
    }
    *out = x;
    return 0;
}

static int read_hiddens(const json_t *c, const lux_rl_spec_defaults_t *d, lux_policy_spec_t *ps,
                        char *err, size_t errlen)
{
    json_t *v = json_object_get(c, "fcnet_hiddens");
    if (v == NULL || json_is_null(v)) {
        ps->num_hidden = d->num_hidden;
        memcpy(ps->hidden, d->hidden, sizeof ps->hidden);
        return 0;
    }
    if (!json_is_array(v) || json_array_size(v) > LUX_POLICY_MAX_LAYERS) {
        snprintf(err, errlen,
                 "config key 'fcnet_hiddens' must be a list of at most %d layer sizes "
                 "([] for a linear policy)",
                 LUX_POLICY_MAX_LAYERS);
        return LUX_ECONFIG;
    }
    ps->num_hidden = (int)json_array_size(v);
    for (int i = 0; i < ps->num_hidden; i++) {
        json_t *e = json_array_get(v, (size_t)i);
        if (!json_is_integer(e) || json_integer_value(e) < 1 || json_integer_value(e) > 4096) {
            snprintf(err, errlen,
                     "config key 'fcnet_hiddens' item %d must be an integer in "
                     "[1, 4096]",
                     i);
            return LUX_ECONFIG;
        }
        ps->hidden[i] = (int)json_integer_value(e);
    }
    return 0;
}

int lux_rl_spec_from_config(const json_t *c, const lux_rl_spec_defaults_t *d, lux_rl_spec_t *spec,
                            char *err, size_t errlen)
{
    memset(spec, 0, sizeof *spec);
    const char *env_name;
    LUX_RL_TRY(lux_cfg_string(c, "env", NULL, NULL, &env_name, err, errlen));
    if (env_name == NULL) {
        snprintf(err, errlen, "config key 'env' is missing (e.g. \"env\": \"CartPole-v1\")");
        return LUX_ECONFIG;
    }
    if (strlen(env_name) >= sizeof spec->env_name) {
        snprintf(err, errlen, "config key 'env' is too long");
        return LUX_ECONFIG;
    }
    strcpy(spec->env_name, env_name);
    json_t *ec = json_object_get(c, "env_config");
    if (ec != NULL && !json_is_null(ec)) {
        if (!json_is_object(ec)) {
            snprintf(err, errlen, "config key 'env_config' must be an object of env options");
            return LUX_ECONFIG;
        }
        char *text = json_dumps(ec, JSON_COMPACT | JSON_SORT_KEYS);
        if (text == NULL || strlen(text) >= sizeof spec->env_options) {
            free(text);
            snprintf(err, errlen, "config key 'env_config' is too long");
            return LUX_ECONFIG;
        }
        strcpy(spec->env_options, text);
        free(text);
    }
    lux_env_t *env = NULL;
    char eerr[256] = "";
    if (lux_env_make(spec->env_name, spec->env_options, &env, eerr, sizeof eerr) != 0) {
        snprintf(err, errlen, "config key 'env': %s", eerr);
        return LUX_ECONFIG;
    }
    const lux_env_info_t *info = lux_env_info(env);
    spec->builders = strncmp(spec->env_name, "builders", 8) == 0;
    lux_policy_spec_t *ps = &spec->policy;
    ps->obs_dim = info->observation.n;
    int rc = 0;
    if (info->action.kind == LUX_SPACE_DISCRETE) {
        ps->head = LUX_HEAD_DISCRETE;
        ps->action_dim = info->action.n;
    } else if (info->action.n > LUX_POLICY_MAX_ACTION_DIM) {
        snprintf(err, errlen, "env '%s' has %d action components; policies support %d",
                 spec->env_name, info->action.n, LUX_POLICY_MAX_ACTION_DIM);
        rc = LUX_ECONFIG;
    } else {
        ps->head = d->continuous_gauss ? LUX_HEAD_GAUSSIAN : LUX_HEAD_DETERMINISTIC;
        ps->action_dim = info->action.n;
        for (int i = 0; i < info->action.n; i++) {
            ps->action_low[i] = isfinite(info->action.low[i]) ? info->action.low[i] : -1.0;
            ps->action_high[i] = isfinite(info->action.high[i]) ? info->action.high[i] : 1.0;
        }
    }
    /* Components with finite bounds are mapped to [-1, 1]; the others pass
     * through (mean 0, half-range 1). */
    for (int i = 0; i < info->observation.n && i < LUX_ENV_MAX_OBS; i++) {
        double lo = info->observation.low ? info->observation.low[i] : -INFINITY;
        double hi = info->observation.high ? info->observation.high[i] : INFINITY;
        int finite = isfinite(lo) && isfinite(hi) && hi > lo;
        spec->bounds_mean[i] = finite ? 0.5 * (lo + hi) : 0.0;
        spec->bounds_half[i] = finite ? 0.5 * (hi - lo) : 1.0;
    }
    lux_env_destroy(&env);
    if (rc != 0)
        return rc;
    static const char *const scalings[] = {"bounds", "none", NULL};
    const char *scaling;
    LUX_RL_TRY(lux_cfg_string(c, "observation_scaling", "bounds", scalings, &scaling, err, errlen));
    spec->obs_bounds = strcmp(scaling, "bounds") == 0 && !spec->builders;
    ps->argmax = d->discrete_argmax;
    ps->value_head = d->value_head;
    ps->log_std_init = -0.5;
    LUX_RL_TRY(read_hiddens(c, d, ps, err, errlen));
    static const char *const acts[] = {"tanh", "relu", NULL};
    const char *act;
    LUX_RL_TRY(lux_cfg_string(c, "fcnet_activation", lux_activation_name(d->activation), acts, &act,
                              err, errlen));
    lux_activation_parse(act, &ps->activation);
    static const char *const dchoices[] = {"argmax", "sample", NULL};
    const char *da;
    LUX_RL_TRY(lux_cfg_string(c, "discrete_action", d->discrete_argmax ? "argmax" : "sample",
                              dchoices, &da, err, errlen));
    ps->argmax = strcmp(da, "argmax") == 0;
    static const char *const cchoices[] = {"deterministic", "gaussian", NULL};
    const char *ca;
    LUX_RL_TRY(lux_cfg_string(c, "continuous_action",
                              d->continuous_gauss ? "gaussian" : "deterministic", cchoices, &ca,
                              err, errlen));
    if (ps->head != LUX_HEAD_DISCRETE)
        ps->head = strcmp(ca, "gaussian") == 0 ? LUX_HEAD_GAUSSIAN : LUX_HEAD_DETERMINISTIC;
    if (d->value_head && ps->head == LUX_HEAD_DETERMINISTIC) {
        snprintf(err, errlen,
                 "config key 'continuous_action': an actor-critic needs "
                 "\"gaussian\"");
        return LUX_ECONFIG;
    }
    lux_builders_policy_opts_t *b = &spec->bopts;
    lux_builders_policy_opts_default(b);
    long h1, h2;
    LUX_RL_TRY(
        lux_cfg_int(c, "n_hidden", b->n_hidden, 1, LUX_BPOLICY_MAX_HIDDEN, &h1, err, errlen));
    LUX_RL_TRY(
        lux_cfg_int(c, "n_hidden2", b->n_hidden2, 0, LUX_BPOLICY_MAX_HIDDEN, &h2, err, errlen));
    b->n_hidden = (int)h1;
    b->n_hidden2 = (int)h2;
    LUX_RL_TRY(lux_cfg_double(c, "init_fac", b->init_fac, 1e-9, 1e9, &b->init_fac, err, errlen));
    LUX_RL_TRY(lux_cfg_double(c, "init_fac2", b->init_fac2, 1e-9, 1e9, &b->init_fac2, err, errlen));
    LUX_RL_TRY(lux_cfg_double(c, "bias_fac", b->bias_fac, -1e9, 1e9, &b->bias_fac, err, errlen));
    LUX_RL_TRY(lux_cfg_double(c, "actions_scale", b->actions_scale, 1e-9, 1e9, &b->actions_scale,
                              err, errlen));
    LUX_RL_TRY(
        lux_cfg_double(c, "memory_clamp", b->memory_clamp, 0, 1e9, &b->memory_clamp, err, errlen));
    LUX_RL_TRY(lux_cfg_double(c, "memory_halftime", b->memory_halftime, 0, 1e9, &b->memory_halftime,
                              err, errlen));
    long ofh2;
    LUX_RL_TRY(lux_cfg_int(c, "output_fac_h2", b->output_fac_h2, 0, 1, &ofh2, err, errlen));
    b->output_fac_h2 = (int)ofh2;
    if (spec->builders &&
        (ps->obs_dim != LUX_BPOLICY_CELL_INPUTS || ps->head != LUX_HEAD_DISCRETE ||
         ps->action_dim != LUX_BPOLICY_ACTIONS)) {
        snprintf(err, errlen,
                 "env '%s': the builders policy needs 24 observations and 10 "
                 "actions",
                 spec->env_name);
        return LUX_ECONFIG;
    }
    if (!spec->builders && lux_policy_spec_check(ps) != 0) {
        snprintf(err, errlen, "env '%s': no policy fits its spaces", spec->env_name);
        return LUX_ECONFIG;
    }
    return 0;
}

int lux_rl_worker_init(lux_rl_worker_t *w, const lux_rl_spec_t *spec, char *err, size_t errlen)
{
    memset(w, 0, sizeof *w);
    memcpy(&w->spec, spec, sizeof *spec);
    int rc = lux_env_make(spec->env_name, spec->env_options, &w->env, err, errlen);
    if (rc != 0)
        return rc;
    if (spec->builders) {
        rc = lux_builders_policy_init(&w->bp, &spec->bopts);
        if (rc != 0) {
            snprintf(err, errlen, "builders policy: bad sizes");
            lux_env_destroy(&w->env);
            return rc;
        }
        w->num_params = lux_builders_policy_num_params(&w->bp);
    } else {
        w->mlp = lux_policy_new(&spec->policy);
        if (w->mlp == NULL) {
            snprintf(err, errlen, "out of memory making the policy");
            lux_env_destroy(&w->env);
            return LUX_ENOMEM;
        }
        w->num_params = lux_policy_num_params(w->mlp);
    }
    rc = lux_rollout_batch_new(spec->env_name, spec->env_options, LUX_RL_WORKER_BATCH, &w->batch,
                               err, errlen);
    if (rc != 0) {
        lux_rl_worker_fini(w);
        return rc;
    }
    return 0;
}

void lux_rl_worker_fini(lux_rl_worker_t *w)
{
    lux_env_destroy(&w->env);
    lux_policy_destroy(&w->mlp);
    lux_rollout_batch_destroy(&w->batch);
}

static void worker_policy(lux_rl_worker_t *w, const double *params, const double *obs_mean,
                          const double *obs_std, double action_noise_std, lux_rollout_policy_t *out)
{
    lux_rollout_policy_t pol = {0};
    if (w->mlp != NULL) {
        lux_policy_set_params(w->mlp, params);
        pol.mlp = w->mlp;
    } else {
        lux_builders_policy_set_params(&w->bp, params);
        pol.builders = &w->bp;
    }
    pol.obs_mean = obs_mean;
    pol.obs_std = obs_std;
    if (obs_mean == NULL && w->spec.obs_bounds) {
        pol.obs_mean = w->spec.bounds_mean;
        pol.obs_std = w->spec.bounds_half;
    }
    pol.action_noise_std = action_noise_std;
    *out = pol;
}

int lux_rl_worker_episode(lux_rl_worker_t *w, const double *params, uint64_t seed,
                          const double *obs_mean, const double *obs_std, double action_noise_std,
                          lux_obs_stat_t *stat, lux_rollout_result_t *res)
{
    lux_rollout_policy_t pol;
    worker_policy(w, params, obs_mean, obs_std, action_noise_std, &pol);
    return lux_rollout_batch_run(w->batch, &pol, &seed, 1, 0, stat, res);
}

int lux_rl_worker_episodes(lux_rl_worker_t *w, const double *params, const uint64_t *seeds, int n,
                           lux_rollout_result_t *res)
{
    lux_rollout_policy_t pol;
    worker_policy(w, params, NULL, NULL, 0.0, &pol);
    return lux_rollout_batch_run(w->batch, &pol, seeds, n, 0, NULL, res);
}

void lux_rl_add_reward_stats(json_t *result, const char *prefix, const double *returns, size_t n)
{
    double sum = 0, lo = 0, hi = 0;
    for (size_t i = 0; i < n; i++) {
        sum += returns[i];
        if (i == 0 || returns[i] < lo)
            lo = returns[i];
        if (i == 0 || returns[i] > hi)
            hi = returns[i];
    }
    lux_rl_add_mean_min_max(result, prefix, n ? sum / (double)n : 0.0, lo, hi);
}

void lux_rl_add_mean_min_max(json_t *result, const char *prefix, double mean, double min,
                             double max)
{
    char key[96];
    snprintf(key, sizeof key, "%s_mean", prefix);
    json_object_set_new(result, key, json_real(mean));
    snprintf(key, sizeof key, "%s_min", prefix);
    json_object_set_new(result, key, json_real(min));
    snprintf(key, sizeof key, "%s_max", prefix);
    json_object_set_new(result, key, json_real(max));
}

void lux_rl_add_progress(json_t *result, long timesteps_total, long timesteps_this_iter,
                         long episodes_total, long episodes_this_iter)
{
    json_object_set_new(result, "timesteps_total", json_integer(timesteps_total));
    json_object_set_new(result, "timesteps_this_iter", json_integer(timesteps_this_iter));
    json_object_set_new(result, "episodes_total", json_integer(episodes_total));
    json_object_set_new(result, "episodes_this_iter", json_integer(episodes_this_iter));
}

double lux_rl_chunk_means_std(const double *x, size_t n, size_t chunks)
{
    size_t k = chunks < n ? chunks : n;
    if (k == 0)
        return 0.0;
    double sum = 0.0, sumsq = 0.0, means[LUX_RL_SCORE_CHUNKS * 4];
    double *mean = k <= sizeof means / sizeof means[0] ? means : lux_malloc(k * sizeof *mean);
    if (mean == NULL)
        return NAN;
    size_t start = 0;
    for (size_t c = 0; c < k; c++) {
        size_t len = n / k + (c < n % k ? 1 : 0);
        double s = 0.0;
        for (size_t i = start; i < start + len; i++)
            s += x[i];
        mean[c] = s / (double)len;
        sum += mean[c];
        start += len;
    }
    double m = sum / (double)k;
    for (size_t c = 0; c < k; c++)
        sumsq += (mean[c] - m) * (mean[c] - m);
    if (mean != means)
        lux_free(mean);
    return sqrt(sumsq / (double)k);
}

void lux_rl_buf_put(lux_rl_buf_t *b, const void *data, size_t len)
{
    /* Nothing to add (an empty blob may come with a NULL pointer). */
    if (b->failed || len == 0)
        return;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + len)
            cap *= 2;
        unsigned char *d = lux_realloc(b->data, cap);
        if (d == NULL) {
            b->failed = 1;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

int lux_rl_buf_get(const unsigned char **p, const unsigned char *end, void *out, size_t len)
{
    if ((size_t)(end - *p) < len)
        return -1;
    memcpy(out, *p, len);
    *p += len;
    return 0;
}

int lux_rl_runtime_ready(void)
{
    if (lux_is_worker())
        return 1;
    char *status = lux_node_status_json();
    if (status == NULL)
        return 0;
    free(status);
    return 1;
}

int lux_rl_submit_rollout(const lux_remote_desc_t *fn, const lux_arg_t *args, size_t nargs,
                          double num_cpus, lux_ref_t *ref, char *err, size_t errlen)
{
    lux_task_opts_t opts = LUX_TASK_OPTS_INIT;
    opts.num_cpus = num_cpus;
    int rc = lux_submit(fn, args, nargs, &opts, ref);
    if (rc != 0)
        snprintf(err, errlen, "submitting a rollout task failed: %s", lux_strerror(rc));
    return rc;
}

int lux_rl_get_rollout(lux_ref_t *ref, size_t expect_len, lux_value_t *v, char *err, size_t errlen)
{
    int rc = lux_get(ref, 1, -1, v);
    if (rc != 0) {
        snprintf(err, errlen, "rollout task failed: %s",
                 v->error && v->data ? (const char *)v->data : lux_strerror(rc));
        return rc;
    }
    if (v->len != expect_len) {
        snprintf(err, errlen, "rollout task returned %zu bytes", v->len);
        return LUX_EPROTO;
    }
    return 0;
}

lux_rl_worker_t *lux_rl_worker_cached(const lux_rl_spec_t *spec, char *err, size_t errlen)
{
    static lux_rl_worker_t cached;
    static int valid;
    if (valid && memcmp(&cached.spec, spec, sizeof *spec) == 0)
        return &cached;
    if (valid)
        lux_rl_worker_fini(&cached);
    valid = 0;
    if (lux_rl_worker_init(&cached, spec, err, errlen) != 0)
        return NULL;
    valid = 1;
    return &cached;
}

int lux_rl_buf_finish(lux_rl_buf_t *b, void **bytes, size_t *len)
{
    if (b->failed) {
        lux_free(b->data);
        b->data = NULL;
        return LUX_ENOMEM;
    }
    *bytes = b->data;
    *len = b->len;
    return 0;
}

void lux_rl_magic_put(lux_rl_buf_t *b, const char magic[8])
{
    lux_rl_buf_put(b, magic, 8);
}

int lux_rl_magic_get(const unsigned char **p, const unsigned char *end, const char magic[8])
{
    char m[8];
    if (lux_rl_buf_get(p, end, m, 8) || memcmp(m, magic, 8) != 0)
        return -1;
    return 0;
}

void lux_rl_header_put(lux_rl_buf_t *b, const char magic[8], uint64_t n,
                       const lux_rl_progress_t *progress)
{
    lux_rl_magic_put(b, magic);
    lux_rl_buf_put(b, &n, sizeof n);
    lux_rl_buf_put(b, &progress->iteration, sizeof progress->iteration);
    lux_rl_buf_put(b, &progress->timesteps_total, sizeof progress->timesteps_total);
    lux_rl_buf_put(b, &progress->episodes_total, sizeof progress->episodes_total);
    lux_rl_buf_put(b, &progress->eval_timesteps_total, sizeof progress->eval_timesteps_total);
}

int lux_rl_header_get(const unsigned char **p, const unsigned char *end, const char magic[8],
                      uint64_t *n, lux_rl_progress_t *progress)
{
    if (lux_rl_magic_get(p, end, magic) || lux_rl_buf_get(p, end, n, sizeof *n) ||
        lux_rl_buf_get(p, end, &progress->iteration, sizeof progress->iteration) ||
        lux_rl_buf_get(p, end, &progress->timesteps_total, sizeof progress->timesteps_total) ||
        lux_rl_buf_get(p, end, &progress->episodes_total, sizeof progress->episodes_total) ||
        lux_rl_buf_get(p, end, &progress->eval_timesteps_total,
                       sizeof progress->eval_timesteps_total))
        return -1;
    return 0;
}

void lux_rl_tail_put(lux_rl_buf_t *b, const void *data, size_t len)
{
    uint64_t len64 = len;
    lux_rl_buf_put(b, &len64, sizeof len64);
    lux_rl_buf_put(b, data, len);
}

int lux_rl_buf_finish_tail(lux_rl_buf_t *b, void **blob_p, size_t blob_len, void **bytes,
                           size_t *len)
{
    lux_rl_tail_put(b, *blob_p, blob_len);
    lux_free(*blob_p);
    *blob_p = NULL;
    return lux_rl_buf_finish(b, bytes, len);
}

int lux_rl_buf_finish_adam(lux_rl_buf_t *b, const lux_adam_t *adam, void **bytes, size_t *len)
{
    void *blob;
    size_t blob_len;
    int rc = lux_adam_save(adam, &blob, &blob_len);
    if (rc != 0) {
        lux_free(b->data);
        b->data = NULL;
        return rc;
    }
    return lux_rl_buf_finish_tail(b, &blob, blob_len, bytes, len);
}

int lux_rl_tail_get(const unsigned char **p, const unsigned char *end, const void **data,
                    size_t *len)
{
    uint64_t len64;
    if (lux_rl_buf_get(p, end, &len64, sizeof len64) || (uint64_t)(end - *p) != len64)
        return -1;
    *data = *p;
    *len = (size_t)len64;
    *p = end;
    return 0;
}

int lux_rl_check_workers(long num_workers, char *err, size_t errlen)
{
    if (num_workers <= 0 || lux_rl_runtime_ready())
        return 0;
    snprintf(err, errlen,
             "num_workers is %ld but the runtime is not running in this process (lux_init); "
             "set num_workers to 0 for in-process rollouts",
             num_workers);
    return LUX_ECONFIG;
}
