/*
 * Tests of the trial runner (`lux run`) on the real runtime, with toy
 * trainables registered in this executable (its workers are this executable
 * re-executed, so they know the toys too).
 *
 * The toy trainable: each step adds config.x to an accumulator and reports
 * score = accumulator, so trial results are a pure function of the config
 * and the iteration, checkpoints carry the accumulator, and a resumed run
 * must store exactly the rows of an uninterrupted one. Config keys fail_at /
 * crash_at make iteration N fail (return an error) or crash (abort the
 * worker) once, remembered through a marker file.
 */
#include "test.h"

#include "error.h"
#include "executor.h"
#include "runner.h"
#include "store.h"
#include "trainable.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the toy trainable ------------------------------------------------------ */

typedef struct {
    double x;
    long it, fail_at, crash_at, sleep_us;
    double acc;
    char marker[1024];
} toy_t;

static int toy_setup(const json_t *config, const lux_trial_context_t *ctx, void **state, char *err,
                     size_t errlen)
{
    (void)ctx;
    toy_t *t = calloc(1, sizeof *t);
    const json_t *x = json_object_get(config, "x");
    if (x != NULL && !json_is_number(x)) {
        snprintf(err, errlen, "x must be a number");
        free(t);
        return LUX_ECONFIG;
    }
    t->x = x ? json_number_value(x) : 1.0;
    t->fail_at = (long)json_integer_value(json_object_get(config, "fail_at"));
    t->crash_at = (long)json_integer_value(json_object_get(config, "crash_at"));
    t->sleep_us = (long)(json_number_value(json_object_get(config, "sleep_ms")) * 1000);
    const char *m = json_string_value(json_object_get(config, "marker"));
    snprintf(t->marker, sizeof t->marker, "%s", m ? m : "");
    *state = t;
    return 0;
}

/* Creates the marker file; returns 1 if it did (the first time only). */
static int first_time(const toy_t *t, const char *what)
{
    char path[1200];
    snprintf(path, sizeof path, "%s.%s", t->marker, what);
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

static int toy_step(void *state, json_t **result, char *err, size_t errlen)
{
    toy_t *t = state;
    t->it++;
    t->acc += t->x;
    if (t->fail_at == t->it && first_time(t, "fail")) {
        snprintf(err, errlen, "toy failure at iteration %ld", t->it);
        return LUX_ETASK;
    }
    if (t->crash_at == t->it && first_time(t, "crash"))
        abort();
    if (t->sleep_us > 0)
        usleep((useconds_t)t->sleep_us);
    *result = json_pack("{s:f, s:f, s:I, s:I}", "score", t->acc, "x", t->x, "total_episodes",
                        (json_int_t)t->it * 10, "timesteps_total", (json_int_t)t->it * 100);
    return 0;
}

static int toy_save(void *state, void **bytes, size_t *len, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    toy_t *t = state;
    char *b = malloc(64);
    *len = (size_t)snprintf(b, 64, "%ld %.17g", t->it, t->acc);
    *bytes = b;
    return 0;
}

static int toy_restore(void *state, const void *bytes, size_t len, char *err, size_t errlen)
{
    toy_t *t = state;
    char buf[64];
    snprintf(buf, sizeof buf, "%.*s", (int)(len < 63 ? len : 63), (const char *)bytes);
    if (sscanf(buf, "%ld %lf", &t->it, &t->acc) != 2) {
        snprintf(err, errlen, "bad toy checkpoint");
        return LUX_EINVAL;
    }
    return 0;
}

static void toy_cleanup(void *state)
{
    free(state);
}

static const lux_trainable_class_t toy_class = {
    .name = "toy",
    .description = "test trainable",
    .setup = toy_setup,
    .step = toy_step,
    .save = toy_save,
    .restore = toy_restore,
    .cleanup = toy_cleanup,
};

int lux_test_premain(int argc, char **argv)
{
    lux_trainable_register(&toy_class);
    return lux_executor_worker_main(argc, argv);
}

/* ---- helpers ------------------------------------------------------------------ */

static const char *write_config(const char *name, const char *yaml)
{
    char file[256];
    snprintf(file, sizeof file, "%s.yaml", name);
    return lux_test_write_tmp(file, yaml);
}

/* Runs an experiment through the library with the console silenced,
 * retrying its ERROR trials on a resume when `retry_errored`; *out gets the
 * outcome. Returns lux_run's code. */
static int run_outcome_retry(const char *config_path, const char *resume_dir, int resume,
                             const char *name, int retry_errored, lux_run_outcome_t *out)
{
    FILE *devnull = fopen("/dev/null", "w");
    lux_run_opts_t o = {
        .config_path = config_path,
        .resume_dir = resume_dir,
        .resume = resume,
        .retry_errored = retry_errored,
        .storage = lux_test_tmpdir(),
        .name = name,
        .verbosity = -1,
        .num_cpus = 2,
        .console = devnull,
        .tty = 0,
    };
    int rc = lux_run(&o, out);
    fclose(devnull);
    return rc;
}

static int run_outcome(const char *config_path, const char *resume_dir, int resume,
                       const char *name, lux_run_outcome_t *out)
{
    return run_outcome_retry(config_path, resume_dir, resume, name, 0, out);
}

/* A run's code and outcome summed up as the lux command sums them up in
 * its exit code (cli/cmd_run.c): 0 every trial terminated, 1 a trial in
 * ERROR or a failure, 2 bad input, 130 interrupted. */
static int exit_code_of(int rc, const lux_run_outcome_t *out)
{
    if (rc != 0)
        return out->bad_input ? 2 : 1;
    if (out->end == LUX_RUN_INTERRUPTED)
        return 130;
    return out->num_errored > 0 ? 1 : 0;
}

static int run_quiet(const char *config_path, const char *resume_dir, int resume, const char *name)
{
    lux_run_outcome_t out;
    int rc = run_outcome(config_path, resume_dir, resume, name, &out);
    return exit_code_of(rc, &out);
}

static sqlite3 *open_db(const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/experiment.db", lux_test_tmpdir(), name);
    sqlite3 *db = NULL;
    LUX_CHECK_INT_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    return db;
}

static long query_long(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    LUX_CHECK_MSG(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    long v = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static char *query_text(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    LUX_CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
    char *v = NULL;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
        v = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
}

/* Every stored result as "trial iteration score" lines, in order. */
static char *results_text(const char *name)
{
    sqlite3 *db = open_db(name);
    sqlite3_stmt *st = NULL;
    LUX_CHECK(sqlite3_prepare_v2(db,
                                 "SELECT substr(trial_id, -5), training_iteration,"
                                 " json_extract(metrics, '$.score'), json_extract(metrics, '$.x')"
                                 " FROM results ORDER BY 1, 2",
                                 -1, &st, NULL) == SQLITE_OK);
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    out[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (len + 128 > cap)
            out = realloc(out, cap *= 2);
        len += (size_t)snprintf(out + len, cap - len, "%s %lld %.9g %.9g\n",
                                (const char *)sqlite3_column_text(st, 0),
                                (long long)sqlite3_column_int64(st, 1),
                                sqlite3_column_double(st, 2), sqlite3_column_double(st, 3));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

static int dir_exists(const char *name)
{
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", lux_test_tmpdir(), name);
    return stat(path, &sb) == 0;
}

static const char *basic_yaml = "name: basic\n"
                                "trainable: toy\n"
                                "metric: score\n"
                                "mode: max\n"
                                "num_samples: 3\n"
                                "seed: 5\n"
                                "stop: {training_iteration: 6}\n"
                                "checkpoint: {frequency: 2, at_end: true}\n"
                                "config:\n"
                                "  x: {grid_search: [1, 2]}\n";

/* ---- cases ---------------------------------------------------------------------- */

LUX_TEST_T(runs_every_trial_to_its_stop, 120)
{
    int rc = run_quiet(write_config("basic", basic_yaml), NULL, 0, NULL);
    LUX_CHECK_INT_EQ(rc, 0);
    sqlite3 *db = open_db("basic");
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM trials"), 6);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM trials WHERE status = 'TERMINATED'"), 6);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM results"), 36);
    /* score = x * iteration, for every row. */
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM results WHERE"
                                    " abs(json_extract(metrics, '$.score') -"
                                    " json_extract(metrics, '$.x') * training_iteration) > 1e-9"),
                     0);
    /* Ray Tune's automatic metrics. */
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM results WHERE"
                                    " json_extract(metrics, '$.time_total_s') IS NULL OR"
                                    " json_extract(metrics, '$.trial_id') IS NULL OR"
                                    " json_extract(metrics, '$.training_iteration') !="
                                    " training_iteration"),
                     0);
    /* Checkpoints at 2, 4, 6 for each trial, files on disk. */
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM checkpoints"), 18);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM experiment WHERE status = 'FINISHED'"),
                     1);
    sqlite3_close(db);
    char path[4096];
    snprintf(path, sizeof path, "%s/basic/trials/basic_00003/checkpoint_000006/checkpoint.bin",
             lux_test_tmpdir());
    struct stat sb;
    LUX_CHECK_MSG(stat(path, &sb) == 0, "missing %s", path);
}

