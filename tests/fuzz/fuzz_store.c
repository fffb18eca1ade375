/*
 * Fuzz target: the experiment store (tune/store.h) opening a damaged
 * database, as `lux status`, `lux best`, `lux export` and `--resume` open
 * whatever experiment.db they find.
 *
 * The input is the whole experiment.db file. It is written over DIR/
 * experiment.db in a private directory (any -wal/-shm left by the previous
 * input removed), opened read-only with lux_store_open_reader() and, when
 * that succeeds, walked with every read function of the store: the
 * experiment row, every trial (by list, by walk and one by one), results,
 * checkpoints, decisions, scheduler state, journal, counters and the best
 * trial in every scope. Every call may fail with an error code; none may
 * crash, leak or read out of bounds, and a failed call must leave a message.
 *
 * Seeds: tests/fuzz/corpus/fuzz_store, small real experiment databases
 * written by `lux run` (tests/fuzz/make_corpus).
 */
#include "store.h"

#include "alloc.h"
#include "error.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];
static char db_path[300], wal_path[310], shm_path[310];

/* libFuzzer ends with exit(); a crash leaves the directory for the
 * post-mortem. */
static void remove_dir(void)
{
    unlink(db_path);
    unlink(wal_path);
    unlink(shm_path);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Memory-backed when possible: every input rewrites the file. */
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/lux-fuzz-store-XXXXXX", base);
    if (mkdtemp(dir) == NULL) {
        perror("fuzz_store: mkdtemp");
        abort();
    }
    snprintf(db_path, sizeof db_path, "%s/%s", dir, LUX_STORE_DB_NAME);
    snprintf(wal_path, sizeof wal_path, "%s-wal", db_path);
    snprintf(shm_path, sizeof shm_path, "%s-shm", db_path);
    atexit(remove_dir);
    return 0;
}

static void check(lux_store_t *st, int rc, const char *call)
{
    if (rc == 0 || rc == LUX_ENOENT)
        return;
    if (rc > 0 || lux_strerror(rc) == NULL) {
        fprintf(stderr, "fuzz_store: %s returned %d\n", call, rc);
        abort();
    }
    if (rc != LUX_ENOMEM && lux_store_errmsg(st)[0] == '\0') {
        fprintf(stderr, "fuzz_store: %s failed (%s) without a message\n", call, lux_strerror(rc));
        abort();
    }
}

static int count_trial(void *arg, const json_t *trial)
{
    if (!json_is_object(trial))
        abort();
    ++*(long *)arg;
    return 0;
}

static int count_result(void *arg, const char *trial_id, long iteration, double time_total_s,
                        const char *metrics_json)
{
    (void)iteration;
    (void)time_total_s;
    if (trial_id == NULL || metrics_json == NULL)
        abort();
    return ++*(long *)arg >= 100000; /* a bound, not an error */
}

static void walk(lux_store_t *st)
{
    json_t *j = NULL;
    char *text = NULL;
    int64_t counter;
    long n = 0, counts[LUX_TRIAL_STATUS_COUNT];

    (void)lux_store_schema_version(st);
    check(st, lux_store_read_begin(st), "read_begin");
    check(st, lux_store_experiment_get(st, &j), "experiment_get");
    json_decref(j), j = NULL;
    check(st, lux_store_trial_counts(st, counts), "trial_counts");
    check(st, lux_store_trials_each(st, count_trial, &n), "trials_each");
    int rc = lux_store_results_each(st, count_result, &n);
    if (rc != 1)
        check(st, rc, "results_each");

    json_t *trials = NULL;
    check(st, lux_store_trials(st, &trials), "trials");
    size_t i;
    json_t *t;
    json_array_foreach(trials, i, t)
    {
        if (i >= 32)
            break;
        const char *id = json_string_value(json_object_get(t, "trial_id"));
        if (id == NULL)
            continue;
        long it;
        check(st, lux_store_trial_get(st, id, &j), "trial_get");
        json_decref(j), j = NULL;
        check(st, lux_store_results(st, id, &j), "results");
        json_decref(j), j = NULL;
        check(st, lux_store_last_iteration(st, id, &it), "last_iteration");
        check(st, lux_store_checkpoints(st, id, 1, &j), "checkpoints");
        json_decref(j), j = NULL;
    }
    json_decref(trials);

    static const char *const metrics[] = {"episode_reward_mean", "info/learner/loss"};
    for (int m = 0; m < 2; m++)
        for (int s = LUX_SCOPE_LAST; s <= LUX_SCOPE_LAST_10_AVG; s++) {
            check(st, lux_store_best_trial(st, metrics[m], s % 2 ? "min" : "max", s, &j),
                  "best_trial");
            json_decref(j), j = NULL;
        }
    check(st, lux_store_decisions(st, 0, 0, &j), "decisions");
    json_decref(j), j = NULL;
    check(st, lux_store_state_get(st, "scheduler", &text), "state_get");
    lux_free(text), text = NULL;
    check(st, lux_store_journal(st, "scheduler", &j), "journal");
    json_decref(j), j = NULL;
    check(st, lux_store_counter_get(st, "trials_created", &counter), "counter_get");
    check(st, lux_store_counter_get(st, "elapsed_ms", &counter), "counter_get");
    lux_store_read_end(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unlink(wal_path);
    unlink(shm_path);
    FILE *f = fopen(db_path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        perror("fuzz_store: writing the database");
        abort();
    }
    lux_store_t *st = NULL;
    char err[512] = "";
    int rc = lux_store_open_reader(dir, &st, err, sizeof err);
    if (rc != 0) {
        if (st != NULL || err[0] == '\0') {
            fprintf(stderr, "fuzz_store: failed open (%s) left a store or no message\n",
                    lux_strerror(rc));
            abort();
        }
        return 0;
    }
    walk(st);
    lux_store_close(&st);
    return 0;
}
