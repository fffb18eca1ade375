/* Tests of the experiment store: schema and versioning, WAL concurrency,
 * batches and idempotent replays, crash safety under SIGKILL, reads. */
#include "test.h"

#include "alloc.h"
#include "checkpoint.h"
#include "error.h"
#include "store.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *path_in(const char *dir, const char *name)
{
    static char buf[8192];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static lux_store_t *open_writer(const char *dir)
{
    lux_store_t *s = NULL;
    char err[512];
    int rc = lux_store_open(dir, &s, err, sizeof err);
    LUX_CHECK_MSG(rc == 0, "open %s: %s (%s)", dir, lux_strerror(rc), err);
    return s;
}

/* One integer from a query run on a separate raw SQLite connection. */
static long long sql_int(const char *dir, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    LUX_CHECK_INT_EQ(sqlite3_open(path_in(dir, LUX_STORE_DB_NAME), &db), SQLITE_OK);
    LUX_CHECK_MSG(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    LUX_CHECK_INT_EQ(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void sql_exec(const char *dir, const char *sql)
{
    sqlite3 *db = NULL;
    LUX_CHECK_INT_EQ(sqlite3_open(path_in(dir, LUX_STORE_DB_NAME), &db), SQLITE_OK);
    LUX_CHECK_MSG(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    sqlite3_close(db);
}

static void add_trial(lux_store_t *s, const char *id, const char *config)
{
    lux_store_trial_t t = {.trial_id = id, .config_json = config, .status = LUX_TRIAL_PENDING};
    LUX_CHECK_OK(lux_store_trial_add(s, &t));
}

LUX_TEST(open_creates_directory_tree_wal_and_schema)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/a/b/exp", lux_test_tmpdir());
    lux_store_t *s = open_writer(dir);
    LUX_CHECK_INT_EQ(lux_store_schema_version(s), LUX_STORE_SCHEMA_VERSION);
    LUX_CHECK_STR_EQ(lux_store_dir(s), dir);
    lux_store_experiment_t exp = {.name = "cartpole",
                                  .config_text = "trainable: pg\n",
                                  .config_json = "{\"trainable\":\"pg\"}",
                                  .seed = 42,
                                  .metric = "episode_reward_mean",
                                  .mode = "max"};
    LUX_CHECK_OK(lux_store_experiment_put(s, &exp));
    lux_store_close(&s);
    LUX_CHECK(s == NULL);
    lux_store_close(&s); /* NULL is fine */

    LUX_CHECK_INT_EQ(sql_int(dir, "PRAGMA user_version"), LUX_STORE_SCHEMA_VERSION);
    LUX_CHECK_INT_EQ(sql_int(dir, "SELECT COUNT(*) FROM migrations"), LUX_STORE_SCHEMA_VERSION);
    LUX_CHECK_INT_EQ(sql_int(dir, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);

    /* Reopening does not migrate again; the reader sees the experiment. */
    s = open_writer(dir);
    lux_store_close(&s);
    LUX_CHECK_INT_EQ(sql_int(dir, "SELECT COUNT(*) FROM migrations"), LUX_STORE_SCHEMA_VERSION);
    char err[512];
    LUX_CHECK_OK(lux_store_open_reader(dir, &s, err, sizeof err));
    json_t *e = NULL;
    LUX_CHECK_OK(lux_store_experiment_get(s, &e));
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(e, "name")), "cartpole");
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(e, "status")), "RUNNING");
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(e, "config"), "trainable")),
                     "pg");
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(e, "seed")), 42);
    json_decref(e);
    /* The reader cannot write. */
    LUX_CHECK_ERR(lux_store_begin(s), LUX_EINVAL);
    LUX_CHECK_CONTAINS(lux_store_errmsg(s), "read-only");
    lux_store_close(&s);
}

/* A version-1 store (no journal) is migrated when the writer opens it,
 * keeping its rows; the journal then works. */
LUX_TEST(version_1_store_is_migrated_to_the_journal)
{
    const char *dir = lux_test_tmpdir();
    lux_store_t *s = open_writer(dir);
    add_trial(s, "t_00000", "{\"lr\": 0.1}");
    lux_store_close(&s);
    sql_exec(dir, "DROP TABLE journal; DELETE FROM migrations WHERE version > 1;"
                  " PRAGMA user_version = 1");
    char err[512] = "";
    LUX_CHECK_OK(lux_store_open_reader(dir, &s, err, sizeof err));
    LUX_CHECK_INT_EQ(lux_store_schema_version(s), 1);
    lux_store_close(&s);
    s = open_writer(dir);
    LUX_CHECK_INT_EQ(lux_store_schema_version(s), LUX_STORE_SCHEMA_VERSION);
    LUX_CHECK_OK(lux_store_journal_add(s, "scheduler", "[0, 1, 2.5]"));
    LUX_CHECK_OK(lux_store_journal_add(s, "other", "{\"x\": 1}"));
    LUX_CHECK_OK(lux_store_journal_add(s, "scheduler", "[0, 0, -1]"));
    LUX_CHECK_ERR(lux_store_journal_add(s, NULL, "1"), LUX_EINVAL);
    json_t *j = NULL;
    LUX_CHECK_OK(lux_store_journal(s, "scheduler", &j));
    LUX_CHECK_INT_EQ(json_array_size(j), 2);
    LUX_CHECK_NEAR(json_number_value(json_array_get(json_array_get(j, 0), 2)), 2.5, 0);
    LUX_CHECK_NEAR(json_number_value(json_array_get(json_array_get(j, 1), 2)), -1, 0);
    json_decref(j);
    LUX_CHECK_OK(lux_store_journal(s, "nobody", &j));
    LUX_CHECK_INT_EQ(json_array_size(j), 0);
    json_decref(j);
    json_t *t = NULL;
    LUX_CHECK_OK(lux_store_trial_get(s, "t_00000", &t));
    json_decref(t);
    lux_store_close(&s);
    LUX_CHECK_INT_EQ(sql_int(dir, "SELECT COUNT(*) FROM migrations"), LUX_STORE_SCHEMA_VERSION);
}