LUX_TEST_T(bad_config_creates_nothing, 60)
{
    const char *yaml = "name: bad\ntrainable: toy\nmetric: score\nnum_sample: 3\n";
    LUX_CHECK_INT_EQ(run_quiet(write_config("bad", yaml), NULL, 0, NULL), 2);
    LUX_CHECK(!dir_exists("bad"));
    const char *yaml2 = "name: bad2\ntrainable: toyy\n";
    LUX_CHECK_INT_EQ(run_quiet(write_config("bad2", yaml2), NULL, 0, NULL), 2);
    LUX_CHECK(!dir_exists("bad2"));
    /* More CPUs per trial than the node has: refused before anything is written. */
    const char *yaml3 = "name: big\ntrainable: toy\nresources_per_trial: {cpu: 64}\n";
    LUX_CHECK_INT_EQ(run_quiet(write_config("big", yaml3), NULL, 0, NULL), 2);
    LUX_CHECK(!dir_exists("big"));
}

LUX_TEST_T(existing_experiment_is_not_overwritten, 120)
{
    const char *path = write_config("basic", basic_yaml);
    LUX_CHECK_INT_EQ(run_quiet(path, NULL, 0, NULL), 0);
    char *before = results_text("basic");
    LUX_CHECK_INT_EQ(run_quiet(path, NULL, 0, NULL), 2);
    char *after = results_text("basic");
    LUX_CHECK_STR_EQ(before, after);
    free(before);
    free(after);
    /* --resume of a finished experiment changes nothing either. */
    LUX_CHECK_INT_EQ(run_quiet(path, NULL, 1, NULL), 0);
    after = results_text("basic");
    sqlite3 *db = open_db("basic");
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM results"), 36);
    sqlite3_close(db);
    free(after);
}

static char *failing_yaml(const char *name, long max_failures, const char *key)
{
    static char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "name: %s\ntrainable: toy\nmetric: score\nmode: max\nnum_samples: 1\n"
             "max_failures: %ld\nstop: {training_iteration: 8}\n"
             "checkpoint: {frequency: 2}\n"
             "config:\n  x: 3\n  %s: 5\n  marker: %s/%s-marker\n",
             name, max_failures, key, lux_test_tmpdir(), name);
    return yaml;
}

LUX_TEST_T(failed_trial_restarts_from_checkpoint, 120)
{
    const char *path = write_config("retry", failing_yaml("retry", 1, "fail_at"));
    LUX_CHECK_INT_EQ(run_quiet(path, NULL, 0, NULL), 0);
    sqlite3 *db = open_db("retry");
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM trials WHERE status = 'TERMINATED' AND"
                                    " num_failures = 1"),
                     1);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM results"), 8);
    /* Resumed from the checkpoint at 4, so iteration 8 still has score 24. */
    LUX_CHECK_INT_EQ(query_long(db, "SELECT json_extract(metrics, '$.score') FROM results"
                                    " WHERE training_iteration = 8"),
                     24);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM decisions WHERE action = 'restart'"), 1);
    sqlite3_close(db);
}

