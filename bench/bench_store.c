/*
 * The experiment store's figures, on a database on disk under a temporary
 * directory (removed afterwards):
 *
 * - results/s: 100 trials each reporting as fast as it can; the driver
 *   stores the results in batches (one transaction each) with a metrics JSON
 *   of 11 keys (~330 bytes). Measured with the JSON text ready (the store's
 *   own cost) and from jansson objects built and serialised in the timed
 *   loop (what a driver holding json_t results pays in all).
 * - trials/s: bookkeeping of 10,000 trials end to end: insert PENDING, set
 *   RUNNING, one result, update TERMINATED with the last result, in batches
 *   of 100 trial events per transaction; also with one transaction per event.
 * - RSS: the process's resident set before and after the trial run, to
 *   show it does not grow with finished trials.
 *
 * Each figure is the median of --repeats runs.
 */
#include "bench.h"
#include "clock.h"
#include "fs.h"
#include "cli.h"
#include "store.h"

#include <ftw.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NTRIALS 100

/* Resident set size now, in bytes (from /proc/self/statm). */
static long rss_now(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f == NULL)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

static lux_store_t *open_fresh(const char *root, int run, const char *what)
{
    char dir[8192]; /* root is at most 4095 bytes */
    snprintf(dir, sizeof dir, "%s/%s_%d", root, what, run);
    lux_store_t *s = NULL;
    char err[512];
    if (lux_store_open(dir, &s, err, sizeof err) != 0) {
        fprintf(stderr, "lux bench store: %s\n", err);
        return NULL;
    }
    return s;
}

static int add_trials(lux_store_t *s, int n, const char *prefix)
{
    char id[64];
    int rc = lux_store_begin(s);
    for (int t = 0; rc == 0 && t < n; t++) {
        snprintf(id, sizeof id, "%s_%05d", prefix, t);
        lux_store_trial_t tr = {.trial_id = id,
                                .config_json = "{\"lr\":0.001,\"gamma\":0.99}",
                                .status = LUX_TRIAL_RUNNING};
        rc = lux_store_trial_add(s, &tr);
    }
    return rc == 0 ? lux_store_commit(s) : rc;
}

static int format_metrics(char *buf, size_t len, int t, long it, double tt)
{
    return snprintf(buf, len,
                    "{\"episode_reward_mean\":%.6f,\"episode_reward_min\":%.6f,"
                    "\"episode_reward_max\":%.6f,\"episodes_total\":%ld,\"timesteps_total\":%ld,"
                    "\"training_iteration\":%ld,\"time_this_iter_s\":%.6f,\"time_total_s\":%.6f,"
                    "\"timestamp\":%ld,\"trial_id\":\"trial_%05d\",\"loss\":%.6f}",
                    (double)it * 0.5 + t, (double)it * 0.25, (double)it, it * 10, it * 1000, it,
                    0.001, tt, 1700000000L + it, t, 1.0 / (double)it);
}

/* Stores iterations * NTRIALS results in batches of `batch`; returns
 * results per second, or -1. */
static double results_run(const char *root, int run, long iterations, int batch, int use_json,
                          double *per_cpu_s)
{
    lux_store_t *s = open_fresh(root, run, use_json ? "results_json" : "results");
    if (s == NULL || add_trials(s, NTRIALS, "trial") != 0)
        goto fail;
    char id[NTRIALS][32];
    for (int t = 0; t < NTRIALS; t++)
        snprintf(id[t], sizeof id[t], "trial_%05d", t);
    /* The metrics texts are made before the clock starts (the driver gets
     * them from the actors); a pool of distinct ones is reused. */
    enum { POOL = 1024 };
    static char pool[POOL][512];
    for (int k = 0; k < POOL; k++)
        format_metrics(pool[k], sizeof pool[k], k % NTRIALS, k + 1, (double)k * 0.001);
    long total = iterations * NTRIALS, done = 0;
    double t0 = lux_bench_now(), c0 = lux_clock_process_cpu_s();
    int rc = 0;
    /* Results arrive round-robin over the trials, as from 100 concurrent
     * actors; every `batch` of them is one transaction. */
    for (long it = 1; rc == 0 && it <= iterations; it++) {
        for (int t = 0; rc == 0 && t < NTRIALS; t++) {
            if (done % batch == 0)
                rc = lux_store_begin(s);
            if (rc != 0)
                break;
            if (use_json) {
                json_t *r = json_pack(
                    "{s:f, s:f, s:f, s:I, s:I, s:I, s:f, s:f, s:I, s:s, s:f}",
                    "episode_reward_mean", (double)it * 0.5 + t, "episode_reward_min",
                    (double)it * 0.25, "episode_reward_max", (double)it, "episodes_total",
                    (json_int_t)(it * 10), "timesteps_total", (json_int_t)(it * 1000),
                    "training_iteration", (json_int_t)it, "time_this_iter_s", 0.001, "time_total_s",
                    (double)it * 0.001, "timestamp", (json_int_t)(1700000000 + it), "trial_id",
                    id[t], "loss", 1.0 / (double)it);
                rc = r != NULL ? lux_store_result_add_json(s, id[t], r) : -1;
                json_decref(r);
            } else {
                rc = lux_store_result_add(s, id[t], it, (double)it * 0.001,
                                          pool[(it * NTRIALS + t) % POOL]);
            }
            done++;
            if (rc == 0 && (done % batch == 0 || done == total))
                rc = lux_store_commit(s);
        }
    }
    double dt = lux_bench_now() - t0, dc = lux_clock_process_cpu_s() - c0;
    if (rc != 0) {
        fprintf(stderr, "lux bench store: %s\n", lux_store_errmsg(s));
        goto fail;
    }
    *per_cpu_s = (double)total / dc;
    lux_store_close(&s);
    return (double)total / dt;
fail:
    lux_store_close(&s);
    return -1;
}