static int count_trial(void *arg, const json_t *trial)
{
    int *n = arg;
    (*n)++;
    return strcmp(json_string_value(json_object_get(trial, "trial_id")), "t_00001") == 0 ? 7 : 0;
}

LUX_TEST(trials_each_walks_in_creation_order_and_stops)
{
    const char *dir = lux_test_tmpdir();
    lux_store_t *s = open_writer(dir);
    add_trial(s, "t_00000", "{}");
    add_trial(s, "t_00001", "{}");
    add_trial(s, "t_00002", "{}");
    int n = 0;
    LUX_CHECK_INT_EQ(lux_store_trials_each(s, count_trial, &n), 7);
    LUX_CHECK_INT_EQ(n, 2);
    lux_store_close(&s);
}

LUX_TEST(newer_schema_is_refused_with_a_clear_message)
{
    const char *dir = lux_test_tmpdir();
    lux_store_t *s = open_writer(dir);
    lux_store_close(&s);
    sql_exec(dir, "PRAGMA user_version = 7");
    char err[512] = "";
    LUX_CHECK_ERR(lux_store_open(dir, &s, err, sizeof err), LUX_EUNSUPPORTED);
    LUX_CHECK(s == NULL);
    LUX_CHECK_CONTAINS(err, "schema version 7");
    LUX_CHECK_CONTAINS(err, path_in(dir, LUX_STORE_DB_NAME));
    LUX_CHECK_CONTAINS(err, "newer lux");
    LUX_CHECK_ERR(lux_store_open_reader(dir, &s, err, sizeof err), LUX_EUNSUPPORTED);
    /* The refused open did not touch the version. */
    LUX_CHECK_INT_EQ(sql_int(dir, "PRAGMA user_version"), 7);
}

LUX_TEST(one_writer_at_a_time_lock_dies_with_the_writer)
{
    const char *dir = lux_test_tmpdir();
    lux_store_t *a = open_writer(dir), *b = NULL, *r = NULL;
    char err[512] = "";
    LUX_CHECK_ERR(lux_store_open(dir, &b, err, sizeof err), LUX_EBUSY);
    LUX_CHECK_CONTAINS(err, "another process is writing");
    LUX_CHECK(b == NULL);
    LUX_CHECK_OK(lux_store_open_reader(dir, &r, err, sizeof err)); /* readers are welcome */
    lux_store_close(&r);
    lux_store_close(&a);
    b = open_writer(dir);
    lux_store_close(&b);

    /* A writer killed with SIGKILL leaves no lock behind. */
    int fds[2];
    LUX_CHECK_INT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    LUX_CHECK(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed case */
        close(fds[0]);
        lux_store_t *c = NULL;
        if (lux_store_open(dir, &c, NULL, 0) != 0 || write(fds[1], "x", 1) != 1)
            _exit(3);
        pause();
        _exit(0);
    }
    close(fds[1]);
    char c;
    LUX_CHECK_INT_EQ(read(fds[0], &c, 1), 1);
    close(fds[0]);
    LUX_CHECK_ERR(lux_store_open(dir, &b, err, sizeof err), LUX_EBUSY);
    kill(pid, SIGKILL);
    LUX_CHECK_INT_EQ(waitpid(pid, NULL, 0), pid);
    b = open_writer(dir);
    lux_store_close(&b);
}

LUX_TEST(not_a_database_and_missing_are_reported)
{
    const char *dir = lux_test_tmpdir();
    lux_store_t *s = NULL;
    char err[512] = "";
    LUX_CHECK_ERR(lux_store_open_reader(dir, &s, err, sizeof err), LUX_ENOENT);
    LUX_CHECK_CONTAINS(err, "no experiment store");
    FILE *f = fopen(path_in(dir, LUX_STORE_DB_NAME), "w");
    LUX_CHECK(f != NULL);
    for (int i = 0; i < 200; i++)
        fputs("this is not a database, just text. ", f);
    fclose(f);
    LUX_CHECK_ERR(lux_store_open(dir, &s, err, sizeof err), LUX_ESTORE);
    LUX_CHECK_CONTAINS(err, path_in(dir, LUX_STORE_DB_NAME));
    LUX_CHECK(s == NULL);
}

