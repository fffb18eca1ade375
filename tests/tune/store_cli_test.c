/* Tests of `lux status`, `lux best` and `lux export` against stores built
 * through the store API, run on the real binary. */
#include "test.h"

#include "alloc.h"
#include "config.h"
#include "error.h"
#include "store.h"

#include <csv.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int run_lux(char **out, char **err, const char *const *args)
{
    char *env[] = {"COLUMNS=200", NULL};
    return lux_test_lux(args, env, 20, out, err);
}

/* An experiment of four trials: lr varies, env does not; one trial has a
 * config value and metrics with commas, quotes, a newline and unicode. */
static void build_experiment(const char *dir)
{
    lux_store_t *s = NULL;
    char err[512];
    LUX_CHECK_OK(lux_store_open(dir, &s, err, sizeof err));
    lux_store_experiment_t exp = {.name = "cartpole_pg",
                                  .config_text = "trainable: pg\n",
                                  .config_json = "{}",
                                  .seed = 1,
                                  .metric = "episode_reward_mean",
                                  .mode = "max"};
    LUX_CHECK_OK(lux_store_experiment_put(s, &exp));
    static const char *const configs[] = {
        "{\"env\":\"CartPole\",\"lr\":0.1,\"opt\":{\"beta\":0.9}}",
        "{\"env\":\"CartPole\",\"lr\":0.01,\"opt\":{\"beta\":0.9}}",
        "{\"env\":\"CartPole\",\"lr\":0.001,\"opt\":{\"beta\":0.99},\"note\":\"a, \\\"quoted\\\"\\n"
        "line — température 温度\"}",
        "{\"env\":\"CartPole\",\"lr\":0.5,\"opt\":{\"beta\":0.9}}"};
    static const lux_trial_status_t status[] = {LUX_TRIAL_TERMINATED, LUX_TRIAL_RUNNING,
                                                LUX_TRIAL_PAUSED, LUX_TRIAL_ERROR};
    static const double rewards[4][3] = {{10, 20, 30}, {15, 60, 45}, {5, 6, 7}, {1, 0, 0}};
    char id[32], m[512];
    LUX_CHECK_OK(lux_store_begin(s));
    for (int t = 0; t < 4; t++) {
        snprintf(id, sizeof id, "cartpole_%05d", t);
        lux_store_trial_t tr = {.trial_id = id, .config_json = configs[t]};
        LUX_CHECK_OK(lux_store_trial_add(s, &tr));
        int iters = t == 3 ? 1 : 3;
        for (int it = 1; it <= iters; it++) {
            snprintf(m, sizeof m,
                     "{\"episode_reward_mean\":%g,\"training_iteration\":%d,\"time_total_s\":%d.5,"
                     "\"trial_id\":\"%s\",\"info\":{\"learner\":{\"loss\":%g}},"
                     "\"config\":{\"lr\":-1}%s}",
                     rewards[t][it - 1], it, it, id, 1.0 / it,
                     t == 2 ? ",\"comment\":\"x,y \\\"z\\\"\\nnext — ünï\"" : "");
            LUX_CHECK_OK(lux_store_result_add(s, id, it, it + 0.5, m));
        }
        tr.status = status[t];
        tr.training_iteration = iters;
        tr.time_total_s = iters + 0.5;
        tr.last_result_json = m;
        tr.error = t == 3 ? "RuntimeError: diverged\ntraceback..." : NULL;
        tr.num_failures = t == 3;
        LUX_CHECK_OK(lux_store_trial_update(s, &tr));
    }
    LUX_CHECK_OK(lux_store_checkpoint_add(s, "cartpole_00001", 2,
                                          "trials/cartpole_00001/checkpoint_000002", 1, 60, 10));
    LUX_CHECK_OK(lux_store_commit(s));
    lux_store_close(&s);
}

