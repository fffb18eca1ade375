/* Tests of the status block (tune/console.c) that the live console and
 * `lux status` print, and that `lux status` prints exactly the block the
 * console renders for the same trials. */
#include "test.h"

#include "alloc.h"
#include "console.h"
#include "error.h"
#include "space.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Renders v into a new string the caller lux_frees. The result goes
 * through a heap cell so that GCC's -Wdangling-pointer does not take the
 * text for a pointer to a local of this function once it is inlined. */
static char *render(const lux_console_view_t *v, size_t width, size_t max_rows)
{
    char **cell = lux_calloc(1, sizeof *cell);
    LUX_CHECK(cell != NULL);
    LUX_CHECK_OK(lux_console_render(v, width, max_rows, cell));
    char *out = *cell;
    lux_free(cell);
    LUX_CHECK(out != NULL);
    return out;
}

/* The table's header line with its columns' words joined by one space
 * ("Trial name status lr iter total time (s)"), into buf. */
static const char *header_words(const char *text, char *buf, size_t len)
{
    const char *h = strstr(text, "Trial name");
    LUX_CHECK_MSG(h != NULL, "no table header in:\n%s", text);
    size_t n = 0;
    int space = 0;
    for (; *h != '\0' && *h != '\n' && n + 1 < len; h++) {
        if (*h == ' ') {
            space = 1;
            continue;
        }
        if (space && n > 0)
            buf[n++] = ' ';
        space = 0;
        buf[n++] = *h;
    }
    buf[n] = '\0';
    return buf;
}

