/*
 * Every experiment in experiments/ starts and runs one iteration: `lux run
 * FILE --smoke` with the file's own smoke: overrides, against the real
 * binary, each trial storing at least one result.
 */
#include "test.h"

#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long count(const char *db_path, const char *sql)
{
    sqlite3 *db = NULL;
    LUX_CHECK_INT_EQ(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    LUX_CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
    long v = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

LUX_TEST_T(every_experiment_runs_one_iteration, 300)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/experiments", lux_test_source_dir());
    DIR *d = opendir(dir);
    LUX_CHECK(d != NULL);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
            continue;
        char file[8192], storage[4200];
        snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
        snprintf(storage, sizeof storage, "%s", lux_test_tmpdir());
        const char *argv[] = {"run", file, "--smoke", "--storage", storage, "-q", NULL};
        char *out = NULL;
        int rc = lux_test_lux(argv, NULL, 120, &out, NULL);
        LUX_CHECK_MSG(rc == 0, "lux run %s --smoke exited %d:\n%s", e->d_name, rc, out);
        free(out);
        /* The experiment directory is NAME-smoke; find it by the file's name. */
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(len - 5), e->d_name);
        char db[8600];
        snprintf(db, sizeof db, "%s/%s-smoke/experiment.db", storage, name);
        long trials = count(db, "SELECT count(*) FROM trials");
        LUX_CHECK_MSG(trials >= 1, "%s: no trials", e->d_name);
        LUX_CHECK_INT_EQ(count(db, "SELECT count(*) FROM trials WHERE status = 'TERMINATED' AND"
                                   " training_iteration >= 1"),
                         trials);
        n++;
    }
    closedir(d);
    LUX_CHECK_INT(n, >=, 8);
}

LUX_TEST(smoke_without_a_smoke_section_is_an_error)
{
    const char *file = lux_test_write_tmp(
        "plain.yaml", "name: plain\ntrainable: sepcmaes\nenv: CartPole-v1\nconfig: {popsize: 8}\n");
    const char *argv[] = {"run", file, "--smoke", "--storage", lux_test_tmpdir(), NULL};
    char *out = NULL;
    LUX_CHECK_INT_EQ(lux_test_lux(argv, NULL, 60, &out, NULL), 2);
    LUX_CHECK_CONTAINS(out, "plain.yaml:1:1: --smoke was given but the experiment has no smoke:");
    free(out);
}