LUX_TEST_T(failure_beyond_max_failures_is_error, 120)
{
    const char *path = write_config("err", failing_yaml("err", 0, "fail_at"));
    lux_run_outcome_t out;
    LUX_CHECK_INT_EQ(run_outcome(path, NULL, 0, NULL, &out), 0);
    LUX_CHECK_INT_EQ(out.end, LUX_RUN_FINISHED);
    LUX_CHECK_INT_EQ(out.num_errored, 1);
    LUX_CHECK_STR_EQ(out.error, "");
    sqlite3 *db = open_db("err");
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM trials WHERE status = 'ERROR' AND"
                                    " error LIKE '%toy failure at iteration 5%'"),
                     1);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM results"), 4);
    sqlite3_close(db);
}

LUX_TEST_T(crashed_worker_is_replaced, 120)
{
    const char *path = write_config("crash", failing_yaml("crash", 2, "crash_at"));
    LUX_CHECK_INT_EQ(run_quiet(path, NULL, 0, NULL), 0);
    sqlite3 *db = open_db("crash");
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM trials WHERE status = 'TERMINATED' AND"
                                    " num_failures = 1"),
                     1);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM results"), 8);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT json_extract(metrics, '$.score') FROM results"
                                    " WHERE training_iteration = 8"),
                     24);
    sqlite3_close(db);
}

LUX_TEST_T(asha_stops_are_recorded, 120)
{
    const char *yaml = "name: asha\ntrainable: toy\nmetric: score\nmode: max\nnum_samples: 8\n"
                       "seed: 3\nstop: {training_iteration: 16}\n"
                       "scheduler: {type: asha, max_t: 16, grace_period: 2, reduction_factor: 2}\n"
                       "config:\n  x: {uniform: [0, 1]}\n";
    LUX_CHECK_INT_EQ(run_quiet(write_config("asha", yaml), NULL, 0, NULL), 0);
    sqlite3 *db = open_db("asha");
    long stops = query_long(db, "SELECT count(*) FROM decisions WHERE action = 'stop'");
    LUX_CHECK_INT(stops, >=, 3);
    /* A stopped trial ends at a rung: fewer results than max_t. */
    LUX_CHECK_INT(query_long(db, "SELECT count(*) FROM trials WHERE training_iteration < 16"), >=,
                  3);
    /* The best trial (largest x) ran to the end. */
    LUX_CHECK_INT_EQ(query_long(db, "SELECT training_iteration FROM trials ORDER BY"
                                    " json_extract(config, '$.x') DESC LIMIT 1"),
                     16);
    sqlite3_close(db);
}

LUX_TEST_T(pbt_exploits_clone_checkpoints, 180)
{
    const char *yaml =
        "name: pbt\ntrainable: toy\nmetric: score\nmode: max\nnum_samples: 4\nseed: 9\n"
        "stop: {training_iteration: 30}\n"
        "scheduler:\n  type: pbt\n  time_attr: training_iteration\n"
        "  perturbation_interval: 3\n"
        "  hyperparam_mutations:\n    x: {uniform: [0, 10]}\n"
        "config:\n  x: {uniform: [0, 10]}\n  sleep_ms: 5\n";
    LUX_CHECK_INT_EQ(run_quiet(write_config("pbt", yaml), NULL, 0, NULL), 0);
    sqlite3 *db = open_db("pbt");
    LUX_CHECK_INT(query_long(db, "SELECT count(*) FROM decisions WHERE action = 'exploit'"), >=, 1);
    LUX_CHECK_INT(query_long(db, "SELECT count(*) FROM trials WHERE parent_trial_id IS NOT NULL"),
                  >=, 1);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM trials WHERE status = 'TERMINATED'"), 4);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM results"), 120);
    /* A cloned trial continues from the donor's accumulator: somewhere a
     * score jumps by more than the trial's own x. */
    LUX_CHECK_INT(query_long(db, "SELECT count(*) FROM results a JOIN results b ON"
                                 " a.trial_id = b.trial_id AND"
                                 " b.training_iteration = a.training_iteration + 1 WHERE"
                                 " abs(json_extract(b.metrics, '$.score') -"
                                 " json_extract(a.metrics, '$.score') -"
                                 " json_extract(b.metrics, '$.x')) > 1e-6"),
                  >=, 1);
    sqlite3_close(db);
}

static const char *long_yaml = "name: long\ntrainable: toy\nmetric: score\nmode: max\n"
                               "num_samples: 4\nseed: 11\nstop: {training_iteration: 30}\n"
                               "checkpoint: {frequency: 4, num_to_keep: 1}\n"
                               "config:\n  x: {uniform: [0, 5]}\n  sleep_ms: 10\n";

/* Pids of the direct children of `parent` (the driver's workers). */
static size_t children_of(pid_t parent, pid_t *pids, size_t max)
{
    size_t n = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL && n < max) {
        int p = atoi(e->d_name);
        if (p <= 1)
            continue;
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        const char *close_paren = strrchr(buf, ')');
        int ppid = 0;
        char state;
        if (close_paren && sscanf(close_paren + 1, " %c %d", &state, &ppid) == 2 && ppid == parent)
            pids[n++] = p;
    }
    if (d != NULL)
        closedir(d);
    return n;
}

/* 1 while pid exists and is not a zombie (a dead process that nobody has
 * reaped yet: in some containers pid 1 never reaps orphans). */
static int process_running(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    const char *close_paren = strrchr(buf, ')');
    char state = 'X';
    if (close_paren)
        sscanf(close_paren + 1, " %c", &state);
    return state != 'Z' && state != 'X';
}

/* Runs the experiment in a child process and kills it after `after_s` with
 * `sig`; returns the child's wait status. *orphans (may be NULL) counts the
 * child's workers still alive 0.5 s after the kill, *workers how many it
 * had. */
static void request_stop(int sig)
{
    lux_run_request_stop(sig);
}

/* Rows of `table` in experiment `name`'s store, or 0 before the store
 * exists or while it cannot be read. */
