/*
 * `lux bench tune`: what tune's own bookkeeping costs.
 *
 *  - bookkeeping: N trials (default 10,000) of the `noop` trainable, one
 *    iteration each, on this machine's cores, store on disk: trials/s end
 *    to end, and the driver's peak RSS for N/10 and N trials (it must not
 *    grow with finished trials beyond what their rows need);
 *  - results: 100 trials reporting as fast as they can for 10 s: results
 *    stored per second, driver CPU seconds and RSS;
 *  - optuna: Optuna (Debian's python3-optuna, RandomSampler, SQLite storage
 *    on the same disk) running the same trivial trials, measured in the same
 *    invocation, and the ratio.
 *
 * Each measurement runs `lux run` in a forked child so its RSS and runtime
 * start-up are its own; the child reports through a pipe.
 */
#include "bench.h"
#include "cli.h"

#include "error.h"
#include "runner.h"
#include "store.h"
#include "trainable.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the noop trainable --------------------------------------------------- */

typedef struct {
    long it;
    double x;
} noop_t;

static int noop_setup(const json_t *config, const lux_trial_context_t *ctx, void **state, char *err,
                      size_t errlen)
{
    (void)ctx;
    (void)err;
    (void)errlen;
    noop_t *n = calloc(1, sizeof *n);
    if (n == NULL)
        return LUX_ENOMEM;
    n->x = json_number_value(json_object_get(config, "x"));
    *state = n;
    return 0;
}

static int noop_step(void *state, json_t **result, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    noop_t *n = state;
    n->it++;
    *result = json_pack("{s:f}", "score", n->x + (double)n->it);
    return *result ? 0 : LUX_ENOMEM;
}

static int noop_save(void *state, void **bytes, size_t *len, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    *bytes = malloc(sizeof(noop_t));
    if (*bytes == NULL)
        return LUX_ENOMEM;
    memcpy(*bytes, state, sizeof(noop_t));
    *len = sizeof(noop_t);
    return 0;
}

static int noop_restore(void *state, const void *bytes, size_t len, char *err, size_t errlen)
{
    if (len != sizeof(noop_t)) {
        snprintf(err, errlen, "not a noop checkpoint");
        return LUX_EINVAL;
    }
    memcpy(state, bytes, len);
    return 0;
}

static void noop_cleanup(void *state)
{
    free(state);
}

static const lux_trainable_class_t noop_class = {
    .name = "noop",
    .description = "reports {score: x + iteration} at once; measures tune's own overhead",
    .setup = noop_setup,
    .step = noop_step,
    .save = noop_save,
    .restore = noop_restore,
    .cleanup = noop_cleanup,
};

int lux_bench_register_trainables(void)
{
    int rc = lux_trainable_register(&noop_class);
    return rc == LUX_EEXIST ? 0 : rc;
}

/* ---- measurements ------------------------------------------------------------ */

typedef struct {
    double elapsed_s, cpu_s;
    long max_rss;
    long results;
    int rc;
} measure_t;

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return LUX_EIO;
    fputs(text, f);
    return fclose(f) == 0 ? 0 : LUX_EIO;
}

/* Results stored by the experiment in dir (the sum of each trial's last
 * iteration, read through the store's reader). */
static long count_results(const char *dir)
{
    lux_store_t *st = NULL;
    json_t *trials = NULL;
    long n = 0;
    if (lux_store_open_reader(dir, &st, NULL, 0) == 0 && lux_store_trials(st, &trials) == 0) {
        size_t i;
        json_t *t;
        json_array_foreach(trials, i, t)
        {
            n += (long)json_integer_value(json_object_get(t, "training_iteration"));
        }
    }
    json_decref(trials);
    lux_store_close(&st);
    return n;
}