LUX_TEST(trials_add_update_status_and_counts)
{
    const char *dir = lux_test_tmpdir();
    lux_store_t *s = open_writer(dir);
    add_trial(s, "t_00000", "{\"lr\":0.1}");
    add_trial(s, "t_00001", "{\"lr\":0.01}");
    add_trial(s, "t_00002", "{\"lr\":0.001}");
    lux_store_trial_t dup = {.trial_id = "t_00001", .config_json = "{}"};
    LUX_CHECK_ERR(lux_store_trial_add(s, &dup), LUX_EEXIST);
    LUX_CHECK_CONTAINS(lux_store_errmsg(s), "t_00001");

    lux_store_trial_t t = {.trial_id = "t_00001",
                           .status = LUX_TRIAL_RUNNING,
                           .num_failures = 1,
                           .training_iteration = 5,
                           .time_total_s = 2.5,
                           .start_time = 1000.0,
                           .last_result_json = "{\"loss\":0.5}",
                           .has_best = 1,
                           .best_metric = 0.4,
                           .best_iteration = 3,
                           .lineage_json = "[{\"iter\":3,\"donor\":\"t_00000\"}]",
                           .restore_checkpoint = "trials/t_00001/checkpoint_000003"};
    LUX_CHECK_OK(lux_store_trial_update(s, &t));
    t.trial_id = "nope";
    LUX_CHECK_ERR(lux_store_trial_update(s, &t), LUX_ENOENT);
    LUX_CHECK_OK(lux_store_trial_set_status(s, "t_00002", LUX_TRIAL_ERROR, "boom: bad lr"));
    LUX_CHECK_ERR(lux_store_trial_set_status(s, "nope", LUX_TRIAL_ERROR, NULL), LUX_ENOENT);

    long counts[LUX_TRIAL_STATUS_COUNT];
    LUX_CHECK_OK(lux_store_trial_counts(s, counts));
    LUX_CHECK_INT_EQ(counts[LUX_TRIAL_PENDING], 1);
    LUX_CHECK_INT_EQ(counts[LUX_TRIAL_RUNNING], 1);
    LUX_CHECK_INT_EQ(counts[LUX_TRIAL_ERROR], 1);
    LUX_CHECK_INT_EQ(counts[LUX_TRIAL_TERMINATED], 0);

    json_t *trials = NULL;
    LUX_CHECK_OK(lux_store_trials(s, &trials));
    LUX_CHECK_INT_EQ(json_array_size(trials), 3);
    json_t *t1 = json_array_get(trials, 1);
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(t1, "trial_id")), "t_00001");
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(t1, "status")), "RUNNING");
    LUX_CHECK_NEAR(json_number_value(json_object_get(json_object_get(t1, "config"), "lr")), 0.01,
                   1e-12);
    LUX_CHECK_NEAR(json_number_value(json_object_get(json_object_get(t1, "last_result"), "loss")),
                   0.5, 1e-12);
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(t1, "training_iteration")), 5);
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(t1, "num_failures")), 1);
    LUX_CHECK_INT_EQ(json_array_size(json_object_get(t1, "lineage")), 1);
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(t1, "restore_checkpoint")),
                     "trials/t_00001/checkpoint_000003");
    json_t *t2 = json_array_get(trials, 2);
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(t2, "error")), "boom: bad lr");
    LUX_CHECK(json_is_number(json_object_get(t2, "end_time")));
    LUX_CHECK(json_is_null(json_object_get(json_array_get(trials, 0), "end_time")));
    json_decref(trials);

    lux_trial_status_t st;
    LUX_CHECK_OK(lux_trial_status_parse("PAUSED", &st));
    LUX_CHECK_INT_EQ(st, LUX_TRIAL_PAUSED);
    LUX_CHECK_ERR(lux_trial_status_parse("paused", &st), LUX_EINVAL);
    LUX_CHECK_STR_EQ(lux_trial_status_name(LUX_TRIAL_TERMINATED), "TERMINATED");
    lux_store_close(&s);
}

static int count_each(void *arg, const char *trial_id, long it, double t, const char *metrics)
{
    (void)trial_id;
    (void)it;
    (void)t;
    (void)metrics;
    (*(long *)arg)++;
    return 0;
}