/* Number of lines of text that start with prefix. */
static int count_lines(const char *text, const char *prefix)
{
    int n = 0;
    for (const char *line = text; line != NULL && *line != '\0';) {
        if (strncmp(line, prefix, strlen(prefix)) == 0)
            n++;
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    return n;
}

typedef struct {
    json_t *configs[64];
    lux_console_row_t rows[64];
    size_t n;
} rows_t;

static void add_row(rows_t *r, const char *id, lux_trial_status_t status, const char *config,
                    long iteration, int has_metric, double metric, const char *error)
{
    LUX_CHECK(r->n < 64);
    json_error_t jerr;
    json_t *cfg = config != NULL ? json_loads(config, 0, &jerr) : NULL;
    LUX_CHECK_MSG(config == NULL || cfg != NULL, "bad test config %s: %s", config, jerr.text);
    r->configs[r->n] = cfg;
    r->rows[r->n] = (lux_console_row_t){
        .trial_id = id,
        .status = status,
        .config = cfg,
        .iteration = iteration,
        .time_total_s = (double)iteration + 0.5,
        .has_metric = has_metric,
        .metric = metric,
        .error = error,
    };
    r->n++;
}

static void free_rows(rows_t *r)
{
    for (size_t i = 0; i < r->n; i++)
        json_decref(r->configs[i]);
}

LUX_TEST(varying_config_paths_are_the_columns_without_a_space)
{
    rows_t r = {0};
    add_row(&r, "t_00000", LUX_TRIAL_RUNNING,
            "{\"env\":\"CartPole\",\"lr\":0.1,\"model\":{\"act\":\"relu\",\"hidden\":64,"
            "\"layers\":{\"n\":2}},\"tags\":[1,2]}",
            3, 0, 0, NULL);
    add_row(&r, "t_00001", LUX_TRIAL_RUNNING,
            "{\"env\":\"CartPole\",\"lr\":0.01,\"model\":{\"act\":\"relu\",\"hidden\":128,"
            "\"layers\":{\"n\":2}},\"tags\":[1,2]}",
            2, 0, 0, NULL);
    add_row(&r, "t_00002", LUX_TRIAL_PENDING,
            "{\"env\":\"CartPole\",\"lr\":0.01,\"model\":{\"act\":\"relu\",\"hidden\":64,"
            "\"layers\":{\"n\":3}},\"tags\":[1,2],\"extra\":true}",
            0, 0, 0, NULL);
    lux_console_view_t v = {.name = "x", .dir = "runs/x", .rows = r.rows, .nrows = r.n};
    v.counts[LUX_TRIAL_RUNNING] = 2;
    v.counts[LUX_TRIAL_PENDING] = 1;
    char *out = render(&v, 0, 0), words[512];
    /* Only what varies (a path missing from some rows varies), nested paths
     * in the space's dotted notation, in first-seen order. */
    LUX_CHECK_STR_EQ(header_words(out, words, sizeof words),
                     "Trial name status lr model.hidden model.layers.n extra iter total time (s)");
    LUX_CHECK_CONTAINS(out, "t_00001     RUNNING  0.01           128");
    lux_free(out);

    /* One row: every path of its config. A key with a dot cannot be named
     * in dotted notation and gets no column. */
    rows_t one = {0};
    add_row(&one, "t_00000", LUX_TRIAL_RUNNING,
            "{\"env\":\"CartPole\",\"a.b\":1,\"model\":{\"act\":\"relu\",\"hidden\":64},"
            "\"tags\":[1,2]}",
            1, 0, 0, NULL);
    v.rows = one.rows;
    v.nrows = one.n;
    out = render(&v, 0, 0);
    LUX_CHECK_STR_EQ(header_words(out, words, sizeof words),
                     "Trial name status env model.act model.hidden tags iter total time (s)");
    LUX_CHECK_CONTAINS(out, "CartPole       relu            64  [1,2]");
    lux_free(out);
    free_rows(&one);
    free_rows(&r);
}

LUX_TEST(space_variables_are_the_columns_with_a_space)
{
    json_error_t jerr;
    json_t *spec = json_loads("{\"lr\":{\"loguniform\":[1e-4,1e-2]},\"env\":\"CartPole\","
                              "\"model\":{\"hidden\":{\"choice\":[32,64]},\"act\":\"relu\"}}",
                              0, &jerr);
    LUX_CHECK(spec != NULL);
    lux_space_t *space = NULL;
    char err[256];
    LUX_CHECK_OK(lux_space_from_json(spec, LUX_SPACE_CONFIG, &space, err, sizeof err));
    json_decref(spec);
    rows_t r = {0};
    /* model.hidden is the same in both rows and extra differs: the space,
     * not the rows, decides the columns. */
    add_row(&r, "t_00000", LUX_TRIAL_RUNNING,
            "{\"env\":\"CartPole\",\"lr\":0.001,\"model\":{\"act\":\"relu\",\"hidden\":64},"
            "\"extra\":1}",
            1, 0, 0, NULL);
    add_row(&r, "t_00001", LUX_TRIAL_RUNNING,
            "{\"env\":\"CartPole\",\"lr\":0.002,\"model\":{\"act\":\"relu\",\"hidden\":64},"
            "\"extra\":2}",
            1, 0, 0, NULL);
    lux_console_view_t v = {.name = "x", .space = space, .rows = r.rows, .nrows = r.n};
    v.counts[LUX_TRIAL_RUNNING] = 2;
    char *out = render(&v, 0, 0), words[512];
    LUX_CHECK_STR_EQ(header_words(out, words, sizeof words),
                     "Trial name status lr model.hidden iter total time (s)");
    lux_free(out);
    free_rows(&r);
    lux_space_destroy(&space);
}

LUX_TEST(more_trials_not_shown_counts_from_the_status_counts)
{
    rows_t r = {0};
    add_row(&r, "t_00000", LUX_TRIAL_RUNNING, "{\"lr\":1}", 4, 1, 10, NULL);
    add_row(&r, "t_00001", LUX_TRIAL_RUNNING, "{\"lr\":2}", 4, 1, 11, NULL);
    add_row(&r, "t_00002", LUX_TRIAL_TERMINATED, "{\"lr\":3}", 9, 1, 30, NULL);
    add_row(&r, "t_00003", LUX_TRIAL_TERMINATED, "{\"lr\":4}", 9, 1, 20, NULL);
    add_row(&r, "t_00004", LUX_TRIAL_TERMINATED, "{\"lr\":5}", 9, 1, 25, NULL);
    /* The live runner passes its live trials and the best finished ones;
     * the counts cover all 10,000. */
    lux_console_view_t v = {.name = "big",
                            .dir = "runs/big",
                            .metric = "reward",
                            .mode = LUX_MODE_MAX,
                            .rows = r.rows,
                            .nrows = r.n};
    v.counts[LUX_TRIAL_RUNNING] = 2;
    v.counts[LUX_TRIAL_TERMINATED] = 9998;
    char *out = render(&v, 0, 0);
    LUX_CHECK_CONTAINS(out, "Experiment: big (runs/big), 10000 trials, 0 results");
    LUX_CHECK_CONTAINS(out,
                       "\n... 9995 more trials not shown (lux status runs/big lists them all)\n");
    lux_free(out);
    /* max_rows shows the running ones, then the best finished. */
    out = render(&v, 0, 3);
    LUX_CHECK_CONTAINS(out, "... 9997 more trials not shown (lux status runs/big lists them all)");
    LUX_CHECK_CONTAINS(out, "t_00002     TERMINATED");
    LUX_CHECK(strstr(out, "t_00004") == NULL);
    lux_free(out);
    /* Every trial shown: no line; counts below the rows: never negative. */
    memset(v.counts, 0, sizeof v.counts);
    v.counts[LUX_TRIAL_RUNNING] = 2;
    v.counts[LUX_TRIAL_TERMINATED] = 3;
    out = render(&v, 0, 0);
    LUX_CHECK(strstr(out, "more trials not shown") == NULL);
    lux_free(out);
    v.counts[LUX_TRIAL_TERMINATED] = 0;
    out = render(&v, 0, 0);
    LUX_CHECK(strstr(out, "more trials not shown") == NULL);
    lux_free(out);
    free_rows(&r);
}

LUX_TEST(failed_trials_messages_are_bounded_and_one_line)
{
    rows_t r = {0};
    char ids[25][16], errors[25][128];
    for (int i = 0; i < 25; i++) {
        snprintf(ids[i], sizeof ids[i], "t_%05d", i);
        snprintf(errors[i], sizeof errors[i],
                 "RuntimeError: boom %d with a long explanation of what went wrong "
                 "in the trainable\ntraceback line %d",
                 i, i);
        add_row(&r, ids[i], LUX_TRIAL_ERROR, "{\"lr\":1}", 1, 0, 0, errors[i]);
    }
    add_row(&r, "t_00099", LUX_TRIAL_RUNNING, "{\"lr\":1}", 1, 0, 0, NULL);
    lux_console_view_t v = {.name = "x", .dir = "runs/x", .rows = r.rows, .nrows = r.n};
    v.counts[LUX_TRIAL_ERROR] = 40; /* 15 more failed than the rows hold */
    v.counts[LUX_TRIAL_RUNNING] = 1;
    char *out = render(&v, 0, 0);
    LUX_CHECK_CONTAINS(out, "Number of errored trials: 40\n");
    LUX_CHECK_INT_EQ(count_lines(out, "Trial t_"), 20);
    LUX_CHECK_CONTAINS(out, "\n... and 20 more failed trials\n");
    LUX_CHECK_CONTAINS(out, "Trial t_00000 failed: RuntimeError: boom 0 with a long explanation of "
                            "what went wrong in the trainable ..\n");
    LUX_CHECK(strstr(out, "traceback") == NULL);
    LUX_CHECK(strstr(out, "t_00020 failed") == NULL);
    lux_free(out);
    /* Narrow: the message is cut to the width. */
    char *narrow = render(&v, 50, 0);
    const char *line = strstr(narrow, "Trial t_00003 failed: ");
    LUX_CHECK(line != NULL);
    size_t len = strcspn(line, "\n");
    LUX_CHECK_INT(len, <=, 50);
    LUX_CHECK_INT(len, >=, 40);
    LUX_CHECK(strncmp(line + len - 2, "..", 2) == 0);
    lux_free(narrow);
    /* No failed trials: no lines about them. */
    v.rows = &r.rows[25];
    v.nrows = 1;
    v.counts[LUX_TRIAL_ERROR] = 0;
    out = render(&v, 0, 0);
    LUX_CHECK(strstr(out, "errored") == NULL);
    LUX_CHECK(strstr(out, "failed") == NULL);
    lux_free(out);
    free_rows(&r);
}

LUX_TEST(experiment_line_shows_the_state_when_given)
{
    lux_console_view_t v = {.name = "quickstart", .dir = "runs/quickstart", .num_results = 280};
    v.counts[LUX_TRIAL_TERMINATED] = 16;
    char *out = render(&v, 0, 0);
    LUX_CHECK_CONTAINS(out, "\nExperiment: quickstart (runs/quickstart), 16 trials, 280 results\n");
    lux_free(out);
    v.state = "FINISHED";
    out = render(&v, 0, 0);
    LUX_CHECK_CONTAINS(
        out, "\nExperiment: quickstart (runs/quickstart): FINISHED, 16 trials, 280 results\n");
    lux_free(out);
}

/* ---- `lux status` prints the console's block ------------------------------ */

static const struct {
    const char *id;
    lux_trial_status_t status;
    const char *config;
    long iterations;
    const char *error;
} status_trials[] = {
    {"same_00000", LUX_TRIAL_TERMINATED,
     "{\"env\":\"E\",\"lr\":0.1,\"net\":{\"width\":32,\"act\":\"tanh\"}}", 4, NULL},
    {"same_00001", LUX_TRIAL_TERMINATED,
     "{\"env\":\"E\",\"lr\":0.01,\"net\":{\"width\":64,\"act\":\"tanh\"}}", 3, NULL},
    {"same_00002", LUX_TRIAL_ERROR,
     "{\"env\":\"E\",\"lr\":0.5,\"net\":{\"width\":32,\"act\":\"tanh\"}}", 1,
     "ValueError: nan in the loss\nat step 7"},
    {"same_00003", LUX_TRIAL_RUNNING,
     "{\"env\":\"E\",\"lr\":0.02,\"net\":{\"width\":64,\"act\":\"tanh\"}}", 2, NULL},
    {"same_00004", LUX_TRIAL_PENDING,
     "{\"env\":\"E\",\"lr\":0.03,\"net\":{\"width\":32,\"act\":\"tanh\"}}", 0, NULL},
};
#define NSTATUS_TRIALS (sizeof status_trials / sizeof status_trials[0])

/* The metric of trial t at iteration it (minimised, nested: "info/loss"). */
static double loss_of(size_t t, long it)
{
    return 1.0 / (double)(t + 1) + 1.0 / (double)it;
}

/* A finished experiment (start 1000, end 1083.5) whose stored config has
 * no space (so both sides show the config paths that vary). */
static void build_store(const char *dir)
{
    lux_store_t *s = NULL;
    char err[512];
    LUX_CHECK_OK(lux_store_open(dir, &s, err, sizeof err));
    lux_store_experiment_t exp = {
        .name = "same", .metric = "info/loss", .mode = "min", .start_time = 1000};
    LUX_CHECK_OK(lux_store_experiment_put(s, &exp));
    LUX_CHECK_OK(lux_store_begin(s));
    for (size_t t = 0; t < NSTATUS_TRIALS; t++) {
        lux_store_trial_t tr = {.trial_id = status_trials[t].id,
                                .config_json = status_trials[t].config};
        LUX_CHECK_OK(lux_store_trial_add(s, &tr));
        char m[256] = "";
        for (long it = 1; it <= status_trials[t].iterations; it++) {
            snprintf(m, sizeof m, "{\"info\":{\"loss\":%.17g},\"training_iteration\":%ld}",
                     loss_of(t, it), it);
            LUX_CHECK_OK(lux_store_result_add(s, status_trials[t].id, it, (double)it + 0.25, m));
        }
        tr.status = status_trials[t].status;
        tr.training_iteration = status_trials[t].iterations;
        tr.time_total_s = (double)status_trials[t].iterations + 0.25;
        tr.last_result_json = m[0] ? m : NULL;
        tr.error = status_trials[t].error;
        LUX_CHECK_OK(lux_store_trial_update(s, &tr));
    }
    LUX_CHECK_OK(lux_store_commit(s));
    LUX_CHECK_OK(lux_store_experiment_set_status(s, "FINISHED", 1083.5));
    lux_store_close(&s);
}

/* Checks that two blocks are the same line for line, but for the clock in
 * the "Current time:" line. */
static void check_same_block(const char *status, const char *console)
{
    const char *a = status, *b = console;
    int lines = 0;
    while (*a != '\0' || *b != '\0') {
        const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
        LUX_CHECK_MSG(ea != NULL && eb != NULL, "line %d differs:\nstatus:\n%s\nconsole:\n%s",
                      lines + 1, status, console);
        if (strncmp(a, "Current time: ", 14) == 0) {
            LUX_CHECK_MSG(strncmp(b, "Current time: ", 14) == 0, "line %d: %.*s", lines + 1,
                          (int)(eb - b), b);
            a = strstr(a, ". Total running time:");
            b = strstr(b, ". Total running time:");
            LUX_CHECK(a != NULL && b != NULL);
        }
        LUX_CHECK_MSG(ea - a == eb - b && memcmp(a, b, (size_t)(ea - a)) == 0,
                      "line %d differs:\nstatus:  %.*s\nconsole: %.*s", lines + 1, (int)(ea - a), a,
                      (int)(eb - b), b);
        a = ea + 1;
        b = eb + 1;
        lines++;
    }
    LUX_CHECK_INT(lines, >=, 10);
}

LUX_TEST(status_prints_the_block_the_console_renders)
{
    const char *dir = lux_test_tmpdir();
    build_store(dir);

    /* The view the console would get for these trials. */
    rows_t r = {0};
    long results = 0;
    for (size_t t = 0; t < NSTATUS_TRIALS; t++) {
        long it = status_trials[t].iterations;
        add_row(&r, status_trials[t].id, status_trials[t].status, status_trials[t].config, it,
                it > 0, it > 0 ? loss_of(t, it) : 0, status_trials[t].error);
        r.rows[t].time_total_s = (double)it + 0.25;
        results += it;
    }
    lux_console_view_t v = {
        .name = "same",
        .dir = dir,
        .state = "FINISHED",
        .metric = "info/loss",
        .mode = LUX_MODE_MIN,
        .elapsed_s = 83.5,
        .cpus_total = -1,
        .num_results = results,
        .rows = r.rows,
        .nrows = r.n,
    };
    for (size_t t = 0; t < NSTATUS_TRIALS; t++)
        v.counts[status_trials[t].status]++;

    const char *max_rows[] = {"0", "2"};
    for (size_t k = 0; k < 2; k++) {
        const char *args[] = {"status", dir, "--width", "100", "--max-rows", max_rows[k], NULL};
        char *out = NULL, *err = NULL;
        LUX_CHECK_INT_EQ(lux_test_lux(args, NULL, 20, &out, &err), 0);
        char *want = render(&v, 100, (size_t)atoi(max_rows[k]));
        /* Not vacuous: the block has what both must show. */
        LUX_CHECK_CONTAINS(want, "Experiment: same (");
        LUX_CHECK_CONTAINS(want, "): FINISHED, 5 trials, 10 results\n");
        LUX_CHECK_CONTAINS(want, "Total running time: 1min 23s\n");
        LUX_CHECK_CONTAINS(want, "Current best trial: same_00003 with info/loss=0.75 and params=");
        LUX_CHECK_CONTAINS(want, "lr  net.width  iter");
        LUX_CHECK_CONTAINS(want, "Trial same_00002 failed: ValueError: nan in the loss ..\n");
        if (k == 1)
            LUX_CHECK_CONTAINS(want, "... 3 more trials not shown");
        check_same_block(out, want);
        lux_free(want);
        free(out);
        free(err);
    }
    free_rows(&r);
}
