/*
 * Tests of `lux run` as a person meets it (cli/cmd_run.c): the real binary,
 * interrupted by signals. The library only reports how a run ended; these
 * check that the command turns that into the promised hints and exit codes
 * (docs/run.md): 130 and a resume hint after one Ctrl-C, an immediate exit
 * after a second signal, 2 and the file:line:column message for a bad
 * config.
 */
#include "test.h"

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* An experiment that runs until it is stopped. */
static const char *endless_yaml =
    "name: %s\ntrainable: noop\nmetric: score\nmode: max\nnum_samples: 2\n"
    "stop: {training_iteration: 1000000000}\n"
    "checkpoint: {frequency: 1000, num_to_keep: 1}\n";

static const char *write_config(const char *name, const char *fmt)
{
    static char path[4200];
    snprintf(path, sizeof path, "%s/%s.yaml", lux_test_tmpdir(), name);
    FILE *f = fopen(path, "w");
    LUX_CHECK(f != NULL);
    fprintf(f, fmt, name);
    fclose(f);
    return path;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    LUX_CHECK(f != NULL);
    char *text = calloc(1, 1 << 16);
    LUX_CHECK(text != NULL);
    size_t n = fread(text, 1, (1 << 16) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* Starts `lux run PATH --storage TMP -q` with stderr to a file, sends it
 * SIGINT once it has been running for `after_s` and, with `twice`, SIGTERM
 * right after (a different signal, so the two are never merged into one
 * and the second arrives long before the run could have stopped), and
 * returns its wait status; *err gets its stderr (heap). */
static int run_and_interrupt(const char *path, double after_s, int twice, char **err)
{
    char err_path[4200];
    snprintf(err_path, sizeof err_path, "%s/stderr.txt", lux_test_tmpdir());
    fflush(NULL);
    pid_t pid = fork();
    LUX_CHECK(pid >= 0);
    if (pid == 0) {
        int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int null = open("/dev/null", O_WRONLY);
        if (fd < 0 || null < 0)
            _exit(99);
        dup2(fd, 2);
        dup2(null, 1);
        execl(lux_test_lux_binary(), "lux", "run", path, "--storage", lux_test_tmpdir(), "-q",
              (char *)NULL);
        _exit(98);
    }
    usleep((useconds_t)(after_s * 1e6));
    kill(pid, SIGINT);
    if (twice)
        kill(pid, SIGTERM);
    int status = 0;
    LUX_CHECK(waitpid(pid, &status, 0) == pid);
    *err = read_text(err_path);
    return status;
}

static char *experiment_status(const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s/experiment.db", lux_test_tmpdir(), name);
    sqlite3 *db = NULL;
    LUX_CHECK_INT_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    LUX_CHECK(sqlite3_prepare_v2(db, "SELECT status FROM experiment", -1, &st, NULL) == SQLITE_OK);
    char *status = NULL;
    if (sqlite3_step(st) == SQLITE_ROW)
        status = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    LUX_CHECK(status != NULL);
    return status;
}

LUX_TEST_T(ctrl_c_checkpoints_stops_and_exits_130, 120)
{
    char *err = NULL;
    int st = run_and_interrupt(write_config("endless", endless_yaml), 2.0, 0, &err);
    LUX_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 130, "wait status %d, stderr:\n%s", st, err);
    char want[8192];
    snprintf(want, sizeof want, "lux run: stopped; continue with: lux run --resume %s/endless\n",
             lux_test_tmpdir());
    LUX_CHECK_CONTAINS(err, want);
    free(err);
    char *status = experiment_status("endless");
    LUX_CHECK_STR_EQ(status, "INTERRUPTED");
    free(status);
}

LUX_TEST_T(second_signal_stops_at_once, 120)
{
    char *err = NULL;
    int st = run_and_interrupt(write_config("twice", endless_yaml), 2.0, 1, &err);
    /* 128 + the signal that came second (the kernel may deliver either
     * first). */
    LUX_CHECK_MSG(WIFEXITED(st) &&
                      (WEXITSTATUS(st) == 128 + SIGINT || WEXITSTATUS(st) == 128 + SIGTERM),
                  "wait status %d, stderr:\n%s", st, err);
    LUX_CHECK_CONTAINS(err, "\nlux: stopping at once; resume with --resume\n");
    free(err);
}

LUX_TEST(bad_config_exits_2_with_its_place)
{
    const char *path = write_config("bad", "name: %s\ntrainable: noop\nnum_sample: 3\n");
    char *argv[] = {(char *)lux_test_lux_binary(), "run", (char *)path, "--storage",
                    (char *)lux_test_tmpdir(),     NULL};
    char *out = NULL, *err = NULL;
    LUX_CHECK_INT_EQ(lux_test_spawn(argv, NULL, NULL, 30, &out, &err), 2);
    char want[8192];
    snprintf(want, sizeof want, "lux run: %s:3:1: unknown key 'num_sample' in the experiment;",
             path);
    LUX_CHECK_CONTAINS(err, want);
    free(out);
    free(err);
}

/* --cpus: 0 or less is refused (it used to mean "all cores" silently);
 * more than the machine has runs, oversubscribing the cores as Ray allows,
 * with a warning that says how many cores there are. */
LUX_TEST_T(cpus_zero_is_refused_and_too_many_warns, 120)
{
    const char *path = write_config("cpus", "name: %s\ntrainable: noop\nnum_samples: 2\n"
                                            "stop: {training_iteration: 3}\n");
    const char *bad[] = {"0", "-2"};
    for (size_t i = 0; i < 2; i++) {
        char *argv[] = {(char *)lux_test_lux_binary(), "run",    (char *)path,   "--storage",
                        (char *)lux_test_tmpdir(),     "--cpus", (char *)bad[i], NULL};
        char *out = NULL, *err = NULL;
        LUX_CHECK_INT_EQ(lux_test_spawn(argv, NULL, NULL, 30, &out, &err), 2);
        LUX_CHECK_CONTAINS(err, "--cpus must be > 0");
        free(out);
        free(err);
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/cpus", lux_test_tmpdir());
        LUX_CHECK_MSG(access(dir, F_OK) != 0, "%s was created", dir);
    }
    char *argv[] = {(char *)lux_test_lux_binary(),
                    "run",
                    (char *)path,
                    "--storage",
                    (char *)lux_test_tmpdir(),
                    "-q",
                    "--cpus",
                    "100000",
                    NULL};
    char *out = NULL, *err = NULL;
    LUX_CHECK_INT_EQ(lux_test_spawn(argv, NULL, NULL, 60, &out, &err), 0);
    char want[256];
    snprintf(want, sizeof want, "--cpus 100000 is more than the %ld cores of this machine",
             sysconf(_SC_NPROCESSORS_ONLN));
    LUX_CHECK_CONTAINS(err, want);
    LUX_CHECK_CONTAINS(err, "oversubscribe");
    free(out);
    free(err);
}

static long count_trials(const char *name, const char *status)
{
    char path[4200], sql[256];
    snprintf(path, sizeof path, "%s/%s/experiment.db", lux_test_tmpdir(), name);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM trials WHERE status = '%s'", status);
    sqlite3 *db = NULL;
    LUX_CHECK_INT_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    LUX_CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
    long n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static long count_results(const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s/experiment.db", lux_test_tmpdir(), name);
    sqlite3 *db = NULL;
    LUX_CHECK_INT_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    LUX_CHECK(sqlite3_prepare_v2(db, "SELECT count(*) FROM results", -1, &st, NULL) == SQLITE_OK);
    long n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* A time budget used up while trials were still waiting is not "every trial
 * TERMINATED": exit 3, a message saying how many are left and how to
 * continue, the experiment stored as BUDGET_USED_UP (not FINISHED), the
 * running trials checkpointed and PAUSED, and --resume continues them with
 * a new budget (the old one would stop it at once). */
LUX_TEST_T(time_budget_with_trials_left_exits_3_and_resume_continues, 120)
{
    const char *path = write_config("tb", "name: %s\ntrainable: noop\nnum_samples: 6\n"
                                          "stop: {training_iteration: 1000000000}\n"
                                          "time_budget_s: 1\n");
    char *argv[] = {(char *)lux_test_lux_binary(),
                    "run",
                    (char *)path,
                    "--storage",
                    (char *)lux_test_tmpdir(),
                    "-q",
                    "--cpus",
                    "2",
                    NULL};
    char *out = NULL, *err = NULL;
    int rc = lux_test_spawn(argv, NULL, NULL, 60, &out, &err);
    LUX_CHECK_MSG(rc == 3, "exit %d, stderr:\n%s", rc, err);
    char want[8192];
    snprintf(want, sizeof want,
             "lux run: time budget of 1 s used up; 6 trial(s) not started or not finished; "
             "continue them with: lux run --resume %s/tb (a new budget of 1 s)\n",
             lux_test_tmpdir());
    LUX_CHECK_CONTAINS(err, want);
    free(out);
    free(err);
    char *status = experiment_status("tb");
    LUX_CHECK_STR_EQ(status, "BUDGET_USED_UP");
    free(status);
    LUX_CHECK_INT_EQ(count_trials("tb", "PAUSED"), 2);
    long before = count_results("tb");

    /* The resumed run gets a new budget: the paused trials train on. */
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/tb", lux_test_tmpdir());
    char *argv2[] = {
        (char *)lux_test_lux_binary(), "run", "--resume", dir, "-q", "--cpus", "2", NULL};
    rc = lux_test_spawn(argv2, NULL, NULL, 60, &out, &err);
    LUX_CHECK_MSG(rc == 3, "exit %d, stderr:\n%s", rc, err);
    LUX_CHECK_CONTAINS(err, "6 trial(s) not started or not finished");
    free(out);
    free(err);
    LUX_CHECK_INT(count_results("tb"), >, before + 1000);
}

/* --name is checked like the file's name: one path component, nothing is
 * created; --object-store-memory takes a byte size and sizes the node. */
LUX_TEST_T(name_and_object_store_options_are_checked, 120)
{
    const char *path = write_config("opts", "name: %s\ntrainable: noop\nmetric: score\n"
                                            "mode: max\nnum_samples: 1\n"
                                            "stop: {training_iteration: 3}\n");
    char storage[4200];
    snprintf(storage, sizeof storage, "%s/store", lux_test_tmpdir());
    char *out = NULL, *err = NULL;
    const char *bad_name[] = {"run", path, "--storage", storage, "--name", "../escaped", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(bad_name, NULL, 30, &out, &err), 2);
    LUX_CHECK_CONTAINS(err, "--name");
    LUX_CHECK(access(storage, F_OK) != 0);
    free(out);
    free(err);
    const char *bad_size[] = {"run",  path, "--storage", storage, "--object-store-memory",
                              "lots", NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(bad_size, NULL, 30, &out, &err), 2);
    LUX_CHECK_CONTAINS(err, "not a byte size");
    LUX_CHECK(access(storage, F_OK) != 0);
    free(out);
    free(err);
    const char *ok[] = {"run", path,     "--storage", storage, "--object-store-memory",
                        "64M", "--name", "opts-ok",   "-q",    NULL};
    LUX_CHECK_INT_EQ(lux_test_lux(ok, NULL, 60, &out, &err), 0);
    free(out);
    free(err);
}

/* A trial asking for more than the node has is refused before anything
 * runs, at the position of resources_per_trial in the file. */
LUX_TEST_T(infeasible_resources_name_their_place, 60)
{
    const char *path = write_config("big", "name: %s\ntrainable: noop\nmetric: score\n"
                                           "mode: max\nnum_samples: 1\n"
                                           "resources_per_trial: {cpu: 1000}\n");
    const char *args[] = {"run", path, "--storage", lux_test_tmpdir(), "--cpus", "2", NULL};
    char *out = NULL, *err = NULL;
    LUX_CHECK_INT_EQ(lux_test_lux(args, NULL, 30, &out, &err), 2);
    LUX_CHECK_CONTAINS(err, "big.yaml:6:");
    LUX_CHECK_CONTAINS(err, "asks for 1000 CPU");
    free(out);
    free(err);
}