LUX_TEST(batches_commit_whole_and_replays_are_ignored)
{
    const char *dir = lux_test_tmpdir();
    lux_store_t *s = open_writer(dir);
    add_trial(s, "a", "{}");
    add_trial(s, "b", "{}");
    char m[128];
    LUX_CHECK_OK(lux_store_begin(s));
    LUX_CHECK(lux_store_in_transaction(s));
    LUX_CHECK_ERR(lux_store_begin(s), LUX_EINVAL);
    for (int i = 1; i <= 50; i++) {
        snprintf(m, sizeof m, "{\"loss\":%d,\"tag\":\"first\"}", i);
        LUX_CHECK_OK(lux_store_result_add(s, i % 2 ? "a" : "b", i, i * 0.1, m));
    }
    LUX_CHECK_OK(lux_store_commit(s));
    LUX_CHECK(!lux_store_in_transaction(s));

    /* A rolled-back batch leaves nothing. */
    LUX_CHECK_OK(lux_store_begin(s));
    LUX_CHECK_OK(lux_store_result_add(s, "a", 1001, 1.0, "{}"));
    LUX_CHECK_OK(lux_store_state_put(s, "scheduler", "{\"x\":1}"));
    lux_store_rollback(s);
    LUX_CHECK_INT_EQ(sql_int(dir, "SELECT COUNT(*) FROM results"), 50);
    char *v = NULL;
    LUX_CHECK_ERR(lux_store_state_get(s, "scheduler", &v), LUX_ENOENT);

    /* Replay the same 50 after a "resume" (new connection), plus 10 new. */
    lux_store_close(&s);
    s = open_writer(dir);
    LUX_CHECK_OK(lux_store_begin(s));
    for (int i = 1; i <= 60; i++) {
        snprintf(m, sizeof m, "{\"loss\":%d,\"tag\":\"replay\"}", i);
        LUX_CHECK_OK(lux_store_result_add(s, i % 2 ? "a" : "b", i, i * 0.1, m));
    }
    LUX_CHECK_OK(lux_store_commit(s));
    LUX_CHECK_INT_EQ(lux_store_duplicates(s), 50);
    LUX_CHECK_INT_EQ(sql_int(dir, "SELECT COUNT(*) FROM results"), 60);
    LUX_CHECK_INT_EQ(
        sql_int(dir, "SELECT COUNT(*) FROM results WHERE json_extract(metrics, '$.tag') = 'first'"),
        50);
    long last = -1;
    LUX_CHECK_OK(lux_store_last_iteration(s, "a", &last));
    LUX_CHECK_INT_EQ(last, 59);
    LUX_CHECK_OK(lux_store_last_iteration(s, "zzz", &last));
    LUX_CHECK_INT_EQ(last, 0);

    json_t *rows = NULL;
    LUX_CHECK_OK(lux_store_results(s, "b", &rows));
    LUX_CHECK_INT_EQ(json_array_size(rows), 30);
    json_t *r0 = json_array_get(rows, 0);
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(r0, "training_iteration")), 2);
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(json_object_get(r0, "metrics"), "loss")),
                     2);
    json_decref(rows);
    long n = 0;
    LUX_CHECK_OK(lux_store_results_each(s, count_each, &n));
    LUX_CHECK_INT_EQ(n, 60);

    /* The jansson variant needs the automatic metrics. */
    json_t *res =
        json_pack("{s:i, s:f, s:f}", "training_iteration", 61, "time_total_s", 6.1, "loss", 0.25);
    LUX_CHECK_OK(lux_store_result_add_json(s, "a", res));
    json_object_del(res, "training_iteration");
    LUX_CHECK_ERR(lux_store_result_add_json(s, "a", res), LUX_EINVAL);
    json_decref(res);
    LUX_CHECK_INT_EQ(sql_int(dir, "SELECT COUNT(*) FROM results"), 61);
    lux_store_close(&s);
}

typedef struct {
    lux_store_t *writer;
    int calls;
    double longest;
} walk_t;

/* Called while the reader's statement is open (a read transaction): the
 * writer must still commit, at once. */
static int write_during_read(void *arg, const char *trial_id, long it, double t, const char *m)
{
    (void)trial_id;
    (void)t;
    (void)m;
    walk_t *w = arg;
    if (w->calls++ < 3) {
        double t0 = lux_test_now();
        LUX_CHECK_OK(lux_store_begin(w->writer));
        LUX_CHECK_OK(lux_store_result_add(w->writer, "x", 1000 + it, 0, "{\"v\":1}"));
        LUX_CHECK_OK(lux_store_commit(w->writer));
        double dt = lux_test_now() - t0;
        if (dt > w->longest)
            w->longest = dt;
    }
    return 0;
}

LUX_TEST(reader_never_blocks_the_writer_and_sees_only_commits)
{
    const char *dir = lux_test_tmpdir();
    lux_store_t *w = open_writer(dir);
    add_trial(w, "x", "{}");
    for (int i = 1; i <= 10; i++)
        LUX_CHECK_OK(lux_store_result_add(w, "x", i, i, "{\"v\":1}"));

    lux_store_t *r = NULL;
    char err[512];
    LUX_CHECK_OK(lux_store_open_reader(dir, &r, err, sizeof err));

    /* Writer in an open transaction: the reader reads the last commit. */
    LUX_CHECK_OK(lux_store_begin(w));
    LUX_CHECK_OK(lux_store_result_add(w, "x", 11, 11, "{\"v\":1}"));
    LUX_CHECK_OK(lux_store_trial_set_status(w, "x", LUX_TRIAL_RUNNING, NULL));
    double t0 = lux_test_now();
    json_t *rows = NULL, *trial = NULL;
    LUX_CHECK_OK(lux_store_results(r, "x", &rows));
    LUX_CHECK_OK(lux_store_trial_get(r, "x", &trial));
    LUX_CHECK_DBL(lux_test_now() - t0, <, 1.0); /* no busy wait */
    LUX_CHECK_INT_EQ(json_array_size(rows), 10);
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(trial, "status")), "PENDING");
    json_decref(rows);
    json_decref(trial);
    LUX_CHECK_OK(lux_store_commit(w));
    LUX_CHECK_OK(lux_store_results(r, "x", &rows));
    LUX_CHECK_INT_EQ(json_array_size(rows), 11);
    json_decref(rows);

    /* Reader in the middle of a long read: the writer commits anyway. */
    walk_t walk = {.writer = w};
    LUX_CHECK_OK(lux_store_results_each(r, write_during_read, &walk));
    LUX_CHECK_INT_EQ(walk.calls, 11); /* the snapshot taken at the start */
    LUX_CHECK_DBL(walk.longest, <, 1.0);
    LUX_CHECK_INT_EQ(sql_int(dir, "SELECT COUNT(*) FROM results"), 14);
    lux_store_close(&r);
    lux_store_close(&w);
}

