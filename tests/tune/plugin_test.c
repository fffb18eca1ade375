/*
 * A trainable plugin (examples/plugin/random_walk.c, built as a shared
 * library by CMake) runs under `lux run`, in the driver and in the runtime's
 * workers; bad plugin paths are clear errors.
 */
#include "test.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *write_yaml(const char *name, const char *trainable)
{
    char file[256], yaml[8192];
    snprintf(file, sizeof file, "%s.yaml", name);
    snprintf(yaml, sizeof yaml,
             "name: %s\ntrainable: %s\nmetric: position\nmode: max\nnum_samples: 3\nseed: 1\n"
             "stop: {training_iteration: 5}\ncheckpoint: {at_end: true}\n"
             "config:\n  step: {uniform: [0.5, 2]}\n",
             name, trainable);
    return lux_test_write_tmp(file, yaml);
}

static int run(const char *yaml, char **out)
{
    const char *argv[] = {"run", yaml, "--storage", lux_test_tmpdir(), "-q", NULL};
    return lux_test_lux(argv, NULL, 60, out, NULL);
}

LUX_TEST(plugin_trainable_runs_in_workers)
{
    char *out = NULL;
    int rc = run(write_yaml("walk", LUX_TEST_PLUGIN), &out);
    LUX_CHECK_MSG(rc == 0, "exit %d:\n%s", rc, out);
    free(out);
    char db_path[4300];
    snprintf(db_path, sizeof db_path, "%s/walk/experiment.db", lux_test_tmpdir());
    sqlite3 *db = NULL;
    LUX_CHECK_INT_EQ(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    LUX_CHECK(sqlite3_prepare_v2(db,
                                 "SELECT count(*), max(json_extract(metrics, '$.walk_steps'))"
                                 " FROM results",
                                 -1, &st, NULL) == SQLITE_OK);
    LUX_CHECK(sqlite3_step(st) == SQLITE_ROW);
    LUX_CHECK_INT_EQ(sqlite3_column_int(st, 0), 15);
    LUX_CHECK_INT_EQ(sqlite3_column_int(st, 1), 5);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

LUX_TEST(plugin_class_by_name_and_bad_paths)
{
    char spec[4200], *out = NULL;
    snprintf(spec, sizeof spec, "%s:random_walk", LUX_TEST_PLUGIN);
    int rc = run(write_yaml("named", spec), &out);
    LUX_CHECK_MSG(rc == 0, "exit %d:\n%s", rc, out);
    free(out);
    snprintf(spec, sizeof spec, "%s:nosuch", LUX_TEST_PLUGIN);
    LUX_CHECK_INT_EQ(run(write_yaml("nosuch", spec), &out), 2);
    LUX_CHECK_CONTAINS(out, "has no trainable named 'nosuch'; it registers 'random_walk'");
    free(out);
    LUX_CHECK_INT_EQ(run(write_yaml("missing", "./no/such/plugin.so"), &out), 2);
    LUX_CHECK_CONTAINS(out, "plugin ./no/such/plugin.so: no such file");
    free(out);
    /* A shared library that is not a plugin. */
    LUX_CHECK_INT_EQ(run(write_yaml("notplugin", "/lib/x86_64-linux-gnu/libm.so.6"), &out), 2);
    LUX_CHECK_CONTAINS(out, "has no lux_plugin_init()");
    free(out);
    /* Bad input: no experiment directory was created for any of them. */
    const char *names[] = {"nosuch", "missing", "notplugin"};
    for (int i = 0; i < 3; i++) {
        char dir[4300];
        snprintf(dir, sizeof dir, "%s/%s", lux_test_tmpdir(), names[i]);
        LUX_CHECK_MSG(access(dir, F_OK) != 0, "%s was created", dir);
    }
}

LUX_TEST(failing_plugins_in_the_environment_are_reported_a_line_each)
{
    /* Every process loads LUX_PLUGINS at start (workers need it); the
     * library returns the messages and the executable prints them. */
    char *argv[] = {(char *)lux_test_lux_binary(), "--version", NULL};
    char *env[] = {"LUX_PLUGINS=/no/such/a.so:/no/such/b.so", NULL};
    char *out = NULL, *err = NULL;
    int rc = lux_test_spawn(argv, env, NULL, 30, &out, &err);
    LUX_CHECK_INT_EQ(rc, 0);
    LUX_CHECK_CONTAINS(err, "lux: plugin /no/such/a.so: no such file; give the path of a shared "
                            "library\nlux: plugin /no/such/b.so: no such file; give the path of a "
                            "shared library\n");
    free(out);
    free(err);
}
