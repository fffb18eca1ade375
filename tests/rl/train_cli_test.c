/*
 * `lux train` and `lux rollout` end to end: a run that stops on its --stop
 * threshold and writes a checkpoint, the checkpoint evaluated by `lux
 * rollout`, runtime workers, and the usage errors.
 */
#include "test.h"

#include <stdint.h>
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

/* A small builders world so that 16 episodes take well under a second. */
#define SMALL_BUILDERS "{\"env_config\": {\"radius\": 8, \"max_episode_steps\": 300}}"

/* A deterministic 1,128-value vector (the default 20/10 builders policy),
 * as text and as raw little-endian float64 with the same values. */
static void write_params(const char **text_path, const char **bin_path, size_t count)
{
    size_t cap = count * 32 + 1, len = 0;
    char *text = malloc(cap);
    LUX_CHECK(text != NULL);
    text[0] = '\0';
    char bpath[512];
    snprintf(bpath, sizeof bpath, "%s/params_%zu.bin", lux_test_tmpdir(), count);
    FILE *f = fopen(bpath, "wb");
    LUX_CHECK(f != NULL);
    for (size_t i = 0; i < count; i++) {
        /* Values exact in decimal (multiples of 1/8), so text and binary agree. */
        double x = (double)((long)((i * 37) % 17) - 8) / 8.0;
        len += (size_t)snprintf(text + len, cap - len, "%.3f\n", x);
        unsigned char b[8];
        uint64_t u;
        memcpy(&u, &x, sizeof u);
        for (int k = 0; k < 8; k++)
            b[k] = (unsigned char)(u >> (8 * k));
        LUX_CHECK(fwrite(b, 1, 8, f) == 8);
    }
    fclose(f);
    char name[64];
    snprintf(name, sizeof name, "params_%zu.txt", count);
    *text_path = lux_test_write_tmp(name, text);
    free(text);
    static char saved[2][512];
    snprintf(saved[count == 1128], sizeof saved[0], "%s", bpath);
    *bin_path = saved[count == 1128];
}

LUX_TEST_T(rollout_params_text_binary_json, 60)
{
    const char *txt, *bin;
    write_params(&txt, &bin, 1128);
    const char *a1[] = {"rollout",      "--env",   "builders", "--params", txt, "--config",
                        SMALL_BUILDERS, "--seeds", "3-18",     "--json",   NULL};
    char *out = NULL, *err = NULL;
    LUX_CHECK_INT_EQ(lux_test_lux(a1, NULL, 30, &out, &err), 0);
    LUX_CHECK_CONTAINS(out, "\"episodes\":16");
    LUX_CHECK_CONTAINS(out, "\"score\":");
    LUX_CHECK_CONTAINS(out, "\"score_stderr\":");
    LUX_CHECK_CONTAINS(out, "\"num_params\":1128");
    const char *a2[] = {"rollout",  "--env",        "builders", "--params", bin,      "--binary",
                        "--config", SMALL_BUILDERS, "--seeds",  "3-18",     "--json", NULL};
    char *out2 = NULL;
    LUX_CHECK_INT_EQ(lux_test_lux(a2, NULL, 30, &out2, NULL), 0);
    LUX_CHECK_STR_EQ(out, out2);
    free(out2);
    /* Without --json: one line with the same numbers. */
    const char *a3[] = {"rollout",  "--env",        "builders", "--params", txt,
                        "--config", SMALL_BUILDERS, "--seeds",  "3-18",     NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(a3, NULL, 30, &out2, NULL), 0);
    LUX_CHECK_CONTAINS(out2, "score ");
    LUX_CHECK_CONTAINS(out2, " stderr ");
    LUX_CHECK_CONTAINS(out2, " episodes 16\n");
    double s_json = atof(strstr(out, "\"score\":") + strlen("\"score\":"));
    double s_line = atof(strstr(out2, "score ") + strlen("score "));
    LUX_CHECK_NEAR(s_json, s_line, 1e-5 * (1 + s_json));
    free(out);
    free(out2);
    free(err);
}

LUX_TEST_T(rollout_params_errors_exit_2, 60)
{
    const char *txt, *bin;
    write_params(&txt, &bin, 1000);
    char *out = NULL, *err = NULL;
    /* Wrong parameter count: expected vs got. */
    const char *a1[] = {"rollout",  "--env",        "builders", "--params", txt,
                        "--config", SMALL_BUILDERS, "--seeds",  "0-3",      NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(a1, NULL, 30, &out, &err), 2);
    LUX_CHECK_CONTAINS(err, "expected 1128 parameters");
    LUX_CHECK_CONTAINS(err, "got 1000");
    free(out);
    free(err);
    /* A one-hidden-layer policy counts 35*25 + 25 + 25*18 + 18. */
    const char *a1b[] = {"rollout",
                         "--env",
                         "builders",
                         "--params",
                         bin,
                         "--binary",
                         "--config",
                         "{\"n_hidden\": 25, \"n_hidden2\": 0, \"env_config\": {\"radius\": 8, "
                         "\"max_episode_steps\": 50}}",
                         "--seeds",
                         "0-1",
                         NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(a1b, NULL, 30, &out, &err), 2);
    LUX_CHECK_CONTAINS(err, "expected 1368 parameters");
    free(out);
    free(err);
    /* Bad seed ranges. */
    const char *bad[] = {"5-3", "x", "3", "-1-4", "0-2000000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *a2[] = {"rollout", "--env",   "builders", "--params",
                            txt,       "--seeds", bad[i],     NULL};
        LUX_CHECK_INT_EQ(lux_test_lux(a2, NULL, 30, &out, &err), 2);
        LUX_CHECK_CONTAINS(err, "--seeds");
        free(out);
        free(err);
    }
    /* Unreadable file; a text file with a non-number. */
    const char *a3[] = {"rollout", "--env", "builders", "--params", "/nonexistent/p.txt", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(a3, NULL, 30, &out, &err), 2);
    LUX_CHECK_CONTAINS(err, "cannot read --params /nonexistent/p.txt");
    free(out);
    free(err);
    const char *junk = lux_test_write_tmp("junk.txt", "0.5\nabc\n");
    const char *a4[] = {"rollout", "--env", "builders", "--params", junk, NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(a4, NULL, 30, &out, &err), 2);
    LUX_CHECK_CONTAINS(err, "junk.txt:2: not a finite number");
    free(out);
    free(err);
    /* A binary file that is not whole float64 values. */
    const char *odd = lux_test_write_tmp("odd.bin", "abcdefghij");
    const char *a5[] = {"rollout", "--env", "builders", "--params", odd, "--binary", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(a5, NULL, 30, &out, &err), 2);
    LUX_CHECK_CONTAINS(err, "2 trailing bytes");
    free(out);
    free(err);
}