/* lux_store_read_begin: several reads see one snapshot (`lux export` walks
 * the trials, then the results, while a run may be adding both). */
LUX_TEST(a_read_snapshot_spans_several_reads)
{
    const char *dir = lux_test_tmpdir();
    lux_store_t *w = open_writer(dir);
    add_trial(w, "a", "{}");
    lux_store_t *r = NULL;
    char err[512];
    LUX_CHECK_OK(lux_store_open_reader(dir, &r, err, sizeof err));
    long counts[LUX_TRIAL_STATUS_COUNT];
    LUX_CHECK_OK(lux_store_read_begin(r));
    LUX_CHECK_ERR(lux_store_read_begin(r), LUX_EINVAL); /* not nested */
    /* Committed on its own, not blocked by the reader. */
    add_trial(w, "b", "{}");
    LUX_CHECK_OK(lux_store_trial_counts(r, counts));
    LUX_CHECK_INT_EQ(counts[LUX_TRIAL_PENDING], 1);
    LUX_CHECK_OK(lux_store_result_add(w, "a", 1, 1, "{\"v\":1}"));
    json_t *rows = NULL;
    LUX_CHECK_OK(lux_store_results(r, "a", &rows));
    LUX_CHECK_INT_EQ(json_array_size(rows), 0);
    json_decref(rows);
    lux_store_read_end(r);
    LUX_CHECK_OK(lux_store_trial_counts(r, counts));
    LUX_CHECK_INT_EQ(counts[LUX_TRIAL_PENDING], 2);
    lux_store_read_end(r); /* harmless when none is open */
    /* Not inside a write transaction. */
    LUX_CHECK_OK(lux_store_begin(w));
    LUX_CHECK_ERR(lux_store_read_begin(w), LUX_EINVAL);
    LUX_CHECK_OK(lux_store_commit(w));
    lux_store_close(&r);
    lux_store_close(&w);
}

LUX_TEST(best_trial_by_scope_and_mode)
{
    const char *dir = lux_test_tmpdir();
    lux_store_t *s = open_writer(dir);
    add_trial(s, "a", "{\"lr\":1}");
    add_trial(s, "b", "{\"lr\":2}");
    add_trial(s, "c", "{\"lr\":3}");
    /* a: 1 9 2 (last 2, max 9, avg 4); b: 5 5 5; c: reports only "other" and
     * a nested metric. */
    static const int a[] = {1, 9, 2}, b[] = {5, 5, 5};
    char m[128];
    LUX_CHECK_OK(lux_store_begin(s));
    for (int i = 0; i < 3; i++) {
        snprintf(m, sizeof m, "{\"score\":%d,\"info\":{\"loss\":%d}}", a[i], 10 - a[i]);
        LUX_CHECK_OK(lux_store_result_add(s, "a", i + 1, i, m));
        snprintf(m, sizeof m, "{\"score\":%d,\"info\":{\"loss\":%d}}", b[i], 10 - b[i]);
        LUX_CHECK_OK(lux_store_result_add(s, "b", i + 1, i, m));
        LUX_CHECK_OK(lux_store_result_add(s, "c", i + 1, i, "{\"other\":100,\"score\":\"x\"}"));
    }
    LUX_CHECK_OK(lux_store_checkpoint_add(s, "b", 2, "trials/b/checkpoint_000002", 0, 0, 10));
    LUX_CHECK_OK(lux_store_commit(s));

    json_t *best = NULL;
    LUX_CHECK_OK(lux_store_best_trial(s, "score", "max", LUX_SCOPE_LAST, &best));
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(best, "trial_id")), "b");
    LUX_CHECK_NEAR(json_number_value(json_object_get(best, "value")), 5, 0);
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(best, "training_iteration")), 3);
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(best, "checkpoint")),
                     "trials/b/checkpoint_000002");
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(json_object_get(best, "config"), "lr")), 2);
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(best, "scope")), "last");
    json_decref(best);

    LUX_CHECK_OK(lux_store_best_trial(s, "score", "max", LUX_SCOPE_ALL, &best));
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(best, "trial_id")), "a");
    LUX_CHECK_NEAR(json_number_value(json_object_get(best, "value")), 9, 0);
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(best, "training_iteration")), 2);
    LUX_CHECK(json_is_null(json_object_get(best, "checkpoint")));
    json_decref(best);

    LUX_CHECK_OK(lux_store_best_trial(s, "score", "max", LUX_SCOPE_AVG, &best));
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(best, "trial_id")), "b");
    json_decref(best);
    LUX_CHECK_OK(lux_store_best_trial(s, "score", "min", LUX_SCOPE_AVG, &best));
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(best, "trial_id")), "a");
    LUX_CHECK_NEAR(json_number_value(json_object_get(best, "value")), 4, 1e-12);
    json_decref(best);
    LUX_CHECK_OK(lux_store_best_trial(s, "score", "min", LUX_SCOPE_LAST, &best));
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(best, "trial_id")), "a");
    json_decref(best);

    /* A nested metric, named the Ray way. */
    LUX_CHECK_OK(lux_store_best_trial(s, "info/loss", "min", LUX_SCOPE_ALL, &best));
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(best, "trial_id")), "a");
    LUX_CHECK_NEAR(json_number_value(json_object_get(best, "value")), 1, 0);
    json_decref(best);

    LUX_CHECK_ERR(lux_store_best_trial(s, "missing", "max", LUX_SCOPE_LAST, &best), LUX_ENOENT);
    LUX_CHECK_CONTAINS(lux_store_errmsg(s), "missing");
    LUX_CHECK_ERR(lux_store_best_trial(s, "score", "biggest", LUX_SCOPE_LAST, &best), LUX_EINVAL);

    lux_store_scope_t sc;
    LUX_CHECK_OK(lux_store_scope_parse("last-10-avg", &sc));
    LUX_CHECK_INT_EQ(sc, LUX_SCOPE_LAST_10_AVG);
    LUX_CHECK_ERR(lux_store_scope_parse("first", &sc), LUX_EINVAL);
    lux_store_close(&s);
}