static long stored_rows(const char *name, const char *table)
{
    char path[4096], sql[128];
    snprintf(path, sizeof path, "%s/%s/experiment.db", lux_test_tmpdir(), name);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    sqlite3 *db = NULL;
    long n = 0;
    if (access(path, F_OK) == 0 &&
        sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
}

/* Runs (or resumes) experiment `name` in a child and sends it `sig`
 * `after_s` seconds later. A first run is given `after_s` from the moment
 * its store holds its trials, not from the fork: a loaded machine, or a
 * sanitizer build, can take longer than that to start, and a kill before
 * the store exists leaves nothing to resume. */
static int run_and_kill(const char *path, const char *name, double after_s, int sig, int resume,
                        int *workers, int *orphans)
{
    fflush(NULL);
    pid_t pid = fork();
    LUX_CHECK(pid >= 0);
    if (pid == 0) {
        /* What the lux command does: its handler asks the run to stop. */
        struct sigaction sa = {0};
        sa.sa_handler = request_stop;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        _exit(run_quiet(path, NULL, resume, name));
    }
    int status = 0, ended = 0;
    double give_up = lux_test_now() + 60;
    while (!resume && !ended && stored_rows(name, "trials") == 0 && lux_test_now() < give_up) {
        ended = waitpid(pid, &status, WNOHANG) == pid;
        usleep(10000);
    }
    size_t nkids = 0;
    pid_t kids[64];
    if (!ended) {
        usleep((useconds_t)(after_s * 1e6));
        nkids = children_of(pid, kids, 64);
        kill(pid, sig);
        waitpid(pid, &status, 0);
    }
    if (workers)
        *workers = (int)nkids;
    if (orphans) {
        usleep(500000);
        int alive = 0;
        for (size_t i = 0; i < nkids; i++)
            alive += process_running(kids[i]);
        *orphans = alive;
    }
    return status;
}

/* As long_yaml with twice the iterations: enough work left after each kill
 * that the next kill still lands mid-run on a loaded machine. */
static const char *longer_yaml = "name: long\ntrainable: toy\nmetric: score\nmode: max\n"
                                 "num_samples: 4\nseed: 11\nstop: {training_iteration: 60}\n"
                                 "checkpoint: {frequency: 4, num_to_keep: 1}\n"
                                 "config:\n  x: {uniform: [0, 5]}\n  sleep_ms: 10\n";

LUX_TEST_T(resume_after_sigkill_matches_uninterrupted, 300)
{
    const char *path = write_config("long", longer_yaml);
    LUX_CHECK_INT_EQ(run_quiet(path, NULL, 0, "reference"), 0);
    char *reference = results_text("reference");
    /* Kill the driver at several points, resuming each time; none of its
     * workers may outlive it. */
    const double points[] = {0.15, 0.35, 0.25, 0.5};
    int kills = 0, workers_seen = 0;
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
        int workers = 0, orphans = 0;
        int st = run_and_kill(path, "long", points[i], SIGKILL, i > 0, &workers, &orphans);
        if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL))
            break; /* it finished before the kill */
        kills++;
        workers_seen += workers;
        LUX_CHECK_INT_EQ(orphans, 0);
    }
    LUX_CHECK_INT(kills, >=, 2);
    LUX_CHECK_INT(workers_seen, >=, 1);
    LUX_CHECK_INT_EQ(run_quiet(path, NULL, 1, "long"), 0);
    char *resumed = results_text("long");
    /* Row by row: the same trials, iterations, scores and configs. */
    LUX_CHECK_STR_EQ(resumed, reference);
    sqlite3 *db = open_db("long");
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM trials WHERE status = 'TERMINATED'"), 4);
    char *ok = query_text(db, "PRAGMA integrity_check");
    LUX_CHECK_STR_EQ(ok, "ok");
    free(ok);
    sqlite3_close(db);
    free(reference);
    free(resumed);
}

/* ASHA keeps its rung values in a journal and only live trials in its
 * state: a run killed at several points and resumed makes the same stops
 * (hence stores the same rows) as an uninterrupted one, and every recorded
 * rung value is in the journal exactly once. One trial at a time, so the
 * reference itself is deterministic. */
static const char *asha_long_yaml =
    "name: along\ntrainable: toy\nmetric: score\nmode: max\nnum_samples: 10\nseed: 5\n"
    "max_concurrent_trials: 1\nstop: {training_iteration: 16}\n"
    "checkpoint: {frequency: 2, num_to_keep: 1}\n"
    "scheduler: {type: asha, max_t: 16, grace_period: 2, reduction_factor: 2}\n"
    "config:\n  x: {uniform: [0, 5]}\n  sleep_ms: 10\n";

LUX_TEST_T(resume_after_sigkill_under_asha_matches_uninterrupted, 300)
{
    const char *path = write_config("along", asha_long_yaml);
    LUX_CHECK_INT_EQ(run_quiet(path, NULL, 0, "asha_reference"), 0);
    char *reference = results_text("asha_reference");
    sqlite3 *db = open_db("asha_reference");
    long stops = query_long(db, "SELECT count(*) FROM decisions WHERE action = 'stop'");
    sqlite3_close(db);
    LUX_CHECK_INT(stops, >=, 2);
    const double points[] = {0.3, 0.45, 0.6, 0.4};
    int kills = 0;
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
        int st = run_and_kill(path, "along", points[i], SIGKILL, i > 0, NULL, NULL);
        if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL))
            break;
        kills++;
    }
    LUX_CHECK_INT(kills, >=, 2);
    LUX_CHECK_INT_EQ(run_quiet(path, NULL, 1, "along"), 0);
    char *resumed = results_text("along");
    LUX_CHECK_STR_EQ(resumed, reference);
    db = open_db("along");
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM decisions WHERE action = 'stop'"), stops);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM journal WHERE source = 'scheduler'"),
                     query_long(db, "SELECT count(*) FROM decisions WHERE action = 'rung'"));
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM trials WHERE status = 'TERMINATED'"), 10);
    sqlite3_close(db);
    free(reference);
    free(resumed);
}

