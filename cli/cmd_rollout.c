/*
 * `lux rollout`: evaluates a saved policy. It reads a checkpoint written by
 * `lux train` (or a trial's checkpoint whose metadata names the trainable and
 * config), rebuilds the trainable with setup(config) + restore(bytes), and
 * runs N evaluation episodes of its policy, printing each return and the
 * mean. With --params it evaluates a bare cmaes/sepcmaes parameter vector
 * instead (the builders study's policies, kept outside checkpoints): no
 * trainable state, just the config's policy on the given seeds.
 */
#include "checkpoint.h"
#include "cli.h"
#include "seeding.h"
#include "trainables.h"

#include "alloc.h"
#include "error.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char lux_cmd_rollout_help[] =
    "usage: lux rollout --checkpoint PATH [--episodes N] [--env ENV] [--seed N]\n"
    "       lux rollout --params FILE [--binary] --env ENV [--config JSON]\n"
    "                   [--seeds A-B] [--trial-seed N] [--json]\n\n"
    "Evaluates the policy saved in a checkpoint directory (checkpoint.bin +\n"
    "metadata.json, as `lux train --checkpoint-freq` writes them): prints every\n"
    "episode's return and length, then the mean. --env overrides the environment\n"
    "(same spaces); --run and --config may supply what the metadata lacks.\n\n"
    "options:\n"
    "  --checkpoint PATH   the checkpoint directory\n"
    "  --episodes N        evaluation episodes (default 10)\n"
    "  --seed N            seed of the first episode's derivation (default 0)\n"
    "  --env NAME          evaluate on this environment instead\n"
    "  --run NAME          the trainable, when the metadata does not name it\n"
    "  --config JSON       the config, when the metadata does not hold it\n\n"
    "With --params, FILE holds the flat parameter vector of the cmaes/sepcmaes\n"
    "policy the config describes (layout: docs/trainables.md), one number per\n"
    "line, or raw little-endian float64 with --binary; it is evaluated on the\n"
    "episode seeds A..B (default 0-511) and the mean score, its standard error\n"
    "and the episode count are printed. --trial-seed N evaluates instead on the\n"
    "evaluation episodes A..B of the trial with seed N (those its `score`\n"
    "averages).\n"
    "  --params FILE       the parameter vector\n"
    "  --binary            FILE is raw little-endian float64\n"
    "  --seeds A-B         episode seeds, inclusive (default 0-511)\n"
    "  --trial-seed N      seeds of that trial's evaluation episodes A..B\n"
    "  --json              print one JSON object\n";

/* The most episodes one --params evaluation runs. */
#define MAX_EPISODES 1000000L

/* Reads FILE as text (one number per line; blank lines ignored) or raw
 * little-endian float64. Returns 0, or LUX_EXIT_USAGE with a message
 * printed. *params is the caller's (lux_free). */