LUX_TEST(state_counters_decisions_and_checkpoints)
{
    const char *dir = lux_test_tmpdir();
    lux_store_t *s = open_writer(dir);
    LUX_CHECK_OK(lux_store_begin(s));
    LUX_CHECK_OK(lux_store_state_put(s, "scheduler", "{\"rungs\":[1,3,9]}"));
    LUX_CHECK_OK(lux_store_state_put(s, "scheduler", "{\"rungs\":[1,3,9,27]}"));
    LUX_CHECK_OK(lux_store_counter_put(s, "trials_created", 12345678901LL));
    LUX_CHECK_OK(lux_store_decision_add(s, "scheduler", "t1", "PAUSE", "{\"rung\":3}"));
    LUX_CHECK_OK(lux_store_decision_add(s, "searcher", NULL, "SUGGEST", NULL));
    LUX_CHECK_OK(lux_store_checkpoint_add(s, "t1", 3, "trials/t1/checkpoint_000003", 1, 0.5, 9));
    LUX_CHECK_OK(lux_store_checkpoint_add(s, "t1", 6, "trials/t1/checkpoint_000006", 0, 0, 9));
    LUX_CHECK_OK(lux_store_checkpoint_pin(s, "t1", 3, 1));
    LUX_CHECK_ERR(lux_store_checkpoint_pin(s, "t1", 4, 1), LUX_ENOENT);
    LUX_CHECK_OK(lux_store_checkpoint_mark_deleted(s, "t1", 6));
    LUX_CHECK_OK(lux_store_commit(s));

    char *v = NULL;
    LUX_CHECK_OK(lux_store_state_get(s, "scheduler", &v));
    LUX_CHECK_STR_EQ(v, "{\"rungs\":[1,3,9,27]}");
    lux_free(v);
    int64_t c = 0;
    LUX_CHECK_OK(lux_store_counter_get(s, "trials_created", &c));
    LUX_CHECK_INT_EQ(c, 12345678901LL);
    LUX_CHECK_ERR(lux_store_counter_get(s, "nope", &c), LUX_ENOENT);

    json_t *d = NULL;
    LUX_CHECK_OK(lux_store_decisions(s, 0, 0, &d));
    LUX_CHECK_INT_EQ(json_array_size(d), 2);
    json_t *d0 = json_array_get(d, 0);
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(d0, "action")), "PAUSE");
    LUX_CHECK_INT_EQ(json_integer_value(json_object_get(json_object_get(d0, "detail"), "rung")), 3);
    long first = (long)json_integer_value(json_object_get(d0, "id"));
    json_decref(d);
    LUX_CHECK_OK(lux_store_decisions(s, first, 0, &d));
    LUX_CHECK_INT_EQ(json_array_size(d), 1);
    LUX_CHECK(json_is_null(json_object_get(json_array_get(d, 0), "trial_id")));
    json_decref(d);

    json_t *cks = NULL;
    LUX_CHECK_OK(lux_store_checkpoints(s, "t1", 0, &cks));
    LUX_CHECK_INT_EQ(json_array_size(cks), 1);
    LUX_CHECK(json_is_true(json_object_get(json_array_get(cks, 0), "pinned")));
    json_decref(cks);
    LUX_CHECK_OK(lux_store_checkpoints(s, "t1", 1, &cks));
    LUX_CHECK_INT_EQ(json_array_size(cks), 2);
    LUX_CHECK(json_is_true(json_object_get(json_array_get(cks, 1), "deleted")));
    LUX_CHECK(json_is_null(json_object_get(json_array_get(cks, 1), "score")));
    json_decref(cks);
    /* Registering again revives a deleted checkpoint and keeps its pin. */
    LUX_CHECK_OK(lux_store_checkpoint_add(s, "t1", 6, "trials/t1/checkpoint_000006", 0, 0, 9));
    LUX_CHECK_OK(lux_store_checkpoint_add(s, "t1", 3, "trials/t1/checkpoint_000003", 1, 0.7, 9));
    LUX_CHECK_OK(lux_store_checkpoints(s, "t1", 0, &cks));
    LUX_CHECK_INT_EQ(json_array_size(cks), 2);
    LUX_CHECK(json_is_true(json_object_get(json_array_get(cks, 0), "pinned")));
    json_decref(cks);
    lux_store_close(&s);
}