LUX_TEST(status_prints_counts_best_and_trial_table)
{
    const char *dir = lux_test_tmpdir();
    build_experiment(dir);
    char *out, *err;
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"status", dir, NULL}), 0);
    LUX_CHECK_CONTAINS(out, "Experiment: cartpole_pg (");
    LUX_CHECK_CONTAINS(out, "): RUNNING, 4 trials, 10 results\n");
    LUX_CHECK_CONTAINS(out, "Trial status: 1 PAUSED | 1 RUNNING | 1 TERMINATED | 1 ERROR");
    LUX_CHECK_CONTAINS(out, "Current best trial: cartpole_00001 with episode_reward_mean=45");
    LUX_CHECK_CONTAINS(out, "\"lr\":0.01");
    /* The stored config has no space: the columns are the config paths that
     * vary (lr, opt.beta, note), not env. */
    LUX_CHECK_CONTAINS(out, "Trial name");
    LUX_CHECK_CONTAINS(out, "opt.beta");
    LUX_CHECK(strstr(out, "  env") == NULL);
    /* Live trials first, then failed, then finished ones. */
    LUX_CHECK_CONTAINS(out, "cartpole_00001  RUNNING");
    LUX_CHECK_CONTAINS(out, "\ncartpole_00002  PAUSED");
    LUX_CHECK(strstr(out, "cartpole_00001  RUNNING") < strstr(out, "cartpole_00000  TERMINATED"));
    LUX_CHECK_CONTAINS(out, "total time (s)");
    LUX_CHECK(strstr(out, "more trials not shown") == NULL);
    LUX_CHECK_CONTAINS(out, "Number of errored trials: 1");
    LUX_CHECK_CONTAINS(out, "Trial cartpole_00003 failed: RuntimeError: diverged ..\n");
    LUX_CHECK(strstr(out, "traceback") == NULL);
    free(out);
    free(err);

    /* Narrow terminal: every line fits. */
    LUX_CHECK_INT_EQ(
        run_lux(&out, &err, (const char *const[]){"status", dir, "--width", "60", NULL}), 0);
    char *table = strstr(out, "Trial name");
    LUX_CHECK_MSG(table != NULL, "no table in:\n%s\n%s", out, err);
    for (char *line = table; *line != '\0';) {
        char *nl = strchr(line, '\n');
        LUX_CHECK(nl != NULL);
        LUX_CHECK_INT(nl - line, <=, 90); /* bytes; UTF-8 cells may be wider than code points */
        if (strncmp(nl + 1, "Number", 6) == 0)
            break;
        line = nl + 1;
    }
    free(out);
    free(err);

    /* --max-rows: the rest are counted, not shown. */
    LUX_CHECK_INT_EQ(
        run_lux(&out, &err, (const char *const[]){"status", dir, "--max-rows", "2", NULL}), 0);
    LUX_CHECK_CONTAINS(out, "\n... 2 more trials not shown (lux status ");
    LUX_CHECK(strstr(out, "cartpole_00003  ERROR") == NULL);
    LUX_CHECK_CONTAINS(out, "Trial cartpole_00003 failed:"); /* still listed */
    free(out);
    free(err);

    /* --metric: a nested result key becomes the metric column and picks the
     * best trial by it (mode as the experiment's: max). */
    LUX_CHECK_INT_EQ(
        run_lux(&out, &err,
                (const char *const[]){"status", dir, "--metric", "info/learner/loss", NULL}),
        0);
    LUX_CHECK_CONTAINS(out, "Current best trial: cartpole_00003 with info/learner/loss=1 and");
    LUX_CHECK_CONTAINS(out, "total time (s)  info/learner/loss\n");
    free(out);
    free(err);

    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"status", "/nonexistent/exp", NULL}),
                     2);
    LUX_CHECK_CONTAINS(err, "no experiment store at /nonexistent/exp/experiment.db");
    free(out);
    free(err);
}

/* With the experiment's canonical config stored (as `lux run` stores it),
 * the parameter columns are its search space's variables, as in the live
 * console: model.hidden although it is the same in both trials, and not
 * `extra`, which varies but is no variable. */