static int read_params(const char *path, int binary, double **params, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "lux rollout: cannot read --params %s: %s\n", path, strerror(errno));
        return LUX_EXIT_USAGE;
    }
    size_t cap = 256, len = 0;
    double *p = lux_malloc(cap * sizeof *p);
    int code = p != NULL ? LUX_EXIT_OK : LUX_EXIT_FAILURE;
    if (binary) {
        unsigned char b[8];
        size_t got;
        while (code == LUX_EXIT_OK && (got = fread(b, 1, 8, f)) > 0) {
            if (got != 8) {
                fprintf(stderr,
                        "lux rollout: %s: %zu trailing bytes; --binary wants a whole number of "
                        "8-byte little-endian float64 values\n",
                        path, got);
                code = LUX_EXIT_USAGE;
                break;
            }
            uint64_t u = 0;
            for (int i = 7; i >= 0; i--)
                u = (u << 8) | b[i];
            double x;
            memcpy(&x, &u, sizeof x);
            if (len == cap) {
                double *q = lux_realloc(p, 2 * cap * sizeof *p);
                if (q == NULL) {
                    code = LUX_EXIT_FAILURE;
                    break;
                }
                p = q;
                cap *= 2;
            }
            p[len++] = x;
        }
    } else {
        char line[256];
        long lineno = 0;
        while (code == LUX_EXIT_OK && fgets(line, sizeof line, f) != NULL) {
            lineno++;
            char *s = line;
            while (isspace((unsigned char)*s))
                s++;
            if (*s == '\0')
                continue;
            char *end;
            errno = 0;
            double x = strtod(s, &end);
            while (isspace((unsigned char)*end))
                end++;
            if (end == s || *end != '\0' || errno == ERANGE || !isfinite(x)) {
                fprintf(stderr,
                        "lux rollout: %s:%ld: not a finite number (one value per line; "
                        "--binary for raw float64)\n",
                        path, lineno);
                code = LUX_EXIT_USAGE;
                break;
            }
            if (len == cap) {
                double *q = lux_realloc(p, 2 * cap * sizeof *p);
                if (q == NULL) {
                    code = LUX_EXIT_FAILURE;
                    break;
                }
                p = q;
                cap *= 2;
            }
            p[len++] = x;
        }
    }
    if (code == LUX_EXIT_OK && ferror(f)) {
        fprintf(stderr, "lux rollout: cannot read --params %s: %s\n", path, strerror(errno));
        code = LUX_EXIT_USAGE;
    }
    fclose(f);
    if (code != LUX_EXIT_OK) {
        if (code == LUX_EXIT_FAILURE)
            fprintf(stderr, "lux rollout: out of memory reading %s\n", path);
        lux_free(p);
        return code;
    }
    *params = p;
    *n = len;
    return LUX_EXIT_OK;
}

/* Parses "A-B" (0 <= A <= B, at most MAX_EPISODES seeds). */
static int parse_seeds(const char *text, uint64_t *a, uint64_t *b)
{
    char *end;
    if (!isdigit((unsigned char)text[0]))
        return -1;
    errno = 0;
    unsigned long long x = strtoull(text, &end, 10);
    if (errno != 0 || *end != '-' || !isdigit((unsigned char)end[1]))
        return -1;
    const char *t = end + 1;
    unsigned long long y = strtoull(t, &end, 10);
    if (errno != 0 || *end != '\0' || y < x || y - x >= (unsigned long long)MAX_EPISODES)
        return -1;
    *a = x;
    *b = y;
    return 0;
}

