/*
 * `lux train`: runs one trainable without an experiment file, like `rllib
 * train`. It sets the trainable up from --config (plus --env), steps it,
 * prints one line per iteration, stops when a --stop threshold is met (a
 * metric >= its value, Ray Tune's stop-dict semantics), and writes
 * checkpoints with tune's atomic checkpoint writer: the trainable's save()
 * bytes in checkpoint.bin, and in metadata.json the trainable, env, config
 * and seed, so `lux rollout --checkpoint` can rebuild the policy.
 */
#include "checkpoint.h"
#include "clock.h"
#include "cli.h"
#include "lux.h"
#include "trainables.h"

#include "alloc.h"
#include "error.h"
#include "suggest.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char lux_cmd_train_help[] =
    "usage: lux train --run TRAINABLE --env ENV [options]\n\n"
    "Runs one trainable (cmaes, sepcmaes, es, a3c) on one environment without an\n"
    "experiment file, printing a line per iteration, until a --stop threshold is\n"
    "met.\n\n"
    "options:\n"
    "  --run NAME            the trainable\n"
    "  --env NAME            the environment (the config's \"env\")\n"
    "  --config JSON         the trainable's config, e.g. '{\"popsize\": 16}'\n"
    "  --stop SPEC           stop when a metric reaches a value: JSON\n"
    "                        '{\"episode_reward_mean\": 475}' or\n"
    "                        'episode_reward_mean=475,timesteps_total=1000000'\n"
    "                        (default: training_iteration=100)\n"
    "  --seed N              the trial's seed (default 0)\n"
    "  --num-workers N       rollout workers on the bundled runtime (default 2;\n"
    "                        0 runs rollouts in this process); the config's\n"
    "                        \"num_workers\" takes precedence\n"
    "  --checkpoint-freq N   save every N iterations (0: never)\n"
    "  --checkpoint-at-end   save after the last iteration\n"
    "  --checkpoint-dir DIR  where checkpoints go (default runs/train); they land\n"
    "                        in DIR/trials/train/checkpoint_<iteration>/\n"
    "  --json                print each full result as one JSON line instead\n";

static int parse_stop(const char *text, json_t **out)
{
    json_error_t e;
    json_t *stop = NULL;
    if (text[0] == '{') {
        stop = json_loads(text, 0, &e);
        if (stop == NULL || !json_is_object(stop)) {
            json_decref(stop);
            return lux_cli_usage_error("train", "--stop: bad JSON: %s", e.text);
        }
    } else {
        stop = json_object();
        char *copy = lux_strdup(text);
        char *save = NULL;
        for (char *tok = strtok_r(copy, ",", &save); tok != NULL;
             tok = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(tok, '=');
            char *end = NULL;
            double v = eq ? strtod(eq + 1, &end) : 0;
            if (eq == NULL || end == eq + 1 || *end != '\0') {
                lux_free(copy);
                json_decref(stop);
                return lux_cli_usage_error("train", "--stop: expected METRIC=VALUE, got '%s'", tok);
            }
            *eq = '\0';
            json_object_set_new(stop, tok, json_real(v));
        }
        lux_free(copy);
    }
    const char *key;
    json_t *v;
    json_object_foreach(stop, key, v)
    {
        if (!json_is_number(v)) {
            json_decref(stop);
            return lux_cli_usage_error("train", "--stop: '%s' must be a number", key);
        }
    }
    *out = stop;
    return 0;
}

static int save_checkpoint(const lux_trainable_class_t *cls, void *st, const char *dir,
                           const json_t *config, long seed, long iteration)
{
    void *bytes;
    size_t len;
    char err[512] = "";
    int rc = cls->save(st, &bytes, &len, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "lux train: save failed: %s\n", err);
        return rc;
    }
    json_t *meta =
        json_pack("{s:s, s:O, s:O, s:I}", "trainable", cls->name, "env",
                  json_object_get(config, "env"), "config", config, "seed", (json_int_t)seed);
    char *meta_text = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
    char *rel = NULL;
    rc =
        lux_checkpoint_write(dir, "train", iteration, bytes, len, meta_text, &rel, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "lux train: checkpoint failed: %s\n", err);
    else
        printf("checkpoint: %s/%s\n", dir, rel);
    free(meta_text);
    json_decref(meta);
    lux_free(rel);
    lux_free(bytes);
    return rc;
}