/* ---- Crash safety ------------------------------------------------------- */

#define CRASH_BATCH 40

/* The child: writes batches forever; each batch is CRASH_BATCH results over
 * 4 trials, a trial update, a decision and the "batches" counter, in one
 * transaction. After each commit it writes the batch number to fd. */
static void crash_writer(const char *dir, int fd)
{
    lux_store_t *s = NULL;
    if (lux_store_open(dir, &s, NULL, 0) != 0)
        _exit(3);
    static const char *const ids[] = {"t0", "t1", "t2", "t3"};
    for (int i = 0; i < 4; i++) {
        lux_store_trial_t t = {.trial_id = ids[i], .config_json = "{}"};
        if (lux_store_trial_add(s, &t) != 0)
            _exit(4);
    }
    char m[256];
    for (long b = 0;; b++) {
        if (lux_store_begin(s) != 0)
            _exit(5);
        for (int i = 0; i < CRASH_BATCH; i++) {
            long it = b * (CRASH_BATCH / 4) + i / 4 + 1;
            snprintf(m, sizeof m, "{\"batch\":%ld,\"pad\":\"%0200d\"}", b, i);
            if (lux_store_result_add(s, ids[i % 4], it, (double)it, m) != 0)
                _exit(6);
        }
        lux_store_trial_t t = {.trial_id = "t0",
                               .status = LUX_TRIAL_RUNNING,
                               .training_iteration = (b + 1) * (CRASH_BATCH / 4)};
        if (lux_store_trial_update(s, &t) != 0 ||
            lux_store_decision_add(s, "scheduler", "t0", "CONTINUE", NULL) != 0 ||
            lux_store_counter_put(s, "batches", b + 1) != 0 || lux_store_commit(s) != 0)
            _exit(7);
        if (write(fd, &b, sizeof b) != (ssize_t)sizeof b)
            _exit(8);
    }
}

LUX_TEST_T(sigkill_mid_batch_leaves_only_whole_batches, 30)
{
    const char *dir = lux_test_tmpdir();
    for (int round = 0; round < 3; round++) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/round%d", dir, round);
        int fds[2];
        LUX_CHECK_INT_EQ(pipe(fds), 0);
        pid_t pid = fork();
        LUX_CHECK(pid >= 0);
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed case */
            close(fds[0]);
            crash_writer(sub, fds[1]);
            _exit(0);
        }
        close(fds[1]);
        /* Let it commit a few batches, then kill it at a varying moment,
         * most likely inside a transaction. */
        long acked = -1, b;
        while (acked < 5 + round * 7 && read(fds[0], &b, sizeof b) == (ssize_t)sizeof b)
            acked = b;
        usleep(1000 * (useconds_t)(round * 3));
        kill(pid, SIGKILL);
        int status = 0;
        LUX_CHECK_INT_EQ(waitpid(pid, &status, 0), pid);
        LUX_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        while (read(fds[0], &b, sizeof b) == (ssize_t)sizeof b)
            acked = b; /* commits the child reported before dying */
        close(fds[0]);

        /* Recovery: the writer opens the database as resume would. */
        lux_store_t *s = open_writer(sub);
        lux_store_close(&s);
        sqlite3 *db = NULL;
        LUX_CHECK_INT_EQ(sqlite3_open(path_in(sub, LUX_STORE_DB_NAME), &db), SQLITE_OK);
        sqlite3_stmt *st = NULL;
        LUX_CHECK_INT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
                         SQLITE_OK);
        LUX_CHECK_INT_EQ(sqlite3_step(st), SQLITE_ROW);
        LUX_CHECK_STR_EQ((const char *)sqlite3_column_text(st, 0), "ok");
        sqlite3_finalize(st);
        sqlite3_close(db);

        long long batches = sql_int(sub, "SELECT value FROM state WHERE key = 'batches'");
        LUX_CHECK_INT(batches, >=, acked + 1); /* nothing acknowledged is lost */
        LUX_CHECK_INT_EQ(sql_int(sub, "SELECT COUNT(*) FROM results"), batches * CRASH_BATCH);
        LUX_CHECK_INT_EQ(sql_int(sub, "SELECT COUNT(DISTINCT json_extract(metrics, '$.batch'))"
                                      " FROM results"),
                         batches);
        /* Every batch complete, none partial. */
        LUX_CHECK_INT_EQ(sql_int(sub, "SELECT COUNT(*) FROM (SELECT json_extract(metrics,"
                                      " '$.batch') b, COUNT(*) n FROM results GROUP BY b"
                                      " HAVING n <> 40)"),
                         0);
        LUX_CHECK_INT_EQ(sql_int(sub, "SELECT COUNT(*) FROM decisions"), batches);
        LUX_CHECK_INT_EQ(sql_int(sub, "SELECT training_iteration FROM trials WHERE trial_id='t0'"),
                         batches * (CRASH_BATCH / 4));
    }
}

/* What `lux run --resume` finds after the driver was SIGKILLed mid-run:
 * finished trials finished, running ones with their latest checkpoint,
 * pending ones pending, scheduler state of the last commit, and replayed
 * results ignored. */