static int rollout_params(const char *path, int binary, const char *env, const char *config_text,
                          const char *seeds_text, long trial_seed, int as_json)
{
    uint64_t a, b;
    if (parse_seeds(seeds_text, &a, &b) != 0) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "--seeds '%s' is not a range A-B of seeds with 0 <= A <= B and at most %ld "
                 "seeds (e.g. 0-511)",
                 seeds_text, MAX_EPISODES);
        return lux_cli_usage_error("rollout", "%s", msg);
    }
    json_error_t je;
    json_t *config = json_loads(config_text != NULL ? config_text : "{}", 0, &je);
    if (config == NULL || !json_is_object(config)) {
        fprintf(stderr, "lux rollout: --config is not a JSON object: %s\n",
                config == NULL ? je.text : "another JSON value");
        json_decref(config);
        return LUX_EXIT_USAGE;
    }
    if (env != NULL)
        json_object_set_new(config, "env", json_string(env));
    if (json_object_get(config, "env") == NULL) {
        json_decref(config);
        return lux_cli_usage_error("rollout", "--params needs --env (or \"env\" in --config)");
    }
    json_object_set_new(config, "num_workers", json_integer(0));
    double *params = NULL;
    size_t n = 0;
    int code = read_params(path, binary, &params, &n);
    if (code != LUX_EXIT_OK) {
        json_decref(config);
        return code;
    }
    size_t ne = (size_t)(b - a + 1);
    uint64_t *seeds = lux_malloc(ne * sizeof *seeds);
    double *returns = lux_malloc(ne * sizeof *returns);
    long *lengths = lux_malloc(ne * sizeof *lengths);
    char err[512] = "";
    int rc = seeds != NULL && returns != NULL && lengths != NULL ? 0 : LUX_ENOMEM;
    for (size_t i = 0; rc == 0 && i < ne; i++)
        seeds[i] = trial_seed >= 0 ? lux_rl_cmaes_eval_seed((uint64_t)trial_seed, a + i) : a + i;
    if (rc == 0)
        rc = lux_rl_cmaes_evaluate_params(config, params, n, seeds, ne, returns, lengths, NULL, err,
                                          sizeof err);
    if (rc != 0) {
        fprintf(stderr, "lux rollout: %s: %s\n", rc == LUX_ECONFIG ? "--config" : path,
                err[0] != '\0' ? err : lux_strerror(rc));
        code = rc == LUX_EINVAL || rc == LUX_ECONFIG ? LUX_EXIT_USAGE : LUX_EXIT_FAILURE;
    } else {
        /* The mean in seed order, as the trainable's score sums it. */
        double sum = 0.0, ss = 0.0;
        long steps = 0;
        for (size_t i = 0; i < ne; i++) {
            sum += returns[i];
            steps += lengths[i];
        }
        double mean = sum / (double)ne;
        for (size_t i = 0; i < ne; i++)
            ss += (returns[i] - mean) * (returns[i] - mean);
        double sem = ne > 1 ? sqrt(ss / (double)(ne - 1) / (double)ne) : 0.0;
        if (as_json) {
            json_t *o = json_object();
            json_object_set_new(o, "score", json_real(mean));
            json_object_set_new(o, "score_stderr", json_real(sem));
            json_object_set_new(o, "episodes", json_integer((json_int_t)ne));
            json_object_set_new(o, "seed_first", json_integer((json_int_t)a));
            json_object_set_new(o, "seed_last", json_integer((json_int_t)b));
            if (trial_seed >= 0)
                json_object_set_new(o, "trial_seed", json_integer(trial_seed));
            json_object_set_new(o, "num_params", json_integer((json_int_t)n));
            json_object_set_new(o, "timesteps", json_integer(steps));
            char *text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
            printf("%s\n", text != NULL ? text : "{}");
            free(text);
            json_decref(o);
        } else {
            printf("score %.6g stderr %.6g episodes %zu\n", mean, sem, ne);
        }
    }
    lux_free(seeds);
    lux_free(returns);
    lux_free(lengths);
    lux_free(params);
    json_decref(config);
    return code;
}

