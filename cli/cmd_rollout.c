/*
 * `lux rollout`: evaluates a saved policy. It reads a checkpoint written by
 * `lux train` (or a trial's checkpoint whose metadata names the trainable and
 * config), rebuilds the trainable with setup(config) + restore(bytes), and
 * runs N evaluation episodes of its policy, printing each return and the
 * mean.
 */
#include "checkpoint.h"
#include "cli.h"
#include "seeding.h"
#include "trainables.h"

#include "alloc.h"
#include "error.h"

#include <jansson.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char lux_cmd_rollout_help[] =
    "usage: lux rollout --checkpoint PATH [--episodes N] [--env ENV] [--seed N]\n\n"
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
    "  --config JSON       the config, when the metadata does not hold it\n";

int lux_cmd_rollout(int argc, char **argv)
{
    const char *path = NULL, *env = NULL, *run = NULL, *config_text = NULL;
    long episodes = 10, seed = 0;
    lux_opt_t opts[] = {
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
    if (path == NULL)
        return lux_cli_usage_error("rollout", "--checkpoint PATH is required");
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
    uint64_t trial_seed = (uint64_t)json_integer_value(json_object_get(meta, "seed"));
    lux_trial_context_t ctx = {.trial_id = "rollout", .seed = trial_seed};
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