LUX_TEST_T(sigint_checkpoints_and_stops, 180)
{
    const char *path = write_config("long", long_yaml);
    int st = run_and_kill(path, "long", 0.4, SIGINT, 0, NULL, NULL);
    LUX_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 130, "exit status %d", st);
    sqlite3 *db = open_db("long");
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM experiment WHERE status = 'INTERRUPTED'"),
                     1);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM trials WHERE status = 'RUNNING'"), 0);
    /* Interrupted trials were checkpointed at their last result. */
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM trials WHERE status = 'PAUSED' AND"
                                    " restore_checkpoint NOT LIKE '%' || printf('%06d',"
                                    " training_iteration)"),
                     0);
    sqlite3_close(db);
    LUX_CHECK_INT_EQ(run_quiet(path, NULL, 1, "long"), 0);
    db = open_db("long");
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM results"), 120);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM results WHERE"
                                    " abs(json_extract(metrics, '$.score') -"
                                    " json_extract(metrics, '$.x') * training_iteration) > 1e-6"),
                     0);
    sqlite3_close(db);
}

LUX_TEST_T(resume_refuses_edited_search_space, 120)
{
    const char *path = write_config("basic", basic_yaml);
    LUX_CHECK_INT_EQ(run_quiet(path, NULL, 0, NULL), 0);
    /* More samples: allowed, and the new trials run. */
    const char *more = "name: basic\ntrainable: toy\nmetric: score\nmode: max\nnum_samples: 4\n"
                       "seed: 5\nstop: {training_iteration: 6}\n"
                       "checkpoint: {frequency: 2, at_end: true}\n"
                       "config:\n  x: {grid_search: [1, 2]}\n";
    LUX_CHECK_INT_EQ(run_quiet(write_config("basic", more), NULL, 1, NULL), 0);
    sqlite3 *db = open_db("basic");
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM trials WHERE status = 'TERMINATED'"), 8);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM results"), 48);
    sqlite3_close(db);
    /* A different search space: refused, nothing changes. */
    const char *edited = "name: basic\ntrainable: toy\nmetric: score\nmode: max\nnum_samples: 4\n"
                         "seed: 5\nstop: {training_iteration: 6}\n"
                         "checkpoint: {frequency: 2, at_end: true}\n"
                         "config:\n  x: {grid_search: [1, 3]}\n";
    char *before = results_text("basic");
    LUX_CHECK_INT_EQ(run_quiet(write_config("basic", edited), NULL, 1, NULL), 2);
    char *after = results_text("basic");
    LUX_CHECK_STR_EQ(before, after);
    free(before);
    free(after);
}

/* Runs fn with this process's stderr sent to a file; returns what was
 * written there (heap). */
static char *stderr_of(void (*fn)(void *), void *arg)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/stderr.txt", lux_test_tmpdir());
    fflush(stderr);
    int saved = dup(2);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    LUX_CHECK(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    fn(arg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    FILE *f = fopen(path, "r");
    LUX_CHECK(f != NULL);
    char *text = calloc(1, 1 << 16);
    size_t n = fread(text, 1, (1 << 16) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

typedef struct {
    const char *path, *name;
    int resume;
    int rc;
    lux_run_outcome_t out;
} run_call_t;

static void run_call(void *arg)
{
    run_call_t *c = arg;
    c->rc = run_outcome(c->path, NULL, c->resume, c->name, &c->out);
}

LUX_TEST_T(library_reports_failures_instead_of_printing, 120)
{
    /* A bad config: the code, the message and "bad input"; stderr untouched. */
    const char *yaml = "name: bad\ntrainable: toy\nmetric: score\nnum_sample: 3\n";
    run_call_t c = {.path = write_config("bad", yaml)};
    char *err = stderr_of(run_call, &c);
    LUX_CHECK_STR_EQ(err, "");
    free(err);
    LUX_CHECK_INT_EQ(c.rc, LUX_ECONFIG);
    LUX_CHECK(c.out.bad_input);
    LUX_CHECK_INT_EQ(c.out.end, LUX_RUN_NOT_STARTED);
    LUX_CHECK_CONTAINS(c.out.error, "bad.yaml:4:1: unknown key 'num_sample'");
    LUX_CHECK(!dir_exists("bad"));

    /* Neither a file nor a directory. */
    lux_run_opts_t none = {.storage = lux_test_tmpdir()};
    LUX_CHECK_INT_EQ(lux_run(&none, &c.out), LUX_EINVAL);
    LUX_CHECK(c.out.bad_input);
    LUX_CHECK_STR_EQ(c.out.error, "give an experiment file or --resume DIR");

    /* An experiment that is already there, and one that is not. */
    c = (run_call_t){.path = write_config("basic", basic_yaml)};
    run_call(&c);
    LUX_CHECK_INT_EQ(c.rc, 0);
    LUX_CHECK_INT_EQ(c.out.end, LUX_RUN_FINISHED);
    LUX_CHECK_INT_EQ(c.out.num_errored, 0);
    char dir[4096], want[8192];
    snprintf(dir, sizeof dir, "%s/basic", lux_test_tmpdir());
    LUX_CHECK_STR_EQ(c.out.dir, dir);
    err = stderr_of(run_call, &c);
    LUX_CHECK_STR_EQ(err, "");
    free(err);
    LUX_CHECK_INT_EQ(c.rc, LUX_EEXIST);
    LUX_CHECK(c.out.bad_input);
    snprintf(want, sizeof want,
             "%s already holds an experiment; continue it with --resume, or start another with "
             "--name NAME",
             dir);
    LUX_CHECK_STR_EQ(c.out.error, want);
    c = (run_call_t){.path = c.path, .name = "never", .resume = 1};
    run_call(&c);
    LUX_CHECK_INT_EQ(c.rc, LUX_ENOENT);
    LUX_CHECK(c.out.bad_input);
    LUX_CHECK_CONTAINS(c.out.error, "holds no experiment to resume (no experiment.db); run it "
                                    "without --resume");
}

LUX_TEST_T(stop_request_interrupts_and_is_used_up, 120)
{
    /* A request made before the run starts stops it as soon as its loop
     * runs: nothing is lost, the experiment is INTERRUPTED, and the library
     * says so through the outcome, not on stderr. */
    lux_run_request_stop(SIGTERM);
    run_call_t c = {.path = write_config("long", long_yaml)};
    char *err = stderr_of(run_call, &c);
    LUX_CHECK_STR_EQ(err, "");
    free(err);
    LUX_CHECK_INT_EQ(c.rc, 0);
    LUX_CHECK_INT_EQ(c.out.end, LUX_RUN_INTERRUPTED);
    LUX_CHECK(!c.out.bad_input);
    sqlite3 *db = open_db("long");
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM experiment WHERE status = 'INTERRUPTED'"),
                     1);
    sqlite3_close(db);
    /* The request was used up: the resumed run goes to the end. */
    c = (run_call_t){.path = c.path, .resume = 1};
    run_call(&c);
    LUX_CHECK_INT_EQ(c.rc, 0);
    LUX_CHECK_INT_EQ(c.out.end, LUX_RUN_FINISHED);
    db = open_db("long");
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM results"), 120);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM experiment WHERE status = 'FINISHED'"),
                     1);
    sqlite3_close(db);
}