int lux_cmd_rollout(int argc, char **argv)
{
    const char *path = NULL, *env = NULL, *run = NULL, *config_text = NULL;
    const char *params = NULL, *seeds = "0-511";
    long episodes = 10, seed = 0, trial_seed = -1;
    int binary = 0, as_json = 0;
    lux_opt_t opts[] = {
        {"--params", NULL, LUX_OPT_STRING, &params},
        {"--binary", NULL, LUX_OPT_FLAG, &binary},
        {"--seeds", NULL, LUX_OPT_STRING, &seeds},
        {"--trial-seed", NULL, LUX_OPT_INT, &trial_seed},
        {"--json", NULL, LUX_OPT_FLAG, &as_json},
        {"--checkpoint", NULL, LUX_OPT_STRING, &path},
        {"--episodes", NULL, LUX_OPT_INT, &episodes},
        {"--seed", NULL, LUX_OPT_INT, &seed},
        {"--env", NULL, LUX_OPT_STRING, &env},
        {"--run", NULL, LUX_OPT_STRING, &run},
        {"--config", NULL, LUX_OPT_STRING, &config_text},
    };
    int npos = 0;
    if (lux_cli_parse("rollout", argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0, &npos) !=
        0)
        return LUX_EXIT_USAGE;
    if (params != NULL && path != NULL)
        return lux_cli_usage_error("rollout", "--params and --checkpoint exclude each other");
    if (params != NULL) {
        if (trial_seed < -1)
            return lux_cli_usage_error("rollout", "--trial-seed must be at least 0");
        if (run != NULL && strcmp(run, "cmaes") != 0 && strcmp(run, "sepcmaes") != 0)
            return lux_cli_usage_error("rollout", "--params evaluates cmaes/sepcmaes policies");
        lux_rl_register_trainables();
        return rollout_params(params, binary, env, config_text, seeds, trial_seed, as_json);
    }
    if (path == NULL)
        return lux_cli_usage_error("rollout", "--checkpoint PATH or --params FILE is required");
    if (episodes < 1)
        return lux_cli_usage_error("rollout", "--episodes must be at least 1");
    lux_rl_register_trainables();
    /* lux_checkpoint_read wants (experiment dir, relative path). */
    char *a = lux_strdup(path), *b = lux_strdup(path);
    char *parent = dirname(a), *base = basename(b);
    char err[512] = "";
    void *bytes = NULL;
    size_t len = 0;
    int rc = lux_checkpoint_read(parent, base, &bytes, &len, err, sizeof err);
    char meta_path[4096];
    snprintf(meta_path, sizeof meta_path, "%s/%s", path, LUX_CHECKPOINT_META_NAME);
    lux_free(a);
    lux_free(b);
    if (rc != 0) {
        fprintf(stderr, "lux rollout: %s\n", err);
        return rc == LUX_ENOENT || rc == LUX_EINVAL ? LUX_EXIT_USAGE : LUX_EXIT_FAILURE;
    }
    json_error_t je;
    json_t *meta = json_load_file(meta_path, 0, &je);
    json_t *config = NULL;
    if (config_text != NULL)
        config = json_loads(config_text, 0, &je);
    else if (meta != NULL && json_is_object(json_object_get(meta, "config")))
        config = json_deep_copy(json_object_get(meta, "config"));
    if (run == NULL && meta != NULL)
        run = json_string_value(json_object_get(meta, "trainable"));
    int code = LUX_EXIT_OK;
    const lux_trainable_class_t *cls = run ? lux_trainable_find(run) : NULL;
    if (config == NULL || !json_is_object(config) || cls == NULL) {
        fprintf(stderr, "lux rollout: %s does not name %s; pass --run and --config\n", meta_path,
                cls == NULL ? "a known trainable" : "a config");
        code = LUX_EXIT_USAGE;
        goto out;
    }
    if (env != NULL)
        json_object_set_new(config, "env", json_string(env));
    /* Evaluation runs here: no rollout workers, whatever training used. */
    if (json_object_get(config, "num_workers") != NULL)
        json_object_set_new(config, "num_workers", json_integer(0));
    uint64_t ck_seed = (uint64_t)json_integer_value(json_object_get(meta, "seed"));
    lux_trial_context_t ctx = {.trial_id = "rollout", .seed = ck_seed};
    void *st = NULL;
    rc = cls->setup(config, &ctx, &st, err, sizeof err);
    if (rc == 0)
        rc = cls->restore(st, bytes, len, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "lux rollout: %s\n", err);
        cls->cleanup(st);
        code = LUX_EXIT_FAILURE;
        goto out;
    }
    double sum = 0, lo = INFINITY, hi = -INFINITY;
    for (long e = 0; e < episodes; e++) {
        double ret;
        long length;
        rc = lux_rl_evaluate_episode(cls, st, lux_seed_derive((uint64_t)seed, 0, 0, (uint64_t)e),
                                     &ret, &length);
        if (rc != 0) {
            fprintf(stderr, "lux rollout: episode %ld failed: %s\n", e, lux_strerror(rc));
            code = LUX_EXIT_FAILURE;
            break;
        }
        printf("episode %ld: return %.3f length %ld\n", e, ret, length);
        sum += ret;
        lo = fmin(lo, ret);
        hi = fmax(hi, ret);
    }
    if (code == LUX_EXIT_OK)
        printf("episodes %ld episode_reward_mean %.3f min %.3f max %.3f\n", episodes,
               sum / (double)episodes, lo, hi);
    cls->cleanup(st);
out:
    json_decref(meta);
    json_decref(config);
    lux_free(bytes);
    return code;
}