int lux_cmd_train(int argc, char **argv)
{
    const char *run = NULL, *env = NULL, *config_text = NULL, *stop_text = NULL;
    const char *ckpt_dir = "runs/train";
    long seed = 0, ckpt_freq = 0, num_workers = 2;
    int ckpt_end = 0, as_json = 0;
    lux_opt_t opts[] = {
        {"--run", NULL, LUX_OPT_STRING, &run},
        {"--env", NULL, LUX_OPT_STRING, &env},
        {"--config", NULL, LUX_OPT_STRING, &config_text},
        {"--stop", NULL, LUX_OPT_STRING, &stop_text},
        {"--seed", NULL, LUX_OPT_INT, &seed},
        {"--num-workers", NULL, LUX_OPT_INT, &num_workers},
        {"--checkpoint-freq", NULL, LUX_OPT_INT, &ckpt_freq},
        {"--checkpoint-at-end", NULL, LUX_OPT_FLAG, &ckpt_end},
        {"--checkpoint-dir", NULL, LUX_OPT_STRING, &ckpt_dir},
        {"--json", NULL, LUX_OPT_FLAG, &as_json},
    };
    int npos = 0;
    if (lux_cli_parse("train", argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0, &npos) != 0)
        return LUX_EXIT_USAGE;
    lux_rl_register_trainables();
    if (run == NULL)
        return lux_cli_usage_error("train", "--run is required (cmaes, sepcmaes, es or a3c)");
    const lux_trainable_class_t *cls = lux_trainable_find(run);
    if (cls == NULL) {
        const char *names[64];
        size_t n = lux_trainable_names(names, 64);
        const char *s = lux_suggest(run, names, n < 64 ? n : 64);
        if (s != NULL)
            return lux_cli_usage_error("train", "unknown trainable '%s'; did you mean '%s'?", run,
                                       s);
        return lux_cli_usage_error("train", "unknown trainable '%s'", run);
    }
    json_error_t je;
    json_t *config = config_text ? json_loads(config_text, 0, &je) : json_object();
    if (config == NULL || !json_is_object(config)) {
        json_decref(config);
        return lux_cli_usage_error("train", "--config: not a JSON object: %s",
                                   config_text ? je.text : "");
    }
    if (env != NULL)
        json_object_set_new(config, "env", json_string(env));
    if (json_object_get(config, "env") == NULL) {
        json_decref(config);
        return lux_cli_usage_error("train", "--env is required (e.g. --env CartPole-v1)");
    }
    json_t *stop = NULL;
    if (parse_stop(stop_text ? stop_text : "training_iteration=100", &stop) != 0) {
        json_decref(config);
        return LUX_EXIT_USAGE;
    }
    char err[512] = "";
    if (cls->validate != NULL && cls->validate(config, err, sizeof err) != 0) {
        fprintf(stderr, "lux train: %s\n", err);
        json_decref(config);
        json_decref(stop);
        return LUX_EXIT_USAGE;
    }
    json_t *nw = json_object_get(config, "num_workers");
    long workers = json_is_integer(nw) ? (long)json_integer_value(nw) : num_workers;
    if (workers < 0 || workers > 4096) {
        json_decref(config);
        json_decref(stop);
        return lux_cli_usage_error("train", "--num-workers must be in [0, 4096]");
    }
    int started = 0;
    if (workers > 0) {
        lux_init_opts_t io = {0};
        io.num_prestart = 0;
        int irc = lux_init(&io);
        if (irc != 0 && irc != LUX_EEXIST) {
            fprintf(stderr, "lux train: starting the runtime failed: %s (use --num-workers 0)\n",
                    lux_strerror(irc));
            json_decref(config);
            json_decref(stop);
            return LUX_EXIT_FAILURE;
        }
        started = irc == 0;
    }
    lux_trial_context_t ctx = {
        .trial_id = "train", .seed = (uint64_t)seed, .num_rollout_workers = (int)workers};
    void *st = NULL;
    int rc = cls->setup(config, &ctx, &st, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "lux train: setup failed: %s\n", err);
        if (started)
            lux_shutdown();
        json_decref(config);
        json_decref(stop);
        return rc == LUX_ECONFIG ? LUX_EXIT_USAGE : LUX_EXIT_FAILURE;
    }
    int code = LUX_EXIT_OK;
    double t0 = lux_clock_monotonic_s();
    for (long it = 1;; it++) {
        double t1 = lux_clock_monotonic_s();
        json_t *res = NULL;
        rc = cls->step(st, &res, err, sizeof err);
        if (rc != 0) {
            fprintf(stderr, "lux train: iteration %ld failed: %s\n", it, err);
            code = LUX_EXIT_FAILURE;
            break;
        }
        double t2 = lux_clock_monotonic_s();
        lux_trainable_autofill(res, it, t2 - t1, t2 - t0, "train");
        if (as_json) {
            char *line = json_dumps(res, JSON_COMPACT | JSON_SORT_KEYS);
            printf("%s\n", line ? line : "{}");
            free(line);
        } else {
            printf("training_iteration=%ld timesteps_total=%lld episode_reward_mean=%.3f "
                   "time_total_s=%.2f\n",
                   it, (long long)json_integer_value(json_object_get(res, "timesteps_total")),
                   json_number_value(json_object_get(res, "episode_reward_mean")), t2 - t0);
        }
        fflush(stdout);
        int done = json_is_true(json_object_get(res, "done"));
        const char *key;
        json_t *v;
        json_object_foreach(stop, key, v)
        {
            json_t *m = json_object_get(res, key);
            if (json_is_number(m) && json_number_value(m) >= json_number_value(v)) {
                printf("stopped: %s %g >= %g\n", key, json_number_value(m), json_number_value(v));
                done = 1;
                break;
            }
        }
        json_decref(res);
        if ((ckpt_freq > 0 && it % ckpt_freq == 0) || (done && ckpt_end)) {
            if (save_checkpoint(cls, st, ckpt_dir, config, seed, it) != 0) {
                code = LUX_EXIT_FAILURE;
                break;
            }
        }
        if (done)
            break;
    }
    cls->cleanup(st);
    if (started)
        lux_shutdown();
    json_decref(config);
    json_decref(stop);
    return code;
}