LUX_TEST_T(time_budget_ends_the_run_as_budget_used_up, 120)
{
    const char *yaml = "name: budget\ntrainable: toy\nmetric: score\nmode: max\n"
                       "num_samples: 4\nseed: 3\nstop: {training_iteration: 100000}\n"
                       "time_budget_s: 1\nconfig:\n  x: 1\n  sleep_ms: 10\n";
    lux_run_outcome_t out;
    LUX_CHECK_INT_EQ(run_outcome(write_config("budget", yaml), NULL, 0, NULL, &out), 0);
    LUX_CHECK_INT_EQ(out.end, LUX_RUN_BUDGET_USED_UP);
    LUX_CHECK_INT_EQ(out.num_errored, 0);
    /* Two ran (2 CPUs) and were checkpointed and paused, two never started
     * (trials are created when they start). */
    LUX_CHECK_INT_EQ(out.num_unfinished, 4);
    LUX_CHECK_DBL(out.time_budget_s, ==, 1);
    sqlite3 *db = open_db("budget");
    LUX_CHECK_INT_EQ(
        query_long(db, "SELECT count(*) FROM experiment WHERE status = 'BUDGET_USED_UP'"), 1);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM trials WHERE status = 'PAUSED' AND"
                                    " restore_checkpoint LIKE '%' || printf('%06d',"
                                    " training_iteration)"),
                     2);
    LUX_CHECK_INT(query_long(db, "SELECT count(*) FROM results"), <, 4 * 1000);
    sqlite3_close(db);
}

LUX_TEST_T(console_prints_plain_lines_when_not_a_terminal, 120)
{
    char out_path[4096];
    snprintf(out_path, sizeof out_path, "%s/console.txt", lux_test_tmpdir());
    FILE *out = fopen(out_path, "w");
    lux_run_opts_t o = {
        .config_path = write_config("basic", basic_yaml),
        .storage = lux_test_tmpdir(),
        .verbosity = 1,
        .num_cpus = 2,
        .console = out,
        .tty = -1,
    };
    lux_run_outcome_t outcome;
    LUX_CHECK_INT_EQ(lux_run(&o, &outcome), 0);
    LUX_CHECK_INT_EQ(outcome.end, LUX_RUN_FINISHED);
    fclose(out);
    FILE *in = fopen(out_path, "r");
    char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, in);
    buf[n] = '\0';
    fclose(in);
    LUX_CHECK_CONTAINS(buf, "Trial status: 6 TERMINATED");
    LUX_CHECK_CONTAINS(buf, "Current best trial: basic_0000");
    LUX_CHECK_CONTAINS(buf, "Logical resource usage:");
    LUX_CHECK_CONTAINS(buf, "basic_00005 started");
    LUX_CHECK(strchr(buf, '\033') == NULL); /* no terminal control codes */
}

/* A fast trainable gets many steps per host call; what is stored must not
 * show it: results 1..N exactly, checkpoints holding the state of their own
 * iteration, ASHA-stopped trials ending at their rung, and a failure inside a
 * batch losing none of the results before it. */
LUX_TEST_T(batched_steps_store_exactly_what_one_step_calls_would, 180)
{
    const char *yaml = "name: fast\ntrainable: toy\nmetric: score\nmode: max\nnum_samples: 3\n"
                       "seed: 4\nstop: {training_iteration: 50}\nmax_failures: 1\n"
                       "checkpoint: {frequency: 7}\n"
                       "config:\n  x: {uniform: [1, 2]}\n  fail_at: 12\n";
    char buf[4096];
    snprintf(buf, sizeof buf, "%s  marker: %s/fast-marker\n", yaml, lux_test_tmpdir());
    LUX_CHECK_INT_EQ(run_quiet(write_config("fast", buf), NULL, 0, NULL), 0);
    sqlite3 *db = open_db("fast");
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM results"), 150);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM results WHERE"
                                    " abs(json_extract(metrics, '$.score') -"
                                    " json_extract(metrics, '$.x') * training_iteration) > 1e-9"),
                     0);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT max(training_iteration) FROM results"), 50);
    /* One trial failed at 12 (the marker is shared) and restarted from 7. */
    LUX_CHECK_INT_EQ(query_long(db, "SELECT sum(num_failures) FROM trials"), 1);
    /* Checkpoints at multiples of 7 only, each holding its own iteration. */
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM checkpoints WHERE"
                                    " training_iteration % 7 != 0"),
                     0);
    sqlite3_stmt *st = NULL;
    LUX_CHECK(sqlite3_prepare_v2(db, "SELECT path, training_iteration FROM checkpoints", -1, &st,
                                 NULL) == SQLITE_OK);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char path[4300], data[128] = "";
        snprintf(path, sizeof path, "%s/fast/%s/checkpoint.bin", lux_test_tmpdir(),
                 (const char *)sqlite3_column_text(st, 0));
        FILE *f = fopen(path, "r");
        LUX_CHECK_MSG(f != NULL, "missing %s", path);
        size_t len = fread(data, 1, sizeof data - 1, f);
        fclose(f);
        data[len] = '\0';
        LUX_CHECK_INT_EQ(atol(data), sqlite3_column_int64(st, 1));
        n++;
    }
    sqlite3_finalize(st);
    LUX_CHECK_INT(n, >=, 21);
    sqlite3_close(db);

    /* ASHA: a stopped trial's last stored result is its rung. */
    const char *asha = "name: fasha\ntrainable: toy\nmetric: score\nmode: max\nnum_samples: 8\n"
                       "seed: 3\nstop: {training_iteration: 40}\n"
                       "scheduler: {type: asha, max_t: 40, grace_period: 5, reduction_factor: 2}\n"
                       "config:\n  x: {uniform: [0, 1]}\n";
    LUX_CHECK_INT_EQ(run_quiet(write_config("fasha", asha), NULL, 0, NULL), 0);
    db = open_db("fasha");
    LUX_CHECK_INT(query_long(db, "SELECT count(*) FROM trials WHERE training_iteration < 40"), >=,
                  3);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM trials WHERE training_iteration NOT IN"
                                    " (5, 10, 20, 40)"),
                     0);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM trials t WHERE training_iteration !="
                                    " (SELECT count(*) FROM results r WHERE r.trial_id ="
                                    " t.trial_id)"),
                     0);
    sqlite3_close(db);
}

