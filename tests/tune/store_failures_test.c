/* Tests of the store's trial failure kinds (schema version 3): recorded,
 * replaced and forgotten per trial, and added to an older store by the
 * writer's migration without touching its rows. */
#include "test.h"

#include "error.h"
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static lux_store_t *open_writer(const char *dir)
{
    lux_store_t *s = NULL;
    char err[512];
    int rc = lux_store_open(dir, &s, err, sizeof err);
    LUX_CHECK_MSG(rc == 0, "open %s: %s (%s)", dir, lux_strerror(rc), err);
    return s;
}

static void sql_exec(const char *dir, const char *sql)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, LUX_STORE_DB_NAME);
    sqlite3 *db = NULL;
    LUX_CHECK_INT_EQ(sqlite3_open(path, &db), SQLITE_OK);
    LUX_CHECK_MSG(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    sqlite3_close(db);
}

static void add_trial(lux_store_t *s, const char *id)
{
    lux_store_trial_t t = {.trial_id = id, .config_json = "{}", .status = LUX_TRIAL_PENDING};
    LUX_CHECK_OK(lux_store_trial_add(s, &t));
}

LUX_TEST(failure_kinds_are_recorded_replaced_and_forgotten)
{
    const char *dir = lux_test_tmpdir();
    lux_store_t *s = open_writer(dir);
    LUX_CHECK_INT_EQ(lux_store_schema_version(s), 3);
    add_trial(s, "t_00000");
    add_trial(s, "t_00001");
    LUX_CHECK_OK(lux_store_trial_failure_put(s, "t_00000", "trainable"));
    LUX_CHECK_OK(lux_store_begin(s));
    LUX_CHECK_OK(lux_store_trial_failure_put(s, "t_00000", "infrastructure"));
    LUX_CHECK_OK(lux_store_trial_failure_put(s, "t_00001", "trainable"));
    LUX_CHECK_OK(lux_store_commit(s));
    json_t *k = NULL;
    LUX_CHECK_OK(lux_store_trial_failures(s, &k));
    LUX_CHECK_INT_EQ(json_object_size(k), 2);
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(k, "t_00000")), "infrastructure");
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(k, "t_00001")), "trainable");
    json_decref(k);
    LUX_CHECK_OK(lux_store_trial_failure_put(s, "t_00001", NULL));
    LUX_CHECK_ERR(lux_store_trial_failure_put(s, NULL, "trainable"), LUX_EINVAL);
    LUX_CHECK_OK(lux_store_trial_failures(s, &k));
    LUX_CHECK_INT_EQ(json_object_size(k), 1);
    json_decref(k);
    lux_store_close(&s);

    /* A reader sees them; it cannot write them. */
    char err[512] = "";
    LUX_CHECK_OK(lux_store_open_reader(dir, &s, err, sizeof err));
    LUX_CHECK_OK(lux_store_trial_failures(s, &k));
    LUX_CHECK_INT_EQ(json_object_size(k), 1);
    json_decref(k);
    LUX_CHECK_ERR(lux_store_trial_failure_put(s, "t_00000", "trainable"), LUX_EINVAL);
    lux_store_close(&s);
}

/* A version-2 store (before failure kinds) reads as having none; the writer
 * migrates it to version 3, keeping its trials, and kinds then work. */
LUX_TEST(version_2_store_is_migrated_to_failure_kinds)
{
    const char *dir = lux_test_tmpdir();
    lux_store_t *s = open_writer(dir);
    add_trial(s, "t_00000");
    lux_store_close(&s);
    sql_exec(dir, "DROP TABLE trial_failures; DELETE FROM migrations WHERE version > 2;"
                  " PRAGMA user_version = 2");
    char err[512] = "";
    LUX_CHECK_OK(lux_store_open_reader(dir, &s, err, sizeof err));
    LUX_CHECK_INT_EQ(lux_store_schema_version(s), 2);
    json_t *k = NULL;
    LUX_CHECK_OK(lux_store_trial_failures(s, &k));
    LUX_CHECK_INT_EQ(json_object_size(k), 0);
    json_decref(k);
    lux_store_close(&s);
    s = open_writer(dir);
    LUX_CHECK_INT_EQ(lux_store_schema_version(s), 3);
    LUX_CHECK_OK(lux_store_trial_failure_put(s, "t_00000", "infrastructure"));
    LUX_CHECK_OK(lux_store_trial_failures(s, &k));
    LUX_CHECK_STR_EQ(json_string_value(json_object_get(k, "t_00000")), "infrastructure");
    json_decref(k);
    json_t *t = NULL;
    LUX_CHECK_OK(lux_store_trial_get(s, "t_00000", &t));
    json_decref(t);
    lux_store_close(&s);
}