LUX_TEST(status_columns_are_the_stored_search_space)
{
    static const char yaml[] = "name: spaced\n"
                               "trainable: some/plugin.so\n"
                               "metric: score\n"
                               "mode: max\n"
                               "config:\n"
                               "  lr: {loguniform: [1.0e-4, 1.0e-2]}\n"
                               "  model: {hidden: {choice: [32, 64]}, act: relu}\n";
    lux_config_options_t o = {.skip_trainable_check = true};
    lux_config_t *cfg = NULL;
    char e[512];
    int rc = lux_config_load_string(yaml, strlen(yaml), "t.yaml", &o, &cfg, e, sizeof e);
    LUX_CHECK_MSG(rc == 0, "%s", e);
    json_t *canon = lux_config_to_json(cfg);
    char *canon_text = json_dumps(canon, JSON_COMPACT);
    LUX_CHECK(canon_text != NULL);
    json_decref(canon);
    lux_config_destroy(&cfg);

    const char *dir = lux_test_tmpdir();
    lux_store_t *s = NULL;
    LUX_CHECK_OK(lux_store_open(dir, &s, e, sizeof e));
    lux_store_experiment_t exp = {
        .name = "spaced", .config_json = canon_text, .metric = "score", .mode = "max"};
    LUX_CHECK_OK(lux_store_experiment_put(s, &exp));
    free(canon_text);
    static const char *const configs[] = {
        "{\"lr\":0.001,\"model\":{\"hidden\":64,\"act\":\"relu\"},\"extra\":1}",
        "{\"lr\":0.002,\"model\":{\"hidden\":64,\"act\":\"relu\"},\"extra\":2}"};
    for (int t = 0; t < 2; t++) {
        char id[32];
        snprintf(id, sizeof id, "spaced_%05d", t);
        lux_store_trial_t tr = {.trial_id = id, .config_json = configs[t]};
        LUX_CHECK_OK(lux_store_trial_add(s, &tr));
    }
    lux_store_close(&s);
    char *out, *err;
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"status", dir, NULL}), 0);
    LUX_CHECK_CONTAINS(out, "status      lr  model.hidden  iter  total time (s)  score\n");
    LUX_CHECK_CONTAINS(out, "spaced_00001  PENDING  0.002            64");
    LUX_CHECK(strstr(out, "extra") == NULL);
    free(out);
    free(err);
}

LUX_TEST(status_works_while_a_writer_holds_a_transaction)
{
    const char *dir = lux_test_tmpdir();
    build_experiment(dir);
    lux_store_t *s = NULL;
    char e[512];
    LUX_CHECK_OK(lux_store_open(dir, &s, e, sizeof e));
    LUX_CHECK_OK(lux_store_begin(s));
    LUX_CHECK_OK(lux_store_result_add(s, "cartpole_00000", 4, 4.5, "{\"episode_reward_mean\":1}"));
    LUX_CHECK_OK(lux_store_trial_set_status(s, "cartpole_00002", LUX_TRIAL_RUNNING, NULL));
    char *out, *err;
    double t0 = lux_test_now();
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"status", dir, NULL}), 0);
    LUX_CHECK_DBL(lux_test_now() - t0, <, 5.0);
    LUX_CHECK_CONTAINS(out, "1 PAUSED | 1 RUNNING"); /* the uncommitted change is not seen */
    free(out);
    free(err);
    LUX_CHECK_OK(lux_store_commit(s));
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"status", dir, NULL}), 0);
    LUX_CHECK_CONTAINS(out, "Trial status: 2 RUNNING");
    free(out);
    free(err);
    lux_store_close(&s);
}