/* Bundles (the trainer's, then one per rollout worker) run each trial in a
 * placement group; a trial needing 1.01 CPUs runs one at a time on 2 CPUs;
 * the stored trials name their resources. */
LUX_TEST_T(bundles_run_in_placement_groups, 120)
{
    const char *yaml = "name: pg\ntrainable: toy\nmetric: score\nmode: max\nnum_samples: 3\n"
                       "stop: {training_iteration: 4}\n"
                       "resources_per_trial:\n  bundles: [{CPU: 0.01}, {CPU: 1}]\n"
                       "  strategy: PACK\n"
                       "config:\n  x: {uniform: [0, 1]}\n  sleep_ms: 2\n";
    LUX_CHECK_INT_EQ(run_quiet(write_config("pg", yaml), NULL, 0, NULL), 0);
    sqlite3 *db = open_db("pg");
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM trials WHERE status = 'TERMINATED'"), 3);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM results"), 12);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM trials WHERE"
                                    " json_array_length(resources, '$.bundles') = 2 AND"
                                    " json_extract(resources, '$.bundles[1].CPU') = 1"),
                     3);
    /* One at a time: no two trials' runs overlap. */
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM trials a JOIN trials b ON"
                                    " a.trial_id < b.trial_id WHERE a.start_time < b.end_time AND"
                                    " b.start_time < a.end_time"),
                     0);
    sqlite3_close(db);
}

/* PBT with one slot for a population of four: the population time-shares
 * (each trial runs to its next perturbation point, pauses, and the trial
 * furthest behind runs), so trials meet at perturbation points and the
 * lower quantile exploits, as with Ray's PBT on fewer resources than
 * trials; every trial still reaches the stop. */
LUX_TEST_T(pbt_time_shares_one_slot, 180)
{
    const char *yaml =
        "name: pbt1\ntrainable: toy\nmetric: score\nmode: max\nnum_samples: 4\nseed: 9\n"
        "max_concurrent_trials: 1\nstop: {training_iteration: 24}\n"
        "scheduler:\n  type: pbt\n  time_attr: training_iteration\n"
        "  perturbation_interval: 4\n"
        "  hyperparam_mutations:\n    x: {uniform: [0, 10]}\n"
        "config:\n  x: {uniform: [0, 10]}\n";
    LUX_CHECK_INT_EQ(run_quiet(write_config("pbt1", yaml), NULL, 0, NULL), 0);
    sqlite3 *db = open_db("pbt1");
    LUX_CHECK_INT(query_long(db, "SELECT count(*) FROM decisions WHERE action = 'pause'"), >=, 4);
    LUX_CHECK_INT(query_long(db, "SELECT count(*) FROM decisions WHERE action = 'exploit'"), >=, 1);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM trials WHERE status = 'TERMINATED' AND"
                                    " training_iteration = 24"),
                     4);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM results"), 4 * 24);
    /* Time-shared: the last trial started before the first one finished. */
    LUX_CHECK_INT_EQ(query_long(db, "SELECT (SELECT min(stored_time) FROM results WHERE"
                                    " trial_id LIKE '%_00003') < (SELECT max(stored_time) FROM"
                                    " results WHERE trial_id LIKE '%_00000')"),
                     1);
    sqlite3_close(db);
}

/* ---- failed trials and --resume ----------------------------------------------- */

/* As run_quiet, with --retry-errored when `retry_errored`. */
static int run_retry(const char *config_path, int resume, const char *name, int retry_errored)
{
    lux_run_outcome_t out;
    int rc = run_outcome_retry(config_path, NULL, resume, name, retry_errored, &out);
    return exit_code_of(rc, &out);
}