LUX_TEST_T(resume_after_sigkill_finds_a_consistent_snapshot, 30)
{
    const char *dir = lux_test_tmpdir();
    int fds[2];
    LUX_CHECK_INT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    LUX_CHECK(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed case */
        close(fds[0]);
        lux_store_t *s = NULL;
        if (lux_store_open(dir, &s, NULL, 0) != 0)
            _exit(3);
        static const char *const ids[] = {"done", "running", "pending"};
        for (int i = 0; i < 3; i++) {
            lux_store_trial_t t = {.trial_id = ids[i], .config_json = "{\"lr\":0.1}"};
            if (lux_store_trial_add(s, &t) != 0)
                _exit(4);
        }
        char state[64];
        for (long it = 1;; it++) {
            if (lux_store_begin(s) != 0)
                _exit(5);
            int rc = 0;
            if (it <= 5)
                rc |= lux_store_result_add(s, "done", it, (double)it, "{\"r\":1}");
            if (it == 5)
                rc |= lux_store_trial_set_status(s, "done", LUX_TRIAL_TERMINATED, NULL);
            if (it == 1)
                rc |= lux_store_trial_set_status(s, "running", LUX_TRIAL_RUNNING, NULL);
            rc |= lux_store_result_add(s, "running", it, (double)it, "{\"r\":2}");
            if (it % 3 == 0) {
                char *rel = NULL;
                char bytes[32];
                int n = snprintf(bytes, sizeof bytes, "state at %ld", it);
                rc |=
                    lux_checkpoint_write(dir, "running", it, bytes, (size_t)n, NULL, &rel, NULL, 0);
                rc |= lux_store_checkpoint_add(s, "running", it, rel, 0, 0, n);
                lux_free(rel);
            }
            snprintf(state, sizeof state, "{\"iteration\":%ld}", it);
            rc |= lux_store_state_put(s, "scheduler", state);
            rc |= lux_store_counter_put(s, "iteration", it);
            if (rc != 0 || lux_store_commit(s) != 0)
                _exit(6);
            if (it == 20 && write(fds[1], "x", 1) != 1)
                _exit(7);
        }
    }
    close(fds[1]);
    char c;
    LUX_CHECK_INT_EQ(read(fds[0], &c, 1), 1);
    close(fds[0]);
    kill(pid, SIGKILL);
    LUX_CHECK_INT_EQ(waitpid(pid, NULL, 0), pid);

    char err[512];
    long removed = 0;
    LUX_CHECK_OK(lux_checkpoint_sweep(dir, &removed, err, sizeof err));
    lux_store_t *s = open_writer(dir); /* the dead writer's lock is gone */
    int64_t it = 0;
    LUX_CHECK_OK(lux_store_counter_get(s, "iteration", &it));
    LUX_CHECK_INT(it, >=, 20);
    char *state = NULL;
    LUX_CHECK_OK(lux_store_state_get(s, "scheduler", &state));
    char want[64];
    snprintf(want, sizeof want, "{\"iteration\":%lld}", (long long)it);
    LUX_CHECK_STR_EQ(state, want); /* the state of the last committed batch */
    lux_free(state);
    long last = 0;
    LUX_CHECK_OK(lux_store_last_iteration(s, "running", &last));
    LUX_CHECK_INT_EQ(last, it);

    json_t *trials = NULL;
    LUX_CHECK_OK(lux_store_trials(s, &trials));
    json_t *done = json_array_get(trials, 0), *running = json_array_get(trials, 1);
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(done, "status")), "TERMINATED");
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(running, "status")), "RUNNING");
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(trials, 2), "status")),
                     "PENDING");
    /* The latest registered checkpoint is complete and readable. */
    const char *ck = json_string_value(json_object_get(running, "latest_checkpoint"));
    LUX_CHECK(ck != NULL);
    long ck_it = it / 3 * 3;
    char want_path[64];
    snprintf(want_path, sizeof want_path, "trials/running/checkpoint_%06ld", ck_it);
    LUX_CHECK_STR_EQ(ck, want_path);
    void *bytes = NULL;
    size_t len = 0;
    LUX_CHECK_OK(lux_checkpoint_read(dir, ck, &bytes, &len, err, sizeof err));
    snprintf(want, sizeof want, "state at %ld", ck_it);
    LUX_CHECK(len == strlen(want) && memcmp(bytes, want, len) == 0);
    lux_free(bytes);

    /* The restarted trial replays from its checkpoint: nothing duplicated. */
    LUX_CHECK_OK(lux_store_begin(s));
    for (long k = ck_it + 1; k <= it + 2; k++)
        LUX_CHECK_OK(lux_store_result_add(s, "running", k, (double)k, "{\"r\":3}"));
    LUX_CHECK_OK(lux_store_commit(s));
    LUX_CHECK_INT_EQ(lux_store_duplicates(s), it - ck_it);
    LUX_CHECK_INT_EQ(sql_int(dir, "SELECT COUNT(*) FROM results WHERE trial_id = 'running'"),
                     it + 2);
    LUX_CHECK_INT_EQ(sql_int(dir, "SELECT COUNT(*) FROM results WHERE trial_id = 'done'"), 5);
    json_decref(trials);
    lux_store_close(&s);
}
