/*
 * `lux train` and `lux rollout` end to end: a run that stops on its --stop
 * threshold and writes a checkpoint, the checkpoint evaluated by `lux
 * rollout`, runtime workers, and the usage errors.
 */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

LUX_TEST_T(train_stops_checkpoints_and_rollout_evaluates, 60)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/ck", lux_test_tmpdir());
    const char *argv[] = {"train",
                          "--run",
                          "sepcmaes",
                          "--env",
                          "CartPole-v1",
                          "--num-workers",
                          "0",
                          "--config",
                          "{\"fcnet_hiddens\": [], \"popsize\": 10}",
                          "--stop",
                          "episode_reward_mean=400,training_iteration=60",
                          "--checkpoint-at-end",
                          "--checkpoint-dir",
                          dir,
                          NULL};
    char *out = NULL;
    LUX_CHECK_INT_EQ(lux_test_lux(argv, NULL, 60, &out, NULL), 0);
    LUX_CHECK_CONTAINS(out, "training_iteration=1 timesteps_total=");
    LUX_CHECK_CONTAINS(out, "stopped: episode_reward_mean");
    const char *ck = strstr(out, "checkpoint: ");
    LUX_CHECK(ck != NULL);
    char path[1024];
    LUX_CHECK(sscanf(ck, "checkpoint: %1023s", path) == 1);
    free(out);
    const char *rargv[] = {"rollout", "--checkpoint", path, "--episodes", "3", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(rargv, NULL, 60, &out, NULL), 0);
    LUX_CHECK_CONTAINS(out, "episode 2: return");
    const char *m = strstr(out, "episode_reward_mean ");
    LUX_CHECK(m != NULL);
    LUX_CHECK_DBL(atof(m + strlen("episode_reward_mean ")), >=, 300);
    free(out);
}

LUX_TEST_T(train_on_runtime_workers, 60)
{
    const char *argv[] = {"train",
                          "--run",
                          "es",
                          "--env",
                          "CartPole-v1",
                          "--num-workers",
                          "2",
                          "--config",
                          "{\"noise_size\": 1000000, \"episodes_per_batch\": 20, "
                          "\"train_batch_size\": 0}",
                          "--stop",
                          "training_iteration=3",
                          "--json",
                          NULL};
    char *out = NULL;
    LUX_CHECK_INT_EQ(lux_test_lux(argv, NULL, 60, &out, NULL), 0);
    LUX_CHECK_CONTAINS(out, "\"num_workers\":2");
    LUX_CHECK_CONTAINS(out, "\"training_iteration\":3");
    free(out);
}

LUX_TEST(train_usage_errors)
{
    char *out = NULL;
    const char *a1[] = {"train", "--run", "sepcma", "--env", "CartPole-v1", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(a1, NULL, 30, NULL, &out), 2);
    LUX_CHECK_CONTAINS(out, "did you mean 'sepcmaes'");
    free(out);
    const char *a2[] = {
        "train", "--run", "es", "--env", "CartPole-v1", "--config", "{\"noise_stdv\": 1}", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(a2, NULL, 30, NULL, &out), 2);
    LUX_CHECK_CONTAINS(out, "noise_stdev");
    free(out);
    const char *a3[] = {"rollout", "--checkpoint", "/nonexistent/checkpoint_000001", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(a3, NULL, 30, NULL, &out), 2);
    free(out);
}