LUX_TEST(best_uses_experiment_defaults_and_options)
{
    const char *dir = lux_test_tmpdir();
    build_experiment(dir);
    char *out, *err;
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"best", dir, NULL}), 0);
    LUX_CHECK_CONTAINS(out, "trial_id: cartpole_00001");
    LUX_CHECK_CONTAINS(out, "config: {\"env\":\"CartPole\",\"lr\":0.01,");
    LUX_CHECK_CONTAINS(out, "episode_reward_mean: 45 (mode max, scope last, iteration 3)");
    LUX_CHECK_CONTAINS(out, "checkpoint: ");
    LUX_CHECK_CONTAINS(out, "/trials/cartpole_00001/checkpoint_000002");
    free(out);
    free(err);
    LUX_CHECK_INT_EQ(
        run_lux(&out, &err, (const char *const[]){"best", dir, "--scope", "all", NULL}), 0);
    LUX_CHECK_CONTAINS(out, "episode_reward_mean: 60 (mode max, scope all, iteration 2)");
    free(out);
    free(err);
    LUX_CHECK_INT_EQ(run_lux(&out, &err,
                             (const char *const[]){"best", dir, "--metric", "info/learner/loss",
                                                   "--mode", "min", "--json", NULL}),
                     0);
    json_t *b = json_loads(out, 0, NULL);
    LUX_CHECK(b != NULL);
    LUX_CHECK_NEAR(json_number_value(json_object_get(b, "value")), 1.0 / 3, 1e-6);
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(b, "trial_id")), "cartpole_00000");
    json_decref(b);
    free(out);
    free(err);
    LUX_CHECK_INT_EQ(
        run_lux(&out, &err, (const char *const[]){"best", dir, "--scope", "first", NULL}), 2);
    LUX_CHECK_CONTAINS(err, "--scope must be");
    free(out);
    free(err);
    LUX_CHECK_INT_EQ(
        run_lux(&out, &err, (const char *const[]){"best", dir, "--metric", "nope", NULL}), 2);
    LUX_CHECK_CONTAINS(err, "no result in");
    LUX_CHECK_CONTAINS(err, "'nope'");
    free(out);
    free(err);
}

/* ---- CSV parsing with libcsv ---------------------------------------------- */

typedef struct {
    char *cells[64][40];
    int ncols[64];
    int row, col;
} csv_doc_t;

static void on_field(void *s, size_t len, void *data)
{
    csv_doc_t *d = data;
    if (d->row < 64 && d->col < 40)
        d->cells[d->row][d->col] = strndup(s != NULL ? s : "", len);
    d->col++;
}

static void on_row(int c, void *data)
{
    (void)c;
    csv_doc_t *d = data;
    if (d->row < 64)
        d->ncols[d->row] = d->col;
    d->row++;
    d->col = 0;
}

static csv_doc_t *parse_csv(const char *path)
{
    FILE *f = fopen(path, "rb");
    LUX_CHECK_MSG(f != NULL, "cannot open %s", path);
    csv_doc_t *d = calloc(1, sizeof *d);
    struct csv_parser p;
    LUX_CHECK_INT_EQ(csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL), 0);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        LUX_CHECK_INT_EQ(csv_parse(&p, buf, n, on_field, on_row, d), n);
    LUX_CHECK_INT_EQ(csv_fini(&p, on_field, on_row, d), 0);
    csv_free(&p);
    fclose(f);
    return d;
}

static void free_csv(csv_doc_t *d)
{
    for (int r = 0; r < 64; r++)
        for (int c = 0; c < 40; c++)
            free(d->cells[r][c]);
    free(d);
}

static int column(csv_doc_t *d, const char *name)
{
    for (int c = 0; c < d->ncols[0]; c++)
        if (strcmp(d->cells[0][c], name) == 0)
            return c;
    lux_test_fail(__FILE__, __LINE__, "no column %s", name);
}