/* One trial event; `batch` events per transaction (1: each commits alone). */
static int event(lux_store_t *s, long *pending, int batch, int (*fn)(lux_store_t *, void *),
                 void *arg)
{
    int rc = 0;
    if (batch > 1 && *pending == 0)
        rc = lux_store_begin(s);
    if (rc == 0)
        rc = fn(s, arg);
    if (rc == 0 && batch > 1 && ++*pending == batch) {
        rc = lux_store_commit(s);
        *pending = 0;
    }
    return rc;
}

typedef struct {
    const char *id;
    int phase;
    char metrics[1024];
} trial_ev_t;

static int trial_step(lux_store_t *s, void *arg)
{
    trial_ev_t *e = arg;
    switch (e->phase) {
    case 0: {
        lux_store_trial_t t = {.trial_id = e->id,
                               .config_json = "{\"lr\":0.001,\"gamma\":0.99,\"hidden\":[64,64]}",
                               .resources_json = "{\"cpu\":1}",
                               .status = LUX_TRIAL_PENDING};
        return lux_store_trial_add(s, &t);
    }
    case 1:
        return lux_store_trial_set_status(s, e->id, LUX_TRIAL_RUNNING, NULL);
    case 2:
        return lux_store_result_add(s, e->id, 1, 0.5, e->metrics);
    default: {
        lux_store_trial_t t = {.trial_id = e->id,
                               .status = LUX_TRIAL_TERMINATED,
                               .training_iteration = 1,
                               .time_total_s = 0.5,
                               .start_time = 1700000000.0,
                               .end_time = 1700000000.5,
                               .last_result_json = e->metrics,
                               .has_best = 1,
                               .best_metric = 1.0,
                               .best_iteration = 1};
        return lux_store_trial_update(s, &t);
    }
    }
}

/* Bookkeeping of ntrials trials; returns trials per second, or -1. RSS at
 * the half and at the end go to rss_mid/rss_end. */
static double trials_run(const char *root, int run, long ntrials, int batch, long *rss_mid,
                         long *rss_end)
{
    lux_store_t *s = open_fresh(root, run, batch > 1 ? "trials" : "trials_autocommit");
    if (s == NULL)
        return -1;
    char id[64];
    long pending = 0;
    int rc = 0;
    double t0 = lux_bench_now();
    /* Trials go through their lives in waves of 100, interleaved as a
     * driver sees them. */
    for (long base = 0; rc == 0 && base < ntrials; base += 100) {
        for (int phase = 0; rc == 0 && phase < 4; phase++) {
            for (long k = base; rc == 0 && k < base + 100 && k < ntrials; k++) {
                snprintf(id, sizeof id, "trial_%05ld", k);
                trial_ev_t e = {.id = id, .phase = phase};
                format_metrics(e.metrics, sizeof e.metrics, (int)k, 1, 0.5);
                rc = event(s, &pending, batch, trial_step, &e);
            }
        }
        if (base == ntrials / 2 && rss_mid != NULL)
            *rss_mid = rss_now();
    }
    if (rc == 0 && pending > 0)
        rc = lux_store_commit(s);
    double dt = lux_bench_now() - t0;
    if (rss_end != NULL)
        *rss_end = rss_now();
    if (rc != 0)
        fprintf(stderr, "lux bench store: %s\n", lux_store_errmsg(s));
    lux_store_close(&s);
    return rc == 0 ? (double)ntrials / dt : -1;
}