/* Runs the experiment in `yaml_path` in a forked child; fills *m. */
static int measure_run(const char *yaml_path, const char *storage, double cpus, measure_t *m)
{
    int fds[2];
    if (pipe(fds) != 0)
        return LUX_ESYS;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return LUX_ESYS;
    if (pid == 0) {
        close(fds[0]);
        FILE *devnull = fopen("/dev/null", "w");
        lux_run_opts_t o = {
            .config_path = yaml_path,
            .storage = storage,
            .verbosity = -1,
            .num_cpus = cpus,
            .console = devnull,
            .tty = 0,
        };
        double t0 = lux_bench_now();
        lux_run_outcome_t out;
        int rc = lux_run(&o, &out);
        if (rc == 0 && (out.end == LUX_RUN_INTERRUPTED || out.num_errored > 0))
            rc = LUX_ETASK; /* not a clean run: not a measurement */
        measure_t r = {.elapsed_s = lux_bench_now() - t0, .rc = rc};
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        r.cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
                  (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
        r.max_rss = ru.ru_maxrss * 1024L;
        ssize_t w = write(fds[1], &r, sizeof r);
        (void)w;
        _exit(0);
    }
    close(fds[1]);
    memset(m, 0, sizeof *m);
    ssize_t n = read(fds[0], m, sizeof *m);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    if (n != (ssize_t)sizeof *m)
        return LUX_EIO;
    return m->rc == 0 ? 0 : LUX_ETASK;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void remove_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int bookkeeping(const char *root, long trials, int run, measure_t *m)
{
    char yaml[1024], path[4200], storage[4200];
    snprintf(storage, sizeof storage, "%s/bk%d_%ld", root, run, trials);
    snprintf(yaml, sizeof yaml,
             "name: bookkeeping\ntrainable: noop\nmetric: score\nmode: max\n"
             "num_samples: %ld\nseed: %d\nstop: {training_iteration: 1}\n"
             "resources_per_trial: {cpu: 1}\nconfig:\n  x: {uniform: [0, 1]}\n",
             trials, run + 1);
    snprintf(path, sizeof path, "%s/bookkeeping.yaml", root);
    if (write_text(path, yaml) != 0)
        return LUX_EIO;
    int rc = measure_run(path, storage, 0, m);
    remove_tree(storage);
    return rc;
}

static int throughput(const char *root, long trials, double seconds, measure_t *m)
{
    char yaml[1024], path[4200], storage[4200], dir[8400];
    snprintf(storage, sizeof storage, "%s/results", root);
    snprintf(yaml, sizeof yaml,
             "name: results\ntrainable: noop\nmetric: score\nmode: max\n"
             "num_samples: %ld\nseed: 1\ntime_budget_s: %g\n"
             "resources_per_trial: {cpu: 0.01}\nconfig:\n  x: {uniform: [0, 1]}\n",
             trials, seconds);
    snprintf(path, sizeof path, "%s/results.yaml", root);
    if (write_text(path, yaml) != 0)
        return LUX_EIO;
    int rc = measure_run(path, storage, 0, m);
    snprintf(dir, sizeof dir, "%s/results", storage);
    m->results = count_results(dir);
    remove_tree(storage);
    return rc;
}

static const char optuna_script[] =
    "import json, sys, time, logging\n"
    "import optuna\n"
    "optuna.logging.set_verbosity(optuna.logging.WARNING)\n"
    "n = int(sys.argv[1]); url = sys.argv[2]\n"
    "study = optuna.create_study(storage=url, sampler=optuna.samplers.RandomSampler(seed=1),\n"
    "                            direction='maximize')\n"
    "t0 = time.time()\n"
    "study.optimize(lambda t: t.suggest_float('x', 0, 1) + 1.0, n_trials=n)\n"
    "dt = time.time() - t0\n"
    "print(json.dumps({'trials': n, 'seconds': dt, 'version': optuna.__version__}))\n";

/* Runs Optuna on n trivial trials with SQLite storage; returns trials/s or
 * a negative value when Optuna is not available (reason in why). */
static double optuna_rate(const char *root, long n, char *why, size_t whylen, char *version,
                          size_t vlen)
{
    char db[4200], url[4300], nbuf[32];
    snprintf(db, sizeof db, "%s/optuna.db", root);
    snprintf(url, sizeof url, "sqlite:///%s", db);
    snprintf(nbuf, sizeof nbuf, "%ld", n);
    char *args[] = {nbuf, url, NULL};
    char *out = NULL;
    int rc = lux_bench_run_python(root, optuna_script, args, &out);
    unlink(db);
    json_error_t jerr;
    json_t *j = rc == 0 ? json_loads(out, 0, &jerr) : NULL;
    free(out);
    double secs = json_number_value(json_object_get(j, "seconds"));
    const char *v = json_string_value(json_object_get(j, "version"));
    snprintf(version, vlen, "%s", v ? v : "?");
    json_decref(j);
    if (secs <= 0) {
        snprintf(why, whylen,
                 "python3 with Optuna is not available (apt-get install python3-optuna)");
        return -1;
    }
    return (double)n / secs;
}

int lux_bench_tune(int argc, char **argv)
{
    long trials = 10000, repeats = 3, result_trials = 100, optuna_trials = 500;
    double seconds = 10;
    int no_optuna = 0;
    const lux_opt_t opts[] = {
        {"--trials", NULL, LUX_OPT_INT, &trials},
        {"--repeats", NULL, LUX_OPT_INT, &repeats},
        {"--result-trials", NULL, LUX_OPT_INT, &result_trials},
        {"--seconds", NULL, LUX_OPT_DOUBLE, &seconds},
        {"--optuna-trials", NULL, LUX_OPT_INT, &optuna_trials},
        {"--no-optuna", NULL, LUX_OPT_FLAG, &no_optuna},
    };
    if (lux_cli_parse("bench tune", argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0,
                      NULL) != 0)
        return LUX_EXIT_USAGE;
    if (trials < 10 || repeats < 1 || repeats > 20 || result_trials < 1 || seconds <= 0 ||
        optuna_trials < 1)
        return lux_cli_usage_error("bench tune", "--trials >= 10, --repeats 1..20, positive "
                                                 "--result-trials, --seconds, --optuna-trials");
    lux_bench_register_trainables();
    const char *tmp = getenv("TMPDIR");
    char root[4096];
    snprintf(root, sizeof root, "%s/lux-bench-tune-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(root) == NULL) {
        fprintf(stderr, "lux bench tune: cannot create a directory under %s: %s\n",
                tmp && *tmp ? tmp : "/tmp", strerror(errno));
        return LUX_EXIT_FAILURE;
    }
    json_t *report = lux_bench_report_new("tune");
    int failed = 0;

    /* Bookkeeping, repeated; RSS at N/10 and N trials. */
    double *rates = calloc((size_t)repeats, sizeof *rates);
    long rss_full = 0;
    for (long r = 0; r < repeats && !failed; r++) {
        measure_t m;
        if (bookkeeping(root, trials, (int)r, &m) != 0) {
            fprintf(stderr, "lux bench tune: the bookkeeping run failed (exit %d)\n", m.rc);
            failed = 1;
            break;
        }
        rates[r] = (double)trials / m.elapsed_s;
        if (m.max_rss > rss_full)
            rss_full = m.max_rss;
    }
    /* Peak RSS after N/10 and N/2 trials too. The first thousands of trials
     * fill SQLite's page cache (2 MiB) and the allocator's pools; the growth
     * per trial from N/2 to N is what each further finished trial costs. */
    measure_t small = {0}, half = {0};
    if (!failed && bookkeeping(root, trials / 10, 99, &small) != 0)
        failed = 1;
    if (!failed && bookkeeping(root, trials / 2, 98, &half) != 0)
        failed = 1;
    if (!failed) {
        lux_bench_add_runs(report, "bookkeeping_trials_per_s", rates, (size_t)repeats, "trials/s");
        lux_bench_add_value(report, "bookkeeping_trials", (double)trials);
        lux_bench_add_value(report, "driver_rss_bytes_small", (double)small.max_rss);
        lux_bench_add_value(report, "driver_rss_bytes_half", (double)half.max_rss);
        lux_bench_add_value(report, "driver_rss_bytes_full", (double)rss_full);
        lux_bench_add_value(report, "driver_rss_growth_bytes_per_trial",
                            (double)(rss_full - half.max_rss) / (double)(trials - trials / 2));
    }
    free(rates);

    /* Result throughput. */
    measure_t tp = {0};
    if (!failed && throughput(root, result_trials, seconds, &tp) == 0) {
        lux_bench_add_value(report, "results_per_s", (double)tp.results / tp.elapsed_s);
        lux_bench_add_value(report, "results_stored", (double)tp.results);
        lux_bench_add_value(report, "results_trials", (double)result_trials);
        lux_bench_add_value(report, "results_driver_cpu_s", tp.cpu_s);
        lux_bench_add_value(report, "results_elapsed_s", tp.elapsed_s);
        lux_bench_add_value(report, "results_driver_rss_bytes", (double)tp.max_rss);
    } else if (!failed) {
        fprintf(stderr, "lux bench tune: the result-throughput run failed\n");
        failed = 1;
    }

    /* Optuna beside us. */
    if (!failed && !no_optuna) {
        char why[256] = "", version[64] = "";
        double orate = optuna_rate(root, optuna_trials, why, sizeof why, version, sizeof version);
        json_t *results = json_object_get(report, "results");
        if (orate > 0) {
            double ours = json_number_value(
                json_object_get(json_object_get(results, "bookkeeping_trials_per_s"), "median"));
            lux_bench_add_value(report, "optuna_sqlite_trials_per_s", orate);
            lux_bench_add_value(report, "optuna_trials", (double)optuna_trials);
            json_object_set_new(results, "optuna_version", json_string(version));
            lux_bench_add_value(report, "ratio_vs_optuna_sqlite", ours / orate);
        } else {
            json_object_set_new(results, "optuna", json_string(why));
        }
    }
    remove_tree(root);
    int rc = failed ? LUX_EXIT_FAILURE : (lux_bench_print(report) == 0 ? 0 : LUX_EXIT_FAILURE);
    json_decref(report);
    return rc;
}