LUX_TEST(export_csv_round_trips_through_libcsv)
{
    const char *dir = lux_test_tmpdir();
    build_experiment(dir);
    char csv[8192];
    snprintf(csv, sizeof csv, "%s/results.csv", dir);
    char *out, *err;
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"export", dir, "--csv", csv, NULL}),
                     0);
    free(out);
    free(err);
    csv_doc_t *d = parse_csv(csv);
    LUX_CHECK_INT_EQ(d->row, 1 + 10); /* header + 3 + 3 + 3 + 1 results */
    for (int r = 1; r < d->row; r++)
        LUX_CHECK_INT_EQ(d->ncols[r], d->ncols[0]);
    for (int a = 0; a < d->ncols[0]; a++) /* no column twice */
        for (int b = a + 1; b < d->ncols[0]; b++)
            LUX_CHECK_MSG(strcmp(d->cells[0][a], d->cells[0][b]) != 0, "column %s twice",
                          d->cells[0][a]);
    LUX_CHECK_STR_EQ(d->cells[0][0], "trial_id");
    LUX_CHECK_STR_EQ(d->cells[0][1], "training_iteration");
    LUX_CHECK_STR_EQ(d->cells[0][2], "time_total_s");
    int reward = column(d, "episode_reward_mean"), loss = column(d, "info/learner/loss");
    int lr = column(d, "config/lr"), beta = column(d, "config/opt/beta");
    int note = column(d, "config/note"), comment = column(d, "comment");
    /* Row 5: cartpole_00001 iteration 2. */
    LUX_CHECK_STR_EQ(d->cells[5][0], "cartpole_00001");
    LUX_CHECK_STR_EQ(d->cells[5][1], "2");
    LUX_CHECK_STR_EQ(d->cells[5][2], "2.5");
    LUX_CHECK_STR_EQ(d->cells[5][reward], "60");
    LUX_CHECK_STR_EQ(d->cells[5][loss], "0.5");
    LUX_CHECK_NEAR(atof(d->cells[5][lr]), 0.01, 1e-15);
    LUX_CHECK_STR_EQ(d->cells[5][note], ""); /* not in this trial's config */
    /* The awkward values come back byte for byte. */
    LUX_CHECK_STR_EQ(d->cells[7][0], "cartpole_00002");
    LUX_CHECK_STR_EQ(d->cells[7][note], "a, \"quoted\"\nline — température 温度");
    LUX_CHECK_STR_EQ(d->cells[7][comment], "x,y \"z\"\nnext — ünï");
    LUX_CHECK_STR_EQ(d->cells[7][beta], "0.99");
    free_csv(d);

    /* Per trial: one row each, with status and the last result. */
    LUX_CHECK_INT_EQ(
        run_lux(&out, &err,
                (const char *const[]){"export", dir, "--csv", csv, "--per", "trial", NULL}),
        0);
    free(out);
    free(err);
    d = parse_csv(csv);
    LUX_CHECK_INT_EQ(d->row, 1 + 4);
    int status = column(d, "status"), error = column(d, "error");
    reward = column(d, "episode_reward_mean");
    LUX_CHECK_STR_EQ(d->cells[2][status], "RUNNING");
    LUX_CHECK_STR_EQ(d->cells[2][reward], "45");
    LUX_CHECK_STR_EQ(d->cells[4][error], "RuntimeError: diverged\ntraceback...");
    free_csv(d);

    /* No temporary left behind; a bad target fails without a partial file. */
    LUX_CHECK_INT_EQ(
        run_lux(&out, &err,
                (const char *const[]){"export", dir, "--csv", "/nonexistent/dir/x.csv", NULL}),
        1);
    LUX_CHECK_CONTAINS(err, "cannot create /nonexistent/dir/x.csv.tmp");
    free(out);
    free(err);
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"export", dir, NULL}), 2);
    LUX_CHECK_CONTAINS(err, "needs --csv FILE");
    free(out);
    free(err);
}