/* The stored results of experiment `name`, or -1 while it has no store. */
static long count_stored_results(const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/experiment.db", lux_test_tmpdir(), name);
    sqlite3 *db = NULL;
    long n = -1;
    if (access(path, F_OK) == 0 &&
        sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM results", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
}

static const char *killed_yaml = "name: killed\ntrainable: toy\nmetric: score\nmode: max\n"
                                 "num_samples: 3\nseed: 7\nmax_concurrent_trials: 1\n"
                                 "stop: {training_iteration: 40}\n"
                                 "checkpoint: {frequency: 5, num_to_keep: 2}\n"
                                 "config:\n  x: {uniform: [0, 5]}\n  sleep_ms: 10\n";

/* A trial whose worker is SIGKILLed from outside (the driver lives on) ends
 * in ERROR as an infrastructure failure; --resume restarts it from its
 * latest checkpoint, and the store ends with exactly the rows of an
 * uninterrupted run (one trial at a time, so that the reference is
 * deterministic). */
LUX_TEST_T(trial_killed_from_outside_is_resumed_from_its_checkpoint, 300)
{
    const char *path = write_config("killed", killed_yaml);
    LUX_CHECK_INT_EQ(run_retry(path, 0, "killed_reference", 0), 0);
    char *reference = results_text("killed_reference");

    fflush(NULL);
    pid_t driver = fork();
    LUX_CHECK(driver >= 0);
    if (driver == 0)
        _exit(run_retry(path, 0, "killed", 0));
    /* Trial 1 is mid-run once 50 results are stored: kill every worker. */
    int killed = 0;
    for (int i = 0; i < 60000 && !killed; i++) {
        if (count_stored_results("killed") >= 50) {
            pid_t kids[64];
            size_t n = children_of(driver, kids, 64);
            for (size_t j = 0; j < n; j++)
                killed += kill(kids[j], SIGKILL) == 0;
        }
        if (!killed)
            usleep(5000);
    }
    int status;
    LUX_CHECK(waitpid(driver, &status, 0) == driver);
    LUX_CHECK_INT(killed, >=, 1);
    LUX_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 1, "wait status %d", status);
    sqlite3 *db = open_db("killed");
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM trials WHERE status = 'ERROR'"), 1);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM trials t JOIN trial_failures f USING"
                                    " (trial_id) WHERE t.status = 'ERROR' AND"
                                    " f.kind = 'infrastructure' AND t.error LIKE '%SIGKILL%'"),
                     1);
    sqlite3_close(db);

    LUX_CHECK_INT_EQ(run_retry(path, 1, "killed", 0), 0);
    char *resumed = results_text("killed");
    LUX_CHECK_STR_EQ(resumed, reference);
    db = open_db("killed");
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM trials WHERE status = 'TERMINATED' AND"
                                    " error IS NULL"),
                     3);
    LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM decisions WHERE action = 'restart' AND"
                                    " json_extract(detail, '$.after') = 'resume'"),
                     1);
    sqlite3_close(db);
    free(reference);
    free(resumed);
}

/* A trial that failed in its trainable (an error returned by step, or a
 * crash of its own process) stays ERROR on --resume; --retry-errored
 * restarts it from its latest checkpoint. */
LUX_TEST_T(trainable_failure_stays_error_unless_retry_errored, 240)
{
    const char *keys[] = {"fail_at", "crash_at"};
    for (size_t i = 0; i < 2; i++) {
        char name[32];
        snprintf(name, sizeof name, "tfail%zu", i);
        const char *path = write_config(name, failing_yaml(name, 0, keys[i]));
        LUX_CHECK_INT_EQ(run_retry(path, 0, NULL, 0), 1);
        sqlite3 *db = open_db(name);
        LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM trials t JOIN trial_failures f"
                                        " USING (trial_id) WHERE t.status = 'ERROR' AND"
                                        " f.kind = 'trainable'"),
                         1);
        sqlite3_close(db);
        /* --resume leaves it as it is. */
        LUX_CHECK_INT_EQ(run_retry(path, 1, NULL, 0), 1);
        db = open_db(name);
        LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM trials WHERE status = 'ERROR'"), 1);
        LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM results"), 4);
        sqlite3_close(db);
        /* --retry-errored restarts it from its checkpoint at 4: iteration 8
         * still has score 3 * 8, and no row is stored twice. */
        LUX_CHECK_INT_EQ(run_retry(path, 1, NULL, 1), 0);
        db = open_db(name);
        LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM trials WHERE status = 'TERMINATED'"),
                         1);
        LUX_CHECK_INT_EQ(query_long(db, "SELECT count(*) FROM results"), 8);
        LUX_CHECK_INT_EQ(query_long(db, "SELECT json_extract(metrics, '$.score') FROM results"
                                        " WHERE training_iteration = 8"),
                         24);
        sqlite3_close(db);
    }
}

/* The runtime has named a dead worker's signal two ways; both are read. */
LUX_TEST(failure_kinds_of_dead_workers)
{
    const struct {
        int error;
        const char *message;
        lux_failure_kind_t kind;
    } cases[] = {
        {LUX_ETASK, "toy failure at iteration 5", LUX_FAILURE_TRAINABLE},
        {LUX_EACTORDIED, "actor 'h' died: killed by signal 9, SIGKILL (worker pid 7, log -)",
         LUX_FAILURE_INFRASTRUCTURE},
        {LUX_EACTORDIED, "actor 'h' died: killed by SIGKILL (Killed) (worker pid 7, log -)",
         LUX_FAILURE_INFRASTRUCTURE},
        {LUX_EACTORDIED, "actor 'h' died: killed by SIGINT (Interrupt)",
         LUX_FAILURE_INFRASTRUCTURE},
        {LUX_EACTORDIED, "actor 'h' died: killed by signal 1, a signal",
         LUX_FAILURE_INFRASTRUCTURE},
        {LUX_EACTORDIED, "actor 'h' died: killed by signal 6, SIGABRT (abort)",
         LUX_FAILURE_TRAINABLE},
        {LUX_EACTORDIED, "actor 'h' died: killed by SIGSEGV (Segmentation fault)",
         LUX_FAILURE_TRAINABLE},
        {LUX_EWORKERDIED, "task 't' failed: worker pid 7 killed by SIGBUS (Bus error)",
         LUX_FAILURE_TRAINABLE},
        {LUX_EACTORDIED, "actor 'h' died: exited with status 3", LUX_FAILURE_TRAINABLE},
        {LUX_EACTORDIED, "actor 'h' died: killed by signal 34, a signal",
         LUX_FAILURE_INFRASTRUCTURE},
        {LUX_ECLOSED, "the runtime is closed", LUX_FAILURE_INFRASTRUCTURE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        LUX_CHECK_MSG(lux_exec_failure_kind(cases[i].error, cases[i].message) == cases[i].kind,
                      "%s: %s", cases[i].message, lux_failure_kind_name(cases[i].kind));
    lux_failure_kind_t k;
    LUX_CHECK_INT_EQ(lux_failure_kind_parse("infrastructure", &k), 0);
    LUX_CHECK_INT_EQ(k, LUX_FAILURE_INFRASTRUCTURE);
    LUX_CHECK_INT_EQ(lux_failure_kind_parse("other", &k), LUX_EINVAL);
}