int lux_bench_store(int argc, char **argv)
{
    long iterations = 2000, ntrials = 10000, repeats = 3, batch = 1000;
    const char *dir = NULL;
    const lux_opt_t opts[] = {
        {"--iterations", NULL, LUX_OPT_INT, &iterations},
        {"--trials", NULL, LUX_OPT_INT, &ntrials},
        {"--batch", NULL, LUX_OPT_INT, &batch},
        {"--repeats", NULL, LUX_OPT_INT, &repeats},
        {"--dir", NULL, LUX_OPT_STRING, &dir},
    };
    if (lux_cli_parse("bench store", argc, argv, opts, 5, NULL, 0, NULL) != 0)
        return LUX_EXIT_USAGE;
    if (iterations < 1 || ntrials < 100 || batch < 1 || repeats < 1 || repeats > 50)
        return lux_cli_usage_error("bench store", "--iterations >= 1, --trials >= 100, "
                                                  "--batch >= 1 and --repeats 1..50");
    char root[4096];
    const char *tmp = dir != NULL ? dir : getenv("TMPDIR");
    snprintf(root, sizeof root, "%s/lux-bench-store-XXXXXX", tmp != NULL ? tmp : "/tmp");
    if (mkdtemp(root) == NULL) {
        fprintf(stderr, "lux bench store: cannot create a directory under %s\n",
                tmp != NULL ? tmp : "/tmp");
        return LUX_EXIT_FAILURE;
    }
    double rps[50], rps_json[50], tps[50], tps_auto[50], rps_cpu[50], rps_json_cpu[50];
    long rss_mid = 0, rss_end = 0, rss_start = rss_now();
    int ok = 1;
    for (long r = 0; ok && r < repeats; r++) {
        rps[r] = results_run(root, (int)r, iterations, (int)batch, 0, &rps_cpu[r]);
        rps_json[r] = results_run(root, (int)r, iterations, (int)batch, 1, &rps_json_cpu[r]);
        tps[r] = trials_run(root, (int)r, ntrials, 100, &rss_mid, &rss_end);
        tps_auto[r] = trials_run(root, (int)r, ntrials, 1, NULL, NULL);
        ok = rps[r] > 0 && rps_json[r] > 0 && tps[r] > 0 && tps_auto[r] > 0;
    }
    lux_fs_rm_tree(root);
    if (!ok)
        return LUX_EXIT_FAILURE;
    json_t *report = lux_bench_report_new("store");
    json_t *params =
        json_pack("{s:i, s:I, s:I, s:I, s:s}", "trials_reporting", NTRIALS, "results_per_trial",
                  (json_int_t)iterations, "batch", (json_int_t)batch, "bookkeeping_trials",
                  (json_int_t)ntrials, "synchronous", "NORMAL (WAL)");
    json_object_set_new(json_object_get(report, "results"), "parameters", params);
    lux_bench_add_runs(report, "results_per_s", rps, (size_t)repeats, "results/s");
    lux_bench_add_runs(report, "results_per_s_from_jansson", rps_json, (size_t)repeats,
                       "results/s");
    /* Per CPU second of this process: what the store costs the driver,
     * independent of other load on the machine. */
    lux_bench_add_runs(report, "results_per_cpu_s", rps_cpu, (size_t)repeats, "results/cpu-s");
    lux_bench_add_runs(report, "results_per_cpu_s_from_jansson", rps_json_cpu, (size_t)repeats,
                       "results/cpu-s");
    lux_bench_add_runs(report, "trials_per_s_batched_100", tps, (size_t)repeats, "trials/s");
    lux_bench_add_runs(report, "trials_per_s_one_commit_per_event", tps_auto, (size_t)repeats,
                       "trials/s");
    lux_bench_add_value(report, "rss_bytes_at_start", (double)rss_start);
    lux_bench_add_value(report, "rss_bytes_half_of_trials_finished", (double)rss_mid);
    lux_bench_add_value(report, "rss_bytes_all_trials_finished", (double)rss_end);
    lux_bench_add_value(report, "max_rss_bytes", (double)lux_bench_max_rss_bytes());
    int rc = lux_bench_print(report);
    json_decref(report);
    return rc == 0 ? LUX_EXIT_OK : LUX_EXIT_FAILURE;
}