LUX_TEST(status_and_best_on_a_new_experiment)
{
    const char *dir = lux_test_tmpdir();
    lux_store_t *s = NULL;
    char e[512];
    LUX_CHECK_OK(lux_store_open(dir, &s, e, sizeof e));
    char *out, *err;
    /* Nothing written yet: no experiment row, no trials. */
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"status", dir, NULL}), 0);
    LUX_CHECK_CONTAINS(out, "): no experiment row yet, 0 trials, 0 results\n");
    LUX_CHECK_CONTAINS(out, "Trial status: no trials\n");
    free(out);
    free(err);
    lux_store_experiment_t exp = {.name = "fresh"};
    LUX_CHECK_OK(lux_store_experiment_put(s, &exp));
    lux_store_trial_t t = {.trial_id = "fresh_00000", .config_json = "{\"lr\":0.1}"};
    LUX_CHECK_OK(lux_store_trial_add(s, &t));
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"status", dir, NULL}), 0);
    LUX_CHECK_CONTAINS(out, "Trial status: 1 PENDING");
    LUX_CHECK_CONTAINS(out, "fresh_00000  PENDING");
    LUX_CHECK_CONTAINS(out, "lr"); /* one trial: its params are shown */
    free(out);
    free(err);
    /* No metric named anywhere: best asks for one. */
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"best", dir, NULL}), 2);
    LUX_CHECK_CONTAINS(err, "names no metric; pass --metric");
    free(out);
    free(err);
    /* Export of no results: a header only. */
    char csv[8192];
    snprintf(csv, sizeof csv, "%s/empty.csv", dir);
    LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"export", dir, "--csv", csv, NULL}),
                     0);
    free(out);
    free(err);
    csv_doc_t *d = parse_csv(csv);
    LUX_CHECK_INT_EQ(d->row, 1);
    LUX_CHECK_STR_EQ(d->cells[0][3], "config/lr");
    free_csv(d);
    lux_store_close(&s);
}

/* A writer process storing batches as fast as it can while `lux status`,
 * `lux best` and `lux export` run against the same store: every run
 * succeeds and sees a consistent, growing snapshot. */
LUX_TEST_T(readers_succeed_while_a_writer_process_streams_results, 40)
{
    const char *dir = lux_test_tmpdir();
    build_experiment(dir);
    pid_t pid = fork();
    LUX_CHECK(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed case */
        lux_store_t *s = NULL;
        if (lux_store_open(dir, &s, NULL, 0) != 0)
            _exit(3);
        char m[256];
        for (long it = 4;; it++) {
            if (lux_store_begin(s) != 0)
                _exit(4);
            for (int t = 0; t < 3; t++) {
                char id[32];
                snprintf(id, sizeof id, "cartpole_%05d", t);
                snprintf(m, sizeof m, "{\"episode_reward_mean\":%ld,\"pad\":\"%0150d\"}", it, t);
                if (lux_store_result_add(s, id, it, (double)it, m) != 0)
                    _exit(5);
            }
            if (lux_store_counter_put(s, "iterations", it) != 0 || lux_store_commit(s) != 0)
                _exit(6);
            usleep(2000); /* a busy run: hundreds of results per second */
        }
    }
    char csv[8192];
    snprintf(csv, sizeof csv, "%s/live.csv", dir);
    long last_rows = 0;
    for (int round = 0; round < 4; round++) {
        char *out, *err;
        LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"status", dir, NULL}), 0);
        LUX_CHECK_CONTAINS(out, "Trial status:");
        free(out);
        free(err);
        LUX_CHECK_INT_EQ(run_lux(&out, &err, (const char *const[]){"best", dir, NULL}), 0);
        LUX_CHECK_CONTAINS(out, "trial_id: cartpole_0000");
        free(out);
        free(err);
        LUX_CHECK_INT_EQ(
            run_lux(&out, &err, (const char *const[]){"export", dir, "--csv", csv, NULL}), 0);
        free(out);
        free(err);
        csv_doc_t *d = parse_csv(csv);
        LUX_CHECK_INT(d->row, >=, 11);
        LUX_CHECK_INT(d->row, >=, last_rows);
        last_rows = d->row;
        free_csv(d);
    }
    int status = 0;
    LUX_CHECK_INT_EQ(waitpid(pid, &status, WNOHANG), 0); /* the writer never failed */
    kill(pid, SIGKILL);
    LUX_CHECK_INT_EQ(waitpid(pid, &status, 0), pid);
    LUX_CHECK(WIFSIGNALED(status));
}
